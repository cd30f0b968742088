"""The model's decoding speed measured on this machine, and the planner corrected by it.

The offload planner estimates tokens/s from constants (bandwidths, FLOPs per thread) that a
given machine may not reach: on the project's shared 2-core VM it promised 74 tokens/s for the
default model, where 27.5 was measured, and so ``download auto`` could recommend a quant that
then ran at about 1 token/s. So once the app has loaded a model, it decodes a short fixed text
(``measure_decode``: ``DECODE_TOKENS`` tokens at batch priority, so a student's question goes
first) within its first minute, and keeps the result in the data folder
(``<data>/model-speed.json``), with the planner's estimate for the same model beside it. The
teacher's model panel shows both.

The planner's figure is a sum of per-resource times (``OffloadPlan.seconds_per_token``). One
measurement cannot correct every constant, so it corrects the one that limited the measured
model (``calibrated_scale``): on a CPU the larger of memory and compute time, with a GPU the
larger of the CPU's and the GPU's share. A small model decoding on the CPU is compute-bound,
and a third of the estimated speed means the CPU's threads deliver a third of the assumed FLOPs;
every plan for this machine then uses that (``Machine.speed_scale``). Recommendations
(``registry.choose_quant``) take only models whose corrected estimate reaches the stated
minimum (``--min-tokens-per-s``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .machine import Machine, SpeedScale
from .offload import OffloadPlan
from .protocol import GenerationStats, ModelError

log = logging.getLogger(__name__)

FILE_NAME = "model-speed.json"
DECODE_TOKENS = 64
LOAD_WAIT_S = 900.0  # a large model loads in the worker for minutes while the app listens
IDLE_WAIT_S = 60.0  # "in the first minute": wait this long for a moment nobody is asking the model
SCALE_LIMITS = (0.02, 20.0)  # a measurement outside this is a broken clock, not a machine
KEEP = 20  # measurements kept in the file
PROMPT = [{"role": "system", "content": "You write plain text."},
          {"role": "user", "content": "Count from one to fifty in words, separated by commas."}]


@dataclass(frozen=True)
class SpeedMeasurement:
    model: str  # the model's name, as the panel shows it
    path: str | None  # the GGUF file
    machine: str  # which machine (``machine_key``): a measurement says nothing about another one
    measured_tokens_per_s: float
    estimated_tokens_per_s: float | None  # the planner's estimate for this model, before correction
    tokens: int
    measured_at: str  # ISO 8601, UTC
    scale: SpeedScale = SpeedScale()  # what the planner uses for this machine from now on

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.measured_at)


def machine_key(machine: Machine) -> str:
    gpus = ", ".join(g.name for g in machine.usable_gpus) or "no GPU"
    return f"{machine.cpu_count} CPUs, {round(machine.total_ram / 2**30)} GiB RAM, {gpus}"


# measuring ----------------------------------------------------------------------------------
def measure_decode(model: Any, *, tokens: int = DECODE_TOKENS) -> tuple[float, int]:
    """(decode tokens/s, tokens generated) of one short reply; ``ModelError`` when the model
    cannot give one, or gives too few tokens to time."""
    stats: list[GenerationStats] = []
    for _ in model.stream_chat(PROMPT, max_tokens=tokens, temperature=0.0, priority="batch", on_stats=stats.append):
        pass
    found = stats[-1] if stats else getattr(model, "last_stats", None)
    if found is None or found.decode_tokens_per_s <= 0:
        raise ModelError("the model produced too few tokens to time its decoding")
    return found.decode_tokens_per_s, found.completion_tokens


def calibrated_scale(plan: OffloadPlan, measured_tokens_per_s: float, current: SpeedScale) -> SpeedScale:
    """``current`` corrected so that ``plan`` would have predicted ``measured_tokens_per_s``: the
    resource that limited the plan gets the time that is left once the other parts are taken
    off (module notes). On the CPU, slower than planned corrects its slower part; faster than
    planned corrects every part that would still be slower than the measurement allows."""
    terms = plan.seconds_per_token
    if not terms or measured_tokens_per_s <= 0:
        return current
    cpu = max(terms["cpu_memory"], terms["cpu_compute"])
    total = 1 / measured_tokens_per_s
    if terms["gpu_memory"] > cpu:
        changed = {"gpu_memory": terms["gpu_memory"] / _positive(total - cpu - terms["fixed"])}
    else:
        left = _positive(total - terms["gpu_memory"] - terms["fixed"])
        parts = ["cpu_memory", "cpu_compute"]
        slower = left >= cpu
        changed = {k: terms[k] / left for k in parts
                   if (terms[k] == cpu if slower else terms[k] > left) and terms[k] > 0}
    limited = {k: min(max(getattr(current, k) * f, SCALE_LIMITS[0]), SCALE_LIMITS[1]) for k, f in changed.items()}
    return replace(current, **limited)


def _positive(seconds: float) -> float:
    """A time left for a resource; a measurement faster than the fixed costs alone leaves almost none."""
    return max(seconds, 1e-6)


# the file -------------------------------------------------------------------------------------
class SpeedRecords:
    """``<data>/model-speed.json``: the latest measurements, newest last."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._lock = threading.Lock()

    def all(self) -> list[SpeedMeasurement]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [SpeedMeasurement(**{**item, "scale": SpeedScale(**item.get("scale", {}))}) for item in raw]
        except (OSError, ValueError, TypeError):  # missing, or damaged by hand: no measurement, not a crash
            return []

    def latest(self, machine: Machine | str, model: str | None = None) -> SpeedMeasurement | None:
        key = machine if isinstance(machine, str) else machine_key(machine)
        found = [m for m in self.all() if m.machine == key and (model is None or m.model == model)]
        return found[-1] if found else None

    def latest_for_model(self, model: str) -> SpeedMeasurement | None:
        """The newest measurement of ``model`` (the data folder belongs to one installation, so
        the teacher's page needs no probe of the machine to find it)."""
        found = [m for m in self.all() if m.model == model]
        return found[-1] if found else None

    def add(self, measurement: SpeedMeasurement) -> None:
        with self._lock:
            kept = (self.all() + [measurement])[-KEEP:]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(self.path.name + ".partial")
            partial.write_text(json.dumps([asdict(m) for m in kept], indent=1), encoding="utf-8")
            os.replace(partial, self.path)


def with_measured_speed(machine: Machine, data_dir: Path) -> Machine:
    """``machine`` with the speed scale of the latest measurement made on it, if any."""
    latest = SpeedRecords(data_dir).latest(machine)
    return replace(machine, speed_scale=latest.scale) if latest else machine


# the check the app runs after loading a model ----------------------------------------------------
def check_speed(model: Any, settings: Any, *, machine: Machine | None = None) -> SpeedMeasurement:
    """Measure the loaded model, correct the planner by it and store both (module notes)."""
    from .gguf_info import read_model_shape
    from .machine import probe_machine_in_child  # the web app's process never loads llama.cpp
    from .offload import plan_offload

    info = model.info
    if info.backend != "llama.cpp" or not info.path:
        raise ModelError("only a model this machine runs itself (llama.cpp) says how fast this machine is")
    machine = machine or probe_machine_in_child()
    records = SpeedRecords(settings.data_dir)
    previous = records.latest(machine)
    base = previous.scale if previous else SpeedScale()
    measured, tokens = measure_decode(model)
    plan = plan_offload(read_model_shape(Path(info.path)), replace(machine, speed_scale=base), settings)
    uncorrected = plan_offload(read_model_shape(Path(info.path)), replace(machine, speed_scale=SpeedScale()), settings)
    measurement = SpeedMeasurement(
        model=info.name, path=info.path, machine=machine_key(machine), measured_tokens_per_s=round(measured, 2),
        estimated_tokens_per_s=uncorrected.expected_tokens_per_s, tokens=tokens,
        measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        scale=calibrated_scale(plan, measured, base))
    records.add(measurement)
    return measurement


def start_speed_check(model: Any, settings: Any, *, idle_wait_s: float = IDLE_WAIT_S,
                      load_wait_s: float = LOAD_WAIT_S) -> threading.Thread | None:
    """Run ``check_speed`` in the background once the model has loaded (the model worker loads
    while the app already listens; at most ``load_wait_s``) and is idle (at most ``idle_wait_s``
    more); only for a model this machine runs. Never raises: a failed measurement leaves the
    planner as it was and says so in the log."""
    if model.info.backend != "llama.cpp":
        return None  # a model server elsewhere, or none: nothing to learn about this machine

    def run() -> None:
        loaded_by = time.monotonic() + load_wait_s
        while not model.info.available and time.monotonic() < loaded_by:
            time.sleep(1.0)
        info = model.info
        if not info.available or info.backend != "llama.cpp":
            return  # no model, or one served elsewhere: nothing to learn about this machine
        deadline = time.monotonic() + idle_wait_s
        while time.monotonic() < deadline and getattr(model, "waiting", lambda: 0)() > 0:
            time.sleep(0.5)
        try:
            found = check_speed(model, settings)
            log.info("model speed: %s decodes at %.1f tokens/s here (the planner estimated %s)", found.model,
                     found.measured_tokens_per_s, found.estimated_tokens_per_s)
        except Exception as exc:  # the app runs on; the planner keeps its constants
            log.warning("could not measure the model's speed: %s", exc)

    thread = threading.Thread(target=run, name="model-speed-check", daemon=True)
    thread.start()
    return thread
