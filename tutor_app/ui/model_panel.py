"""The teacher's model page: which model runs where, how fast, how many students wait, and
how the model worker is doing (its state, and each crash with the last lines of its log).

Read live from the model queue on every refresh; nothing is cached, because the point of
the page is to see the queue while a class is using it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

import gradio as gr
import pandas as pd

from ..bootstrap import Services
from ..runtime.protocol import GenerationStats, ServedModel
from .api import FAST
from .auth import SignIn
from .download_panel import create_download_panel
from .errors import page_handler
from .teacher_guard import require_teacher
from .teacher_render import model_markdown

MIXTRAL_HOWTO = (
    "**Better tutor replies.** The built-in model is tiny: it proves the set-up works, and checking, hints and "
    "mastery do not depend on it. For real tutoring, download Mixtral 8x7B (the quant that fits this machine is "
    "chosen for you) and restart with it:\n\n"
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


WORKER_STATES = {
    "starting": "starting: loading the model",
    "ready": "ready",
    "restarting": "restarting after a crash",
    "gave up": "gave up: it kept crashing while starting",
    "unavailable": "not started: the model cannot be loaded",
    "stopped": "stopped",
}


def worker_markdown(worker: dict | None) -> str:
    """The model worker's state and its crashes, newest first: when each happened, the exit code
    or signal, and the last lines of its log (what llama.cpp said before it died)."""
    if not worker:
        return ""
    state = WORKER_STATES.get(worker.get("state"), str(worker.get("state")))
    facts = [("Model worker", html.escape(state)),
             ("Process", str(worker["pid"]) if worker.get("pid") else "–"),
             ("Restarts", str(worker.get("restarts", 0))),
             ("Log file", f"<code>{html.escape(str(worker.get('log', '')))}</code>")]
    rows = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    parts = [f"<div class=\"model-card worker-card\"><dl class=\"facts\">{rows}</dl></div>"]
    crashes = worker.get("crashes") or []
    if crashes:
        items = []
        for crash in crashes:
            when = datetime.fromisoformat(crash["at"]).astimezone().strftime("%Y-%m-%d %H:%M:%S")
            tail = html.escape("\n".join(crash.get("log_tail") or ["(the log was empty)"]))
            items.append(f"<li><b>{when}</b>: {html.escape(crash['how'])} during {html.escape(crash['during'])}"
                         f"<details><summary>last lines of the log</summary><pre>{tail}</pre></details></li>")
        parts.append(f"<div class=\"worker-crashes\"><b>Crashes</b> (newest first)<ul>{''.join(items)}</ul></div>")
    return "\n\n".join(parts)


def model_snapshot(model: ServedModel) -> tuple[str, pd.DataFrame]:
    """Values for ``ModelPanel.outputs``."""
    recent = model.recent_stats()
    info = model.info
    summary = model_markdown(info, waiting=model.waiting(), recent=recent)
    worker = worker_markdown((info.detail or {}).get("worker"))
    return (summary + "\n\n" + worker if worker else summary), stats_frame(recent)


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
        return model_snapshot(model)

    refresh.click(on_refresh, None, [summary, stats], **FAST)
    return ModelPanel(summary, stats, refresh)
