"""``python app.py grade RUBRIC INPUT [--out results.csv]``: grade a class set, resumably.

The same batch as the teacher's Grading page (``AssessmentService.grade_batch``): every grade
is committed the moment it exists, so running the same command again after an interruption
grades only what is missing. RUBRIC is a rubric id from the curricula or a rubric file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..settings import Settings
from .app import OPERATOR, build, fail


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rubric", metavar="RUBRIC", help="a rubric id from the curricula, or a rubric file")
    parser.add_argument("input", metavar="INPUT", type=Path, help="a CSV (student,text) or a folder of .txt files")
    parser.add_argument("--out", type=Path, help="where to write the results, CSV or JSON by extension "
                                                 "(default: DATA_DIR/grades/RUBRIC-INPUT.csv)")


def default_output(settings: Settings, rubric_id: str, input_path: Path) -> Path:
    return settings.data_dir / "grades" / f"{rubric_id}-{input_path.stem or 'input'}.csv"


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..assessment.inputs import InputProblem, read_submissions
    from ..service.errors import TutorError
    from ..storage.database import DatabaseError

    try:
        inputs = read_submissions(args.input)  # before the model loads: a typo costs no wait
    except InputProblem as exc:
        return fail(exc)
    try:
        services = build(settings, model_needed=True)
    except DatabaseError as exc:
        return fail(exc)
    try:
        try:
            rubric = services.assessment.rubric(args.rubric)
        except TutorError as exc:
            fail(exc)
            if services.library.errors:
                print(f"note: {len(services.library.errors)} problem(s) in {settings.curricula} may hide a rubric "
                      "file; see python app.py check", file=sys.stderr)
            return 1
        model = services.model.info
        if not model.available:
            return fail(f"no model to grade with: {model.problem or 'none is configured'}")
        print(f"Grading {len(inputs)} submission(s) from {args.input} with rubric '{rubric.id}' ({rubric.title}) "
              f"on {model.name}", file=sys.stderr)
        try:
            report = services.assessment.grade_batch(OPERATOR, rubric, inputs, source=str(args.input), progress=True)
        except KeyboardInterrupt:
            print("\ninterrupted: the grades so far are saved; run the same command again to continue",
                  file=sys.stderr)
            return 130
        written = services.assessment.export_batch(OPERATOR, report, args.out or default_output(
            settings, rubric.id, args.input), rubric=rubric)
    finally:
        services.close()
    print(report.summary(), file=sys.stderr)
    for item in report.failed:
        print(f"  {item.source}: {item.student}: {item.error}", file=sys.stderr)
    if report.failed:
        print("run the same command again to retry the ones not graded", file=sys.stderr)
    print(written)
    return 0 if not report.failed else 1
