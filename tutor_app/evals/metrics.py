"""The numbers of an evaluation run, each a plain function of the run's outcomes.

- misconception accuracy: share of classification cases whose diagnosis is the teacher's
  label; a failed call (the app fell back) counts as wrong. The confusion matrix has the
  teacher's label as rows and the model's as columns.
- rubric agreement with the teachers' scores (``assessment.agreement``): quadratic weighted
  kappa per criterion, and as the headline the mean of the criteria's kappas (the usual way to
  summarise trait scoring; a kappa is undefined for a criterion without variation and left
  out); exact and adjacent agreement pooled over all (case, criterion) pairs. Cases the grader
  failed on have no pairs and are counted as ``failed``.
- answer-leak rate: share of adversarial replies the leak guard's detector flags, before the
  guard (replies that failed are left out and counted).
- reply similarity: mean chrF (``similarity.py``) of the tutor's replies against the replies a
  teacher approved or wrote for the same moment (failed replies are left out and counted); the
  measure of what a fine-tune on curated replies is for.
- JSON validity: share of constrained calls that returned a valid object.
- latency: seconds per model call (mean as the headline; median and 95th percentile by kind).

``scalar_metrics`` gives the headline numbers the comparison bootstraps.
"""

from __future__ import annotations

import statistics
from typing import Iterable, Sequence

from ..assessment.agreement import criterion_agreement
from .recording import CallRecord
from .runner import NO_ANSWER, ClassificationOutcome, EvalRun, GradingOutcome, LeakOutcome, TutoringOutcome

# headline metric -> whether a higher value is better
HEADLINE = {
    "misconception_accuracy": True,
    "rubric_qwk": True,
    "rubric_exact": True,
    "rubric_adjacent": True,
    "answer_leak_rate": False,
    "reply_similarity": True,
    "json_validity": True,
    "latency_ms": False,
}
LABELS = {
    "misconception_accuracy": "misconception accuracy",
    "rubric_qwk": "rubric QWK (mean of criteria)",
    "rubric_exact": "rubric exact agreement",
    "rubric_adjacent": "rubric adjacent agreement",
    "answer_leak_rate": "answer-leak rate (before the guard)",
    "reply_similarity": "similarity to the teachers' replies (chrF)",
    "json_validity": "JSON validity",
    "latency_ms": "latency per call (ms)",
}


def share(hits: int, n: int) -> float | None:
    return hits / n if n else None


def misconception_accuracy(outcomes: Sequence[ClassificationOutcome]) -> float | None:
    return share(sum(1 for o in outcomes if o.predicted == o.expected), len(outcomes))


def misconception_confusion(outcomes: Sequence[ClassificationOutcome]) -> dict:
    """Rows: the teacher's label; columns: the model's (``NO_ANSWER`` last when it occurs)."""
    labels = sorted({o.expected for o in outcomes} | {o.predicted for o in outcomes if o.predicted != NO_ANSWER})
    if any(o.predicted == NO_ANSWER for o in outcomes):
        labels.append(NO_ANSWER)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for o in outcomes:
        matrix[index[o.expected]][index[o.predicted]] += 1
    return {"labels": labels, "matrix": matrix}


def rubric_agreement(outcomes: Sequence[GradingOutcome]) -> dict:
    pairs: dict[str, list[tuple[int, int]]] = {}
    levels: dict[str, list[int]] = {}
    for o in outcomes:
        for criterion, teacher in o.teacher.items():
            key = f"{o.rubric}/{criterion}"
            levels.setdefault(key, o.levels[criterion])
            pairs.setdefault(key, [])
            if criterion in o.model:
                pairs[key].append((o.model[criterion], teacher))
    by_criterion = {}
    exact = adjacent = 0
    for key in sorted(pairs):
        agreement = criterion_agreement(key, key, pairs[key], levels[key])
        by_criterion[key] = {"n": agreement.n, "exact": agreement.exact, "adjacent": agreement.adjacent,
                             "kappa": agreement.kappa}
        position = {score: i for i, score in enumerate(levels[key])}
        exact += sum(1 for m, t in pairs[key] if m == t)
        adjacent += sum(1 for m, t in pairs[key] if abs(position[m] - position[t]) <= 1)
    kappas = [c["kappa"] for c in by_criterion.values() if c["kappa"] is not None]
    n_pairs = sum(len(p) for p in pairs.values())
    return {
        "qwk": statistics.fmean(kappas) if kappas else None,
        "exact": share(exact, n_pairs),
        "adjacent": share(adjacent, n_pairs),
        "pairs": n_pairs,
        "failed": sum(1 for o in outcomes if o.error),
        "by_criterion": by_criterion,
    }


def answer_leak_rate(outcomes: Sequence[LeakOutcome]) -> float | None:
    answered = [o for o in outcomes if o.error is None]
    return share(sum(1 for o in answered if o.leaked), len(answered))


def reply_similarity(outcomes: Sequence[TutoringOutcome]) -> float | None:
    scores = [o.similarity for o in outcomes if o.similarity is not None]
    return statistics.fmean(scores) if scores else None


def json_validity(calls: Iterable[CallRecord]) -> float | None:
    decisions = [c for c in calls if c.kind == "json"]
    return share(sum(1 for c in decisions if c.ok), len(decisions))


def latency_summary(seconds: Sequence[float]) -> dict:
    if not seconds:
        return {"n": 0, "mean": None, "median": None, "p95": None, "max": None}
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(ordered), "mean": 1000 * statistics.fmean(ordered), "median": 1000 * statistics.median(ordered),
            "p95": 1000 * p95, "max": 1000 * ordered[-1]}


def scalar_metrics(run: EvalRun) -> dict[str, float | None]:
    """The headline numbers (``HEADLINE``'s keys)."""
    rubric = rubric_agreement(run.grading)
    latency = latency_summary([c.seconds for c in run.calls])
    return {
        "misconception_accuracy": misconception_accuracy(run.classification),
        "rubric_qwk": rubric["qwk"],
        "rubric_exact": rubric["exact"],
        "rubric_adjacent": rubric["adjacent"],
        "answer_leak_rate": answer_leak_rate(run.leaks),
        "reply_similarity": reply_similarity(run.tutoring),
        "json_validity": json_validity(run.calls),
        "latency_ms": latency["mean"],
    }


def all_metrics(run: EvalRun) -> dict:
    """report.json's metric keys: one per metric, each with its value and what it was computed on."""
    rubric = rubric_agreement(run.grading)
    headline = scalar_metrics(run)
    answered = [o for o in run.leaks if o.error is None]
    return {
        "misconception_accuracy": {"value": headline["misconception_accuracy"], "n": len(run.classification),
                                   "no_answer": sum(1 for o in run.classification if o.predicted == NO_ANSWER)},
        "misconception_confusion": misconception_confusion(run.classification),
        "rubric_qwk": {"value": rubric["qwk"], "criteria": len(rubric["by_criterion"])},
        "rubric_exact": {"value": rubric["exact"], "pairs": rubric["pairs"], "failed_cases": rubric["failed"]},
        "rubric_adjacent": {"value": rubric["adjacent"], "pairs": rubric["pairs"]},
        "rubric_by_criterion": rubric["by_criterion"],
        "answer_leak_rate": {"value": headline["answer_leak_rate"], "n": len(answered),
                             "leaked": sum(1 for o in answered if o.leaked), "failed": len(run.leaks) - len(answered)},
        "reply_similarity": {"value": headline["reply_similarity"],
                             "n": sum(1 for o in run.tutoring if o.similarity is not None),
                             "failed": sum(1 for o in run.tutoring if o.similarity is None)},
        "json_validity": {"value": headline["json_validity"], "calls": sum(1 for c in run.calls if c.kind == "json"),
                          "invalid": sum(1 for c in run.calls if c.kind == "json" and not c.ok)},
        "latency_ms": {"value": headline["latency_ms"],
                       "json": latency_summary([c.seconds for c in run.calls if c.kind == "json"]),
                       "chat": latency_summary([c.seconds for c in run.calls if c.kind == "chat"])},
    }
