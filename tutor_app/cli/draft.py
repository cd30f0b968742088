"""``python app.py draft UNIT [--count N]``: the model drafts practice problems into ``drafts/``.

The same drafting as the teacher's Worksheets page (``PracticeService.draft_quiz``): each draft
is checked like a teacher's problem and written for review, never into the curricula.
"""

from __future__ import annotations

import argparse
import sys

from ..settings import Settings
from .app import OPERATOR, build, fail

DEFAULT_COUNT = 5


def arguments(parser: argparse.ArgumentParser) -> None:
    from ..practice.quiz_drafts import MAX_DRAFTS

    parser.add_argument("unit", metavar="UNIT", help="the unit's id: drafts use its skills and misconceptions")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT,
                        help=f"how many problems to draft (default: {DEFAULT_COUNT}, at most {MAX_DRAFTS})")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..service.errors import TutorError

    services = build(settings, model_needed=True)
    try:
        report = services.practice.draft_quiz(OPERATOR, args.unit, args.count)  # says when there is no model
    except TutorError as exc:
        return fail(exc)
    finally:
        services.close()
    for rejected in report.rejected:
        print(f"rejected draft {rejected.number}: {'; '.join(rejected.reasons)}", file=sys.stderr)
    print(f"{len(report.accepted)} draft(s) accepted, {len(report.rejected)} rejected", file=sys.stderr)
    print(report.path)
    return 0
