"""How failures reach a person: a plain message, never a stack trace.

A ``TutorError`` was written for the person and is shown as is; the database failing (full,
read-only) is said as such: nothing was saved, try again (the cause is on the teacher's Model
page and in the log). Anything else is a bug on our side: it is logged with its traceback for
the operator and the person gets a generic sentence that gives nothing about the internals away.

API endpoints run the application call through ``user_errors`` (or ``guard_stream`` for replies
that stream): the client gets a ``gr.Error``. The page's handlers are wrapped in ``page_handler``
instead: the message pops up as a notice and the page stays as it was, rather than every output
of the event turning into a red "Error" badge because someone pressed Check on an empty box.
"""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import gradio as gr

from ..service.errors import TutorError
from ..storage.database import StorageUnavailable

log = logging.getLogger("tutor_app.ui")

GENERIC_MESSAGE = "Something went wrong on our side. Please try again; if it keeps happening, tell your teacher."
NOT_SAVED_MESSAGE = ("That was not saved: the school's database cannot store anything right now. "
                     "Please try again in a minute; your teacher can see what is wrong.")

T = TypeVar("T")


@contextmanager
def user_errors(action: str) -> Iterator[None]:
    """Turn exceptions raised inside the block into ``gr.Error``. ``action`` names what was
    being done, for the log only."""
    try:
        yield
    except gr.Error:
        raise
    except TutorError as exc:
        raise gr.Error(str(exc) or "That request was not valid.", title="Sorry", print_exception=False) from None
    except StorageUnavailable:  # logged by the database, with its cause
        raise gr.Error(NOT_SAVED_MESSAGE, title="Not saved", print_exception=False) from None
    except Exception:
        log.exception("unexpected error while %s", action)
        raise gr.Error(GENERIC_MESSAGE, title="Sorry", print_exception=False) from None


def guard_stream(action: str, chunks: Iterator[T]) -> Iterator[T]:
    """``user_errors`` for a generator: the error may come at any chunk, not only at the call."""
    with user_errors(action):
        yield from chunks


def page_handler(action: str) -> Callable[[Callable], Callable]:
    """Decorate a page event handler (see the module notes). ``action`` names it for the log."""

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)  # Gradio reads the signature (through __wrapped__) to pass gr.Request
        def handler(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except TutorError as exc:
                gr.Warning(str(exc) or "That request was not valid.", title="Please check")
            except StorageUnavailable:
                gr.Warning(NOT_SAVED_MESSAGE, title="Not saved")
            except Exception:
                log.exception("unexpected error while %s", action)
                gr.Warning(GENERIC_MESSAGE, title="Sorry")
            return gr.skip()

        return handler

    return wrap
