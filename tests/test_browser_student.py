"""A student works a whole problem in Chromium: a wrong answer with misconception feedback,
the hint ladder with its scaffold question, the tutor chat, correct answers, the mastery chart
moving, the next problem, and coming back to unfinished work. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
import time

import pytest
from gradio_client import Client
from playwright.sync_api import expect

from tutor_app.dialogue.phrases import phrase
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelInfo
from tutor_app.service.actor import LOCAL_ACTOR

from ui_harness import (  # noqa: F401 (chromium_browser: a fixture)
    DESKTOP, PHONE, UNIT_ID, chromium_browser, open_page, running_app, text_field)

pytestmark = pytest.mark.browser

CHAT_REPLY = "Good question! What does subtracting 3 do to the + 3 on the left side?"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    model = ScriptedBackend(chunk_size=4, delay_s=0.02)
    with running_app(tmp_path_factory.mktemp("browser-student"), model) as (running, _):
        yield running


@pytest.fixture(scope="module")
def browser(chromium_browser):
    return chromium_browser


def start_problem(page, name: str, problem_title: str = "Two-step equation") -> None:
    expect(page.locator("#start-button")).to_be_visible()
    text_field(page, "student-name").fill(name)
    page.locator("#problem-choice input").click()
    page.get_by_role("option", name=problem_title, exact=True).click()
    page.locator("#start-button").click()
    expect(page.locator("#step-prompt .step-card")).to_contain_text("Subtract 3")


def answer(page, text: str) -> None:
    box = text_field(page, "answer-box")
    expect(box).to_be_editable()
    box.fill(text)
    box.press("Enter")


def latest_feedback(page):
    return page.locator("#feedback .feedback.latest")


def mastery_legend_text(page) -> str:
    """The mastery chart's words: each skill's name, percentage and level."""
    legend = page.locator("#mastery-chart .mastery-rows")
    expect(legend).to_contain_text("Use inverse operations")
    return legend.inner_text()


def drawn_bars(page) -> dict[str, tuple[float, int, str]]:
    """Skill name -> (the share of its bar the browser drew, the percentage printed beside it,
    the level in words), read from the rendered page."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#mastery-chart .mastery-row')]
        .map(row => {
            const track = row.querySelector('.bar-track').getBoundingClientRect().width;
            const fill = row.querySelector('.bar-fill').getBoundingClientRect().width;
            const words = row.querySelector('.mastery-words').innerText.trim();
            return [row.querySelector('.mastery-name').childNodes[0].textContent.trim(),
                    [fill / track, parseInt(words), words.replace(/^\\d+%\\s*/, '')]];
        }))""")


def test_a_student_works_a_whole_problem(app, browser, artifacts_dir):
    context = browser.new_context(viewport=DESKTOP)
    page = open_page(context, app.url)
    start_problem(page, "Ana")
    expect(page.locator("#progress")).to_contain_text("0 of 2 steps done")
    expect(page.locator("#step-prompt")).to_contain_text("Step 1 of 2")
    before = mastery_legend_text(page)

    # a wrong answer that a bug rule knows
    answer(page, "2x = 14")
    expect(latest_feedback(page)).to_have_class(re.compile(r"\bverdict-misconception\b"))
    expect(latest_feedback(page)).to_contain_text("added 3 to both sides")

    # the hint ladder: a nudge, then a scaffold question that takes the next answer
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint")).to_have_count(1)
    expect(page.locator("#hints")).to_contain_text("Which operation undoes")
    page.locator("#hint-button").click()
    expect(page.locator("#scaffold .scaffold")).to_contain_text("First, a smaller question")
    expect(page.locator("#answer-box")).to_contain_text("Your answer to the smaller question")
    answer(page, "8")
    expect(latest_feedback(page)).to_have_class(re.compile(r"\bverdict-correct\b"))
    expect(latest_feedback(page)).to_contain_text("(sub-question)")
    expect(page.locator("#scaffold .scaffold")).to_have_count(0)
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint.bottom-out")).to_have_count(1)
    expect(page.locator("#hints .hint")).to_have_count(3)

    # the tutor chat: the question shows at once, the reply streams in
    app.model.enqueue_text(CHAT_REPLY)
    text_field(page, "chat-input").fill("Why do we subtract 3?")
    page.locator("#chat-send").click()
    chat = page.locator("#tutor-chat")
    expect(chat).to_contain_text("Why do we subtract 3?")
    expect(chat).to_contain_text("on the left side?")
    page.screenshot(path=str(artifacts_dir / "student-desktop-hints-chat.png"), full_page=True)

    # the step's answer: the step is done, the next one shows, mastery moves
    answer(page, "2x = 8")
    expect(page.locator("#progress .done-step")).to_have_count(1)
    expect(page.locator("#progress")).to_contain_text("1 of 2 steps done")
    expect(page.locator("#step-prompt")).to_contain_text("Step 2 of 2")
    expect(page.locator("#hints .hint")).to_have_count(0)  # the new step starts without hints
    page.wait_for_function("before => !document.querySelector('#mastery-chart .mastery-rows').innerText"
                           ".includes(before)", arg=before)
    expect(page.locator("#mastery-chart svg, #mastery-chart canvas").first).to_be_visible()

    answer(page, "x = 6")
    expect(latest_feedback(page)).to_have_class(re.compile(r"\bverdict-misconception\b"))
    expect(latest_feedback(page)).to_contain_text("You subtracted 2")
    answer(page, "x = 4")
    expect(page.locator("#step-prompt")).to_contain_text("Problem solved")
    expect(page.locator("#progress .done-step")).to_have_count(2)
    expect(page.locator("#answer-row")).to_be_hidden()
    expect(page.locator("#next-problem")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "student-desktop-solved.png"), full_page=True)

    page.locator("#next-problem").click()
    expect(page.locator("#progress")).to_contain_text("0 of 2 steps done")
    expect(page.locator("#answer-row")).to_be_visible()
    expect(page.locator("#tutor-chat")).not_to_contain_text("Why do we subtract 3?")  # a new problem, a new chat
    statement = page.locator("#problem-statement").inner_text()

    # coming back later in the same browser: the unfinished problem is there, without pressing Start
    again = open_page(context, app.url)
    expect(text_field(again, "student-name")).to_have_value("Ana")
    expect(again.locator("#progress")).to_contain_text("0 of 2 steps done")
    again.wait_for_function("s => document.querySelector('#problem-statement').innerText === s", arg=statement)
    context.close()


def test_the_mastery_chart_agrees_with_its_words_and_marks_each_new_level(app, browser, artifacts_dir):
    """Item 8 of the walk-through: the bars showed the previous answer's values (0.2 where the
    legend said 60%). Each bar must be as long as the number beside it says, after every answer,
    with the level in words, and a skill that reaches a new level is marked."""
    page = open_page(browser, app.url, DESKTOP)
    start_problem(page, "Dana")
    key = page.locator("#mastery-legend .mastery-legend")
    for words in ("just starting", "getting there", "solid", "mastered"):
        expect(key).to_contain_text(words)
    seen = []
    for text, skill, percent, level in (("2x = 8", "Use inverse operations", 60, "getting there"),
                                        ("x = 4", "Divide by the coefficient", 60, "getting there")):
        answer(page, text)
        row = page.locator("#mastery-chart .mastery-row.reached")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(skill)
        expect(row).to_contain_text(f"new level: {level}")
        expect(page.locator("#mastery-chart .mastery-news")).to_contain_text(f"{skill} is now {level}")
        bars = drawn_bars(page)
        assert tuple(bars[skill][1:]) == (percent, level), bars
        for name, (drawn, printed, _) in bars.items():
            assert abs(drawn - printed / 100) <= 0.01, (name, drawn, printed)
        seen.append(bars)
    assert tuple(seen[0]["Divide by the coefficient"][1:]) == (20, "just starting")
    page.screenshot(path=str(artifacts_dir / "student-mastery-progress.png"), full_page=True)

    page.locator("#next-problem").click()
    expect(page.locator("#progress")).to_contain_text("0 of 2 steps done")
    answer(page, "3x = 15")  # the second problem's first step: the skill climbs again
    expect(page.locator("#mastery-chart .mastery-row.reached")).to_contain_text("new level: solid")
    bars = drawn_bars(page)
    assert tuple(bars["Use inverse operations"][1:]) == (89, "solid")
    assert abs(bars["Use inverse operations"][0] - 0.89) <= 0.01
    answer(page, "x = 6")  # a wrong answer: no level reached, nothing marked
    expect(page.locator("#feedback .feedback.latest")).to_be_visible()
    expect(page.locator("#mastery-chart .mastery-row.reached")).to_have_count(0)
    page.close()


def test_a_returning_student_sees_their_steps_hints_and_chat(app, browser, artifacts_dir):
    first = browser.new_context(viewport=DESKTOP)
    page = open_page(first, app.url)
    start_problem(page, "Cleo")
    answer(page, "2x = 8")
    expect(page.locator("#progress .done-step")).to_have_count(1)
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint")).to_have_count(1)
    app.model.enqueue_text("What undoes multiplying by 2?")
    text_field(page, "chat-input").fill("How do I get x alone?")
    page.locator("#chat-send").click()
    expect(page.locator("#tutor-chat")).to_contain_text("multiplying by 2")
    first.close()

    # another browser (nothing remembered): typing the name and pressing Start resumes
    later = open_page(browser.new_context(viewport=DESKTOP), app.url)
    expect(later.locator("#start-button")).to_be_visible()
    text_field(later, "student-name").fill("Cleo")
    later.locator("#start-button").click()
    expect(later.locator("#step-prompt")).to_contain_text("Step 2 of 2")
    expect(later.locator("#progress .done-step")).to_contain_text("2x = 8")
    expect(later.locator("#hints")).to_contain_text("Divide both sides by 2")
    expect(later.locator("#tutor-chat")).to_contain_text("How do I get x alone?")
    expect(later.locator("#tutor-chat")).to_contain_text("multiplying by 2")
    later.screenshot(path=str(artifacts_dir / "student-desktop-resumed.png"), full_page=True)
    later.context.close()


def test_the_page_works_on_a_phone(app, browser, artifacts_dir):
    page = open_page(browser, app.url, PHONE)
    start_problem(page, "Ben")
    answer(page, "2x = 14")
    expect(latest_feedback(page)).to_contain_text("added 3")
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint")).to_have_count(1)
    app.model.enqueue_text("Which operation is the opposite of adding?")
    text_field(page, "chat-input").fill("help")
    page.locator("#chat-send").click()
    expect(page.locator("#tutor-chat")).to_contain_text("opposite of adding")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
    page.screenshot(path=str(artifacts_dir / "student-phone.png"), full_page=True)
    page.close()


def test_starting_without_a_name_says_what_is_missing(app, browser):
    page = open_page(browser, app.url, DESKTOP)
    expect(page.locator("#start-button")).to_be_visible()
    page.locator("#start-button").click()
    expect(page.get_by_text("Please type your name first")).to_be_visible()
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)  # a notice, not a page of red badges
    assert UNIT_ID  # the unit list is there even though nothing started
    expect(page.locator("#answer-row")).to_be_hidden()
    page.close()


def page_session(app, student: str) -> str:
    found = app.services.tutor.unfinished_session(LOCAL_ACTOR, student)
    assert found is not None
    return found.session_id


class NoModel(ScriptedBackend):
    """A backend that failed to load (the runtime's unavailable backend reports the same way)."""

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="none", backend="unavailable", available=False,
                         problem="models/mixtral.gguf is not a GGUF file")


def test_without_a_model_the_chat_says_so_and_tutoring_goes_on(browser, tmp_path, artifacts_dir):
    with running_app(tmp_path, NoModel()) as (app, _):
        page = open_page(browser, app.url, DESKTOP)
        expect(page.locator("#model-line")).to_contain_text("Tutor chat off")
        start_problem(page, "Dee")
        text_field(page, "chat-input").fill("help me")
        page.locator("#chat-send").click()
        expect(page.locator("#tutor-chat")).to_contain_text(phrase("model_unavailable", "en"))
        assert not app.services.tutor.store.messages(session_id=page_session(app, "Dee"))  # nothing half-said is kept
        answer(page, "2x = 14")  # checking still works
        expect(latest_feedback(page)).to_contain_text("added 3")
        page.screenshot(path=str(artifacts_dir / "student-desktop-no-model.png"), full_page=True)
        page.close()


def test_while_the_model_is_busy_the_chat_says_how_many_are_ahead(app, browser, artifacts_dir):
    other = Client(app.url, verbose=False)
    busy_session = other.predict("Ola", UNIT_ID, "two-step-1", api_name="/start_session")["session_id"]
    page = open_page(browser, app.url, DESKTOP)
    start_problem(page, "Pia")

    long_reply = "Let's think it through slowly. " * 20  # about 150 pieces: the model stays busy a while
    app.model.enqueue_text(long_reply)
    app.model.enqueue_text("Your turn now: what undoes adding 3?")
    job = other.submit(busy_session, "explain everything", api_name="/ask_tutor")
    deadline = time.monotonic() + 20
    while app.services.model.waiting() < 1:
        assert time.monotonic() < deadline, "the other student's question never reached the model"
        time.sleep(0.05)

    text_field(page, "chat-input").fill("Can you help?")
    page.locator("#chat-send").click()
    chat = page.locator("#tutor-chat")
    expect(chat).to_contain_text("1 student ahead of you")
    expect(chat).not_to_contain_text("scripted")  # a bubble never names the model's file (issue 12)
    page.screenshot(path=str(artifacts_dir / "student-desktop-waiting.png"), full_page=True)
    expect(chat).to_contain_text("what undoes adding 3?")
    expect(chat).not_to_contain_text("ahead of you")
    assert job.outputs()[-1].startswith("Let's think it through slowly.")
    page.close()
