"""The teacher's model page: which model runs where, how fast, how many students wait, how
the model worker is doing (its state, and each crash with the last lines of its log), and
whether the database is storing students' work (a full or read-only disk shows here first).

Read live from the model queue on every refresh; nothing is cached, because the point of
the page is to see the queue while a class is using it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from pathlib import Path

import gradio as gr
import pandas as pd

from ..bootstrap import Services
from ..runtime.protocol import GenerationStats, ServedModel
from ..service.actor import Actor
from ..service.model_switch import WHOLE_CLASS
from ..storage.database import StorageHealth
from .adapters_panel import AdaptersPanel, create_adapters_panel
from .adapters_panel import snapshot as adapters_snapshot
from ..runtime.speed import SpeedRecords
from .api import FAST
from .auth import SignIn
from .download_panel import create_download_panel
from .errors import page_handler
from .teacher_guard import require_teacher
from .teacher_render import model_markdown, storage_markdown

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
    class_off: gr.Checkbox
    units_off: gr.CheckboxGroup
    switch_note: gr.Markdown
    adapters: AdaptersPanel
    open_adapters: Callable  # handler filling ``adapters.outputs``; run when the model tab opens

    @property
    def outputs(self) -> list:
        return [self.summary, self.stats, self.class_off, self.units_off, self.switch_note]


SWITCH_HELP = ("**The model for students.** Turn it off when its replies do more harm than good (a small demo "
               "model calls right answers wrong). Students keep answer checking, hints, bug rules, the language "
               "units' rules and mastery; the tutor chat, the conversation partner, translations and model grading "
               "stop, and open answers wait for you in Review.")


def switch_note(services: Services) -> str:
    """What the switches say now, in words, for the teacher's page."""
    states = services.switches.states()
    whole = states.get(WHOLE_CLASS)
    if whole is not None and whole.model_off:
        return "<span class=\"status-off\">The model is off for the whole class.</span>"
    off = [uid for uid, st in states.items() if uid and st.model_off]
    if not off:
        return "<span class=\"status-ok\">The model is on for every unit.</span>"
    titles = [unit_title(services, uid) for uid in sorted(off)]
    return f"<span class=\"status-off\">The model is off for: {html.escape(', '.join(titles))}.</span>"


def unit_title(services: Services, unit_id: str) -> str:
    unit = services.library.units.get(unit_id) or services.library.conversations.get(unit_id)
    return unit.title if unit is not None else unit_id


def unit_choices(services: Services) -> list[tuple[str, str]]:
    units = {**services.library.units, **services.library.conversations}
    return sorted(((u.title, uid) for uid, u in units.items()), key=lambda c: c[0].lower())


def switch_snapshot(services: Services) -> tuple:
    """Values for the switch part of ``ModelPanel.outputs``."""
    states = services.switches.states()
    whole = states.get(WHOLE_CLASS)
    off = [uid for uid, st in states.items() if uid and st.model_off]
    return (gr.Checkbox(value=bool(whole and whole.model_off)),
            gr.CheckboxGroup(choices=unit_choices(services), value=off), switch_note(services))


def set_switches(services: Services, actor: Actor, class_off: bool, units_off: list[str] | None) -> tuple:
    """Store the switches as the page shows them; every unit not ticked is on again."""
    wanted = set(units_off or [])
    services.switches.set_model_off(actor, None, bool(class_off))
    known = {uid for _, uid in unit_choices(services)} | set(services.switches.states())
    for uid in sorted(known - {WHOLE_CLASS}):
        services.switches.set_model_off(actor, uid, uid in wanted)
    return switch_snapshot(services)


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


def model_snapshot(model: ServedModel, storage: StorageHealth = StorageHealth(),
                   data_dir: Path | None = None) -> tuple[str, pd.DataFrame]:
    """Values for the first two of ``ModelPanel.outputs``; ``data_dir``: where the measured speed is kept."""
    recent = model.recent_stats()
    info = model.info
    measured = SpeedRecords(data_dir).latest_for_model(info.name) if data_dir is not None else None
    summary = "\n\n".join(part for part in (storage_markdown(storage),
                                              model_markdown(info, waiting=model.waiting(), recent=recent,
                                                             measured=measured)) if part)
    worker = worker_markdown((info.detail or {}).get("worker"))
    return (summary + "\n\n" + worker if worker else summary), stats_frame(recent)


def panel_snapshot(services: Services) -> tuple:
    """Values for ``ModelPanel.outputs``."""
    return (*model_snapshot(services.model, services.db.health, services.settings.data_dir), *switch_snapshot(services))


def create_model_panel(services: Services, signin: SignIn) -> ModelPanel:
    with gr.Row(elem_classes="toolbar"):
        gr.Markdown("The model that writes the tutor's chat replies and diagnoses unexpected wrong answers. "
                    "Checking answers and hints never wait for it.")
        refresh = gr.Button("Refresh", scale=0, min_width=120, elem_id="model-refresh")
    summary = gr.Markdown(elem_id="model-summary")
    with gr.Group(elem_id="model-switch"):
        gr.Markdown(SWITCH_HELP, elem_classes="howto")
        class_off = gr.Checkbox(label="Model off for the whole class", elem_id="model-off-class")
        units_off = gr.CheckboxGroup(unit_choices(services), label="Model off for these units",
                                     elem_id="model-off-units")
        save = gr.Button("Save", scale=0, min_width=120, elem_id="model-switch-save")
        note = gr.Markdown(switch_note(services), elem_id="model-switch-note")
    stats = gr.Dataframe(headers=STATS_COLUMNS, label="Recent tutor turns", interactive=False, elem_id="model-stats",
                         wrap=True)
    adapters = create_adapters_panel(services, signin)
    gr.Markdown(MIXTRAL_HOWTO, elem_classes="howto")
    create_download_panel(services, signin)

    @page_handler("reading the model panel")
    def on_refresh(request: gr.Request):
        require_teacher(signin, request)
        return panel_snapshot(services)

    @page_handler("switching the model")
    def on_save(whole: bool, units: list[str] | None, request: gr.Request):
        return set_switches(services, require_teacher(signin, request), whole, units)

    @page_handler("listing the adapters")
    def on_adapters(request: gr.Request):
        return adapters.components(adapters_snapshot(services, require_teacher(signin, request)))

    panel = ModelPanel(summary, stats, refresh, class_off, units_off, note, adapters, on_adapters)
    refresh.click(on_refresh, None, panel.outputs, **FAST)
    refresh.click(on_adapters, None, adapters.outputs, **FAST)
    save.click(on_save, [class_off, units_off], [class_off, units_off, note], **FAST)
    return panel
