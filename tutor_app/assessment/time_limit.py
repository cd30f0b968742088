"""A grading that may take the shared model for at most so many seconds.

One text is graded in several model calls (a call per criterion and part, then a summary), and
each call has its own time limit in the model runtime. What a student can send to
``/grade_submission`` must also be bounded as a whole, or one long text holds the model for
minutes while the class waits. ``within(model, seconds)`` is the model as the grader sees it for one
grading: every call made after the time is up fails at once with a ``ModelError`` saying so, which
the grader reports as a failed grading (a summary call that fails falls back to the criteria's
own next steps).
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

from ..runtime.protocol import Message, ModelBackend, ModelError, T


class GradingTimeUp(ModelError):
    pass


class TimeLimitedModel:
    """The calls of ``ModelBackend`` that the grader makes, refused once ``seconds`` have passed."""

    def __init__(self, model: ModelBackend, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._model = model
        self._seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    @property
    def info(self):
        return self._model.info

    @property
    def last_stats(self):
        return self._model.last_stats

    def generate_json(self, messages: Sequence[Message], schema: type[T], **kwargs) -> T:
        if self._clock() >= self._deadline:
            raise GradingTimeUp(f"grading was stopped after {self._seconds:.0f} seconds, its time limit; "
                                "a shorter text is graded faster")
        return self._model.generate_json(messages, schema, **kwargs)

    def stream_chat(self, *args, **kwargs):
        return self._model.stream_chat(*args, **kwargs)

    def count_tokens(self, text: str) -> int:
        return self._model.count_tokens(text)

    def close(self) -> None:
        pass  # the shared model is not this grading's to close


def within(model: ModelBackend, seconds: float | None) -> ModelBackend:
    return model if seconds is None else TimeLimitedModel(model, seconds)
