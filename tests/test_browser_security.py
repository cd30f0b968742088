"""Signing in, in Chromium: the app's own sign-in page says what to type, a wrong PIN is said
plainly and keeps the name, a name typed without accents or capitals signs in, and on a computer
without sign-in the Teacher tab opens only with the teacher password. Screenshots of the sign-in
page and the locked Teacher tab go to tests/artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tutor_app.runtime.fake import ScriptedBackend

from ui_harness import (DESKTOP, PHONE, TEACHER_PASSWORD, launch_chromium, open_page, running_app, text_field,
                        unlock_teacher, wait_until_loaded)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def test_the_sign_in_page_says_what_to_type_and_names_match_without_accents(tmp_path, browser, artifacts_dir):
    with running_app(tmp_path, ScriptedBackend(), require_login=True, students=["Zoë Müller"]) as (running, pins):
        page = open_page(browser, running.url, PHONE, signed_in=False)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("main")).to_contain_text("6-digit PIN")
        expect(page.locator("main")).to_contain_text("Teacher:")
        page.screenshot(path=str(artifacts_dir / "sign-in-page.png"), full_page=True)

        page.get_by_label("Your name").fill("zoe muller")
        page.get_by_label("PIN or password").fill("000000" if pins["Zoë Müller"] != "000000" else "111111")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("do not match")
        expect(page.get_by_label("Your name")).to_have_value("zoe muller")  # kept, to fix the PIN only

        page.get_by_label("PIN or password").fill(pins["Zoë Müller"])
        page.get_by_role("button", name="Sign in").click()
        wait_until_loaded(page)
        expect(page.locator("#app-header")).to_contain_text("Signed in as Zoë Müller")
        expect(page.locator("#teacher-tab-button")).to_have_count(0)
        page.close()


def test_without_sign_in_the_teacher_tab_opens_only_with_the_teacher_password(tmp_path, browser, artifacts_dir):
    with running_app(tmp_path, ScriptedBackend()) as (running, _):
        page = open_page(browser, running.url, DESKTOP)
        page.locator("#teacher-tab-button").click()
        expect(page.locator("#teacher-lock")).to_contain_text("The teacher's pages are locked")
        expect(page.locator("#teacher-pages")).to_be_hidden()
        page.screenshot(path=str(artifacts_dir / "teacher-tab-locked.png"), full_page=True)
        text_field(page, "teacher-unlock-password").fill("not-the-password")
        page.locator("#teacher-unlock").click()
        expect(page.locator("#teacher-unlock-message")).to_contain_text("not the teacher password")
        expect(page.locator("#teacher-pages")).to_be_hidden()

        unlock_teacher(page, TEACHER_PASSWORD)
        expect(page.locator("#overview-unit")).to_be_visible()
        page.locator("#teacher-lock-button").click()
        expect(page.locator("#teacher-pages")).to_be_hidden()

        again = open_page(browser, running.url, DESKTOP)  # another page (or a reload) starts locked
        again.locator("#teacher-tab-button").click()
        expect(again.locator("#teacher-lock")).to_be_visible()
        expect(again.locator("#teacher-pages")).to_be_hidden()
        page.close()
        again.close()


def test_markup_a_student_types_stays_text(tmp_path, browser):
    """An answer and a chat question carrying HTML and JavaScript never run, on the student's page
    or on the teacher's transcript."""
    attack = "<img src=x onerror=\"window.__pwned=1\"> <script>window.__pwned=2</script>"
    with running_app(tmp_path, ScriptedBackend()) as (running, _):
        page = open_page(browser, running.url, DESKTOP)
        text_field(page, "student-name").fill("Ana")
        page.locator("#problem-choice input").click()
        page.get_by_role("option", name="Two-step equation", exact=True).click()
        page.locator("#start-button").click()
        box = text_field(page, "answer-box")
        box.fill(attack)
        box.press("Enter")
        expect(page.locator("#feedback .feedback.latest")).to_be_visible()
        chat = text_field(page, "chat-input")
        chat.fill(attack)
        chat.press("Enter")
        expect(page.locator("#tutor-chat")).to_contain_text("What do you notice?")  # the reply came
        assert page.evaluate("window.__pwned") is None

        unlock_teacher(page)
        page.locator("#teacher-transcripts-tab-button").click()
        page.locator("#transcript-session input").click()
        page.get_by_role("option").filter(has_text="Ana").first.click()
        expect(page.locator("#transcript")).to_contain_text("window.__pwned=1")  # the answer, as text
        assert page.evaluate("window.__pwned") is None
        page.close()
