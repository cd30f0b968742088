"""Markdown for the student's page, from a ``ProblemView``.

Text a student typed is escaped before it goes into the page; text from curricula (statements,
prompts, feedback, hints) is Markdown with LaTeX and passes through as the teacher wrote it.
Blocks are ``<div class=...>`` wrappers with blank lines inside so that Markdown and math
inside them still render; the classes are styled in ``style.css``.
"""

from __future__ import annotations

import html

from .problem_view import AttemptLine, ProblemView
from .theme import VERDICT_LABELS

WELCOME = (
    "### Ready when you are\n\n"
    "Choose a unit and press **Start**. You will work through the problem one step at a time; "
    "**Hint** gives a nudge, and the tutor on the right answers your questions."
)


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def problem_markdown(view: ProblemView | None) -> str:
    if view is None:
        return WELCOME
    title = view.problem_title or "Problem"
    return f"<div class=\"problem-card\">\n\n#### {html.escape(title)}\n\n{view.statement}\n\n</div>"


def progress_markdown(view: ProblemView | None) -> str:
    if view is None:
        return ""
    total = view.steps_total
    done = len(view.done_steps)
    percent = round(100 * done / total)
    lines = [
        "<div class=\"progress\">",
        "",
        f"<div class=\"progress-label\">{done} of {total} steps done</div>",
        f"<div class=\"progress-track\"><div class=\"progress-fill\" style=\"width:{percent}%\"></div></div>",
        "",
    ]
    for number, step in enumerate(view.done_steps, start=1):
        lines += [f"<div class=\"done-step\">\n\n<span class=\"tick\">✓</span> **Step {number}.** {step.prompt} "
                  f"{_code(step.answer)}\n\n</div>", ""]
    lines.append("</div>")
    return "\n".join(lines)


def step_markdown(view: ProblemView | None) -> str:
    if view is None:
        return ""
    if view.problem_done:
        return ("<div class=\"step-card step-done\">\n\n### Problem solved\n\n"
                "Well done. Press **Next problem** for another one.\n\n</div>")
    return (f"<div class=\"step-card\">\n\n<div class=\"step-kicker\">Step {view.step_number} of {view.steps_total}"
            f"</div>\n\n{view.step_prompt}\n\n</div>")


def scaffold_markdown(view: ProblemView | None) -> str:
    if view is None or not view.scaffold_question:
        return ""
    return (f"<div class=\"scaffold\">\n\n<div class=\"scaffold-kicker\">First, a smaller question</div>\n\n"
            f"{view.scaffold_question}\n\n<div class=\"scaffold-note\">Your next answer goes to this question.</div>"
            f"\n\n</div>")


def _attempt_block(line: AttemptLine, *, latest: bool) -> str:
    label = VERDICT_LABELS.get(line.verdict, line.verdict)
    target = " (sub-question)" if line.scaffold else ""
    classes = f"feedback verdict-{line.verdict}" + (" latest" if latest else "")
    body = line.feedback.strip()
    parts = [f"<div class=\"{classes}\">", "",
             f"**{label}**{target} — you wrote {_code(line.answer)}", ""]
    if body:
        parts += [body, ""]
    parts.append("</div>")
    return "\n".join(parts)


def feedback_markdown(view: ProblemView | None) -> str:
    """The latest verdict large and coloured, earlier attempts on this step small below it."""
    if view is None or view.last is None:
        return ""
    blocks = [_attempt_block(view.last, latest=True)]
    earlier = [a for a in view.attempts if a is not view.last]
    if earlier:
        blocks.append("<div class=\"earlier\">\n\n**Earlier tries on this step:** "
                      + ", ".join(f"<span class=\"chip verdict-{a.verdict}\">{html.escape(a.answer)}</span>"
                                  for a in earlier)
                      + "\n\n</div>")
    return "\n\n".join(blocks)


def hint_label(level: int, bottom_out: bool, scaffold: bool) -> str:
    if bottom_out:
        return f"Hint {level} · worked step"
    return f"Hint {level} · a smaller question" if scaffold else f"Hint {level}"


def hints_markdown(view: ProblemView | None) -> str:
    if view is None or not view.hints:
        return ""
    parts = ["<div class=\"hints\">", ""]
    for hint in view.hints:
        parts += [f"<div class=\"hint{' bottom-out' if hint.bottom_out else ''}\">", "",
                  f"<span class=\"hint-kicker\">{hint_label(hint.level, hint.bottom_out, hint.scaffold)}</span>", "",
                  hint.text, "", "</div>", ""]
    parts.append("</div>")
    return "\n".join(parts)
