"""The teacher's pages for the fine-tuning loop below the browser: curation under a transcript,
confirming a grade on the Review page, the adapters on the Model page and the trend per model
version on the Class page; each page's handlers refuse a student."""

from __future__ import annotations

import gradio as gr
import pytest

from tutor_app.runtime.adapters import adapter_version
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.errors import TutorError
from tutor_app.ui import adapters_panel, curation_panel, review_panel, trends_panel
from tutor_app.ui.app import create_app
from tutor_app.ui.conversation_transcript import CONVERSATION_PREFIX

from class_support import RUBRIC, TEACHER, class_services, run_class
from ui_harness import add_roster, handlers_refuse

OPENER = "Let's reason together."


def replies(name: str, number: int) -> str:
    return "The answer is x = 8." if number == 1 else f"{OPENER} What undoes adding 7?"


@pytest.fixture
def model():
    return ScriptedBackend()


@pytest.fixture
def school(tmp_path, model):
    services = class_services(tmp_path, model)
    record = run_class(services, model, replies, students=["Ada", "Ben"])
    yield services, record
    services.close()


def choices(update) -> list[tuple[str, str]]:
    return [tuple(c) for c in update.choices]


def test_the_teacher_judges_a_transcript_item_by_item(school):
    services, record = school
    session = record.sessions["Ada"]
    page = curation_panel.listing(services, TEACHER, session)
    labels = choices(page["item"])
    assert [value for _, value in labels] == ["diagnosis:1", "diagnosis:2", "reply:2", "reply:4", "reply:6"]
    assert all("not reviewed" in label for label, _ in labels)
    assert page["item"].value == "diagnosis:1" and "same-operation-not-inverse (bug rule)" in page["detail"]
    assert page["misconception"].visible and "none" in [c[0] for c in page["misconception"].choices]
    assert page["misconception"].value == "same-operation-not-inverse"

    reply = curation_panel.pick(services, TEACHER, session, "reply:4")
    assert [c[1] for c in reply["verdict"].choices] == ["good", "bad", "rewritten"]
    assert reply["text"].visible and reply["text"].label == "The reply the tutor should have given"
    assert not reply["misconception"].visible and "by scripted" in reply["detail"]

    saved = curation_panel.save(services, TEACHER, session, "reply:4", "rewritten", f"{OPENER} Which operation?",
                                None)
    label_of = {value: label for label, value in choices(saved["item"])}
    assert saved["item"].value == "reply:4" and "· write the reply it should have given ·" in label_of["reply:4"]
    assert f"The reply it should have been: {OPENER.replace(chr(39), '&#x27;')} Which operation?" in saved["detail"]
    after = curation_panel.save(services, TEACHER, session, "diagnosis:2", "corrected", "", "none")
    assert "Misconception: `none`" in curation_panel.pick(services, TEACHER, session, "diagnosis:2")["detail"]
    assert after["item"].value == "diagnosis:2"
    with pytest.raises(TutorError, match="Choose your judgement"):
        curation_panel.save(services, TEACHER, session, "reply:2", None, "", None)
    with pytest.raises(TutorError, match="Choose what to judge"):
        curation_panel.save(services, TEACHER, session, None, "good", "", None)

    conversation = CONVERSATION_PREFIX + record.conversations["Ada"]
    [(label, value)] = choices(curation_panel.listing(services, TEACHER, conversation)["item"])
    assert value.startswith("correction:") and "Quiero un cerveza" in label
    curation_panel.save(services, TEACHER, conversation, value, "approved", None, None)
    assert "**Approve**" in curation_panel.pick(services, TEACHER, conversation, value)["detail"]
    assert curation_panel.listing(services, TEACHER, None)["item"].choices == []


def test_the_review_page_confirms_a_model_grade(school):
    services, _ = school
    rows = services.assessment.list_grades(TEACHER, RUBRIC)
    page = review_panel.confirm_grade(services, TEACHER, RUBRIC, str(rows[0].submission_id))
    assert "model's grade confirmed" in page["grade"]
    assert services.assessment.list_grades(TEACHER, RUBRIC)[0].confirmed_by == "teacher"
    with pytest.raises(TutorError, match="Choose a submission"):
        review_panel.confirm_grade(services, TEACHER, RUBRIC, None)


def test_the_model_page_lists_adapters_with_their_evidence_and_switches(school, model):
    services, _ = school
    page = adapters_panel.snapshot(services, TEACHER)
    assert "No adapters in `models/adapters/` yet." in page["summary"] and page["adapter"].choices == []
    folder = services.settings.models_dir / "adapters"
    folder.mkdir(parents=True)
    (folder / "autumn.gguf").write_bytes(b"autumn adapter")
    (folder / "autumn.train.json").write_text('{"created": "2026-12-01T10:00:00+00:00", "examples": 24, "steps": 8, '
                                              '"losses": [[1, 2.5], [8, 0.4]], "final_loss": 0.4}')
    (folder / "autumn.evals.json").write_text(
        '[{"suite": "heldout-20261201", "at": "2026-12-01T11:00:00+00:00", "recommendation": "deploy", '
        '"differences": {"reply_similarity": {"base": 0.21, "adapter": 0.55, "verdict": "better"}, '
        '"answer_leak_rate": {"base": 0.5, "adapter": 0.5, "verdict": "no clear difference"}}}]')
    page = adapters_panel.snapshot(services, TEACHER)
    assert "| autumn.gguf | 2026-12-01: 24 examples, 8 steps, loss 2.50 → 0.40 |" in page["summary"]
    assert "**deploy**: similarity to your replies 0.21 → 0.55 ▲; answer leaks 50% → 50%" in page["summary"]
    assert not page["back"].interactive

    used = adapters_panel.use_adapter(services, TEACHER, "autumn.gguf")
    assert model.adapter == adapter_version(folder / "autumn.gguf")
    assert "autumn.gguf ✔ in use" in used["summary"] and used["back"].value == "Switch back to the base model"
    back = adapters_panel.switch_back(services, TEACHER)
    assert model.adapter is None and back["back"].value == "Switch back to autumn.gguf"
    adapters_panel.use_base(services, TEACHER)
    with pytest.raises(TutorError, match="Choose an adapter"):
        adapters_panel.use_adapter(services, TEACHER, None)


def test_the_class_page_shows_the_trend_per_model_version(school, model):
    services, record = school
    folder = services.settings.models_dir / "adapters"
    folder.mkdir(parents=True)
    (folder / "school.gguf").write_bytes(b"school adapter")
    services.adapters.activate(TEACHER, "school.gguf")
    run_class(services, model, replies, students=["Chloe"])
    curation = services.curation
    for name in ("Ada", "Chloe"):
        for item in curation.session_items(TEACHER, record.sessions.get(name) or
                                            services.dashboard.sessions(TEACHER, student=name)[0].session_id):
            if item.kind == "diagnosis" and item.model:
                curation.judge_diagnosis(TEACHER, item.id, "confirmed" if name == "Ada" else "corrected", "none")
    grades = {r.student: r for r in services.assessment.list_grades(TEACHER, RUBRIC)}
    services.assessment.confirm(TEACHER, grades["Ada"].submission_id, rubric_id=RUBRIC)
    services.assessment.override(TEACHER, grades["Chloe"].submission_id, "claim", score=0, rubric_id=RUBRIC)

    page = trends_panel.snapshot(services, TEACHER)
    table = page["table"]
    by_version = {row["model version"]: row for _, row in table.iterrows()}
    base, adapted = by_version["scripted"], by_version[f"scripted + {adapter_version(folder / 'school.gguf')}"]
    assert (base["tutor replies"], base["guard stepped in (per 100)"]) == (6, "33.3")
    assert (adapted["tutor replies"], adapted["guard stepped in (per 100)"]) == (3, "33.3")
    assert (base["grade scores checked"], base["changed by you"]) == (4, "0%")  # Ada's four, confirmed
    assert (adapted["grade scores checked"], adapted["changed by you"]) == (1, "100%")  # Chloe's claim
    assert (base["diagnoses checked"], base["you agreed"]) == (1, "100%")
    assert (adapted["diagnoses checked"], adapted["you agreed"]) == (1, "0%")
    assert "diagnoses: 1 confirmed, 1 corrected" in page["judgements"]


PAGE_MODULES = {"tutor_app.ui.curation_panel", "tutor_app.ui.adapters_panel", "tutor_app.ui.trends_panel"}
NAMES = {"on_confirm", "on_adapters"}


def test_every_handler_of_these_pages_refuses_a_student(tmp_path, model):
    services = class_services(tmp_path, model, require_login=True)
    try:
        pins = add_roster(services, ["Ana"])
        demo = create_app(services)
        assert demo.tutor_signin.check("Ana", pins["Ana"])
        called = handlers_refuse(demo, "Ana", modules=PAGE_MODULES, names=NAMES)
        assert {"on_transcript", "on_pick", "on_save", "on_use", "on_base", "on_back", "on_open", "on_confirm",
                "on_adapters"} <= set(called)
        assert services.curation.counts(TEACHER) == {} and services.adapters.listing(TEACHER).history == []
    finally:
        services.close()


def test_the_pages_are_built(tmp_path, model):
    services = class_services(tmp_path, model)
    try:
        demo = create_app(services)
        ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
        assert {"curation-item", "curation-save", "review-confirm", "adapters-use", "adapters-back",
                "model-trends"} <= ids
        assert isinstance(demo, gr.Blocks)
    finally:
        services.close()
