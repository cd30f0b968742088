"""How much data a BKT fit needs: simulated classes of several sizes, fitted and checked.

For each class size (students x steps per student) and each of four parameter sets, answers are
simulated from the known parameters with several seeds and fitted by ``engine.bkt_fit``. The
JSON records, per size: how many fits were adopted ("fitted") or refused and why, the error of
the adopted ones against the truth, how often the 95% intervals held the truth (all four at once,
and each parameter's own; every fit that got intervals), and the time per fit. This is where the thresholds in ``bkt_fit``'s notes come
from (bench/RESULTS.md).

    python bench/bkt_fit.py [--seeds 20] [--out bench/results/bkt_fit.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np
from common import emit, table

from tutor_app.curriculum.schema import BKTParams
from tutor_app.engine import bkt_fit
from tutor_app.engine.bkt_fit import Estimate, fit_skill_params, simulate_answers

SIZES = [(30, 10), (50, 10), (100, 10), (150, 10), (200, 10), (400, 10), (1000, 12)]
TRUTHS = [
    BKTParams(p_init=0.3, p_transit=0.15, p_guess=0.2, p_slip=0.1),
    BKTParams(p_init=0.5, p_transit=0.1, p_guess=0.25, p_slip=0.05),
    BKTParams(p_init=0.1, p_transit=0.3, p_guess=0.15, p_slip=0.15),
    BKTParams(p_init=0.2, p_transit=0.05, p_guess=0.3, p_slip=0.2),
]


def one_size(students: int, steps: int, seeds: int) -> dict:
    outcomes, errors, covered, each_covered, with_intervals, seconds = Counter(), [], 0, np.zeros(4), 0, []
    for truth in TRUTHS:
        true = np.array([getattr(truth, name) for name in Estimate._fields])
        for seed in range(seeds):
            rows = simulate_answers(truth, students=students, steps=steps, seed=seed)
            start = time.perf_counter()
            result = fit_skill_params(rows, seed=seed)
            seconds.append(time.perf_counter() - start)
            reason = result.reason or ""
            outcomes[result.status if result.status != "rejected" else "rejected: " + reason.split(":")[0]] += 1
            if result.margins is not None:
                with_intervals += 1
                margins = np.array([np.inf if m is None else m for m in result.margins])
                holds = np.abs(np.array(result.estimate) - true) <= margins
                covered += bool(np.all(holds))
                each_covered += holds
            if result.status == "fitted":
                errors.append(float(np.abs(np.array(result.estimate) - true).max()))
    return {
        "students": students, "steps": steps, "fits": len(seconds), "outcomes": dict(outcomes),
        "fitted_share": outcomes["fitted"] / len(seconds),
        "fitted_max_error": {"median": statistics.median(errors), "p90": float(np.percentile(errors, 90)),
                             "max": max(errors)} if errors else None,
        "intervals_hold_truth_share": covered / with_intervals if with_intervals else None,  # all four at once
        "interval_holds_truth_share_per_parameter": dict(zip(Estimate._fields, (each_covered / with_intervals).round(3)
                                                             .tolist())) if with_intervals else None,
        "seconds_per_fit_median": statistics.median(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="simulated classes per parameter set and size")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load_at_start = list(os.getloadavg())
    rows = [one_size(students, steps, args.seeds) for students, steps in SIZES]
    result = {
        "benchmark": "bkt_fit", "seeds_per_truth": args.seeds, "truths": [t.model_dump() for t in TRUTHS],
        "thresholds": {"min_students": bkt_fit.MIN_STUDENTS, "min_observations": bkt_fit.MIN_OBSERVATIONS,
                       "max_margin": bkt_fit.MAX_MARGIN},
        "sizes": rows,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__, "load_average": load_at_start},
    }
    text = table(["students", "steps", "fitted", "max error p90", "all 4 intervals hold", "s/fit"],
                 [[r["students"], r["steps"], f"{r['fitted_share']:.2f}",
                   f"{r['fitted_max_error']['p90']:.3f}" if r["fitted_max_error"] else "-",
                   f"{r['intervals_hold_truth_share']:.2f}" if r["intervals_hold_truth_share"] is not None else "-",
                   f"{r['seconds_per_fit_median']:.3f}"] for r in rows])
    emit(result, text, args.out)


if __name__ == "__main__":
    main()
