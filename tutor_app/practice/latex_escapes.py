"""LaTeX backslashes that JSON ate, put back; and the markup a drafted text must get right.

A model drafting a problem writes its statement inside a JSON string. To JSON, ``\\f``, ``\\t``,
``\\b``, ``\\n`` and ``\\r`` are escapes (form feed, tab, backspace, newline, carriage return), so
``"$\\frac{1}{2}$"`` written with one backslash, as LaTeX is written everywhere else, decodes
to a form feed followed by ``rac{1}{2}``; llama.cpp's JSON grammar allows exactly these escapes,
so a small model produces them readily. The teacher then reads ``rac{ extbf`` in the drafts file,
and YAML writes the form feed back as ``\\f`` in double quotes, where it is a form feed again.

``restore_eaten_escapes`` undoes this when the letters after the control character complete a
LaTeX command (``\\f`` + ``rac`` is ``\\frac``). A form feed or a backspace never belongs in a
problem, so those are restored wherever they are; a tab, newline or carriage return is
restored only inside ``$...$`` or right before ``{``, where a real line break is not meant.
``markup_problems`` is the check that follows: what is left (a control character, an odd
number of ``$``, unbalanced braces inside maths) makes a draft nonsense to a student.
"""

from __future__ import annotations

import re

from ..curriculum.yaml_source import LATEX_ESCAPE_VICTIMS

# Each JSON escape letter, and the control character it decodes to.
EATEN = {"\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
NEVER_TEXT = {"\b", "\f"}  # no problem statement means these; the others may be real line breaks
# Commands beginning with those letters that KaTeX renders and YAML's own list does not name.
MORE_COMMANDS = {
    "backslash", "bf", "bigl", "bigr", "bmod", "boldsymbol", "bigoplus", "bigotimes", "blacksquare", "fbox",
    "newline", "nexists", "ngeq", "ni", "nleq", "nmid", "rbrace", "rbrack", "rm", "rvert", "tanh", "textstyle",
    "tilde", "tiny", "triangleq", "tfrac", "textnormal", "thinspace", "nolimits", "neq",
}
COMMANDS = frozenset(name for name in LATEX_ESCAPE_VICTIMS | MORE_COMMANDS if name[0] in EATEN.values())
_EATEN_COMMAND = re.compile("([" + "".join(EATEN) + "])([A-Za-z]+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def restore_eaten_escapes(text: str) -> str:
    """``text`` with each control character that began a LaTeX command turned back into a backslash."""
    if not any(char in text for char in EATEN):
        return text

    def fix(match: re.Match) -> str:
        char, rest = match.group(1), match.group(2)
        name = EATEN[char] + rest
        if name not in COMMANDS:
            return match.group(0)
        in_math = text.count("$", 0, match.start()) % 2 == 1
        before_brace = text.startswith("{", match.end())
        if char in NEVER_TEXT or in_math or before_brace:
            return "\\" + name
        return match.group(0)

    return _EATEN_COMMAND.sub(fix, text)


def markup_problems(where: str, text: str) -> list[str]:
    """Why ``text`` would not read as written maths: empty when it is fine."""
    problems = []
    control = _CONTROL.search(text.replace("\n", "").replace("\t", ""))
    if control:
        problems.append(f"{where} contains the control character {control.group(0)!r} (LaTeX that lost its "
                        f"backslash?): {text!r}")
    dollars = len(re.findall(r"(?<!\\)\$", text))
    if dollars % 2:
        problems.append(f"{where} has an odd number of $ signs, so its maths does not end: {text!r}")
    else:
        for span in re.findall(r"(?<!\\)\$(.*?)(?<!\\)\$", text, flags=re.S):
            if not _balanced(span):
                problems.append(f"{where} has unbalanced braces in ${span}$")
    return problems


def _balanced(tex: str) -> bool:
    depth = 0
    for i, char in enumerate(tex):
        if char in "{}" and i and tex[i - 1] == "\\":
            continue  # \{ and \} are literal braces
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
