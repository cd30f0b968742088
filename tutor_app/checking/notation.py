"""How school maths is written, in one place: the characters and LaTeX commands that stand for
numbers and operators, and the translation of LaTeX into the plain notation the readers parse.

The answer checker (``numbers``, ``mathparse``), the answer-leak guard (``dialogue.mathtext``)
and the worksheet printer (``practice.mathhtml``) read the same notation. Keeping its tables
here is what makes ``½``, ``x²`` and ``\\frac{1}{2}`` mean the same thing to all three: when the
checker accepts a way of writing a number, the guard reads it the same way.
"""

from __future__ import annotations

import re

VULGAR_FRACTIONS = {"½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5",
                    "⅗": "3/5", "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8",
                    "⅞": "7/8"}

_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")

# Unicode arithmetic signs and the ASCII operator each one means (phone keyboards and models
# write the typographic minus, the multiplication cross and the fraction slash).
OPERATORS = {"×": "*", "·": "*", "⋅": "*", "∙": "*", "✕": "*", "∗": "*", "÷": "/", "∕": "/", "⁄": "/",
             "−": "-", "‐": "-", "‑": "-", "‒": "-", "–": "-"}
# Symbols that are names in the plain notation.
SYMBOL_NAMES = {"√": "sqrt", "π": "pi"}

# LaTeX commands for symbols, as the Unicode character a reader sees (the worksheet prints it).
LATEX_SYMBOLS = {
    "cdot": "·", "times": "×", "ast": "∗", "div": "÷", "pm": "±", "mp": "∓", "le": "≤", "leq": "≤", "ge": "≥",
    "geq": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "simeq": "≃", "equiv": "≡", "pi": "π", "theta": "θ",
    "alpha": "α", "beta": "β", "Delta": "Δ", "infty": "∞", "circ": "°", "degree": "°", "rightarrow": "→",
    "to": "→", "Rightarrow": "⇒", "ldots": "…", "dots": "…", "cdots": "⋯", "lt": "<", "gt": ">",
}
LATEX_SPACING = {",": " ", ";": " ", ":": " ", " ": " ", "quad": " ", "qquad": "  ", "!": "", "\\": " "}
LATEX_ESCAPES = {"%": "%", "{": "{", "}": "}", "$": "$", "&": "&", "#": "#", "_": "_"}
LATEX_SIZING = frozenset({"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr"})
LATEX_DELIMITERS = frozenset({"(", ")", "[", "]"})  # \( \) \[ \]: where math starts and ends
FRACTION_COMMANDS = frozenset({"frac", "dfrac", "tfrac"})
TEXT_COMMANDS = frozenset({"text", "mathrm", "textrm", "operatorname", "mbox", "textbf", "textit"})
# Commands that only decorate their argument: the reader keeps what is inside.
WRAPPER_COMMANDS = frozenset({"boxed", "fbox", "underline", "overline", "mathbf", "mathit", "bm"})
# Commands that only change how what follows looks, and their number of arguments to drop.
STYLE_COMMANDS = {"displaystyle": 0, "textstyle": 0, "color": 1}
_COMMAND = re.compile(r"\\([A-Za-z]+|.?)")


def superscripts_to_powers(text: str) -> str:
    """``x²`` -> ``x^(2)``, ``10⁻³`` -> ``10^(-3)``."""
    return _SUPERSCRIPT_RUN.sub(lambda m: "^(" + m.group().translate(_SUPERSCRIPT_DIGITS) + ")", text)


def operators_to_ascii(text: str) -> str:
    for char, ascii_op in OPERATORS.items():
        text = text.replace(char, ascii_op)
    return text


def read_group(tex: str, start: int) -> tuple[str, int]:
    """The argument of a command at ``start``: a {braced group}, a command, or one character;
    returns (argument, end). An unclosed group runs to the end of the text."""
    while start < len(tex) and tex[start] == " ":
        start += 1
    if start >= len(tex):
        return "", start
    if tex[start] == "\\":
        command = _COMMAND.match(tex, start).group(0)
        return command, start + len(command)
    if tex[start] != "{":
        return tex[start], start + 1
    depth = 0
    for i in range(start, len(tex)):
        if tex[i] == "{":
            depth += 1
        elif tex[i] == "}":
            depth -= 1
            if depth == 0:
                return tex[start + 1:i], i + 1
    return tex[start + 1:], len(tex)


def latex_to_plain(text: str) -> str:
    """LaTeX (inside or outside ``$``) in the plain notation: ``\\frac{8}{2}`` -> ``8/2``,
    ``\\frac{x+1}{2}`` -> ``((x+1)/(2))``, ``\\sqrt{x}`` -> ``sqrt(x)``, ``x^{2}`` -> ``x^(2)``,
    ``\\cdot`` -> ``*``, ``\\text{cm}`` -> `` cm ``. Commands it does not know keep their
    backslash, so that a strict reader can refuse them and a lenient one can drop them."""
    if "\\" not in text and "{" not in text and "$" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            name = _COMMAND.match(text, i).group(1)
            i += len(name) + 1
            out.append(_command_to_plain(name, text, i, out))
            i = _command_end(name, text, i)
        elif ch == "^" and text[_skip_spaces(text, i + 1):_skip_spaces(text, i + 1) + 1] in ("{", "\\"):
            braced = text[_skip_spaces(text, i + 1)] == "{"
            arg, end = read_group(text, i + 1)
            if arg.strip() == "\\circ":
                out.append("°")
                i = end
            elif braced:
                out.append(f"^({latex_to_plain(arg)})")
                i = end
            else:
                out.append("^")
                i += 1
        elif ch == "$":
            out.append(" ")
            i += 1
        elif ch in "{}":
            out.append("(" if ch == "{" else ")")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


def _command_to_plain(name: str, text: str, i: int, out: list[str]) -> str:
    if name in FRACTION_COMMANDS:
        top, i = read_group(text, i)
        bottom, _ = read_group(text, i)
        top, bottom = latex_to_plain(top).strip(), latex_to_plain(bottom).strip()
        if top.isdigit() and bottom.isdigit():
            return f" {top}/{bottom} "
        return f"(({top})/({bottom}))"
    if name == "sqrt":
        arg, _ = read_group(text, i)
        return f"sqrt({latex_to_plain(arg)})"
    if name in TEXT_COMMANDS:
        arg, _ = read_group(text, i)
        return f" {arg} "
    if name in WRAPPER_COMMANDS:
        arg, _ = read_group(text, i)
        return f" {latex_to_plain(arg)} "
    if name in LATEX_SYMBOLS:
        symbol = LATEX_SYMBOLS[name]
        symbol = OPERATORS.get(symbol, SYMBOL_NAMES.get(symbol, symbol))
        return f" {symbol} " if symbol.isalpha() else symbol
    if name in LATEX_SPACING or name in LATEX_DELIMITERS:
        return LATEX_SPACING.get(name, " ")
    if name in LATEX_ESCAPES:
        return LATEX_ESCAPES[name]
    if name in LATEX_SIZING or name in STYLE_COMMANDS:
        return ""
    return "\\" + name


def _command_end(name: str, text: str, i: int) -> int:
    """Where the text after a command (and the arguments it consumed) resumes."""
    if name in FRACTION_COMMANDS:
        _, i = read_group(text, i)
        _, i = read_group(text, i)
    elif name == "sqrt" or name in TEXT_COMMANDS or name in WRAPPER_COMMANDS:
        _, i = read_group(text, i)
    elif name in STYLE_COMMANDS:
        for _ in range(STYLE_COMMANDS[name]):
            _, i = read_group(text, i)
    return i
