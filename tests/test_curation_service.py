"""The teacher's curation of model outputs, and which model and adapter produced each stored output.

A judgement is stored apart from the output it judges (the reply, diagnosis or correction the
student saw never changes), with who and when, the newest in force and the history kept; bad
input is refused with a message; only the teacher may judge. Every stored model output names
the model and the adapter version in use when it was made, and a switch of adapter shows on
the next outputs.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tutor_app.curation.models import CorrectionReview, DiagnosisReview, ReplyReview
from tutor_app.language.models import ConversationTurn
from tutor_app.runtime.adapters import adapter_version
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.errors import Forbidden, NotFound, TutorError
from tutor_app.tutoring.models import Attempt, TutorMessage

from class_support import RUBRIC, TEACHER, class_services, run_class, student

OPENER = "Let's reason together."


def replies(name: str, number: int) -> str:
    if number == 1:
        return "The answer is x = 8."  # gives the answer away: the guard cuts it
    return f"{OPENER} What undoes adding 7, {name}?"


@pytest.fixture
def model():
    return ScriptedBackend()


@pytest.fixture
def services(tmp_path, model):
    services = class_services(tmp_path, model)
    yield services
    services.close()


def rows(services, table, *where):
    with services.db.session() as session:
        return [dict(r._mapping) for r in session.execute(sa.select(table.__table__).where(*where))]


def write_adapter(services, name: str, content: bytes = b"GGUF adapter") -> str:
    folder = services.settings.models_dir / "adapters"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return adapter_version(folder / name)


# provenance ---------------------------------------------------------------------------------
def test_every_stored_model_output_names_its_model_and_adapter_version(services, model):
    version = write_adapter(services, "school.gguf")
    services.adapters.activate(TEACHER, "school.gguf")
    run_class(services, model, replies, students=["Ada"])
    services.adapters.use_base(TEACHER)
    run_class(services, model, replies, students=["Ben"])

    tutor = rows(services, TutorMessage, TutorMessage.role == "tutor")
    assert [(r["model_name"], r["adapter"]) for r in tutor] == [("scripted", version)] * 3 + [("scripted", None)] * 3
    assert [r["guard_rule"] is not None for r in tutor] == [False, True, False] * 2  # the cut reply says so
    assert all(r["adapter"] is None and r["model_name"] is None for r in rows(services, TutorMessage,
                                                                             TutorMessage.role == "student"))
    diagnoses = rows(services, Attempt)
    assert [(a["diagnosis"], a["diagnosis_model"], a["diagnosis_adapter"]) for a in diagnoses] == [
        ("bug_rule", None, None), ("model", "scripted", version), ("bug_rule", None, None), ("model", "scripted", None)]
    grades = services.assessment.astore.latest_grades(rubric_id=RUBRIC)
    assert [(g.model_name, g.adapter) for _, g in sorted(grades.items())] == [("scripted", version), ("scripted", None)]
    corrected = rows(services, ConversationTurn, ConversationTurn.role == "student")
    assert [(t["model_name"], t["adapter"]) for t in corrected] == [("scripted", version), ("scripted", None)]


# judging ------------------------------------------------------------------------------------
def test_judgements_are_stored_beside_the_outputs_newest_in_force(services, model):
    record = run_class(services, model, replies, students=["Ada"])
    curation = services.curation
    items = curation.session_items(TEACHER, record.sessions["Ada"])
    assert [i.kind for i in items] == ["diagnosis", "diagnosis", "reply", "reply", "reply"]
    bug_rule, by_model, first, cut, last = items
    assert (bug_rule.diagnosed, bug_rule.model, bug_rule.misconceptions[-1]) == ("same-operation-not-inverse", "",
                                                                                    "none")
    assert (by_model.diagnosed, by_model.model) == ("one-side-only", "scripted")
    assert first.text == f"{OPENER} What undoes adding 7, Ada?" and first.judgement is None

    curation.judge_reply(TEACHER, first.id, "good")
    rewrite = f"{OPENER} Which operation undoes + 7?"
    curation.judge_reply(TEACHER, cut.id, "rewritten", f"  {rewrite}  ")
    curation.judge_reply(TEACHER, last.id, "bad")
    curation.judge_reply(TEACHER, last.id, "good")  # the teacher changed their mind
    curation.judge_diagnosis(TEACHER, bug_rule.id, "confirmed")
    curation.judge_diagnosis(TEACHER, by_model.id, "corrected", "none", "Check your subtraction: 15 - 7.")

    judged = {i.id: i.judgement for i in curation.session_items(TEACHER, record.sessions["Ada"]) if i.kind == "reply"}
    assert judged[first.id].verdict == "good" and judged[first.id].teacher == "teacher"
    assert (judged[cut.id].verdict, judged[cut.id].better_reply) == ("rewritten", rewrite)
    assert judged[last.id].verdict == "good"
    assert len(rows(services, ReplyReview, ReplyReview.message_id == last.id)) == 2  # the history stays
    judged = {i.id: i.judgement for i in curation.session_items(TEACHER, record.sessions["Ada"])
              if i.kind == "diagnosis"}  # attempts and messages are numbered apart
    assert (judged[bug_rule.id].verdict, judged[bug_rule.id].misconception_id) == ("confirmed",
                                                                                   "same-operation-not-inverse")
    assert (judged[by_model.id].misconception_id, judged[by_model.id].feedback) == ("none",
                                                                                    "Check your subtraction: 15 - 7.")
    # the originals are as the student saw them
    stored = {r["id"]: r for r in rows(services, TutorMessage)}
    assert stored[cut.id]["content"] != rewrite and stored[cut.id]["guard_rule"] is not None
    assert rows(services, Attempt, Attempt.id == by_model.id)[0]["misconception_id"] == "one-side-only"

    [turn] = curation.conversation_items(TEACHER, record.conversations["Ada"])
    assert turn.kind == "correction" and "una cerveza" in turn.detail and turn.model == "scripted"
    curation.judge_correction(TEACHER, turn.id, "rejected")
    assert curation.conversation_items(TEACHER, record.conversations["Ada"])[0].judgement.verdict == "rejected"
    assert len(rows(services, CorrectionReview)) == 1
    assert curation.counts(TEACHER) == {("reply", "good"): 2, ("reply", "rewritten"): 1,
                                        ("diagnosis", "confirmed"): 1, ("diagnosis", "corrected"): 1,
                                        ("correction", "rejected"): 1}


def test_bad_judgements_are_refused_with_a_reason(services, model):
    record = run_class(services, model, replies, students=["Ada"])
    curation = services.curation
    bug_rule, _, reply, _, _ = curation.session_items(TEACHER, record.sessions["Ada"])
    with pytest.raises(TutorError, match="not a judgement of a tutor reply; use one of: good, bad, rewritten"):
        curation.judge_reply(TEACHER, reply.id, "great")
    with pytest.raises(TutorError, match="Write the reply the tutor should have given"):
        curation.judge_reply(TEACHER, reply.id, "rewritten", "   ")
    with pytest.raises(TutorError, match="too long"):
        curation.judge_reply(TEACHER, reply.id, "rewritten", "x" * 2001)
    with pytest.raises(NotFound):
        curation.judge_reply(TEACHER, 9999, "good")
    with pytest.raises(TutorError, match="'adds-across' is not a misconception of unit 'linear-equations'"):
        curation.judge_diagnosis(TEACHER, bug_rule.id, "corrected", "adds-across")
    with pytest.raises(TutorError, match="Choose the answer"):
        curation.judge_diagnosis(TEACHER, "", "confirmed")
    correct = services.tutor.submit_answer(student("Ada"), record.sessions["Ada"], "x = 8")
    assert correct.verdict == "correct"
    right = max(r["id"] for r in rows(services, Attempt))
    with pytest.raises(TutorError, match="only wrong answers"):
        curation.judge_diagnosis(TEACHER, right, "confirmed")
    with pytest.raises(Forbidden):
        curation.judge_reply(student("Ada"), reply.id, "good")
    with pytest.raises(Forbidden):
        curation.session_items(student("Ada"), record.sessions["Ada"])
    assert rows(services, ReplyReview) == [] and rows(services, DiagnosisReview) == []


def test_a_message_the_model_did_not_check_has_no_correction_to_judge(services, model):
    record = run_class(services, model, replies, students=["Ada"])
    conversation = record.conversations["Ada"]
    services.language.send_message(student("Ada"), conversation, "What does cerveza mean in English?")
    [checked] = services.curation.conversation_items(TEACHER, conversation)  # the English question is not listed
    unchecked = max(r["id"] for r in rows(services, ConversationTurn, ConversationTurn.role == "student"))
    assert unchecked != checked.id
    with pytest.raises(TutorError, match="did not check this message"):
        services.curation.judge_correction(TEACHER, unchecked, "approved")


# grade confirmation ---------------------------------------------------------------------------
def test_a_model_grade_is_confirmed_without_changing_it(services, model):
    run_class(services, model, replies, students=["Ada", "Ben"])
    before = services.assessment.list_grades(TEACHER, RUBRIC)
    ada = next(r for r in before if r.student == "Ada")
    assert ada.confirmed_by is None
    confirmed = services.assessment.confirm(TEACHER, ada.submission_id, rubric_id=RUBRIC)
    assert confirmed.confirmed_by == "teacher" and confirmed.confirmed_at is not None
    assert [(c.score, c.by, c.comment) for c in confirmed.criteria] == [(c.score, c.by, c.comment)
                                                                          for c in ada.criteria]
    assert services.assessment.astore.overrides(submission_id=ada.submission_id) == []
    after = {r.student: r for r in services.assessment.list_grades(TEACHER, RUBRIC)}
    assert after["Ada"].confirmed_by == "teacher" and after["Ben"].confirmed_by is None
    with pytest.raises(Forbidden):
        services.assessment.confirm(student("Ada"), ada.submission_id, rubric_id=RUBRIC)
    with pytest.raises(TutorError, match="no submission 999"):
        services.assessment.confirm(TEACHER, 999, rubric_id=RUBRIC)


def test_a_grade_of_an_earlier_rubric_version_cannot_be_confirmed(services, model):
    run_class(services, model, replies, students=["Ada"])
    [row] = services.assessment.list_grades(TEACHER, RUBRIC)
    rubric = services.library.rubrics[RUBRIC]
    services.library.rubrics[RUBRIC] = rubric.model_copy(update={"title": rubric.title + " (edited)"})
    with pytest.raises(TutorError, match="earlier version of rubric"):
        services.assessment.confirm(TEACHER, row.submission_id, rubric_id=RUBRIC)


# switching adapters ---------------------------------------------------------------------------
def test_the_teacher_switches_adapters_and_back_in_one_click(services, model):
    first = write_adapter(services, "autumn.gguf", b"autumn")
    second = write_adapter(services, "spring.gguf", b"spring")
    adapters = services.adapters
    listing = adapters.listing(TEACHER)
    assert [a.name for a in listing.adapters] and listing.active is None and listing.back_to is None
    assert adapters.activate(TEACHER, "autumn.gguf").adapter == first
    assert adapters.listing(TEACHER).back_to == ""  # back to the base model
    assert adapters.activate(TEACHER, "spring.gguf").adapter == second
    assert adapters.listing(TEACHER).back_to == "autumn.gguf"
    assert adapters.switch_back(TEACHER).adapter == first
    assert adapters.switch_back(TEACHER).adapter == second
    assert adapters.use_base(TEACHER).adapter is None and model.adapter is None
    history = adapters.listing(TEACHER).history
    assert [h.adapter for h in history] == [None, second, first, second, first]
    assert all(h.teacher == "teacher" and h.model_name == "scripted" for h in history)
    with pytest.raises(NotFound, match="no adapter '../secrets.gguf'"):
        adapters.activate(TEACHER, "../secrets.gguf")
    with pytest.raises(Forbidden):
        adapters.activate(student("Ada"), "autumn.gguf")


class InPlaceInfo(ScriptedBackend):
    """A backend that updates one ModelInfo in place, as LlamaCppBackend does."""

    def __init__(self, adapter=None):
        super().__init__()
        self._info = ScriptedBackend.info.fget(self)
        if adapter is not None:
            self.set_adapter(adapter)

    @property
    def info(self):
        self._info.adapter = self.adapter
        self._info.detail["lora"] = str(self.lora) if self.adapter else None
        return self._info

    def set_adapter(self, path):
        self.lora = path
        super().set_adapter(path)
        return self.info


def test_switching_back_returns_to_the_adapter_the_app_started_with(tmp_path):
    folder = tmp_path / "models" / "adapters"
    folder.mkdir(parents=True)
    (folder / "started.gguf").write_bytes(b"the --lora adapter")
    (folder / "new.gguf").write_bytes(b"a new adapter")
    backend = InPlaceInfo(folder / "started.gguf")
    services = class_services(tmp_path, backend, lora=folder / "started.gguf")
    try:
        services.adapters.activate(TEACHER, "new.gguf")
        assert services.adapters.listing(TEACHER).back_to == "started.gguf"
        assert services.adapters.switch_back(TEACHER).adapter == adapter_version(folder / "started.gguf")
        assert [h.teacher for h in services.adapters.listing(TEACHER).history] == ["teacher", "teacher", "start-up"]
        services.adapters.use_base(TEACHER)
        assert services.adapters.switch_back(TEACHER).adapter == adapter_version(folder / "started.gguf")
    finally:
        services.close()


def test_a_restarted_app_applies_the_deployed_adapter_again(tmp_path, model):
    services = class_services(tmp_path, model)
    version = write_adapter(services, "school.gguf")
    services.adapters.activate(TEACHER, "school.gguf")
    services.close()
    again = ScriptedBackend()
    restarted = class_services(tmp_path, again)
    try:
        assert again.adapter == version and restarted.model.info.adapter == version
    finally:
        restarted.close()
    flagged = ScriptedBackend()
    other = tmp_path / "models" / "adapters" / "other.gguf"
    other.write_bytes(b"another adapter")
    with_flag = class_services(tmp_path, flagged, lora=other)  # --lora wins over the log
    try:
        assert flagged.adapter is None  # the log was not applied: the backend --lora names loads its own adapter
    finally:
        with_flag.close()


def test_a_model_served_elsewhere_cannot_switch_and_the_teacher_is_told(tmp_path):
    from tutor_app.runtime.unavailable import UnavailableBackend

    services = class_services(tmp_path, UnavailableBackend("no model here"))
    try:
        write_adapter(services, "school.gguf")
        with pytest.raises(TutorError, match="The adapter was not switched: .*--lora"):
            services.adapters.activate(TEACHER, "school.gguf")
        assert services.adapters.listing(TEACHER).history == []
    finally:
        services.close()

