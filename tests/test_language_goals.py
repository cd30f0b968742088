"""Goal phrases are ticked by plain matching: whole words in a row, without case, accents or
punctuation, in what the student wrote."""

from __future__ import annotations

import pytest

from tutor_app.curriculum.schema import ConversationGoal
from tutor_app.language.goals import goals_used, newly_met
from tutor_app.language.textmatch import contains_phrase

GOALS = [
    ConversationGoal(id="order-politely", description="Order politely", phrases=["me pone", "quería", "para mí"]),
    ConversationGoal(id="ask-for-the-bill", description="Ask for the bill", phrases=["la cuenta", "cuánto es"]),
    ConversationGoal(id="say-please", description="Say please", phrases=["s'il vous plaît"]),
]


@pytest.mark.parametrize("text, expected", [
    ("¿Me pone una caña?", ["order-politely"]),
    ("QUERIA una tortilla", ["order-politely"]),                  # no accent, shouting
    ("Para mi, la cuenta por favor.", ["order-politely", "ask-for-the-bill"]),
    ("¿Cuanto es?", ["ask-for-the-bill"]),
    ("Une baguette, s’il vous plait !", ["say-please"]),        # curly apostrophe, no circumflex
    ("Una paramita", []),                                         # "para mí" is not inside a word
    ("Quiero una caña", []),
    ("la, cuenta", ["ask-for-the-bill"]),                         # punctuation between the words
])
def test_goals_are_ticked_by_accent_and_case_insensitive_phrases(text, expected):
    assert goals_used(GOALS, text) == expected


def test_a_goal_already_met_is_not_met_again():
    assert newly_met(GOALS, "Quería la cuenta", already={"order-politely"}) == ["ask-for-the-bill"]


def test_phrase_matching_needs_the_words_in_order():
    assert contains_phrase("la cuenta, por favor", "la cuenta")
    assert not contains_phrase("cuenta la", "la cuenta")
    assert not contains_phrase("anything", "")
