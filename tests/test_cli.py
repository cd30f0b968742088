"""``python app.py``: subcommands through the app factory, the old flags as aliases, and one flag
per setting generated from ``Settings`` (so the flags, the variables and the README agree)."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pytest
import yaml

from tutor_app.cli import main, serve
from tutor_app.cli.commands import COMMANDS
from tutor_app.cli.parser import ALIASES, build_parser, flag_name, from_aliases, settings_from_args
from tutor_app.runtime import loading
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.settings import Settings

from assessment_support import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def parse(*argv: str) -> tuple[argparse.Namespace, Settings]:
    args = build_parser().parse_args(from_aliases(list(argv)))
    return args, settings_from_args(args)


# settings ------------------------------------------------------------------------------
def test_every_setting_is_a_flag_with_its_description_as_help():
    help_text = " ".join(build_parser().format_help().split())
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} needs a description: it is the flag's help"
        assert flag_name(name) in help_text and " ".join(field.description.split()) in help_text


def test_the_kv_cache_budget_is_a_flag_too():
    assert parse("--kv-cache-mb", "256")[1].kv_cache_mb == 256
    assert main(["check", "--kv-cache-mb", "-1"]) == 2


def test_flags_go_before_or_after_the_command_and_beat_the_environment(monkeypatch):
    monkeypatch.setenv("TUTOR_PORT", "9001")
    monkeypatch.setenv("TUTOR_BACKEND", "none")
    assert parse()[1].port == 9001  # the variable, when no flag is given
    for argv in (("--port", "8000", "check"), ("check", "--port", "8000")):
        args, settings = parse(*argv)
        assert settings.port == 8000 and settings.backend == "none"
    args, settings = parse("--n-gpu-layers", "12", "--flash-attn", "--lora", "x.gguf")
    assert (settings.n_gpu_layers, settings.flash_attn, settings.lora) == (12, True, Path("x.gguf"))


def test_a_bad_setting_names_the_flag_and_exits_2(capsys):
    assert main(["check", "--n-gpu-layers", "many"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad setting: --n-gpu-layers") and "Traceback" not in err


def test_without_a_command_the_tutor_is_served():
    assert parse()[0].run is serve.run
    assert parse("--port", "8000")[0].run is serve.run


# commands and aliases --------------------------------------------------------------------
@pytest.mark.parametrize("old, new", [
    (["--check", "--curricula", "c"], ["check", "--curricula", "c"]),
    (["--curricula", "c", "--grade", "r", "in.csv", "--out", "o.csv"], ["grade", "--curricula", "c", "r", "in.csv",
                                                                         "--out", "o.csv"]),
    (["--worksheet", "u", "p", "--count", "3", "--seed", "2"], ["worksheet", "u", "p", "--count", "3", "--seed", "2"]),
    (["--generate-roster", "Ada", "Alan T."], ["roster", "Ada", "Alan T."]),
    (["--download=auto"], ["download", "auto"]),
    (["--list-models"], ["list-models"]),
    (["--eval-guard", "cases.jsonl", "--json"], ["eval-guard", "cases.jsonl", "--json"]),
])
def test_the_old_flags_run_the_same_commands(old, new):
    assert from_aliases(old) == new
    assert vars(build_parser().parse_args(from_aliases(old))) == vars(build_parser().parse_args(new))


def test_each_alias_names_a_command():
    assert set(ALIASES) == {"--check", "--grade", "--worksheet", "--generate-roster", "--download", "--list-models",
                            "--eval-guard"}
    assert set(ALIASES.values()) <= {command.name for command in COMMANDS}


def test_an_alias_runs_the_command_end_to_end(tmp_path, capsys):
    shutil.copytree(REPO / "curricula", tmp_path / "curricula")
    flags = ["--curricula", str(tmp_path / "curricula"), "--data-dir", str(tmp_path / "data")]
    assert main(["--worksheet", "parametric-practice", "rectangle", "--count", "2", *flags]) == 0
    old = capsys.readouterr().out
    assert main(["worksheet", "parametric-practice", "rectangle", "--count", "2", *flags]) == 0
    assert capsys.readouterr().out == old
    folder = tmp_path / "data" / "worksheets"
    assert old.split() == [str(folder / "parametric-practice-rectangle-seed0.md"),
                           str(folder / "parametric-practice-rectangle-seed0.html")]


def one_step_draft(title: str) -> dict:
    return {"title": title, "statement": "Solve $x + 4 = 9$.", "difficulty": 1,
            "steps": [{"prompt": "What is x?", "answer": "x = 5", "check": "equation", "skill": "undo-addition",
                       "hints": ["What undoes + 4?"], "bug_rules": []}]}


def test_draft_asks_the_configured_model_and_writes_to_drafts(tmp_path, monkeypatch, capsys):
    (tmp_path / "curricula").mkdir()
    shutil.copy(REPO / "curricula" / "math" / "linear-equations.yaml", tmp_path / "curricula")
    model = ScriptedBackend()
    model.enqueue_json(one_step_draft("Nine apples"))
    model.enqueue_json(one_step_draft("Nine pears") | {"steps": []})  # fails the schema: rejected
    monkeypatch.setattr(loading, "load_backend", lambda settings, **_: model)
    flags = ["--curricula", str(tmp_path / "curricula"), "--data-dir", str(tmp_path / "data")]
    assert main(["draft", "linear-equations", "--count", "2", *flags]) == 0
    out, err = capsys.readouterr()
    path = Path(out.strip())
    assert path.parent == tmp_path / "drafts" and "1 draft(s) accepted, 1 rejected" in err
    assert [p["title"] for p in yaml.safe_load(path.read_text())["problems"]] == ["Nine apples"]
    assert not list((tmp_path / "curricula").glob("*draft*"))  # never into the curricula

    monkeypatch.undo()  # the configured model again: switched off
    assert main(["draft", "linear-equations", "--backend", "none", *flags]) == 1
    assert "error: no model to draft with" in capsys.readouterr().err
    assert main(["draft", "no-such-unit", *flags]) == 1
    assert "no-such-unit" in capsys.readouterr().err


# the README ------------------------------------------------------------------------------
def test_the_readme_lists_every_setting_and_every_command():
    settings_table = README[README.index("## Settings"):README.index("## Curricula")]
    flags = set(re.findall(r"--[a-z][a-z-]*[a-z]", settings_table))
    assert {flag_name(name) for name in Settings.model_fields} <= flags
    commands = README[README.index("## Commands"):]
    for command in COMMANDS:
        assert f"python app.py {command.name}" in commands or command.name == "serve"
    for alias in ALIASES:
        assert alias in commands
