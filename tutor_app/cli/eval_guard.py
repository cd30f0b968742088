"""``python app.py eval-guard FILE.jsonl [--json]``: measure the answer-leak guard on labelled replies.

It runs the guard exactly as the tutor chat does (``dialogue/guard_eval.py``); the guard needs
no model and no database, so no app is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import Settings


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", type=Path, help="labelled replies, one JSON object a line")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..dialogue.guard_eval import eval_guard_command

    return eval_guard_command(args.file, args.json, settings)
