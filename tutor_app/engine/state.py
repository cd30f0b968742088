"""Where a student stands in one problem: an immutable value, stored as a JSON dict.

The engine never changes a ``ProblemProgress``; it returns a new one, so the service can store
the attempt and the new state together and a failed store leaves the old state intact. The
stored dict has a ``version`` so that a later format can still read sessions saved today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..curriculum.schema import Problem

FORMAT_VERSION = 1


def _frozen_counts(value: Mapping[str, int] | None) -> Mapping[str, int]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class ProblemProgress:
    step_index: int = 0  # the step being worked on; len(steps) once done
    done: bool = False
    hints_shown: Mapping[str, int] = field(default_factory=dict)  # per step id: how far up the ladder
    attempts: Mapping[str, int] = field(default_factory=dict)  # per step id: counted attempts (not invalid ones)
    observed: frozenset[str] = frozenset()  # step ids whose first attempt (or a hint before it) fed BKT
    bottom_out_seen: frozenset[str] = frozenset()  # step ids whose answer a hint has shown
    open_scaffold: int | None = None  # ladder index of the current step's unanswered scaffold question
    scaffold_misses: int = 0  # wrong answers to that scaffold question

    def __post_init__(self) -> None:
        object.__setattr__(self, "hints_shown", _frozen_counts(self.hints_shown))
        object.__setattr__(self, "attempts", _frozen_counts(self.attempts))
        object.__setattr__(self, "observed", frozenset(self.observed))
        object.__setattr__(self, "bottom_out_seen", frozenset(self.bottom_out_seen))

    __hash__ = None  # mappings inside; compare with ==, do not hash

    def hints_at(self, step_id: str) -> int:
        return self.hints_shown.get(step_id, 0)

    def attempts_at(self, step_id: str) -> int:
        return self.attempts.get(step_id, 0)

    def evolve(self, **changes) -> "ProblemProgress":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return {
            "version": FORMAT_VERSION,
            "step_index": self.step_index,
            "done": self.done,
            "hints_shown": dict(self.hints_shown),
            "attempts": dict(self.attempts),
            "observed": sorted(self.observed),
            "bottom_out_seen": sorted(self.bottom_out_seen),
            "open_scaffold": self.open_scaffold,
            "scaffold_misses": self.scaffold_misses,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "ProblemProgress":
        """Raises ``KeyError``, ``TypeError`` or ``ValueError`` naming the field for a dict that
        is not a saved progress; fields added after a session was saved take their defaults."""
        if not isinstance(data, Mapping):
            raise TypeError(f"saved progress must be a mapping, not {type(data).__name__}")
        version = data.get("version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise ValueError(f"saved progress has format version {version!r}; this app reads {FORMAT_VERSION}")
        open_scaffold = data.get("open_scaffold")
        return cls(
            step_index=_count(data["step_index"], "step_index"),
            done=_flag(data.get("done", False), "done"),
            hints_shown=_counts(data.get("hints_shown", {}), "hints_shown"),
            attempts=_counts(data.get("attempts", {}), "attempts"),
            observed=_ids(data.get("observed", []), "observed"),
            bottom_out_seen=_ids(data.get("bottom_out_seen", []), "bottom_out_seen"),
            open_scaffold=None if open_scaffold is None else _count(open_scaffold, "open_scaffold"),
            scaffold_misses=_count(data.get("scaffold_misses", 0), "scaffold_misses"),
        )


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, not {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {value}")
    return value


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be true or false, not {value!r}")
    return value


def _counts(value, name: str) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of step ids to counts")
    return {str(k): _count(v, f"{name}[{k!r}]") for k, v in value.items()}


def _ids(value, name: str) -> frozenset[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must be a list of step ids")
    return frozenset(value)


def solved_step_ids(problem: Problem, progress: ProblemProgress) -> frozenset[str]:
    """Steps behind the student: solved (or, for open steps, answered)."""
    return frozenset(step.id for step in problem.steps[:progress.step_index])


def revealed_step_ids(problem: Problem, progress: ProblemProgress) -> frozenset[str]:
    """Steps whose answer the student has reached, by solving it or by seeing its bottom-out
    hint: the answer-leak guard no longer protects these."""
    return solved_step_ids(problem, progress) | progress.bottom_out_seen
