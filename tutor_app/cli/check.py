"""``python app.py check``: validate the curricula folder the way the running app loads it."""

from __future__ import annotations

import argparse

from ..settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..curriculum.check import run_check  # the library the app loads with, and nothing else

    return run_check(settings.curricula)
