"""The one check every teacher handler makes first: the caller has the teacher role.

The teacher tab is hidden from students, but a hidden tab still has callable events; this
check is what actually keeps class data and exports away from a student's browser.
"""

from __future__ import annotations

import gradio as gr

from ..service.actor import Actor
from ..service.errors import Forbidden
from .auth import SignIn


def require_teacher(signin: SignIn, request: gr.Request | None) -> Actor:
    actor = signin.actor_for(request)
    if not actor.is_teacher:
        raise Forbidden("Only the teacher can see this page.")
    return actor
