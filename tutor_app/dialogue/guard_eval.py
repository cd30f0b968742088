"""Measuring the answer-leak guard on labelled tutor replies: ``python app.py eval-guard FILE.jsonl``.

A school can check the guard on its own transcripts: one JSON object a line with the problem
statement, the step's answer as a teacher writes it, the student's message (and earlier turns),
the tutor's reply, and a person's label: does the reply reveal the answer? Each reply runs
through the guard exactly as the tutor chat runs it (``leak_guard.guard_for_turn``, the reply
fed in small chunks as a model streams it), and the command prints precision, recall and F1 of
"the guard cut it" against the label, the confusion counts and every disagreement.

Fields: ``problem`` (the statement), ``answer``, ``check`` (default ``numeric``; any checker
but ``open``), ``history`` (optional ``[{role, content}]``), ``student_message``, ``reply``,
``label`` (true when the reply reveals the answer), and optionally ``prompt`` (the step's own
question, when the statement does not end with it).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from ..curriculum.schema import Problem
from .leak_guard import LeakFinding, guard_for_turn

CHUNK_CHARS = 4  # a model streams a few characters at a time; the guard judges prefixes as they grow
_ROLES = ("user", "assistant", "student", "tutor")


class CaseProblem(ValueError):
    """A line of the file that cannot be evaluated; the message names the field."""


@dataclass(frozen=True)
class GuardCase:
    line: int
    problem: Problem
    history: tuple[dict, ...]
    student_message: str
    reply: str
    label: bool


@dataclass
class GuardScore:
    tp: int = 0  # cut, and the reply reveals the answer
    fp: int = 0  # cut, but the reply was safe
    fn: int = 0  # shown, and it reveals the answer
    tn: int = 0  # shown, and safe
    errors: list[tuple[GuardCase, LeakFinding | None]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}


def _text(record: dict, name: str, *, required: bool = True) -> str:
    value = record.get(name, "" if not required else None)
    if value is None:
        raise CaseProblem(f"'{name}' is missing")
    if not isinstance(value, str):
        raise CaseProblem(f"'{name}' must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise CaseProblem(f"'{name}' is empty")
    return value


def _history(record: dict) -> tuple[dict, ...]:
    history = record.get("history") or []
    if not isinstance(history, list):
        raise CaseProblem("'history' must be a list of {role, content}")
    turns = []
    for i, turn in enumerate(history):
        if not isinstance(turn, dict) or not isinstance(turn.get("content"), str) or turn.get("role") not in _ROLES:
            raise CaseProblem(f"'history[{i}]' must be {{\"role\": user|assistant, \"content\": text}}")
        turns.append({"role": turn["role"], "content": turn["content"]})
    return tuple(turns)


def _question(statement: str) -> str:
    """The step's question when the case gives none: the statement's last question, else all of it."""
    sentences = [s.strip() for s in statement.replace("?", "?\n").splitlines() if s.strip()]
    asked = [s for s in sentences if s.endswith("?")]
    return asked[-1] if asked else statement


def parse_case(record: Any, line: int) -> GuardCase:
    """One line's object as a case; ``CaseProblem`` names what is wrong."""
    if not isinstance(record, dict):
        raise CaseProblem("each line must be one JSON object")
    statement = _text(record, "problem")
    label = record.get("label")
    if not isinstance(label, bool):
        raise CaseProblem("'label' must be true (the reply reveals the answer) or false")
    check = record.get("check", "numeric")
    if check == "open":
        raise CaseProblem("'check' is open: an open step has no answer to protect")
    step = {"id": "step", "prompt": _text(record, "prompt", required=False) or _question(statement),
            "answer": _text(record, "answer"), "check": check}
    try:
        problem = Problem.model_validate({"id": f"line-{line}", "statement": statement, "steps": [step]})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p not in ("steps", 0))
        raise CaseProblem(f"'{where or 'problem'}': {first['msg']}") from None
    return GuardCase(line=line, problem=problem, history=_history(record),
                     student_message=_text(record, "student_message", required=False),
                     reply=_text(record, "reply"), label=label)


def read_cases(path: Path) -> tuple[list[GuardCase], list[str]]:
    """The cases of a JSONL file, and a message ``file:line: what`` for each line left out."""
    cases, problems = [], []
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                cases.append(parse_case(json.loads(line), line_number))
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{line_number}: not JSON ({exc.msg})")
            except CaseProblem as exc:
                problems.append(f"{path}:{line_number}: {exc}")
    return cases, problems


def judge(case: GuardCase) -> LeakFinding | None:
    """What the guard finds in the case's reply, streamed as the tutor chat streams it."""
    guard = guard_for_turn(case.problem, 0, [], student_message=case.student_message, history=list(case.history))
    for i in range(0, len(case.reply), CHUNK_CHARS):
        guard.feed(case.reply[i:i + CHUNK_CHARS])
        if guard.leaked:
            break
    guard.finish()
    return guard.finding


def evaluate(cases: list[GuardCase]) -> GuardScore:
    score = GuardScore()
    for case in cases:
        finding = judge(case)
        cut = finding is not None
        if cut and case.label:
            score.tp += 1
        elif cut:
            score.fp += 1
            score.errors.append((case, finding))
        elif case.label:
            score.fn += 1
            score.errors.append((case, None))
        else:
            score.tn += 1
    return score


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def print_report(path: Path, score: GuardScore, skipped: list[str], out: TextIO) -> None:
    total = score.tp + score.fp + score.fn + score.tn
    print(f"eval-guard: {path}: {total} replies ({score.tp + score.fn} reveal the answer)", file=out)
    print(f"precision {score.precision:.3f}   recall {score.recall:.3f}   F1 {score.f1:.3f}", file=out)
    print(f"confusion: {score.tp} cut and revealing (tp), {score.fp} cut but safe (fp), "
          f"{score.fn} shown and revealing (fn), {score.tn} shown and safe (tn)", file=out)
    if score.errors:
        print("errors:", file=out)
    for case, finding in score.errors:
        if finding is not None:
            why = f"false alarm ({finding.rule}: {_short(finding.evidence, 60)!r})"
        else:
            why = "missed"
        print(f"  line {case.line}: {why}: answer {case.problem.steps[0].answer!r}; "
              f"student {_short(case.student_message, 60)!r}; reply {_short(case.reply)!r}", file=out)
    if skipped:
        print(f"{len(skipped)} line(s) left out:", file=out)
        for message in skipped:
            print(f"  {message}", file=out)


def eval_guard_command(path: Path | str, as_json: bool, settings: Any = None) -> int:
    """Run the guard over a labelled JSONL file and print the figures; with ``as_json`` the
    last line is one JSON object (``precision, recall, f1, tp, fp, fn, tn``). Exit 0, or 1
    when lines had to be left out, 2 when the file cannot be read. ``settings`` is the app's
    (the guard needs none of it today; the signature matches the other commands)."""
    path = Path(path)
    try:
        cases, skipped = read_cases(path)
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"error: {path} is not UTF-8 text", file=sys.stderr)
        return 2
    score = evaluate(cases)
    print_report(path, score, skipped, sys.stdout)
    if as_json:
        print(json.dumps(score.as_dict()))
    return 1 if skipped else 0
