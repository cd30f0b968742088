"""The one check every teacher handler makes first: the caller has the teacher role.

The teacher tab is hidden from students, but a hidden tab still has callable events; this
check is what actually keeps class data and exports away from a student's browser. Without
sign-in, the local user passes only in a page unlocked with the teacher password.
"""

from __future__ import annotations

import gradio as gr

from ..service.actor import Actor
from .auth import SignIn


def require_teacher(signin: SignIn, request: gr.Request | None) -> Actor:
    return signin.teacher_for(request)
