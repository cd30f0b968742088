"""Printable worksheets of a parametric problem: ``python app.py worksheet UNIT PROBLEM``.

One numbered copy per version with space to work, then the answer key on a page of its own
(the teacher keeps it, the class gets the first pages). Two files: Markdown (for editing, or
``pandoc`` to PDF) and one self-contained HTML file with print CSS that any browser prints
or saves as PDF without a network.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from ..curriculum.schema import Problem, Unit
from .mathhtml import text_to_html
from .variants import Variant, VariantError, VariantSet, generate_variants

LETTERS = "abcdefghijklmnopqrstuvwxyz"
PAGE_BREAK = '<div style="page-break-before: always"></div>'  # before the answer key, in the Markdown

PRINT_CSS = """
body { font-family: Georgia, "Times New Roman", serif; font-size: 12pt; line-height: 1.45; color: #111;
       max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; } h2 { font-size: 1.2rem; }
.meta { color: #444; margin-top: 0; }
.fill { display: flex; gap: 2rem; margin: 1rem 0 1.5rem; }
.fill span { flex: 1; border-bottom: 1px solid #333; padding-bottom: .2rem; }
ol.copies > li { margin: 0 0 1.2rem; padding-left: .3rem; break-inside: avoid; page-break-inside: avoid; }
ol.steps { list-style: lower-alpha; }
ol.steps li { margin: .4rem 0 .8rem; }
.work { display: block; border-bottom: 1px dotted #777; height: 1.6rem; margin-top: .2rem; }
.work.open { height: 4.8rem; border: 1px dotted #777; border-radius: 4px; }
.key { break-before: page; page-break-before: always; }
.key li { margin: .2rem 0; }
.math i { font-style: italic; }
.frac { display: inline-flex; flex-direction: column; vertical-align: middle; text-align: center;
        font-size: .85em; line-height: 1.1; }
.frac .num { border-bottom: 1px solid currentColor; padding: 0 .15em; }
.radicand { border-top: 1px solid currentColor; padding-left: .1em; }
footer { margin-top: 2rem; color: #666; font-size: .8rem; }
@media print { body { margin: 0; max-width: none; } footer { position: fixed; bottom: 0; } }
@page { margin: 18mm; }
"""


class WorksheetError(ValueError):
    pass


@dataclass(frozen=True)
class Worksheet:
    title: str
    markdown: str
    html: str


def sheet_title(unit: Unit, problem: Problem) -> str:
    return f"{unit.title}: {problem.title or problem.id}"


def steps_markdown(variant: Variant) -> list[str]:
    """A version's steps as a student's copy shows them: lettered, with room for the answer."""
    lines = []
    for letter, step in zip(LETTERS, variant.problem.steps):
        space = "\n\n   ______________________________________\n" if step.check == "open" else ""
        lines.append(f"   {letter}) {step.prompt}  \n   Answer: ____________{space}")
        lines.append("")
    return lines


def answers_markdown(variant: Variant) -> str:
    return "; ".join(f"{letter}) {a.answer if a.answer is not None else '(graded with the rubric)'}"
                     for letter, a in zip(LETTERS, variant.answers))


def build_markdown(unit: Unit, problem: Problem, found: VariantSet, seed: int) -> str:
    lines = [f"# {sheet_title(unit, problem)}", "", "Name: ______________________  Date: ____________", ""]
    for variant in found.variants:
        lines.append(f"{variant.number}. {variant.problem.statement}")
        lines.append("")
        lines += steps_markdown(variant)
    lines += [PAGE_BREAK, "", "## Answer key", ""]
    for variant in found.variants:
        lines.append(f"{variant.number}. {answers_markdown(variant)}")
    lines += ["", f"<small>{unit.id} / {problem.id}, {len(found.variants)} versions, seed {seed}. The same seed "
                  "prints the same worksheet.</small>", ""]
    return "\n".join(lines)


def split_answer_key(markdown: str) -> tuple[str, str]:
    """(the copies for the class, the answer key) of a worksheet's Markdown, for a preview or
    a key printed on its own."""
    copies, _, key = markdown.partition(PAGE_BREAK)
    return copies.rstrip() + "\n", key.strip() + "\n"


def steps_html(variant: Variant) -> str:
    steps = "".join(
        f'<li>{text_to_html(step.prompt)}<span class="work{" open" if step.check == "open" else ""}"></span></li>'
        for step in variant.problem.steps)
    return f"<ol class=\"steps\">{steps}</ol>"


def answers_html(variant: Variant) -> str:
    return "; ".join(
        f"{letter}) " + (text_to_html(_as_math(a.answer)) if a.answer is not None else "<em>graded with the rubric</em>")
        for letter, a in zip(LETTERS, variant.answers))


def meta_html(unit: Unit) -> str:
    level = f" · {html.escape(unit.level)}" if unit.level else ""
    return f"{html.escape(unit.subject.capitalize())}{level}"


def html_document(unit: Unit, title: str, body: str, footer: str, *, css: str = "") -> str:
    """A self-contained printable page: no scripts, fonts or links, so it prints offline."""
    return f"""<!DOCTYPE html>
<html lang="{html.escape(unit.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{PRINT_CSS}{css}</style>
</head>
<body>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""


def build_html(unit: Unit, problem: Problem, found: VariantSet, seed: int) -> str:
    title = html.escape(sheet_title(unit, problem))
    copies = [f"<li><p>{text_to_html(variant.problem.statement)}</p>{steps_html(variant)}</li>"
              for variant in found.variants]
    key = [f"<li>{answers_html(variant)}</li>" for variant in found.variants]
    body = f"""<h1>{title}</h1>
<p class="meta">{meta_html(unit)}</p>
<div class="fill"><span>Name:</span><span>Date:</span></div>
<ol class="copies">
{chr(10).join(copies)}
</ol>
<section class="key">
<h2>Answer key</h2>
<ol>
{chr(10).join(key)}
</ol>
</section>"""
    footer = f"{html.escape(unit.id)} / {html.escape(problem.id)} · {len(found.variants)} versions · seed {seed}"
    return html_document(unit, sheet_title(unit, problem), body, footer)


_MATH_ANSWER = re.compile(r"[0-9A-Za-z\s.,+\-*/^=()%]+")


def _as_math(answer: str) -> str:
    """Answers are written in checker notation (``x = 7/3``, ``2x = 8``); show those as math.
    Words (a text or choice answer) stay prose: only single letters can be variables."""
    words = re.findall(r"[A-Za-z]+", answer)
    if "$" in answer or not _MATH_ANSWER.fullmatch(answer) or any(len(w) > 1 for w in words):
        return answer
    return "$" + answer.replace("*", "\\cdot ") + "$"


def build_worksheet(unit: Unit, problem: Problem, count: int, seed: int) -> tuple[Worksheet, VariantSet]:
    try:
        found = generate_variants(problem, count, seed)
    except VariantError as exc:
        raise WorksheetError(f"{unit.id}/{problem.id}: {exc}") from None
    if not found.variants:
        reasons = "; ".join(reason for _, reason in found.rejected[:3])
        raise WorksheetError(f"{unit.id}/{problem.id}: no version passed the answer checks: {reasons}")
    sheet = Worksheet(title=sheet_title(unit, problem), markdown=build_markdown(unit, problem, found, seed),
                      html=build_html(unit, problem, found, seed))
    return sheet, found


def write_worksheet(sheet: Worksheet, folder: Path, stem: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / f"{stem}.md", folder / f"{stem}.html"
    md.write_text(sheet.markdown, encoding="utf-8")
    page.write_text(sheet.html, encoding="utf-8")
    return md, page
