"""The student's mastery card: one bar per skill with its level in words, progress marked when a
skill reaches a new level, and a key that says what the colours and words mean.

Each bar, its percentage, its words and its colour come from one ``MasteryRow``, and the key is
drawn from the same table of levels (``engine.mastery_levels.LEVELS``) that names them, so the
chart and its key cannot disagree (``bar_chart`` says why the chart is not a ``BarPlot``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..engine.mastery_levels import LEVELS, LevelChange, MasteryLevel, level_changes, mastery_level
from .bar_chart import svg_bar

TITLE = "Your mastery of this unit"
LEVEL_COLOURS = {"starting": "#94a3b8", "getting-there": "#f59e0b", "solid": "#6366f1", "mastered": "#16a34a"}
LEVEL_MARKS = tuple(level.floor for level in LEVELS if level.floor > 0)  # ticks where a new level begins


@dataclass(frozen=True)
class MasteryRow:
    skill_id: str
    name: str
    p_known: float
    level: MasteryLevel
    reached: bool = False  # the last action took the skill up to this level

    @property
    def percent(self) -> int:
        """Rounded down, so the number never claims a level the words do not (69.7% is "69%
        getting there", not "70% getting there")."""
        return math.floor(100 * self.p_known + 1e-9)


def mastery_rows(mastery: Mapping[str, float], skill_names: Mapping[str, str],
                 reached: Iterable[str] = ()) -> list[MasteryRow]:
    """Every skill of the unit in its order (its starting estimate when not yet practised), then any
    stored skill the unit no longer lists; ``reached``: skills that just climbed a level."""
    names = dict(skill_names)
    names.update({sid: sid for sid in mastery if sid not in names})
    climbed = set(reached)
    rows = []
    for sid, name in names.items():
        p = round(float(mastery.get(sid, 0.0)), 6)  # 0.59999999 from the update is 60%, as the engine means
        rows.append(MasteryRow(sid, name, p, mastery_level(p), sid in climbed))
    return rows


def rising(before: Mapping[str, float], after: Mapping[str, float]) -> list[LevelChange]:
    """The skills that went up a level between two sets of estimates (a drop is not marked)."""
    return [change for change in level_changes(before, after) if change.up]


def mastery_chart_html(rows: list[MasteryRow]) -> str:
    if not rows:
        return ""
    items = []
    for row in rows:
        words = f"{row.percent}% · {row.level.label}"
        badge = (f'<span class="badge badge-progress">new level: {html.escape(row.level.label)}</span>'
                 if row.reached else "")
        tick = " ✓" if row.level.id == "mastered" else ""
        bar = svg_bar(row.p_known, label=f"{row.name}: {words}", css_class=f"level-{row.level.id}",
                      colour=LEVEL_COLOURS[row.level.id], marks=LEVEL_MARKS)
        items.append(
            f'<li class="mastery-row level-{row.level.id}{" reached" if row.reached else ""}" '
            f'data-skill="{html.escape(row.skill_id)}" data-percent="{row.percent}">'
            f'<div class="mastery-name">{html.escape(row.name)}{tick}{badge}</div>{bar}'
            f'<div class="mastery-words"><b>{row.percent}%</b> {html.escape(row.level.label)}</div></li>')
    reached = [row for row in rows if row.reached]
    news = ""
    if reached:
        lines = "; ".join(f"{html.escape(row.name)} is now <b>{html.escape(row.level.label)}</b>" for row in reached)
        news = f'<div class="mastery-news" role="status">Progress! {lines}.</div>'
    return (f'<div class="mastery-chart"><div class="mastery-title">{TITLE}</div>{news}'
            f'<ul class="mastery-rows">{"".join(items)}</ul></div>')


def mastery_key_html() -> str:
    """The key: each level's colour, words and range, from the same table the bars use."""
    bounds = [level.floor for level in LEVELS[1:]] + [None]
    items = []
    for level, upper in zip(LEVELS, bounds):
        span = (f"{round(100 * level.floor)}% and above" if upper is None
                else f"below {round(100 * upper)}%" if level.floor == 0
                else f"{round(100 * level.floor)}-{round(100 * upper)}%")
        items.append(f'<span class="legend-item" data-level="{level.id}"><span class="swatch" '
                     f'style="background:{LEVEL_COLOURS[level.id]}"></span>{html.escape(level.label)} '
                     f'<span class="muted">{span}</span></span>')
    return f'<div class="mastery-legend">{"".join(items)}</div>'
