"""Model-drafted problems: schema from the unit, validated and checked, written only to drafts/."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import yaml
from pydantic import ValidationError

from tutor_app.curriculum.loader import load_file
from tutor_app.curriculum.schema import Problem
from tutor_app.practice.latex_escapes import restore_eaten_escapes
from tutor_app.practice.quiz_drafts import (DraftError, draft_problems, draft_schema, drafts_dir, write_drafts)
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.protocol import ModelError
from tutor_app.settings import Settings

from assessment_support import REPO, ParallelModel, json_calls

UNIT = load_file(REPO / "curricula" / "math" / "linear-equations.yaml").item
SKILLS = [s.id for s in UNIT.skills]
MISCONCEPTIONS = [m.id for m in UNIT.misconceptions]


def draft(**changes) -> dict:
    base = {
        "title": "Tickets for the fair",
        "statement": "Three tickets and a 4 euro bus fare cost 19 euros. Solve $3x + 4 = 19$.",
        "steps": [
            {"prompt": "Subtract 4 from both sides. What equation do you get?", "answer": "3x = 15",
             "check": "equation", "skill": "undo-addition", "hints": ["What undoes + 4?", "3x = 19 - 4 = 15"],
             "bug_rules": [{"misconception_id": "same-operation-not-inverse", "wrong_answer": "3x = 23",
                            "feedback": "Did you add 4? Which operation undoes + 4?"}]},
            {"prompt": "Now find x.", "answer": "x = 5", "check": "equation", "skill": "undo-multiplication",
             "hints": ["Divide both sides by 3."], "bug_rules": []},
        ],
        "difficulty": 2,
    }
    for key, value in changes.items():
        if key.startswith("step0_"):
            base["steps"][0][key[len("step0_"):]] = value
        else:
            base[key] = value
    return base


def test_the_schema_only_allows_the_units_skills_and_misconceptions():
    schema = draft_schema(UNIT)
    assert schema.model_validate(draft()).steps[0].skill == "undo-addition"
    step_schema = schema.model_json_schema()["$defs"]
    assert step_schema["DraftStep"]["properties"]["skill"]["enum"] == SKILLS
    assert step_schema["DraftBugRule"]["properties"]["misconception_id"]["enum"] == MISCONCEPTIONS
    for bad in (draft(step0_skill="long-division"), draft(difficulty=9), draft(steps=[]),
                draft(step0_bug_rules=[{"misconception_id": "made-up", "wrong_answer": "1", "feedback": "f"}])):
        with pytest.raises(ValidationError):
            schema.model_validate(bad)


def test_a_good_draft_is_written_and_a_bad_one_rejected_with_its_reason(scripted_model, tmp_path):
    scripted_model.enqueue_json(draft())
    scripted_model.enqueue_json(draft(title="Unreadable", step0_answer="three x is fifteen"))
    scripted_model.enqueue_json(draft(title="Bug equals answer", step0_bug_rules=[
        {"misconception_id": "one-side-only", "wrong_answer": "15 = 3x", "feedback": "Look again."}]))
    scripted_model.enqueue_json(draft(title="Wrong key", step0_answer="3x = 16"))  # reads, but is not 3x + 4 = 19
    scripted_model.enqueue_json(lambda _m, _s: (_ for _ in ()).throw(ModelError("ran out of tokens")))

    report = draft_problems(model=scripted_model, prompts=PromptLibrary(), unit=UNIT, count=5)
    calls = json_calls(scripted_model)
    assert len(calls) == 5
    assert [SKILLS[i % len(SKILLS)] in c.messages[-1]["content"] for i, c in enumerate(calls)] == [True] * 5

    assert [p.id for p in report.accepted] == ["draft-tickets-for-the-fair"]
    accepted = report.accepted[0]
    assert accepted.steps[0].misconceptions[0].answers == ["3x = 23"] and accepted.steps[1].skills == ["undo-multiplication"]
    rejected = {r.number: r for r in report.rejected}
    assert sorted(rejected) == [2, 3, 4, 5]
    assert "steps[0].answer: the equation checker cannot read 'three x is fifteen'" in rejected[2].reasons[0]
    # The curriculum validator (or, after it, the checker) finds the bug rule that fires on the right answer.
    assert "'15 = 3x'" in rejected[3].reasons[0] and "'3x = 15'" in rejected[3].reasons[0]
    # Right against itself, wrong for the problem: the problem's own equation decides.
    assert rejected[4].reasons == ("step 'step-1': the answer '3x = 16' does not have the solutions of the "
                                   "problem's own equation 3x + 4 = 19, so the key is wrong",)
    assert "ran out of tokens" in rejected[5].reasons[0]

    path = write_drafts(report, UNIT, tmp_path / "drafts", model_name="scripted",
                        now=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc))
    assert path == tmp_path / "drafts" / "linear-equations-20261123-093000.yaml"
    text = path.read_text()
    data = yaml.safe_load(text)
    assert data["unit"] == "linear-equations"
    assert [Problem.model_validate(p).id for p in data["problems"]] == ["draft-tickets-for-the-fair"]
    assert "# Rejected drafts:" in text and "#   draft 2 (Unreadable):" in text
    assert text.startswith("# Problems drafted by the model (scripted)")


def as_a_model_writes_it(payload: dict) -> str:
    """The JSON text with LaTeX's backslashes written once, as LaTeX is written everywhere else
    (JSON wants them doubled): ``\\frac`` reaches the decoder as a form feed and ``rac``."""
    return json.dumps(payload, ensure_ascii=False).replace("\\\\", "\\")


LATEX_STATEMENT = r"Half a board and a $\text{3 m}$ plank make $\frac{1}{2} x + 3 = 7$ metres. \textbf{Find} $x$."


def test_latex_backslashes_survive_from_the_models_json_to_the_drafts_file(scripted_model, tmp_path):
    latex = draft(title="Boards", statement=LATEX_STATEMENT, steps=[
        {"prompt": r"Subtract 3: what is $\frac{1}{2} x$?", "answer": "1/2 x = 4", "check": "equation",
         "skill": "undo-addition", "hints": [r"$\frac{1}{2} x + 3 - 3 = 7 - 3$"], "bug_rules": []},
        {"prompt": r"Now find $x$ ($x \times \frac{1}{2} = 4$).", "answer": "x = 8", "check": "equation",
         "skill": "undo-multiplication", "hints": [r"Multiply both sides by 2: $x = 4 \times 2$."], "bug_rules": []}])
    written = as_a_model_writes_it(latex)
    assert "\\\\frac" not in written and "\\\\frac" in json.dumps(latex)  # one backslash, as models write it
    assert "\x0crac" in json.loads(written)["statement"]  # what plain JSON decoding makes of it
    scripted_model.enqueue_json(written)

    report = draft_problems(model=scripted_model, prompts=PromptLibrary(), unit=UNIT, count=1)
    assert report.rejected == [] and report.accepted[0].statement == LATEX_STATEMENT
    assert report.accepted[0].steps[1].prompt == r"Now find $x$ ($x \times \frac{1}{2} = 4$)."
    path = write_drafts(report, UNIT, tmp_path / "drafts", model_name="scripted")
    copied = tmp_path / "unit.yaml"  # the teacher copies the problem into a unit, as the header says
    unit_text = (REPO / "curricula" / "math" / "linear-equations.yaml").read_text(encoding="utf-8")
    problem_yaml = yaml.safe_dump(yaml.safe_load(path.read_text(encoding="utf-8"))["problems"], allow_unicode=True,
                                  sort_keys=False, width=100)
    indented = "".join("  " + line for line in problem_yaml.splitlines(keepends=True))
    copied.write_text(unit_text.replace("\nproblems:\n", "\nproblems:\n" + indented, 1), encoding="utf-8")
    loaded = load_file(copied)
    assert loaded.errors == [] and loaded.item.problems[0].statement == LATEX_STATEMENT


@pytest.mark.parametrize("text, restored", [
    ("$\x0crac{1}{2}$", r"$\frac{1}{2}$"),  # a form feed is never meant: restored anywhere
    ("\x0crac{1}{2} of it", r"\frac{1}{2} of it"),
    ("$x \times 2$", r"$x \times 2$"),
    ("$x \times 2 \neq 5$", r"$x \times 2 \neq 5$"),
    ("\textbf{Find} it", r"\textbf{Find} it"),  # a tab before a brace is LaTeX
    ("First line\nnext line", "First line\nnext line"),  # a real line break: no command "nnext"
    ("Two lines\nto read", "Two lines\nto read"),  # "\to" is a command, but outside maths a line break wins
    ("Tab\ttimes", "Tab\ttimes"),
    ("\x08eta", r"\beta"),
])
def test_eaten_escapes_are_restored_only_where_latex_was_meant(text, restored):
    assert restore_eaten_escapes(text) == restored


@pytest.mark.parametrize("change, words", [
    ({"statement": "Solve $3x + 4 = 19"}, "odd number of $ signs"),
    ({"statement": "Solve $\\frac{3x + 4 = 19$."}, "unbalanced braces"),
    ({"statement": "Solve $3x + 4 = 19$ \x07now."}, "control character"),
])
def test_drafts_whose_maths_does_not_read_are_rejected(scripted_model, change, words):
    scripted_model.enqueue_json(draft(**change))
    report = draft_problems(model=scripted_model, prompts=PromptLibrary(), unit=UNIT, count=1)
    assert report.accepted == [] and any(words in reason for reason in report.rejected[0].reasons)


def test_a_final_answer_that_does_not_solve_the_equation_is_rejected(scripted_model):
    wrong_end = draft()
    wrong_end["steps"][1]["answer"] = "x = 4"
    scripted_model.enqueue_json(wrong_end)
    scripted_model.enqueue_json(draft(statement="Three tickets and a 4 euro bus fare cost 19 euros. What does one "
                                                "ticket cost?"))  # no equation posed: nothing to hold it to
    report = draft_problems(model=scripted_model, prompts=PromptLibrary(), unit=UNIT, count=2)
    assert [r.number for r in report.rejected] == [1] and len(report.accepted) == 1
    assert "'x = 4' does not have the solutions of the problem's own equation 3x + 4 = 19" in report.rejected[0].reasons[0]


def test_drafts_never_land_in_the_curricula(tmp_path):
    settings = Settings(curricula=tmp_path / "curricula", data_dir=tmp_path / "data")
    assert drafts_dir(settings) == tmp_path / "drafts"
    named_drafts = Settings(curricula=tmp_path / "drafts", data_dir=tmp_path / "data")
    assert drafts_dir(named_drafts) == tmp_path / "data" / "drafts"
    inside = Settings(curricula=tmp_path, data_dir=tmp_path / "data")  # the curricula folder holds everything
    with pytest.raises(DraftError, match="would go live"):
        drafts_dir(inside)


def test_asking_for_too_many_or_without_a_model(scripted_model):
    from tutor_app.runtime.unavailable import UnavailableBackend

    with pytest.raises(DraftError, match="between 1 and 20"):
        draft_problems(model=scripted_model, prompts=PromptLibrary(), unit=UNIT, count=50)
    with pytest.raises(DraftError, match="no model to draft with"):
        draft_problems(model=UnavailableBackend("switched off"), prompts=PromptLibrary(), unit=UNIT, count=1)


def test_the_draft_prompt_renders_with_what_the_code_passes(scripted_model):
    scripted_model.enqueue_json(draft())
    draft_problems(model=scripted_model, prompts=PromptLibrary(), unit=UNIT, count=1)
    system = json_calls(scripted_model)[0].messages[0]["content"]
    assert "same-operation-not-inverse" in system and "undo-addition" in system
    assert "id: " in system and "statement: " in system  # the example problem, as YAML


def test_drafts_go_out_in_waves_at_batch_priority_and_later_waves_avoid_earlier_titles():
    model = ParallelModel(parallel=3, delay_s=0.1)
    for n in range(1, 6):
        model.enqueue_json(lambda _m, _s, title=f"Fair tickets {n}": draft(title=title))
    report = draft_problems(model=model, prompts=PromptLibrary(), unit=UNIT, count=5)
    assert len(report.accepted) == 5 and not report.rejected
    assert model.most == 3 and set(model.priorities) == {"batch"}
    prompts = ["\n".join(m["content"] for m in c.messages) for c in json_calls(model)]
    assert not any("Fair tickets" in p for p in prompts[:3])  # the first wave has nothing to avoid yet
    for prompt in prompts[3:]:  # the second names the first wave's three titles (in whichever order they came)
        assert all(f"Fair tickets {n}" in prompt for n in (1, 2, 3)) and "Fair tickets 4" not in prompt


def test_the_saved_file_check_reads_the_problem_back_as_the_loader_will():
    from tutor_app.practice.draft_checks import saved_file_check

    good = Problem.model_validate({"id": "p", "statement": r"Solve $\frac{1}{2} x = 4$.", "steps": [
        {"id": "s", "prompt": "x = ?", "answer": "x = 8", "check": "equation"}]})
    assert saved_file_check(good) == []
    eaten = good.model_copy(update={"statement": "Solve $\x0crac{1}{2} x = 4$."})
    assert any("'\\frac' would lose its backslash" in reason for reason in saved_file_check(eaten))
