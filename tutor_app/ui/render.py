"""Markdown for the student's page, from a ``ProblemView``.

Text a student typed is escaped before it goes into the page; text from curricula (statements,
prompts, feedback, hints) is Markdown with LaTeX and passes through as the teacher wrote it.
Blocks are ``<div class=...>`` wrappers with blank lines inside so that Markdown and math
inside them still render; the classes are styled in ``style.css``.
"""

from __future__ import annotations

import html
import re

from .problem_view import AttemptLine, ProblemView
from .theme import VERDICT_LABELS

WELCOME = (
    "### Ready when you are\n\n"
    "Choose a unit and press **Start**. You will work through the problem one step at a time; "
    "**Hint** gives a nudge, and the tutor on the right answers your questions."
)


MATHS_KINDS = ("numeric", "expression", "equation")
SHOWN_ANSWER_CHARS = 240  # a paragraph-long open answer is shortened in the list of done steps


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def shown_answer(text: str, kind: str) -> str:
    """A student's answer as the page shows it: maths in the code font (so 1/2 and x^2 read as
    typed), words in the text font, quoted, a long one shortened."""
    if kind in MATHS_KINDS:
        return _code(text)
    text = " ".join(text.split())
    if len(text) > SHOWN_ANSWER_CHARS:
        text = text[:SHOWN_ANSWER_CHARS].rsplit(" ", 1)[0] + "…"
    return f"<span class=\"written-answer\">“{html.escape(text)}”</span>"


WAITING = "waiting for your teacher or the tutor to read it"
STEP_MARKS = {
    "solved": "<span class=\"tick\">✓</span>",
    "waiting": "<span class=\"mark-waiting\" title=\"not graded yet\">…</span>",
    "graded": "<span class=\"mark-graded\" title=\"graded\">✎</span>",
}


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
        f"<div class=\"progress-label\">{progress_label(done, total)}</div>",
        f"<div class=\"progress-track\"><div class=\"progress-fill\" style=\"width:{percent}%\"></div></div>",
        "",
    ]
    for number, step in enumerate(view.done_steps, start=1):
        status = f" <span class=\"step-status\">({WAITING})</span>" if step.status == "waiting" else ""
        lines += [f"<div class=\"done-step status-{step.status}\">\n\n{STEP_MARKS.get(step.status, '')} "
                  f"**Step {number}.** {step.prompt} {shown_answer(step.answer, step.kind)}{status}\n\n</div>", ""]
        if step.status == "graded":
            lines += [f"<div class=\"step-grade\">\n\n{grade_summary(step.grade)}\n\n</div>", ""]
    lines.append("</div>")
    return "\n".join(lines)


_POINTS = re.compile(r"\*\*Rubric feedback: ([^*]+)\*\*")


def grade_summary(feedback: str) -> str:
    """A graded open answer in the list of done steps: its points (the comments are in the feedback)."""
    found = _POINTS.search(feedback or "")
    return f"Graded: {found.group(1)}" if found else "Graded"


def progress_label(done: int, total: int) -> str:
    """"1 of 3 steps done", and "0 of 1 step done" (not "steps") for a one-step problem."""
    return f"{done} of {total} step{'' if total == 1 else 's'} done"


def step_markdown(view: ProblemView | None) -> str:
    if view is None:
        return ""
    if view.problem_done and view.waiting:
        return ("<div class=\"step-card step-waiting\">\n\n### Problem finished\n\n"
                f"Your written answer is {WAITING}: it is not marked yet. "
                "Press **Next problem** to go on meanwhile.\n\n</div>")
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
             f"**{label}**{target} — you wrote {shown_answer(line.answer, line.kind)}", ""]
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
                      + ", ".join(f"<span class=\"chip verdict-{a.verdict}"
                                  f"{' maths' if a.kind in MATHS_KINDS else ''}\">{html.escape(a.answer)}</span>"
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
