"""Time to first token at each turn of a 20-question tutor chat on one step, through the app's own prompt path.

Every prompt is the tutor chat's own (``dialogue.tutor_chat.stream_tutor_reply``: its system
message, the history window, the question with the attempts and hints so far), sent with the
session's key as ``/ask_tutor`` does, and the reply the student saw goes into the history.
Between questions the student makes attempts (wrong ones, with the misconception the checker
found) and opens hints, as a student working on one step does.

Goal: turn 20 within 1.2x of turn 2 (the history grows, the work per turn should not). Four
configurations run side by side on fresh models, so the figures say what each part does:
- ``app``: the chat window drops old turns in chunks and the engine shifts KV entries of turns
  that stay (what the app does);
- ``chunked window only`` (KV shift off): every few turns, when a chunk leaves, the history is
  evaluated again;
- ``sliding window only`` (the window drops one turn at a time, KV shift on);
- ``neither``: the app before this change, where from the 8th question every turn evaluated
  the whole history again.

    python bench/turn_latency.py [--model PATH | --moe] [--repeats 3] [--out bench/results/x.json]
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from datetime import datetime

from common import REPO, add_model_args, chosen_model, emit, machine, make_backend, median, model_facts, table

from tutor_app.curriculum.loader import load_file
from tutor_app.dialogue import history as history_window
from tutor_app.dialogue.tutor_chat import stream_tutor_reply
from tutor_app.prompting import PromptLibrary

UNIT_FILE = REPO / "curricula" / "math" / "linear-equations.yaml"
PROBLEM, STEP = "two-step-1", 1  # "Subtract 3 from both sides. What equation do you get?"

# (question, what the student does before asking it: ("attempt", answer, verdict, misconception) or ("hint",))
SCRIPT = [
    ("I don't get what this step wants me to do.", None),
    ("Why do I subtract 3 and not 2?", ("attempt", "2x = 14", "incorrect", "same-operation-not-inverse")),
    ("Is 14 wrong because I added?", None),
    ("What does 'both sides' mean?", ("hint",)),
    ("So the left side is 2x + 3 - 3?", None),
    ("And the right side is just 11?", ("attempt", "2x = 11", "incorrect", "one-side-only")),
    ("Why do I have to change the 11 too?", None),
    ("Is it like a balance scale?", ("hint",)),
    ("What is 11 take away 3 again?", None),
    ("Is it 9?", ("attempt", "2x = 9", "incorrect", None)),
    ("Why is 9 wrong?", None),
    ("Can you explain subtraction with a number line?", ("hint",)),
    ("I counted back 3 from 11 and got 8.", None),
    ("So is the right side 8?", None),
    ("Should I write 2x = 8 or x = 8?", ("attempt", "x = 8", "incorrect", None)),
    ("Why can't I write x = 8 yet?", None),
    ("So the 2 stays with the x?", None),
    ("What do I do with the 2 in the next step?", None),
    ("Can you check my thinking once more?", None),
    ("I think I am ready to answer now. Anything I should watch out for?", None),
]

CONFIGS = {"app": (True, True), "chunked window only": (True, False), "sliding window only": (False, True),
           "neither": (False, False)}


@contextmanager
def window(chunked: bool):
    """The app's window, or the one-turn-at-a-time window it replaced."""
    original = history_window.window_chunk
    if not chunked:
        history_window.window_chunk = lambda max_messages: 1
    try:
        yield
    finally:
        history_window.window_chunk = original


def conversation(backend, unit, max_tokens: int, key: str) -> list[dict]:
    problem = next(p for p in unit.problems if p.id == PROBLEM)
    step = problem.steps[STEP]
    hints = [h if isinstance(h, str) else h.scaffold for h in step.hints]
    prompts = PromptLibrary()
    history: list[dict] = []
    attempts: list[dict] = []
    shown: list[dict] = []
    rows: list[dict] = []
    for number, (question, action) in enumerate(SCRIPT, start=1):
        if action and action[0] == "attempt":  # stored with their times, as the app's store keeps them
            attempts.append({"step_id": step.id, "answer": action[1], "verdict": action[2],
                             "misconception_id": action[3], "created_at": datetime.now()})
        elif action and len(shown) < len(hints):
            shown.append({"text": hints[len(shown)], "created_at": datetime.now()})
        usage = []
        asked_at = datetime.now()
        reply = "".join(stream_tutor_reply(
            model=backend, prompts=prompts, unit=unit, problem=problem, step_index=STEP, attempts=attempts,
            misconceptions_seen=[a["misconception_id"] for a in attempts if a["misconception_id"]],
            history=history, student_message=question, revealed_step_ids=[], session_key=key,
            hints_shown=shown, max_tokens=max_tokens, on_stats=usage.append))
        stats = usage[-1]
        rows.append({"turn": number, "prompt_tokens": stats.prompt_tokens, "evaluated_tokens": stats.evaluated_tokens,
                     "ttft_s": round(stats.time_to_first_token_s, 4), "completion_tokens": stats.completion_tokens})
        history += [{"role": "user", "content": question, "at": asked_at}, {"role": "assistant", "content": reply}]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser)
    parser.add_argument("--max-tokens", type=int, default=64, help="reply length per turn")
    parser.add_argument("--repeats", type=int, default=3, help="whole conversations per configuration, each on a fresh model")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args()
    started_on = machine()  # load average before this benchmark adds its own
    unit = load_file(UNIT_FILE).item
    results: dict[str, dict] = {}
    with chosen_model(args) as (path, label):
        for repeat in range(args.repeats):  # configurations interleaved, so a noisy minute hits them all
            for name in args.configs:
                chunked, shift = CONFIGS[name]
                backend = make_backend(path, args)
                try:
                    if not shift:
                        backend._engine.memory.min_reuse_chunk = 0
                    with window(chunked):
                        rows = conversation(backend, unit, args.max_tokens, key=f"student-{repeat}")
                    facts = model_facts(path, backend)
                finally:
                    backend.close()
                results.setdefault(name, {"runs": []})["runs"].append(rows)

    for name, data in results.items():
        runs = data["runs"]
        per_turn = []
        for i in range(len(SCRIPT)):
            row = dict(runs[0][i])
            row["ttft_s"] = round(median([run[i]["ttft_s"] for run in runs]), 4)
            row["evaluated_tokens"] = int(median([run[i]["evaluated_tokens"] for run in runs]))
            per_turn.append(row)
        ttft2, ttft_last = per_turn[1]["ttft_s"], per_turn[-1]["ttft_s"]
        data.update(per_turn=per_turn, summary={
            "ttft_turn2_s": ttft2, "ttft_last_turn_s": ttft_last,
            "ttft_ratio_last_vs_turn2": round(ttft_last / ttft2, 3) if ttft2 else None,
            "ttft_ratio_max_over_turns_8_20": round(max(r["ttft_s"] for r in per_turn[7:]) / ttft2, 3) if ttft2 else None,
            "evaluated_tokens_turns2_on": sum(r["evaluated_tokens"] for r in per_turn[1:]),
            "last_turn_prompt_tokens": per_turn[-1]["prompt_tokens"],
        })
        del data["runs"]
    app = results.get("app", {}).get("summary", {})
    result = {
        "benchmark": "turn_latency", "model": label, "model_facts": facts, "machine": started_on,
        "settings": {"turns": len(SCRIPT), "max_tokens": args.max_tokens, "repeats": args.repeats, "temperature": 0.4,
                     "n_ctx": args.n_ctx, "prompt_path": "dialogue.tutor_chat.stream_tutor_reply", "unit": unit.id,
                     "problem": PROBLEM, "step": STEP},
        "goal_ttft_ratio_max": 1.2,
        "goal_met": bool(app.get("ttft_ratio_last_vs_turn2") is not None and app["ttft_ratio_last_vs_turn2"] <= 1.2),
        "configs": results,
    }
    headers = ["turn", "prompt"] + [f"{name} ttft_s / evaluated" for name in results]
    rows = [[i + 1, results[next(iter(results))]["per_turn"][i]["prompt_tokens"]]
            + [f"{d['per_turn'][i]['ttft_s']:.3f} / {d['per_turn'][i]['evaluated_tokens']}" for d in results.values()]
            for i in range(len(SCRIPT))]
    text = table(headers, rows) + "\n" + "\n".join(
        f"{label} {name}: TTFT turn {len(SCRIPT)} / turn 2 = {d['summary']['ttft_ratio_last_vs_turn2']}, "
        f"worst of turns 8-20 / turn 2 = {d['summary']['ttft_ratio_max_over_turns_8_20']}"
        for name, d in results.items()) + " (goal for app: turn 20 <= 1.2x turn 2)"
    emit(result, text, args.out)


if __name__ == "__main__":
    main()
