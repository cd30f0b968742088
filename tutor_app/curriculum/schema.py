"""The shapes of the YAML files teachers write: problem units, conversation units and rubrics.

These models are a contract: teachers' files and other tools rely on the field names.
Extend with optional fields; never rename. Unknown keys are rejected (``extra="forbid"``)
so that a typo such as ``hitns:`` is reported instead of silently ignored.

Cross-field rules that need the whole unit (duplicate ids, bug rules naming unknown
misconceptions, unused skills, answers their own checker cannot parse, parametric
templates that do not render) live in ``validate.py`` so that this module stays a plain
description of the format. How an answer is compared (the check kinds and ``CheckOptions``,
which steps and scaffold hints build on) is the checking package's to define.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..checking.options import CheckOptions

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=80)]

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
CefrLevel = Literal["A1", "A2", "B1", "B2", "C1", "C2"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BKTParams(StrictModel):
    """Bayesian Knowledge Tracing parameters; the defaults are the usual textbook values."""

    p_init: float = Field(0.2, ge=0, le=1)
    p_transit: float = Field(0.15, ge=0, le=1)
    p_guess: float = Field(0.2, ge=0, le=1)
    p_slip: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _right_answers_are_evidence_of_knowing(self) -> "BKTParams":
        # With p_guess + p_slip >= 1 a student who does not know the skill answers right at least
        # as often as one who does, so a right answer would lower the estimate.
        if self.p_guess + self.p_slip >= 1:
            raise ValueError(f"p_guess + p_slip must be below 1 (here {self.p_guess:g} + {self.p_slip:g}); "
                             f"otherwise a right answer would lower the estimate that the student knows the skill")
        return self


class Skill(StrictModel):
    id: Id
    name: str
    description: str | None = None
    bkt: BKTParams = BKTParams()


class LanguageRule(StrictModel):
    """A learner error in a conversation unit that code corrects, whatever the model says:
    ``pattern`` (a regular expression, matched without regard to case or accents) finds it in
    the student's message and ``correction`` replaces what it matched (``\\1`` repeats a group,
    as typed). ``explanation`` is shown to the student; without one, the misconception's
    description is."""

    pattern: str = Field(min_length=1, max_length=300)
    correction: str = Field(max_length=120)
    explanation: str | None = None


class Misconception(StrictModel):
    """An entry in a unit's misconception library (the ids bug rules and the model refer to).
    In a conversation unit, ``rules`` correct its usual forms deterministically."""

    id: Id
    description: str
    examples: list[str] = []
    rules: list[LanguageRule] = []


class ScaffoldHint(CheckOptions):
    """A sub-question the student answers before the hint ladder goes on."""

    scaffold: str
    answer: str


Hint = Union[str, ScaffoldHint]


class BugRule(StrictModel):
    """An answer equivalent to one of ``answers`` means the student holds misconception ``id``.
    On an ``open`` step, where no answer is equivalent to another, an answer that says one of
    ``phrases`` (whole words, case and accents aside, not after a negation) or matches one of
    ``patterns`` (regular expressions) does (``checking.phrases``)."""

    id: Id
    answers: list[str] = []
    phrases: list[str] = []
    patterns: list[str] = []
    feedback: str

    @model_validator(mode="after")
    def _says_when_it_fires(self) -> "BugRule":
        if not (self.answers or self.phrases or self.patterns):
            raise ValueError("a bug rule needs answers: (or, on an open step, phrases: or patterns:) that show "
                             "the misconception")
        return self


class RubricLevel(StrictModel):
    score: int = Field(ge=0)
    description: str
    exemplars: list[str] = []


class RubricCriterion(StrictModel):
    id: Id
    name: str
    description: str = ""
    weight: float = Field(1.0, gt=0)
    levels: list[RubricLevel] = Field(min_length=2)


MAX_RUBRIC_CHARS = 200_000  # about 80 pages: beyond that it is a pasted file, not a student's text


class Rubric(StrictModel):
    """A grading rubric: inline under an ``open`` step, or a file of its own (``kind: rubric``)."""

    kind: Literal["rubric"] = "rubric"
    id: Id
    title: str
    subject: str | None = None
    language: str = "en"
    task: str | None = None  # what the students were asked to write, shown to the grader
    criteria: list[RubricCriterion] = Field(min_length=1)
    # The longest text a student may send for grading (/grade_submission, open steps): the model's
    # time is shared by the class, and a page of writing is about 3,000 characters.
    max_chars: int = Field(6000, gt=0, le=MAX_RUBRIC_CHARS)


class Step(CheckOptions):
    id: Id
    prompt: str
    answer: str | None = None  # required unless check is "open"
    skills: list[str] = []
    hints: list[Hint] = []
    misconceptions: list[BugRule] = []
    rubric: Union[str, Rubric, None] = None  # open steps: a rubric id or an inline rubric
    explanation: str | None = None  # shown after the step is solved


class RangeParam(StrictModel):
    range: tuple[int, int]
    exclude: list[int] = []


class ChoiceParam(StrictModel):
    choices: list[Union[int, float, str]] = Field(min_length=1)


# A derived parameter is a sympy expression over earlier parameters, e.g. ``"a*x0 + b"``.
ParamSpec = Union[RangeParam, ChoiceParam, str]


class Problem(StrictModel):
    id: Id
    title: str | None = None
    statement: str
    params: dict[str, ParamSpec] = {}
    steps: list[Step] = Field(min_length=1)
    difficulty: int | None = Field(None, ge=1, le=5)


class Unit(StrictModel):
    """A problem unit: one YAML file of step-by-step problems."""

    kind: Literal["problems"] = "problems"
    id: Id
    title: str
    subject: str
    language: str = "en"
    level: str | None = None
    description: str | None = None
    skills: list[Skill] = Field(min_length=1)
    misconceptions: list[Misconception] = []
    problems: list[Problem] = Field(min_length=1)


class ConversationGoal(StrictModel):
    """Something the learner should manage to say; ticked off when one of ``phrases`` is used."""

    id: Id
    description: str
    phrases: list[str] = Field(min_length=1)


class VocabularyItem(StrictModel):
    word: str
    translation: str | None = None


class ConversationUnit(StrictModel):
    """A language-practice unit: a scenario the tutor plays in the target language."""

    kind: Literal["conversation"]
    id: Id
    title: str
    subject: str = "language"
    language: str = "en"  # the learner's language: corrections and explanations use it
    target_language: str  # ISO 639-1 code of the language practised, e.g. "es"
    level: CefrLevel
    # who the unit is for: a school unit is checked for words not meant for minors (``audience.py``)
    audience: Literal["school", "adults"] = "school"
    scenario: str
    character: str  # who the tutor plays, e.g. "a waiter at a tapas bar in Madrid"
    opening: str  # the character's first line, in the target language
    goals: list[ConversationGoal] = []
    vocabulary: list[VocabularyItem] = []
    misconceptions: list[Misconception] = []  # common learner errors at this level
    skills: list[Skill] = []


AnyUnit = Annotated[Union[Unit, ConversationUnit, Rubric], Field(discriminator="kind")]
