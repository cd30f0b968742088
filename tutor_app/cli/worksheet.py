"""``python app.py worksheet UNIT PROBLEM [--count N] [--seed S]``: a printable worksheet.

The same sheet as the teacher's Worksheets page (``PracticeService.worksheet``), written to
``DATA_DIR/worksheets``; the Markdown and HTML paths are printed. The same seed gives the same sheet.
"""

from __future__ import annotations

import argparse
import sys

from ..settings import Settings
from .app import OPERATOR, build, fail


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("unit", metavar="UNIT", help="the unit's id")
    parser.add_argument("problem", metavar="PROBLEM", help="the id of one of its parametric problems")
    parser.add_argument("--count", type=int, default=10, help="how many versions (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="which versions: the same seed gives the same sheet")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..service.errors import TutorError

    services = build(settings, model_needed=False)
    try:
        saved = services.practice.worksheet(OPERATOR, args.unit, args.problem, args.count, args.seed)
    except TutorError as exc:
        return fail(exc)
    finally:
        services.close()
    for variant_seed, reason in saved.rejected:
        print(f"warning: left out the version with seed {variant_seed}: {reason}", file=sys.stderr)
    if saved.exhausted:
        print(f"note: only {saved.made} distinct versions of {args.problem!r} exist; the worksheet has "
              f"{saved.made} instead of {saved.requested}", file=sys.stderr)
    print(saved.markdown)
    print(saved.html)
    return 0
