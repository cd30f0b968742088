"""Bug rules for open steps (issue 12, item 2): phrases and patterns that show a misconception in
free writing, caught by plain code at once; validated with file and line like every rule."""

from __future__ import annotations

import pytest

from tutor_app.checking.phrases import phrase_found, says_any
from tutor_app.engine.progress import ProblemProgress, submit_answer

from curriculum_helpers import assert_error, line_of, load, write
from student_units import FINDINGS_YAML


@pytest.mark.parametrize("text, found", [
    ("In the end the energy is used up.", True),
    ("in the end the energy is USED UP", True),
    ("The energy gets used   up by friction", True),
    ("Energy is never used up; it is transferred.", False),  # the opposite of the misconception
    ("It isn't used up, it spreads out.", False),
    ("No energy is used up", False),
    ("The amused upward glance", False),  # whole words only
])
def test_a_phrase_matches_whole_words_and_not_after_a_negation(text, found):
    assert phrase_found(text, "used up") is found


def test_accents_and_patterns():
    assert phrase_found("La energía se gastó", "la energia se gasto")
    assert says_any("The energy was destroyed by the air", patterns=["energ(y|ies) (is|was) (lost|destroyed)"])
    assert not says_any("The energy was transferred", patterns=["energ(y|ies) (is|was) (lost|destroyed)"])


def test_the_engine_answers_a_phrase_rule_at_once_and_the_step_stays(tmp_path):
    write(tmp_path, "findings.yaml", FINDINGS_YAML)
    library = load(tmp_path)
    unit = library.units["findings"]
    problem = next(p for p in unit.problems if p.id == "pendulum")
    outcome, progress = submit_answer(unit, problem, ProblemProgress(), "It runs out of energy and stops.")
    assert (outcome.verdict, outcome.misconception_id) == ("misconception", "energy-used-up")
    assert not progress.done and progress.step_index == 0  # the student rewrites it
    assert [o.correct for o in outcome.observations] == [False]  # a bug rule is an observation, like any
    outcome, progress = submit_answer(unit, problem, progress, "Energy is transferred to the air, never used up.")
    assert outcome.verdict == "pending" and progress.done and outcome.observations == ()  # waits for its grade


def test_phrases_belong_to_open_steps_and_patterns_must_compile(tmp_path):
    text = FINDINGS_YAML.replace('''        check: numeric
        skills: [fractions]''', '''        check: numeric
        skills: [fractions]
        misconceptions:
          - id: energy-used-up
            phrases: ["three"]
            feedback: "Not a phrase step."''').replace(
        '''patterns: ["energ(y|ies) (is|was) (lost|destroyed)"]''', '''patterns: ["energ(y|ies (is"]''')
    path = write(tmp_path, "findings.yaml", text)
    errors = load(tmp_path).errors
    assert_error(errors, path, line_of(text, 'phrases: ["three"]'), "problems[0].steps[0].misconceptions[0].phrases",
                 "phrases: apply to open steps only")
    assert_error(errors, path, line_of(text, 'energ(y|ies (is'), "problems[3].steps[0].misconceptions[0].patterns[0]",
                 "not a valid regular expression")


def test_a_bug_rule_without_anything_to_match_is_reported(tmp_path):
    text = FINDINGS_YAML.replace('''            phrases: ["used up", "runs out of energy"]
            patterns: ["energ(y|ies) (is|was) (lost|destroyed)"]
''', "")
    path = write(tmp_path, "findings.yaml", text)
    errors = load(tmp_path).errors
    assert any(e.file == path and "needs answers: (or, on an open step, phrases: or patterns:)" in e.message
               for e in errors), errors
