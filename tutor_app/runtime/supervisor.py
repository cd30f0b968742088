"""Starts the model worker, watches it, restarts it, and remembers how it died.

The app must listen at once and keep serving everything that needs no model, whatever the
worker does. So the worker is started from a background thread; that thread reads the worker's
events (``worker.py``) until the process ends, then records the crash (time, exit code or
signal, the last lines of its log file) and starts a new worker after a pause that grows with
each crash in a row (``BACKOFF_S``). A worker that keeps dying before it is ready (a crash on
load, which a restart will not cure) is given up after ``MAX_START_CRASHES``: the app then runs
without the model and the teacher's model panel says why, as with ``--backend none``. A worker
that says it cannot load the model (a bad file, too big for the machine) is not a crash and is
not restarted.

The worker's log file (``model-worker.log`` in the data dir) holds llama.cpp's own output, so
the last lines before a crash are usually the explanation.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Literal

from ..settings import APP_DIR, Settings

log = logging.getLogger(__name__)

WorkerStatus = Literal["starting", "ready", "restarting", "gave up", "unavailable", "stopped"]
LOG_NAME = "model-worker.log"
MAX_START_CRASHES = 3  # crashes in a row before the worker was ready: a restart will not cure it
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # pauses before restart n, then the last one again
STABLE_AFTER_S = 60.0  # a worker ready this long resets the pause to the first one
LOG_TAIL_LINES = 20
MAX_LOG_BYTES = 5 << 20  # at a start beyond this the log moves to model-worker.log.1


@dataclass(frozen=True)
class CrashRecord:
    at: datetime
    exit_code: int | None  # None when a signal ended it
    signal: str | None  # "SIGSEGV", "SIGKILL"...
    during: Literal["start-up", "serving"]
    log_tail: tuple[str, ...]

    @property
    def how(self) -> str:
        return f"killed by {self.signal}" if self.signal else f"exited with code {self.exit_code}"

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(timespec="seconds"), "how": self.how, "exit_code": self.exit_code,
                "signal": self.signal, "during": self.during, "log_tail": list(self.log_tail)}


@dataclass
class WorkerRun:
    """One start of the worker process."""

    number: int
    process: subprocess.Popen
    token: str
    log_offset: int
    started: float = field(default_factory=time.monotonic)
    port: int | None = None
    info: dict | None = None
    ready_at: float | None = None
    exited: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def exit_description(returncode: int) -> tuple[int | None, str | None]:
    if returncode < 0:
        try:
            return None, signal.Signals(-returncode).name
        except ValueError:
            return None, f"signal {-returncode}"
    return returncode, None


def how_it_ended(returncode: int) -> str:
    code, sig = exit_description(returncode)
    return f"killed by {sig}" if sig else f"exited with code {code}"


class Supervisor:
    def __init__(self, settings: Settings, *, say: Callable[[str], None] | None = None,
                 on_ready: Callable[[WorkerRun], None] | None = None, max_start_crashes: int = MAX_START_CRASHES,
                 backoff_s: tuple[float, ...] = BACKOFF_S, stable_after_s: float = STABLE_AFTER_S,
                 env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.on_ready = on_ready
        self.max_start_crashes = max_start_crashes
        self.backoff_s = backoff_s
        self.stable_after_s = stable_after_s
        self.env = env
        self.log_path = Path(settings.data_dir) / LOG_NAME
        self.crashes: deque[CrashRecord] = deque(maxlen=20)
        self.restarts = 0
        self.status: WorkerStatus = "starting"
        self.problem: str | None = None  # why the model cannot be used now, in words for the teacher
        self.current: WorkerRun | None = None
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # control ----------------------------------------------------------------------------
    def start(self) -> "Supervisor":
        self._thread = threading.Thread(target=self._supervise, name="model-worker-supervisor", daemon=True)
        self._thread.start()
        return self

    def wait_settled(self, timeout_s: float | None = None) -> WorkerStatus:
        """Wait until the worker is ready, or will not be (given up, unavailable, stopped)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while self.status in ("starting", "restarting"):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._changed.wait(remaining)
            return self.status

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        run = self.current
        if run is not None:
            _end(run.process, timeout_s)
        with self._changed:
            self._set("stopped", None)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def summary(self) -> dict[str, Any]:
        """For the model panel: the worker's state, its process and its crashes, newest first."""
        run = self.current
        return {"state": self.status, "pid": run.process.pid if run else None, "restarts": self.restarts,
                "log": str(self.log_path), "crashes": [c.as_dict() for c in reversed(self.crashes)]}

    # the loop ---------------------------------------------------------------------------
    def _supervise(self) -> None:
        start_crashes = 0
        pause_index = 0
        number = 0
        while not self._stop.is_set():
            number += 1
            run = self._launch(number)
            outcome = self._follow(run) if run is not None else "crashed"
            if self._stop.is_set():
                return
            if outcome == "unavailable":
                return  # _follow has said why; a restart would fail the same way
            record = self._record_crash(run)
            was_ready = run is not None and run.ready_at is not None
            if was_ready and time.monotonic() - run.ready_at >= self.stable_after_s:
                pause_index = 0
            start_crashes = 0 if was_ready else start_crashes + 1
            if start_crashes >= self.max_start_crashes:
                with self._changed:
                    self._set("gave up", f"The model worker crashed {start_crashes} times in a row while starting "
                                         f"(last: {record.how}), so the app runs without the model. Last lines of "
                                         f"its log ({self.log_path}): " + " | ".join(record.log_tail[-5:]))
                log.error("model worker given up: %s", self.problem)
                return
            pause = self.backoff_s[min(pause_index, len(self.backoff_s) - 1)]
            pause_index += 1
            when = record.at.astimezone().strftime("%H:%M:%S")
            with self._changed:
                self._set("restarting", f"The model worker stopped at {when} ({record.how}) and restarts in "
                                        f"{pause:g} s. Hints and answer checking keep working.")
            log.warning("model worker %s at %s; restarting in %g s", record.how, when, pause)
            if self._stop.wait(pause):
                return
            self.restarts += 1

    def _launch(self, number: int) -> WorkerRun | None:
        token = secrets.token_urlsafe(32)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        _rotate(self.log_path)
        with open(self.log_path, "ab") as log_file:
            log_file.write(f"--- model worker start {number} at {datetime.now().isoformat(timespec='seconds')}\n"
                           .encode())
            log_file.flush()
            offset = log_file.tell()
            env = dict(self.env if self.env is not None else os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(APP_DIR), env.get("PYTHONPATH", "")) if p)
            try:
                process = subprocess.Popen([sys.executable, "-m", "tutor_app.runtime.worker"], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, stderr=log_file, env=env, cwd=str(APP_DIR),
                                           close_fds=True)
            except OSError as exc:
                log_file.write(f"cannot start the model worker: {exc}\n".encode())
                return None
        if self._stop.is_set():  # stopped while this one was starting: it must not outlive the app
            _end(process, 10.0)
            return None
        run = WorkerRun(number=number, process=process, token=token, log_offset=offset)
        config = {"token": token, "settings": self.settings.model_dump(mode="json")}
        try:
            process.stdin.write((json.dumps(config) + "\n").encode())
            process.stdin.flush()  # and kept open: the worker ends when it closes
        except OSError:
            pass  # it died already; _follow sees the exit
        with self._changed:
            self.current = run
            if self.status != "restarting":
                self._set("starting", "The model is starting in its worker process; the tutor chat works as soon "
                                      "as it is loaded. Hints and answer checking work now.")
        return run

    def _follow(self, run: WorkerRun) -> Literal["crashed", "unavailable"]:
        """Read the worker's events until it ends."""
        outcome: Literal["crashed", "unavailable"] = "crashed"
        for raw in run.process.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            kind = event.get("event")
            if kind == "listening":
                run.port = int(event["port"])
            elif kind == "plan":
                self.say(event["line"])
            elif kind == "ready":
                run.info, run.ready_at = event.get("info") or {}, time.monotonic()
                if self.on_ready is not None:
                    self.on_ready(run)
                with self._changed:
                    self._set("ready", None)
            elif kind == "unavailable":
                outcome = "unavailable"
                run.info = event.get("info") or {}
                with self._changed:
                    self._set("unavailable", event.get("problem") or "the model could not be loaded")
        run.process.wait()
        run.exited.set()
        return outcome

    def _record_crash(self, run: WorkerRun | None) -> CrashRecord:
        if run is None:
            record = CrashRecord(datetime.now(timezone.utc), None, None, "start-up", _tail(self.log_path, 0))
        else:
            code, sig = exit_description(run.process.returncode)
            record = CrashRecord(datetime.now(timezone.utc), code, sig, "serving" if run.ready_at else "start-up",
                                 _tail(self.log_path, run.log_offset))
        self.crashes.append(record)
        return record

    def _set(self, status: WorkerStatus, problem: str | None) -> None:
        """Change state; the caller holds ``_changed``."""
        if self.status == "stopped":
            return
        self.status, self.problem = status, problem
        self._changed.notify_all()


def _tail(path: Path, offset: int, lines: int = LOG_TAIL_LINES) -> tuple[str, ...]:
    """The last ``lines`` non-empty lines written to ``path`` since ``offset``."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(offset, size - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ()
    return tuple(line.rstrip() for line in text.splitlines() if line.strip())[-lines:]


def _rotate(path: Path) -> None:
    try:
        if path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_name(path.name + ".1"))
    except OSError:
        pass


def _end(process: subprocess.Popen, timeout_s: float) -> None:
    """Close the worker's stdin (it exits by itself), then terminate, then kill."""
    try:
        if process.stdin:
            process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(timeout_s / 2)
        return
    except subprocess.TimeoutExpired:
        process.terminate()
    try:
        process.wait(timeout_s / 2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
