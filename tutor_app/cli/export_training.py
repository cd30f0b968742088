"""``python app.py export-training DIR [--heldout-share 0.2]``: teacher-approved items as training files.

Writes ``DIR/train`` (for ``train-lora``) and ``DIR/heldout`` (with an evaluation suite) with a
datasheet in each (``curation/export.py``). No model is loaded: prompts are rendered from
``prompts/`` and fitted with the model's own tokenizer (its vocabulary only).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import Settings
from .app import build, fail


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", type=Path, help="the folder to write train/ and heldout/ into")
    parser.add_argument("--heldout-share", type=float, default=0.2, metavar="SHARE",
                        help="the share of students whose items are held out for evaluation (default: 0.2)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..curation.export import export_training
    from ..curation.items import TASK_TITLES, TASKS
    from ..curation.prompt_context import app_prompt_context
    from ..curation.pseudonyms import Pseudonyms, install_secret
    from ..storage.database import DatabaseError

    try:
        pseudonyms = Pseudonyms(install_secret(settings.data_dir), heldout_share=args.heldout_share)
    except (ValueError, OSError) as exc:
        return fail(exc)
    try:
        services = build(settings, model_needed=False)
    except DatabaseError as exc:
        return fail(exc)
    context = app_prompt_context(settings)
    try:
        report = export_training(services.db, services.library, services.assessment, services.prompts, args.dir,
                                 pseudonyms, count_tokens=context.count_tokens, n_ctx=context.n_ctx,
                                 model_note=context.note)
    except OSError as exc:
        return fail(f"cannot write {args.dir}: {exc}")
    finally:
        context.close()
        services.close()
    for task in TASKS:
        print(f"{TASK_TITLES[task]}: {report.counts[('train', task)]} to train on, "
              f"{report.counts[('heldout', task)]} held out")
    print(f"students: {report.students['train']} in train/, {report.students['heldout']} in heldout/; "
          f"left out: {len(report.collected.excluded)} (reasons in the datasheets), "
          f"not reviewed: {sum(report.collected.not_reviewed.values())}")
    if report.total("train") == 0:
        print("nothing to train on yet: approve or correct the tutor's work on the Transcripts and Review pages")
    if report.students["heldout"] == 0:
        print(f"no student is held out (share {args.heldout_share:.0%}): evaluate on a suite a teacher wrote, "
              "or export again with a larger --heldout-share")
    print(f"wrote {Path(args.dir) / 'train'} and {Path(args.dir) / 'heldout'}"
          + (f"; evaluation suite {report.suite}" if report.suite else ""))
    return 0
