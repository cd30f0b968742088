"""What a student reads after the model graded their answer to an ``open`` step.

The grade arrives as the ``/submit_answer`` reply's ``feedback`` (Markdown, like every other
feedback), so the page and API clients show it without a new field. The model's comments
quote the student's own text, so they are escaped: a student who typed ``<img ...>`` or
``**`` sees those characters, not markup. The teacher may still change the grade in review;
the student is told so, since the model's grade is a first reading, not the final word.
"""

from __future__ import annotations

import html

from ..curriculum.schema import Rubric
from .grader import level_scores
from .shapes import GradeResult

GRADED = "The tutor has read your answer against the rubric. Your teacher may still adjust the grade."
TEACHER_GRADED = "Your teacher has graded your answer."
LAST_STEP = "That was the last step."


def _plain(text: str) -> str:
    """Model text for Markdown: escaped, on one line (a newline would end a list item)."""
    return html.escape(" ".join(text.split()), quote=False)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def open_step_feedback(rubric: Rubric, result: GradeResult, *, last_step: bool = False, by: str = "model") -> str:
    """Per-criterion score and comment, then the next steps, as Markdown; ``by`` says whose grade
    it is ("model" or "teacher")."""
    criteria = {c.id: c for c in rubric.criteria}
    headline = TEACHER_GRADED if by == "teacher" else GRADED
    lines = [headline + (f" {LAST_STEP}" if last_step else ""), "",
             f"**Rubric feedback: {_number(result.total)} of {_number(result.max_total)} points**", ""]
    for graded in result.criteria:
        criterion = criteria.get(graded.id)
        name = criterion.name if criterion else graded.id
        top = max(level_scores(criterion)) if criterion else graded.score
        comment = f": {_plain(graded.comment)}" if graded.comment.strip() else ""  # none: the grader's words were rejected
        lines.append(f"- **{html.escape(name)}** {graded.score}/{top}{comment}")
    if result.next_steps:
        lines += ["", "**Next steps**", ""]
        lines += [f"- {_plain(step)}" for step in result.next_steps]
    return "\n".join(lines)
