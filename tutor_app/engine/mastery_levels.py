"""Mastery in words a student understands, and the moment a skill reaches another level.

A bar at 0.6 means little to a twelve-year-old, and BKT's estimate moves after every observed
step, so a student who watches the percentage sees noise. Four levels say the same thing
plainly and move only when the evidence does:

    just starting   below 0.40
    getting there   0.40 to 0.70
    solid           0.70 to 0.95
    mastered        0.95 and above (``mastery.MASTERY_THRESHOLD``, the usual BKT cut-off)

The cut-offs are chosen against the default parameters (p_init 0.2, p_transit 0.15, p_guess
0.2, p_slip 0.1): each right first attempt moves a new skill up one level (0.2 -> 0.60 -> 0.89
-> 0.98), while one wrong first attempt moves it down at most one (0.6 -> 0.28, 0.89 -> 0.58,
0.98 -> 0.87). ``level_changes`` compares the estimates before and after an action, so the page
can mark progress ("Undo multiplying: solid") when a skill climbs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .mastery import MASTERY_THRESHOLD


@dataclass(frozen=True)
class MasteryLevel:
    id: str  # stable, for code and CSS: starting, getting-there, solid, mastered
    label: str  # what the student reads
    floor: float  # the lowest P(known) at this level
    rank: int  # 0 for the lowest level; a higher rank is further on


LEVELS = (
    MasteryLevel("starting", "just starting", 0.0, 0),
    MasteryLevel("getting-there", "getting there", 0.40, 1),
    MasteryLevel("solid", "solid", 0.70, 2),
    MasteryLevel("mastered", "mastered", MASTERY_THRESHOLD, 3),
)


def mastery_level(p_known: float) -> MasteryLevel:
    """The level of an estimate; ``ValueError`` for anything that is not a probability."""
    p = float(p_known)
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"mastery must be a probability between 0 and 1, not {p_known!r}")
    return next(level for level in reversed(LEVELS) if p >= level.floor)


@dataclass(frozen=True)
class LevelChange:
    """One skill that moved to another level."""

    skill_id: str
    before: MasteryLevel
    after: MasteryLevel

    @property
    def up(self) -> bool:
        return self.after.rank > self.before.rank

    def describe(self, skill_name: str) -> str:
        """A short line for the page, e.g. "Undo multiplying: solid"."""
        return f"{skill_name}: {self.after.label}"


def level_changes(before: Mapping[str, float], after: Mapping[str, float]) -> list[LevelChange]:
    """Skills whose level differs between two sets of estimates, in ``after``'s order. A skill
    missing from either side is left out: there is nothing to compare it with."""
    changes = []
    for skill_id, p_after in after.items():
        if skill_id not in before:
            continue
        old, new = mastery_level(before[skill_id]), mastery_level(p_after)
        if old != new:
            changes.append(LevelChange(skill_id, old, new))
    return changes
