"""``python app.py check [SUITE ...]``: validate the curricula folder the way the running app loads
it, and the evaluation suites (those named, else every ``*.yaml`` of the evals folder) against it.

The suites come first and the curricula's summary line last, so a script that reads the last
line reads the curricula's verdict; the exit status covers both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import Settings


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suites", nargs="*", type=Path, metavar="SUITE",
                        help="evaluation suites to check too (default: every *.yaml in the evals folder)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..curriculum.check import run_check  # the library the app loads with

    suites = list(getattr(args, "suites", None) or sorted(settings.evals_dir.glob("**/*.y*ml")))
    suites_status = 0
    if suites:
        from ..evals.commands import check_suites_command

        suites_status = check_suites_command(suites, settings)
    return max(suites_status, run_check(settings.curricula))
