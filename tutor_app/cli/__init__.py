"""Command line of ``python app.py``: serve the tutor (the default), or one command.

Each command is a subcommand (``python app.py grade RUBRIC INPUT``) whose handler builds the
app with ``create_services(settings)`` and calls the same service methods as the web page, so
a rule lives in one place whichever way a teacher reaches it. The old flags (``--grade``,
``--check``...) still work: teachers' scripts use them (``aliases``). Every setting is a flag
generated from ``Settings`` and also reads ``TUTOR_<NAME>`` from the environment.

Handlers import the features they need when they run, so that ``check`` works even where the
model runtime or the web UI cannot be imported. Every file a command writes (the roster,
worksheets, grades) is owner-only: it holds children's names.
"""

from __future__ import annotations

import os
import sys

from pydantic import ValidationError

from ..storage.private import UMASK

from .parser import build_parser, from_aliases, settings_from_args


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(from_aliases(sys.argv[1:] if argv is None else argv))
    try:
        settings = settings_from_args(args)
    except ValidationError as exc:  # name the flag, no traceback
        problems = "; ".join(f"--{'-'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}"
                             for e in exc.errors())
        print(f"error: bad setting: {problems}", file=sys.stderr)
        return 2
    previous = os.umask(UMASK)
    try:
        return args.run(args, settings)
    finally:
        os.umask(previous)  # main() is also called in-process (tests, scripts)
