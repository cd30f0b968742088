"""The commands ``python app.py`` knows, in the order ``--help`` lists them.

A command is a name, a line of help, its own arguments and a handler ``run(args, settings)``
that returns the exit status. A command that replaced an old flag keeps that flag as an alias.
Adding a command is one module in this package and one line here.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Callable

from ..settings import Settings
from . import (check, draft, eval_guard, evaluate, export_training, fit_mastery, grade, models, roster, serve,
               train_lora, worksheet)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace, Settings], int]
    arguments: Callable[[argparse.ArgumentParser], None] = field(default=lambda parser: None)
    alias: str | None = None  # the flag teachers' scripts used before there were subcommands


DEFAULT_COMMAND = Command("serve", "serve the tutor in the browser (the default)", serve.run)

COMMANDS = (
    DEFAULT_COMMAND,
    Command("check", "validate every curriculum file and evaluation suite (exit 0: all valid, 1: errors)", check.run,
            check.arguments, alias="--check"),
    Command("grade", "grade a CSV or a folder of text files against a rubric id or file", grade.run,
            grade.arguments, alias="--grade"),
    Command("worksheet", "write a worksheet of versions of a parametric problem", worksheet.run,
            worksheet.arguments, alias="--worksheet"),
    Command("draft", "have the model draft practice problems for a unit into drafts/", draft.run, draft.arguments),
    Command("roster", "add students to the roster with new PINs and print them", roster.run, roster.arguments,
            alias="--generate-roster"),
    Command("download", "download a model from the registry into models/", models.download, models.download_arguments,
            alias="--download"),
    Command("list-models", "list the known models and which fit this machine", models.list_models,
            alias="--list-models"),
    Command("eval-guard", "measure the answer-leak guard on labelled replies (JSONL)", eval_guard.run,
            eval_guard.arguments, alias="--eval-guard"),
    Command("export-training", "export teacher-approved items as LoRA training files (train/ and heldout/)",
            export_training.run, export_training.arguments),
    Command("train-lora", "train a LoRA adapter on exported examples (needs requirements-train.txt)",
            train_lora.run, train_lora.arguments),
    Command("eval", "evaluate the model (and an adapter against it) on an evaluation suite", evaluate.run,
            evaluate.arguments),
    Command("compare-evals", "compare two evaluation reports of one suite, with confidence intervals",
            evaluate.compare, evaluate.compare_arguments),
    Command("fit-mastery", "fit each skill's mastery parameters from the class's answers; --adopt adopts them",
            fit_mastery.run, fit_mastery.arguments),
)
