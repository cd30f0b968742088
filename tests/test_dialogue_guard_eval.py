"""``eval-guard``: the guard measured on labelled replies, run exactly as the tutor chat runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dialogue_problems import UNIT
from tutor_app.cli import main
from tutor_app.dialogue.guard_eval import eval_guard_command, evaluate, judge, read_cases
from tutor_app.dialogue.phrases import phrase
from tutor_app.dialogue.tutor_chat import stream_tutor_reply
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend

DATA = Path(__file__).parent / "data"
STATEMENT = "Steve saves $12 each week. He wants a bike that costs $84. How many weeks does Steve need?"


def _case(reply: str, label: bool, **extra) -> dict:
    return {"problem": STATEMENT, "answer": "7", "student_message": "help", "reply": reply, "label": label, **extra}


KNOWN = [
    _case("The answer is 7.", True),  # cut, and it reveals: tp
    _case("What do you divide 84 by?", False),  # shown, safe: tn
    _case("He saves for a week's worth of days.", True),  # a riddle: shown, but it reveals: fn
    _case("Is it more or less than 7 weeks?", False),  # a new 7 is cut by policy, a person calls it safe: fp
    _case("Yes!", True, student_message="is it 7?"),  # a confirmation: tp
    _case("You said 7. Why?", False, history=[{"role": "user", "content": "I think 7"},
                                              {"role": "assistant", "content": "Tell me more."}]),  # tn
]


def _write(tmp_path: Path, records: list, name: str = "cases.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_counts_figures_and_errors(tmp_path, capsys):
    assert eval_guard_command(_write(tmp_path, KNOWN), as_json=True) == 0
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[-1]) == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667,
                                   "tp": 2, "fp": 1, "fn": 1, "tn": 2}
    text = "\n".join(out)
    assert "precision 0.667   recall 0.667   F1 0.667" in text
    assert "line 3: missed" in text and "week's worth" in text
    assert "line 4: false alarm (number: '7')" in text


def test_without_json_there_is_no_json_line(tmp_path, capsys):
    eval_guard_command(_write(tmp_path, KNOWN[:2]), as_json=False)
    assert not capsys.readouterr().out.strip().splitlines()[-1].startswith("{")


def test_the_command_line_flag_runs_it(tmp_path, capsys):
    assert main(["--eval-guard", str(_write(tmp_path, KNOWN)), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["tp"] == 2


def test_bad_lines_are_named_and_left_out(tmp_path, capsys):
    records = [KNOWN[0], "{not json", {k: v for k, v in KNOWN[1].items() if k != "reply"},
               {**KNOWN[1], "label": "yes"}, {**KNOWN[1], "check": "open"}, {**KNOWN[1], "history": [{"role": "x"}]},
               {**KNOWN[1], "check": "nonsense"}, {**KNOWN[1], "answer": "  "}]
    path = _write(tmp_path, records)
    assert eval_guard_command(path, as_json=True) == 1
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[-1])["tp"] == 1  # the good line still counts
    for line, words in [(2, "not JSON"), (3, "'reply' is missing"), (4, "'label' must be true"),
                        (5, "open step"), (6, "'history[0]'"), (7, "'check'"), (8, "'answer' is empty")]:
        assert f"{path}:{line}: " in out and words in out, (line, words, out)


def test_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert eval_guard_command(tmp_path / "nope.jsonl", as_json=False) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["guard_cases.jsonl", "guard_cases_holdout.jsonl"])
def test_the_shipped_sets_keep_the_goal_of_the_issue(name):
    cases, problems = read_cases(DATA / name)
    assert problems == [] and len(cases) >= 80
    score = evaluate(cases)
    assert score.precision >= 0.9 and score.recall >= 0.9, score.as_dict()


def test_the_evaluation_judges_as_the_tutor_chat_does():
    """Every case of the shipped set: the chat (a scripted model writing the reply) cuts it
    exactly when the evaluation says the guard cuts it."""
    cases, _ = read_cases(DATA / "guard_cases.jsonl")
    redirect_starts = (phrase("redirect", "en", prompt="")[:20], phrase("confirm_redirect", "en")[:20])
    for case in cases:
        model = ScriptedBackend(chunk_size=4)
        model.enqueue_text(case.reply)
        shown = "".join(stream_tutor_reply(
            model=model, prompts=PromptLibrary(), unit=UNIT, problem=case.problem, step_index=0, attempts=[],
            misconceptions_seen=[], history=list(case.history), student_message=case.student_message,
            revealed_step_ids=[], session_key=None))
        cut_in_chat = any(start in shown for start in redirect_starts)
        assert cut_in_chat == (judge(case) is not None), (case.line, case.reply, shown)
