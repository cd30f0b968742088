"""``python app.py roster NAME...``: give students PINs to sign in with, each printed once."""

from __future__ import annotations

import argparse

from ..settings import Settings
from .app import build, fail


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="+", metavar="STUDENT", help="a student's name (quote names with spaces); "
                                                                     "a name already on the roster gets a new PIN")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..service.roster import RosterError, name_key

    services = build(settings, model_needed=False)
    for note in services.notes:
        print(note)
    try:
        before = {name_key(name) for name in services.auth.roster()}
        pins = services.auth.add_students(args.names)
    except RosterError as exc:
        return fail(exc)
    finally:
        services.close()
    width = max(len(name) for name in pins)
    for name, pin in pins.items():
        note = "  (new PIN; the old one no longer works)" if name_key(name) in before else ""
        print(f"{name:<{width}}  {pin}{note}")
    print(f"\nSaved to {services.auth.roster_file}. Write the PINs down now: only their hashes are stored, "
          "they cannot be shown again.")
    return 0
