"""A student practises Spanish at the tapas bar in Chromium: three messages, each corrected
beside the chat (errors marked, corrected sentence, explanation), goals ticked, the level shown,
a line translated on demand; the teacher then finds the errors on the class overview. The same
running app answers the conversation API through gradio_client. The screenshot of the
corrections goes to tests/artifacts/conversation-corrections.png."""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from tutor_app.bootstrap import create_services
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.settings import Settings
from tutor_app.ui.app import create_app
from tutor_app.ui.launch import serve

from ui_harness import (  # noqa: F401 (chromium_browser: a fixture)
    DESKTOP, TEACHER_PASSWORD, chromium_browser, free_port, open_page, text_field, unlock_teacher, write_curricula)

pytestmark = pytest.mark.browser

SPANISH = Path(__file__).resolve().parent.parent / "curricula" / "language" / "spanish-a2-restaurant.yaml"
UNIT_ID = "spanish-a2-tapas-bar"


def error(span, correction, category, explanation):
    return {"span": span, "correction": correction, "category": category, "explanation": explanation}


@contextmanager
def conversation_app(root: Path, model: ScriptedBackend):
    """The real app over the shipped Spanish unit (and the harness's math unit), on a SQLite file."""
    curricula = write_curricula(root)
    shutil.copy(SPANISH, curricula / SPANISH.name)
    settings = Settings(curricula=curricula, data_dir=root / "data", models_dir=root / "models",
                        db_url=f"sqlite:///{root / 'tutor.sqlite3'}", backend="fake")
    services = create_services(settings, model=model)
    services.auth.set_teacher_password(TEACHER_PASSWORD)  # it opens the Teacher tab
    demo = create_app(services)
    url = serve(demo, host="127.0.0.1", port=free_port(), block=False, quiet=True)
    try:
        yield url, services
    finally:
        demo.close()
        services.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    model = ScriptedBackend(chunk_size=4, delay_s=0.01)
    with conversation_app(tmp_path_factory.mktemp("browser-conversation"), model) as (url, services):
        yield url, services, model


@pytest.fixture(scope="module")
def browser(chromium_browser):
    return chromium_browser


def say(page, text: str, reply_part: str) -> None:
    box = text_field(page, "convo-input")
    expect(box).to_be_editable()
    box.fill(text)
    page.locator("#convo-send").click()
    expect(page.locator("#convo-chat")).to_contain_text(reply_part)
    expect(box).to_be_editable()  # the turn is over


def test_a_student_practises_a_conversation_with_corrections(app, browser, artifacts_dir):
    _, _, model = app
    context = browser.new_context(viewport=DESKTOP)
    page = open_page(context, app[0])
    page.get_by_role("tab", name="Conversation").click()
    text_field(page, "convo-name").fill("Ana")
    page.locator("#convo-unit input").click()
    page.get_by_role("option", name="Spanish A2: tapas in Madrid").click()
    page.locator("#convo-start").click()
    expect(page.locator("#convo-chat")).to_contain_text("¿Qué os pongo?")
    expect(page.locator("#convo-scenario")).to_contain_text("Plaza Mayor")
    expect(page.locator("#convo-level .level-badge")).to_have_text("A2")
    expect(page.locator("#convo-goals")).to_contain_text("0 of 5 done")

    # 1: two gender errors, marked in the sentence and explained; a goal is ticked
    model.enqueue_json({"corrected": "Hola, para mí una horchata y la tortilla, por favor.", "errors": [
        error("un horchata", "una horchata", "gender-agreement", "Horchata is feminine, so it takes una."),
        error("el tortilla", "la tortilla", "gender-agreement", "Tortilla is feminine: la tortilla.")]})
    model.enqueue_text("¡Muy bien! Una horchata y una tortilla. ¿Algo más?")
    say(page, "Hola, para mí un horchata y el tortilla, por favor.", "¿Algo más?")
    latest = page.locator("#convo-corrections .correction-card.latest")
    expect(latest.locator("mark.err")).to_have_count(2)
    expect(latest.locator("mark.err").first).to_contain_text("un horchata")
    expect(latest.locator(".correction-fixed ins")).to_have_count(2)
    expect(latest).to_contain_text("Hola, para mí una horchata y la tortilla, por favor.")
    expect(latest).to_contain_text("Horchata is feminine, so it takes una.")
    expect(latest.locator(".cat-chip").first).to_have_text("Gender agreement")
    expect(page.locator("#convo-goals .goal-done")).to_have_count(1)
    expect(page.locator("#convo-level")).to_contain_text("3 more messages")
    # the correction is beside the chat, never inside the character's reply
    expect(page.locator("#convo-chat")).not_to_contain_text("feminine")

    # 2: one verb error; two goals so far
    model.enqueue_json({"corrected": "¿Qué llevan las croquetas?", "errors": [
        error("lleva", "llevan", "verb-person", "Las croquetas is plural, so the verb is llevan.")]})
    model.enqueue_text("Llevan jamón y bechamel. ¿Quieres una ración?")
    say(page, "¿Qué lleva las croquetas?", "bechamel")
    expect(latest.locator("mark.err")).to_have_count(1)
    expect(latest.locator(".cat-chip")).to_have_text("Verb person")
    expect(page.locator("#convo-corrections .correction-card")).to_have_count(2)  # the first one stays below
    expect(page.locator("#convo-goals .goal-done")).to_have_count(2)

    # 3: no mistakes
    model.enqueue_json({"corrected": "Sí, una ración para compartir. Soy alérgico a los frutos secos.",
                        "errors": []})
    model.enqueue_text("Vale, sin frutos secos. ¿Algo para beber?")
    say(page, "Sí, una ración para compartir. Soy alérgico a los frutos secos.", "sin frutos secos")
    expect(latest).to_contain_text("No corrections")
    expect(page.locator("#convo-goals")).to_contain_text("4 of 5 done")

    # clicking one of the character's lines translates and explains it
    model.enqueue_json({"translation": "They have ham and béchamel sauce. Would you like a full plate?",
                        "explanation": "Llevan (from llevar) is how Spanish says what a dish has in it."})
    page.locator("#convo-chat").get_by_text("Llevan jamón y bechamel").click()
    expect(page.locator("#convo-translation .translation-card")).to_contain_text("béchamel sauce")
    expect(page.locator("#convo-translation")).to_contain_text("from llevar")
    page.screenshot(path=str(artifacts_dir / "conversation-corrections.png"), full_page=True)

    # the button translates the latest line
    model.enqueue_json({"translation": "OK, no nuts. Something to drink?", "explanation": "Vale means OK in Spain."})
    page.locator("#convo-translate").click()
    expect(page.locator("#convo-translation")).to_contain_text("OK, no nuts.")

    # coming back: Start continues the same conversation with its corrections
    again = open_page(context, app[0])
    again.get_by_role("tab", name="Conversation").click()
    expect(text_field(again, "convo-name")).to_have_value("Ana")  # remembered in this browser
    again.locator("#convo-unit input").click()
    again.get_by_role("option", name="Spanish A2: tapas in Madrid").click()
    again.locator("#convo-start").click()
    expect(again.locator("#convo-corrections .correction-card")).to_have_count(3)
    expect(again.locator("#convo-chat")).to_contain_text("sin frutos secos")
    context.close()


def test_the_teacher_sees_conversation_errors_on_the_class_overview(app, browser):
    url, services, model = app
    client = Client(url, verbose=False)
    started = client.predict("Ben", UNIT_ID, True, api_name="/start_conversation")
    model.enqueue_json({"corrected": "Una horchata, por favor.", "errors": [
        error("Un horchata", "Una horchata", "gender-agreement", "Horchata is feminine.")]})
    model.enqueue_text("¡Marchando una horchata!")
    client.predict(started["session_id"], "Un horchata, por favor.", api_name="/conversation_say")

    page = open_page(browser, url, DESKTOP)
    unlock_teacher(page)  # a computer without sign-in: the teacher password opens the tab
    page.locator("#overview-unit input").click()
    page.get_by_role("option", name="Spanish A2: tapas in Madrid (conversation)").click()
    expect(page.locator("#mastery-heatmap")).to_contain_text("A conversation unit has no skills")
    expect(page.locator("#misconception-chart")).to_contain_text(re.compile("Gender agreement"))
    page.close()


def test_the_conversation_api_runs_a_whole_turn(app):
    url, _, model = app
    client = Client(url, verbose=False)
    started = client.predict("Cleo", UNIT_ID, True, api_name="/start_conversation")
    assert started["level"] == "A2" and started["turns"][0]["role"] == "character"
    model.enqueue_json({"corrected": "Quería la cuenta, por favor.", "errors": [
        error("Queria", "Quería", "spelling", "Quería has an accent on the i.")]})
    model.enqueue_text("Claro, ahora te la traigo. ¿Todo bien?")
    result = client.predict(started["session_id"], "Queria la cuenta, por favor.", api_name="/conversation_say")
    assert result["reply"] == "Claro, ahora te la traigo. ¿Todo bien?"
    (found,) = result["message"]["correction"]["errors"]
    assert (found["start"], found["end"], found["category"]) == (0, 6, "spelling")
    assert result["message"]["goals_met_now"] == ["order-politely", "ask-for-the-bill"]
    model.enqueue_json({"translation": "Of course, I'll bring it now.", "explanation": "Traer: to bring."})
    translated = client.predict(started["session_id"], result["reply_turn_id"], api_name="/translate_message")
    assert translated["translation"] == "Of course, I'll bring it now."
    state = client.predict(started["session_id"], api_name="/conversation_state")
    assert [t["role"] for t in state["turns"]] == ["character", "student", "character"]
    with pytest.raises(Exception, match="no conversation"):
        client.predict("nope", api_name="/conversation_state")
