"""Training progress as events and one-line messages: step, loss, elapsed and time left.

The trainer reports an event per optimiser step; the command prints the line, a later UI can
draw the same events. Time left is the mean time per step so far times the steps to go: steps
are alike in cost (batches of similar examples), and a first slow step (warm-up) only makes
the estimate cautious.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class ProgressEvent:
    step: int
    total_steps: int
    loss: float | None  # None: no loss logged for this step
    elapsed_s: float

    @property
    def seconds_left(self) -> float | None:
        if self.step <= 0 or self.total_steps <= 0:
            return None
        return self.elapsed_s / self.step * max(0, self.total_steps - self.step)

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0


ProgressCallback = Callable[[ProgressEvent], None]


def clock(seconds: float) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``."""
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(event: ProgressEvent) -> str:
    width = len(str(event.total_steps))
    parts = [f"step {event.step:>{width}}/{event.total_steps}"]
    if event.loss is not None:
        parts.append(f"loss {event.loss:.4f}")
    parts.append(f"{clock(event.elapsed_s)} elapsed")
    left = event.seconds_left
    if left is not None:
        parts.append("done" if event.step >= event.total_steps else f"about {clock(left)} left")
    return "  ".join(parts)
