"""The school-math subset of LaTeX as plain HTML, for worksheets that must print offline.

Curricula write math as ``$...$`` LaTeX, which the browser UI renders with KaTeX. A printed
worksheet is a single self-contained file (no scripts, no fonts to fetch), so the few commands
worksheets use are turned into HTML here: fractions, powers and indices, operators, roots,
units in ``\\text{}``. Anything else loses only its backslash, so nothing silently disappears.
"""

from __future__ import annotations

import html
import re

_MATH = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)", re.DOTALL)

_SYMBOLS = {
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "neq": "≠", "ne": "≠", "approx": "≈", "pi": "π", "theta": "θ", "alpha": "α", "beta": "β", "Delta": "Δ",
    "infty": "∞", "circ": "°", "degree": "°", "%": "%", "rightarrow": "→", "to": "→", "Rightarrow": "⇒",
    "ldots": "…", "dots": "…", "cdots": "⋯", ",": " ", ";": " ", ":": " ", "quad": " ", "qquad": "  ",
    "!": "", "left": "", "right": "", "{": "{", "}": "}", "$": "$", "lt": "<", "gt": ">",
}


def _group(text: str, start: int) -> tuple[str, int]:
    """The argument at ``start``: a {braced group} or a single character; (argument, end)."""
    while start < len(text) and text[start] == " ":
        start += 1
    if start >= len(text):
        return "", start
    if text[start] == "\\":
        command = re.match(r"\\([A-Za-z]+|.?)", text[start:]).group(0)
        return command, start + len(command)
    if text[start] != "{":
        return text[start], start + 1
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
    return text[start + 1:], len(text)


def latex_to_html(tex: str) -> str:
    """One math expression (without its ``$``) as escaped HTML."""
    out: list[str] = []
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            match = re.match(r"\\([A-Za-z]+|.?)", tex[i:])
            name = match.group(1) or "\\"
            i += len(match.group(0))
            if name in ("frac", "dfrac", "tfrac"):
                top, i = _group(tex, i)
                bottom, i = _group(tex, i)
                out.append(f'<span class="frac"><span class="num">{latex_to_html(top)}</span>'
                           f'<span class="den">{latex_to_html(bottom)}</span></span>')
            elif name == "sqrt":
                arg, i = _group(tex, i)
                out.append(f'√<span class="radicand">{latex_to_html(arg)}</span>')
            elif name in ("text", "mathrm", "textrm", "operatorname", "mbox"):
                arg, i = _group(tex, i)
                out.append(f'<span class="text">{html.escape(arg)}</span>')
            elif name in _SYMBOLS:
                out.append(html.escape(_SYMBOLS[name]))
            else:
                out.append(html.escape(name))
        elif ch in "^_":
            arg, i = _group(tex, i + 1)
            if ch == "^" and arg.strip() == "\\circ":
                out.append("°")
            else:
                tag = "sup" if ch == "^" else "sub"
                out.append(f"<{tag}>{latex_to_html(arg)}</{tag}>")
        elif ch in "{}":
            i += 1
        elif ch.isalpha():
            out.append(f"<i>{ch}</i>")
            i += 1
        elif ch in "+-=<>":
            symbol = {"-": "−"}.get(ch, ch)
            out.append(f" {html.escape(symbol)} " if ch != "-" or (out and out[-1].strip() not in ("", "(")) else "−")
            i += 1
        else:
            out.append(html.escape(ch))
            i += 1
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def text_to_html(text: str) -> str:
    """Prose with ``$...$`` math: the prose escaped, the math converted."""
    parts: list[str] = []
    last = 0
    for match in _MATH.finditer(text):
        parts.append(html.escape(text[last:match.start()]))
        tex = next(g for g in match.groups() if g is not None)
        parts.append(f'<span class="math">{latex_to_html(tex)}</span>')
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts).replace("\\$", "$")
