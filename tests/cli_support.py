"""Run ``python app.py ...`` in the test's own process, with a ``Settings`` given as the flags a
teacher would type, so command tests go through the real parser, aliases and app factory."""

from __future__ import annotations

from tutor_app.cli import main
from tutor_app.cli.parser import flag_name
from tutor_app.settings import Settings


def setting_flags(settings: Settings) -> list[str]:
    flags: list[str] = []
    for name in sorted(settings.model_fields_set):
        value = getattr(settings, name)
        if isinstance(value, bool):
            flags += [flag_name(name)] if value else []
        elif value is not None:
            flags += [flag_name(name), str(value)]
    return flags


def run_app(settings: Settings, *argv: str) -> int:
    return main([*argv, *setting_flags(settings)])
