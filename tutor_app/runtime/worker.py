"""The model worker process: llama.cpp loaded here, never in the web app.

A native crash in llama.cpp (AMX's matrix multiply, a ``GGML_ASSERT``, CUDA out of memory, a
bad GGUF) kills the process it runs in. Running it here, as Ollama and LM Studio do, means such
a crash costs one reply, not every student's page: the app's supervisor (``supervisor.py``)
sees this process die, records why and starts a new one.

Started by the supervisor as ``python -m tutor_app.runtime.worker``. The configuration (the
settings, and the bearer token for this start) comes on stdin, so the token is never on the
command line for other users to read. stdin stays open: when it closes, the app is gone and so
is this process. stdout is the event channel back to the supervisor, one JSON object a line:

- ``{"event": "listening", "port": N}``: the HTTP server is up (before the model loads);
- ``{"event": "plan", "line": "..."}``: the offload plan, to print at the app's start-up;
- ``{"event": "ready", "info": {...}}``: the model is loaded and served;
- ``{"event": "unavailable", "problem": "..."}``: it cannot be loaded (a bad file, too big):
  no crash, so no restart; the app runs without the model and says why.

Everything else this process writes (llama.cpp's own log, Python's prints and tracebacks) goes
to stderr, which the supervisor points at the worker's log file in the data dir.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
from typing import IO

TEST_HOOKS_VARIABLE = "TUTOR_WORKER_TEST_HOOKS"


class Events:
    """The event channel: a private copy of stdout, with fd 1 itself sent to stderr so that
    nothing else (a stray print, a native library) can write into the channel."""

    def __init__(self) -> None:
        self._out: IO[str] = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        os.dup2(2, 1)
        self._lock = threading.Lock()

    def send(self, event: str, **fields) -> None:
        with self._lock:
            self._out.write(json.dumps({"event": event, **fields}) + "\n")
            self._out.flush()


def lower_priority(steps: int) -> None:
    """Run below the app's CPU priority. On a school machine the model's threads would otherwise
    take the cores from the web app, whose answer checks and hints are plain code that a student
    expects at once; with the model a few steps lower, the scheduler answers them first and the
    model still gets every cycle the app leaves idle. (A process may always lower its own
    priority; raising it back would need privileges, so this is done once, at start.)"""
    if steps > 0 and hasattr(os, "nice"):
        try:
            os.nice(steps)
        except OSError:
            pass  # a platform or sandbox that refuses: the worker runs at the app's priority


def main() -> int:
    events = Events()
    config = json.loads(sys.stdin.readline())

    from ..settings import Settings
    from .loading import load_in_process
    from .unavailable import UnavailableBackend
    from .worker_server import WorkerState, serve_in_background

    settings = Settings(**config["settings"])
    lower_priority(settings.worker_nice)
    hooks = None
    if os.environ.get(TEST_HOOKS_VARIABLE) == "1":  # otherwise the hooks are not even imported
        from . import worker_hooks as hooks
    state = WorkerState(config["token"], piece_hook=hooks.crash_hook(settings.data_dir) if hooks else None)
    server = serve_in_background(state)
    events.send("listening", port=server.port, pid=os.getpid())
    if hooks:
        hooks.crash_at_start_if_armed(settings.data_dir)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)
        events.send("plan", line=line)

    if hooks:
        hooks.pretend_machine()
    backend = load_in_process(settings, say=say, verbose=True)  # llama.cpp's log: what a crash report shows
    if isinstance(backend, UnavailableBackend):
        state.loading_problem = backend.problem
        events.send("unavailable", problem=backend.problem, info=dataclasses.asdict(backend.info))
        return 0
    state.backend = backend
    events.send("ready", info=dataclasses.asdict(backend.info))
    sys.stdin.read()  # until the app closes our stdin, or dies
    server.shutdown()
    backend.close()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown: llama.cpp's threads and atexit handlers have nothing to save
