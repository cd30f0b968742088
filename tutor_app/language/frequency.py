"""Word frequencies per language, from the maintained ``wordfreq`` package (no network, no files of ours).

``wordfreq`` ships frequency lists for about forty languages built from subtitles, Wikipedia,
books, news and web text. A language it has no list for gets ``None`` from ``zipf``; callers
then use their documented fallback instead of treating every word as unknown.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import wordfreq

from .textmatch import folded_words

# A token must be this much more frequent (Zipf steps) in one language to count as a vote for it:
# words shared by both languages ("no", "me", "a") decide nothing.
VOTE_MARGIN = 0.5


def base_code(language: str) -> str:
    return language.split("-")[0].split("_")[0].lower()


@lru_cache(maxsize=1)
def _languages() -> frozenset[str]:
    return frozenset(wordfreq.available_languages("best"))


def has_wordlist(language: str) -> bool:
    return base_code(language) in _languages()


def tokens(text: str, language: str) -> list[str]:
    """Words as ``wordfreq`` looks them up (lower case, its own rules for apostrophes per language)."""
    return wordfreq.tokenize(text, base_code(language)) if has_wordlist(language) else folded_words(text)


@lru_cache(maxsize=65536)
def zipf(word: str, language: str) -> float | None:
    """Zipf frequency of ``word`` (0 for a word never seen), or None without a list for the language."""
    if not has_wordlist(language):
        return None
    return wordfreq.zipf_frequency(word, base_code(language))


def _votes(text: str, first: str, second: str) -> tuple[int, int]:
    """How many words of ``text`` are clearly more frequent in ``first``, and in ``second``."""
    votes_first = votes_second = 0
    for token in tokens(text, first):
        in_first, in_second = zipf(token, first) or 0.0, zipf(token, second) or 0.0
        if in_first >= in_second + VOTE_MARGIN:
            votes_first += 1
        elif in_second >= in_first + VOTE_MARGIN:
            votes_second += 1
    return votes_first, votes_second


def written_in(text: str, target: str, other: str) -> bool:
    """Whether ``text`` is (mostly) in ``target`` rather than ``other``: the student's message
    in the language practised, not a question in their own. Each word votes for the language
    it is clearly more frequent in; a tie, too few deciding words or a missing list give the
    target the benefit of the doubt, since correcting is the point of the exercise."""
    if base_code(target) == base_code(other) or not (has_wordlist(target) and has_wordlist(other)):
        return True
    votes_target, votes_other = _votes(text, target, other)
    if votes_target + votes_other < 2:
        return True
    return votes_other <= votes_target


# A reply counts as written in another language only when at least this many of its words vote
# for that language and they outnumber the target's votes two to one: a dish's name or one
# borrowed word ("OK", "sándwich") never does it, an English sentence always does.
CLEAR_VOTES = 3
CLEAR_RATIO = 2


def clearly_in_other(text: str, target: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` that ``text`` is clearly written in instead of ``target``, or None.
    Stricter than ``written_in``: this decides whether a model's reply is asked for again."""
    for other in dict.fromkeys(base_code(o) for o in others):
        if other == base_code(target) or not (has_wordlist(target) and has_wordlist(other)):
            continue
        votes_target, votes_other = _votes(text, target, other)
        if votes_other >= CLEAR_VOTES and votes_other > CLEAR_RATIO * votes_target:
            return other
    return None
