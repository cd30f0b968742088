"""The ceiling for batching on this machine: bare ``llama_decode`` of k sequences at once.

The app's engine adds sampling, text and scheduling around ``llama_decode``; this measures only
the decode itself, through llama-cpp-python's low-level ``llama_batch`` API (one ``seq_id`` per
sequence, fixed tokens instead of sampled ones, so no sampler work at all), with the same model
file and thread count as the run it sits in. What k sequences decode together against one alone
is the most any batching could give here: where the model is compute-bound (a tiny model on a
few CPU cores) the ceiling is low, where it is bandwidth-bound (a big model, Mixtral, a GPU)
it is high. The context matters too: each sequence attends over its own cells, work that
batching does not share, so the ceiling is lower for a tutor's long prompt than for a short one
(``python bench/bare_batch.py --contexts 32 640``). The model loads with the app's CPU extra-buffer choice (``cpu_features``), so it
runs off AMX's buffers as the app does (REPACK, which the app keeps for Q4_0/Q4_K weights
through tensor overrides, is not applied here; the shipped Q4_1 model has nothing it takes).
"""

from __future__ import annotations

import time
from pathlib import Path

PROMPT_TOKENS = 32


class BareDecode:
    """One loaded model; ``tokens_per_s(k, steps)`` builds a k-sequence context and times it."""

    def __init__(self, path: Path, *, threads: int) -> None:
        from llama_cpp import llama_cpp

        from tutor_app.runtime.cpu_features import apply_extra_buffers

        apply_extra_buffers("auto")  # wraps llama_cpp.llama_cpp's default params: never AMX's buffers
        llama_cpp.llama_backend_init()
        self.lib = llama_cpp
        self.threads = threads
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode(), llama_cpp.llama_model_default_params())
        if not self.model:
            raise SystemExit(f"llama.cpp could not load {path}")

    def tokens_per_s(self, k: int, steps: int, prompt_tokens: int = PROMPT_TOKENS) -> dict:
        """k sequences of ``prompt_tokens`` each, then ``steps`` decode steps of all k, timed."""
        lib = self.lib
        params = lib.llama_context_default_params()
        params.n_ctx = (prompt_tokens + steps + 8) * k
        params.n_batch = max(512, prompt_tokens * k)
        params.n_seq_max = k
        params.n_threads = params.n_threads_batch = self.threads
        # As the app's contexts (loaded_model.py): llama.cpp's default, "auto", turns flash
        # attention on for the CPU, which decodes at 640 tokens of context at half the speed here.
        params.flash_attn_type = lib.LLAMA_FLASH_ATTN_TYPE_DISABLED
        ctx = lib.llama_init_from_model(self.model, params)
        batch = lib.llama_batch_init(params.n_batch, 0, 1)
        try:
            def decode(rows: list[tuple[int, int, int, bool]]) -> None:
                for i, (token, pos, seq, logits) in enumerate(rows):
                    batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, pos, 1
                    batch.seq_id[i][0], batch.logits[i] = seq, logits
                batch.n_tokens = len(rows)
                if lib.llama_decode(ctx, batch) != 0:
                    raise SystemExit("llama_decode failed in the bare benchmark")

            rows = [(100 + (7 * i + s) % 900, i, s, i == prompt_tokens - 1)
                    for s in range(k) for i in range(prompt_tokens)]
            for start in range(0, len(rows), params.n_batch):
                decode(rows[start:start + params.n_batch])
            started, cpu = time.perf_counter(), time.process_time()
            for step in range(steps):
                decode([(200 + (step * 13 + s) % 900, prompt_tokens + step, s, True) for s in range(k)])
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            lib.llama_batch_free(batch)
            lib.llama_free(ctx)
        return {"sequences": k, "context_tokens": prompt_tokens, "steps": steps, "wall_s": round(wall, 3), "tok_s": round(k * steps / wall, 2),
                "tokens_per_cpu_s": round(k * steps / cpu, 2) if cpu else None}

    def close(self) -> None:
        self.lib.llama_model_free(self.model)


def main() -> None:
    """The ceiling at several context lengths, side by side in one run."""
    import argparse

    from common import chosen_model, emit, machine, table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="GGUF file (default: the shipped SmolLM2-135M)")
    parser.add_argument("--moe", action="store_true", help="the 8-expert MoE upcycled from --model (or SmolLM2)")
    parser.add_argument("--contexts", type=int, nargs="+", default=[32, 640], help="tokens in each sequence first")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with chosen_model(args) as (path, label):
        bare = BareDecode(path, threads=args.threads)
        try:
            runs = [bare.tokens_per_s(k, args.steps, context) for context in args.contexts for k in args.counts]
        finally:
            bare.close()
    alone = {r["context_tokens"]: r["tok_s"] for r in runs if r["sequences"] == 1}
    for r in runs:
        r["vs_one"] = round(r["tok_s"] / alone[r["context_tokens"]], 2) if r["context_tokens"] in alone else None
    emit({"benchmark": "bare_batch", "model": label, "threads": args.threads, "machine": machine(), "runs": runs},
         table(["context", "sequences", "tok/s", "vs one"],
               [[r["context_tokens"], r["sequences"], r["tok_s"], r["vs_one"]] for r in runs]), args.out)


if __name__ == "__main__":
    main()
