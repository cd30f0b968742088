"""Conversation practice as the application offers it: to the Conversation tab and the JSON API.

One call per student action, the same for the page and the API, so every rule lives here once:

- Ownership is checked in every call, as in ``TutorService``: a student acts only on their own
  conversations (``Forbidden``); the teacher and the loopback-only local user may act for anyone.
- A message is stored the moment it arrives. Then the unit's own rules correct its learners'
  usual errors (``rules.py``), the model's correction is validated (``corrections.py``) and
  merged with them (a rule that fired always stays), goals are ticked and the level is decided by plain rules
  (``goals.py``, ``levels.py``); all of that is committed *before* the character is asked to
  reply. A message in the student's own language ("what does pongo mean?") is not corrected,
  ticks no goal and does not count towards the level.
- The reply (``character.py``) is checked against the level and the target language and asked
  for once more when it misses either; what the student finally saw is stored as the
  character's turn. One reply per message: a second request for the same reply (two tabs, a
  retried API call) is refused while the first is written and finds nothing to answer after.
- Requests about one conversation take its lock (``service.locks``) around reading, deciding
  and writing, as ``TutorService`` does: a message with its correction (the next message's
  level depends on it), and the claim on a reply. The reply itself streams outside the lock,
  so students who share a lock stripe never wait for each other's reply.
- A district runs several app processes on one PostgreSQL database, and a student's two tabs
  may reach two of them. The level is decided holding the conversation's row, from what is
  stored then (another process may have moved it while the model corrected this message), and
  the reply is claimed in the database (``reply_claims.py``): one answer per message, whichever
  process is asked.
- Starting a unit the student practised before continues that conversation; a new one starts
  at the level the student reached there last time. Two starts at once (two tabs, or two app
  processes of a district on one PostgreSQL database) open one conversation: the student's
  name is locked in this process and in the database (``Database.key_locked``).
- When the teacher has turned the model off for the unit or the class (``ModelSwitches``),
  messages are corrected by the unit's rules only, and the character and translations say so.
"""

from __future__ import annotations

import secrets
import threading
from typing import Callable, Iterator

from ..curriculum.library import CurriculumLibrary
from ..curriculum.schema import ConversationUnit
from ..prompting import PromptLibrary
from ..runtime.protocol import ModelBackend
from ..service.access import acting_student, named_unit, owned_record
from ..service.actor import Actor
from ..service.errors import NotFound, TutorError, saving
from ..service.locks import StripedLocks
from ..service.model_switch import ModelSwitches
from ..storage.database import Database
from .character import ReplyUpdate, stream_character_reply
from .corrections import Correction, correct_message
from .difficulty import allowed_words
from .frequency import written_in
from .goals import newly_met
from .levels import LevelDecision, TurnOutcome, decide_after
from .notices import notice
from .reply_claims import ReplyClaims
from .rules import rule_errors, with_rules
from .shapes import ConversationState, MessageResult, ReplyResult, TranslationResult, TurnView, VocabularyView
from .store import ConversationRecord, ConversationStore, TurnRecord
from .textmatch import word_count
from .translate import translate_line
from .views import correction_view, goal_views

MAX_MESSAGE_CHARS = 300  # a line of a role-play; a pasted essay is not practice


def _new_session_id() -> str:
    return secrets.token_urlsafe(16)


class LanguageService:
    def __init__(self, *, db: Database, library: CurriculumLibrary, model: ModelBackend, prompts: PromptLibrary,
                 id_source: Callable[[], str] = _new_session_id, switches: ModelSwitches | None = None) -> None:
        """``library`` is the live ``CurriculumLibrary``: a reload shows up on the next call;
        ``switches``: the teacher's model switches (without them the model is always allowed)."""
        self.conversations = ConversationStore(db)
        self.library = library
        self.model = model
        self.prompts = prompts
        self.id_source = id_source
        self.switches = switches
        # Two quick sends must be corrected in order: the level of the second depends on the first.
        self._lock = StripedLocks()
        self.claims = ReplyClaims(self.conversations)

    def close(self) -> None:
        self.claims.close()

    # starting ------------------------------------------------------------------------
    def start_conversation(self, actor: Actor, student: str, curriculum_id: str, *, new: bool = False
                           ) -> ConversationState:
        """Continue the student's conversation in this unit, or (``new``, or none yet) start one."""
        student = self._student_for(actor, student)
        unit = self._unit(curriculum_id)
        key = f"student:{student}"  # two processes of a district must not both start the first one
        with self._lock(key), self.conversations.db.key_locked(key):
            latest = self.conversations.latest(student=student, curriculum_id=unit.id)
            if latest is not None and not new:
                return self._state(latest, unit)
            level = latest.level if latest is not None else unit.level
            record = self.conversations.create(session_id=self.id_source(), student=student, curriculum_id=unit.id,
                                               level=level, opening=unit.opening.strip())
        return self._state(record, unit)

    def state(self, actor: Actor, session_id: str) -> ConversationState:
        record = self._owned(actor, session_id)
        return self._state(record, self._unit_of(record))

    # one student message -------------------------------------------------------------
    @saving("your message")
    def send_message(self, actor: Actor, session_id: str, message: str) -> MessageResult:
        """Store the message, correct it, tick goals, decide the level; all committed on return."""
        message = _text(message)
        with self._lock(str(session_id).strip()):
            record = self._owned(actor, session_id)
            unit = self._unit_of(record)
            turns = self.conversations.turns(session_id=record.id)
            stored = self.conversations.add_student_turn(session_id=record.id, content=message, level=record.level)
            # The message is on disk; from here on a failure costs only its correction.
            previous = next((t.content for t in reversed(turns) if t.role == "character"), "")
            if written_in(message, unit.target_language, unit.language):
                ruled = rule_errors(unit, message)  # the unit's rules first: no model can overrule them
                if self.model_allowed(unit.id):
                    correction = correct_message(model=self.model, prompts=self.prompts, unit=unit,
                                                 level=record.level, text=message, previous_line=previous,
                                                 session_key=record.id)
                else:
                    has_rules = any(m.rules for m in unit.misconceptions)
                    correction = Correction(status="rules" if has_rules else "unavailable", original=message,
                                            corrected=message)
                correction = with_rules(correction, ruled)
            else:
                correction = Correction(status="other-language", original=message, corrected=message)
            info = self.model.info if correction.status == "checked" else None  # the model's work is stored with its version
            with self.conversations.locked(session_id=record.id):
                # Decided on what is stored now: another app process may have decided a message of
                # this conversation while the model corrected this one.
                record = self.conversations.get(session_id=record.id) or record
                turns = [t for t in self.conversations.turns(session_id=record.id) if t.id < stored.id]
                already = self.conversations.goals_met(session_id=record.id)
                met_now = newly_met(unit.goals, message, already) if correction.status != "other-language" else []
                decision = self._decide(record.level, turns, correction, message)
                saved = self.conversations.record_correction(
                    turn_id=stored.id, status=correction.status, corrected=correction.corrected,
                    errors=correction.errors, goals_met=met_now, level=decision.level,
                    model_name=info.name if info else None, adapter=info.adapter if info else None,
                    decided_at=record.level if record.level != stored.level else None)
        done = already | set(met_now)
        return MessageResult(turn_id=saved.id, correction=correction_view(saved, unit), goals_met_now=met_now,
                             goals=goal_views(unit, done), level_before=record.level, level=decision.level,
                             level_changed=decision.changed, level_reason=decision.reason)

    def model_allowed(self, curriculum_id: str) -> bool:
        """The teacher has not turned the model off for this unit or the class (``ModelSwitches``)."""
        return self.switches is None or self.switches.model_allowed(curriculum_id)

    @staticmethod
    def _decide(level: str, earlier: list[TurnRecord], correction: Correction, message: str) -> LevelDecision:
        """A message that was not checked neither moves the level nor counts towards it."""
        if correction.status != "checked":
            return LevelDecision(level, False, f"Level {level}: this message was not checked, so it does not count.")
        return decide_after(level, earlier, TurnOutcome(errors=len(correction.errors), words=word_count(message)))

    # the character's reply -----------------------------------------------------------
    def stream_reply(self, actor: Actor, session_id: str, cancel: threading.Event | None = None) -> Iterator[str]:
        """The character's answer to the latest message, as the text so far (a simpler retry
        starts again from its first words). Bad requests fail here, before streaming starts."""
        return _texts(self._reply_updates(actor, session_id, cancel))

    def say(self, actor: Actor, session_id: str, message: str) -> ReplyResult:
        """The API's whole turn in one call: the message's correction and the complete reply."""
        result = self.send_message(actor, session_id, message)
        final = ReplyUpdate("")
        for final in self._reply_updates(actor, session_id, None):
            pass
        turns = self.conversations.turns(session_id=session_id.strip())
        reply_id = turns[-1].id if not final.notice and turns and turns[-1].role == "character" else None
        return ReplyResult(message=result, reply=final.text, reply_turn_id=reply_id, simplified=final.simplified,
                           too_hard=final.too_hard, language_retry=final.language_retry)

    def _reply_updates(self, actor: Actor, session_id: str, cancel: threading.Event | None) -> Iterator[ReplyUpdate]:
        record = self._owned(actor, session_id)
        self._unit_of(record)
        _unanswered(self.conversations.turns(session_id=record.id))  # bad requests fail before streaming starts
        return self._claimed_reply(record, cancel)

    def _claimed_reply(self, record: ConversationRecord, cancel: threading.Event | None) -> Iterator[ReplyUpdate]:
        """The reply, written by this request alone, in whichever app process. The claim is
        taken at the first read, not when the stream is made: a stream that is never read never
        holds it. It is given back after the reply is stored, so a request that was refused and
        asks again finds the message answered."""
        with self._lock(record.id):
            token = self.claims.take(record.id)
            if token is None:
                raise TutorError("The character is already answering your last message. Wait for the reply.")
            try:
                turns = self.conversations.turns(session_id=record.id)  # read after the claim: nothing answers meanwhile
                _unanswered(turns)  # answered while this request waited
                record = self.conversations.get(session_id=record.id) or record  # the level the message led to
            except BaseException:
                self.claims.give_back(record.id, token)
                raise
        try:
            yield from self._store_reply(record, self._character_updates(record, turns, cancel))
        finally:
            self.claims.give_back(record.id, token)

    def _character_updates(self, record: ConversationRecord, turns: list[TurnRecord],
                           cancel: threading.Event | None) -> Iterator[ReplyUpdate]:
        unit = self._unit_of(record)
        if not self.model_allowed(unit.id):
            return iter([ReplyUpdate(notice("switched_off", unit.language), done=True, complete=False, notice=True)])
        latest = turns[-1]
        met = self.conversations.goals_met(session_id=record.id)
        history = [{"role": "user" if t.role == "student" else "assistant", "content": t.content} for t in turns[:-1]]
        allowed = allowed_words([v.word for v in unit.vocabulary] + [p for g in unit.goals for p in g.phrases]
                                + [unit.opening] + [t.content for t in turns if t.role == "student"],
                                unit.target_language)
        return stream_character_reply(
            model=self.model, prompts=self.prompts, unit=unit, level=record.level, history=history,
            student_message=latest.content, goals_left=[g.description for g in unit.goals if g.id not in met],
            allowed=allowed, session_key=record.id, cancel=cancel)

    def _store_reply(self, record: ConversationRecord, updates: Iterator[ReplyUpdate]) -> Iterator[ReplyUpdate]:
        last: ReplyUpdate | None = None
        try:
            for update in updates:
                last = update
                yield update
        finally:
            close = getattr(updates, "close", None)
            if callable(close):
                close()  # a reader that stopped early also stops the model
            # Also when the reader stops early: keep what the student saw, unless it was a notice.
            if last is not None and not last.notice and last.text.strip():
                info = self.model.info
                self.conversations.add_character_turn(
                    session_id=record.id, content=last.text, level=record.level, simplified=last.simplified,
                    too_hard=last.too_hard, model_name=info.name, adapter=info.adapter,
                    complete=last.done and last.complete)

    # translation ---------------------------------------------------------------------
    def translate(self, actor: Actor, session_id: str, turn_id: int) -> TranslationResult:
        """A character's line in the student's language with a short explanation; made once, then stored."""
        record = self._owned(actor, session_id)
        unit = self._unit_of(record)
        try:
            turn_id = int(turn_id)
        except (TypeError, ValueError):
            raise TutorError("The message to translate must be given by its number (turn_id).") from None
        turn = next((t for t in self.conversations.turns(session_id=record.id) if t.id == turn_id), None)
        if turn is None:
            raise NotFound(f"This conversation has no message {turn_id}.")
        if turn.role != "character":
            raise TutorError("Only the character's messages can be translated; your own are corrected instead.")
        if turn.translation:
            return TranslationResult(turn_id=turn.id, text=turn.content, translation=turn.translation,
                                     explanation=turn.explanation or "")
        if not self.model_allowed(unit.id):
            raise TutorError(notice("switched_off", unit.language))
        result = translate_line(model=self.model, prompts=self.prompts, unit=unit, level=turn.level, line=turn.content)
        if not result.ok:
            raise TutorError(notice("translation_failed", unit.language))
        self.conversations.set_translation(turn_id=turn.id, translation=result.translation,
                                           explanation=result.explanation)
        return TranslationResult(turn_id=turn.id, text=turn.content, translation=result.translation,
                                 explanation=result.explanation)

    # helpers -------------------------------------------------------------------------
    def _state(self, record: ConversationRecord, unit: ConversationUnit) -> ConversationState:
        turns = self.conversations.turns(session_id=record.id)
        views = [TurnView(turn_id=t.id, role="student" if t.role == "student" else "character", text=t.content,
                          level=t.level, correction=correction_view(t, unit) if t.role == "student" else None,
                          translation=t.translation, explanation=t.explanation)
                 for t in turns]
        return ConversationState(
            session_id=record.id, student=record.student, curriculum_id=unit.id, title=unit.title,
            target_language=unit.target_language, learner_language=unit.language, unit_level=unit.level,
            level=record.level, scenario=unit.scenario.strip(), character=unit.character.strip(),
            goals=goal_views(unit, self.conversations.goals_met(session_id=record.id)),
            vocabulary=[VocabularyView(word=v.word, translation=v.translation) for v in unit.vocabulary],
            turns=views)

    def _student_for(self, actor: Actor, student: str) -> str:
        return acting_student(actor, student, refusal="You can only practise in your own conversations.")

    def _owned(self, actor: Actor, session_id: str) -> ConversationRecord:
        return owned_record(actor, session_id, lambda sid: self.conversations.get(session_id=sid),
                            kind="conversation", start_with="start_conversation")

    def _unit(self, curriculum_id: str) -> ConversationUnit:
        return named_unit(self.library.conversations, curriculum_id, noun="conversation unit",
                          empty="No conversation was chosen. Pick a conversation unit first.")

    def _unit_of(self, record: ConversationRecord) -> ConversationUnit:
        unit = self.library.conversations.get(record.curriculum_id)
        if unit is None:
            raise NotFound(f"The conversation unit {record.curriculum_id!r} is no longer loaded. "
                           "Ask your teacher, or choose another conversation.")
        return unit


def _texts(updates: Iterator[ReplyUpdate]) -> Iterator[str]:
    try:
        for update in updates:
            yield update.text
    finally:
        updates.close()  # stopping early stops the model and stores what was shown


def _text(value) -> str:
    if not isinstance(value, str):
        raise TutorError("The message must be text.")
    value = " ".join(value.split())
    if not value:
        raise TutorError("The message is empty. Write something to the character.")
    if len(value) > MAX_MESSAGE_CHARS:
        raise TutorError(f"The message is too long ({len(value)} characters; at most {MAX_MESSAGE_CHARS}). "
                         "Say it in shorter messages, as in a real conversation.")
    return value



def _unanswered(turns: list[TurnRecord]) -> TurnRecord:
    """The student's latest message, which no reply follows yet."""
    if not turns or turns[-1].role != "student":
        raise TutorError("There is no new message to answer. Write something to the character first.")
    return turns[-1]
