"""The school-math subset of LaTeX as plain HTML, for worksheets that must print offline.

Curricula write math as ``$...$`` LaTeX, which the browser UI renders with KaTeX. A printed
worksheet is a single self-contained file (no scripts, no fonts to fetch), so the few commands
worksheets use are turned into HTML here: fractions, powers and indices, operators, roots,
units in ``\\text{}``. Anything else loses only its backslash, so nothing silently disappears.
The commands and symbols are the ones the answer checker and the leak guard read
(``checking.notation``), so a worksheet prints what the checker would accept.
"""

from __future__ import annotations

import html
import re

from ..checking.notation import (FRACTION_COMMANDS, LATEX_ESCAPES, LATEX_SIZING, LATEX_SPACING, LATEX_SYMBOLS,
                                 STYLE_COMMANDS, TEXT_COMMANDS, WRAPPER_COMMANDS, read_group)

_MATH = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)", re.DOTALL)


def _symbol(name: str) -> str | None:
    """What a symbol, spacing or escape command prints as, or None for other commands."""
    for table in (LATEX_SYMBOLS, LATEX_SPACING, LATEX_ESCAPES):
        if name in table:
            return table[name]
    return "" if name in LATEX_SIZING or name in STYLE_COMMANDS else None


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
            if name in FRACTION_COMMANDS:
                top, i = read_group(tex, i)
                bottom, i = read_group(tex, i)
                out.append(f'<span class="frac"><span class="num">{latex_to_html(top)}</span>'
                           f'<span class="den">{latex_to_html(bottom)}</span></span>')
            elif name == "sqrt":
                arg, i = read_group(tex, i)
                out.append(f'√<span class="radicand">{latex_to_html(arg)}</span>')
            elif name in TEXT_COMMANDS:
                arg, i = read_group(tex, i)
                out.append(f'<span class="text">{html.escape(arg)}</span>')
            elif name in WRAPPER_COMMANDS:
                arg, i = read_group(tex, i)
                out.append(latex_to_html(arg))
            elif name == "color":
                _, i = read_group(tex, i)
            elif (symbol := _symbol(name)) is not None:
                out.append(html.escape(symbol))
            else:
                out.append(html.escape(name))
        elif ch in "^_":
            arg, i = read_group(tex, i + 1)
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
