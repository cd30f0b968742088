"""Is the character's reply at the learner's level? A deterministic check of words and sentence length.

A reply is too hard when any limit of the level's ``LevelProfile`` is broken:
- more hard words than ``max_hard_share`` of its words (at least one is always allowed). A word
  is hard when its Zipf frequency in the target language is below ``min_zipf``; for a language
  ``wordfreq`` has no list for, when it has more than ``max_word_letters`` letters;
- a sentence longer than ``max_sentence_words``, or the whole reply longer than ``max_words``.

Never hard: the unit's vocabulary and goal phrases (the scene needs "croquetas" even at A1), the
words the student used, names (a capital letter inside a sentence), numbers, and words of one
or two letters. Inflected forms of allowed words count as allowed ("croqueta" allows
"croquetas"). The service asks for one simpler retry when a reply fails (see ``character.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from .frequency import has_wordlist, tokens, zipf
from .levels import LevelProfile
from .textmatch import folded, words

_SENTENCE_END = re.compile(r"[.!?…\n]+")
SHORT_WORD = 2
INFLECTION_LETTERS = 3  # an allowed word of 4+ letters also allows itself plus up to 3 letters


@dataclass(frozen=True)
class DifficultyReport:
    ok: bool
    words: int
    longest_sentence: int
    hard_words: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())  # one short phrase per limit broken, for the log and the retry

    @property
    def burden(self) -> float:
        """How far over the limits the reply is; of two tries the lower one is kept."""
        return float(len(self.problems)) + len(self.hard_words) / 10


def allowed_words(texts: Iterable[str], language: str) -> frozenset[str]:
    """The folded tokens of ``texts`` (vocabulary, goal phrases, what the student wrote)."""
    return frozenset(folded(t) for text in texts for t in tokens(text, language))


def _allowed(token: str, allowed: frozenset[str]) -> bool:
    key = folded(token)
    if key in allowed:
        return True
    return any(len(word) >= 4 and key.startswith(word) and len(key) - len(word) <= INFLECTION_LETTERS
               for word in allowed)


def _names(text: str) -> set[str]:
    """Words written with a capital inside a sentence: names of people, places and dishes."""
    found: set[str] = set()
    for sentence in _SENTENCE_END.split(text):
        for word in words(sentence)[1:]:
            if word[:1].isupper():
                found.add(folded(word))
    return found


def _is_hard(token: str, language: str, profile: LevelProfile) -> bool:
    if has_wordlist(language):
        frequency = zipf(token, language)
        return profile.min_zipf is not None and frequency is not None and frequency < profile.min_zipf
    letters = sum(ch.isalpha() for ch in token)
    return profile.max_word_letters is not None and letters > profile.max_word_letters


def check_reply(text: str, *, language: str, profile: LevelProfile, allowed: frozenset[str] = frozenset()
                ) -> DifficultyReport:
    sentences = [s for s in _SENTENCE_END.split(text) if words(s)]
    lengths = [len(words(s)) for s in sentences]
    total = sum(lengths)
    longest = max(lengths, default=0)
    names = _names(text)
    hard: list[str] = []
    for token in tokens(text, language):
        if len(token) <= SHORT_WORD or any(ch.isdigit() for ch in token) or folded(token) in names:
            continue
        if _allowed(token, allowed) or token in hard:
            continue
        if _is_hard(token, language, profile):
            hard.append(token)
    problems = []
    allowed_hard = max(1, int(profile.max_hard_share * total))
    if len(hard) > allowed_hard:
        problems.append(f"{len(hard)} uncommon words ({', '.join(hard[:6])}); at most {allowed_hard}")
    if profile.max_sentence_words is not None and longest > profile.max_sentence_words:
        problems.append(f"a sentence of {longest} words; at most {profile.max_sentence_words}")
    if profile.max_words is not None and total > profile.max_words:
        problems.append(f"{total} words in all; at most {profile.max_words}")
    return DifficultyReport(ok=not problems, words=total, longest_sentence=longest, hard_words=tuple(hard),
                            problems=tuple(problems))
