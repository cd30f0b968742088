"""Aggregate decode speed with 1, 2, 4 and 8 students at once, through the app's own llama.cpp backend.

For each number of students k, k tutor-style calls (distinct prompts, the same reply budget,
greedy) go to one backend with enough slots, all at once; then the same k calls go one after
another. Aggregate tokens/s is every reply token over the wall time of the round (prompts
included). Both run in the same process on the same model, interleaved round by round, since
the machine is shared and noisy: the ratio is the figure that counts. Tokens per CPU second of
this process are recorded too: on a machine that other work keeps busy they say what the
batch itself costs, whatever share of the cores the benchmark got.

Each round also times bare ``llama_decode`` of k sequences against one (``bare_batch.py``: no
sampling, no app), the ceiling any batching can reach with this model on this machine, so the
app's speedup reads against what llama.cpp itself gives here.

    python bench/batching.py --threads 1 [--counts 1 2 4 8] [--repeats 3] [--out bench/results/batching.json]
"""

from __future__ import annotations

import argparse
import threading
import time

from bare_batch import BareDecode
from common import add_model_args, chosen_model, emit, machine, make_backend, median, model_facts, table

TOPICS = ["fractions", "the water cycle", "prime numbers", "volcanoes", "photosynthesis", "right angles",
          "the planets", "magnets", "decimals", "rainforests", "the moon", "negative numbers", "the heart",
          "earthquakes", "percentages", "bridges"]


def prompt(topic: str, student: str) -> list[dict]:
    """The system prompt is shared by every call, as the app's is. Both ways of a round ask the
    same questions (greedy: the same replies, of the same length), each after ``flush`` has
    filled every slot with other students' questions, so neither finds its questions already
    read from the other's run."""
    return [{"role": "system", "content": "You are a patient tutor. Explain things step by step."},
            {"role": "user", "content": f"I am {student}. Explain {topic} to me in detail, with an example."}]


def flush(backend) -> None:
    """A question of another student in every slot (one token each, not timed)."""
    threads = [threading.Thread(target=one_call, args=(backend, "anything", 1, f"visitor {i}", [], f"visitor {i}"))
               for i in range(backend.n_parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def one_call(backend, topic: str, max_tokens: int, key: str, out: list, student: str) -> None:
    usage = []
    for _ in backend.stream_chat(prompt(topic, student), max_tokens=max_tokens, temperature=0, session_key=key,
                                 on_stats=usage.append):
        pass
    out.append(usage[-1])


def together(backend, topics: list[str], max_tokens: int, tag: str) -> dict:
    stats: list = []
    flush(backend)
    threads = [threading.Thread(target=one_call, args=(backend, t, max_tokens, f"{tag}-{i}", stats, f"student {i}"))
               for i, t in enumerate(topics)]
    started, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _round(stats, time.perf_counter() - started, time.process_time() - cpu)


def one_after_another(backend, topics: list[str], max_tokens: int, tag: str) -> dict:
    stats: list = []
    flush(backend)
    started, cpu = time.perf_counter(), time.process_time()
    for i, topic in enumerate(topics):
        one_call(backend, topic, max_tokens, f"{tag}-{i}", stats, f"student {i}")
    return _round(stats, time.perf_counter() - started, time.process_time() - cpu)


def _round(stats: list, wall: float, cpu: float) -> dict:
    tokens = sum(s.completion_tokens for s in stats)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "reply_tokens": tokens,
            "aggregate_tok_s": round(tokens / wall, 2), "tokens_per_cpu_s": round(tokens / cpu, 2) if cpu else None,
            "median_ttft_s": round(median([s.time_to_first_token_s for s in stats]), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    args.parallel = max(args.counts)
    started_on = machine()
    rounds: dict[int, dict[str, list]] = {k: {"together": [], "one_after_another": [], "bare_together": [], "bare_alone": []} for k in args.counts}
    with chosen_model(args) as (path, label):
        backend = make_backend(path, args, kv_cache_mb=0)
        try:
            facts = model_facts(path, backend)
            facts["slots"] = backend.n_parallel
            one_call(backend, "warming up", 8, "warm", [], "warm")
            for repeat in range(args.repeats):
                for k in args.counts:
                    topics = [TOPICS[(repeat * 5 + i) % len(TOPICS)] for i in range(k)]
                    rounds[k]["together"].append(together(backend, topics, args.max_tokens, f"t{repeat}-{k}"))
                    rounds[k]["one_after_another"].append(
                        one_after_another(backend, topics, args.max_tokens, f"s{repeat}-{k}"))
        finally:
            backend.close()
        bare = BareDecode(path, threads=facts["threads"] or 1)
        try:
            for repeat in range(args.repeats):
                for k in args.counts:
                    rounds[k]["bare_together"].append(bare.tokens_per_s(k, args.max_tokens))
                    rounds[k]["bare_alone"].append(bare.tokens_per_s(1, args.max_tokens))
        finally:
            bare.close()

    per_count = []
    for k, data in rounds.items():
        together_tok_s = median([r["aggregate_tok_s"] for r in data["together"]])
        alone_tok_s = median([r["aggregate_tok_s"] for r in data["one_after_another"]])
        together_cpu = median([r["tokens_per_cpu_s"] for r in data["together"]])
        alone_cpu = median([r["tokens_per_cpu_s"] for r in data["one_after_another"]])
        bare_together = median([r["tok_s"] for r in data["bare_together"]])
        bare_alone = median([r["tok_s"] for r in data["bare_alone"]])
        per_count.append({"students": k, "bare_decode_together_tok_s": bare_together,
                          "bare_decode_alone_tok_s": bare_alone,
                          "bare_decode_speedup": round(bare_together / bare_alone, 2) if bare_alone else None, "together_tok_s": together_tok_s, "one_after_another_tok_s": alone_tok_s,
                          "speedup": round(together_tok_s / alone_tok_s, 2) if alone_tok_s else None,
                          "together_tokens_per_cpu_s": together_cpu, "one_after_another_tokens_per_cpu_s": alone_cpu,
                          "speedup_per_cpu_s": round(together_cpu / alone_cpu, 2) if alone_cpu else None,
                          "together_wall_s": median([r["wall_s"] for r in data["together"]]),
                          "one_after_another_wall_s": median([r["wall_s"] for r in data["one_after_another"]]),
                          "together_median_ttft_s": median([r["median_ttft_s"] for r in data["together"]]),
                          "rounds": data})
    result = {"benchmark": "batching", "model": label, "model_facts": facts, "machine": started_on,
              "settings": {"max_tokens": args.max_tokens, "repeats": args.repeats, "temperature": 0,
                           "n_ctx": args.n_ctx, "counts": args.counts},
              "per_count": per_count,
              "issue_reference_tok_s": {"1": 15.6, "2": 27.9, "4": 53.2, "8": 61.0, "16": 71.7}}
    rows = [[r["students"], r["one_after_another_tok_s"], r["together_tok_s"], r["speedup"],
             r["one_after_another_tokens_per_cpu_s"], r["together_tokens_per_cpu_s"], r["speedup_per_cpu_s"],
             r["bare_decode_speedup"]] for r in per_count]
    text = table(["students", "alone tok/s", "together tok/s", "speedup", "alone tok/cpu-s", "together tok/cpu-s",
                  "speedup (cpu)", "bare decode speedup"], rows)
    emit(result, text, args.out)


if __name__ == "__main__":
    main()
