"""A horizontal bar as inline SVG, for the charts the pages draw themselves.

The student's mastery chart and the class's misconception chart were Gradio ``BarPlot``s. Its
Vega view does not follow every update: after a prop changes with the data (colours, sort
order, the colour domain), it kept drawing the previous data, so the student's chart showed
0.2 while the legend beside it said 60%, and the misconception chart went blank on another
unit with the old unit's legend. A bar drawn here from the same numbers as the words beside it
cannot disagree with them, needs no script, scales with the column and reads on a phone.
"""

from __future__ import annotations

import html
from collections.abc import Sequence


def svg_bar(fraction: float, *, label: str, css_class: str = "", colour: str | None = None,
            marks: Sequence[float] = ()) -> str:
    """A bar filled to ``fraction`` (0 to 1) of its width; ``label`` is what a screen reader
    says; ``marks`` are thin ticks at fractions (a level's threshold)."""
    share = min(max(float(fraction), 0.0), 1.0)
    width = f"{100 * share:.2f}".rstrip("0").rstrip(".")
    fill = f' style="fill:{colour}"' if colour else ""
    ticks = "".join(f'<line class="bar-mark" x1="{100 * m:g}" x2="{100 * m:g}" y1="0" y2="10"></line>' for m in marks)
    classes = f"bar {css_class}".strip()
    return (f'<svg class="{classes}" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
            f'aria-label="{html.escape(label)}" data-share="{share:.4f}">'
            f'<rect class="bar-track" width="100" height="10" rx="2"></rect>'
            f'<rect class="bar-fill" width="{width}" height="10" rx="2"{fill}></rect>{ticks}</svg>')
