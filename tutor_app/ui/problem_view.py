"""What the student's page shows about the problem in front of them, as plain data.

The service answers each action with a small result (``StartSessionResult``,
``SubmitAnswerResult``, ``HintResult``); the page needs the story so far: which steps are done
and with what answer, the attempts and hints on the current step, an open scaffold question.
These pure functions fold each result into a ``ProblemView`` so the handlers stay thin and the
folding is tested without a browser. Nothing here decides anything about correctness.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..tutoring.shapes import HintResult, StartSessionResult, SubmitAnswerResult


@dataclass(frozen=True)
class AttemptLine:
    answer: str
    verdict: str
    feedback: str
    misconception_id: str | None = None
    scaffold: bool = False
    kind: str = "text"  # the check kind it answered: maths answers are shown as maths, words as words


@dataclass(frozen=True)
class HintLine:
    level: int
    text: str
    bottom_out: bool
    scaffold: bool


StepStatus = str  # "solved", "waiting" (an open answer nobody has read yet) or "graded"


@dataclass(frozen=True)
class DoneStep:
    step_id: str
    prompt: str
    answer: str
    status: StepStatus = "solved"
    kind: str = "text"
    grade: str = ""  # a graded open answer: the grade's feedback


@dataclass(frozen=True)
class AnswerForm:
    """What kind of answer the box takes: ``choice`` shows the choices, ``open`` a larger box."""

    check: str = "text"
    choices: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()  # for the placeholder; chosen so that none is an answer ahead

    @property
    def picks(self) -> bool:
        """The student picks one of the choices instead of typing."""
        return self.check == "choice" and bool(self.choices)


@dataclass(frozen=True)
class StepForms:
    """The answer forms of one step: its own, and each hint level's (a scaffold hint asks its
    own question; other hints take no answer: None)."""

    step: AnswerForm = AnswerForm()
    hints: tuple[AnswerForm | None, ...] = ()


@dataclass(frozen=True)
class ProblemView:
    session_id: str
    student: str
    curriculum_id: str
    problem_id: str
    statement: str
    step_ids: tuple[str, ...]  # every step of the problem, in order (for "Step 2 of 3")
    step_id: str | None
    step_prompt: str
    problem_title: str = ""
    done_steps: tuple[DoneStep, ...] = ()
    attempts: tuple[AttemptLine, ...] = ()  # on the current step
    hints: tuple[HintLine, ...] = ()  # on the current step
    scaffold_question: str | None = None  # an open scaffold hint: answers go to it
    scaffold_level: int | None = None  # which hint of the ladder that question is
    forms: dict[str, StepForms] = field(default_factory=dict)  # step id -> its answer forms
    last: AttemptLine | None = None  # the latest feedback, kept visible across a step change
    problem_done: bool = False
    mastery: dict[str, float] = field(default_factory=dict)
    seen: tuple = ()  # what the stored attempts said when the page was last rebuilt (``session_history``)

    @property
    def step_number(self) -> int:
        """1-based position of the current step; past the end once the problem is done."""
        if self.problem_done or self.step_id is None:
            return len(self.step_ids)
        try:
            return self.step_ids.index(self.step_id) + 1
        except ValueError:
            return len(self.done_steps) + 1

    @property
    def steps_total(self) -> int:
        return max(len(self.step_ids), 1)

    @property
    def waiting(self) -> bool:
        """An open answer of this problem waits for the teacher or the tutor to read it."""
        return any(step.status == "waiting" for step in self.done_steps)

    @property
    def answer_form(self) -> AnswerForm:
        """The form of what the next answer answers: the open scaffold question, or the step."""
        forms = self.forms.get(self.step_id or "", StepForms())
        if self.scaffold_question and self.scaffold_level:
            level = self.scaffold_level - 1
            if 0 <= level < len(forms.hints) and forms.hints[level] is not None:
                return forms.hints[level]
            return AnswerForm()
        return forms.step


def view_from_start(result: StartSessionResult, *, student: str, step_ids: list[str],
                    problem_title: str = "", mastery: dict[str, float] | None = None,
                    forms: dict[str, StepForms] | None = None) -> ProblemView:
    return ProblemView(
        session_id=result.session_id, student=student, curriculum_id=result.curriculum_id,
        problem_id=result.problem_id, statement=result.statement, step_ids=tuple(step_ids),
        step_id=result.step_id, step_prompt=result.step_prompt, problem_title=problem_title,
        mastery=dict(mastery or {}), forms=dict(forms or {}),
    )


def apply_answer(view: ProblemView, answer: str, result: SubmitAnswerResult, *, graded: bool = False) -> ProblemView:
    """The service says whether the step is done (a next step, or the problem done); the page
    does not guess from the verdict (an ``open`` step moves on with ``pending``, and is shown as
    waiting until it is ``graded``)."""
    kind = view.answer_form.check
    verdict = "graded" if graded and result.verdict == "pending" else result.verdict
    line = AttemptLine(answer=answer, verdict=verdict, feedback=result.feedback,
                       misconception_id=result.misconception_id, scaffold=result.scaffold, kind=kind)
    mastery = dict(result.mastery) or view.mastery
    if result.scaffold:
        # A correct scaffold answer closes the sub-question; the step itself is still open.
        closes = result.verdict == "correct"
        return replace(view, attempts=view.attempts + (line,), last=line, mastery=mastery,
                       scaffold_question=None if closes else view.scaffold_question,
                       scaffold_level=None if closes else view.scaffold_level)
    moved = result.problem_done or (result.next_step_id is not None and result.next_step_id != view.step_id)
    if not moved:
        return replace(view, attempts=view.attempts + (line,), last=line, mastery=mastery)
    status = ("graded" if graded else "waiting") if result.verdict == "pending" else "solved"
    done = view.done_steps + (DoneStep(view.step_id or "", view.step_prompt, answer, status=status, kind=kind,
                                       grade=result.feedback if graded else ""),)
    fresh_step = dict(done_steps=done, attempts=(), hints=(), scaffold_question=None, scaffold_level=None, last=line,
                      mastery=mastery)
    if result.problem_done:
        return replace(view, problem_done=True, step_id=None, step_prompt="", **fresh_step)
    return replace(view, step_id=result.next_step_id, step_prompt=result.next_step_prompt or "", **fresh_step)


def apply_hint(view: ProblemView, result: HintResult) -> ProblemView:
    """A repeated hint (asked for again past the bottom-out hint, or while a scaffold question
    is open) is already on the page: it is not shown twice."""
    line = HintLine(level=result.level, text=result.text, bottom_out=result.bottom_out, scaffold=result.scaffold)
    if view.hints and view.hints[-1] == line:
        return view
    if result.scaffold:
        return replace(view, hints=view.hints + (line,), scaffold_question=result.text, scaffold_level=result.level)
    return replace(view, hints=view.hints + (line,))


def replay(result: StartSessionResult, *, student: str, steps: list[tuple[str, str]], problem_title: str,
           events: list, mastery: dict[str, float], forms: dict[str, StepForms] | None = None) -> ProblemView:
    """Rebuild the page of a resumed session by folding its stored attempts and hints, in the
    order they happened, through the same functions the live page uses. ``steps`` are the
    (id, prompt) pairs of this session's variant; ``events`` are attempt and hint records
    (attempts have ``verdict``, hints have ``level``), each with the ``step_id`` it was on: an
    answer finished its step when what came next was on another step. If the replay does not
    end where the service says the session stands (the problem was edited since), the history
    is dropped and the page starts at the current step."""
    ids = [sid for sid, _ in steps]
    prompts = dict(steps)
    fresh = view_from_start(result, student=student, step_ids=ids, problem_title=problem_title, mastery=mastery,
                            forms=forms)
    if not steps:
        return fresh
    view = replace(fresh, step_id=ids[0], step_prompt=prompts[ids[0]])
    for n, event in enumerate(events):
        if hasattr(event, "level"):
            view = apply_hint(view, HintResult(level=event.level, text=event.text, bottom_out=event.bottom_out,
                                               scaffold=event.scaffold))
            continue
        following = events[n + 1].step_id if n + 1 < len(events) else result.step_id
        moved = not event.scaffold and following != event.step_id
        at = ids.index(event.step_id) if event.step_id in ids else len(ids) - 1
        last = at >= len(ids) - 1
        view = apply_answer(view, event.answer, SubmitAnswerResult(
            verdict=event.verdict, misconception_id=event.misconception_id, feedback=event.feedback or "",
            scaffold=event.scaffold, problem_done=moved and last,
            next_step_id=ids[at + 1] if moved and not last else None,
            next_step_prompt=prompts[ids[at + 1]] if moved and not last else None),
            graded=getattr(event, "graded_by", None) is not None)
    if not view.problem_done and view.step_id != result.step_id:
        return fresh
    return replace(view, mastery=dict(mastery))
