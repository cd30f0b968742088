"""The teacher's model page: which model runs where, how fast, and how many students wait.

Read live from the model queue on every refresh; nothing is cached, because the point of
the page is to see the queue while a class is using it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from ..bootstrap import Services
from ..runtime.protocol import GenerationStats, ServedModel
from ..runtime.speed import SpeedRecords
from .api import FAST
from .auth import SignIn
from .download_panel import create_download_panel
from .errors import page_handler
from .teacher_guard import require_teacher
from .teacher_render import model_markdown

MIXTRAL_HOWTO = (
    "**Better tutor replies.** The built-in model is tiny: it proves the set-up works, and checking, hints and "
    "mastery do not depend on it. For real tutoring, download Mixtral 8x7B (the largest quant that fits this "
    "machine and reaches the minimum speed, `--min-tokens-per-s`, is chosen for you) and restart with it:\n\n"
    "```\npython app.py --download auto\npython app.py --model <the name it printed> --n-gpu-layers auto\n```\n\n"
    "`python app.py --list-models` shows which quants fit this machine; the download below does the same "
    "from this page."
)

STATS_COLUMNS = ["turn", "prompt tokens", "reused tokens", "reply tokens", "first token (s)", "total (s)", "tokens/s"]


@dataclass
class ModelPanel:
    summary: gr.Markdown
    stats: gr.Dataframe
    refresh: gr.Button

    @property
    def outputs(self) -> list:
        return [self.summary, self.stats]


def stats_frame(recent: list[GenerationStats]) -> pd.DataFrame:
    rows = []
    for n, s in enumerate(recent, start=1):
        rows.append([n, s.prompt_tokens, max(0, s.prompt_tokens - s.evaluated_tokens), s.completion_tokens,
                     round(s.time_to_first_token_s, 2), round(s.total_s, 2), round(s.decode_tokens_per_s, 1)])
    return pd.DataFrame(rows, columns=STATS_COLUMNS)


def model_snapshot(model: ServedModel, data_dir: Path | None = None) -> tuple[str, pd.DataFrame]:
    """Values for ``ModelPanel.outputs``; ``data_dir``: where the measured speed is kept."""
    recent = model.recent_stats()
    measured = SpeedRecords(data_dir).latest_for_model(model.info.name) if data_dir is not None else None
    return (model_markdown(model.info, waiting=model.waiting(), recent=recent, measured=measured),
            stats_frame(recent))


def create_model_panel(services: Services, signin: SignIn) -> ModelPanel:
    model = services.model
    with gr.Row(elem_classes="toolbar"):
        gr.Markdown("The model that writes the tutor's chat replies and diagnoses unexpected wrong answers. "
                    "Checking answers and hints never wait for it.")
        refresh = gr.Button("Refresh", scale=0, min_width=120, elem_id="model-refresh")
    summary = gr.Markdown(elem_id="model-summary")
    stats = gr.Dataframe(headers=STATS_COLUMNS, label="Recent tutor turns", interactive=False, elem_id="model-stats",
                         wrap=True)
    gr.Markdown(MIXTRAL_HOWTO, elem_classes="howto")
    create_download_panel(services, signin)

    @page_handler("reading the model panel")
    def on_refresh(request: gr.Request):
        require_teacher(signin, request)
        return model_snapshot(model, services.settings.data_dir)

    refresh.click(on_refresh, None, [summary, stats], **FAST)
    return ModelPanel(summary, stats, refresh)
