"""A conversation's transcript on the teacher's Transcripts page, from the dashboard's shapes.

The student's messages are drawn with the same correction card the student saw (errors marked
and numbered, the corrected sentence, one line per error with its category), so teacher and
student never read two versions of one correction. Between the turns, a line where the level
moved (with the reason the student was given) and where a goal was met. Everything typed or
generated is escaped.
"""

from __future__ import annotations

import html

from ..curriculum.schema import CEFR_LEVELS
from ..dialogue.phrases import language_name
from ..language.corrections import short_label
from .conversation_render import correction_card, goals_html, marked_original

CONVERSATION_PREFIX = "conversation:"  # transcript choices that name a conversation, not a tutoring session

# What the teacher is told about a message that was not corrected (the student's card says it to them).
UNCHECKED = {
    "other-language": "Not corrected: written in the student's own language (a question to the character).",
    "failed": "Not corrected: the model failed on this message.",
    "unavailable": "Not corrected: no model was running.",
    "pending": "Not corrected yet.",
    "rules": "Checked by the unit's rules only (the model was off): none of its usual errors.",
}


def _e(text: str | None) -> str:
    return html.escape(text or "")


def _when(at) -> str:
    return at.astimezone().strftime("%H:%M:%S")


def conversation_label(c) -> str:
    when = c.updated_at.astimezone().strftime("%d %b %H:%M")
    corrections = f"{c.corrected} with corrections" if c.messages else "no messages yet"
    return (f"{c.student} · conversation: {c.title} · level {c.level} · {c.messages} "
            f"message{'s' if c.messages != 1 else ''}, {corrections} · {when}")


def _student(entry, student: str, target_language: str) -> str:
    c = entry.correction
    if c is not None and (c.status == "checked" or c.errors):
        body = correction_card(c, target_language=target_language, latest=True, writer=student)
    else:
        note = UNCHECKED.get(c.status if c is not None else "pending", "")
        original = marked_original(c) if c is not None else _e(entry.text)
        body = (f"<div class=\"correction-card latest status-other\"><div class=\"correction-original\">{original}"
                f"</div><div class=\"correction-note\">{_e(note)}</div></div>")
    return (f"<div class=\"tx-turn tx-student\"><div class=\"tx-meta\">{_when(entry.at)} · {_e(student)} · "
            f"{_e(entry.level)}</div>{body}</div>")


def _character(entry) -> str:
    badges = []
    if entry.simplified:
        badges.append("<span class=\"badge\">asked again: simpler</span>")
    if entry.too_hard:
        badges.append("<span class=\"badge badge-now\">above the level</span>")
    if not entry.complete:
        badges.append("<span class=\"badge\">stopped early</span>")
    translated = ""
    if entry.translation:
        why = f"<div class=\"translation-why\">{_e(entry.explanation)}</div>" if entry.explanation else ""
        translated = (f"<div class=\"tx-translation\"><span class=\"tx-label\">The student asked for a "
                      f"translation:</span> {_e(entry.translation)}{why}</div>")
    return (f"<div class=\"tx-turn tx-character\"><div class=\"tx-meta\">{_when(entry.at)} · character · "
            f"{_e(entry.level)} {''.join(badges)}</div><div class=\"tx-text\">{_e(entry.text)}</div>"
            f"{translated}</div>")


def _level(entry) -> str:
    easier = entry.level_from in CEFR_LEVELS and CEFR_LEVELS.index(entry.level_from) > CEFR_LEVELS.index(entry.level)
    direction = "easier" if easier else "harder"
    reason = f" <span class=\"tx-reason\">The student read: “{_e(entry.text)}”</span>" if entry.text else ""
    return (f"<div class=\"tx-event tx-level\"><b>Level {_e(entry.level_from)} → {_e(entry.level)}</b> "
            f"({direction}).{reason}</div>")


def _goal(entry) -> str:
    return (f"<div class=\"tx-event tx-goal\"><span class=\"tick\">&#10003;</span> Goal met: "
            f"<b>{_e(entry.text)}</b></div>")


def conversation_transcript_markdown(t) -> str:
    """For the Transcripts page's Markdown: a heading, the scene and goals, then every entry."""
    c = t.conversation
    moved = f" (the unit starts at {_e(c.unit_level)})" if c.unit_level and c.unit_level != c.level else ""
    language = f"{language_name(t.target_language)} conversation" if t.target_language else "Conversation"
    lines = [f"### {_e(c.student)} — {_e(c.title)}",
             f"{language} · level now **{_e(c.level)}**{moved} · {c.messages} messages, {c.corrected} with "
             f"corrections ({c.errors} error{'s' if c.errors != 1 else ''}) · goals {c.goals_met} of {c.goals} · "
             f"started {c.started_at.astimezone():%d %b %Y %H:%M}", ""]
    by_category = error_summary(t)
    if by_category:
        chips = "".join(f"<span class=\"cat-chip\">{_e(name)} × {n}</span> " for name, n in by_category)
        lines += [f"<div class=\"tx-categories\">Corrections by category: {chips}</div>", ""]
    side = []
    if t.scenario:
        side.append(f"<div class=\"convo-scene\"><p>{_e(t.scenario)}</p><p class=\"convo-who\"><b>Character:</b> "
                    f"{_e(t.character)}</p></div>")
    side.append(goals_html(t.goals))
    lines += ["<div class=\"tx-head\">" + "".join(side) + "</div>", ""]
    drawn = []
    for entry in t.entries:
        if entry.kind == "student":
            drawn.append(_student(entry, c.student, t.target_language))
        elif entry.kind == "character":
            drawn.append(_character(entry))
        elif entry.kind == "level":
            drawn.append(_level(entry))
        else:
            drawn.append(_goal(entry))
    lines.append("<div class=\"tx-convo\">" + "".join(drawn) + "</div>")
    return "\n".join(lines)


def error_summary(t) -> list[tuple[str, int]]:
    """(category name, errors) of the conversation, most frequent first: what to work on next."""
    counts: dict[str, int] = {}
    for entry in t.entries:
        for error in (entry.correction.errors if entry.correction else []):
            name = short_label(error.category_label)
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
