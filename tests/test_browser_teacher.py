"""With sign-in on: a student never sees the teacher's pages; the teacher signs in and goes
through the class overview, a transcript, the curricula (with a broken edit and Reload), the
model panel and the CSV exports. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from tutor_app.runtime.fake import ScriptedBackend

from ui_harness import (DESKTOP, PHONE, TEACHER_PASSWORD, UNIT_YAML, launch_chromium, open_page, running_app,
                        sign_in, text_field)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("browser-teacher"), ScriptedBackend(), require_login=True,
                     students=["Ana"]) as (running, pins):
        yield running, pins


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def answer(page, text: str) -> None:
    box = text_field(page, "answer-box")
    expect(box).to_be_editable()
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")  # the page took it


@pytest.fixture(scope="module")
def struggling_student(app, browser, artifacts_dir):
    """Ana signs in and gets stuck on the first step: a known misconception twice, a plain wrong
    answer, and every hint down to the worked step."""
    running, pins = app
    page = open_page(browser, running.url, DESKTOP, signed_in=False)
    sign_in(page, "Ana", pins["Ana"])
    expect(page.locator("#start-button")).to_be_visible()
    expect(page.locator("#app-header")).to_contain_text("Signed in as Ana")
    expect(page.locator("#student-name")).to_be_hidden()  # a student is who they signed in as
    expect(page.locator("#teacher-tab-button")).to_have_count(0)
    page.locator("#problem-choice input").click()
    page.get_by_role("option", name="Two-step equation", exact=True).click()
    page.locator("#start-button").click()
    expect(page.locator("#step-prompt .step-card")).to_contain_text("Subtract 3")
    for wrong in ("2x = 14", "2x=14", "2x = 9"):
        answer(page, wrong)
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint")).to_have_count(1)
    page.locator("#hint-button").click()
    expect(page.locator("#scaffold .scaffold")).to_be_visible()
    answer(page, "8")
    page.locator("#hint-button").click()
    expect(page.locator("#hints .hint.bottom-out")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "student-signed-in.png"), full_page=True)
    page.close()
    return "Ana"


@pytest.fixture(scope="module")
def teacher_page(app, browser, struggling_student):
    running, _ = app
    page = open_page(browser, running.url, DESKTOP, signed_in=False)
    sign_in(page, "teacher", TEACHER_PASSWORD)
    expect(page.locator("#app-header")).to_contain_text("Signed in as teacher")
    page.locator("#teacher-tab-button").click()
    yield page
    page.close()


def test_the_class_overview_shows_mastery_misconceptions_and_who_is_stuck(teacher_page, artifacts_dir):
    page = teacher_page
    heatmap = page.locator("#mastery-heatmap table.heatmap")
    expect(heatmap).to_contain_text("Ana")
    expect(heatmap).to_contain_text("Use inverse operations")
    expect(page.locator("#misconception-chart svg, #misconception-chart canvas").first).to_be_visible()
    expect(page.locator("#stuck-students")).to_contain_text("Ana")
    expect(page.locator("#stuck-students")).to_contain_text("still on it")
    page.screenshot(path=str(artifacts_dir / "teacher-class.png"), full_page=True)


def test_a_transcript_shows_every_attempt_and_hint(teacher_page, artifacts_dir):
    page = teacher_page
    page.locator("#teacher-transcripts-tab-button").click()
    page.locator("#transcript-session input").click()
    page.get_by_role("option").filter(has_text="Ana").first.click()
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("2x = 14")
    expect(transcript).to_contain_text("2x = 9")
    expect(transcript).to_contain_text("worked step")
    expect(transcript.locator(".feedback.verdict-misconception")).to_have_count(2)
    page.screenshot(path=str(artifacts_dir / "teacher-transcript.png"), full_page=True)


def test_curricula_reload_reports_a_broken_file_and_keeps_the_unit(app, teacher_page, artifacts_dir):
    running, _ = app
    page = teacher_page
    page.locator("#teacher-curricula-tab-button").click()
    expect(page.locator("#curricula-units")).to_contain_text("equations-test")
    expect(page.locator("#curricula-report")).to_contain_text("all files valid")

    folder = running.services.settings.curricula
    good = folder / "equations.yaml"
    (folder / "typo.yaml").write_text(UNIT_YAML.replace("id: equations-test", "id: typo-unit")
                                      .replace("check: numeric", "check: numberic"), encoding="utf-8")
    good.write_text(UNIT_YAML.replace("title: Two-step equations", "title: [unclosed"), encoding="utf-8")
    try:
        page.locator("#reload-curricula").click()
        report = page.locator("#curricula-report")
        expect(report).to_contain_text("typo.yaml")
        expect(report).to_contain_text("numberic")
        expect(report).to_contain_text("equations.yaml")
        expect(page.locator("#curricula-units")).to_contain_text("equations-test")  # the last good version
        expect(page.locator("#curricula-units")).to_contain_text("last good version in use")
        page.screenshot(path=str(artifacts_dir / "teacher-curricula.png"), full_page=True)
    finally:
        good.write_text(UNIT_YAML, encoding="utf-8")
        (folder / "typo.yaml").unlink()
    page.locator("#reload-curricula").click()
    expect(page.locator("#curricula-report")).to_contain_text("all files valid")


def test_the_model_panel_names_the_model_and_its_queue(teacher_page, artifacts_dir):
    page = teacher_page
    page.locator("#teacher-model-tab-button").click()
    summary = page.locator("#model-summary")
    expect(summary).to_contain_text("scripted")
    expect(summary).to_contain_text("Context size")
    expect(summary).to_contain_text("4,096 tokens")
    expect(summary).to_contain_text("waiting")
    page.screenshot(path=str(artifacts_dir / "teacher-model.png"), full_page=True)


def test_exports_download_csv_files(teacher_page, artifacts_dir):
    page = teacher_page
    page.locator("#teacher-exports-tab-button").click()
    page.locator("#export-attempts").click()
    link = page.locator("#export-file a").first
    expect(link).to_have_attribute("download", re.compile(r"^attempts-all-units-.*\.csv$"))
    with page.expect_download() as download:
        link.click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0].startswith("at,student,")
    assert "Ana" in text and "2x = 14" in text
    page.locator("#export-mastery").click()
    expect(page.locator("#export-file a").first).to_have_attribute("download", re.compile(r"^mastery-"))
    page.screenshot(path=str(artifacts_dir / "teacher-exports.png"), full_page=True)


def test_the_teacher_pages_fit_a_phone(app, browser, struggling_student, artifacts_dir):
    running, _ = app
    page = open_page(browser, running.url, PHONE, signed_in=False)
    sign_in(page, "teacher", TEACHER_PASSWORD)
    page.locator("#teacher-tab-button").click()
    expect(page.locator("#mastery-heatmap table.heatmap")).to_contain_text("Ana")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
    page.screenshot(path=str(artifacts_dir / "teacher-phone.png"), full_page=True)
    page.close()


def test_the_teacher_downloads_a_model_with_a_progress_bar(teacher_page, monkeypatch, tmp_path, artifacts_dir):
    from tqdm import tqdm

    from tutor_app.runtime.registry import KNOWN_MODELS
    from tutor_app.ui import download_panel

    wanted = next(e for e in KNOWN_MODELS.values() if not e.shipped)
    fetched = []

    def fake_download(name, models_dir, *, progress=True):  # the network is not for tests
        for _ in tqdm(range(20), desc=name):
            time.sleep(0.1)
        fetched.append(name)
        path = tmp_path / f"{name}.gguf"
        path.write_bytes(b"GGUF")
        return path

    monkeypatch.setattr(download_panel, "download_model", fake_download)
    page = teacher_page
    page.locator("#teacher-model-tab-button").click()
    page.locator("#model-download").get_by_text("Download a better model").click()
    page.locator("#download-choice input").click()
    page.get_by_role("option").filter(has_text=wanted.name).first.click()
    page.locator("#download-button").click()
    bar = page.locator("#download-status [role=progressbar]")
    expect(bar).to_have_attribute("aria-label", wanted.name)  # the download's own progress, shown on the page
    page.screenshot(path=str(artifacts_dir / "teacher-model-downloading.png"), full_page=True)
    expect(page.locator("#download-status")).to_contain_text("is ready")
    expect(page.locator("#download-status")).to_contain_text(f"python app.py --model {wanted.name}")
    assert fetched == [wanted.name]
    page.screenshot(path=str(artifacts_dir / "teacher-model-download.png"), full_page=True)
