"""``datasheet.md`` next to the exported files: what is in them, what is not and why, and the split.

After "Datasheets for Datasets" (Gebru et al.), cut to what a school's IT person and the next
teacher need to judge a fine-tune: counts per task and unit, the date range of the outputs,
where the answers came from (approved as shown, rewritten, confirmed, corrected), what was
left out and why, how students were pseudonymized and split.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from .items import TASK_TITLES, TASKS, Collected, TrainingItem
from .pseudonyms import Pseudonyms, Side

if TYPE_CHECKING:
    from .export import ExportReport

SIDE_TITLES = {"train": "training split", "heldout": "held-out split"}


def datasheet_markdown(side: Side, items: list[TrainingItem], collected: Collected, report: "ExportReport",
                       pseudonyms: Pseudonyms, *, now: datetime, model_note: str = "") -> str:
    from .export import SUITE_FILE, file_name

    other: Side = "heldout" if side == "train" else "train"
    lines = [f"# Datasheet: {SIDE_TITLES[side]} of the training export", "",
             f"Written {now:%Y-%m-%d %H:%M} UTC by `python app.py export-training`. "
             f"{len(items)} examples from {report.students[side]} students in this folder; the {SIDE_TITLES[other]} "
             f"(`../{other}/`) has {report.total(other)} from {report.students[other]}.", ""]
    if model_note:
        lines += [model_note, ""]

    lines += ["## Files", "", "| file | task | examples |", "|---|---|---|"]
    for task in TASKS:
        n = report.counts.get((side, task), 0)
        lines.append(f"| `{file_name(task, side) if n else '(none)'}` | {TASK_TITLES[task]} | {n} |")
    if side == "heldout":
        lines += ["", f"`{SUITE_FILE}`: these items as an evaluation suite (misconceptions, rubric grading and "
                  "tutoring replies against the teacher's reply): "
                  f"{'written' if report.suite else 'not written (no held-out item has a suite form)'}."]

    lines += ["", "## Examples per task and unit", "", "| task | unit or rubric | examples | students |",
              "|---|---|---|---|"]
    per_unit = Counter((item.task, item.unit) for item in items)
    students = {key: len({pseudonyms.of(i.student) for i in items if (i.task, i.unit) == key}) for key in per_unit}
    for (task, unit), n in sorted(per_unit.items(), key=lambda kv: (TASKS.index(kv[0][0]), kv[0][1])):
        lines.append(f"| {TASK_TITLES[task]} | {unit} | {n} | {students[(task, unit)]} |")
    if not items:
        lines.append("| – | – | 0 | 0 |")

    lines += ["", "## Where the answers come from", "",
              "Only what a teacher approved or corrected is exported. *approved*: a reply or correction as the "
              "student saw it, marked good; *rewritten*: the reply the teacher wrote instead; *confirmed*: a "
              "diagnosis or grade the teacher confirmed as it stands; *corrected*/*overridden*: the teacher's "
              "label, comment or score in place of the model's.", "", "| task | source | examples |", "|---|---|---|"]
    for (task, source), n in sorted(Counter((i.task, i.source) for i in items).items()):
        lines.append(f"| {TASK_TITLES[task]} | {source} | {n} |")

    if items:
        first, last = min(i.at for i in items), max(i.at for i in items)
        lines += ["", "## Date range", "", f"Model outputs from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC."]

    lines += ["", "## Left out (both splits)", "", "| task | unit or rubric | reason | items |", "|---|---|---|---|"]
    left = Counter((e.task, e.unit, e.reason) for e in collected.excluded)
    for (task, unit, reason), n in sorted(left.items()):
        lines.append(f"| {TASK_TITLES[task]} | {unit} | {reason} | {n} |")
    for task in TASKS:
        if collected.not_reviewed.get(task):
            lines.append(f"| {TASK_TITLES[task]} | all | not reviewed by a teacher | {collected.not_reviewed[task]} |")
    if not left and not any(collected.not_reviewed.values()):
        lines.append("| – | – | nothing was left out | 0 |")

    lines += ["", "## Students and the split", "",
              "Students appear as pseudonyms (`student-` and 10 hex digits): an HMAC-SHA256 of the name under a "
              "secret kept in this install's data folder (`export-secret`, never exported), so the same student "
              "has the same pseudonym in every export from this school and nobody without the secret can tell who "
              "it is. Student names inside the text are replaced by the same pseudonyms.", "",
              f"The split is by student: a student is held out when their keyed hash falls in the first "
              f"{pseudonyms.heldout_share:.0%} of its range, so every item of a student is on one side, no student "
              "is in both, and a student keeps their side in every later export. Use the held-out split only to "
              "evaluate, never to train."]
    return "\n".join(lines) + "\n"
