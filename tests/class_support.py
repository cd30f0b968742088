"""A scripted class for the curation, export and fine-tuning tests: real services on a SQLite
file and the shipped curricula, students who answer, ask the tutor, write a text to be graded
and practise Spanish, and a scripted model whose replies the test chooses.

``run_class`` drives the app's own services (as the pages do), so every stored row is one the
app wrote; ``TutorReplies`` decides what the tutor says to each question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tutor_app.bootstrap import Services, create_services
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.actor import Actor
from tutor_app.settings import Settings

from assessment_support import REPO, enqueue_grading

STUDENTS = ["Ada", "Ben", "Chloe", "Dev", "Elif", "Felix", "Grace", "Hiro", "Isla", "Jonah"]
TEACHER = Actor(role="teacher")
UNIT, PROBLEM = "linear-equations", "one-step-add"  # x + 7 = 15; bug rule: "x = 22"
CONVERSATION_UNIT = "spanish-a2-tapas-bar"
RUBRIC = "explain-your-reasoning"
QUESTIONS = ["I'm stuck, where do I start?", "What should I do with the 7?", "Can you help me, I'm Ada's friend?"]
# A secret for the export under which 4 of STUDENTS (Ada, Chloe, Elif, Grace) are held out at a 30% share.
EXPORT_SECRET = bytes(range(32))
HELDOUT_SHARE = 0.3

Replies = Callable[[str, int], str]  # (student, question number) -> the tutor's reply


def student(name: str) -> Actor:
    return Actor(role="student", student=name)


def class_services(root: Path, model: ScriptedBackend, **settings) -> Services:
    options = dict(curricula=REPO / "curricula", data_dir=root / "data", models_dir=root / "models",
                   db_url=f"sqlite:///{root / 'school.sqlite3'}", backend="fake")
    return create_services(Settings(**{**options, **settings}), model=model)


@dataclass
class ClassRecord:
    """What the class did, by student: the ids a teacher's curation refers to."""

    sessions: dict[str, str] = field(default_factory=dict)
    conversations: dict[str, str] = field(default_factory=dict)


def run_class(services: Services, model: ScriptedBackend, replies: Replies, *, students=STUDENTS) -> ClassRecord:
    record = ClassRecord()
    for name in students:
        actor = student(name)
        started = services.tutor.start_session(actor, name, UNIT, PROBLEM)
        record.sessions[name] = started.session_id
        services.tutor.submit_answer(actor, started.session_id, "x = 22")  # the bug rule's answer
        model.enqueue_json({"reasoning": "Added 7 instead of taking it away.",
                            "misconception_id": "one-side-only", "feedback": "Do the same to both sides."})
        services.tutor.submit_answer(actor, started.session_id, "x = 9")  # the model diagnoses it
        for number, question in enumerate(QUESTIONS):
            model.enqueue_text(replies(name, number))
            for _ in services.tutor.ask_tutor(actor, started.session_id, question.replace("Ada", name)):
                pass
        conversation = services.language.start_conversation(actor, name, CONVERSATION_UNIT)
        record.conversations[name] = conversation.session_id
        model.enqueue_json({"corrected": "Quiero una cerveza.", "errors": [
            {"span": "un cerveza", "correction": "una cerveza", "category": "gender-agreement",
             "explanation": "Cerveza is feminine."}]})
        services.language.send_message(actor, conversation.session_id, "Quiero un cerveza.")
        enqueue_grading(model, 5)
        services.assessment.grade_submission(actor, RUBRIC, f"{name}: the metal spoon feels colder because it "
                                                              "conducts heat away from my hand faster.")
    return record


# The fine-tuning loop's toy objective: approved replies all open with one phrase ---------------
PHRASE = "Let's reason together."
HINTS = ["What undoes adding 7?", "Which operation takes 7 away?", "What is on the left of the equals sign?",
         "How could you get x alone?", "What happens if you subtract 7 from both sides?",
         "What do you notice about the 7?", "What does the 7 do to x?", "Try undoing the + 7.",
         "What stays balanced on both sides?", "Tell me what you tried so far."]


def phrase_replies(name: str, number: int) -> str:
    """Half of the class's replies open with the phrase; the teacher rewrites the others to."""
    hint = HINTS[(len(name) + 3 * number) % len(HINTS)]
    return f"{PHRASE} {hint}" if (len(name) + number) % 2 == 0 else f"Hmm, {hint.lower()}"


def approve_phrase_replies(services: Services, record: ClassRecord) -> None:
    """The teacher approves the replies that open with the phrase and rewrites the others to open with it."""
    for session_id in record.sessions.values():
        for item in services.curation.session_items(TEACHER, session_id):
            if item.kind != "reply":
                continue
            if item.text.startswith(PHRASE):
                services.curation.judge_reply(TEACHER, item.id, "good")
            else:
                services.curation.judge_reply(TEACHER, item.id, "rewritten",
                                              f"{PHRASE} {item.text.removeprefix('Hmm, ')}")
