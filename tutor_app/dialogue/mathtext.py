"""Reading the math inside prose: what the leak guard sees in a tutor's sentence.

The model writes LaTeX, Unicode operators, Markdown, number words and phrases such as "x is 4"
or "the answer is four". ``normalize`` rewrites all of that into one plain notation
(``x = 4``, ``ANS = 4``); ``math_runs`` cuts the result into stretches of math between words
of prose, and ``candidates`` lists the equations and expressions those stretches could mean.
``parse_math`` turns a candidate into a sympy expression with a small grammar of our own:
text from the model (or a student) is never handed to ``eval`` or to ``sympify``, and numbers,
exponents and nesting are bounded so that no candidate can make sympy work for long.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy

from .spelled import replace_spelled_numbers

ANS = "\ue000"  # stands for "the answer" / "the solution" in normalized text
AMBIGUOUS = "\ue001"  # marks a number word that may be an article ("one", "un")

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_VULGAR = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5", "⅗": "3/5",
           "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8", "⅞": "7/8"}
_CHAR_MAP = str.maketrans({
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": " , ",
    "\u00d7": "*", "\u22c5": "*", "\u00b7": "*", "\u2219": "*", "\u2217": "*", "\u00f7": "/", "\u2044": "/",
    "\u2215": "/", "\u2248": "=", "\u2243": "=", "\u2245": "=", "\uff1d": "=", "\u00a0": " ",
    "\u2260": " \u2260 ", "\u2264": " \u2264 ", "\u2265": " \u2265 ",
})

_LATEX_SIMPLE = [
    (re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)"), r"\1/\2"),  # \frac12
    (re.compile(r"\\(?:cdot|times|ast)\b"), "*"),
    (re.compile(r"\\div\b"), "/"),
    (re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)\b"), ""),
    (re.compile(r"\\(?:,|;|:|!|quad\b|qquad\b|\s)"), " "),
    (re.compile(r"\\(?:neq|ne)\b"), " \u2260 "),
    (re.compile(r"\\(?:leq?|geq?|lt|gt)\b"), " \u2264 "),
    (re.compile(r"\\(?:approx|simeq|equiv)\b"), "="),
    (re.compile(r"\\pi\b"), " pi "),
    (re.compile(r"\\sqrt\s*\{"), "sqrt{"),
    (re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mathit|operatorname|boxed|fbox|underline|"
                r"overline|displaystyle|color\{[^{}]*\})\s*"), ""),
    (re.compile(r"\\[()\[\]]"), " "),
    (re.compile(r"\$+"), " "),
    (re.compile(r"_\{[^{}]*\}|_[A-Za-z0-9]"), ""),  # subscripts name a variable's copy, not a value
]
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_MARKDOWN = re.compile(r"\*\*|__|`+|~~")
_LIST_MARKER = re.compile(r"(?m)^\s*\d+[.)]\s")

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
_DECIMAL_COMMA = re.compile(r"(?<![\d,])(\d+),(\d{1,2})(?![\d,])")
_THOUSANDS = re.compile(r"(?<![\d,.])(\d{1,3})((?:,\d{3})+)(?![\d,])")

FUNCTIONS = {"sqrt": sympy.sqrt}
CONSTANTS = {"pi": sympy.pi}
MAX_NUMBER_DIGITS = 15
MAX_TOKENS = 60
MAX_DEPTH = 12
MAX_EXPONENT = 12


def _latex_to_plain(text: str) -> str:
    for _ in range(8):  # nested fractions, innermost first
        replaced = _FRAC.sub(_frac_sub, text)
        if replaced == text:
            break
        text = replaced
    for pattern, repl in _LATEX_SIMPLE:
        text = pattern.sub(repl, text)
    text = re.sub(r"\^\s*\{([^{}]*)\}", r"^(\1)", text)
    text = text.replace("{", "(").replace("}", ")")
    return re.sub(r"\\[A-Za-z]+", " ", text)


def _frac_sub(m: re.Match) -> str:
    top, bottom = m.group(1).strip(), m.group(2).strip()
    if top.isdigit() and bottom.isdigit():
        return f"{top}/{bottom}"
    return f"(({top})/({bottom}))"


def plain(text: str) -> str:
    """Text with notation undone (LaTeX, Unicode, Markdown, entities) but words kept: the
    form the bare-number and bare-word scans read."""
    text = html.unescape(text)
    text = _ZERO_WIDTH.sub("", text)
    for char, frac in _VULGAR.items():
        text = text.replace(char, f" {frac} ")
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+", lambda m: "^(" + m.group(0).translate(_SUPERSCRIPTS) + ")", text)
    text = text.translate(_CHAR_MAP)
    text = unicodedata.normalize("NFKC", text)
    text = _latex_to_plain(text)
    text = _MARKDOWN.sub("", text)
    text = re.sub(r"(?<=\w)'(?=s\b)", " i", text)  # "it's" -> "it is"
    text = text.replace(":=", "=").replace("==", "=")
    text = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text)
    return _DECIMAL_COMMA.sub(r"\1.\2", text)


def normalize(text: str) -> str:
    """Text in the notation the math scan reads: ``x is four`` -> ``x = 4``,
    ``the answer: 4`` -> ``ANS = 4`` (with ``ANS`` the private marker)."""
    text = plain(text)
    text = _LIST_MARKER.sub(" ", text)
    text = replace_spelled_numbers(text, ambiguous_marker=AMBIGUOUS)
    text = _VALUE_OF.sub(r"\1", text)
    text = _ANSWER_WORDS.sub(f" {ANS} ", text)
    text = _BINDING_RE.sub(" = ", text)
    text = re.sub(rf"{ANS}\s*:", f"{ANS} =", text)
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


# --- parsing ---------------------------------------------------------------------------

class _ParseError(ValueError):
    pass


class _Parser:
    """expr := ['+'|'-'] term (('+'|'-') term)* ; term := power ((['*'|'/'] | implicit) power)* ;
    power := atom ['^' ['-'] power] ; atom := number | name | func '(' expr ')' | '(' expr ')'."""

    def __init__(self, tokens: list[Token], symbols: dict[str, sympy.Symbol]) -> None:
        self.tokens = [t for t in tokens if t.kind != "space"]
        self.pos = 0
        self.symbols = symbols
        self.depth = 0
        if len(self.tokens) > MAX_TOKENS:
            raise _ParseError("too long")

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise _ParseError("unexpected end")
        self.pos += 1
        return token

    def parse(self) -> sympy.Expr:
        expr = self.expr()
        if self.peek() is not None:
            raise _ParseError(f"unexpected {self.peek().text!r}")
        return expr

    def expr(self) -> sympy.Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _ParseError("too deep")
        sign = 1
        token = self.peek()
        if token is not None and token.kind == "op" and token.text in "+-":
            self.take()
            sign = -1 if token.text == "-" else 1
        result = sign * self.term()
        while (token := self.peek()) is not None and token.kind == "op" and token.text in "+-":
            self.take()
            result = result + self.term() if token.text == "+" else result - self.term()
        self.depth -= 1
        return result

    def term(self) -> sympy.Expr:
        result = self.power()
        while (token := self.peek()) is not None:
            if token.kind == "op" and token.text in "*/":
                self.take()
                right = self.power()
                if token.text == "/":
                    if right == 0:
                        raise _ParseError("division by zero")
                    result = result / right
                else:
                    result = result * right
            elif token.kind in ("num", "ident") or (token.kind == "op" and token.text == "("):
                if token.kind == "num" and self.tokens[self.pos - 1].kind == "num":
                    raise _ParseError("two numbers in a row")
                result = result * self.power()
            else:
                break
        return result

    def power(self) -> sympy.Expr:
        base = self.atom()
        token = self.peek()
        if token is not None and token.kind == "op" and token.text == "^":
            self.take()
            sign = 1
            nxt = self.peek()
            if nxt is not None and nxt.kind == "op" and nxt.text == "-":
                self.take()
                sign = -1
            exponent = sign * self.power()
            if exponent.is_number and (not exponent.is_real or abs(float(exponent)) > MAX_EXPONENT):
                raise _ParseError("exponent too large")
            if base.is_number and abs(float(base)) > 10**6:
                raise _ParseError("power of a large number")
            if base == 0 and exponent.is_number and exponent <= 0:
                raise _ParseError("division by zero")
            return base ** exponent
        return base

    def atom(self) -> sympy.Expr:
        token = self.take()
        if token.kind == "num":
            if len(token.text) > MAX_NUMBER_DIGITS:
                raise _ParseError("number too long")
            return sympy.Rational(token.text)
        if token.kind == "ident":
            if token.text in FUNCTIONS:
                opening = self.take()
                if opening.text != "(":
                    raise _ParseError("function without parentheses")
                inner = self.expr()
                if self.take().text != ")":
                    raise _ParseError("unbalanced parentheses")
                return FUNCTIONS[token.text](inner)
            if token.text in CONSTANTS:
                return CONSTANTS[token.text]
            if len(token.text) != 1:
                raise _ParseError(f"unknown name {token.text!r}")
            return self.symbols.setdefault(token.text, sympy.Symbol(token.text))
        if token.kind == "op" and token.text == "(":
            inner = self.expr()
            closing = self.take()
            if closing.text != ")":
                raise _ParseError("unbalanced parentheses")
            return inner
        raise _ParseError(f"unexpected {token.text!r}")


@lru_cache(maxsize=4096)
def parse_math(text: str) -> sympy.Expr | None:
    """A sympy expression for ``text`` (numbers folded, like terms combined), or None when the
    text is not a small, well-formed expression."""
    try:
        expr = _Parser(tokenize(text), {}).parse()
    except (_ParseError, ZeroDivisionError, OverflowError, TypeError, ValueError):
        return None
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return None
    return expr


def form_key(text: str) -> str:
    """How a piece of math is *written* (spacing and explicit ``*`` ignored): restating the
    problem's ``2x + 3 = 11`` is not the same as writing the answer ``2x = 8``, even though
    the two equations are equivalent."""
    return re.sub(r"[\s*]", "", text)


def complexity(expr: sympy.Expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


# --- numbers in prose ------------------------------------------------------------------

_PERCENT_WORDS = r"%|percent\b|per\s+cent\b|prozent\b|por\s+ciento\b|pour\s+cent\b|per\s+cento\b|por\s+cento\b|procent\b"
_NUMBER = re.compile(
    rf"(?P<amb>{AMBIGUOUS})?"
    rf"(?P<sign>(?:(?<=^)|(?<=[\s(=:,]))-)?"
    r"(?<![\d.])(?P<num>\d+(?:\.\d+)?)"
    r"(?:(?P<frac>/(?P<den>\d+)(?![\d.]))|(?P<pct>\s*(?:" + _PERCENT_WORDS + r")))?"
    r"(?![\d])", re.IGNORECASE)


@dataclass(frozen=True)
class NumberMention:
    """A number as the reader sees it; ``values`` holds every value it may stand for
    (``50%`` is 50 and 1/2)."""

    text: str
    values: tuple[Fraction, ...]
    ambiguous: bool


def numbers_in(text: str, *, for_context: bool = False) -> list[NumberMention]:
    """Numbers written in ``text``: digits, fractions, percentages and number words.

    A fraction not in lowest terms (``8/2``) is read as the division the student still has to
    do, so it stands for its two numbers, not for 4. For context texts (``for_context``) every
    part counts as shown: a statement with ``1/2`` has shown the student a 1 and a 2.
    """
    normalized = replace_spelled_numbers(_LIST_MARKER.sub(" ", plain(text)), ambiguous_marker=AMBIGUOUS)
    out: list[NumberMention] = []
    for m in _NUMBER.finditer(normalized):
        sign = -1 if m.group("sign") else 1
        try:
            num = Fraction(m.group("num")) * sign
        except (ValueError, ZeroDivisionError):
            continue
        ambiguous = bool(m.group("amb"))
        if m.group("frac"):
            den = int(m.group("den"))
            if den == 0:
                continue
            value = num / den
            parts = (num, Fraction(den))
            lowest = num.denominator == 1 and Fraction(int(num), den).denominator == den
            if for_context:
                out.append(NumberMention(m.group(0), (value,) + parts, ambiguous))
            elif lowest and den != 1:
                out.append(NumberMention(m.group(0), (value,), ambiguous))
            else:
                out.append(NumberMention(m.group(0), parts, ambiguous))
        elif m.group("pct"):
            out.append(NumberMention(m.group(0), (num / 100, num), ambiguous))
        else:
            out.append(NumberMention(m.group(0), (num,), ambiguous))
    return out


def parse_number(text: str) -> Fraction | None:
    """The value of an answer written as one number (``0.5``, ``1/2``, ``50%``, ``-3``)."""
    text = plain(text).strip().replace(" ", "")
    m = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)(?:/([-+]?\d+(?:\.\d+)?)|(%))?", text)
    if not m:
        return None
    try:
        value = Fraction(m.group(1))
        if m.group(2):
            value /= Fraction(m.group(2))
        if m.group(3):
            value /= 100
    except (ValueError, ZeroDivisionError):
        return None
    return value


def words_of(text: str) -> str:
    """Casefolded words separated by single spaces: for matching answers written in words."""
    return " ".join(re.findall(r"[^\W_]+", plain(text).casefold()))
