"""Model-drafted problems: schema from the unit, validated and checked, written only to drafts/."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml
from pydantic import ValidationError

from tutor_app.curriculum.loader import load_file
from tutor_app.curriculum.schema import Problem
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
    scripted_model.enqueue_json(draft(title="Wrong key", step0_answer="3x = 16"))  # fine for the checker
    scripted_model.enqueue_json(lambda _m, _s: (_ for _ in ()).throw(ModelError("ran out of tokens")))

    report = draft_problems(model=scripted_model, prompts=PromptLibrary(), unit=UNIT, count=5)
    calls = json_calls(scripted_model)
    assert len(calls) == 5
    assert [SKILLS[i % len(SKILLS)] in c.messages[-1]["content"] for i, c in enumerate(calls)] == [True] * 5

    assert [p.id for p in report.accepted] == ["draft-tickets-for-the-fair", "draft-wrong-key"]
    accepted = report.accepted[0]
    assert accepted.steps[0].misconceptions[0].answers == ["3x = 23"] and accepted.steps[1].skills == ["undo-multiplication"]
    rejected = {r.number: r for r in report.rejected}
    assert sorted(rejected) == [2, 3, 5]
    assert "steps[0].answer: the equation checker cannot read 'three x is fifteen'" in rejected[2].reasons[0]
    # The curriculum validator (or, after it, the checker) finds the bug rule that fires on the right answer.
    assert "'15 = 3x'" in rejected[3].reasons[0] and "'3x = 15'" in rejected[3].reasons[0]
    assert "ran out of tokens" in rejected[5].reasons[0]

    path = write_drafts(report, UNIT, tmp_path / "drafts", model_name="scripted",
                        now=datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc))
    assert path == tmp_path / "drafts" / "linear-equations-20261123-093000.yaml"
    text = path.read_text()
    data = yaml.safe_load(text)
    assert data["unit"] == "linear-equations"
    assert [Problem.model_validate(p).id for p in data["problems"]] == ["draft-tickets-for-the-fair", "draft-wrong-key"]
    assert "# Rejected drafts:" in text and "#   draft 2 (Unreadable):" in text
    assert text.startswith("# Problems drafted by the model (scripted)")


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
