"""A signed-in student's wait while others flood the sign-in with wrong PINs (issue 16.3).

Three clients post wrong PINs for made-up names, 12.5 tries a second together (the probe's
figure), while one signed-in student reads their session over and over (``/session_state``
through gradio_client). The same app, side by side in one run, signs in three ways:

- ``gradio-login``: Gradio's own sign-in with a plain ``auth=`` callable, as before the gate: every
  scrypt check runs on the server's event loop, and nothing limits the tries;
- ``gate-unlimited``: the app's sign-in gate (checks in worker threads), limits switched off;
- ``gate``: the gate as shipped, with the per-address limit (after 30 tries, one each 2 s).

Reported: the student's median and 90th-percentile wait, and how many secrets were checked.

    python bench/signin_flood.py [--seconds 12] [--out bench/results/signin_flood.json]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from common import REPO, emit, table  # noqa: F401  (REPO puts the project on sys.path)

from gradio_client import Client  # noqa: E402

from tutor_app.runtime.fake import ScriptedBackend  # noqa: E402
from tutor_app.ui.app import create_app  # noqa: E402
from tutor_app.ui.launch import serve  # noqa: E402
from tutor_app.ui.theme import create_theme, load_css  # noqa: E402

TESTS = REPO / "tests"
RATE = 12.5  # wrong tries a second, all clients together
CLIENTS = 3


def start(root: Path, how: str):
    import sys

    sys.path.insert(0, str(TESTS))
    from ui_harness import add_roster, build_services, free_port

    services = build_services(root, ScriptedBackend(), require_login=True)
    pin = add_roster(services, ["Ana"])["Ana"]
    if how != "gate":
        services.auth.throttle.admit = lambda key, address: None  # no limits: only where the check runs differs
    demo = create_app(services)
    port = free_port()
    if how == "gradio-login":
        demo.queue(default_concurrency_limit=None)
        _, url, _ = demo.launch(server_name="127.0.0.1", server_port=port, auth=demo.tutor_signin.check,
                                prevent_thread_lock=True, quiet=True, show_error=False, theme=create_theme(),
                                css=load_css(), enable_monitoring=False, ssr_mode=False, run_history=False)
    else:
        url = serve(demo, host="127.0.0.1", port=port, block=False, quiet=True)
    return demo, services, url, pin


def flood(url: str, stop: threading.Event, client: int, tries: list[int]) -> None:
    with httpx.Client(timeout=60) as http:
        for n in itertools.count():
            if stop.is_set():
                return
            started = time.perf_counter()
            http.post(url + "login", data={"username": f"nobody {client} {n}", "password": "000000"})
            tries.append(1)
            time.sleep(max(0.0, CLIENTS / RATE - (time.perf_counter() - started)))


def measure(how: str, seconds: float, flooded: bool) -> dict:
    with tempfile.TemporaryDirectory() as root:
        demo, services, url, pin = start(Path(root), how)
        checked = []
        verify = services.auth.verify
        services.auth.verify = lambda *a, **k: (checked.append(1), verify(*a, **k))[1]
        try:
            student = Client(url, auth=("Ana", pin), verbose=False)
            session = student.predict("Ana", "equations-test", "two-step-1", api_name="/start_session")["session_id"]
            stop, tries = threading.Event(), []
            floods = [threading.Thread(target=flood, args=(url, stop, c, tries), daemon=True)
                      for c in range(CLIENTS if flooded else 0)]
            for thread in floods:
                thread.start()
            time.sleep(1.0 if flooded else 0.0)
            waits, end = [], time.monotonic() + seconds
            while time.monotonic() < end:
                started = time.perf_counter()
                student.predict(session, api_name="/session_state")
                waits.append(time.perf_counter() - started)
            stop.set()
            for thread in floods:
                thread.join(timeout=60)
        finally:
            demo.close()
            services.close()
    waits.sort()
    return {"sign_in": how, "flood": flooded, "calls": len(waits), "p50_s": statistics.median(waits),
            "p90_s": waits[int(0.9 * (len(waits) - 1))], "tries": len(tries), "secrets_checked": len(checked)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = [measure("gate", args.seconds, flooded=False)]
    for how in ("gradio-login", "gate-unlimited", "gate"):
        runs.append(measure(how, args.seconds, flooded=True))
    result = {"benchmark": "signin_flood", "rate_per_s": RATE, "clients": CLIENTS, "seconds": args.seconds,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version(), "load_average": list(os.getloadavg())},
              "runs": runs}
    rows = [[r["sign_in"], "yes" if r["flood"] else "no", r["calls"], r["p50_s"], r["p90_s"], r["tries"],
             r["secrets_checked"]] for r in runs]
    emit(result, table(["sign-in", "flood", "calls", "p50 (s)", "p90 (s)", "tries", "checked"], rows), args.out)


if __name__ == "__main__":
    main()
