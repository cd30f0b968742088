"""``python app.py eval SUITE [--lora FILE] --out DIR`` and ``python app.py compare-evals A B --out DIR``.

Without ``--lora``: the configured model on the suite. With it: the base model and the adapter
on the same suite, then compared with confidence intervals and a recommendation, recorded next
to the adapter for the teacher's model panel (``--adapter-only`` skips the base run). The
comparison of any two earlier reports (two quants, two adapters) is ``compare-evals``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import Settings


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", metavar="SUITE", type=Path, help="an evaluation suite (kind: eval-suite)")
    # --lora FILE is the setting of the same name (and TUTOR_LORA): the adapter to evaluate against the base
    parser.add_argument("--adapter-only", action="store_true", help="with --lora: the adapter alone, no base run")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="where report.md/.json/.png go")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..evals.commands import eval_adapter_command, eval_command, eval_one_adapter_command

    adapter = settings.lora
    if adapter is None:
        return eval_command(args.suite, None, args.out, settings)
    if not Path(adapter).is_file():
        print(f"the adapter {adapter} does not exist")
        return 1
    if args.adapter_only:
        return eval_one_adapter_command(args.suite, adapter, args.out, settings)
    return eval_adapter_command(args.suite, adapter, args.out, settings)


def compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", metavar="A", type=Path, help="a report folder (the baseline)")
    parser.add_argument("second", metavar="B", type=Path, help="a report folder of the same suite")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="where comparison.md/.json/.png go")


def compare(args: argparse.Namespace, settings: Settings) -> int:
    from ..evals.commands import compare_command

    return compare_command(args.first, args.second, args.out)
