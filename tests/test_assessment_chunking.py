"""Long submissions: cut at natural boundaries within the context budget, never cut short."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor_app.assessment.chunking import ChunkingError, split_text
from tutor_app.assessment.grader import Grader, GraderConfig, GradingError
from tutor_app.prompting import PromptLibrary

from assessment_support import SmallContextModel, enqueue_grading, json_calls, small_rubric, submission_in


def words(text: str) -> int:
    return len(text.split())


def test_a_text_that_fits_comes_back_whole():
    assert split_text("One. Two.\n\nThree.", 10, words) == ["One. Two.\n\nThree."]


def test_paragraph_breaks_are_preferred_to_sentence_ends():
    text = "A b c. D e f.\n\nG h i. J k l."
    assert split_text(text, 7, words) == ["A b c. D e f.\n\n", "G h i. J k l."]


def test_a_long_paragraph_is_cut_at_sentence_ends():
    text = "One two three. Four five six! Seven eight nine? Ten."
    assert split_text(text, 6, words) == ["One two three. Four five six! ", "Seven eight nine? Ten."]


def test_a_sentence_longer_than_the_budget_is_cut_between_words():
    text = "a b c d e f g h"
    parts = split_text(text, 3, words)
    assert "".join(parts) == text and all(words(p) <= 3 for p in parts) and len(parts) == 3


def test_a_single_huge_word_is_cut_but_kept():
    text = "x" * 50
    parts = split_text(text, 10, len)
    assert "".join(parts) == text and all(len(p) <= 10 for p in parts)


def test_the_budget_must_be_positive():
    with pytest.raises(ChunkingError):
        split_text("text", 0, words)


paragraph = st.lists(st.text(alphabet="abc xyz.!?\n", min_size=1, max_size=40), min_size=1, max_size=8).map("\n\n".join)


@settings(max_examples=200, deadline=None)
@given(text=paragraph, budget=st.integers(min_value=1, max_value=12))
def test_parts_rebuild_the_text_and_respect_the_budget(text, budget):
    parts = split_text(text, budget, len)
    assert "".join(parts) == text
    assert all(len(p) <= budget for p in parts)
    assert all(p for p in parts) or text == ""


LONG_ESSAY = "\n\n".join(
    " ".join(f"Paragraph {p} sentence {s} says that heat flows from warm things to cold things." for s in range(6))
    for p in range(12))


def test_a_long_submission_is_graded_in_parts_and_nothing_is_dropped():
    model = SmallContextModel(n_ctx=600)
    grader = Grader(model, PromptLibrary(), GraderConfig(criterion_max_tokens=64))
    rubric = small_rubric()
    budget = grader.part_budget(rubric)
    expected_parts = split_text(LONG_ESSAY, budget, model.count_tokens)
    assert len(expected_parts) >= 3

    accuracy_by_part = [2, 1, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2][:len(expected_parts)]
    scores = iter(accuracy_by_part)
    enqueue_grading(model, 2 * len(expected_parts) + 1, lambda name, _t, allowed: next(scores) if name == "Accuracy"
                    else max(allowed))
    grading = Grader(model, PromptLibrary(), GraderConfig(criterion_max_tokens=64)).grade(rubric, LONG_ESSAY)

    calls = json_calls(model)
    assert grading.parts == len(expected_parts)
    assert len(calls) == 2 * len(expected_parts) + 1  # every part on every criterion, then the summary
    shown = [submission_in(c.messages) for c in calls[:len(expected_parts)]]
    assert "".join(shown) == LONG_ESSAY  # every word was seen by the grader, in order
    for call in calls[:-1]:
        assert sum(model.count_tokens(m["content"]) for m in call.messages) + 2 * 64 <= model.n_ctx
        assert f"of {len(expected_parts)}" in call.messages[0]["content"]
    accuracy = grading.criteria[0]
    assert accuracy.part_scores == tuple(accuracy_by_part)
    weights = [model.count_tokens(p) for p in expected_parts]
    mean = sum(s * w for s, w in zip(accuracy_by_part, weights)) / sum(weights)
    assert accuracy.score == min((0, 1, 2), key=lambda level: (abs(level - mean), level))


def test_a_rubric_too_big_for_the_context_is_refused_with_a_reason():
    model = SmallContextModel(n_ctx=300)
    with pytest.raises(GradingError, match="context tokens"):
        Grader(model, PromptLibrary(), GraderConfig(criterion_max_tokens=64)).grade(small_rubric(), "The tilt.")
    assert model.calls == []
