"""Markdown and HTML for the teacher's pages, from plain data (no Gradio, no database).

The mastery heatmap is an HTML table coloured here rather than a plotting library's heatmap:
it stays readable with many students, needs nothing beyond the browser, and each cell carries
its number so that colour is never the only cue.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..runtime.protocol import GenerationStats, ModelInfo
from ..storage.database import StorageHealth


def mastery_colour(p: float | None) -> str:
    """Red (0) through amber (0.5) to green (1); grey when the student never practised the skill."""
    if p is None:
        return "#f1f5f9"
    p = min(max(float(p), 0.0), 1.0)
    # two linear ramps: rose-100 -> amber-100 -> green-200, light enough for dark text
    stops = [(0.0, (254, 205, 211)), (0.5, (254, 243, 199)), (1.0, (187, 247, 208))]
    for (p0, c0), (p1, c1) in zip(stops, stops[1:]):
        if p <= p1:
            t = (p - p0) / (p1 - p0)
            r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#bbf7d0"


def heatmap_html(mastery: Mapping[str, Mapping[str, float]], skills: Sequence[tuple[str, str]],
                 *, threshold: float) -> str:
    """``mastery``: student -> skill id -> probability; ``skills``: (id, name) columns in order."""
    if not mastery:
        return "<div class=\"empty-note\">No student has practised yet. Mastery appears here after the first answers.</div>"
    head = "".join(f"<th title=\"{html.escape(sid)}\">{html.escape(name)}</th>" for sid, name in skills)
    rows = []
    for student in sorted(mastery, key=str.lower):
        cells = []
        for sid, _ in skills:
            p = mastery[student].get(sid)
            text = "–" if p is None else f"{p:.2f}"
            mark = " ✓" if p is not None and p >= threshold else ""
            cells.append(f"<td style=\"background:{mastery_colour(p)}\">{text}{mark}</td>")
        rows.append(f"<tr><th class=\"student\">{html.escape(student)}</th>{''.join(cells)}</tr>")
    legend = ("<div class=\"heat-legend\"><span style=\"background:#fecdd3\">0 not yet</span>"
              "<span style=\"background:#fef3c7\">0.5 learning</span>"
              f"<span style=\"background:#bbf7d0\">1 mastered (✓ ≥ {threshold:g})</span></div>")
    return (f"<div class=\"heatmap-wrap\"><table class=\"heatmap\"><thead><tr><th>Student</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>{legend}")


def shown_path(file: object, root: Path | None) -> str:
    path = Path(str(file))
    if root is not None:
        try:
            return str(path.resolve().relative_to(Path(root).resolve()))
        except ValueError:
            pass
    return str(path)


def error_line(err: object) -> str:
    """One error under its file's heading: ``line 12: problems[0].check: unknown checker``.
    Errors without those parts are shown whole."""
    message = getattr(err, "message", None)
    if not message:
        return str(err)
    line, path = getattr(err, "line", None), getattr(err, "path", "")
    return (f"line {line}: " if line else "") + (f"{path}: " if path else "") + message


def load_report_markdown(units: Mapping[str, object], errors: Sequence[object], root: Path | None = None,
                         conversations: Mapping[str, object] | None = None) -> str:
    """Loaded units (and conversation units) and the validation errors, grouped by file so a
    teacher fixes one file at a time."""
    loaded = f"{len(units)} unit{'s' if len(units) != 1 else ''}"
    if conversations:
        loaded += f" and {len(conversations)} conversation unit{'s' if len(conversations) != 1 else ''}"
    lines = [f"**{loaded} loaded**"
             + (f" · **{len(errors)} problem{'s' if len(errors) != 1 else ''} in files**" if errors else " · all files valid")]
    if errors:
        by_file: dict[str, list[str]] = {}
        for err in errors:
            by_file.setdefault(shown_path(getattr(err, "file", "?"), root), []).append(error_line(err))
        lines.append("")
        for file, messages in sorted(by_file.items()):
            items = "".join(f"<li>{html.escape(m)}</li>" for m in messages)
            lines.append(f"<div class=\"file-errors\"><div class=\"file-name\">{html.escape(file)}</div>"
                         f"<ul>{items}</ul></div>")
    return "\n".join(lines)


def measured_speed_html(info: ModelInfo, measured) -> str:
    """The decode measured on this machine (``runtime.speed``) beside the planner's estimate."""
    if measured is None:
        return ("not measured yet: the app times a short reply of a model it runs itself in its first minute"
                if info.backend == "llama.cpp" else "–")
    when = measured.when.astimezone().strftime("%d %b %Y %H:%M")
    estimate = (f" (the planner estimated {measured.estimated_tokens_per_s:g}; its estimates for this machine now "
                f"use the measurement)" if measured.estimated_tokens_per_s else "")
    return f"<b>{measured.measured_tokens_per_s:g} tokens/s</b> on {when}{estimate}"


def model_markdown(info: ModelInfo, *, waiting: int, recent: Iterable[GenerationStats], measured=None) -> str:
    speeds = [s.decode_tokens_per_s for s in recent if s.decode_tokens_per_s]
    status = ("<span class=\"status-ok\">running</span>" if info.available
              else "<span class=\"status-off\">not available</span>")
    speed = (f"{sum(speeds) / len(speeds):.1f} tokens/s (last {len(speeds)} turn{'s' if len(speeds) != 1 else ''})"
             if speeds else "no tutor turns yet")
    facts = [
        ("Status", status),
        ("Backend", html.escape(info.backend)),
        ("Model file", f"<code>{html.escape(info.path)}</code>" if info.path else "–"),
        ("Context size", f"{info.n_ctx:,} tokens" if info.n_ctx else "–"),
        ("Offload plan", html.escape(info.offload_plan) or "–"),
        ("Queue", f"{waiting} waiting"),
        ("Speed", speed),
        ("Measured here", measured_speed_html(info, measured)),
    ]
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    parts = [f"<div class=\"model-card\"><div class=\"model-name\">{html.escape(info.name)}</div>"
             f"<dl class=\"facts\">{rows}</dl></div>"]
    if not info.available and info.problem:
        parts.append(f"<div class=\"feedback verdict-incorrect\">\n\n{html.escape(info.problem)}\n\n</div>")
    return "\n\n".join(parts)


def storage_markdown(health: StorageHealth) -> str:
    """The database's state for the teacher: empty while all is well; the cause while writes fail
    (students are being told their work was not saved), and the last failure after recovery."""
    if health.cause is None:
        return ""
    when = health.failed_at.astimezone().strftime("%H:%M:%S on %d %b") if health.failed_at else "recently"
    cause = html.escape(health.cause)
    if not health.ok:
        return (f"<div class=\"feedback verdict-incorrect\">\n\n**The database cannot store anything**: {cause}. "
                f"{health.failures} student action(s) were not saved since {when}; students are told to try again. "
                "It works again as soon as this is fixed (free disk space, or make the data folder writable); "
                "no restart is needed.\n\n</div>")
    back = health.recovered_at.astimezone().strftime("%H:%M:%S") if health.recovered_at else ""
    return (f"<div class=\"feedback verdict-pending\">\n\nThe database failed at {when} ({cause}): "
            f"{health.failures} student action(s) were not saved. It has stored again since {back}.\n\n</div>")
