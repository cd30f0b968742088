"""The student-side findings of issue 12 in Chromium: the answer box's example, an open answer
caught by its phrase rule and then waiting to be graded while the page stays usable, two chat
questions in a row, a wrong answer's diagnosis arriving after the verdict without a "student
ahead of you", units in answers, the demo-model notice and the Problem list after "Next
problem". Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelInfo
from tutor_app.service.actor import LOCAL_ACTOR

from assessment_support import grading_reply
from student_units import write_findings
from ui_harness import (  # noqa: F401 (chromium_browser: a fixture)
    DESKTOP, chromium_browser, open_page, running_app, text_field)

pytestmark = pytest.mark.browser


class DemoModel(ScriptedBackend):
    """The scripted model, named like the shipped demo model."""

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="SmolLM2-135M-Instruct.Q4_1.gguf", backend="fake", n_ctx=4096)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser-findings")
    write_findings(root)
    with running_app(root, DemoModel(chunk_size=3, delay_s=0.02)) as (running, _):
        yield running


@pytest.fixture(scope="module")
def browser(chromium_browser):
    return chromium_browser


def start(page, name: str, unit: str, problem: str) -> None:
    expect(page.locator("#start-button")).to_be_visible()
    text_field(page, "student-name").fill(name)
    page.locator("#unit-choice input").click()
    page.get_by_role("option", name=unit, exact=True).click()
    page.locator("#problem-choice input").click()
    page.get_by_role("option", name=problem, exact=True).click()
    page.locator("#start-button").click()
    expect(page.locator("#problem-statement")).to_contain_text(problem)  # this problem, not the one before
    expect(page.locator("#answer-row")).to_be_visible()


def answer(page, text: str) -> None:
    box = text_field(page, "answer-box")
    expect(box).to_be_editable()
    box.fill(text)
    page.locator("#submit-button").click()


def latest(page):
    return page.locator("#feedback .feedback.latest")


def ask(page, text: str) -> None:
    text_field(page, "chat-input").fill(text)
    page.locator("#chat-send").click()


def test_examples_units_and_the_demo_notice(app, browser, artifacts_dir):
    page = open_page(browser, app.url, DESKTOP)
    expect(page.locator("#demo-notice")).to_contain_text("small demo model")
    expect(page.locator("#model-line")).not_to_contain_text(".gguf")
    start(page, "Ada", "Two-step equations", "Two-step equation")
    expect(text_field(page, "answer-box")).to_have_attribute("placeholder", re.compile(r"^An equation, e\.g\. "))
    placeholder = text_field(page, "answer-box").get_attribute("placeholder")
    assert placeholder.startswith("An equation, e.g.") and "2x = 8" not in placeholder and "x = 4" not in placeholder
    answer(page, "(x+1")
    expect(latest(page)).to_contain_text("Try something like")
    expect(latest(page)).not_to_contain_text("2x = 8")

    start(page, "Ada", "Findings of the walk-through", "Energy and money")
    answer(page, "18 m/s")
    expect(latest(page)).to_contain_text("Check the unit")
    answer(page, "18 joules")
    expect(page.locator("#progress")).to_contain_text("1 of 2 steps done")
    answer(page, "€20")
    expect(page.locator("#step-prompt")).to_contain_text("Problem solved")
    page.screenshot(path=str(artifacts_dir / "student-desktop-units.png"), full_page=True)
    page.locator("#next-problem").click()
    expect(page.locator("#progress")).to_contain_text("0 of")
    chosen = app.services.tutor.unfinished_session(LOCAL_ACTOR, "Ada")
    title = {p.id: p.title for p in app.services.library.units["findings"].problems}[chosen.problem_id]
    expect(page.locator("#problem-choice input")).to_have_value(title)  # not the problem picked before
    page.close()


def test_an_open_answer_is_caught_waits_and_is_graded_while_the_page_stays_usable(app, browser, artifacts_dir):
    page = open_page(browser, app.url, DESKTOP)
    start(page, "Bea", "Findings of the walk-through", "Where does the energy go?")
    answer(page, "It stops because in the end the energy is used up.")
    expect(latest(page)).to_have_class(re.compile(r"\bverdict-misconception\b"))
    expect(latest(page)).to_contain_text("Energy is never used up")
    expect(page.locator("#step-prompt")).not_to_contain_text("Problem")

    release = threading.Event()
    reply = grading_reply()

    def slow_grade(messages, schema):
        release.wait(20)
        return reply(messages, schema)

    app.model.enqueue_json(slow_grade)
    app.model.enqueue_json(reply)
    answer(page, "Air resistance transfers the energy to the surroundings as thermal energy; none is destroyed.")
    expect(page.locator("#step-prompt")).to_contain_text("Problem finished")
    expect(page.locator("#progress")).to_contain_text("waiting for your teacher or the tutor")
    expect(page.locator("#progress .done-step .tick")).to_have_count(0)  # not shown as solved
    # the page is usable while the model grades: the chat answers
    app.model.enqueue_text("What happens to the air as the pendulum pushes through it?")
    ask(page, "What else could I say?")
    expect(page.locator("#tutor-chat")).to_contain_text("pushes through it?")
    page.screenshot(path=str(artifacts_dir / "student-desktop-open-waiting.png"), full_page=True)
    release.set()
    expect(page.locator("#progress .step-grade")).to_contain_text("Graded: 2 of 2 points")
    expect(latest(page)).to_contain_text("Read and graded")
    expect(latest(page)).to_contain_text("Rubric feedback: 2 of 2 points")
    expect(page.locator("#progress")).not_to_contain_text("waiting for your teacher")
    page.screenshot(path=str(artifacts_dir / "student-desktop-open-graded.png"), full_page=True)
    page.close()


def test_two_questions_in_a_row_and_a_diagnosis_after_the_verdict(app, browser, artifacts_dir):
    page = open_page(browser, app.url, DESKTOP)
    start(page, "Cai", "Two-step equations", "Another two-step equation")
    release = threading.Event()

    def slow_diagnosis(messages, schema):
        release.wait(20)
        return {"reasoning": "16 on the right.", "misconception_id": "added-instead-of-subtracted",
                "feedback": "You may have done the same operation again instead of undoing it."}

    app.model.enqueue_json(slow_diagnosis)
    answer(page, "3x = 16")
    expect(latest(page)).to_have_class(re.compile(r"\bverdict-incorrect\b"))  # the verdict, before the model

    app.model.enqueue_text("Think about what undoes taking 5 away from 3x, step by step, slowly.")
    app.model.enqueue_text("Adding the same number to both sides keeps them equal.")
    ask(page, "Where do I start?")
    chat = page.locator("#tutor-chat")
    expect(chat).to_contain_text("Where do I start?")
    ask(page, "Why both sides?")  # while the first reply waits behind this student's own diagnosis
    expect(chat).to_contain_text("Why both sides?")
    expect(chat).not_to_contain_text("ahead of you")
    release.set()
    expect(latest(page)).to_contain_text("same operation again")  # the diagnosis, when it came
    expect(chat).to_contain_text("keeps them equal.")
    text = chat.inner_text()
    order = [text.index(s) for s in ("Where do I start?", "undoes taking 5", "Why both sides?", "keeps them equal")]
    assert order == sorted(order), text
    assert "ahead of you" not in text
    page.screenshot(path=str(artifacts_dir / "student-desktop-two-questions.png"), full_page=True)
    page.close()
