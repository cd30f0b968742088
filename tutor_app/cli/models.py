"""``python app.py download NAME|auto`` and ``list-models``: model files, as the model page offers them.

These concern files in ``models/`` and this machine, not the running app, so they need no app.
"""

from __future__ import annotations

import argparse

from ..settings import Settings


def download_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="a registry name, or 'auto' for the Mixtral quant that fits "
                                                     "this machine")


def download(args: argparse.Namespace, settings: Settings) -> int:
    from ..runtime.download import download_command

    return download_command(args.name, settings)


def list_models(args: argparse.Namespace, settings: Settings) -> int:
    from ..runtime.download import list_models_command

    return list_models_command(settings)
