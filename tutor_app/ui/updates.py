"""Handlers return what changes by name, the page turns the names into its components.

A handler is a plain function over (services, actor, state, inputs) that returns a dict such as
``{"feedback_md": "...", "answer": gr.Textbox(value="")}``: a test reads it without a running
page, and a handler names what it changes instead of filling a positional tuple in step with a
list of outputs elsewhere. The ``create_*`` function that built the components maps the names
to them when it wires an event (``components``), the way LLaMA-Factory's web UI looks its
components up by name. Gradio takes a dict of components as an event's result and leaves the
outputs it does not name as they were.
"""

from __future__ import annotations

from typing import Any, Mapping

import gradio as gr

Updates = dict[str, Any]


def components(parts: object, updates: Mapping[str, Any]) -> dict[gr.components.Component, Any]:
    """``updates`` keyed by the components of ``parts`` (a view's dataclass) that the names name."""
    return {getattr(parts, name): value for name, value in updates.items()}
