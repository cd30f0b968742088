"""Decode tokens/s through the app's model worker and its backend against bare llama-cpp-python,
same model, prompt and run.

What the app adds per token must not slow decoding: goal at least 0.95 of the bare loop, for
the path the app really takes (``worker``: llama.cpp in the model worker process, each piece
sent over loopback HTTP as a server-sent event and read by the app's OpenAI client) and for
the backend inside the worker on its own (``backend``: detokenising, UTF-8 and stop-string
handling, the cancel check, counting). "Bare" is the tightest loop llama-cpp-python offers
(``Llama.generate`` over the same prompt tokens with the same sampler); its streaming
``create_chat_completion`` is measured too, for reference.

On a machine shared with other programs, wall-clock rates swing from run to run, so the runs
rotate their order, each repeat compares the paths side by side (paired ratios, median), and
the rates are also measured in CPU time of the decoding thread, which other programs' load
does not inflate (exact when llama.cpp decodes on that one thread: ``threads`` 1). For the
worker that is the CPU time of the worker process (every thread: decoding and serving).

    python bench/overhead.py [--model PATH | --moe] [--tokens 128] [--repeats 6] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Callable, Iterator

from common import add_model_args, chosen_model, emit, machine, make_backend, median, model_facts, table

MESSAGES = [{"role": "system", "content": "You are a storyteller for a school class."},
            {"role": "user", "content": "Write a long story about a student who learns to love algebra. "
                                        "Use many paragraphs."}]


def timed(items: Iterator, count: Callable[[], int]) -> tuple[float, float, int]:
    """Decode rate of ``items`` from its first item to its end, in wall time and this process's CPU
    time (all its threads: the app's backend decodes on its engine thread, not the caller's, so
    the caller's own thread time would leave the decoding out)."""
    first_wall = first_cpu = 0.0
    seen = False
    for _ in items:
        if not seen:
            first_wall, first_cpu, seen = time.perf_counter(), time.process_time(), True
    wall, cpu = time.perf_counter() - first_wall, time.process_time() - first_cpu
    n = count()
    return ((n - 1) / wall if n > 1 and wall > 0 else 0.0), ((n - 1) / cpu if n > 1 and cpu > 0 else 0.0), n


def through_backend(backend, n: int) -> tuple[float, float, int]:
    return timed(backend.stream_chat(MESSAGES, max_tokens=n, temperature=0), lambda: backend.last_stats.completion_tokens)


def process_cpu_s(pid: int) -> float:
    """CPU time (user + system) of every thread of process ``pid`` so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def through_worker(worker, n: int) -> tuple[float, float, int]:
    """Like ``timed``, with the CPU time of the worker process, where the decoding happens."""
    pid = worker.supervisor.current.process.pid
    first_wall = first_cpu = 0.0
    seen = False
    for _ in worker.stream_chat(MESSAGES, max_tokens=n, temperature=0):
        if not seen:
            first_wall, first_cpu, seen = time.perf_counter(), process_cpu_s(pid), True
    wall, cpu = time.perf_counter() - first_wall, process_cpu_s(pid) - first_cpu
    count = worker.last_stats.completion_tokens
    return ((count - 1) / wall if count > 1 and wall > 0 else 0.0), ((count - 1) / cpu if count > 1 and cpu > 0 else 0.0), count


def start_worker(path, args, threads: int, data_dir: str):
    from tutor_app.runtime.loading import load_backend
    from tutor_app.settings import Settings

    worker = load_backend(Settings(data_dir=data_dir, model=str(path), n_ctx=args.n_ctx, threads=threads,
                                   flash_attn=args.flash_attn, kv_cache_mb=0))
    if not worker.info.available:
        sys.exit(f"the model worker did not start: {worker.info.problem}")
    return worker


def bare_generate(llm, tokens: list[int], n: int, sampling) -> tuple[float, float, int]:
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    produced = []

    def tokens_out():
        for token in llm.generate(tokens, temp=0, top_k=sampling.top_k, top_p=sampling.top_p, min_p=sampling.min_p,
                                  repeat_penalty=sampling.repeat_penalty):
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                return
            produced.append(token)
            yield token
            if len(produced) >= n:
                return

    return timed(tokens_out(), lambda: len(produced))


def bare_chat_completion(llm, n: int, sampling) -> tuple[float, float, int]:
    chunks = []

    def pieces():
        for chunk in llm.create_chat_completion(MESSAGES, max_tokens=n, temperature=0, stream=True,
                                                top_k=sampling.top_k, top_p=sampling.top_p, min_p=sampling.min_p,
                                                repeat_penalty=sampling.repeat_penalty):
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                chunks.append(chunk)
                yield chunk

    return timed(pieces(), lambda: len(chunks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=6)
    args = parser.parse_args()
    started_on = machine()  # load average before this benchmark adds its own
    from llama_cpp import Llama

    with chosen_model(args) as (path, label):
        backend = make_backend(path, args, kv_cache_mb=0)
        threads = backend.info.detail["threads"]
        bare = Llama(str(path), n_ctx=args.n_ctx, n_threads=threads, flash_attn=args.flash_attn, verbose=False)
        data_dir = tempfile.mkdtemp(prefix="bench-worker-")
        worker = start_worker(path, args, threads, data_dir)
        try:
            tokens, _ = backend.prompt_tokens(MESSAGES, args.tokens)
            paths = [("bare_generate", lambda: bare_generate(bare, tokens, args.tokens, backend.sampling)),
                     ("worker", lambda: through_worker(worker, args.tokens)),
                     ("backend", lambda: through_backend(backend, args.tokens)),
                     ("bare_chat_completion", lambda: bare_chat_completion(bare, args.tokens, backend.sampling))]
            wall: dict[str, list[float]] = {name: [] for name, _ in paths}
            cpu: dict[str, list[float]] = {name: [] for name, _ in paths}
            counts: dict[str, int] = {}
            through_backend(backend, 8)  # warm them up (first calls allocate)
            through_worker(worker, 8)
            bare_generate(bare, tokens, 8, backend.sampling)
            for repeat in range(args.repeats):
                turn = repeat % len(paths)  # rotate who goes first, so no path always runs in the same slot
                for name, run in paths[turn:] + paths[:turn]:
                    rate_wall, rate_cpu, count = run()
                    wall[name].append(round(rate_wall, 2))
                    cpu[name].append(round(rate_cpu, 2))
                    counts[name] = count
            facts = model_facts(path, backend)
        finally:
            worker.close()
            backend.close()
            bare.close()

    def paired(rates: dict[str, list[float]], other: str, path: str = "backend") -> float | None:
        ratios = [a / b for a, b in zip(rates[path], rates[other]) if b]
        return round(median(ratios), 3) if ratios else None

    ratio_wall, ratio_cpu = paired(wall, "bare_generate"), paired(cpu, "bare_generate")
    worker_wall, worker_cpu = paired(wall, "bare_generate", "worker"), paired(cpu, "bare_generate", "worker")
    result = {
        "benchmark": "overhead", "model": label, "model_facts": facts, "machine": started_on,
        "settings": {"tokens": args.tokens, "repeats": args.repeats, "temperature": 0, "prompt_tokens": len(tokens),
                     "n_ctx": args.n_ctx, "threads": threads},
        "decode_tok_s_median": {name: round(median(v), 2) for name, v in wall.items()},
        "decode_tok_s_runs": wall,
        "decode_tok_s_cpu_time_median": {name: round(median(v), 2) for name, v in cpu.items()},
        "tokens_generated": counts,
        "ratio_backend_vs_bare": ratio_wall, "ratio_backend_vs_bare_cpu_time": ratio_cpu,
        "ratio_backend_vs_bare_chat_completion": paired(wall, "bare_chat_completion"),
        "ratio_worker_vs_bare": worker_wall, "ratio_worker_vs_bare_cpu_time": worker_cpu,
        "goal_ratio_min": 0.95,
        "goal_met": bool(ratio_wall and ratio_wall >= 0.95),
        "goal_met_cpu_time": bool(ratio_cpu and ratio_cpu >= 0.95),
        "goal_met_worker": bool(worker_wall and worker_wall >= 0.95),
    }
    text = table(["path", "median tok/s", "cpu-time tok/s", "runs (wall)"],
                 [[k, round(median(v), 2), round(median(cpu[k]), 2), " ".join(map(str, v))] for k, v in wall.items()])
    text += (f"\n{label}: worker / bare decode = {worker_wall} wall, {worker_cpu} CPU time; "
             f"backend / bare = {ratio_wall} wall, {ratio_cpu} CPU time (paired medians; goal >= 0.95)")
    emit(result, text, args.out)


if __name__ == "__main__":
    main()
