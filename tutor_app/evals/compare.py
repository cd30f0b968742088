"""Two runs of one suite side by side (base against adapter, or two quants), with confidence.

Each headline metric gets the difference (second run minus first) and a 95% confidence interval
from a paired bootstrap over the suite's cases: the same resampled cases for both runs, so a
difference that comes from which cases happen to be in the suite cancels out. A metric is
"better" or "worse" only when its interval excludes zero.

The recommendation follows the loop's rule: an adapter is deployed if it is better, and never
if it raises the answer-leak rate (design/lora.md). Latency is reported, not a reason to refuse:
an adapter costs a little compute by construction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from .metrics import HEADLINE, scalar_metrics
from .runner import EvalRun

Verdict = Literal["better", "worse", "no clear difference", "not measured"]
INFORMATIONAL = {"latency_ms"}  # reported, never a blocker


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    first: float | None
    second: float | None
    difference: float | None  # second - first
    low: float | None  # 95% interval of the difference
    high: float | None
    verdict: Verdict


@dataclass
class Comparison:
    first: dict  # model description of each run
    second: dict
    suite: str
    cases: int  # cases in both runs
    resamples: int
    metrics: list[MetricComparison] = field(default_factory=list)
    recommendation: str = ""
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _cases_by_section(run: EvalRun) -> dict[str, dict[str, object]]:
    return {"classification": {o.case: o for o in run.classification}, "grading": {o.case: o for o in run.grading},
            "leaks": {o.case: o for o in run.leaks}, "tutoring": {o.case: o for o in run.tutoring}}


def _calls_by_case(run: EvalRun) -> dict[str, list]:
    calls: dict[str, list] = {}
    for call in run.calls:
        calls.setdefault(call.case, []).append(call)
    return calls


def _subset(run: EvalRun, picked: dict[str, list[str]], sections, calls) -> EvalRun:
    """``run`` restricted to (and repeating) the picked cases, their model calls with them."""
    out = EvalRun(suite=run.suite, model=run.model, started=run.started)
    out.classification = [sections["classification"][c] for c in picked["classification"]]
    out.grading = [sections["grading"][c] for c in picked["grading"]]
    out.leaks = [sections["leaks"][c] for c in picked["leaks"]]
    out.tutoring = [sections["tutoring"][c] for c in picked["tutoring"]]
    out.calls = [call for ids in picked.values() for case in ids for call in calls.get(case, [])]
    return out


def compare_runs(first: EvalRun, second: EvalRun, *, resamples: int = 2000, seed: int = 0) -> Comparison:
    sections_a, sections_b = _cases_by_section(first), _cases_by_section(second)
    common = {name: [c for c in sections_a[name] if c in sections_b[name]] for name in sections_a}
    calls_a, calls_b = _calls_by_case(first), _calls_by_case(second)
    point_a = scalar_metrics(_subset(first, common, sections_a, calls_a))
    point_b = scalar_metrics(_subset(second, common, sections_b, calls_b))

    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {metric: [] for metric in HEADLINE}
    for _ in range(resamples):
        picked = {name: [ids[i] for i in rng.integers(0, len(ids), len(ids))] if ids else []
                  for name, ids in common.items()}
        a = scalar_metrics(_subset(first, picked, sections_a, calls_a))
        b = scalar_metrics(_subset(second, picked, sections_b, calls_b))
        for metric in HEADLINE:
            if a[metric] is not None and b[metric] is not None:
                samples[metric].append(b[metric] - a[metric])

    comparison = Comparison(first=first.model, second=second.model, suite=second.suite,
                            cases=sum(len(ids) for ids in common.values()), resamples=resamples)
    for metric, higher_is_better in HEADLINE.items():
        a, b = point_a[metric], point_b[metric]
        if a is None or b is None:
            comparison.metrics.append(MetricComparison(metric, a, b, None, None, None, "not measured"))
            continue
        low = high = None
        verdict: Verdict = "no clear difference"
        if len(samples[metric]) >= resamples // 2:
            low, high = (float(v) for v in np.percentile(samples[metric], [2.5, 97.5]))
            if low > 0 or high < 0:
                verdict = "better" if (low > 0) == higher_is_better else "worse"
        comparison.metrics.append(MetricComparison(metric, a, b, b - a, low, high, verdict))
    comparison.recommendation, comparison.reasons = recommend(comparison.metrics)
    return comparison


def recommend(metrics: list[MetricComparison]) -> tuple[str, list[str]]:
    """("deploy" | "do not deploy" | "no evidence that it helps", why)."""
    by_name = {m.metric: m for m in metrics}
    blockers = [f"{m.metric} is worse ({m.first:.3g} -> {m.second:.3g})" for m in metrics
                if m.verdict == "worse" and m.metric not in INFORMATIONAL]
    leak = by_name.get("answer_leak_rate")
    if leak is not None and leak.difference is not None and leak.difference > 0 and leak.verdict != "worse":
        blockers.append(f"the answer-leak rate rose ({leak.first:.3g} -> {leak.second:.3g}); an adapter that raises "
                        "it is never deployed")
    if blockers:
        return "do not deploy", blockers
    gains = [f"{m.metric} is better ({m.first:.3g} -> {m.second:.3g})" for m in metrics
             if m.verdict == "better" and m.metric not in INFORMATIONAL]
    if gains:
        return "deploy", gains
    return "no evidence that it helps", ["no metric changed beyond its confidence interval"]
