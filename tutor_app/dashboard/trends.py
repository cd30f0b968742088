"""How each model version does in class, week by week: the trend a teacher watches after a switch.

A version is the model and the LoRA adapter that produced an output (as stored with it). Per
ISO week (Monday to Sunday, UTC) of the outputs and per version:

- **guard interventions per 100 tutor replies**: replies the answer-leak guard had to cut;
- **override rate of model grades**: of the criteria of model grades a teacher looked at (the
  grade confirmed, or its score overridden), the share whose score the teacher changed;
- **diagnosis agreement**: of the model's misconception diagnoses a teacher judged, the share
  the teacher confirmed (or corrected to the same label).

Outputs are counted in the week they were made, not the week they were reviewed: the question
is how the version did while it was in use. A rate with nothing reviewed is None, not 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..assessment.models import ModelCriterionGrade, ModelGrade, Submission
from ..assessment.store import AssessmentStore
from ..curation.store import CurationStore
from ..storage.database import Database
from ..tutoring.models import Attempt, TutorMessage


@dataclass(frozen=True)
class TrendRow:
    week: date  # the Monday
    model: str
    adapter: str | None  # None: the base model (or an output stored before adapters were recorded)
    replies: int
    guarded: int
    grade_criteria_reviewed: int
    grade_criteria_overridden: int
    diagnoses_reviewed: int
    diagnoses_agreed: int

    @property
    def guard_per_100(self) -> float | None:
        return 100 * self.guarded / self.replies if self.replies else None

    @property
    def override_rate(self) -> float | None:
        reviewed = self.grade_criteria_reviewed
        return self.grade_criteria_overridden / reviewed if reviewed else None

    @property
    def diagnosis_agreement(self) -> float | None:
        return self.diagnoses_agreed / self.diagnoses_reviewed if self.diagnoses_reviewed else None


Key = tuple[date, str, str | None]


def week_of(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


def model_trends(db: Database) -> list[TrendRow]:
    """One row per (week, model version) with any output, newest week first."""
    counts: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with db.session() as session:
        for at, model, adapter, rule in session.execute(
                sa.select(TutorMessage.created_at, TutorMessage.model_name, TutorMessage.adapter,
                          TutorMessage.guard_rule).where(TutorMessage.role == "tutor")):
            bucket = counts[(week_of(at), model or "unknown", adapter)]
            bucket["replies"] += 1
            bucket["guarded"] += rule is not None
        diagnoses = session.execute(
            sa.select(Attempt.id, Attempt.created_at, Attempt.diagnosis_model, Attempt.diagnosis_adapter,
                      Attempt.misconception_id).where(Attempt.diagnosis == "model")).all()
        grades = session.execute(
            sa.select(ModelGrade.id, ModelGrade.created_at, ModelGrade.model_name, ModelGrade.adapter,
                      ModelGrade.submission_id, Submission.rubric_id).join(Submission)).all()
        criteria = session.execute(sa.select(ModelCriterionGrade.grade_id, ModelCriterionGrade.criterion_id,
                                             ModelCriterionGrade.score)).all()

    judged = CurationStore(db).diagnosis_reviews(d.id for d in diagnoses)
    for attempt_id, at, model, adapter, diagnosed in diagnoses:
        judgement = judged.get(attempt_id)
        if judgement is None:
            continue
        bucket = counts[(week_of(at), model or "unknown", adapter)]
        bucket["diagnoses_reviewed"] += 1
        bucket["diagnoses_agreed"] += judgement.verdict == "confirmed" or judgement.misconception_id == diagnosed

    _count_grades(db, grades, criteria, counts)
    rows = [TrendRow(week=week, model=model, adapter=adapter, replies=c["replies"], guarded=c["guarded"],
                     grade_criteria_reviewed=c["criteria_reviewed"], grade_criteria_overridden=c["criteria_overridden"],
                     diagnoses_reviewed=c["diagnoses_reviewed"], diagnoses_agreed=c["diagnoses_agreed"])
            for (week, model, adapter), c in counts.items()]
    rows.sort(key=lambda r: (r.week, r.model, r.adapter or ""), reverse=True)
    return rows


def _count_grades(db: Database, grades, criteria, counts: dict[Key, dict[str, int]]) -> None:
    """Each model grade the teacher looked at: the teacher's view applies to the submission's latest grade."""
    astore = AssessmentStore(db)
    confirmed = set(astore.confirmations())
    scores: dict[int, dict[str, int]] = defaultdict(dict)
    for grade_id, criterion_id, score in criteria:
        scores[grade_id][criterion_id] = score
    latest: dict[int, tuple] = {}
    for grade in grades:
        if grade.submission_id not in latest or (grade.created_at, grade.id) > (latest[grade.submission_id][1],
                                                                                 latest[grade.submission_id][0]):
            latest[grade.submission_id] = grade
    views: dict[str, dict] = {}
    for grade in grades:
        if grade.rubric_id not in views:
            views[grade.rubric_id] = astore.teacher_views(rubric_id=grade.rubric_id)
        shown = latest[grade.submission_id].id == grade.id
        bucket = counts[(week_of(grade.created_at), grade.model_name or "unknown", grade.adapter)]
        for criterion_id, score in scores[grade.id].items():
            view = views[grade.rubric_id].get((grade.submission_id, criterion_id)) if shown else None
            teacher_score = view.score if view is not None else None
            if teacher_score is None and grade.id not in confirmed:
                continue
            bucket["criteria_reviewed"] += 1
            bucket["criteria_overridden"] += teacher_score is not None and teacher_score != score
