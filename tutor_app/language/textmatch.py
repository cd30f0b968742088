"""Matching learners' text loosely: without case or accents, and back to the exact characters typed.

Learners type on keyboards without ``ñ`` or ``é`` and the model copies their words back with
small differences ("Queria" for "quería"), so a goal phrase or an error span is looked for in a
*folded* copy of the text (NFKD, accents dropped, case folded, curly apostrophes straightened).
Each folded character remembers which original character it came from, so a match found in
the folded copy becomes a span of the text exactly as the student wrote it.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_FOLDED_WORD = re.compile(r"[^\W\d_]+")


def fold(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the original character."""
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text.translate(_APOSTROPHES)):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                out.append(folded)
                origin.append(i)
    return "".join(out), origin


def folded(text: str) -> str:
    return fold(text)[0]


def words(text: str) -> list[str]:
    """The words as written (letters, with inner apostrophes and hyphens: "s'il", "qu'est-ce")."""
    return _WORD.findall(text)


def word_count(text: str) -> int:
    return len(words(text))


def folded_words(text: str) -> list[str]:
    """Folded words, split at apostrophes and hyphens too, for phrase matching: "J'ai" -> j, ai."""
    return _FOLDED_WORD.findall(folded(text))


def contains_phrase(text: str, phrase: str) -> bool:
    """``phrase`` appears in ``text`` as whole words in a row, ignoring case, accents and punctuation."""
    needle = folded_words(phrase)
    hay = folded_words(text)
    if not needle:
        return False
    return any(hay[i:i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


def find_span(text: str, span: str, *, taken: list[tuple[int, int]] = ()) -> tuple[int, int] | None:
    """Where ``span`` is in ``text`` as (start, end) character offsets, avoiding ``taken`` ranges.

    First the exact characters, then the folded text with runs of spaces collapsed, each time
    preferring an occurrence that overlaps no span already placed (a sentence may repeat a
    wrong word; each error gets its own occurrence). None when it is not there at all."""
    span = span.strip()
    if not span:
        return None
    for start, end in _exact(text, span):
        if not _overlaps(start, end, taken):
            return start, end
    hay, origin = fold(text)
    needle = " ".join(folded(span).split())
    if not needle:
        return None
    squeezed, squeezed_origin = _squeeze(hay, origin)
    index = squeezed.find(needle)
    while index >= 0:
        start = squeezed_origin[index]
        end = squeezed_origin[index + len(needle) - 1] + 1
        if _on_word_edges(text, start, end) and not _overlaps(start, end, taken):
            return start, end
        index = squeezed.find(needle, index + 1)
    return None


def _exact(text: str, span: str):
    index = text.find(span)
    while index >= 0:
        if _on_word_edges(text, index, index + len(span)):
            yield index, index + len(span)
        index = text.find(span, index + 1)


def _on_word_edges(text: str, start: int, end: int) -> bool:
    """A span starts and ends at word edges: "el" must not match inside "miel"."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    first, last = text[start], text[end - 1]
    return not (before.isalnum() and first.isalnum()) and not (after.isalnum() and last.isalnum())


def _overlaps(start: int, end: int, taken) -> bool:
    return any(start < t_end and t_start < end for t_start, t_end in taken)


def _squeeze(hay: str, origin: list[int]) -> tuple[str, list[int]]:
    out, out_origin = [], []
    for char, index in zip(hay, origin):
        if char.isspace():
            if out and out[-1] == " ":
                continue
            char = " "
        out.append(char)
        out_origin.append(index)
    return "".join(out), out_origin
