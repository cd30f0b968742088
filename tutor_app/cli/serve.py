"""``python app.py`` (``serve``): the tutor in the browser, with the JSON API."""

from __future__ import annotations

import argparse

from ..settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..ui.launch import launch  # builds the app with create_services(settings)

    return launch(settings)
