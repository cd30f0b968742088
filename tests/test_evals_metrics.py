"""The evaluation's numbers against values worked out by hand, and the paired bootstrap."""

from __future__ import annotations

import pytest

from tutor_app.evals.compare import compare_runs, recommend
from tutor_app.evals.metrics import (all_metrics, answer_leak_rate, json_validity, latency_summary,
                                     misconception_accuracy, misconception_confusion, rubric_agreement, scalar_metrics)
from tutor_app.evals.recording import CallRecord
from tutor_app.evals.runner import NO_ANSWER, ClassificationOutcome, EvalRun, GradingOutcome, LeakOutcome


def classified(*pairs: tuple[str, str]) -> list[ClassificationOutcome]:
    return [ClassificationOutcome(f"c{i}", "u", expected, predicted) for i, (expected, predicted) in enumerate(pairs)]


def test_accuracy_counts_a_missing_answer_as_wrong_and_the_matrix_has_it_last():
    outcomes = classified(("adds-across", "adds-across"), ("adds-across", "none"), ("none", "none"),
                          ("one-part-only", NO_ANSWER))
    assert misconception_accuracy(outcomes) == 2 / 4
    assert misconception_confusion(outcomes) == {
        "labels": ["adds-across", "none", "one-part-only", NO_ANSWER],
        # rows: teacher; columns: model
        "matrix": [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]}
    assert misconception_accuracy([]) is None


def test_rubric_agreement_by_hand():
    """Criterion A, levels 0/1/2, (model, teacher) = (0,0) (1,2) (2,2) (2,1).
    Observed disagreement: weights (i-j)^2/(k-1)^2 = 1/4 for the two one-level misses -> 0.5.
    Marginals: model (1,1,2), teacher (1,1,2), n = 4; expected disagreement
    sum w_ij r_i c_j / n = (1/4*1 + 1*2 + 1/4*1 + 1/4*2 + 1*2 + 1/4*2) / 4 = 5.5 / 4 = 1.375.
    QWK = 1 - 0.5 / 1.375 = 7/11. Exact 2/4, adjacent 4/4.
    Criterion B, levels 0/2/4 (positions count, not values): (0,0) (4,4) -> QWK 1, exact 2/2.
    Headline QWK: mean of the two = 9/11; exact pooled (2 + 2) / 6; adjacent (4 + 2) / 6."""
    levels = {"a": [0, 1, 2], "b": [0, 2, 4]}
    outcomes = [
        GradingOutcome("g1", "r", {"a": 0, "b": 0}, {"a": 0, "b": 0}, levels),
        GradingOutcome("g2", "r", {"a": 2, "b": 4}, {"a": 1, "b": 4}, levels),
        GradingOutcome("g3", "r", {"a": 2}, {"a": 2}, {"a": [0, 1, 2]}),
        GradingOutcome("g4", "r", {"a": 1}, {"a": 2}, {"a": [0, 1, 2]}),
        GradingOutcome("g5", "r", {"a": 1, "b": 2}, {}, levels, error="the model could not grade"),
    ]
    result = rubric_agreement(outcomes)
    assert result["by_criterion"]["r/a"] == {"n": 4, "exact": 0.5, "adjacent": 1.0, "kappa": pytest.approx(7 / 11)}
    assert result["by_criterion"]["r/b"] == {"n": 2, "exact": 1.0, "adjacent": 1.0, "kappa": pytest.approx(1.0)}
    assert result["qwk"] == pytest.approx(9 / 11)
    assert result["exact"] == pytest.approx(4 / 6) and result["adjacent"] == pytest.approx(1.0)
    assert result["pairs"] == 6 and result["failed"] == 1


def test_a_criterion_without_variation_has_no_kappa_and_does_not_drag_the_mean():
    levels = {"a": [0, 1], "b": [0, 1]}
    outcomes = [GradingOutcome("g1", "r", {"a": 1, "b": 0}, {"a": 1, "b": 1}, levels),
                GradingOutcome("g2", "r", {"a": 1, "b": 1}, {"a": 1, "b": 0}, levels)]
    result = rubric_agreement(outcomes)
    assert result["by_criterion"]["r/a"]["kappa"] is None  # everyone at one level: undefined, not 0 or 1
    assert result["by_criterion"]["r/b"]["kappa"] == pytest.approx(-1.0)
    assert result["qwk"] == pytest.approx(-1.0)


def test_leak_rate_json_validity_and_latency():
    leaks = [LeakOutcome("a1", "u", "x = 8", True, "equation", "x = 8"), LeakOutcome("a2", "u", "Why?", False),
             LeakOutcome("a3", "u", "8", True, "number", "8"), LeakOutcome("a4", "u", "Hm", False),
             LeakOutcome("a5", "u", "", False, error="llama.cpp failed")]
    assert answer_leak_rate(leaks) == 2 / 4  # the failed reply is left out
    calls = [CallRecord("c", "json", 0.1, True), CallRecord("c", "json", 0.2, True), CallRecord("c", "json", 0.3, False),
             CallRecord("c", "json", 0.4, True), CallRecord("a", "chat", 1.0, True)]
    assert json_validity(calls) == 3 / 4 and json_validity([]) is None
    summary = latency_summary([0.1, 0.2, 0.3, 0.4])
    assert summary == {"n": 4, "mean": pytest.approx(250), "median": pytest.approx(250), "p95": pytest.approx(400),
                       "max": pytest.approx(400)}
    run = EvalRun("s", {"name": "m"}, "now", leaks=leaks, calls=calls)
    metrics = all_metrics(run)
    assert metrics["answer_leak_rate"] == {"value": 0.5, "n": 4, "leaked": 2, "failed": 1}
    assert metrics["json_validity"] == {"value": 0.75, "calls": 4, "invalid": 1}
    assert metrics["latency_ms"]["value"] == pytest.approx(400) and metrics["latency_ms"]["chat"]["n"] == 1
    assert scalar_metrics(run)["misconception_accuracy"] is None


def runs_with_accuracy(first: list[bool], second: list[bool], leaks_first=(), leaks_second=()):
    def run(correct, leaked):
        outcomes = [ClassificationOutcome(f"c{i}", "u", "x", "x" if ok else "none") for i, ok in enumerate(correct)]
        leak_outcomes = [LeakOutcome(f"a{i}", "u", "r", bad) for i, bad in enumerate(leaked)]
        calls = [CallRecord(o.case, "json", 0.1, True) for o in outcomes]
        return EvalRun("s", {"name": "m"}, "now", classification=outcomes, leaks=leak_outcomes, calls=calls)

    return run(first, leaks_first), run(second, leaks_second)


def test_the_bootstrap_is_paired_over_cases():
    # every case goes from wrong to right: whatever cases are drawn, the difference is exactly +1
    first, second = runs_with_accuracy([False] * 12, [True] * 12)
    comparison = compare_runs(first, second, resamples=300)
    accuracy = next(m for m in comparison.metrics if m.metric == "misconception_accuracy")
    assert (accuracy.first, accuracy.second, accuracy.difference) == (0.0, 1.0, 1.0)
    assert (accuracy.low, accuracy.high, accuracy.verdict) == (1.0, 1.0, "better")
    assert comparison.recommendation == "deploy"
    assert next(m for m in comparison.metrics if m.metric == "rubric_qwk").verdict == "not measured"


def test_a_small_mixed_change_is_not_called_better():
    # 2 of 12 cases improve, 1 gets worse: +1/12, but the interval includes 0
    before = [False, False, True] + [True] * 9
    after = [True, True, False] + [True] * 9
    comparison = compare_runs(*runs_with_accuracy(before, after), resamples=1000)
    accuracy = next(m for m in comparison.metrics if m.metric == "misconception_accuracy")
    assert accuracy.difference == pytest.approx(1 / 12)
    assert accuracy.low < 0 < accuracy.high and accuracy.verdict == "no clear difference"
    assert comparison.recommendation == "no evidence that it helps"


def test_an_adapter_that_raises_the_leak_rate_is_never_recommended():
    first, second = runs_with_accuracy([False] * 10, [True] * 10, leaks_first=[False] * 10,
                                       leaks_second=[True] + [False] * 9)
    comparison = compare_runs(first, second, resamples=300)
    leak = next(m for m in comparison.metrics if m.metric == "answer_leak_rate")
    assert leak.difference == pytest.approx(0.1) and leak.verdict == "no clear difference"
    assert comparison.recommendation == "do not deploy"
    assert comparison.reasons == ["the answer-leak rate rose (0 -> 0.1); an adapter that raises it is never deployed"]


def test_latency_alone_never_blocks():
    from tutor_app.evals.compare import MetricComparison

    slower = MetricComparison("latency_ms", 100.0, 130.0, 30.0, 20.0, 40.0, "worse")
    better = MetricComparison("misconception_accuracy", 0.5, 0.9, 0.4, 0.2, 0.6, "better")
    assert recommend([slower, better]) == ("deploy", ["misconception_accuracy is better (0.5 -> 0.9)"])
