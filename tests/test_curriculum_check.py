"""``python app.py --check``: one line per problem in ``file:line: field: what`` form, a summary, exit 0/1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from curriculum_helpers import UNIT, broken, line_of, write
from tutor_app.curriculum.check import run_check

REPO = Path(__file__).resolve().parent.parent


def broken_folder(folder: Path) -> dict[str, str]:
    """Three files: one valid, two with problems (three problems in all). Returns their texts."""
    texts = {
        "good.yaml": UNIT,
        "algebra/linear.yaml": broken(broken(UNIT, "id: algebra", "id: linear"),
                                      "answer: x = 4\n        check: equation", "answer: x = 4\n        check: equasion"),
        "syntax.yml": "id: oops\ntitle: [unclosed\n",
    }
    texts["algebra/linear.yaml"] = broken(texts["algebra/linear.yaml"], "        hints:", "        hitns:")
    for name, text in texts.items():
        write(folder, name, text)
    return texts


def test_samples_pass(capsys):
    assert run_check(REPO / "curricula") == 0
    out = capsys.readouterr().out.splitlines()
    files = len(list((REPO / "curricula").rglob("*.y*ml")))
    assert out == [f"{files} files, {files} valid, 0 with errors"]


def test_broken_folder_prints_one_line_per_problem_and_exits_1(tmp_path, capsys, monkeypatch):
    texts = broken_folder(tmp_path / "curricula")
    monkeypatch.chdir(tmp_path)
    assert run_check(Path("curricula")) == 1
    linear = texts["algebra/linear.yaml"]
    assert capsys.readouterr().out.splitlines() == [
        f"curricula/algebra/linear.yaml:{line_of(linear, 'hitns')}: problems[0].steps[0].hitns: unknown field 'hitns' "
        "(did you mean 'hints'?)",
        f"curricula/algebra/linear.yaml:{line_of(linear, 'equasion')}: problems[0].steps[1].check: unknown checker "
        "'equasion' (expected one of: text, numeric, expression, equation, choice, regex, open)",
        "curricula/syntax.yml:2: YAML syntax error: a [ opened on this line is never closed",
        "3 files, 1 valid, 2 with errors",
    ]


def test_empty_or_missing_folder_exits_1(tmp_path, capsys):
    assert run_check(tmp_path) == 1
    assert "no curriculum files" in capsys.readouterr().out
    assert run_check(tmp_path / "missing") == 1
    assert "the curricula folder does not exist" in capsys.readouterr().out


def test_app_check_command(tmp_path):
    broken_folder(tmp_path / "curricula")
    out = subprocess.run([sys.executable, str(REPO / "app.py"), "--check", "--curricula", str(tmp_path / "curricula")],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and lines[-1] == "3 files, 1 valid, 2 with errors"
    assert lines[0].startswith("curricula/algebra/linear.yaml:") and "Traceback" not in out.stderr
    good = subprocess.run([sys.executable, str(REPO / "app.py"), "--check", "--curricula", str(REPO / "curricula")],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert good.returncode == 0 and good.stdout.strip().endswith("0 with errors"), good.stdout + good.stderr
