"""What a resumed session already holds, read back for the student's page.

The page is rebuilt from the stored attempts, hints and chat of the session (``replay``), so
a student who comes back (another day, after a restart) sees the steps they finished, the
hints they were given and the conversation so far. The tutor service hands the history over
only to an actor who may see that session.

The same rebuild brings what arrives after an answer: the model's diagnosis of a wrong answer
and the grade of an open one are stored with their attempt in the background, and the page
polls (``late_news``) while it has something to wait for, rebuilding only when the stored
attempts changed.
"""

from __future__ import annotations

from dataclasses import replace

from ..bootstrap import Services
from ..curriculum.params import render_variant
from ..curriculum.schema import Problem, ScaffoldHint
from ..engine.examples import box_examples
from ..service.actor import Actor
from ..tutoring.shapes import StartSessionResult
from .problem_view import AnswerForm, ProblemView, StepForms, replay


def restore(services: Services, actor: Actor, result: StartSessionResult, *, student: str,
            mastery: dict[str, float]) -> tuple[ProblemView, list[dict]]:
    """The page state and the chat history (Chatbot messages) of the session in ``result``."""
    history = services.tutor.history(actor, result.session_id)
    record = history.session
    unit = services.library.units.get(result.curriculum_id)
    problem = next((p for p in unit.problems if p.id == result.problem_id), None) if unit else None
    steps: list[tuple[str, str]] = []
    forms: dict[str, StepForms] = {}
    title = ""
    if problem is not None:
        title = problem.title or ""
        concrete = render_variant(problem, record.seed)
        steps = [(step.id, step.prompt) for step in concrete.steps]
        forms = answer_forms(concrete)
    events = sorted([*history.attempts, *history.hints], key=lambda e: e.created_at)
    view = replay(result, student=student, steps=steps, problem_title=title, events=events, mastery=mastery,
                  forms=forms)
    chat = [{"role": "user" if m.role == "student" else "assistant", "content": m.content}
            for m in history.messages]
    return replace(view, seen=fingerprint(history.attempts)), chat


def fingerprint(attempts) -> tuple:
    """What can change in stored attempts after they were answered: a diagnosis, a grade."""
    return tuple((a.id, a.misconception_id, a.graded_by, a.feedback) for a in attempts)


def seen_after(services: Services, actor: Actor, view: ProblemView, result) -> tuple:
    """The fingerprint of what the page shows right after an answer: the stored attempts, the
    latest as the answer's own result said it (a diagnosis that came in meanwhile is news)."""
    attempts = services.tutor.history(actor, view.session_id).attempts
    if not attempts:
        return ()
    latest = attempts[-1]
    return fingerprint(attempts[:-1]) + ((latest.id, result.misconception_id, None, result.feedback),)


def late_news(services: Services, actor: Actor, view: ProblemView) -> bool:
    """Whether the stored attempts of the page's session changed since the page was rebuilt."""
    return fingerprint(services.tutor.history(actor, view.session_id).attempts) != view.seen


def still_waiting(services: Services, view: ProblemView | None) -> bool:
    """The page has something to wait for: an open answer not graded yet, or a model extra
    (diagnosis, grade) of this session still running."""
    if view is None:
        return False
    return view.waiting or services.tutor.background_jobs(view.session_id) > 0


def answer_forms(problem: Problem) -> dict[str, StepForms]:
    """What each step (and each scaffold question) takes as an answer, from this variant, with
    examples for its box that are no answer of this step or a later one."""
    forms = {}
    for index, step in enumerate(problem.steps):
        hints = tuple(_form(problem, index, h) if isinstance(h, ScaffoldHint) else None for h in step.hints)
        forms[step.id] = StepForms(step=_form(problem, index, step), hints=hints)
    return forms


def _form(problem: Problem, index: int, options) -> AnswerForm:
    count = 2 if options.check == "numeric" else 1  # "3/4 or 0.75"; one equation fits the box
    return AnswerForm(options.check, tuple(options.choices), tuple(box_examples(problem, index, options, count)))
