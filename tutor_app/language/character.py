"""The character's reply: streamed in the target language, then checked against the learner's level.

Message layout, chosen for KV-cache reuse (``session_key``): the system message holds the scene
and the level's rules, which stay fixed for many turns; the earlier turns follow as real chat
turns; the student's new message comes last.

Two checks run once the reply is complete, and either gets one retry, never more:

- Language (``frequency.clearly_in_other``): a small model drifts back into English or into the
  learner's own language. A reply clearly written in one of those is asked for again, told
  which language it used.
- Difficulty (``difficulty.check_reply``): a reply that is too hard is asked for again, told
  which words were uncommon and how long a sentence may be.

The first try streams; the retry is written out of sight (the page shows "…" meanwhile) and
replaces it. A reply that fails a check twice is not shown at all: the student gets a short
notice in their own language instead (``notices: reply_unfit``), nothing is stored as the
character's line, and the message stays there to be answered by the next one. A small demo
model that cannot keep to the level or the language so says nothing wrong to a learner.
"""

from __future__ import annotations

import logging
import threading
from contextlib import closing
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from ..curriculum.schema import ConversationUnit
from ..dialogue.history import with_history
from ..dialogue.phrases import language_name
from ..dialogue.streaming import model_chunks
from ..prompting import PromptLibrary
from ..runtime.protocol import Message, ModelBackend, ModelError, ModelUnavailable
from .difficulty import DifficultyReport, check_reply
from .frequency import clearly_in_other
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
RETRY_PLACEHOLDER = "…"


@dataclass(frozen=True)
class ReplyUpdate:
    """The reply so far. A retry starts again from the first words (``simplified`` after the
    difficulty check, ``language_retry`` after the language check); the last update has ``done``.
    ``notice`` marks a message about the app (no model), not the character's."""

    text: str
    done: bool = False
    simplified: bool = False
    too_hard: bool = False
    complete: bool = True
    notice: bool = False
    report: DifficultyReport | None = None
    language_retry: bool = False
    wrong_language: str | None = None  # the final text is still clearly in this language, not the target


@dataclass(frozen=True)
class _Try:
    text: str
    report: DifficultyReport
    wrong_language: str | None

    @property
    def ok(self) -> bool:
        return self.report.ok and self.wrong_language is None


def build_messages(*, prompts: PromptLibrary, unit: ConversationUnit, level: str,
                   history: Iterable[Mapping[str, str]], student_message: str, goals_left: Sequence[str],
                   simplify: DifficultyReport | None = None, wrong_language: str | None = None,
                   count_tokens=None, n_ctx: int = DEFAULT_CONTEXT, max_tokens: int = MAX_REPLY_TOKENS
                   ) -> list[Message]:
    """System (scene and level) + the recent turns that fit + the student's new message.
    ``simplify`` and ``wrong_language`` (a language code) tell a retry what was wrong."""
    level_profile = profile(level)
    rendered = prompts.render_messages(
        TEMPLATE,
        character=unit.character.strip(), scenario=unit.scenario.strip(), level=level,
        target_language_name=language_name(unit.target_language), level_guidance=level_profile.guidance,
        max_sentence_words=level_profile.max_sentence_words or 0,
        vocabulary=[v.word for v in unit.vocabulary], goals_left=list(goals_left),
        simplify={"hard_words": list(simplify.hard_words[:8])} if simplify is not None else None,
        wrong_language=language_name(wrong_language) if wrong_language else None,
        student_message=student_message.strip())
    return with_history(rendered, history, count_tokens=count_tokens, n_ctx=n_ctx or DEFAULT_CONTEXT,
                        max_tokens=max_tokens, max_messages=HISTORY_MESSAGES)


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

    tries: list[_Try] = []
    simplify: DifficultyReport | None = None
    wrong: str | None = None  # the language the first try was in, when it was not the target
    others = other_languages(unit)
    for attempt in range(2):
        messages = build_messages(prompts=prompts, unit=unit, level=level, history=history,
                                  student_message=student_message, goals_left=goals_left, simplify=simplify,
                                  wrong_language=wrong, count_tokens=model.count_tokens, n_ctx=info.n_ctx,
                                  max_tokens=max_tokens)
        retry = {"simplified": simplify is not None, "language_retry": wrong is not None}
        text, complete = "", True
        if attempt:
            yield ReplyUpdate(RETRY_PLACEHOLDER, **retry)  # the retry is checked before anyone reads it
        try:
            for update in _stream(model, messages, max_tokens, session_key, cancel):
                text = update
                if not attempt:
                    yield ReplyUpdate(tidy(text), **retry)
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
        this = _Try(text, check_reply(text, language=unit.target_language, profile=level_profile, allowed=allowed),
                    clearly_in_other(text, unit.target_language, others))
        tries.append(this)
        if this.ok or (not complete and not attempt):  # a first try cut short is kept as it was shown
            yield _final(this, complete=complete, **retry)
            return
        if attempt == 1:
            log.warning("the retry failed the checks too (unit %s: %s); a notice instead", unit.id,
                        this.wrong_language or "; ".join(this.report.problems))
            yield ReplyUpdate(notice("reply_unfit", unit.language), done=True, complete=False, notice=True,
                              too_hard=not this.report.ok, report=this.report, wrong_language=this.wrong_language,
                              **retry)
            return
        if this.wrong_language:
            log.info("reply in %s, not %s; asking again", this.wrong_language, unit.target_language)
            wrong = this.wrong_language
        else:
            log.info("reply too hard for %s (%s); asking for a simpler one", level, "; ".join(this.report.problems))
            simplify = this.report


def other_languages(unit: ConversationUnit) -> tuple[str, ...]:
    """The languages a reply may drift into: the learner's own, and English, which small models
    fall back to whatever they were asked."""
    return tuple(dict.fromkeys(code for code in (unit.language, "en") if code != unit.target_language))


def _final(chosen: _Try, *, complete: bool = True, simplified: bool = False, language_retry: bool = False
           ) -> ReplyUpdate:
    return ReplyUpdate(chosen.text, done=True, simplified=simplified, too_hard=not chosen.report.ok,
                       complete=complete, report=chosen.report, language_retry=language_retry,
                       wrong_language=chosen.wrong_language)


def _stream(model: ModelBackend, messages: list[Message], max_tokens: int, session_key: str | None,
            cancel: threading.Event | None) -> Iterator[str]:
    """The reply so far, growing."""
    text = ""
    with closing(model_chunks(model, messages, max_tokens=max_tokens, temperature=TEMPERATURE, stop=STOP,
                              session_key=session_key, cancel=cancel)) as chunks:
        for chunk in chunks:
            text += chunk
            yield text


def _fallback(tries: list[_Try], key: str, unit: ConversationUnit) -> ReplyUpdate:
    """A notice instead of a reply: why none came, or (a retry that failed after a first try that
    missed the checks) that the reply did not fit."""
    if tries:
        return ReplyUpdate(notice("reply_unfit", unit.language), done=True, complete=False, notice=True)
    return ReplyUpdate(notice(key, unit.language), done=True, complete=False, notice=True)
