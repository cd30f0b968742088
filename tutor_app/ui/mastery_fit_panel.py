"""The teacher's mastery page: each skill's BKT parameters fitted from the class's answers, beside
the ones in use, with the data each fit rests on; adopt one skill's values, or all, with one
click; go back to the unit file's values; and the history of every change.

The numbers and the rules are ``MasteryFitService``'s (the same as ``python app.py
fit-mastery``). The page keeps the service's answer in a ``gr.State`` and draws one card per
skill from it (``gr.render``), so each skill gets its own Adopt button and drawing the cards
never touches the database; the fit runs when the page is opened, refreshed or changed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import gradio as gr

from ..bootstrap import Services
from ..dashboard.shapes import MasteryFitTable, ParamsChangeView, SkillFit
from ..service.actor import Actor
from .api import FAST
from .auth import SignIn
from .errors import page_handler
from .teacher_guard import require_teacher

PARAMS = (("p_init", "known before practice"), ("p_transit", "learnt at each step"),
          ("p_guess", "right without knowing"), ("p_slip", "wrong despite knowing"))
STATUS_WORDS = {"fitted": "fit can be adopted", "too-little-data": "too little data", "rejected": "fit not usable"}


@dataclass
class MasteryFitPanel:
    unit: gr.Dropdown
    table: gr.State  # the service's MasteryFitTable for the unit shown (None before the page opens)
    history: gr.HTML
    status: gr.Markdown
    snapshot: Callable  # (actor, unit_id) -> values for ``outputs``

    @property
    def outputs(self) -> list:
        return [self.table, self.history, self.status]


def fit_unit_choices(library) -> list[tuple[str, str]]:
    """Problem units with skills (a conversation unit has no mastery to fit)."""
    return sorted(((u.title, uid) for uid, u in library.units.items() if u.skills), key=lambda c: c[0].lower())


# the page's parts, as HTML from the service's shapes ----------------------------------------
def intro_html(table: MasteryFitTable) -> str:
    ignored = (f" {table.ignored_events} stored answers belong to problems or steps this unit no longer has and are "
               f"left out." if table.ignored_events else "")
    return (f"<div class=\"howto\">Fitted from this class's first answers to each step (hints before an answer "
            f"count as not right, as in the live update). A skill is fitted from at least <b>{table.min_students} "
            f"students</b> and <b>{table.min_observations:,} observations</b>, and a fit is offered only when each "
            f"value is pinned to within <b>±{table.max_margin:g}</b> (95% interval). Adopted values replace the "
            f"unit file's <code>bkt:</code> for this class; the file stays as you wrote it. Students' mastery so far "
            f"is kept and the new values apply from their next answer.{ignored}</div>")


def skill_card_html(skill: SkillFit) -> str:
    in_use = ("unit file" if skill.source == "file"
              else f"adopted {skill.adopted_at.astimezone():%d %b %Y %H:%M} by {skill.adopted_by}")
    badge = STATUS_WORDS[skill.status] if skill.status != "fitted" or skill.adoptable else "fit in use"
    rows = []
    for name, meaning in PARAMS:
        current = getattr(skill.current, name)
        cell = "–"
        if skill.fitted is not None:
            margin = (skill.margins or {}).get(name)
            fitted = round(getattr(skill.fitted, name), 4)  # as adopted (``Estimate.as_params``)
            cell = f"{fitted:.3f}" + (f" ± {margin:.3f}" if margin is not None else "")
        changed = " class=\"changed\"" if skill.adoptable and abs(getattr(skill.fitted, name) - current) >= 0.0005 else ""
        rows.append(f"<tr><th>{name} <span class=\"muted\">{meaning}</span></th><td>{current:.3f}</td>"
                    f"<td{changed}>{cell}</td></tr>")
    data = (f"Rests on {skill.students} student{'s' if skill.students != 1 else ''} and "
            f"{skill.observations:,} observation{'s' if skill.observations != 1 else ''}.")
    reason = f"<div class=\"fit-reason\">Not offered: {html.escape(skill.reason)}.</div>" if skill.reason else ""
    return (f"<div class=\"fit-card\" data-skill=\"{html.escape(skill.skill_id)}\" data-status=\"{skill.status}\">"
            f"<div class=\"fit-head\"><b>{html.escape(skill.skill_name)}</b> <span class=\"muted\">"
            f"{html.escape(skill.skill_id)}</span> <span class=\"badge badge-fit\">{badge}</span></div>"
            f"<div class=\"fit-table-wrap\"><table class=\"fit-table\"><thead><tr><th></th>"
            f"<th>in use ({html.escape(in_use)})</th><th>fitted from the class</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div><div class=\"fit-data\">{data}</div>{reason}</div>")


def _values(values) -> str:
    return ", ".join(f"{name} {getattr(values, name):.3f}" for name, _ in PARAMS)


def history_html(changes: list[ParamsChangeView]) -> str:
    if not changes:
        return "<div class=\"empty-note\">No parameters adopted yet: every skill uses its unit file's values.</div>"
    rows = []
    for c in changes:
        what = ("adopted the fit" if c.source == "fit" else "back to the unit file's values")
        data = f"{c.students} students, {c.observations:,} observations" if c.students is not None else "–"
        after = _values(c.after) if c.after is not None else "the unit file's"
        rows.append(f"<tr><td>{c.at.astimezone():%d %b %Y %H:%M}</td><td>{html.escape(c.skill_name)}</td>"
                    f"<td>{what}</td><td>{_values(c.before)}</td><td>{after}</td><td>{data}</td>"
                    f"<td>{html.escape(c.changed_by)}</td></tr>")
    return ("<div class=\"fit-table-wrap\"><table class=\"fit-history\"><thead><tr><th>when</th><th>skill</th>"
            "<th>change</th><th>before</th><th>after</th><th>data</th><th>by</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def changes_message(changes: list[ParamsChangeView]) -> str:
    if not changes:
        return "Nothing changed: no skill has a usable fit that differs from the values in use."
    names = ", ".join(f"**{c.skill_name}**" for c in changes)
    return (f"Adopted the fitted values for {names}." if changes[0].source == "fit"
            else f"{names}: back to the unit file's values.")


# the handlers: plain functions over (services, actor, inputs) ---------------------------------
def snapshot(services: Services, actor: Actor, unit_id: str | None, message: str = ""):
    if not unit_id:
        return None, history_html([]), message
    table = services.mastery_fit.fits(actor, unit_id)
    return table, history_html(services.mastery_fit.history(actor, unit_id)), message


def adopt(services: Services, actor: Actor, unit_id: str | None, skill_ids: list[str] | None):
    if not unit_id:
        return None, history_html([]), "Choose a unit first."
    changes = services.mastery_fit.adopt(actor, unit_id, skill_ids)
    return snapshot(services, actor, unit_id, changes_message(changes))


def use_file_values(services: Services, actor: Actor, unit_id: str | None, skill_id: str):
    change = services.mastery_fit.use_file_values(actor, unit_id or "", skill_id)
    return snapshot(services, actor, unit_id, changes_message([change]) if change else "")


# the page -------------------------------------------------------------------------------------
def create_mastery_fit_panel(services: Services, signin: SignIn) -> MasteryFitPanel:
    units = fit_unit_choices(services.library)
    with gr.Row(elem_classes="toolbar"):
        unit = gr.Dropdown(units, value=units[0][1] if units else None, label="Unit", scale=3, min_width=260,
                           elem_id="fit-unit")
        refresh = gr.Button("Fit again", scale=0, min_width=120, elem_id="fit-refresh")
        adopt_all = gr.Button("Adopt every usable fit", variant="primary", scale=0, min_width=220,
                              elem_id="fit-adopt-all")
    status = gr.Markdown("", elem_id="fit-status")
    table = gr.State(None)
    outputs = [table]

    @gr.render(inputs=[table])
    def draw(shown: MasteryFitTable | None):
        if shown is None:
            gr.HTML("<div class=\"empty-note\">Choose a unit to see its skills' parameters.</div>")
            return
        gr.HTML(intro_html(shown), elem_id="fit-intro")
        for skill in shown.skills:
            with gr.Row(elem_classes="fit-row"):
                gr.HTML(skill_card_html(skill), elem_id=f"fit-skill-{skill.skill_id}")
                with gr.Column(scale=0, min_width=200):
                    if skill.adoptable:
                        gr.Button(f"Adopt for {skill.skill_name}", variant="primary",
                                  elem_id=f"fit-adopt-skill-{skill.skill_id}").click(
                            _on_adopt_one(skill.skill_id), [unit], outputs, **FAST)
                    if skill.source == "adopted":
                        gr.Button("Back to the file's values", elem_id=f"fit-file-skill-{skill.skill_id}").click(
                            _on_file_values(skill.skill_id), [unit], outputs, **FAST)

    gr.Markdown("### History of the class's parameters", elem_classes="section-title")
    history = gr.HTML(elem_id="fit-history")
    outputs += [history, status]

    def _on_adopt_one(skill_id: str):
        @page_handler("adopting a skill's fitted parameters")
        def on_adopt_one(unit_id: str | None, request: gr.Request):
            return adopt(services, require_teacher(signin, request), unit_id, [skill_id])
        return on_adopt_one

    def _on_file_values(skill_id: str):
        @page_handler("going back to the unit file's parameters")
        def on_file_values(unit_id: str | None, request: gr.Request):
            return use_file_values(services, require_teacher(signin, request), unit_id, skill_id)
        return on_file_values

    @page_handler("fitting the class's mastery parameters")
    def on_show(unit_id: str | None, request: gr.Request):
        return snapshot(services, require_teacher(signin, request), unit_id)

    @page_handler("adopting every usable fit")
    def on_adopt_all(unit_id: str | None, request: gr.Request):
        return adopt(services, require_teacher(signin, request), unit_id, None)

    refresh.click(on_show, [unit], outputs, **FAST)
    unit.change(on_show, [unit], outputs, **FAST)
    adopt_all.click(on_adopt_all, [unit], outputs, **FAST)
    return MasteryFitPanel(unit, table, history, status,
                           lambda actor, unit_id: snapshot(services, actor, unit_id))
