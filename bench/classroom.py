"""A class at once against the real app: N simulated students over the public API (issue 11.4).

The bench starts ``python app.py`` (the default model in its model worker, a fresh SQLite file in
a temporary data folder, a free loopback port), waits until the model has loaded and timed
itself, and lets N students work through ``linear-equations/two-step-1`` at once, each on a
thread speaking Gradio's queue protocol as a browser tab does (``gradio_queue.py``; until
2026-12-06 each had a ``gradio_client``, whose 50 ms polling per message was most of a quick
action's measured time: ``client_overhead.py``): start the problem, a wrong answer, a hint, a question to
the tutor, the first step right, another question, the last step right, with seeded think times
between actions. Each configuration (``--parallel 1``, and the app's batching with as many
slots as students, up to 8) gets its own app process, and the class sizes run one after another
on it, all in one run so the figures compare side by side.

Reported per run:
- tutor replies: p50/p95 time to first token (first streamed text) and whole reply time, and the
  wall time from the first question sent to the last reply finished ("replies_wall_s");
- decode tokens/s over all replies (the stored completion tokens over that wall time);
- the burst: after the problem every student asks one more question at the same instant; its
  wall time (first sent to last finished) and tokens/s are N replies decoded together, against
  one after another with ``--parallel 1`` (the issue's target: >= 2.5x sooner at 8 students);
- p95 of answer checks and hints sent while at least one tutor reply was streaming;
- errors, and attempts stored (read from the database afterwards) against answers that got a verdict.

    python bench/classroom.py [--students 1 8 30] [--model PATH | --moe] [--think-s 1.5] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx

from common import REPO, chosen_model, emit, machine, percentile, table
from gradio_queue import QueueClient

sys.path.insert(0, str(REPO / "tests"))
from app_process_support import AppDidNotStart, started_app  # noqa: E402
from ui_harness import free_port  # noqa: E402

UNIT, PROBLEM = "linear-equations", "two-step-1"  # 2x + 3 = 11
QUESTIONS = ["I'm not sure what to do with the 3. Can you help?", "Now how do I get x on its own?"]
BURST_QUESTION = "Can you give me a similar equation to practise on?"  # asked by every student at the same instant
READY = re.compile(r"model speed:|could not measure the model's speed")
MAX_SECONDS = 600  # one class run never takes longer than this
MODES = {"parallel-1": ("--parallel 1", 1), "batching": ("batching", None)}  # None: a slot a student, up to 8


@dataclass
class Tally:
    """What every student's thread measured, under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    streaming: int = 0  # tutor replies in flight now
    ttft: list[float] = field(default_factory=list)
    reply: list[float] = field(default_factory=list)
    busy_actions: list[float] = field(default_factory=list)  # answer checks and hints while a reply streamed
    quiet_actions: list[float] = field(default_factory=list)
    asked_at: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)
    burst: list[tuple[float, float]] = field(default_factory=list)  # (sent, finished) of the burst's replies
    verdicts: int = 0
    errors: list[str] = field(default_factory=list)


@contextmanager
def running_app(data_dir: Path, parallel: int | None, model: Path, threads: int | None = None
                ) -> Iterator[tuple[str, list[str]]]:
    """``python app.py`` on a free loopback port, once the model has loaded and timed itself."""
    port = free_port()
    command = [sys.executable, "app.py", "--port", str(port), "--data-dir", str(data_dir), "--model", str(model)]
    if parallel is not None:
        command += ["--parallel", str(parallel)]
    if threads is not None:
        command += ["--threads", str(threads)]
    url = f"http://127.0.0.1:{port}/"
    try:
        with started_app(command, {"GRADIO_TEMP_DIR": str(data_dir / "gradio")}, timeout_s=300,
                         ready=lambda lines: any(READY.search(line) for line in lines)) as (_, lines):
            httpx.get(url, timeout=30).raise_for_status()
            yield url, lines
    except AppDidNotStart as exc:
        raise SystemExit(str(exc)) from None


def timed(tally: Tally, call) -> object:
    started = time.perf_counter()
    with tally.lock:
        busy = tally.streaming > 0
    result = call()
    elapsed = time.perf_counter() - started
    with tally.lock:
        (tally.busy_actions if busy or tally.streaming > 0 else tally.quiet_actions).append(elapsed)
    return result


def ask(client: QueueClient, tally: Tally, session_id: str, question: str) -> None:
    with tally.lock:
        tally.streaming += 1
        tally.asked_at.append(time.monotonic())
    started = time.perf_counter()
    first = None
    try:
        for text in client.stream("/ask_tutor", session_id, question):
            if first is None and text:
                first = time.perf_counter() - started
    finally:
        with tally.lock:
            tally.streaming -= 1
            tally.answered_at.append(time.monotonic())
    total = time.perf_counter() - started
    with tally.lock:
        tally.ttft.append(first if first is not None else total)
        tally.reply.append(total)


def student(url: str, name: str, tally: Tally, rng: random.Random, think_s: float, start: threading.Barrier,
            burst: threading.Barrier) -> None:
    def think() -> None:
        time.sleep(rng.uniform(0.5, 1.5) * think_s)

    client = None
    try:
        client = QueueClient(url)
        start.wait(timeout=120)
        session_id = client.predict("/start_session", name, UNIT, PROBLEM)["session_id"]
        for action in ("2x = 14", "hint", QUESTIONS[0], "2x = 8", QUESTIONS[1], "x = 4"):
            think()
            if action == "hint":
                timed(tally, lambda: client.predict("/request_hint", session_id))
            elif action in QUESTIONS:
                ask(client, tally, session_id, action)
            else:
                timed(tally, lambda: client.predict("/submit_answer", session_id, action))
                with tally.lock:
                    tally.verdicts += 1
        burst.wait(timeout=MAX_SECONDS)  # then the whole class asks at once: N replies together
        sent = time.monotonic()
        ask(client, tally, session_id, BURST_QUESTION)
        with tally.lock:
            tally.burst.append((sent, time.monotonic()))
    except Exception as exc:  # counted and reported, the other students carry on
        with tally.lock:
            tally.errors.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        if client is not None:
            client.close()


def stored(database: Path, names: list[str]) -> tuple[int, int, int]:
    """(attempts, completion tokens of all tutor replies, of the burst's replies) the app stored for
    these students."""
    with sqlite3.connect(database) as db:
        marks = ",".join("?" * len(names))
        attempts = db.execute(f"SELECT count(*) FROM attempts a JOIN tutor_sessions s ON a.session_id = s.id "
                              f"JOIN students t ON s.student_id = t.id WHERE t.name IN ({marks})", names).fetchone()[0]
        tokens = db.execute(f"SELECT coalesce(sum(m.completion_tokens), 0) FROM tutor_messages m JOIN tutor_sessions s "
                            f"ON m.session_id = s.id JOIN students t ON s.student_id = t.id "
                            f"WHERE m.role = 'tutor' AND t.name IN ({marks})", names).fetchone()[0]
        burst = db.execute(f"SELECT coalesce(sum(m.completion_tokens), 0) FROM tutor_messages m JOIN tutor_messages q "
                           f"ON m.reply_to = q.id JOIN tutor_sessions s ON m.session_id = s.id JOIN students t "
                           f"ON s.student_id = t.id WHERE q.content = ? AND t.name IN ({marks})",
                           [BURST_QUESTION, *names]).fetchone()[0]
    return attempts, tokens, burst


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def run_class(url: str, database: Path, size: int, label: str, think_s: float, seed: int) -> dict:
    tally = Tally()
    names = [f"{label} student {i}" for i in range(size)]
    start, burst = threading.Barrier(size), threading.Barrier(size)
    threads = [threading.Thread(target=student, args=(url, name, tally, random.Random(seed * 1000 + i), think_s, start,
                                                      burst), daemon=True) for i, name in enumerate(names)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, began + MAX_SECONDS - time.monotonic()))
    unfinished = sum(thread.is_alive() for thread in threads)
    attempts, tokens, burst_tokens = stored(database, names)
    wall = (max(tally.answered_at) - min(tally.asked_at)) if tally.asked_at and tally.answered_at else None
    burst_wall = (max(end for _, end in tally.burst) - min(sent for sent, _ in tally.burst)) if tally.burst else None
    return {
        "students": size, "replies": len(tally.reply),
        "ttft_p50_s": percentile(tally.ttft, 0.5), "ttft_p95_s": percentile(tally.ttft, 0.95),
        "reply_p50_s": percentile(tally.reply, 0.5), "reply_p95_s": percentile(tally.reply, 0.95),
        "replies_wall_s": wall, "completion_tokens": tokens,
        "decode_tokens_per_s": tokens / wall if wall else None,
        "burst_replies": len(tally.burst), "burst_wall_s": burst_wall, "burst_tokens": burst_tokens,
        "burst_tokens_per_s": burst_tokens / burst_wall if burst_wall else None,
        "busy_actions": len(tally.busy_actions), "busy_action_p95_s": percentile(tally.busy_actions, 0.95),
        "quiet_action_p50_s": statistics.median(tally.quiet_actions) if tally.quiet_actions else None,
        "errors": len(tally.errors) + unfinished, "error_samples": tally.errors[:3],
        "answers_with_verdict": tally.verdicts, "attempts_stored": attempts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--think-s", type=float, default=1.5, help="mean think time between actions (seconds)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the shipped SmolLM2-135M)")
    parser.add_argument("--moe", action="store_true", help="the 8-expert MoE upcycled from --model (or SmolLM2)")
    parser.add_argument("--threads", type=int, help="the model worker's llama.cpp threads (default: the app's choice)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES),
                        help="which configurations to run (both by default: the comparison is the point)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if max(args.students) > 30:
        sys.exit("at most 30 students (loopback, one machine)")
    with chosen_model(args) as (model, label):
        runs = [run for label_, slots in (MODES[m] for m in args.modes)
                for run in run_mode(model, label_, slots or min(8, max(args.students)), args)]
    report(runs, label, args)


def run_mode(model: Path, mode: str, parallel: int, args: argparse.Namespace) -> list[dict]:
    """Every class size, one after another, on one app process started with ``--parallel``."""
    runs = []
    load = list(os.getloadavg())  # the machine is shared: what else ran is part of each figure
    with tempfile.TemporaryDirectory(prefix="bench-classroom-") as root:
        data = Path(root) / "data"
        with running_app(data, parallel, model, args.threads) as (url, lines):
            plan = next((line for line in lines if re.search(r"\bslots?\b", line)
                         and not line.startswith("tutor_app on")), "")
            for size in args.students:
                run = run_class(url, data / "tutor.sqlite3", size, f"{mode} {size}", args.think_s, args.seed)
                runs.append({"mode": mode, "parallel": parallel, "threads": args.threads, "plan_line": plan,
                             "load_average_at_start": load,
                             **run})
    return runs


def report(runs: list[dict], label: str, args: argparse.Namespace) -> None:
    by = {(r["mode"], r["students"]): r for r in runs}
    speedups = {} if len(args.modes) < 2 else {size: {"burst_wall": ratio(by[("--parallel 1", size)]["burst_wall_s"], by[("batching", size)]["burst_wall_s"]),
                       "burst_tokens_per_s": ratio(by[("batching", size)]["burst_tokens_per_s"],
                                                   by[("--parallel 1", size)]["burst_tokens_per_s"])}
                for size in args.students}
    result = {"benchmark": "classroom", "model": label, "think_s": args.think_s,
              "client": "Gradio's queue protocol as a browser tab speaks it (bench/gradio_queue.py)",
              "seed": args.seed, "machine": {**machine(), "load_average": runs[0]["load_average_at_start"]},
              "batching_vs_parallel_1": speedups, "runs": runs}
    rows = [[r["mode"], r["students"], r["ttft_p50_s"], r["ttft_p95_s"], r["reply_p50_s"], r["reply_p95_s"],
             r["replies_wall_s"], r["decode_tokens_per_s"], r["burst_wall_s"], r["burst_tokens_per_s"],
             r["busy_action_p95_s"], r["errors"],
             f"{r['attempts_stored']}/{r['answers_with_verdict']}"] for r in runs]
    emit(result, table(["mode", "students", "TTFT p50", "TTFT p95", "reply p50", "reply p95", "replies wall",
                        "tok/s", "burst wall", "burst tok/s", "check/hint p95 busy", "errors",
                        "attempts stored/sent"], rows), args.out)


if __name__ == "__main__":
    main()
