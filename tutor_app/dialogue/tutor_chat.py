"""The Socratic tutor chat: one student question in, a guarded streamed reply out.

Message layout, chosen for KV-cache reuse: the system message holds what stays fixed while
the student works on a step (the problem, the solved steps, the current step, the rules), so
consecutive turns on a step share that prefix and the runtime (keyed by ``session_key``)
evaluates only the new tokens. What the student did between questions (attempts with the
misconception the checker saw, hints opened) goes into the user turn of the question that
followed it, like a log: earlier turns are rendered the same way every time (from the stored
times of questions, attempts and hints), so a turn's prompt starts with exactly the tokens of
the previous turn's prompt and reply, and only the newest question and what happened since are
evaluated, however many attempts and hints the student has made. Facts without a time (tests,
callers that keep none) go with the newest question.

The model is not told the answers of the current or later steps: a small model that knows an
answer tends to say it. Whatever it writes still passes the ``StreamGuard`` before the student
sees a character, so a prompt injection ("ignore your instructions") cannot get an answer out.
"""

from __future__ import annotations

import logging
import threading
from contextlib import closing, contextmanager
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..curriculum.schema import Misconception, Problem, Unit
from ..prompting import PromptLibrary
from ..runtime.protocol import Message, ModelBackend, ModelCrashed, ModelError, ModelUnavailable, StatsCallback
from .history import with_history
from .leak_guard import LeakFinding, StreamGuard, guard_for_turn
from .phrases import language_name, phrase
from .streaming import model_chunks

log = logging.getLogger(__name__)

TEMPLATE = "tutor_chat"
MAX_REPLY_TOKENS = 256
HISTORY_MESSAGES = 12
MAX_ATTEMPTS_SHOWN = 8
DEFAULT_CONTEXT = 2048
TEMPERATURE = 0.4
STOP = ("\nStudent:", "\nUser:", "\n### user")


def _field(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _attempt_rows(unit: Unit, problem: Problem, attempts: Iterable[Any]) -> list[dict]:
    """Attempts as the template shows them; accepts store records or plain dicts."""
    names = {m.id: m.description for m in unit.misconceptions}
    step_numbers = {s.id: i + 1 for i, s in enumerate(problem.steps)}
    rows = []
    for a in attempts:
        step_id = str(_field(a, "step_id") or "")
        answer = str(_field(a, "answer") or "").strip()
        if not answer:
            continue
        misconception = _field(a, "misconception_id")
        rows.append({
            "step": f"step {step_numbers[step_id]}" if step_id in step_numbers else step_id or "a step",
            "answer": answer[:200],
            "verdict": str(_field(a, "verdict") or "checked"),
            "misconception": names.get(misconception, misconception) if misconception else "",
        })
    return rows[-MAX_ATTEMPTS_SHOWN:]


def _misconception_rows(unit: Unit, seen: Iterable[Any]) -> list[dict]:
    library = {m.id: m for m in unit.misconceptions}
    rows, ids = [], set()
    for item in seen:
        m = item if isinstance(item, Misconception) else library.get(str(item))
        if m is None or m.id in ids:
            continue
        ids.add(m.id)
        rows.append({"id": m.id, "description": m.description})
    return rows


def _when(item: Any) -> datetime | None:
    value = _field(item, "created_at") or _field(item, "at")
    return value if isinstance(value, datetime) else None


def _hint_text(hint: Any) -> str:
    return hint if isinstance(hint, str) else str(_field(hint, "text") or "")


def _turn_of(when: datetime | None, asked: list[datetime | None]) -> int:
    """Index of the question an event came before (``len(asked)``: the newest question)."""
    if when is None:
        return len(asked)
    for index, at in enumerate(asked):
        if at is not None and when <= at:
            return index
    return len(asked)


def build_messages(*, prompts: PromptLibrary, unit: Unit, problem: Problem, step_index: int, attempts: Iterable[Any],
                   misconceptions_seen: Iterable[Any], history: Iterable[Mapping[str, Any]], student_message: str,
                   hints_shown: Sequence[Any] = (), count_tokens=None, n_ctx: int = DEFAULT_CONTEXT,
                   max_tokens: int = MAX_REPLY_TOKENS) -> list[Message]:
    """System (stable per step) + the recent turns that fit + this turn's question. ``history``
    items may carry ``at`` (when the message was written), attempts and hints ``created_at``:
    then each attempt and hint is told in the turn of the question that followed it."""
    done = step_index >= len(problem.steps)
    step = problem.steps[min(step_index, len(problem.steps) - 1)]
    system_vars = dict(
        subject=unit.subject, level=unit.level or "school", unit_title=unit.title,
        language_name=language_name(unit.language), statement=problem.statement,
        solved_steps=[{"prompt": s.prompt, "answer": s.answer or ""} for s in problem.steps[:step_index]],
        done=done, step_number=min(step_index, len(problem.steps) - 1) + 1, step_count=len(problem.steps),
        step_prompt=step.prompt)
    history = list(history)
    attempts = list(attempts)
    asked = [_when(m) for m in history if str(m.get("role", "")).lower() in ("user", "student")]
    attempts_by_turn: dict[int, list[Any]] = {}
    for attempt in attempts:
        attempts_by_turn.setdefault(_turn_of(_when(attempt), asked), []).append(attempt)
    hints_by_turn: dict[int, list[str]] = {}
    for hint in hints_shown:
        if _hint_text(hint):
            hints_by_turn.setdefault(_turn_of(_when(hint), asked), []).append(_hint_text(hint))
    named = {_field(a, "misconception_id") for a in attempts}

    def render(turn: int, message: str, misconceptions: Iterable[Any] = ()) -> list[Message]:
        return prompts.render_messages(
            TEMPLATE, **system_vars, attempts=_attempt_rows(unit, problem, attempts_by_turn.get(turn, [])),
            misconceptions=_misconception_rows(unit, misconceptions), hints_shown=hints_by_turn.get(turn, []),
            earlier_turns=turn > 0, student_message=message.strip())

    logged: list[dict] = []
    turn = 0
    for item in history:
        role = str(item.get("role", "")).lower()
        if role in ("user", "student"):
            content = render(turn, str(item.get("content") or ""))[-1]["content"]
            turn += 1
            logged.append({"role": "user", "content": content})
        else:
            logged.append({"role": role, "content": item.get("content")})
    unplaced = [m for m in misconceptions_seen if (m.id if isinstance(m, Misconception) else m) not in named]
    rendered = render(turn, student_message, unplaced)
    return with_history(rendered, logged, count_tokens=count_tokens, n_ctx=n_ctx or DEFAULT_CONTEXT,
                        max_tokens=max_tokens, max_messages=HISTORY_MESSAGES)


def stream_tutor_reply(*, model: ModelBackend, prompts: PromptLibrary, unit: Unit, problem: Problem, step_index: int,
                       attempts: Iterable[Any], misconceptions_seen: Iterable[Any],
                       history: Iterable[Mapping[str, str]], student_message: str,
                       revealed_step_ids: Iterable[str], session_key: str | None,
                       cancel: threading.Event | None = None, hints_shown: Sequence[Any] = (),
                       max_tokens: int = MAX_REPLY_TOKENS, on_stats: StatsCallback | None = None,
                       on_guard: Callable[[LeakFinding], None] | None = None) -> Iterator[str]:
    """Yield the tutor's reply in pieces, each already cleared by the leak guard.

    ``step_index`` equal to the number of steps means the problem is solved (nothing is
    protected any more). A missing or failing model gives a friendly sentence, never an error.
    ``on_guard`` receives the guard's finding when it cut the reply (the dashboard counts them).
    """
    language = unit.language
    done = step_index >= len(problem.steps)
    step = problem.steps[min(step_index, len(problem.steps) - 1)]
    history = list(history)
    guard = guard_for_turn(problem, step_index, revealed_step_ids, student_message=student_message, history=history,
                           hints_shown=[_hint_text(h) for h in hints_shown],
                           redirect=phrase("redirect", language, prompt=step.prompt if not done else ""),
                           confirm_redirect=phrase("confirm_redirect", language))
    try:
        info = model.info
        if not info.available:
            yield phrase("model_unavailable", language)
            return
        messages = build_messages(prompts=prompts, unit=unit, problem=problem, step_index=step_index,
                                  attempts=attempts, misconceptions_seen=misconceptions_seen, history=history,
                                  student_message=student_message, hints_shown=hints_shown,
                                  count_tokens=model.count_tokens, n_ctx=info.n_ctx, max_tokens=max_tokens)
    except ModelUnavailable:
        yield phrase("model_unavailable", language)
        return

    shown_any = False
    chunks = model_chunks(model, messages, max_tokens=max_tokens, temperature=TEMPERATURE, stop=STOP,
                          session_key=session_key, cancel=cancel, on_stats=on_stats)
    with closing(chunks), _reporting_cut(guard, on_guard):  # a reader that stops early, or a cut, stops the model
        try:
            for chunk in chunks:
                out = guard.feed(chunk)
                if out:
                    shown_any = shown_any or bool(out.strip())
                    yield out
                if guard.leaked:
                    log.info("tutor reply cut: it gave away step %s (%s: %r)", guard.finding.protected.step_id,
                             guard.finding.rule, guard.finding.evidence)
                    return
            if cancel is not None and cancel.is_set():
                return  # the student left: nobody reads a closing line
            tail = guard.finish()
            if tail:
                shown_any = shown_any or bool(tail.strip())
                yield tail
            if not shown_any:
                yield phrase("model_failed", language)
        except ModelUnavailable:
            yield phrase("model_unavailable", language)
        except ModelError as exc:
            crashed = isinstance(exc, ModelCrashed)  # its process died mid-reply and is being restarted
            log.warning("tutor reply cut off: the model's process died" if crashed else "tutor reply failed",
                        exc_info=True)
            tail = guard.finish()
            if tail.strip():
                yield tail
            yield (("\n\n" if shown_any or tail.strip() else "")
                   + phrase("model_restarted" if crashed else "model_failed", language))


@contextmanager
def _reporting_cut(guard: StreamGuard, on_guard: Callable[[LeakFinding], None] | None):
    """Tell ``on_guard`` once, however the reply ends, when the guard cut it."""
    try:
        yield
    finally:
        if on_guard is not None and guard.leaked:
            on_guard(guard.finding)
