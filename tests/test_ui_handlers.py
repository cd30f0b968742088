"""The page's handlers as plain functions over (services, actor, page state, inputs), on the app's
real services (scripted model, SQLite file): the student's page, the Conversation tab and the
teacher's Review page. Each returns the page's changes by name; the browser tests cover the
wiring of those names to what a person sees."""

from __future__ import annotations

import shutil

import pytest

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import LOCAL_ACTOR, Actor
from tutor_app.service.errors import Forbidden, TutorError
from tutor_app.ui import conversation_view, grading_panel, review_panel, student_view
from tutor_app.ui.app import student_page_on_load

from assessment_support import REPO, SAMPLES, enqueue_grading
from ui_harness import UNIT_ID, build_services

ANA = Actor(role="student", student="Ana")
TEACHER = Actor(role="teacher")
SPANISH_ID = "spanish-a2-tapas-bar"
RUBRIC_ID = "explain-your-reasoning"


@pytest.fixture
def model() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def services(tmp_path, model):
    services = build_services(tmp_path, model)  # the test unit; the Spanish unit and a rubric beside it
    shutil.copy(REPO / "curricula" / "language" / "spanish-a2-restaurant.yaml", services.settings.curricula)
    shutil.copy(REPO / "curricula" / "rubrics" / f"{RUBRIC_ID}.yaml", services.settings.curricula)
    services.library.reload()
    assert services.library.errors == []
    yield services
    services.close()


def explicit(update) -> dict:
    """What a component update sets (Gradio applies only these)."""
    return update.constructor_args


# the student's page ------------------------------------------------------------------------
def test_a_problem_is_started_answered_and_hinted_through_the_handlers(services):
    started = student_view.start(services, ANA, "Mallory", UNIT_ID, "two-step-1")
    view = started["view"]
    assert view.student == "Ana" and view.step_id == "isolate"  # the roster's name, not the typed one
    assert "2x + 3 = 11" in started["problem_md"] and started["chatbot"] == []
    assert explicit(started["answer"])["value"] == "" and explicit(started["submit"]) == {"interactive": True}

    wrong = student_view.check_answer(services, ANA, view, "2x = 14", None)
    assert wrong["view"].last.verdict == "misconception" and "added 3" in wrong["feedback_md"]
    hinted = student_view.give_hint(services, ANA, wrong["view"])
    assert "Which operation undoes" in hinted["hints_md"]
    assert "value" not in explicit(hinted["answer"])  # what the student was typing stays

    right = student_view.check_answer(services, ANA, hinted["view"], " 2x = 8 ", None)
    assert right["view"].step_id == "solve" and "Step 2 of 2" in right["step_md"]
    done = student_view.check_answer(services, ANA, right["view"], "x = 4", None)
    assert done["view"].problem_done and explicit(done["next_problem"]) == {"visible": True}
    assert explicit(done["submit"]) == {"interactive": False}
    following = student_view.next_problem(services, ANA, done["view"], UNIT_ID)
    assert following["view"].problem_id == "two-step-2"


def test_the_student_page_says_what_is_missing(services):
    with pytest.raises(TutorError, match="Please type your name first"):
        student_view.start(services, LOCAL_ACTOR, "  ", UNIT_ID, "")
    with pytest.raises(TutorError, match="choose a unit"):
        student_view.start(services, LOCAL_ACTOR, "Ben", None, "")
    for handler in (lambda: student_view.check_answer(services, ANA, None, "1", None),
                    lambda: student_view.give_hint(services, ANA, None),
                    lambda: student_view.next_problem(services, ANA, None, UNIT_ID)):
        with pytest.raises(TutorError, match="Start a problem first"):
            handler()
    view = student_view.start(services, LOCAL_ACTOR, "Ben", UNIT_ID, "two-step-1")["view"]
    with pytest.raises(TutorError, match="Type an answer first"):
        student_view.check_answer(services, LOCAL_ACTOR, view, "   ", None)
    with pytest.raises(Forbidden):  # another student's page state is no key to their session
        student_view.check_answer(services, ANA, view, "2x = 8", None)
    choices = student_view.choose_unit(services, UNIT_ID)["problem"].choices
    assert [value for _, value in choices] == ["", "two-step-1", "two-step-2"]


def test_a_returning_student_finds_their_problem_and_chat_on_load(services, model):
    started = student_view.start(services, ANA, "", UNIT_ID, "two-step-2")["view"]
    model.enqueue_text("What undoes minus 5?")
    assert list(services.tutor.ask_tutor(ANA, started.session_id, "Where do I start?"))
    opened = student_page_on_load(services, ANA, "")
    assert opened["view"].session_id == started.session_id and opened["unit"].value == UNIT_ID
    assert [m["role"] for m in opened["chatbot"]] == ["user", "assistant"]
    assert explicit(opened["name"]) == {"value": "Ana", "interactive": False, "visible": False}
    fresh = student_page_on_load(services, LOCAL_ACTOR, "")
    assert fresh["view"] is None and fresh["chatbot"] == [] and explicit(fresh["name"])["visible"] is True


# the Conversation tab ----------------------------------------------------------------------
def test_a_conversation_turn_is_corrected_then_the_reply_streams_into_the_tab(services, model):
    tab = conversation_view.begin(services, ANA, "", SPANISH_ID, new=False)
    current = tab["state"]
    assert current.student == "Ana" and [m["role"] for m in tab["chatbot"]] == ["assistant"]
    assert explicit(tab["message"]) == {"interactive": True}

    shown = conversation_view.add_turn("  Un  cerveza, por favor ", tab["chatbot"], current)
    assert shown["chatbot"][-1] == {"role": "user", "content": "Un cerveza, por favor"}
    assert explicit(shown["send"]) == {"interactive": False} and "Checking your message" in shown["corrections"]
    assert conversation_view.add_turn("   ", tab["chatbot"], current).keys() == {"corrections"}

    model.enqueue_json({"corrected": "Una cerveza, por favor.", "errors": [
        {"span": "Un cerveza", "correction": "Una cerveza", "category": "gender-agreement",
         "explanation": "Cerveza is feminine."}]})
    model.enqueue_text("¡Marchando una cerveza!")
    frames = list(conversation_view.respond(services, ANA, current, shown["chatbot"]))
    assert explicit(frames[0]["message"]) == {"interactive": False}  # locked while the reply is written
    final = frames[-1]
    assert final["chatbot"][-1] == {"role": "assistant", "content": "¡Marchando una cerveza!"}
    assert "Una cerveza" in final["corrections"] and explicit(final["message"]) == {"interactive": True}

    turn_id = conversation_view.picked_turn(final["state"], len(final["state"].turns) - 1)
    assert turn_id == final["state"].turns[-1].turn_id
    assert conversation_view.picked_turn(final["state"], [1, 0]) is None  # the student's own line
    model.enqueue_json({"translation": "Coming right up, one beer!", "explanation": "Marchar: to be on its way."})
    card = conversation_view.translate_turn(services, ANA, final["state"], turn_id)["translation"]
    assert "Coming right up, one beer!" in card


def test_the_conversation_tab_says_what_is_missing(services):
    with pytest.raises(TutorError, match="choose a conversation"):
        conversation_view.begin(services, ANA, "", None, new=False)
    with pytest.raises(TutorError, match="so your conversation is saved under it"):
        conversation_view.begin(services, LOCAL_ACTOR, "", SPANISH_ID, new=False)
    with pytest.raises(TutorError, match="Start a conversation first"):
        conversation_view.translate_turn(services, ANA, None)
    assert list(conversation_view.respond(services, ANA, None, [])) == []
    loaded = conversation_view.tab_on_load(services, LOCAL_ACTOR, "Ben")
    assert explicit(loaded["name"]) == {"interactive": True, "visible": True, "value": "Ben"}
    assert loaded["unit"].value == SPANISH_ID


# the teacher's Review page -----------------------------------------------------------------
def test_the_review_page_lists_shows_and_stores_the_teachers_grade(services, model):
    texts = sorted((SAMPLES / "submissions").glob("*.txt"))[:2]
    enqueue_grading(model, 5 * len(texts))
    grading_panel.grade_uploads(services, TEACHER, RUBRIC_ID, [str(p) for p in texts])

    page = review_panel.snapshot(services, TEACHER, None)
    assert page["rubric"].value == RUBRIC_ID and "2 graded" in page["summary"]
    first = page["submission"].value
    assert "Amara" in page["text"] and page["agreement_table"] is not None
    assert page["criterion"].value == "claim" and page["score"].value == "3"

    evidence = review_panel.pick_criterion(services, TEACHER, RUBRIC_ID, first, "evidence")
    assert evidence.keys() == {"score", "comment"}
    saved = review_panel.save_grade(services, TEACHER, RUBRIC_ID, first, "claim", "1", "Say what you claim.")
    assert saved["criterion"].value == "claim" and saved["score"].value == "1"
    assert "Say what you claim." in saved["grade"]
    with pytest.raises(TutorError, match="Nothing to save"):
        review_panel.save_grade(services, TEACHER, RUBRIC_ID, first, "claim", "1", "Say what you claim.")

    other = [value for _, value in page["submission"].choices if value != first][0]
    assert "Ben" in review_panel.pick_submission(services, TEACHER, RUBRIC_ID, other)["text"]
    files = explicit(review_panel.export_grades(services, TEACHER, RUBRIC_ID)["downloads"])["value"]
    assert sorted(f.rsplit(".", 1)[-1] for f in files) == ["csv", "json"]
    with pytest.raises(Forbidden):
        review_panel.snapshot(services, ANA, None)
    with pytest.raises(TutorError, match="Choose a rubric first"):
        review_panel.grade_waiting(services, TEACHER, None, None)
