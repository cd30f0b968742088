"""A wall-clock limit for sympy work that runs on any thread.

Student answers reach sympy, and some small inputs make it work for a long time. ``signal.alarm``
only works on the main thread, but Gradio runs handlers on worker threads, so each limited call
runs on a short-lived daemon thread that the caller waits for. A thread cannot be killed, so on
timeout the worker gets an asynchronous exception (``PyThreadState_SetAsyncExc``): sympy is pure
Python, so it stops at its next bytecode instead of burning a CPU core in the background. The
parser's size guards (``mathparse``) keep the slow C-level work (huge integer powers) from ever
starting, since an asynchronous exception cannot interrupt that.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Callable, TypeVar

T = TypeVar("T")

DEFAULT_TIME_LIMIT_S = 2.0
_STOP_TRIES = 3  # a worker inside an ``except BaseException`` may swallow the first stop request


class TimeLimitExceeded(Exception):
    """The limited call did not finish in time; its worker was asked to stop."""


class _Abandoned(BaseException):
    """Raised inside a worker whose caller stopped waiting (BaseException so that sympy's
    ``except Exception`` blocks do not swallow it)."""


def run_with_time_limit(fn: Callable[..., T], *args, seconds: float = DEFAULT_TIME_LIMIT_S) -> T:
    """``fn(*args)`` on a worker thread; its result, its exception, or ``TimeLimitExceeded``."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = fn(*args)
        except _Abandoned:
            pass
        except BaseException as exc:  # handed to the caller, who decides
            box["error"] = exc

    worker = threading.Thread(target=work, name="checking-limited", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        _stop(worker, box)
        raise TimeLimitExceeded(f"gave up after {seconds:g} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    if "value" not in box:  # stopped by a stray request meant for an earlier thread with the same id
        raise TimeLimitExceeded("the check was interrupted")
    return box["value"]  # type: ignore[return-value]


def _stop(worker: threading.Thread, box: dict) -> None:
    for _ in range(_STOP_TRIES):
        if worker.ident is None or not worker.is_alive() or box:
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_Abandoned))
        worker.join(0.05)
