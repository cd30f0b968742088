"""HTML for the Conversation tab, from the language service's shapes (no Gradio, no database).

Everything a student typed and everything the model wrote is escaped: the character's lines,
the corrections and the translations are text, never markup. The corrections are drawn as the
student's message with each error marked and numbered, the corrected message with what changed
underlined, and one line per error (its category, the fix, the explanation), newest first, so
they never mix with what the character says.
"""

from __future__ import annotations

import difflib
import html
import re
from typing import Sequence

from ..dialogue.phrases import language_name
from ..language.corrections import short_label
from ..language.shapes import ConversationState, CorrectionView, GoalView, TranslationResult, VocabularyView

WELCOME = ("<div class=\"convo-welcome\"><h3>Practise a conversation</h3><p>Choose a conversation and press "
           "<b>Start</b>. You talk with a character in the language you are learning; every message you send "
           "gets corrections beside the chat, and the character speaks at your level.</p></div>")
_TOKEN = re.compile(r"\S+")


def _e(text: str) -> str:
    return html.escape(text or "")


def scenario_html(state: ConversationState | None) -> str:
    if state is None:
        return WELCOME
    return (f"<div class=\"convo-scene\"><div class=\"convo-kicker\">{_e(language_name(state.target_language))} · "
            f"conversation</div><h3>{_e(state.title)}</h3><p>{_e(state.scenario)}</p>"
            f"<p class=\"convo-who\"><b>You are talking with:</b> {_e(state.character)}</p></div>")


def level_html(state: ConversationState | None, reason: str = "") -> str:
    if state is None:
        return ""
    moved = ""
    if state.level != state.unit_level:
        moved = f" <span class=\"level-from\">(the unit starts at {_e(state.unit_level)})</span>"
    note = reason or ("The level moves with your messages: few corrections make the conversation harder, "
                      "many make it easier.")
    return (f"<div class=\"level-card\"><span class=\"level-badge\" title=\"CEFR level\">{_e(state.level)}</span>"
            f"<div><div class=\"level-title\">Your level now{moved}</div>"
            f"<div class=\"level-note\">{_e(note)}</div></div></div>")


def goals_html(goals: Sequence[GoalView]) -> str:
    if not goals:
        return ""
    done = sum(1 for g in goals if g.done)
    items = "".join(
        f"<li class=\"goal{' goal-done' if g.done else ''}\"><span class=\"goal-box\" aria-hidden=\"true\">"
        f"{'&#10003;' if g.done else ''}</span><span>{_e(g.description)}</span>"
        f"<span class=\"sr-only\">{' (done)' if g.done else ''}</span></li>"
        for g in goals)
    return (f"<div class=\"goals-card\"><div class=\"convo-kicker\">Goals · {done} of {len(goals)} done</div>"
            f"<ul class=\"goal-list\">{items}</ul></div>")


def vocabulary_html(words: Sequence[VocabularyView]) -> str:
    if not words:
        return ""
    chips = "".join(f"<span class=\"vocab\"><b>{_e(w.word)}</b>"
                    + (f"<span class=\"vocab-tr\">{_e(w.translation)}</span>" if w.translation else "") + "</span>"
                    for w in words)
    # Folded by default: the list is long, and the chat and the corrections come first on a phone.
    return (f"<details class=\"vocab-card\"><summary class=\"convo-kicker\">Words for this scene ({len(words)})"
            f"</summary><div class=\"vocab-chips\">{chips}</div></details>")


def marked_original(correction: CorrectionView) -> str:
    """The student's message, escaped, each error span in a numbered ``<mark>``."""
    text = correction.original
    out, at = [], 0
    for n, error in enumerate(sorted(correction.errors, key=lambda e: e.start), start=1):
        if error.start < at or error.end > len(text):
            continue  # never happens with validated spans; a broken one is left unmarked
        out.append(_e(text[at:error.start]))
        out.append(f"<mark class=\"err\">{_e(text[error.start:error.end])}<sup>{n}</sup></mark>")
        at = error.end
    out.append(_e(text[at:]))
    return "".join(out)


def marked_corrected(original: str, corrected: str) -> str:
    """The corrected message, escaped, with the words that differ from the original underlined."""
    before, after = _TOKEN.findall(original), _TOKEN.findall(corrected)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=[w.casefold() for w in before], b=[w.casefold() for w in after],
                                      autojunk=False)
    for op, _a0, _a1, b0, b1 in matcher.get_opcodes():
        piece = " ".join(_e(w) for w in after[b0:b1])
        if not piece:
            continue
        out.append(piece if op == "equal" else f"<ins>{piece}</ins>")
    return " ".join(out)


STATUS_NOTES = {
    "pending": "Checking your message…",
    "rules": "Checked for this unit's usual mistakes only (the tutor model is not checking right now).",
    "failed": "This message couldn't be checked this time (the model had a problem). Your message is saved.",
    "unavailable": "Not checked: no model is running right now. Your message is saved.",
}


def correction_card(correction: CorrectionView, *, target_language: str, latest: bool = False,
                    writer: str = "You") -> str:
    """``writer``: who the card says wrote the message (the teacher's transcript names the student)."""
    classes = "correction-card" + (" latest" if latest else "")
    head = f"<div class=\"correction-original\">{marked_original(correction)}</div>"
    if correction.status == "other-language":
        note = (f"Not corrected: this looks like a question in your own language, not "
                f"{_e(language_name(target_language))}. That's fine, the character will help.")
        return f"<div class=\"{classes} status-other\">{head}<div class=\"correction-note\">{note}</div></div>"
    if correction.status != "checked" and not correction.errors:
        note = STATUS_NOTES.get(correction.status, "")
        return (f"<div class=\"{classes} status-{_e(correction.status)}\">{head}"
                f"<div class=\"correction-note\">{_e(note)}</div></div>")
    if not correction.errors:
        return (f"<div class=\"{classes} status-clean\">{head}<div class=\"correction-note good\">"
                f"<span class=\"tick\">&#10003;</span> No corrections: well said!</div></div>")
    fixed = marked_corrected(correction.original, correction.corrected)
    items = "".join(
        f"<li><span class=\"cat-chip\" title=\"{_e(e.category_label)}\">{_e(short_label(e.category_label))}</span> "
        f"<span class=\"was\">{_e(e.span)}</span> → <span class=\"now\">{_e(e.correction) or '(remove)'}</span>"
        f"<div class=\"why\">{_e(e.explanation)}</div></li>"
        for e in sorted(correction.errors, key=lambda e: e.start))
    count = len(correction.errors)
    note = (f"<div class=\"correction-note\">{_e(STATUS_NOTES[correction.status])}</div>"
            if correction.status in ("rules",) else "")
    return (f"<div class=\"{classes}\"><div class=\"correction-kicker\">{_e(writer)} wrote · {count} "
            f"correction{'s' if count != 1 else ''}</div>{head}"
            f"<div class=\"correction-kicker\">Corrected</div><div class=\"correction-fixed\">{fixed}</div>"
            f"<ol class=\"error-list\">{items}</ol>{note}</div>")


def corrections_html(state: ConversationState | None, *, pending: str | None = None) -> str:
    """Every student message's correction, newest first; ``pending``: a message sent, not yet checked."""
    if state is None:
        return ""
    cards = []
    if pending:
        cards.append(correction_card(CorrectionView(turn_id=0, original=pending, corrected=pending, status="pending"),
                                     target_language=state.target_language, latest=True))
    for turn in reversed(state.turns):
        if turn.role == "student" and turn.correction is not None:
            cards.append(correction_card(turn.correction, target_language=state.target_language,
                                         latest=not cards))
    if not cards:
        body = ("<div class=\"empty-note\">Your corrections appear here: what you wrote with the mistakes "
                "marked, the corrected sentence, and why.</div>")
    else:
        body = "".join(cards)
    return f"<div class=\"corrections\">{body}</div>"


def chat_messages(state: ConversationState | None) -> list[dict]:
    """The turns as the Chatbot shows them: the character on the left, the student on the right."""
    if state is None:
        return []
    return [{"role": "user" if t.role == "student" else "assistant", "content": t.text} for t in state.turns]


TRANSLATE_HINT = ("<div class=\"translation-hint\">Not sure what the character said? Click one of their "
                  "messages, or press <b>Translate / explain</b> for the latest one.</div>")


def translation_html(result: TranslationResult | None) -> str:
    if result is None:
        return TRANSLATE_HINT
    explanation = f"<div class=\"translation-why\">{_e(result.explanation)}</div>" if result.explanation else ""
    return (f"<div class=\"translation-card\"><div class=\"translation-line\">{_e(result.text)}</div>"
            f"<div class=\"translation-text\">{_e(result.translation)}</div>{explanation}</div>")
