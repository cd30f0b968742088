"""The school's adapters on the teacher's model page: what each was trained on, how it evaluated,
which one is in use; use one, go back to the base model, or switch back, without restarting.

Reads ``AdapterService.listing`` (the files in ``models/adapters/``, their training records and
evaluation index, the switch log). A switch waits for the replies being written and applies to
the next ones (``ModelQueue.set_adapter``). Handlers are plain functions returning changes by name.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..bootstrap import Services
from ..deployment.catalog import AdapterEntry
from ..deployment.service import AdapterListing
from ..runtime.adapters import adapter_file_name
from ..service.actor import Actor
from ..service.errors import TutorError
from .api import MODEL_PAGE
from .auth import SignIn
from .errors import page_handler
from .teacher_guard import require_teacher
from .updates import Updates, components

SHOWN_METRICS = {"reply_similarity": "similarity to your replies", "answer_leak_rate": "answer leaks",
                 "misconception_accuracy": "diagnoses", "rubric_qwk": "grading QWK"}
HOWTO = ("**Adapting the model to your school.** Judge the tutor's work on the Transcripts and Review pages, then on "
         "the school's computer:\n\n```\npython app.py export-training exports/today\n"
         "python app.py train-lora exports/today --out models/adapters/my-school.gguf\n"
         "python app.py eval exports/today/heldout/eval-suite.yaml --lora models/adapters/my-school.gguf "
         "--out reports/my-school\n```\n\nThe adapter then appears here with its evaluation.")


@dataclass
class AdaptersPanel:
    summary: gr.Markdown
    adapter: gr.Dropdown
    use: gr.Button
    base: gr.Button
    back: gr.Button

    @property
    def outputs(self) -> list:
        return [self.summary, self.adapter, self.back]

    def components(self, updates: Updates) -> dict[gr.components.Component, Any]:
        return components(self, updates)


def _value(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if metric in ("reply_similarity", "rubric_qwk") else f"{100 * value:.0f}%"


def evaluation_text(entry: AdapterEntry) -> str:
    latest = entry.latest_evaluation
    if latest is None:
        return "not evaluated yet"
    parts = []
    for metric, label in SHOWN_METRICS.items():
        diff = (latest.get("differences") or {}).get(metric)
        if diff and diff.get("adapter") is not None:
            mark = {"better": " ▲", "worse": " ▼"}.get(diff.get("verdict"), "")
            parts.append(f"{label} {_value(diff['base'], metric)} → {_value(diff['adapter'], metric)}{mark}")
        elif diff is None and (latest.get("metrics") or {}).get(metric) is not None:
            parts.append(f"{label} {_value(latest['metrics'][metric], metric)}")
    verdict = f"**{latest['recommendation']}**: " if latest.get("recommendation") else ""
    return f"{verdict}{'; '.join(parts) or 'no metric measured'} (suite {latest.get('suite')}, {latest.get('at', '')[:10]})"


def training_text(entry: AdapterEntry) -> str:
    t = entry.training
    if not t:
        return "no training record"
    loss = f", loss {t['losses'][0][1]:.2f} → {t['final_loss']:.2f}" if t.get("losses") and t.get("final_loss") else ""
    return f"{t.get('created', '')[:10]}: {t.get('examples', '?')} examples, {t.get('steps', '?')} steps{loss}"


def adapters_markdown(listing: AdapterListing) -> str:
    in_use = adapter_file_name(listing.active)
    lines = [f"**In use:** {html.escape(listing.active) if listing.active else 'the base model, no adapter'}"]
    if listing.history:
        last = listing.history[0]
        lines[0] += f" (since {last.at.astimezone():%d %b %H:%M})"
    lines.append("")
    if not listing.adapters:
        return "\n".join(lines + ["No adapters in `models/adapters/` yet.", "", HOWTO])
    lines += ["| adapter | trained | evaluated against the base model | size |", "|---|---|---|---|"]
    for entry in listing.adapters:
        name = html.escape(entry.name) + (" ✔ in use" if entry.name == in_use else "")
        lines.append(f"| {name} | {html.escape(training_text(entry))} | {evaluation_text(entry)} | "
                     f"{entry.size_bytes / 2**20:.1f} MB |")
    return "\n".join(lines)


def snapshot(services: Services, actor: Actor) -> Updates:
    listing = services.adapters.listing(actor)
    names = [a.name for a in listing.adapters]
    in_use = adapter_file_name(listing.active)
    back = ("Switch back to the base model" if listing.back_to == "" else
            f"Switch back to {listing.back_to}" if listing.back_to else "Switch back")
    return {"summary": adapters_markdown(listing),
            "adapter": gr.Dropdown(choices=names, value=in_use if in_use in names else (names[0] if names else None)),
            "back": gr.Button(value=back, interactive=listing.back_to is not None)}


def use_adapter(services: Services, actor: Actor, name: str | None) -> Updates:
    if not name:
        raise TutorError("Choose an adapter first.")
    info = services.adapters.activate(actor, name)
    gr.Info(f"The tutor now uses {info.adapter}.", title="Adapter in use", duration=4)
    return snapshot(services, actor)


def use_base(services: Services, actor: Actor) -> Updates:
    services.adapters.use_base(actor)
    gr.Info("The tutor now uses the base model.", title="Base model", duration=4)
    return snapshot(services, actor)


def switch_back(services: Services, actor: Actor) -> Updates:
    info = services.adapters.switch_back(actor)
    gr.Info(f"Switched back to {info.adapter or 'the base model'}.", title="Switched back", duration=4)
    return snapshot(services, actor)


def create_adapters_panel(services: Services, signin: SignIn) -> AdaptersPanel:
    gr.Markdown("### The school's adapters", elem_classes="section-title")
    summary = gr.Markdown(elem_id="adapters-summary")
    with gr.Row(elem_classes="toolbar"):
        adapter = gr.Dropdown([], label="Adapter", scale=3, min_width=220, elem_id="adapters-choice")
        use = gr.Button("Use this adapter", variant="primary", scale=0, min_width=170, elem_id="adapters-use")
        base = gr.Button("Use the base model", scale=0, min_width=170, elem_id="adapters-base")
        back = gr.Button("Switch back", scale=0, min_width=170, interactive=False, elem_id="adapters-back")
    panel = AdaptersPanel(summary, adapter, use, base, back)

    @page_handler("switching the adapter")
    def on_use(name: str | None, request: gr.Request):
        return panel.components(use_adapter(services, require_teacher(signin, request), name))

    @page_handler("switching to the base model")
    def on_base(request: gr.Request):
        return panel.components(use_base(services, require_teacher(signin, request)))

    @page_handler("switching back")
    def on_back(request: gr.Request):
        return panel.components(switch_back(services, require_teacher(signin, request)))

    use.click(on_use, [adapter], panel.outputs, **MODEL_PAGE)
    base.click(on_base, None, panel.outputs, **MODEL_PAGE)
    back.click(on_back, None, panel.outputs, **MODEL_PAGE)
    return panel
