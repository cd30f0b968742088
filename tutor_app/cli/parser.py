"""The argument parser: one subcommand per ``Command``, one flag per ``Settings`` field.

Setting flags are generated from the fields (name, type, choices, the description as help), so
adding a field to ``Settings`` adds its flag and its ``TUTOR_*`` variable at once. They are
accepted before or after the subcommand (``python app.py --port 8000 serve`` and ``python
app.py serve --port 8000``); a flag that is not given is absent, so the environment and the
defaults apply (precedence: flag > ``TUTOR_*`` > default).
"""

from __future__ import annotations

import argparse
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic.fields import FieldInfo

from ..settings import Settings
from .commands import COMMANDS, DEFAULT_COMMAND

ALIASES = {command.alias: command.name for command in COMMANDS if command.alias}


def build_parser() -> argparse.ArgumentParser:
    settings = argparse.ArgumentParser(add_help=False)
    add_setting_flags(settings)
    parser = argparse.ArgumentParser(
        prog="python app.py", parents=[settings], usage="%(prog)s [COMMAND [ARGUMENTS]] [--SETTING VALUE ...]",
        description="tutor_app: a step-by-step AI tutor that runs on the school's own hardware.",
        epilog=f"Without a command: {DEFAULT_COMMAND.name}. The old flags still work: "
               + ", ".join(f"{flag} (= {name})" for flag, name in ALIASES.items()) + ".")
    parser.set_defaults(run=DEFAULT_COMMAND.run)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in COMMANDS:
        child = sub.add_parser(command.name, parents=[settings], help=command.help, description=command.help,
                               prog=f"python app.py {command.name}", usage=_usage(command))
        command.arguments(child)
        child.set_defaults(run=command.run)
    return parser


def _usage(command) -> str:
    """The command's own arguments, then the settings in short (they are listed in its --help)."""
    own = argparse.ArgumentParser(prog=f"python app.py {command.name}", add_help=False)
    command.arguments(own)
    return own.format_usage().removeprefix("usage: ").strip() + " [--SETTING VALUE ...]"


def from_aliases(argv: list[str]) -> list[str]:
    """``--grade R I --out x`` as ``grade R I --out x``: the old flag becomes the subcommand and
    everything else stays where it was (argparse takes options and positionals in any order)."""
    for i, token in enumerate(argv):
        flag, _, value = token.partition("=")
        if token == "--":
            break
        if flag in ALIASES:
            return [ALIASES[flag], *argv[:i], *([value] if value else []), *argv[i + 1:]]
    return list(argv)


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings(**{name: value for name, value in vars(args).items() if name in Settings.model_fields})


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (each also as TUTOR_<NAME> in the environment)")
    for name, field in Settings.model_fields.items():
        group.add_argument(flag_name(name), dest=name, default=argparse.SUPPRESS, **_flag_options(name, field))


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def _flag_options(name: str, field: FieldInfo) -> dict[str, Any]:
    kind = _without_none(field.annotation)
    help_text = field.description or ""
    if field.default not in (None, False, ""):
        help_text += f" (default: {_shown_default(field.default)})"
    if kind is bool:
        return {"action": "store_true", "help": help_text}
    if get_origin(kind) is Literal:
        return {"choices": get_args(kind), "help": help_text}
    options: dict[str, Any] = {"help": help_text, "metavar": name.upper()}
    if get_origin(kind) in (Union, types.UnionType):  # "auto" or a number: Settings parses the text
        options["metavar"] = "|".join("|".join(get_args(a)) if get_origin(a) is Literal else "N"
                                      for a in get_args(kind))
    elif kind in (int, float, Path):
        options.update(type=kind, metavar="PATH" if kind is Path else "N")
    return options


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _shown_default(value: Any) -> str:
    if isinstance(value, Path):
        try:
            return str(value.relative_to(Path.cwd()))
        except ValueError:
            return str(value)
    return str(value)
