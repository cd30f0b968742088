"""CEFR levels: what each one allows in the character's replies, and how the level follows the learner.

The level a conversation runs at is decided here by plain rules, never by the model, so a
teacher can predict it and a test can pin it down:

- A conversation starts at the unit's level (or where the student left the unit last time).
- Only the student turns *since the last change* count, so one bad turn cannot undo a move
  that was just made and the level cannot flip every turn.
- Once ``WINDOW`` such turns exist, the share of them that needed a correction decides:
  at most ``RISE_AT`` (one in four) moves one level up, provided the student wrote real
  sentences (``MIN_WORDS_TO_RISE`` words a turn on average: "sí" four times proves nothing);
  at least ``FALL_AT`` (three in four) moves one level down; anything between stays.
- The level never leaves A1..C2.

The numbers in ``PROFILES`` are what ``difficulty.py`` checks a reply against; why they are
what they are is written next to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from ..curriculum.schema import CEFR_LEVELS
from .textmatch import word_count

WINDOW = 4
RISE_AT = 0.25
FALL_AT = 0.75
MIN_WORDS_TO_RISE = 4


@dataclass(frozen=True)
class LevelProfile:
    """What a reply at one level may contain.

    ``min_zipf``: words rarer than this (wordfreq's Zipf scale: 3 is once per million words,
    each step is ten times as frequent) count as hard. The lists count word *forms* in
    subtitles and web text, so inflected everyday words ("pongo", "désirez") and concrete
    nouns of a scene (food, shops) sit lower than their place in a syllabus; the thresholds are
    set so that a textbook dialogue line of the level passes and a native-speed line fails. For
    Spanish and French, 3.6 is roughly the 13,000th most frequent word form, 3.1 the 25,000th.
    ``max_hard_share``: the share of a reply's words that may be hard (at least one is allowed).
    ``max_sentence_words`` / ``max_words``: the longest sentence and the whole reply, in words.
    ``max_word_letters``: the fallback for languages wordfreq has no list for: longer words count
    as hard (long words are rare words in most languages, the idea behind readability formulas).
    ``None`` means no limit (C2 speaks like anyone else).
    """

    level: str
    min_zipf: float | None
    max_hard_share: float
    max_sentence_words: int | None
    max_words: int | None
    max_word_letters: int | None
    guidance: str  # how the character is told to speak at this level


PROFILES: dict[str, LevelProfile] = {
    "A1": LevelProfile("A1", 3.6, 0.10, 10, 30, 9,
                       "Use only very common everyday words, the present tense and very short, simple sentences."),
    "A2": LevelProfile("A2", 3.4, 0.12, 14, 40, 10,
                       "Use common everyday words and short, simple sentences; the present, the near future and "
                       "a simple past are fine."),
    "B1": LevelProfile("B1", 3.1, 0.15, 20, 60, 12,
                       "Use everyday language on familiar topics; connected sentences are fine, but avoid idioms "
                       "and rare words."),
    "B2": LevelProfile("B2", 2.8, 0.20, 26, 80, 14,
                       "Speak naturally and clearly; some idioms are fine."),
    "C1": LevelProfile("C1", 2.4, 0.25, 32, 100, 16,
                       "Speak naturally and idiomatically, as to a fluent speaker."),
    "C2": LevelProfile("C2", None, 1.0, None, None, None,
                       "Speak exactly as you would with a native speaker."),
}


def profile(level: str) -> LevelProfile:
    return PROFILES[level]


def shift(level: str, steps: int) -> str:
    """The level ``steps`` away (negative: easier), kept within A1..C2."""
    index = CEFR_LEVELS.index(level) + steps
    return CEFR_LEVELS[min(max(index, 0), len(CEFR_LEVELS) - 1)]


@dataclass(frozen=True)
class TurnOutcome:
    """One checked student turn, as the level rule sees it."""

    errors: int
    words: int


@dataclass(frozen=True)
class LevelDecision:
    level: str
    changed: bool
    reason: str  # one line the student (and the teacher) can read


def decide_level(current: str, since_change: Sequence[TurnOutcome]) -> LevelDecision:
    """The level after the latest turn, from the checked turns at ``current`` since it was set
    (oldest first). Pure: the same turns always give the same level."""
    recent = list(since_change)[-WINDOW:]
    if len(recent) < WINDOW:
        left = WINDOW - len(recent)
        return LevelDecision(current, False, f"Level {current}: {left} more message{'s' if left != 1 else ''} "
                                             f"before it can change.")
    with_errors = sum(1 for t in recent if t.errors > 0)
    share = with_errors / len(recent)
    mean_words = sum(t.words for t in recent) / len(recent)
    counted = f"{with_errors} of your last {len(recent)} messages needed corrections"
    if share >= FALL_AT and current != CEFR_LEVELS[0]:
        easier = shift(current, -1)
        return LevelDecision(easier, True, f"Level {easier}: {counted}, so the conversation gets a little easier.")
    if share <= RISE_AT and mean_words >= MIN_WORDS_TO_RISE and current != CEFR_LEVELS[-1]:
        harder = shift(current, 1)
        return LevelDecision(harder, True, f"Level {harder}: only {counted}, so the conversation gets a little "
                                           f"harder.")
    return LevelDecision(current, False, f"Level {current}: {counted}.")


class StoredTurn(Protocol):
    """What the level rule reads of a stored turn (``store.TurnRecord``)."""

    role: str
    content: str
    level: str
    correction_status: str | None
    errors: Sequence[object]


def decide_after(level: str, earlier: Sequence[StoredTurn], latest: TurnOutcome) -> LevelDecision:
    """The level after a checked message (``latest``) written at ``level``: the checked student
    turns at this level since it was set, from ``earlier`` (the conversation before it), count
    with it. The service decides with this as a message arrives; the teacher's transcript
    replays it on the stored turns, so both say the same."""
    outcomes = [latest]
    for turn in reversed(earlier):
        if turn.role != "student" or turn.correction_status != "checked":
            continue
        if turn.level != level:
            break
        outcomes.append(TurnOutcome(errors=len(turn.errors), words=word_count(turn.content)))
    return decide_level(level, outcomes[::-1])

