"""What the teacher's dashboard receives: plain, JSON-ready shapes, apart from the tables.

A conversation's transcript is conversation practice's own shape (``language/shapes.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class SkillInfo(BaseModel):
    id: str
    name: str


class StudentMastery(BaseModel):
    student: str
    mastery: dict[str, float]  # skill id -> P(known); skills never practised are absent
    mastered: list[str]  # skill ids at or above the mastery threshold


class MasteryTable(BaseModel):
    curriculum_id: str
    title: str
    threshold: float
    skills: list[SkillInfo]
    students: list[StudentMastery]


class Place(BaseModel):
    """Where in a unit something happened, in the words a teacher reads on the page (the ids are
    kept beside it for links and exports): the problem's title and "step 2: <its prompt>"."""

    problem_title: str = ""  # "" when the unit no longer has the problem: the page shows the id
    step_label: str = ""  # "step 2: Now find x." ("" likewise); "level A2" for conversation practice


class MisconceptionCount(BaseModel):
    curriculum_id: str
    problem_id: str
    step_id: str
    misconception_id: str
    description: str  # from the unit's misconception library ("" when the unit no longer has it)
    count: int
    students: int
    by_bug_rule: int
    by_model: int
    place: Place = Place()


class StuckStudent(BaseModel):
    student: str
    session_id: str
    curriculum_id: str
    problem_id: str
    step_id: str
    wrong_attempts: int
    hints: int
    bottom_out_hints: int
    still_on_step: bool
    last_at: datetime
    reason: str  # one line a teacher reads, e.g. "6 wrong attempts, saw the worked answer"
    place: Place = Place()


class SessionListItem(BaseModel):
    session_id: str
    student: str
    curriculum_id: str
    problem_id: str
    step_id: str | None
    done: bool
    attempts: int
    hints: int
    started_at: datetime
    updated_at: datetime
    unit_title: str = ""  # "" when the unit is gone: the page shows the ids
    place: Place = Place()  # the problem, and the step the session is on


class TranscriptEntry(BaseModel):
    at: datetime
    kind: Literal["attempt", "hint", "student", "tutor"]
    step_id: str | None
    text: str  # the answer, the hint, or the chat message
    verdict: str | None = None
    misconception_id: str | None = None
    misconception: str = ""  # its description in the unit ("" when the unit no longer has it)
    feedback: str | None = None
    scaffold: bool = False
    level: int | None = None
    bottom_out: bool = False


class Transcript(BaseModel):
    session: SessionListItem
    statement: str  # the student's variant of the problem ("" when the unit no longer has it)
    seed: int
    entries: list[TranscriptEntry]
    step_labels: dict[str, str] = {}  # step id -> "step 1: <its prompt>", for the steps the unit still has


# mastery parameters fitted from the class (``mastery_fit.py``) ------------------------------------
class ParamValues(BaseModel):
    p_init: float
    p_transit: float
    p_guess: float
    p_slip: float


class SkillFit(BaseModel):
    """One skill: the parameters in use beside what the class's answers say."""

    skill_id: str
    skill_name: str
    current: ParamValues
    source: Literal["file", "adopted"]  # the unit file's values, or values adopted from a fit
    adopted_at: datetime | None = None
    adopted_by: str | None = None
    status: Literal["fitted", "too-little-data", "rejected"]
    fitted: ParamValues | None = None  # the estimate, shown for a rejected fit too (with the reason)
    margins: dict[str, float | None] | None = None  # half-widths of the 95% intervals
    students: int  # how much data the fit rests on
    observations: int
    reason: str | None = None  # why the fit cannot be adopted
    adoptable: bool  # fitted, and different from what is in use


class MasteryFitTable(BaseModel):
    curriculum_id: str
    title: str
    min_students: int  # the thresholds a fit needs before it is tried (``engine.bkt_fit``)
    min_observations: int
    max_margin: float  # and the precision it needs to be offered
    ignored_events: int  # stored answers of problems or steps the unit no longer has
    skills: list[SkillFit]


class ParamsChangeView(BaseModel):
    """One entry of the parameters' history: who changed what, when, and on how much data."""

    curriculum_id: str
    skill_id: str
    skill_name: str
    source: Literal["fit", "file"]
    before: ParamValues
    after: ParamValues | None  # None: back to the unit file's values
    students: int | None
    observations: int | None
    changed_by: str
    at: datetime
