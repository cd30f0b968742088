"""The loop's commands from the command line: ``check`` validates the evaluation suites beside the
curricula (or those named), ``eval`` runs a suite and, with ``--lora``, the base against the
adapter, ``compare-evals`` compares two reports, and ``train-lora`` refuses what it cannot train
before any model loads. Each prints what was wrong and exits 1, never a traceback."""

from __future__ import annotations

import json
import shutil

from tutor_app.cli import main

from assessment_support import REPO

SUITE = """kind: eval-suite
id: tiny
title: One question
tutoring:
  - {unit: linear-equations, problem: one-step-add, step: solve, message: "Help?", reference: "What undoes + 7?"}
"""


def test_check_validates_the_suites_beside_the_curricula(tmp_path, capsys):
    assert main(["check", "--curricula", str(REPO / "curricula")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 suite(s), all valid" and lines[-1].endswith("0 with errors")  # evals/sample.yaml

    shutil.copytree(REPO / "curricula", tmp_path / "curricula")
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "ours.yaml").write_text(SUITE.replace("step: solve", "step: isolate"), encoding="utf-8")
    assert main(["check", "--curricula", str(tmp_path / "curricula")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("ours.yaml:5: tutoring[0]: problem 'one-step-add' has no step 'isolate'")
    assert out[1] == "1 suite(s), 1 problem(s)" and out[-1].endswith("0 with errors")

    good = tmp_path / "good.yaml"
    good.write_text(SUITE, encoding="utf-8")  # named suites replace the folder's
    assert main(["check", str(good), "--curricula", str(tmp_path / "curricula")]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "1 suite(s), all valid"


def test_eval_and_compare_from_the_command_line(tmp_path, capsys):
    suite = tmp_path / "tiny.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    common = ["--curricula", str(REPO / "curricula"), "--backend", "fake"]
    assert main(["eval", str(suite), "--out", str(tmp_path / "one"), *common]) == 0
    assert main(["eval", str(suite), "--out", str(tmp_path / "two"), *common]) == 0
    report = json.loads((tmp_path / "one" / "report.json").read_text())
    assert report["reply_similarity"]["n"] == 1 and report["run"]["model"]["lora"] is None
    assert main(["compare-evals", str(tmp_path / "one"), str(tmp_path / "two"), "--out", str(tmp_path / "c")]) == 0
    assert "recommendation: no evidence that it helps" in capsys.readouterr().out
    assert (tmp_path / "c" / "comparison.md").is_file()

    adapter = tmp_path / "adapters" / "school.gguf"
    adapter.parent.mkdir()
    adapter.write_bytes(b"an adapter")
    assert main(["eval", str(suite), "--lora", str(adapter), "--out", str(tmp_path / "ab"), *common]) == 0
    assert (tmp_path / "ab" / "base" / "report.json").is_file() and (tmp_path / "ab" / "comparison.json").is_file()
    assert json.loads((tmp_path / "adapters" / "school.evals.json").read_text())[0]["suite"] == "tiny"
    assert main(["eval", str(suite), "--lora", str(adapter), "--adapter-only", "--out", str(tmp_path / "a"),
                 *common]) == 0
    assert not (tmp_path / "a" / "base").exists() and (tmp_path / "a" / "report.json").is_file()
    assert len(json.loads((tmp_path / "adapters" / "school.evals.json").read_text())) == 2
    capsys.readouterr()
    assert main(["eval", str(suite), "--lora", str(tmp_path / "missing.gguf"), "--out", str(tmp_path / "x"),
                 *common]) == 1
    assert "missing.gguf does not exist" in capsys.readouterr().out


def test_train_lora_refuses_before_loading_anything(tmp_path, capsys):
    (tmp_path / "export" / "train").mkdir(parents=True)
    assert main(["train-lora", str(tmp_path / "export"), "--out", str(tmp_path / "adapter.gguf")]) == 1
    assert "no training files" in capsys.readouterr().out
    assert main(["train-lora", str(tmp_path / "export"), "--out", str(tmp_path / "adapter.bin")]) == 1
    assert "--out must name a .gguf file" in capsys.readouterr().out
