"""The web app's small parts as plain functions: errors, sign-in, the chat's waiting line,
the teacher's heatmap and panels. The running app is covered by test_api_* and test_browser_*."""

from __future__ import annotations

import inspect
import threading
import time
from pathlib import Path

import gradio as gr
import pytest

from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.queue import ModelQueue
from tutor_app.runtime.protocol import GenerationStats, ModelInfo
from tutor_app.service.actor import LOCAL_ACTOR, Actor
from tutor_app.service.auth import SignInResult
from tutor_app.service.errors import Forbidden, NotFound
from tutor_app.ui.api import text_arg
from tutor_app.ui.auth import SignIn
from tutor_app.ui.chat_view import PlaceInLine, message_text, pump_with_status, waiting_text
from tutor_app.ui.errors import GENERIC_MESSAGE, guard_stream, page_handler, user_errors
from tutor_app.ui.model_panel import model_snapshot
from tutor_app.ui.teacher_guard import require_teacher
from tutor_app.ui.teacher_render import heatmap_html, load_report_markdown, mastery_colour, model_markdown


# errors ------------------------------------------------------------------------------
def test_a_tutor_error_reaches_the_person_as_written():
    with pytest.raises(gr.Error) as caught:
        with user_errors("testing"):
            raise NotFound("There is no session 'abc'.")
    assert caught.value.message == "There is no session 'abc'."


def test_an_unexpected_error_is_logged_and_replaced_by_a_generic_message(caplog):
    with pytest.raises(gr.Error) as caught:
        with user_errors("testing"):
            raise KeyError("/secret/path/internal_table")
    assert caught.value.message == GENERIC_MESSAGE
    assert "secret" not in caught.value.message
    assert "internal_table" in caplog.text  # the operator still gets the details


def test_errors_raised_while_streaming_are_translated_too():
    def chunks():
        yield "a"
        raise Forbidden("This session belongs to another student.")

    stream = guard_stream("testing", chunks())
    assert next(stream) == "a"
    with pytest.raises(gr.Error, match="another student"):
        next(stream)


def test_a_page_handler_turns_errors_into_a_notice_and_leaves_the_page_alone(caplog):
    @page_handler("testing")
    def refused(request: gr.Request):
        raise Forbidden("Only the teacher can see this page.")

    @page_handler("testing")
    def broken(request: gr.Request):
        raise ValueError("/secret/internal")

    with pytest.warns(UserWarning, match="Only the teacher"):
        assert refused(None) == gr.skip()
    with pytest.warns(UserWarning, match="Something went wrong"):
        assert broken(None) == gr.skip()
    assert "/secret/internal" in caplog.text
    assert "request" in inspect.signature(refused).parameters  # Gradio still sees the request parameter


def test_api_arguments_must_be_text():
    assert text_arg("x", "student") == "x"
    assert text_arg(None, "problem_id") == ""
    with pytest.raises(Exception, match="'session_id' must be text"):
        text_arg(12, "session_id")


# sign-in -----------------------------------------------------------------------------
class Roster:
    """The auth service's sign-in, for two people; every sign-in holds until ``revoked``."""

    def __init__(self):
        self.revoked = set()

    def screen(self, username, secret, *, address="local"):
        return None

    def verify(self, username, secret, *, address="local"):
        if username.lower() == "ana" and secret == "1234":
            return SignInResult(actor=Actor(role="student", student="Ana"), credential="ana-hash")
        if username == "teacher" and secret == "long-password":
            return SignInResult(actor=Actor(role="teacher"), credential="teacher-hash")
        return SignInResult(refusal="wrong")

    def still_valid(self, actor, credential):
        return credential not in self.revoked


class Req:
    def __init__(self, username, session_hash=None):
        self.username = username
        self.session_hash = session_hash


def test_without_sign_in_everyone_is_the_local_user():
    assert SignIn(Roster(), required=False).actor_for(Req(None)) == LOCAL_ACTOR


def test_with_sign_in_the_actor_is_the_one_the_roster_named_at_sign_in():
    signin = SignIn(Roster(), required=True)
    assert not signin.check("ana", "0000")
    assert signin.check("ana", "1234") and signin.check("teacher", "long-password")
    assert signin.actor_for(Req("ana")) == Actor(role="student", student="Ana")  # the roster's spelling
    assert signin.actor_for(Req("teacher")).is_teacher
    with pytest.raises(Forbidden):
        signin.actor_for(Req("mallory"))  # never signed in: no identity taken from the request
    with pytest.raises(Forbidden):
        signin.actor_for(None)


def test_teacher_pages_refuse_a_student_even_when_called_directly():
    signin = SignIn(Roster(), required=True)
    signin.check("ana", "1234")
    signin.check("teacher", "long-password")
    with pytest.raises(Forbidden, match="Only the teacher"):
        require_teacher(signin, Req("ana"))
    assert require_teacher(signin, Req("teacher")).role == "teacher"
    local = SignIn(Roster(), required=False)
    with pytest.raises(Forbidden, match="teacher password"):
        require_teacher(local, Req(None, "page-1"))  # a shared computer: locked until the password
    assert local.unlock_teacher(Req(None, "page-1"), "wrong") is not None
    assert local.unlock_teacher(Req(None, "page-1"), "long-password") is None
    assert require_teacher(local, Req(None, "page-1")) == LOCAL_ACTOR  # the one local user
    with pytest.raises(Forbidden):
        require_teacher(local, Req(None, "page-2"))  # another page (a reload) is locked again


# chat --------------------------------------------------------------------------------
def test_the_waiting_line_says_how_many_are_ahead():
    assert "2 students ahead of you" in waiting_text(2)
    assert "1 student ahead of you" in waiting_text(1)
    assert "Thinking" in waiting_text(0) and "ahead" not in waiting_text(0)
    # the bubble never names the model's file (issue 12): the line under the chat names the model


def test_the_model_line_names_the_model_readably_and_says_when_it_is_a_demo():
    from tutor_app.runtime.protocol import ModelInfo
    from tutor_app.ui.chat_view import demo_notice, model_line

    class Served:
        def __init__(self, info):
            self.info = info

    small = Served(ModelInfo(name="models/SmolLM2-135M-Instruct.Q4_1.gguf", backend="llama.cpp"))
    big = Served(ModelInfo(name="mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf", backend="llama.cpp"))
    assert "SmolLM2-135M-Instruct.Q4_1</b>" in model_line(small) and "small demo model" in model_line(small)
    assert "small demo model" in demo_notice(small) and demo_notice(big) == ""
    assert "demo" not in model_line(big) and ".gguf" not in model_line(big)
    assert "your teacher turned it off" in model_line(big, allowed=False)


class Line:
    parallel = 1  # one place: the line as it was before batching

    def __init__(self, n):
        self.n = n

    def waiting(self):
        return self.n


def test_the_place_in_line_follows_the_line_as_it_shortens_and_ignores_newcomers():
    line = Line(2)  # one being served, one waiting
    place = PlaceInLine(line)
    assert place.ahead == 2
    line.n = 3  # this student joined
    assert place.now() == 2
    line.n = 5  # two more came after
    assert place.now() == 2
    line.n = 4  # the first one was served
    assert place.now() == 2  # (a newcomer behind cannot be told from one ahead: never goes up)
    line.n = 1  # only this student is left
    assert place.now() == 0
    assert PlaceInLine(ScriptedBackend()).now() == 0  # a model with nobody in line


def test_message_text_reads_both_chatbot_formats():
    assert message_text({"role": "user", "content": "hi"}) == "hi"
    assert message_text({"role": "user", "content": [{"type": "text", "text": "hi "}, {"type": "text", "text": "you"}]}) == "hi you"


def test_pump_reports_status_while_the_model_is_busy_then_the_text():
    release = threading.Event()

    def slow():
        release.wait(5)
        yield "Hel"
        yield "Hello"

    statuses = 0
    texts = []
    for kind, item in pump_with_status(slow(), lambda: "waiting", poll_s=0.02):
        if kind == "status":
            statuses += 1
            if statuses == 3:
                release.set()
        else:
            texts.append(item)
    assert statuses >= 3 and texts == ["Hel", "Hello"]


def test_pump_hands_errors_to_the_reader():
    def broken():
        yield "a"
        raise ValueError("model broke")

    pump = pump_with_status(broken(), lambda: "waiting", poll_s=0.01)
    assert next(pump) == ("text", "a")
    with pytest.raises(ValueError, match="model broke"):
        for _ in pump:
            pass


def test_pump_stops_the_model_when_the_reader_leaves():
    closed = threading.Event()

    def endless():
        try:
            while True:
                time.sleep(0.01)
                yield "x"
        finally:
            closed.set()

    pump = pump_with_status(endless(), lambda: "waiting", poll_s=0.01)
    assert any(kind == "text" for kind, _ in pump)  # stops at the first piece of text
    pump.close()
    assert closed.wait(2), "the generation went on for nobody"


# teacher -----------------------------------------------------------------------------
def test_mastery_colours_run_from_rose_to_green_and_grey_for_unpractised():
    assert mastery_colour(None) == "#f1f5f9"
    assert mastery_colour(0.0) == "#fecdd3" and mastery_colour(1.0) == "#bbf7d0"
    assert mastery_colour(0.5) == "#fef3c7" and mastery_colour(2.0) == "#bbf7d0"


def test_heatmap_has_a_row_per_student_a_column_per_skill_and_escapes_names():
    html = heatmap_html({"Zed <b>": {"a": 0.96}, "ana": {"b": 0.1}}, [("a", "Alpha"), ("b", "Beta")], threshold=0.95)
    assert html.index("ana") < html.index("Zed")  # sorted, case-insensitively
    assert "Zed &lt;b&gt;" in html and "Zed <b>" not in html
    assert "0.96 ✓" in html and "0.10" in html and html.count("–") == 2  # unpractised cells
    assert "No student" in heatmap_html({}, [], threshold=0.95)


class Err:
    def __init__(self, file, text):
        self.file, self.text = file, text

    def __str__(self):
        return self.text


def test_load_report_groups_errors_by_file():
    root = Path("/school/curricula")
    text = load_report_markdown({"u": object()}, [Err(root / "a.yaml", "a.yaml:3: x: bad <b>"),
                                                 Err(root / "sub/b.yaml", "sub/b.yaml:1: y"),
                                                 Err(root / "a.yaml", "a.yaml:9: z: bad")], root)
    assert "1 unit loaded" in text and "3 problems in files" in text
    assert text.count('<div class="file-name">a.yaml</div>') == 1 and '<div class="file-name">sub/b.yaml</div>' in text
    assert text.index("a.yaml:3") < text.index("a.yaml:9") < text.index("sub/b.yaml:1")
    assert "bad &lt;b&gt;" in text
    assert "all files valid" in load_report_markdown({}, [], None)


def test_a_curriculum_error_is_shown_by_line_and_field_under_its_file():
    from tutor_app.curriculum.errors import CurriculumError

    root = Path("/school/curricula")
    err = CurriculumError(root / "algebra.yaml", 12, "problems[0].steps[1].check", "unknown checker 'equasion'")
    text = load_report_markdown({}, [err, CurriculumError(root / "algebra.yaml", None, "", "not valid YAML")], root)
    assert '<div class="file-name">algebra.yaml</div>' in text
    assert "<li>line 12: problems[0].steps[1].check: unknown checker &#x27;equasion&#x27;</li>" in text
    assert "<li>not valid YAML</li>" in text


def test_model_card_shows_plan_context_queue_and_speed():
    info = ModelInfo(name="mixtral-q4", backend="llama.cpp", path="/m/x.gguf", n_ctx=8192,
                     offload_plan="12 of 32 layers on the GPU: 10 GB VRAM")
    stats = [GenerationStats(completion_tokens=11, time_to_first_token_s=0.5, total_s=1.5)]
    text = model_markdown(info, waiting=3, recent=stats)
    assert "mixtral-q4" in text and "8,192 tokens" in text and "12 of 32 layers" in text
    assert "3 waiting" in text and "10.0 tokens/s" in text
    off = model_markdown(ModelInfo(name="none", backend="unavailable", available=False,
                                   problem="models/x.gguf is not a GGUF file"), waiting=0, recent=[])
    assert "not available" in off and "not a GGUF file" in off and "no tutor turns yet" in off


def test_the_model_panel_shows_the_speed_measured_here_beside_the_estimate():
    from tutor_app.runtime.speed import SpeedMeasurement
    from tutor_app.ui.teacher_render import measured_speed_html

    llama = ModelInfo(name="smollm2", backend="llama.cpp", path="/m/smollm2.gguf")
    assert "not measured yet" in measured_speed_html(llama, None)
    assert measured_speed_html(ModelInfo(name="remote", backend="openai"), None) == "–"
    found = SpeedMeasurement(model="smollm2", path="/m/smollm2.gguf", machine="2 CPUs, 24 GiB RAM, no GPU",
                             measured_tokens_per_s=27.5, estimated_tokens_per_s=74.3, tokens=64,
                             measured_at="2026-12-05T21:00:00+00:00")
    shown = measured_speed_html(llama, found)
    assert "<b>27.5 tokens/s</b>" in shown and "the planner estimated 74.3" in shown
    assert "Measured here" in model_markdown(llama, waiting=0, recent=[], measured=found)


def test_the_model_panel_reads_the_line_and_the_last_calls_costs_from_the_shared_model():
    queue = ModelQueue(ScriptedBackend())
    assert "".join(queue.stream_chat([{"role": "user", "content": "hi there"}])) != ""
    summary, frame = model_snapshot(queue)
    assert "0 waiting" in summary and "scripted" in summary
    assert len(frame) == 1 and frame.iloc[0]["prompt tokens"] == 2


def test_stuck_students_are_listed_with_where_and_why():
    from datetime import datetime, timezone

    from tutor_app.dashboard.shapes import Place, StuckStudent
    from tutor_app.ui.class_overview import stuck_html

    row = StuckStudent(student="Ana <3", session_id="s", curriculum_id="u", problem_id="p1", step_id="isolate",
                       wrong_attempts=4, hints=3, bottom_out_hints=1, still_on_step=True,
                       last_at=datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc), reason="4 wrong attempts")
    text = stuck_html([row])  # a unit that no longer has the problem: the ids are all there is
    assert "Ana &lt;3" in text and "p1 · isolate" in text and "4 wrong attempts" in text and "still on it" in text
    titled = stuck_html([row.model_copy(update={"place": Place(problem_title="Two <step>",
                                                               step_label="step 1: Subtract 3")})])
    assert "Two &lt;step&gt; · step 1: Subtract 3" in titled and "p1" not in titled and "isolate" not in titled
    assert "Nobody is stuck" in stuck_html([])


def test_misconception_bars_are_labelled_by_description_and_step():
    import re

    from tutor_app.dashboard.shapes import MisconceptionCount, Place
    from tutor_app.ui.class_overview import LABEL_CHARS, misconception_chart_html

    long = "Applies the same operation instead of the inverse one, on both sides of the equation <always>"
    rows = [MisconceptionCount(curriculum_id="u", problem_id="p1", step_id="isolate", misconception_id="m1",
                               description=long, count=5, students=3, by_bug_rule=5, by_model=0,
                               place=Place(problem_title="Two-step equation", step_label="step 1: Subtract 3")),
            MisconceptionCount(curriculum_id="u", problem_id="p1", step_id="solve", misconception_id="m2",
                               description="", count=2, students=2, by_bug_rule=1, by_model=1)]
    text = misconception_chart_html(rows)
    assert [int(n) for n in re.findall(r'data-count="(\d+)"', text)] == [5, 2]
    labels = re.findall(r'class="misconception-label" title="([^"]*)">([^<]*)<', text)
    assert labels[0][0] == long.replace("<", "&lt;").replace(">", "&gt;")  # the whole text as the tooltip
    assert labels[0][1].endswith("…") and len(labels[0][1]) <= LABEL_CHARS
    assert labels[1][1] == "m2"  # no description left in the unit: the id
    places = re.findall(r'class="misconception-where">([^<]*)<', text)
    assert places == ["Two-step equation · step 1: Subtract 3", "p1 · solve"]  # titles; ids for what is gone
    shares = [float(x) for x in re.findall(r'data-share="([0-9.]+)"', text)]
    assert shares == [1.0, 0.4]  # each bar as long as its count says
    assert "5 times, 3 students" in text and "2 times, 2 students" in text
    assert "No misconceptions" in misconception_chart_html([])


def test_with_several_places_only_the_calls_beyond_them_are_ahead():
    line = Line(2)
    line.parallel = 4  # two replies running, two places free: this student starts at once
    assert PlaceInLine(line).ahead == 0
    line.n = 5  # four running, one waiting
    place = PlaceInLine(line)
    assert place.ahead == 2
    line.n = 6  # this student joined
    assert place.now() == 2
    line.n = 5  # one reply finished: the waiting one started
    assert place.now() == 1
    line.n = 4
    assert place.now() == 0
