"""What every command's handler shares: the app built from the settings, who acts, how it fails.

The person at this computer's terminal is the school's operator (the teacher, or IT), so the
commands act as ``LOCAL_ACTOR``: the identity the loopback-only page gives its one user.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..service.actor import LOCAL_ACTOR
from ..settings import Settings

if TYPE_CHECKING:
    from ..bootstrap import Services

OPERATOR = LOCAL_ACTOR
NOT_NEEDED = "this command does not use the model"


def build(settings: Settings, *, model_needed: bool) -> Services:
    """``create_services(settings)``; a command that asks the model nothing does not load it."""
    from ..bootstrap import create_services

    if model_needed:
        return create_services(settings, wait_for_model=True)  # a command asks the model at once
    from ..runtime.unavailable import UnavailableBackend

    return create_services(settings, model=UnavailableBackend(NOT_NEEDED))


def fail(message: object) -> int:
    """Say what was wrong, on stderr with no traceback; exit status 1."""
    print(f"error: {message}", file=sys.stderr)
    return 1
