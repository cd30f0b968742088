"""What the measuring client adds to a quick action's time, three clients side by side.

The same app (``--backend fake``: no model, so only the app and its transport are timed), the
same students and actions, the clients taking turns in one run (``--rounds`` turns each): N
students, each on a thread, start a problem and then alternate a wrong answer and a hint with
seeded think times. Each student calls through
- ``browser``: Gradio's queue protocol as a browser tab speaks it (``gradio_queue.py``);
- ``gradio_client``: one ``Client`` each, as ``classroom.py`` did until 2026-12-06 (its calls
  wait on a 50 ms poll);
- ``rest``: the REST API (``/gradio_api/call/<api>``), where every call is a new Gradio session.
Reported per class size and client: p50/p95/max of an action's time, errors.

    python bench/client_overhead.py [--students 1 8 30] [--actions 8] [--think-s 1.5] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from common import REPO, emit, machine, percentile, table
from gradio_queue import QueueClient

from gradio_client import Client  # noqa: E402

sys.path.insert(0, str(REPO / "tests"))
from app_process_support import AppDidNotStart, started_app  # noqa: E402
from ui_harness import free_port  # noqa: E402

UNIT, PROBLEM, WRONG = "linear-equations", "two-step-1", "2x = 14"
CLIENTS = ("browser", "gradio_client", "rest")


def rest_call(http: httpx.Client, url: str, api_name: str, *data: object) -> object:
    """Gradio's REST API: post the call, then read its result from the event stream."""
    api = api_name.lstrip("/")
    posted = http.post(f"{url.rstrip('/')}/gradio_api/call/{api}", json={"data": list(data)})
    posted.raise_for_status()
    event = None
    with http.stream("GET", f"{url.rstrip('/')}/gradio_api/call/{api}/{posted.json()['event_id']}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"{api}: {line}")
                return json.loads(line.removeprefix("data:"))[0]
    raise RuntimeError(f"{api}: no result")


def student(client: str, url: str, name: str, rng: random.Random, args: argparse.Namespace,
            start: threading.Barrier, times: list, errors: list) -> None:
    closers = []
    try:
        if client == "gradio_client":
            gc = Client(url, verbose=False)
            closers.append(gc.close)  # its heartbeat thread would go on into the next run
            send = lambda api, *data: gc.predict(*data, api_name=api)  # noqa: E731
        elif client == "browser":
            tab = QueueClient(url)
            closers.append(tab.close)
            send = tab.predict
        else:
            http = httpx.Client(timeout=60)
            closers.append(http.close)
            send = lambda api, *data: rest_call(http, url, api, *data)  # noqa: E731
        start.wait(timeout=120)
        session_id = send("/start_session", name, UNIT, PROBLEM)["session_id"]
        for i in range(args.actions):
            time.sleep(rng.uniform(0.5, 1.5) * args.think_s)
            began = time.perf_counter()
            send("/request_hint", session_id) if i % 2 else send("/submit_answer", session_id, WRONG)
            times.append(time.perf_counter() - began)
    except Exception as exc:  # counted; the others carry on
        errors.append(f"{name}: {type(exc).__name__}: {exc}")
    finally:
        for close in closers:
            close()


def run(url: str, client: str, size: int, args: argparse.Namespace) -> dict:
    times: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(size)
    threads = [threading.Thread(target=student, daemon=True, args=(
        client, url, f"{client} {size} student {i}", random.Random(args.seed * 1000 + i), args, start, times, errors))
        for i in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return {"students": size, "client": client, "actions": len(times),
            "p50_s": statistics.median(times) if times else None, "p95_s": percentile(times, 0.95),
            "max_s": max(times) if times else None, "errors": len(errors), "error_samples": errors[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 8, 30])
    parser.add_argument("--actions", type=int, default=8, help="answers and hints per student")
    parser.add_argument("--think-s", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument("--rounds", type=int, default=2, help="each size runs the clients in turn this often")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if max(args.students) > 30:
        sys.exit("at most 30 students (loopback, one machine)")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"

    def listening(_lines: list[str]) -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    with tempfile.TemporaryDirectory(prefix="bench-client-") as root:
        command = [sys.executable, "app.py", "--port", str(port), "--data-dir", root, "--backend", "fake"]
        try:
            with started_app(command, {"GRADIO_TEMP_DIR": str(Path(root) / "gradio")}, ready=listening, timeout_s=120):
                runs = [run(url, client, size, args) for size in args.students for _ in range(args.rounds)
                        for client in args.clients]
        except AppDidNotStart as exc:
            sys.exit(str(exc))
    result = {"benchmark": "client_overhead", "think_s": args.think_s, "actions_per_student": args.actions,
              "seed": args.seed, "machine": machine(), "runs": runs}
    emit(result, table(["students", "client", "actions", "p50 (s)", "p95 (s)", "max (s)", "errors"],
                       [[r["students"], r["client"], r["actions"], r["p50_s"], r["p95_s"], r["max_s"], r["errors"]]
                        for r in runs]), args.out)


if __name__ == "__main__":
    main()
