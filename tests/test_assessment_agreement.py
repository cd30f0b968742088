"""Quadratic weighted kappa and exact/adjacent agreement, against values worked out by hand."""

from __future__ import annotations

import pytest

from tutor_app.assessment.agreement import (AgreementError, agreement_report, confusion_matrix, criterion_agreement,
                                            format_report, quadratic_weighted_kappa)
from tutor_app.assessment.grader import Grader
from tutor_app.assessment.review import override_score
from tutor_app.assessment.store import AssessmentStore
from tutor_app.assessment.batch import BatchGrader
from tutor_app.prompting import PromptLibrary
from tutor_app.storage.database import Database

from assessment_support import CALLS_PER_SUBMISSION, CLASS, enqueue_grading, small_rubric

# Worked by hand. Levels 0,1,2; model a, teacher b; pairs (0,0) (1,2) (2,2) (2,1) (1,1):
#   observed O = [[1,0,0],[0,1,1],[0,1,1]], weights w_ij = (i-j)^2 / 4
#   sum(w*O) = 0.25 + 0.25 = 0.5
#   rows = cols = [1,2,2], n = 5, expected E_ij = rows_i * cols_j / 5
#   sum(w*E) = 0.25*(0.4+0.4) + 1*(0.4+0.4) + 0.25*(0.8+0.8) = 1.4
#   kappa = 1 - 0.5/1.4 = 9/14
MODEL = [0, 1, 2, 2, 1]
TEACHER = [0, 2, 2, 1, 1]


def test_kappa_matches_the_hand_computed_value():
    assert confusion_matrix(MODEL, TEACHER, [0, 1, 2]) == [[1, 0, 0], [0, 1, 1], [0, 1, 1]]
    assert quadratic_weighted_kappa(MODEL, TEACHER, [0, 1, 2]) == pytest.approx(9 / 14)


def test_kappa_depends_on_level_order_not_on_the_score_values():
    doubled = [2 * s for s in MODEL], [2 * s for s in TEACHER]
    assert quadratic_weighted_kappa(*doubled, [0, 2, 4]) == pytest.approx(9 / 14)


def test_kappa_extremes():
    # Complete reversal on a 4-level scale: O has (0,3) and (3,0), w = 1 each, sum(w*O) = 2;
    # E = 0.5 in the four corners, sum(w*E) = 1; kappa = 1 - 2/1 = -1.
    assert quadratic_weighted_kappa([0, 3], [3, 0], [0, 1, 2, 3]) == pytest.approx(-1.0)
    assert quadratic_weighted_kappa([0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]) == pytest.approx(1.0)
    # One level apart everywhere, 3 levels: pairs (0,1) (1,2) (2,1) (1,0); sum(w*O) = 4 * 0.25 = 1;
    # rows = cols = [1,2,1], n = 4: the four one-apart cells have r*c = 2 each (0.25 * 8 / 4 = 0.5),
    # the two two-apart cells r*c = 1 each (1 * 2 / 4 = 0.5): sum(w*E) = 1, kappa = 1 - 1/1 = 0.
    assert quadratic_weighted_kappa([0, 1, 2, 1], [1, 2, 1, 0], [0, 1, 2]) == pytest.approx(0.0)


def test_kappa_is_undefined_without_variation():
    assert quadratic_weighted_kappa([2, 2, 2], [2, 2, 2], [0, 1, 2]) is None
    assert quadratic_weighted_kappa([], [], [0, 1, 2]) is None


def test_scores_that_are_not_levels_are_refused():
    with pytest.raises(AgreementError, match="score 5 is not one of the levels"):
        quadratic_weighted_kappa([0, 5], [0, 1], [0, 1, 2])
    with pytest.raises(AgreementError, match="scored 2 and 1 items"):
        quadratic_weighted_kappa([0, 1], [0], [0, 1, 2])


def test_exact_and_adjacent_agreement_count_levels_not_points():
    result = criterion_agreement("c", "C", list(zip(MODEL, TEACHER)), [0, 1, 2])
    assert (result.n, result.exact, result.adjacent) == (5, pytest.approx(3 / 5), 1.0)
    # On a 0/2/4 scale a 2-point gap is one level: adjacent.
    spread = criterion_agreement("c", "C", [(0, 2), (0, 4), (4, 4)], [0, 2, 4])
    assert (spread.exact, spread.adjacent) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    empty = criterion_agreement("c", "C", [], [0, 1])
    assert (empty.n, empty.exact, empty.adjacent, empty.kappa) == (0, None, None, None)


def test_report_pairs_the_models_grade_with_the_teachers_override(scripted_model):
    db = Database("sqlite://")
    astore = AssessmentStore(db)
    rubric = small_rubric()
    # Model: accuracy 2, 1, 0 for Ana, Ben, Cy; clarity always 4.
    model_scores = iter([2, 1, 0])
    enqueue_grading(scripted_model, 3 * CALLS_PER_SUBMISSION,
                    lambda name, _t, allowed: next(model_scores) if name == "Accuracy" else 4)
    BatchGrader(astore, Grader(scripted_model, PromptLibrary())).run(rubric, CLASS, source="t")
    ids = {s.student: s.id for s in astore.submissions(rubric_id=rubric.id)}
    for student, score in (("Ana", 2), ("Ben", 2), ("Cy", 0)):
        override_score(astore, rubric, submission_id=ids[student], criterion_id="accuracy", score=score, teacher="t")
    override_score(astore, rubric, submission_id=ids["Ana"], criterion_id="clarity", score=2, teacher="t")

    report = agreement_report(astore, rubric)
    accuracy, clarity = report.criteria
    # Pairs (2,2) (1,2) (0,0): O = [[1,0,0],[0,0,1],[0,0,1]]; sum(w*O) = w_12 = 0.25;
    # rows [1,1,1], cols [1,0,2], n = 3, so E_ij = cols_j / 3 and sum(w*E) = sum_j cols_j * (sum_i w_ij) / 3
    # = (1 * 1.25 + 0 * 0.5 + 2 * 1.25) / 3 = 1.25; kappa = 1 - 0.25/1.25 = 0.8
    assert (accuracy.n, accuracy.exact, accuracy.adjacent) == (3, pytest.approx(2 / 3), 1.0)
    assert accuracy.kappa == pytest.approx(0.8)
    assert (clarity.n, clarity.exact, clarity.adjacent) == (1, 0.0, 1.0)
    assert clarity.kappa == 0.0  # one pair: what chance predicts is exactly what happened
    text = format_report(report)
    assert "Accuracy" in text and "0.80" in text and "67%" in text
    db.close()
