"""Time to first token and prompt tokens evaluated at each turn of a 20-turn tutoring conversation.

Goal: turn 20 within 1.5x of turn 2 (the history grows, the work per turn should not), and the
prompt tokens evaluated per turn close to the turn's new tokens only. For contrast, the last
turn's prompt is also evaluated from scratch, which is what every turn would cost without reuse.

    python bench/turn_latency.py [--model PATH | --moe] [--repeats 3] [--out bench/results/x.json]
"""

from __future__ import annotations

import argparse

from common import STUDENT_TURNS, SYSTEM_PROMPT, add_model_args, chosen_model, emit, machine, make_backend, median
from common import model_facts, table


def conversation(backend, turns: list[str], max_tokens: int, key: str) -> tuple[list[dict], list[dict]]:
    history = [{"role": "system", "content": SYSTEM_PROMPT}]
    rows: list[dict] = []
    previous_prompt = previous_completion = 0
    for number, text in enumerate(turns, start=1):
        history.append({"role": "user", "content": text})
        prompt, _ = backend.prompt_tokens(history, max_tokens)
        reply = "".join(backend.stream_chat(history, max_tokens=max_tokens, temperature=0, session_key=key))
        stats = backend.last_stats
        rows.append({"turn": number, "prompt_tokens": stats.prompt_tokens, "evaluated_tokens": stats.evaluated_tokens,
                     "new_tokens": len(prompt) - previous_prompt - previous_completion,
                     "ttft_s": round(stats.time_to_first_token_s, 4), "total_s": round(stats.total_s, 4),
                     "completion_tokens": stats.completion_tokens,
                     "decode_tok_s": round(stats.decode_tokens_per_s, 1)})
        previous_prompt, previous_completion = len(prompt), stats.completion_tokens
        history.append({"role": "assistant", "content": reply})
    return rows, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3, help="whole conversations, each on a fresh model")
    args = parser.parse_args()
    started_on = machine()  # load average before this benchmark adds its own
    turns = STUDENT_TURNS[:args.turns]
    with chosen_model(args) as (path, label):
        runs = []
        for repeat in range(args.repeats):
            backend = make_backend(path, args)
            try:
                rows, history = conversation(backend, turns, args.max_tokens, key=f"student-{repeat}")
                runs.append(rows)
                facts = model_facts(path, backend)
            finally:
                backend.close()
        # The last turn's prompt once more, on a model with nothing to reuse.
        scratch_ttft = []
        for _ in range(args.repeats):
            scratch = make_backend(path, args, kv_cache_mb=0)
            try:
                list(scratch.stream_chat(history[:-1], max_tokens=1, temperature=0))
                scratch_ttft.append(scratch.last_stats.time_to_first_token_s)
            finally:
                scratch.close()

    per_turn = []
    for i in range(len(turns)):
        samples = [run[i] for run in runs]
        row = dict(samples[0])
        for key in ("ttft_s", "total_s", "decode_tok_s"):
            row[key] = round(median([s[key] for s in samples]), 4)
        per_turn.append(row)
    later = per_turn[1:]
    ttft2, ttft_last = per_turn[1]["ttft_s"], per_turn[-1]["ttft_s"]
    result = {
        "benchmark": "turn_latency", "model": label, "model_facts": facts, "machine": started_on,
        "settings": {"turns": len(turns), "max_tokens": args.max_tokens, "repeats": args.repeats,
                     "temperature": 0, "n_ctx": args.n_ctx},
        "per_turn": per_turn,
        "summary": {
            "ttft_turn2_s": ttft2, "ttft_last_turn_s": ttft_last,
            "ttft_ratio_last_vs_turn2": round(ttft_last / ttft2, 3) if ttft2 else None,
            "goal_ttft_ratio_max": 1.5,
            "goal_met": bool(ttft2 and ttft_last / ttft2 <= 1.5),
            "evaluated_tokens_turns2_on": sum(r["evaluated_tokens"] for r in later),
            "new_tokens_turns2_on": sum(r["new_tokens"] for r in later),
            "evaluated_over_new": round(sum(r["evaluated_tokens"] for r in later)
                                        / max(1, sum(r["new_tokens"] for r in later)), 3),
            # the same ratio over three turns at each end, steadier on a machine shared with others
            "ttft_ratio_last3_vs_turns2_4": _steady_ratio(per_turn),
            "last_turn_prompt_tokens": per_turn[-1]["prompt_tokens"],
            "last_turn_ttft_without_reuse_s": round(median(scratch_ttft), 4),
        },
    }
    rows = [[r["turn"], r["prompt_tokens"], r["new_tokens"], r["evaluated_tokens"], r["ttft_s"], r["decode_tok_s"]]
            for r in per_turn]
    text = table(["turn", "prompt", "new", "evaluated", "ttft_s", "tok/s"], rows)
    s = result["summary"]
    text += (f"\n{label}: TTFT turn {len(turns)} / turn 2 = {s['ttft_ratio_last_vs_turn2']} (goal <= 1.5); "
             f"evaluated/new = {s['evaluated_over_new']}; last turn from scratch: "
             f"{s['last_turn_ttft_without_reuse_s']} s for {s['last_turn_prompt_tokens']} tokens")
    emit(result, text, args.out)


def _steady_ratio(per_turn: list[dict]) -> float | None:
    early = median([r["ttft_s"] for r in per_turn[1:4]])
    late = median([r["ttft_s"] for r in per_turn[-3:]])
    return round(late / early, 3) if early and len(per_turn) >= 6 else None


if __name__ == "__main__":
    main()
