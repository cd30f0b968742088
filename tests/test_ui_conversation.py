"""The Conversation tab's HTML as plain functions: errors marked in what the student wrote, the
changes underlined in the corrected sentence, everything escaped, newest correction first."""

from __future__ import annotations

from tutor_app.language.shapes import (ConversationState, CorrectionView, ErrorView, GoalView, TranslationResult,
                                       TurnView)
from tutor_app.ui.conversation_render import (chat_messages, correction_card, corrections_html, goals_html,
                                              level_html, marked_corrected, marked_original, translation_html)


def gender_error(start, end, span, fix):
    return ErrorView(start=start, end=end, span=span, correction=fix, category="gender-agreement",
                     category_label="Gender agreement: the article does not match the noun",
                     explanation="<b>Cerveza</b> is feminine.")


TEXT = "Quiero un cerveza y el tortilla <script>"
CORRECTION = CorrectionView(turn_id=2, original=TEXT, corrected="Quiero una cerveza y la tortilla <script>",
                            status="checked", errors=[gender_error(20, 31, "el tortilla", "la tortilla"),
                                                      gender_error(7, 17, "un cerveza", "una cerveza")])


def state(*turns) -> ConversationState:
    return ConversationState(session_id="s", student="Ana", curriculum_id="tapas", title="Tapas",
                             target_language="es", learner_language="en", unit_level="A2", level="A1",
                             scenario="A bar.", character="Lucía.", goals=[], vocabulary=[], turns=list(turns))


def test_errors_are_marked_and_numbered_in_the_students_own_text():
    html = marked_original(CORRECTION)
    assert html.startswith("Quiero <mark class=\"err\">un cerveza<sup>1</sup></mark> y "
                           "<mark class=\"err\">el tortilla<sup>2</sup></mark>")
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_the_corrected_sentence_underlines_what_changed():
    assert marked_corrected("Quiero un cerveza", "Quiero una cerveza") == "Quiero <ins>una</ins> cerveza"
    assert marked_corrected("Hola", "Hola") == "Hola"


def test_a_card_lists_each_error_with_its_category_fix_and_explanation_escaped():
    card = correction_card(CORRECTION, target_language="es", latest=True)
    assert card.count("class=\"cat-chip\"") == 2 and ">Gender agreement<" in card
    assert card.index("un cerveza</span> →") < card.index("el tortilla</span> →")  # in sentence order
    assert "&lt;b&gt;Cerveza&lt;/b&gt; is feminine." in card and "2 corrections" in card


def test_each_status_says_what_happened():
    other = CorrectionView(turn_id=1, original="What is this?", corrected="What is this?", status="other-language")
    clean = CorrectionView(turn_id=1, original="Hola", corrected="Hola", status="checked")
    failed = CorrectionView(turn_id=1, original="Hola", corrected="Hola", status="failed")
    assert "not Spanish" in correction_card(other, target_language="es")
    assert "No corrections" in correction_card(clean, target_language="es")
    assert "be checked this time" in correction_card(failed, target_language="es")


def test_corrections_are_newest_first_with_the_pending_message_on_top():
    first = CorrectionView(turn_id=2, original="Hola uno", corrected="Hola uno", status="checked")
    second = CorrectionView(turn_id=4, original="Hola dos", corrected="Hola dos", status="checked")
    turns = [TurnView(turn_id=1, role="character", text="¡Hola!", level="A2"),
             TurnView(turn_id=2, role="student", text="Hola uno", level="A2", correction=first),
             TurnView(turn_id=3, role="character", text="¿Qué tal?", level="A2"),
             TurnView(turn_id=4, role="student", text="Hola dos", level="A2", correction=second)]
    html = corrections_html(state(*turns), pending="Hola tres")
    assert html.index("Hola tres") < html.index("Hola dos") < html.index("Hola uno")
    assert "Checking your message" in html and html.count("latest") == 1
    assert chat_messages(state(*turns))[0] == {"role": "assistant", "content": "¡Hola!"}
    assert chat_messages(state(*turns))[1]["role"] == "user"


def test_goals_level_and_translation_read_plainly():
    goals = goals_html([GoalView(id="a", description="Order politely", done=True),
                        GoalView(id="b", description="Ask for the bill", done=False)])
    assert "1 of 2 done" in goals and goals.count("goal-done") == 1
    level = level_html(state(), "Level A1: 4 of your last 4 messages needed corrections.")
    assert ">A1<" in level and "starts at A2" in level and "4 of your last 4" in level
    card = translation_html(TranslationResult(turn_id=1, text="¿Qué te pongo?", translation="What can I get you?",
                                              explanation="Poner: to serve."))
    assert "What can I get you?" in card and "Poner: to serve." in card
    assert "Click one of their" in translation_html(None)
