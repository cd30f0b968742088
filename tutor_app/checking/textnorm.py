"""Plain-text normalisation shared by the word checkers (text, choice, regex).

Students type on phones, on keyboards in other languages and paste from documents, so the same
answer arrives with curly quotes, non-breaking spaces, full-width letters or a final full stop.
NFKC folds the look-alike code points; accents are kept because in language lessons they matter.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT_CHARS = 500

_PUNCT = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
})
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s.,;:!?\u3002\uff01\uff1f]+$")
_QUOTES = "\"'`"


def clean(text: str) -> str:
    """One canonical spelling: NFKC, straight quotes and dashes, single spaces, no edge space."""
    text = unicodedata.normalize("NFKC", str(text)).translate(_PUNCT)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def strip_trailing_punctuation(text: str) -> str:
    """``Paris.`` and ``"Paris"`` are the answer ``Paris``: a sentence end or quotes around the
    answer are how people write, not part of the answer."""
    text = _TRAILING.sub("", text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in _QUOTES:
        text = text[1:-1].strip()
    return _TRAILING.sub("", text)


def comparable(text: str, *, case_sensitive: bool = False) -> str:
    """The key two answers are compared by: spaces removed entirely, so ``3/6+2/6`` equals
    ``3/6 + 2/6``; case folded unless the step says case matters."""
    key = strip_trailing_punctuation(clean(text)).replace(" ", "")
    return key if case_sensitive else key.casefold()
