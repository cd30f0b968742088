"""Every event's text inputs are checked before its handler runs (``service/text.py``).

There are dozens of handlers and API endpoints, each with its own text fields; checking each one
by hand would leave gaps. So ``guard_text_inputs`` wraps every function registered on the page
(the API's and the page's own) once the app is built: a lone surrogate or a NUL in any argument,
or inside a chat history, is refused with a message naming the argument, before the handler, the
services or the database see it. The wrapper keeps the function's kind (plain, generator, async)
and signature, which Gradio reads to pass ``gr.Request`` and to stream.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import gradio as gr

from ..service.errors import TutorError
from ..service.text import check_text


def guard_text_inputs(demo: gr.Blocks) -> None:
    for block_fn in demo.fns.values():
        if block_fn.fn is not None and not hasattr(block_fn.fn, "text_guarded"):
            block_fn.fn = guarded(block_fn.fn)


def guarded(fn: Callable) -> Callable:
    """``fn`` with its text arguments checked first; ``text_guarded`` on the result is ``fn``."""
    names = list(inspect.signature(fn).parameters)

    def check(args: tuple, kwargs: dict) -> None:
        try:
            for index, value in enumerate(args):
                check_text(value, field=_field(names[index] if index < len(names) else "input"))
            for name, value in kwargs.items():
                check_text(value, field=_field(name))
        except TutorError as exc:
            raise gr.Error(str(exc), title="Please check", print_exception=False) from None

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            check(args, kwargs)
            async for item in fn(*args, **kwargs):
                yield item
    elif inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            check(args, kwargs)
            yield from fn(*args, **kwargs)
    elif inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def wrapper(*args, **kwargs):
            check(args, kwargs)
            return await fn(*args, **kwargs)
    else:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            check(args, kwargs)
            return fn(*args, **kwargs)
    wrapper.text_guarded = fn
    return wrapper


def _field(name: str) -> str:
    return name.replace("_", " ") if name.isidentifier() else "input"


def unguarded(fn: Any) -> Any:
    """The handler as written (tests call page handlers directly)."""
    return getattr(fn, "text_guarded", fn)
