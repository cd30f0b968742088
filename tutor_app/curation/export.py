"""``python app.py export-training DIR``: what teachers approved, as training files a LoRA trainer reads.

Layout (what ``train-lora`` expects: it reads ``DIR/train/*.jsonl`` and never a file whose
name says held-out)::

    DIR/train/tutoring.jsonl        classification.jsonl  grading.jsonl  corrections.jsonl  datasheet.md
    DIR/heldout/tutoring.heldout.jsonl  ...                                                  datasheet.md
    DIR/heldout/eval-suite.yaml     the held-out items as an evaluation suite (python app.py eval)

One JSON object a line: ``{"messages": [...], "meta": {...}}`` with the exact prompt the app
sends for that task (rendered by the same function, in the state the app was in) and the answer
a teacher approved or wrote. Only teacher-approved or teacher-corrected items go in; everything
else is counted in the datasheets with the reason. Students appear only as pseudonyms
(``pseudonyms.py``), names in the text included, and every student's items are on one side of
the split. Files of an earlier export in DIR are replaced; nothing else there is touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

from ..assessment.service import AssessmentService
from ..curriculum.library import CurriculumLibrary
from ..prompting import PromptLibrary
from ..service.people import PeopleStore
from ..storage.database import Database
from .classification_items import classification_items
from .correction_items import correction_items
from .datasheet import datasheet_markdown
from .grading_items import grading_items
from .items import TASKS, Collected, CountTokens, TrainingItem
from .pseudonyms import Pseudonyms, Side
from .tutoring_items import tutoring_items

SIDES: tuple[Side, ...] = ("train", "heldout")
SUITE_FILE = "eval-suite.yaml"
DATASHEET = "datasheet.md"


def file_name(task: str, side: Side) -> str:
    return f"{task}.jsonl" if side == "train" else f"{task}.heldout.jsonl"


@dataclass
class ExportReport:
    out_dir: Path
    counts: dict[tuple[Side, str], int] = field(default_factory=dict)  # (side, task) -> examples
    students: dict[Side, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    suite: Path | None = None
    collected: Collected = field(default_factory=Collected)

    def total(self, side: Side) -> int:
        return sum(n for (s, _), n in self.counts.items() if s == side)


def collect(db: Database, library: CurriculumLibrary, assessment: AssessmentService, prompts: PromptLibrary, *,
            count_tokens: CountTokens | None, n_ctx: int) -> Collected:
    """Every task's items and exclusions, names still real."""
    collected = tutoring_items(db, library, prompts, count_tokens=count_tokens, n_ctx=n_ctx)
    collected.extend(classification_items(db, library, prompts))
    collected.extend(grading_items(assessment, prompts))
    collected.extend(correction_items(db, library, prompts))
    collected.items.sort(key=lambda item: (TASKS.index(item.task), item.at, item.item))
    return collected


def export_training(db: Database, library: CurriculumLibrary, assessment: AssessmentService, prompts: PromptLibrary,
                    out_dir: str | Path, pseudonyms: Pseudonyms, *, count_tokens: CountTokens | None = None,
                    n_ctx: int = 4096, model_note: str = "", now: datetime | None = None) -> ExportReport:
    out_dir = Path(out_dir)
    now = now or datetime.now(timezone.utc)
    collected = collect(db, library, assessment, prompts, count_tokens=count_tokens, n_ctx=n_ctx)
    names = set(PeopleStore(db).student_names()) | {item.student for item in collected.items}
    report = ExportReport(out_dir=out_dir, collected=collected)
    by_side: dict[Side, list[TrainingItem]] = {side: [] for side in SIDES}
    for item in collected.items:
        by_side[pseudonyms.side(item.student)].append(item)
    for side in SIDES:
        folder = out_dir / side
        _clear(folder)
        folder.mkdir(parents=True, exist_ok=True)
        items = by_side[side]
        report.students[side] = len({pseudonyms.of(i.student) for i in items})
        for task in TASKS:
            lines = [json.dumps(_example(item, pseudonyms, names), ensure_ascii=False)
                     for item in items if item.task == task]
            report.counts[(side, task)] = len(lines)
            if lines:
                path = folder / file_name(task, side)
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                report.files.append(path)
        if side == "heldout":
            report.suite = _write_suite(folder / SUITE_FILE, items, pseudonyms, names, now)
    for side in SIDES:  # each datasheet speaks of the other side too
        (out_dir / side / DATASHEET).write_text(
            datasheet_markdown(side, by_side[side], collected, report, pseudonyms, now=now, model_note=model_note),
            encoding="utf-8")
    return report


def _example(item: TrainingItem, pseudonyms: Pseudonyms, names: set[str]) -> dict:
    messages = [{**m, "content": pseudonyms.scrub(m["content"], names)} for m in item.messages]
    return {"messages": messages, "meta": {"task": item.task, "unit": item.unit, "student": pseudonyms.of(item.student),
                                           "at": item.at.isoformat(timespec="seconds"), "source": item.source,
                                           "item": item.item}}


def _write_suite(path: Path, items: list[TrainingItem], pseudonyms: Pseudonyms, names: set[str],
                 now: datetime) -> Path | None:
    """The held-out items that have an eval-suite form, as a suite ``python app.py eval`` runs."""
    sections: dict[str, list[dict]] = {}
    for n, item in enumerate(i for i in items if i.case is not None):
        case = {key: _scrubbed(value, pseudonyms, names) for key, value in item.case.items() if key != "section"}
        sections.setdefault(item.case["section"], []).append({"id": f"{item.task}-{n + 1}", **case})
    if not sections:
        return None
    suite = {"kind": "eval-suite", "id": f"heldout-{now:%Y%m%d}",
             "title": f"Held-out students' teacher-approved items ({now:%d %b %Y})",
             "description": "Written by python app.py export-training from the students of the held-out split; "
                            "none of them is in the training files.", **sections}
    header = ("# The held-out split of a training export, as an evaluation suite:\n"
              "#   python app.py eval heldout/eval-suite.yaml --lora models/adapters/NAME.gguf --out reports/NAME\n")
    path.write_text(header + yaml.safe_dump(suite, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    return path


def _scrubbed(value, pseudonyms: Pseudonyms, names: set[str]):
    if isinstance(value, str):
        return pseudonyms.scrub(value, names)
    if isinstance(value, list):
        return [_scrubbed(v, pseudonyms, names) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, pseudonyms, names) for k, v in value.items()}
    return value


def _clear(folder: Path) -> None:
    """Remove what an earlier export wrote here (and only that)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.is_file() and (path.suffix == ".jsonl" or path.name in (DATASHEET, SUITE_FILE)):
            path.unlink()
