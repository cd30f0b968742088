"""How an answer is to be compared: the check kinds, and the options a step or scaffold hint sets.

Checking owns this (a curriculum names a kind and its options; the checkers define what they
mean), so the curriculum's schema builds its steps on ``CheckOptions`` and the list of kinds
is written once, here. ``checkers.CHECKERS`` has one checker per kind (a test holds them equal).
These fields are part of the curriculum file format: extend, never rename.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

CheckKind = Literal["text", "numeric", "expression", "equation", "choice", "regex", "open"]
CHECK_KINDS: tuple[str, ...] = get_args(CheckKind)


class CheckOptions(BaseModel):
    """How an answer is compared; shared by steps and scaffold hints. Strict like every part of a
    teacher's file: an unknown key is reported, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = "text"
    tolerance: float | None = Field(None, ge=0)
    alternatives: list[str] = []
    choices: list[str] = []
    case_sensitive: bool = False
    # equation checks only: "step" wants this step's equation (rewritten, swapped, or moved to one
    # side); "any" accepts every equation with the same solutions (solution_sets.py)
    form: Literal["step", "any"] = "step"
    # numeric checks only: the answer's unit as a symbol ("J", "m/s", "€"); an answer may then
    # carry it in any usual spelling ("18 joules"), or none. ``unit_names`` adds spellings.
    unit: str | None = Field(None, min_length=1, max_length=40)
    unit_names: list[str] = []

    @field_validator("check")
    @classmethod
    def _known_checker(cls, value: str) -> str:
        # A plain message listing the kinds, rather than pydantic's literal_error wording.
        if value not in CHECK_KINDS:
            raise ValueError(f"unknown checker {value!r} (expected one of: {', '.join(CHECK_KINDS)})")
        return value
