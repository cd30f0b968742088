"""The app as a process of its own, as a school runs it: started with its output collected line
by line, waited for until it is ready, and stopped at the end (also when the caller killed it).
Shared by the tests that need a real app process and by ``bench/classroom.py``."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

REPO = Path(__file__).resolve().parent.parent


class AppDidNotStart(RuntimeError):
    """The process ended, or was not ready in time; the message ends with what it printed."""


@contextmanager
def started_app(command: list[str], env: dict[str, str], *, ready: Callable[[list[str]], bool],
                timeout_s: float) -> Iterator[tuple[subprocess.Popen, list[str]]]:
    """Run ``command`` in the repository with ``env`` added to this process's environment, until
    ``ready(lines)`` is true (``lines``: its output so far, growing as it prints). Yields the
    process and its lines; stops it when the block ends."""
    proc = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(line.rstrip()) for line in proc.stdout], daemon=True).start()
    try:
        deadline = time.monotonic() + timeout_s
        while not ready(lines):
            if proc.poll() is not None:
                raise AppDidNotStart(f"the app ended (exit code {proc.returncode}):\n" + "\n".join(lines[-40:]))
            if time.monotonic() > deadline:
                raise AppDidNotStart(f"the app was not ready after {timeout_s:.0f} s:\n" + "\n".join(lines[-40:]))
            time.sleep(0.3)
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
