"""Test-only hooks of the model worker; imported only when ``TUTOR_WORKER_TEST_HOOKS=1``.

The crash tests must make the worker die the way llama.cpp dies (a native crash, no Python
exception, no clean-up). Arming, by files in the data dir:
- ``worker-test-crash`` holding a number N: the next stream that sends its Nth piece takes the
  file away and dereferences NULL (a crash in the middle of a streamed reply);
- ``worker-test-crash-at-start``: every worker start crashes before the model is ready, while
  the file is there (a model that cannot be loaded without crashing).
And ``TUTOR_WORKER_TEST_MACHINE`` (JSON of a ``machine.Machine``, GPUs included) makes the
planner in the worker plan for that machine: how experts-on-CPU plans are tested through the
worker on a machine without a GPU.
Without the variable this module is never imported and the worker has no hook at all.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

ARM_FILE = "worker-test-crash"
START_ARM_FILE = "worker-test-crash-at-start"


def null_dereference() -> None:
    sys.stderr.write("test hook: dereferencing NULL now\n")
    sys.stderr.flush()
    ctypes.string_at(0)  # SIGSEGV, as a native crash in llama.cpp would be


def crash_at_start_if_armed(data_dir: Path) -> None:
    if (Path(data_dir) / START_ARM_FILE).exists():
        null_dereference()


def crash_hook(data_dir: Path):
    """The piece hook for ``WorkerState``: crash after the armed number of pieces."""
    arm = Path(data_dir) / ARM_FILE

    def after_piece(sent: int) -> None:
        try:
            wanted = int(arm.read_text().strip() or "1")
        except (OSError, ValueError):
            return
        if sent >= wanted:
            arm.unlink(missing_ok=True)
            null_dereference()

    return after_piece


MACHINE_VARIABLE = "TUTOR_WORKER_TEST_MACHINE"


def pretend_machine() -> None:
    raw = os.environ.get(MACHINE_VARIABLE)
    if not raw:
        return
    from . import machine

    spec = json.loads(raw)
    gpus = [machine.Gpu(**g) for g in spec.pop("gpus", [])]
    pretended = machine.Machine(gpus=gpus, **spec)
    machine.probe_machine = lambda: pretended
