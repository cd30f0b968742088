"""Eight students taking turns with one model, round robin: time to first token against one student alone.

Each turn of a student follows seven other students' turns, so the context never holds that
student's conversation when the turn starts: the backend saves the previous student's KV state
and restores this one's. "Single" serves the very same conversations one student at a time
(each student's turns back to back), so only the order differs. Goal: time to first token
within 1.5x of the single order. For contrast, the round robin with no room for saved states
(every turn re-evaluates its history) runs too, unless --no-control.

    python bench/interleaved.py [--model PATH | --moe] [--students 8] [--turns 6] [--out FILE]
"""

from __future__ import annotations

import argparse

from common import STUDENT_TURNS, SYSTEM_PROMPT, add_model_args, chosen_model, emit, machine, make_backend, median
from common import model_facts, table


def script(student: int, turns: int) -> list[str]:
    """Each student's own questions (the conversations differ; the system prompt is shared)."""
    return [STUDENT_TURNS[(student * 3 + t) % len(STUDENT_TURNS)] for t in range(turns)]


class Run:
    """One backend serving the same students' conversations in a given order of turns."""

    def __init__(self, backend, order: list[tuple[int, int]], students: int, turns: int) -> None:
        self.backend = backend
        self.order = order
        self.scripts = [script(s, turns) for s in range(students)]
        self.histories = [[{"role": "system", "content": SYSTEM_PROMPT}] for _ in range(students)]
        self.rows: list[dict] = []

    def step(self, i: int, max_tokens: int) -> None:
        s, turn = self.order[i]
        history = self.histories[s]
        history.append({"role": "user", "content": self.scripts[s][turn]})
        reply = "".join(self.backend.stream_chat(history, max_tokens=max_tokens, temperature=0,
                                                 session_key=f"student-{s}"))
        history.append({"role": "assistant", "content": reply})
        st = self.backend.last_stats
        self.rows.append({"student": s, "turn": turn + 1, "prompt_tokens": st.prompt_tokens,
                          "evaluated_tokens": st.evaluated_tokens, "ttft_s": round(st.time_to_first_token_s, 4)})


def summarise(rows: list[dict]) -> dict:
    later = [r for r in rows if r["turn"] > 1]
    return {"turns": len(rows), "median_ttft_s": round(median([r["ttft_s"] for r in later]), 4),
            "max_ttft_s": round(max(r["ttft_s"] for r in later), 4),
            "mean_prompt_tokens": round(sum(r["prompt_tokens"] for r in later) / len(later), 1),
            "mean_evaluated_tokens": round(sum(r["evaluated_tokens"] for r in later) / len(later), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--no-control", action="store_true", help="skip the run without saved states")
    args = parser.parse_args()
    started_on = machine()  # load average before this benchmark adds its own
    students, turns = args.students, args.turns
    alone = [(s, t) for s in range(students) for t in range(turns)]  # each student's turns back to back
    round_robin = [(s, t) for t in range(turns) for s in range(students)]
    plans = [("single", alone, 1024), ("interleaved", round_robin, 1024)]
    if not args.no_control:
        plans.append(("interleaved_without_saved_states", round_robin, 0))
    with chosen_model(args) as (path, label):
        runs = [(name, Run(make_backend(path, args, kv_cache_mb=kv_mb), order, students, turns))
                for name, order, kv_mb in plans]
        try:
            # The runs advance in lockstep, one turn each in turn, so that load from other
            # programs on the machine falls on all of them alike.
            for i in range(students * turns):
                for _, run in runs:
                    run.step(i, args.max_tokens)
            facts = model_facts(path, runs[0][1].backend)
            cache = runs[1][1].backend.info.detail.get("kv_states", {})
            # exact restores: the round robin's replies are the single order's, token for token
            same = runs[1][1].histories == runs[0][1].histories
        finally:
            for _, run in runs:
                run.backend.close()
        runs = {name: run.rows for name, run in runs}

    summary = {name: summarise(rows) for name, rows in runs.items()}
    single, inter = summary["single"]["median_ttft_s"], summary["interleaved"]["median_ttft_s"]
    ratio = round(inter / single, 3) if single else None
    result = {
        "benchmark": "interleaved", "model": label, "model_facts": facts, "machine": started_on,
        "settings": {"students": args.students, "turns_each": args.turns, "max_tokens": args.max_tokens,
                     "temperature": 0, "n_ctx": args.n_ctx, "kv_cache_mb": 1024},
        "summary": summary,
        "ttft_ratio_interleaved_vs_single": ratio, "goal_ratio_max": 1.5, "goal_met": bool(ratio and ratio <= 1.5),
        "saved_states_at_end": cache,
        "same_replies_single_vs_interleaved": same,
        "per_turn": runs,
    }
    rows = [[name, s["turns"], s["mean_prompt_tokens"], s["mean_evaluated_tokens"], s["median_ttft_s"], s["max_ttft_s"]]
            for name, s in summary.items()]
    text = table(["run", "turns", "prompt", "evaluated", "median_ttft_s", "max_ttft_s"], rows)
    text += f"\n{label}: interleaved / single TTFT = {ratio} (goal <= 1.5), turns after each student's first"
    emit(result, text, args.out)


if __name__ == "__main__":
    main()
