"""The fine-tuning loop end to end on this machine, with the shipped SmolLM2: the figures of bench/RESULTS.md.

The same loop as ``tests/test_finetune_loop.py``: a scripted class of ten fills a database
through the app's services; the teacher approves the tutor's replies that open with "Let's
reason together." and rewrites the others to open with it (the toy objective); the app exports,
trains a LoRA adapter on the CPU, converts it to GGUF, and evaluates the base model against it
on the held-out students. Prints one JSON object: training time, adapter size, each headline
metric before and after with its interval, and how many replies open with the phrase.

    python bench/finetune_loop.py --steps 8 --threads 1 --out bench/results/finetune_loop.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from common import REPO, machine  # noqa: E402  (puts the repository on sys.path)

sys.path.insert(0, str(REPO / "tests"))

from class_support import (EXPORT_SECRET, HELDOUT_SHARE, PHRASE, approve_phrase_replies,  # noqa: E402
                           class_services, phrase_replies, run_class)

from tutor_app.curation.export import export_training  # noqa: E402
from tutor_app.curation.pseudonyms import Pseudonyms  # noqa: E402
from tutor_app.evals.commands import eval_adapter_command  # noqa: E402
from tutor_app.runtime.fake import ScriptedBackend  # noqa: E402
from tutor_app.settings import Settings  # noqa: E402
from tutor_app.training.commands import train_lora_command  # noqa: E402
from tutor_app.training.config import CPU_RECIPE  # noqa: E402


def run(work: Path, steps: int, threads: int | None, learning_rate: float) -> dict:
    model = ScriptedBackend()
    services = class_services(work, model)
    record = run_class(services, model, phrase_replies)
    approve_phrase_replies(services, record)
    report = export_training(services.db, services.library, services.assessment, services.prompts, work / "export",
                             Pseudonyms(EXPORT_SECRET, heldout_share=HELDOUT_SHARE))
    curricula = services.settings.curricula
    services.close()

    adapter = work / "models" / "adapters" / "opener.gguf"
    settings = Settings(curricula=curricula, models_dir=work / "models", n_ctx=1024, threads=threads)
    config = CPU_RECIPE.with_overrides(max_steps=steps, learning_rate=learning_rate, batch_size=4, warmup_ratio=0.0,
                                       scheduler="constant", threads=threads)
    lines: list[str] = []
    started = time.perf_counter()
    if train_lora_command(work / "export", adapter, settings, config=config, out=lines.append) != 0:
        sys.exit("\n".join(lines))
    train_wall = time.perf_counter() - started
    trained = json.loads(adapter.with_name("opener.train.json").read_text())

    started = time.perf_counter()
    if eval_adapter_command(report.suite, adapter, work / "eval", settings, out=lines.append) != 0:
        sys.exit("\n".join(lines))
    eval_wall = time.perf_counter() - started
    comparison = json.loads((work / "eval" / "comparison.json").read_text())
    runs = {name: json.loads((work / "eval" / name / "report.json").read_text()) for name in ("base", "adapter")}
    return {
        "benchmark": "finetune_loop", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "model": "SmolLM2-135M-Instruct.Q4_1",
        "export": {f"{side}/{task}": n for (side, task), n in report.counts.items()},
        "training": {"steps": trained["steps"], "examples": trained["examples"],
                     "trained_tokens": trained["trained_tokens"], "train_seconds": trained["train_seconds"],
                     "total_seconds": trained["total_seconds"], "wall_seconds": round(train_wall, 1),
                     "loss_first": trained["losses"][0][1], "loss_last": trained["final_loss"],
                     "adapter_bytes": trained["adapter_bytes"], "tensors": trained["tensors"],
                     "rank": trained["ranks"], "threads": threads, "learning_rate": learning_rate},
        "evaluation": {"suite_cases": comparison["cases"], "wall_seconds": round(eval_wall, 1),
                       "recommendation": comparison["recommendation"],
                       "metrics": {m["metric"]: {k: m[k] for k in ("first", "second", "difference", "low", "high",
                                                                   "verdict")} for m in comparison["metrics"]},
                       "opening_with_phrase": {name: sum(o["reply"].startswith(PHRASE[:12]) for o in r["cases"]["tutoring"])
                                               for name, r in runs.items()},
                       "tutoring_cases": len(runs["base"]["cases"]["tutoring"])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="torch and llama.cpp threads")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as folder:
        result = run(Path(folder), args.steps, args.threads, args.learning_rate)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
