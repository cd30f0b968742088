"""``python app.py train-lora DIR --out models/adapters/NAME.gguf``: a LoRA adapter from exported examples.

The training core (``training/commands.py``) does the work: base weights from the GGUF the app
runs (or, for Mixtral, its Hugging Face checkpoint in 4-bit on a GPU), progress per step, a loss
plot, and the GGUF adapter llama.cpp loads. Needs ``requirements-train.txt``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..settings import Settings


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", metavar="DIR", type=Path, help="an export (DIR/train/*.jsonl) or a folder of *.jsonl")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="the adapter to write, e.g. models/adapters/my-school.gguf")
    parser.add_argument("--steps", type=int, metavar="N", help="stop after N optimiser steps (default: the epochs)")
    parser.add_argument("--epochs", type=float, metavar="N", help="passes over the data (default: 3)")
    parser.add_argument("--learning-rate", type=float, metavar="LR", help="default: 2e-4")
    parser.add_argument("--hf-checkpoint", metavar="REPO|DIR",
                        help="train on this Hugging Face checkpoint instead of the GGUF (Mixtral does by default)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..training.commands import train_lora_command

    return train_lora_command(args.data, args.out, settings, steps=args.steps, epochs=args.epochs,
                              learning_rate=args.learning_rate, hf_checkpoint=args.hf_checkpoint)
