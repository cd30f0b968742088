"""The look of the app: one calm theme and a little CSS for what a theme cannot say.

Fonts are the system's own stacks, never web fonts: schools often run the tutor without
internet, and a page waiting on fonts.googleapis.com renders late or not at all.
Verdict colours are fixed here so that the student view, the teacher view and the tests
agree on what green, amber and red mean.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

CSS_PATH = Path(__file__).with_name("style.css")

LOGO = ("<svg class=\"logo\" viewBox=\"0 0 32 32\" width=\"30\" height=\"30\" aria-hidden=\"true\">"
        "<rect width=\"32\" height=\"32\" rx=\"8\" fill=\"#4f46e5\"/>"
        "<path d=\"M8 22h5v-5h5v-5h6\" stroke=\"white\" stroke-width=\"3\" fill=\"none\" stroke-linecap=\"round\" "
        "stroke-linejoin=\"round\"/></svg>")

# verdict -> (label shown to the student, css class); colours live in style.css
VERDICT_LABELS: dict[str, str] = {
    "correct": "Correct",
    "incorrect": "Not quite",
    "misconception": "Let's look at that again",
    "invalid": "I couldn't read that",
    "pending": "Saved for the teacher or the tutor: waiting to be read",
    "graded": "Read and graded",  # an open answer once the tutor or the teacher has graded it
}

LATEX_DELIMITERS = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "$", "right": "$", "display": False},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "\\[", "right": "\\]", "display": True},
]


def create_theme() -> gr.themes.Base:
    theme = gr.themes.Soft(
        primary_hue="indigo",
        secondary_hue="sky",
        neutral_hue="slate",
        radius_size="md",
        font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
              "Arial", "sans-serif"),
        font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"),
    )
    return theme.set(
        body_background_fill="*neutral_100",
        # the sign-in page is drawn before our CSS loads (it needs the sign-in), so its colours come from here
        background_fill_primary="*neutral_100",
        block_border_width="1px",
        block_border_color="*neutral_200",
        block_shadow="0 1px 2px 0 rgb(15 23 42 / 0.05)",
        block_title_text_weight="600",
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        button_primary_text_color="white",
        button_large_radius="*radius_md",
    )


def load_css() -> str:
    """``style.css``, then the other stylesheets beside it (``charts.css``...) in name order."""
    others = sorted(p for p in CSS_PATH.parent.glob("*.css") if p != CSS_PATH)
    return "\n".join(p.read_text(encoding="utf-8") for p in [CSS_PATH, *others])
