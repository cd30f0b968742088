"""The character's reply: streamed in the target language, then checked against the learner's level.

Message layout, chosen for KV-cache reuse (``session_key``): the system message holds the scene
and the level's rules, which stay fixed for many turns; the earlier turns follow as real chat
turns; the student's new message comes last.

Difficulty is checked after the reply is complete (``difficulty.check_reply``). A reply that is
too hard gets one retry, told which words were uncommon and how long a sentence may be. The
retry replaces the first try on the page. If the retry is still too hard, the easier of the two
is kept and marked ``too_hard``: the conversation never stalls on the check, and the teacher can
see how often the model could not meet the level.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from ..curriculum.schema import ConversationUnit
from ..dialogue.history import trim_history
from ..dialogue.phrases import language_name
from ..prompting import PromptLibrary
from ..runtime.protocol import Message, ModelBackend, ModelError, ModelUnavailable
from .difficulty import DifficultyReport, check_reply
from .levels import profile
from .notices import notice

log = logging.getLogger(__name__)

TEMPLATE = "conversation_reply"
MAX_REPLY_TOKENS = 120
TEMPERATURE = 0.6
HISTORY_MESSAGES = 16
DEFAULT_CONTEXT = 2048
STOP = ("\nStudent:", "\nUser:", "\nLearner:", "\n### user")
_QUOTES = {'"': '"', "«": "»", "“": "”"}


@dataclass(frozen=True)
class ReplyUpdate:
    """The reply so far. A retry starts again from the first words (``simplified``); the last
    update has ``done``. ``notice`` marks a message about the app (no model), not the character's."""

    text: str
    done: bool = False
    simplified: bool = False
    too_hard: bool = False
    complete: bool = True
    notice: bool = False
    report: DifficultyReport | None = None


def build_messages(*, prompts: PromptLibrary, unit: ConversationUnit, level: str,
                   history: Iterable[Mapping[str, str]], student_message: str, goals_left: Sequence[str],
                   simplify: DifficultyReport | None = None, count_tokens=None, n_ctx: int = DEFAULT_CONTEXT,
                   max_tokens: int = MAX_REPLY_TOKENS) -> list[Message]:
    """System (scene and level) + the recent turns that fit + the student's new message."""
    level_profile = profile(level)
    rendered = prompts.render_messages(
        TEMPLATE,
        character=unit.character.strip(), scenario=unit.scenario.strip(), level=level,
        target_language_name=language_name(unit.target_language), level_guidance=level_profile.guidance,
        max_sentence_words=level_profile.max_sentence_words or 0,
        vocabulary=[v.word for v in unit.vocabulary], goals_left=list(goals_left),
        simplify={"hard_words": list(simplify.hard_words[:8])} if simplify is not None else None,
        student_message=student_message.strip())
    system = [m for m in rendered if m["role"] == "system"]
    turn = [m for m in rendered if m["role"] != "system"]
    count = count_tokens or (lambda text: max(1, len(text) // 4))
    fixed = sum(count(m["content"]) + 4 for m in rendered)
    budget = max(0, (n_ctx or DEFAULT_CONTEXT) - max_tokens - fixed - 16)
    earlier = trim_history(history, budget_tokens=budget, count_tokens=count, max_messages=HISTORY_MESSAGES)
    if earlier and earlier[-1]["role"] == "user":
        earlier = earlier[:-1]  # keep the turns alternating before the new message
    return [Message(role=m["role"], content=m["content"]) for m in system + earlier + turn]


def tidy(text: str) -> str:
    """The reply as the student should see it: no surrounding space or quotes the model added."""
    text = text.strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1] and text.count(text[0]) == 1:
        text = text[1:-1].strip()
    return text


def stream_character_reply(*, model: ModelBackend, prompts: PromptLibrary, unit: ConversationUnit, level: str,
                           history: Iterable[Mapping[str, str]], student_message: str, goals_left: Sequence[str],
                           allowed: frozenset[str], session_key: str | None,
                           cancel: threading.Event | None = None,
                           max_tokens: int = MAX_REPLY_TOKENS) -> Iterator[ReplyUpdate]:
    """Yield the reply as it grows, then a final ``done`` update with the text to keep."""
    history = list(history)
    level_profile = profile(level)
    try:
        info = model.info
        if not info.available:
            yield ReplyUpdate(notice("unavailable", unit.language), done=True, complete=False, notice=True)
            return
    except ModelUnavailable:
        yield ReplyUpdate(notice("unavailable", unit.language), done=True, complete=False, notice=True)
        return

    tries: list[tuple[str, DifficultyReport]] = []
    simplify: DifficultyReport | None = None
    for attempt in range(2):
        messages = build_messages(prompts=prompts, unit=unit, level=level, history=history,
                                  student_message=student_message, goals_left=goals_left, simplify=simplify,
                                  count_tokens=model.count_tokens, n_ctx=info.n_ctx, max_tokens=max_tokens)
        text, complete = "", True
        try:
            for update in _stream(model, messages, max_tokens, session_key, cancel):
                text = update
                yield ReplyUpdate(tidy(text), simplified=attempt > 0)
        except ModelUnavailable:
            yield _fallback(tries, "unavailable", unit)
            return
        except ModelError:
            log.warning("the character's reply failed (unit %s)", unit.id, exc_info=True)
            if tidy(text):
                complete = False
            else:
                yield _fallback(tries, "failed", unit)
                return
        text = tidy(text)
        if not text:
            yield _fallback(tries, "failed", unit)
            return
        if cancel is not None and cancel.is_set():
            complete = False
        report = check_reply(text, language=unit.target_language, profile=level_profile, allowed=allowed)
        tries.append((text, report))
        if report.ok or not complete:
            yield ReplyUpdate(text, done=True, simplified=attempt > 0, too_hard=not report.ok, complete=complete,
                              report=report)
            return
        log.info("reply too hard for %s (%s); asking for a simpler one", level, "; ".join(report.problems))
        simplify = report
    (first, first_report), (second, second_report) = tries
    if second_report.burden <= first_report.burden:
        yield ReplyUpdate(second, done=True, simplified=True, too_hard=True, report=second_report)
    else:
        yield ReplyUpdate(first, done=True, simplified=False, too_hard=True, report=first_report)


def _stream(model: ModelBackend, messages: list[Message], max_tokens: int, session_key: str | None,
            cancel: threading.Event | None) -> Iterator[str]:
    stop_model = threading.Event()
    stream = None
    text = ""
    try:
        stream = model.stream_chat(messages, max_tokens=max_tokens, temperature=TEMPERATURE, stop=STOP,
                                   session_key=session_key, cancel=stop_model)
        for chunk in stream:
            if cancel is not None and cancel.is_set():
                stop_model.set()
                return
            if chunk:
                text += chunk
                yield text
    finally:
        stop_model.set()
        close = getattr(stream, "close", None)
        if callable(close):
            close()


def _fallback(tries: list[tuple[str, DifficultyReport]], key: str, unit: ConversationUnit) -> ReplyUpdate:
    """A failed retry keeps the first try (too hard is better than silent); otherwise a notice."""
    if tries:
        text, report = tries[0]
        return ReplyUpdate(text, done=True, too_hard=not report.ok, report=report)
    return ReplyUpdate(notice(key, unit.language), done=True, complete=False, notice=True)
