"""How far the model's grades agree with the teacher's, per rubric criterion.

Quadratic weighted kappa (QWK) is the usual statistic for ordinal grades: 1 is perfect
agreement, 0 is what chance alone would give, negative is worse than chance, and a
disagreement of two levels costs four times one of one level. Levels are compared by their
position in the criterion's list of scores, so a 0/2/4 scale behaves like 0/1/2 (the same
convention as scikit-learn's ``cohen_kappa_score(weights="quadratic", labels=...)``).

QWK is undefined when both raters put everything in one level (no variation to agree on);
it is reported as ``None`` then, not as a misleading 0 or 1. Exact and adjacent (within one
level) agreement are reported beside it because a teacher reads them more easily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..curriculum.schema import Rubric
from .grader import level_scores
from .store import AssessmentStore, rubric_hash


class AgreementError(ValueError):
    pass


def confusion_matrix(a: Sequence[int], b: Sequence[int], categories: Sequence[int]) -> list[list[int]]:
    index = {c: i for i, c in enumerate(categories)}
    matrix = [[0] * len(categories) for _ in categories]
    for x, y in zip(a, b, strict=True):
        if x not in index or y not in index:
            raise AgreementError(f"score {x if x not in index else y} is not one of the levels {list(categories)}")
        matrix[index[x]][index[y]] += 1
    return matrix


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], categories: Sequence[int]) -> float | None:
    """QWK of two raters' scores over the ordered ``categories``; None when undefined."""
    if len(a) != len(b):
        raise AgreementError(f"the two raters scored {len(a)} and {len(b)} items")
    k = len(categories)
    if not a or k < 2:
        return None
    observed = confusion_matrix(a, b, categories)
    n = len(a)
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    disagreement = expected = 0.0
    for i in range(k):
        for j in range(k):
            weight = (i - j) ** 2 / (k - 1) ** 2
            disagreement += weight * observed[i][j]
            expected += weight * rows[i] * cols[j] / n
    if expected == 0:
        return None
    return 1.0 - disagreement / expected


@dataclass(frozen=True)
class CriterionAgreement:
    criterion_id: str
    name: str
    n: int  # submissions scored by both the model and the teacher
    exact: float | None  # share with the same level
    adjacent: float | None  # share at most one level apart
    kappa: float | None
    levels: tuple[int, ...]
    matrix: tuple[tuple[int, ...], ...]  # rows: model's level, columns: teacher's level


@dataclass(frozen=True)
class AgreementReport:
    rubric_id: str
    criteria: list[CriterionAgreement]
    skipped: int  # teacher scores that are no longer a level of the rubric, or without a model grade


def criterion_agreement(criterion_id: str, name: str, pairs: Sequence[tuple[int, int]],
                        levels: Sequence[int]) -> CriterionAgreement:
    """Agreement over (model score, teacher score) pairs."""
    index = {s: i for i, s in enumerate(levels)}
    model = [m for m, _ in pairs]
    teacher = [t for _, t in pairs]
    n = len(pairs)
    exact = sum(1 for m, t in pairs if m == t) / n if n else None
    adjacent = sum(1 for m, t in pairs if abs(index[m] - index[t]) <= 1) / n if n else None
    matrix = confusion_matrix(model, teacher, levels)
    return CriterionAgreement(criterion_id=criterion_id, name=name, n=n, exact=exact, adjacent=adjacent,
                              kappa=quadratic_weighted_kappa(model, teacher, levels), levels=tuple(levels),
                              matrix=tuple(tuple(row) for row in matrix))


def agreement_report(astore: AssessmentStore, rubric: Rubric) -> AgreementReport:
    """Model versus teacher for every submission the teacher scored. The model's side is its
    grade under the current rubric when there is one, else its newest grade."""
    current = rubric_hash(rubric)
    grades = astore.latest_grades(rubric_id=rubric.id)
    for submission_id in list(grades):
        exact_version = astore.find_grade(submission_id=submission_id, rubric_hash=current)
        if exact_version is not None:
            grades[submission_id] = exact_version
    views = astore.teacher_views(rubric_id=rubric.id)
    skipped = 0
    result = []
    for criterion in rubric.criteria:
        levels = level_scores(criterion)
        pairs = []
        for (submission_id, criterion_id), view in sorted(views.items()):
            if criterion_id != criterion.id or view.score is None:
                continue
            grade = grades.get(submission_id)
            model = grade.criterion(criterion.id) if grade else None
            if model is None or model.score not in levels or view.score not in levels:
                skipped += 1
                continue
            pairs.append((model.score, view.score))
        result.append(criterion_agreement(criterion.id, criterion.name, pairs, levels))
    return AgreementReport(rubric_id=rubric.id, criteria=result, skipped=skipped)


def format_report(report: AgreementReport) -> str:
    """A plain-text table for the command line and logs."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.0f}%"

    lines = [f"Agreement between the model and the teacher, rubric {report.rubric_id}",
             f"{'criterion':<28} {'n':>3} {'exact':>6} {'adjacent':>9} {'QWK':>6}"]
    for c in report.criteria:
        kappa = "-" if c.kappa is None else f"{c.kappa:.2f}"
        lines.append(f"{c.name[:28]:<28} {c.n:>3} {pct(c.exact):>6} {pct(c.adjacent):>9} {kappa:>6}")
    if report.skipped:
        lines.append(f"({report.skipped} teacher score(s) left out: no model grade, or not a level of the rubric now)")
    return "\n".join(lines)
