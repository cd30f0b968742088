"""Find the rubric a teacher means: an id from the curricula, a rubric file's path, or the
rubric of an ``open`` step (written inline under the step, or named by id)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..curriculum.schema import Rubric, Step


class RubricProblem(LookupError):
    """The rubric cannot be found or read; the message names what and where."""

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0]) if self.args else ""


class HasRubrics(Protocol):
    @property
    def rubrics(self) -> dict[str, Rubric]: ...


def load_rubric_file(path: Path) -> Rubric:
    """A rubric file read and checked by the curricula's own reader: same messages, with lines."""
    from ..curriculum.loader import load_file
    from ..curriculum.validate import validate_loaded

    path = Path(path)
    if not path.is_file():
        raise RubricProblem(f"rubric file not found: {path}")
    loaded = load_file(path)
    errors = list(loaded.errors)
    if loaded.item is not None and not isinstance(loaded.item, Rubric):
        raise RubricProblem(f"{path}: this is a {loaded.item.kind} unit, not a rubric (a rubric file says kind: rubric)")
    if loaded.item is not None:
        errors += validate_loaded(loaded, set())
    if errors:
        raise RubricProblem("\n".join(str(e) for e in sorted(errors, key=lambda e: e.sort_key())))
    return loaded.item


def looks_like_path(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref


def resolve_rubric(ref: str, library: HasRubrics | None) -> Rubric:
    """A rubric by id from the library, or from a file when ``ref`` is a path."""
    ref = ref.strip()
    if looks_like_path(ref) or (library is None and Path(ref).is_file()):
        return load_rubric_file(Path(ref))
    rubrics = library.rubrics if library is not None else {}
    if ref in rubrics:
        return rubrics[ref]
    known = ", ".join(sorted(rubrics)) or "none: add a file with kind: rubric under curricula/"
    raise RubricProblem(f"unknown rubric {ref!r} (known rubric ids: {known}; or give the path of a rubric file)")


def rubric_for_step(step: Step, library: HasRubrics, *, where: str) -> tuple[Rubric, str]:
    """(the rubric of an open step, the task to show the grader): the rubric's own task, else the
    step's prompt, so the grader knows what the student was answering. The rubric itself is not
    changed, so grades made through the step and through the rubric's id stay comparable."""
    if step.check != "open":
        raise RubricProblem(f"{where}: step {step.id!r} is checked by {step.check!r}; only open steps are graded "
                            "with a rubric")
    if step.rubric is None:
        raise RubricProblem(f"{where}: open step {step.id!r} has no rubric: add rubric: with a rubric id or "
                            "an inline rubric")
    rubric = step.rubric if isinstance(step.rubric, Rubric) else None
    if rubric is None:
        if step.rubric not in library.rubrics:
            raise RubricProblem(f"{where}: step {step.id!r} names the rubric {step.rubric!r}, which does not exist")
        rubric = library.rubrics[step.rubric]
    return rubric, rubric.task or step.prompt
