"""The deterministic checks of a reply: against the level (word frequency from wordfreq or the
word-length fallback, sentence length, the words that are always allowed) and against the
language (a message or reply written in another language than the one practised)."""

from __future__ import annotations

import pytest

from tutor_app.language.difficulty import allowed_words, check_reply
from tutor_app.language.frequency import clearly_in_other, has_wordlist, written_in
from tutor_app.language.levels import PROFILES

VOCABULARY = ["las croquetas", "los pimientos de Padrón", "una ración", "une tarte aux pommes"]


def test_a_textbook_line_passes_and_a_native_speed_line_fails_at_a2():
    simple = "¡Hola, buenas noches! ¿Qué te pongo para beber? Las croquetas de jamón están muy buenas hoy."
    hard = ("Evidentemente, la idiosincrasia gastronómica madrileña se manifiesta en la proliferación "
            "de establecimientos que ofrecen raciones abundantes.")
    allowed = allowed_words(VOCABULARY, "es")
    assert check_reply(simple, language="es", profile=PROFILES["A2"], allowed=allowed).ok
    report = check_reply(hard, language="es", profile=PROFILES["A2"], allowed=allowed)
    assert not report.ok
    assert "idiosincrasia" in report.hard_words
    assert any("sentence of 16 words" in p for p in report.problems)


def test_the_same_line_may_be_fine_at_a_higher_level():
    line = "Te recomiendo los pimientos, aunque algunos pican bastante; es una especialidad gallega."
    assert check_reply(line, language="es", profile=PROFILES["B2"]).ok


def test_vocabulary_names_numbers_and_inflected_forms_are_never_hard():
    line = "Las croquetas de Manolo cuestan 12 euros. ¿Quieres dos raciones?"
    report = check_reply(line, language="es", profile=PROFILES["A1"], allowed=allowed_words(VOCABULARY, "es"))
    assert report.hard_words == () and report.ok  # croquetas, raciones (ración), Manolo, 12


def test_a1_french_keeps_sentences_short():
    long = "Bonjour, nous avons des croissants et des pains au chocolat et une tarte aux pommes pour vous ce matin."
    report = check_reply(long, language="fr", profile=PROFILES["A1"], allowed=allowed_words(VOCABULARY, "fr"))
    assert not report.ok and report.longest_sentence > PROFILES["A1"].max_sentence_words
    assert check_reply("Bonjour ! Vous désirez ?", language="fr", profile=PROFILES["A1"]).ok


def test_c2_has_no_limits():
    line = "Evidentemente, la idiosincrasia gastronómica madrileña se manifiesta en mil establecimientos."
    assert check_reply(line, language="es", profile=PROFILES["C2"]).ok


def test_a_language_without_a_frequency_list_uses_word_length():
    assert not has_wordlist("eo")  # Esperanto: wordfreq has no list
    short = "Saluton! Kion vi volas?"
    long = "Bonvenon! Kompreneble ni proponas nekredeble malfacilajn frandaĵojn."
    assert check_reply(short, language="eo", profile=PROFILES["A1"]).ok
    report = check_reply(long, language="eo", profile=PROFILES["A1"])
    assert not report.ok and "nekredeble" in report.hard_words


def test_a_message_in_the_learners_own_language_is_recognised():
    assert written_in("Quiero una cerveza, por favor", "es", "en")
    assert not written_in("What does pongo mean?", "es", "en")
    assert written_in("Sí", "es", "en")  # too short to tell: the target gets the benefit of the doubt
    assert written_in("Je voudrais une baguette", "fr", "en")


@pytest.mark.parametrize("reply, target, others, found", [
    ("Of course! One beer and the tortilla. Anything else?", "es", ["en"], "en"),
    ("Hello! A baguette? Very good, that's two euros.", "fr", ["en"], "en"),
    ("Bonjour ! Une baguette, s'il vous plaît ? Très bien.", "es", ["en", "fr"], "fr"),
    ("¡Muy bien! Una cerveza y una tortilla. ¿Algo más?", "es", ["en"], None),
    ("¡Claro! Una caña y el sándwich, ¿algo más?", "es", ["en"], None),  # one borrowed word decides nothing
    ("OK, perfect!", "es", ["en"], None),  # too few words to be sure
    ("Perfecto, the bill is twelve euros.", "es", ["en"], None),  # mixed: not clearly English
    ("Of course! One beer and the tortilla.", "es", ["es"], None),  # the target is never "another" language
])
def test_a_reply_clearly_in_another_language_is_recognised(reply, target, others, found):
    assert clearly_in_other(reply, target, others) == found

