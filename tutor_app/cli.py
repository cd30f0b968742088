"""Command line of ``python app.py``: serve the tutor (default), or one maintenance command.

Flags mirror ``Settings`` fields; each also reads ``TUTOR_<NAME>`` from the environment.
Feature modules are imported inside each command so that ``--check`` works even where the
model runtime or the web UI cannot be imported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .settings import Settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python app.py", description="tutor_app: a step-by-step AI tutor that runs on the school's own hardware.")
    do = p.add_argument_group("commands (default: serve the tutor in the browser)")
    do.add_argument("--check", action="store_true", help="validate every curriculum file and exit (0: all valid, 1: errors)")
    do.add_argument("--download", metavar="NAME", help="download a model from the registry into models/ (NAME or 'auto' for the quant that fits this machine)")
    do.add_argument("--list-models", action="store_true", help="list the known models and which fit this machine")
    do.add_argument("--grade", nargs=2, metavar=("RUBRIC", "INPUT"), help="grade a CSV or a folder of text files against a rubric id or file")
    do.add_argument("--out", type=Path, help="with --grade: where to write the results (CSV or JSON by extension)")
    do.add_argument("--worksheet", nargs=2, metavar=("UNIT", "PROBLEM"), help="print a worksheet of variants of a parametric problem")
    do.add_argument("--count", type=int, default=10, help="with --worksheet: how many variants")
    do.add_argument("--seed", type=int, default=0, help="with --worksheet: which variants")
    do.add_argument("--generate-roster", nargs="+", metavar="STUDENT", help="add students to the roster with new PINs and print them")
    do.add_argument("--eval-guard", type=Path, metavar="FILE", help="measure the answer-leak guard on labelled replies (JSONL)")
    do.add_argument("--json", action="store_true", help="with --eval-guard: end with one JSON line of the figures")

    s = p.add_argument_group("settings (each also as TUTOR_<NAME> in the environment)")
    s.add_argument("--curricula", type=Path)
    s.add_argument("--data-dir", type=Path)
    s.add_argument("--models-dir", type=Path)
    s.add_argument("--db-url")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--require-login", action="store_true", default=None)
    s.add_argument("--backend", choices=["llama", "openai", "fake", "none"])
    s.add_argument("--model", help="GGUF path or registry name (llama); served model name (openai)")
    s.add_argument("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    s.add_argument("--api-key")
    s.add_argument("--n-gpu-layers", help="auto or a number of layers")
    s.add_argument("--n-ctx", type=int)
    s.add_argument("--threads", type=int)
    s.add_argument("--flash-attn", action="store_true", default=None)
    s.add_argument("--kv-type", choices=["auto", "f16", "q8_0", "q4_0"])
    s.add_argument("--lora", type=Path, help="a GGUF LoRA adapter to apply to the model")
    s.add_argument("--moe-offload", choices=["auto", "layers", "experts-cpu"])
    return p


SETTING_FLAGS = ("curricula", "data_dir", "models_dir", "db_url", "host", "port", "require_login", "backend",
                 "model", "base_url", "api_key", "n_gpu_layers", "n_ctx", "threads", "flash_attn", "kv_type",
                 "lora", "moe_offload")


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {name: getattr(args, name) for name in SETTING_FLAGS if getattr(args, name) is not None}
    return Settings(**overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from_args(args)
    except Exception as exc:  # pydantic ValidationError: name the flag, no traceback
        print(f"error: bad setting: {exc}", file=sys.stderr)
        return 2

    if args.check:
        from .curriculum.check import run_check
        return run_check(settings.curricula)
    if args.list_models:
        from .runtime.download import list_models_command
        return list_models_command(settings)
    if args.download:
        from .runtime.download import download_command
        return download_command(args.download, settings)
    if args.grade:
        from .assessment.batch import grade_command
        return grade_command(args.grade[0], Path(args.grade[1]), args.out, settings)
    if args.worksheet:
        from .practice.worksheet import worksheet_command
        return worksheet_command(args.worksheet[0], args.worksheet[1], args.count, args.seed, settings)
    if args.eval_guard:
        from .dialogue.guard_eval import eval_guard_command
        return eval_guard_command(args.eval_guard, args.json, settings)
    if args.generate_roster:
        from .service.roster import generate_roster_command
        return generate_roster_command(args.generate_roster, settings)

    from .ui.launch import launch
    return launch(settings)
