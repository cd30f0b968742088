"""Finding the math inside prose: what the leak guard sees in a tutor's sentence.

The model writes LaTeX, Unicode operators, Markdown, number words and phrases such as "x is 4"
or "the answer is four". ``normalize`` rewrites all of that into one plain notation
(``x = 4``, ``ANS = 4``); ``math_runs`` cuts the result into stretches of math between words
of prose, and ``candidates`` lists the equations and expressions those stretches could mean;
``read_numbers`` finds the numbers in the prose, each with where it stands.

This module only *finds* pieces. What a piece is worth is read by the answer checker's own
readers (``checking.values``: ``read_number``, ``read_expression``), so a number means the same
to the guard as to the checker ("1 1/2" is 3/2, ".5" is 1/2, "1,000" is 1000), and the notation
tables (fractions, superscripts, operators, LaTeX) are the checker's (``checking.notation``).
Text from the model or a student is never handed to ``eval``; the checker's reader screens it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from ..checking.mathparse import CONSTANTS, FUNCTIONS
from ..checking.notation import VULGAR_FRACTIONS, latex_to_plain, operators_to_ascii, superscripts_to_powers
from ..checking.numbers import format_number
from ..checking.values import read_number
from .spelled import replace_spelled_numbers

ANS = "\ue000"  # stands for "the answer" / "the solution" in normalized text
AMBIGUOUS = "\ue001"  # marks a number word that may be an article ("one", "un")
SPELLED = "\ue002"  # marks a number that was written in words (in ``read_numbers`` only)

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Relations and punctuation as prose uses them (the checker refuses these; the guard reads them).
_RELATIONS = str.maketrans({
    "\u2014": " , ", "\u2248": "=", "\u2243": "=", "\u2245": "=", "\uff1d": "=", "\u00a0": " ",
    "\u2260": " \u2260 ", "\u2264": " \u2264 ", "\u2265": " \u2265 ", "\u2192": " = ", "\u21d2": " = ",
})
_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")
_SUBSCRIPT = re.compile(r"_\([^()]*\)|_[A-Za-z0-9]")  # subscripts name a variable's copy, not a value
_MARKDOWN = re.compile(r"\*\*|__|`+|~~")
_LIST_MARKER = re.compile(r"(?m)^\s*\d+[.)]\s")
# A number with a comma or several dots: read by the checker's rules (thousands or decimal comma).
_SEPARATED_NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)*(?:,\d+)(?:[.,]\d+)*(?![\d])|(?<![\d.,])\d+(?:\.\d+){2,}(?![\d])")
_MIXED = re.compile(r"(?<![\d./])(\d+)\s+(\d+)/(\d+)(?![\d/])")

# Phrases that bind a value to what comes before them: "x is 4", "x equals 4", "x vaut 4".
_BINDINGS = [
    r"is\s+equal\s+to", r"equals?", r"equal\s+to", r"is", r"was", r"would\s+be", r"will\s+be", r"must\s+be",
    r"should\s+be", r"has\s+to\s+be", r"is\s+going\s+to\s+be", r"comes?\s+out\s+to", r"comes\s+to",
    r"turns\s+out\s+to\s+be", r"works\s+out\s+to", r"gives", r"becomes",
    r"es\s+igual\s+a", r"es", r"vale", r"ser[ií]a", r"est\s+[ée]gal\s+[àa]", r"est", r"vaut", r"[ée]gale?",
    r"ist\s+gleich", r"ist", r"gleich", r"betr[äa]gt", r"w[äa]re", r"[èe]\s+uguale\s+a", r"è", r"é",
    r"[ée]\s+igual\s+a", r"is\s+gelijk\s+aan",
]
_BINDING_RE = re.compile(r"(?<![^\W\d_])(?:" + "|".join(_BINDINGS) + r")(?![^\W\d_])", re.IGNORECASE)
_ANSWER_WORDS = re.compile(
    r"(?<![^\W\d_])(?:the\s+)?(?:final\s+|correct\s+|right\s+)?(?:answer|solution|result|"
    r"respuesta|soluci[óo]n|resultado|r[ée]ponse|r[ée]sultat|antwort|l[öo]sung|ergebnis|risposta|"
    r"soluzione|risultato|resposta|solu[çc][ãa]o|antwoord|oplossing|uitkomst)(?![^\W\d_])",
    re.IGNORECASE)
_VALUE_OF = re.compile(r"(?<![^\W\d_])(?:the\s+)?value\s+of\s+([A-Za-z])(?![^\W\d_])", re.IGNORECASE)


@lru_cache(maxsize=4096)
def plain(text: str) -> str:
    """Text with notation undone (LaTeX, Unicode, Markdown, entities) but words kept: the
    form the bare-number and bare-word scans read. Numbers with separators are rewritten as
    the checker reads them (``1,000`` -> ``1000``, ``0,5`` -> ``0.5``)."""
    text = html.unescape(text)
    text = _ZERO_WIDTH.sub("", text)
    for char, fraction in VULGAR_FRACTIONS.items():
        text = text.replace(char, f" {fraction} ")
    text = superscripts_to_powers(text).translate(_RELATIONS)
    text = operators_to_ascii(unicodedata.normalize("NFKC", text))
    text = latex_to_plain(text)
    text = _UNKNOWN_COMMAND.sub(" ", _SUBSCRIPT.sub("", text))
    text = _MARKDOWN.sub("", text)
    text = re.sub(r"(?<=\w)'(?=s\b)", " i", text)  # "it's" -> "it is"
    text = text.replace(":=", "=").replace("==", "=")
    return _SEPARATED_NUMBER.sub(_as_read, text)


def _as_read(m: re.Match) -> str:
    number = read_number(m.group(0))
    return format_number(number.value) if number is not None else m.group(0)


def _mixed_sub(m: re.Match) -> str:
    whole, num, den = (int(g) for g in m.groups())
    if 0 < num < den:  # a proper fraction after a whole number: 1 1/2 is one and a half
        return f"({whole}+{num}/{den})"
    return m.group(0)


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Text in the notation the math scan reads: ``x is four`` -> ``x = 4``,
    ``the answer: 4`` -> ``ANS = 4`` (with ``ANS`` the private marker)."""
    text = plain(text)
    text = _LIST_MARKER.sub(" ", text)
    text = replace_spelled_numbers(text, ambiguous_marker=AMBIGUOUS)
    text = _MIXED.sub(_mixed_sub, text)
    text = _VALUE_OF.sub(r"\1", text)
    text = _ANSWER_WORDS.sub(f" {ANS} ", text)
    text = _BINDING_RE.sub(" = ", text)
    text = re.sub(rf"[\"']?\s*{ANS}\s*[\"']?\s*:", f"{ANS} =", text)  # "Answer: 4", {"answer": 4}
    text = re.sub(r"(\d)\s*%", r"\1/100", text)
    return text


# --- tokens and runs -------------------------------------------------------------------

_TOKEN = re.compile(rf"(?P<num>\d+(?:\.\d+)?)|(?P<ans>{ANS})|(?P<mark>{AMBIGUOUS})|(?P<ident>[^\W\d_]+)"
                    r"|(?P<op>[-+*/^()=])|(?P<space>\s+)|(?P<other>.)", re.DOTALL)


@dataclass(frozen=True)
class Token:
    kind: str  # num, ans, ident, op, space, other
    text: str


def tokenize(text: str) -> list[Token]:
    tokens = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind == "mark":
            continue
        tokens.append(Token(kind, m.group(0)))
    return tokens


def _is_math(token: Token) -> bool:
    if token.kind in ("num", "ans", "op", "space"):
        return True
    if token.kind == "ident":
        return len(token.text) == 1 or token.text in FUNCTIONS or token.text in CONSTANTS
    return False


def math_runs(normalized: str) -> list[list[Token]]:
    """Maximal stretches of math tokens (numbers, one-letter names, operators) between prose."""
    runs: list[list[Token]] = []
    current: list[Token] = []
    for token in tokenize(normalized):
        if _is_math(token):
            current.append(token)
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    cleaned = []
    for run in runs:
        while run and run[0].kind == "space":
            run = run[1:]
        while run and run[-1].kind == "space":
            run = run[:-1]
        if any(t.kind in ("num", "ident", "ans") for t in run):
            cleaned.append(run)
    return cleaned


def _words(tokens: list[Token]) -> list[str]:
    """The whitespace-separated words of a run part (``2x + 3`` -> ``2x``, ``+``, ``3``)."""
    words, current = [], ""
    for t in tokens:
        if t.kind == "space":
            if current:
                words.append(current)
            current = ""
        else:
            current += t.text
    if current:
        words.append(current)
    return words


def _spans(words: list[str], *, prefixes: bool, suffixes: bool, limit: int = 8) -> list[str]:
    words = words[:limit] if prefixes and not suffixes else words[-limit:] if suffixes and not prefixes else words
    n = len(words)
    out: list[str] = []
    for i in range(n):
        for j in range(i + 1, n + 1):
            if prefixes and not suffixes and i != 0:
                continue
            if suffixes and not prefixes and j != n:
                continue
            if j - i > limit:
                continue
            out.append(" ".join(words[i:j]))
    return out


@dataclass(frozen=True)
class Candidate:
    """A piece of math the text states: ``lhs = rhs``, an expression, or ``ANS = rhs``."""

    kind: str  # "equation", "expression", "answer"
    lhs: str = ""
    rhs: str = ""

    @property
    def text(self) -> str:
        if self.kind == "expression":
            return self.rhs
        if self.kind == "answer":
            return self.rhs
        return f"{self.lhs} = {self.rhs}"


def candidates(normalized: str) -> list[Candidate]:
    found: list[Candidate] = []
    seen: set[Candidate] = set()

    def add(c: Candidate) -> None:
        if c not in seen:
            seen.add(c)
            found.append(c)

    for run in math_runs(normalized):
        parts: list[list[Token]] = [[]]
        for t in run:
            if t.kind == "op" and t.text == "=":
                parts.append([])
            else:
                parts[-1].append(t)
        words = [_words(p) for p in parts]
        last = len(parts) - 1
        for index, part_words in enumerate(words):
            if not part_words:
                continue
            for span in _spans(part_words, prefixes=index == last and last > 0,
                               suffixes=index == 0 and last > 0):
                if ANS not in span:
                    add(Candidate("expression", rhs=_strip_markup(span)))
        for i in range(last + 1):
            for j in range(i + 1, last + 1):
                if not words[i] or not words[j]:
                    continue
                lefts = _spans(words[i], prefixes=False, suffixes=True) if i == 0 else [" ".join(words[i])]
                rights = _spans(words[j], prefixes=True, suffixes=False) if j == last else [" ".join(words[j])]
                for left in lefts:
                    for right in rights:
                        left_c, right_c = _strip_markup(left), _strip_markup(right)
                        if left_c == ANS and ANS not in right_c:
                            add(Candidate("answer", rhs=right_c))
                        elif right_c == ANS and ANS not in left_c:
                            add(Candidate("answer", rhs=left_c))
                        elif ANS not in left_c and ANS not in right_c and left_c and right_c:
                            add(Candidate("equation", lhs=left_c, rhs=right_c))
    return found


def _strip_markup(span: str) -> str:
    """Drop what belongs to the surrounding text, not to the span: stray Markdown emphasis
    (``*x`` in ``*x = 4*``) and unbalanced brackets (``(x`` in ``\\boxed{x = 4}``)."""
    span = span.strip().strip("*").strip()
    while span.startswith("(") and span.count("(") > span.count(")"):
        span = span[1:].strip()
    while span.endswith(")") and span.count(")") > span.count("("):
        span = span[:-1].strip()
    return span


def answer_phrases(normalized: str, max_words: int = 8) -> list[str]:
    """The words after ``ANS =`` (``the answer is photosynthesis``): candidates for word answers."""
    out = []
    for m in re.finditer(rf"{ANS}\s*=\s*", normalized):
        rest = re.split(r"[.!?;\n]", normalized[m.end():], maxsplit=1)[0]
        words = re.findall(r"[^\s,]+", rest)[:max_words]
        for n in range(1, len(words) + 1):
            out.append(" ".join(words[:n]).strip("\"'“”«»()*"))
    return out


def form_key(text: str) -> str:
    """How a piece of math is *written* (spacing and explicit ``*`` ignored): restating the
    problem's ``2x + 3 = 11`` is not the same as writing the answer ``2x = 8``, even though
    the two equations are equivalent."""
    return re.sub(r"[\s*]", "", text)


# --- numbers in prose ------------------------------------------------------------------

_PERCENT_WORDS = r"%|percent\b|per\s+cent\b|prozent\b|por\s+ciento\b|pour\s+cent\b|per\s+cento\b|por\s+cento\b|procent\b"
_NUMBER = re.compile(
    rf"(?P<amb>{AMBIGUOUS})?(?P<words>{SPELLED})?"
    r"(?P<sign>(?:(?<=^)|(?<=[\s(=:,\ue001\ue002]))-)?"
    r"(?<![\d./])(?P<body>(?P<mixed>\d+\s+\d+/\d+)|(?P<frac>\d+/\d+)|\d+(?:\.\d+)?(?:[eE][-+]?\d{1,3}(?![\w]))?|\.\d+)"
    r"(?P<pct>\s*(?:" + _PERCENT_WORDS + r"))?"
    r"(?![\d/])", re.IGNORECASE)


_BELOW_ZERO = re.compile(r"(?:\s+[^\W\d_]+){0,2}\s+(?:below|under|bajo|sous|au-dessous\s+de|unter)\s+"
                         r"[\ue001\ue002]*(?:zero|cero|z[ée]ro|null|0)\b", re.IGNORECASE)


@dataclass(frozen=True)
class NumberMention:
    """A number as the reader sees it, where it stands in the reading text, and every value
    it may stand for (``50%`` is 1/2 and 50; ``8/2`` is the division 8 and 2, still to do)."""

    text: str
    values: tuple[Fraction, ...]
    ambiguous: bool
    start: int = 0
    end: int = 0
    spelled: bool = False
    percent: bool = False  # values are (the fraction, the number before %)
    quotient: Fraction | None = None  # a division still to do (8/2): what it comes to


@dataclass(frozen=True)
class NumberReading:
    """A text as the number scan reads it (notation undone, number words as digits) and the
    numbers in it; positions refer to ``text``."""

    text: str
    mentions: tuple[NumberMention, ...]


@lru_cache(maxsize=4096)
def read_numbers(text: str, *, for_context: bool = False) -> NumberReading:
    """The numbers written in ``text``: digits, fractions, mixed numbers, percentages and words.

    Each is read by the checker's number reader. A fraction not in lowest terms (``8/2``) is
    the division the student still has to do, so it stands for its two numbers, not for 4.
    For context texts (``for_context``) the parts written in digits count as shown too: a
    statement with ``1/2`` has shown the student a 1 and a 2 (but "two fifths" has not shown
    a 5).
    """
    reading = replace_spelled_numbers(_LIST_MARKER.sub(" ", plain(text)), ambiguous_marker=AMBIGUOUS,
                                      spelled_marker=SPELLED)
    mentions: list[NumberMention] = []
    for m in _NUMBER.finditer(reading):
        mentions.extend(_mentions(m, for_context))
    return NumberReading(reading, tuple(mentions))


def _mentions(m: re.Match, for_context: bool) -> list[NumberMention]:
    ambiguous, spelled = bool(m.group("amb")), bool(m.group("words"))
    sign = "-" if m.group("sign") else ""
    body = m.group("body")

    def mention(values, start=m.start(), end=m.end(), text=_unmarked(m.group(0)), percent=False,
                quotient=None) -> NumberMention:
        return NumberMention(text, tuple(dict.fromkeys(values)), ambiguous, start, end, spelled, percent, quotient)

    if m.group("mixed"):
        whole, fraction = body.split(None, 1)
        num, den = (int(p) for p in fraction.split("/"))
        if not 0 < num < den:  # not a mixed number: a whole number, then a fraction
            split = m.start("body") + body.index(fraction)
            first = _read(sign + whole)
            second = _fraction_values(num, den, for_context, spelled)
            return [mention([first] if first is not None else [], end=split, text=whole),
                    mention(second, start=split, text=fraction)]
        value = _read(sign + body)
        if value is None:
            return []
        parts = [int(whole), abs(value) - int(whole), num, den] if for_context else []
        return [mention([value, *parts])]
    if m.group("frac"):
        num, den = (int(p) for p in body.split("/"))
        num = -num if sign else num
        values = _fraction_values(num, den, for_context, spelled)
        return [mention(values, quotient=Fraction(num, den) if den and Fraction(num, den) not in values else None)]
    value = _read(sign + body)
    if value is None:
        return []
    if _BELOW_ZERO.match(m.string, m.end()):  # "7 degrees below zero" is -7 (and shows a 7)
        return [mention([-value, value])]
    if m.group("pct"):
        return [mention([value / 100, value], percent=True)]
    return [mention([value])]


def _unmarked(text: str) -> str:
    return text.replace(AMBIGUOUS, "").replace(SPELLED, "")


def _read(text: str) -> Fraction | None:
    number = read_number(text)
    return number.value if number is not None else None


def _fraction_values(num: int, den: int, for_context: bool, spelled: bool) -> list[Fraction]:
    if den == 0:
        return []
    value = Fraction(num, den)
    lowest = Fraction(num, den).numerator == num and den != 1
    if for_context:
        return [value, Fraction(num)] if spelled else [value, Fraction(num), Fraction(den)]
    return [value] if lowest else [Fraction(num), Fraction(den)]


def numbers_in(text: str, *, for_context: bool = False) -> list[NumberMention]:
    """The mentions of ``read_numbers``."""
    return list(read_numbers(text, for_context=for_context).mentions)


def words_of(text: str) -> str:
    """Casefolded words separated by single spaces: for matching answers written in words."""
    return " ".join(re.findall(r"[^\W_]+", plain(text).casefold()))
