"""Switching the running model's LoRA adapter from the teacher's model panel, and switching back.

``activate`` applies an adapter of ``models/adapters/`` to the model the class is using, in line
with the students' calls (``ModelQueue.set_adapter``): replies being written finish under the
old adapter, the next ones use the new one, the app does not restart. ``use_base`` goes back
to the base model and ``switch_back`` to whatever was in use before the last switch: one click
either way. Every switch is logged with who and when (``models.AdapterSwitch``); every output
stored afterwards names the adapter version that produced it, which is what the dashboard's
trends compare.

A restarted app applies the last switch again (``restore``) unless ``--lora`` says otherwise,
so "deployed" survives a reboot of the school's server. Only the teacher may switch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import sqlalchemy as sa

from ..runtime.adapters import adapter_file_name
from ..runtime.protocol import ModelError, ModelInfo, ServedModel
from ..service.actor import Actor
from ..service.errors import Forbidden, NotFound, TutorError
from ..storage.database import Database
from .catalog import AdapterEntry, list_adapters
from .models import AdapterSwitch

log = logging.getLogger(__name__)
HISTORY = 20
STARTED_WITH = "start-up"  # who "chose" the adapter the app was started with (--lora)


@dataclass(frozen=True)
class SwitchRecord:
    model_name: str
    adapter: str | None  # version label; None: the base model
    path: str | None
    teacher: str
    at: datetime


@dataclass(frozen=True)
class AdapterListing:
    model: ModelInfo
    active: str | None  # the adapter version in use; None: the base model
    adapters: list[AdapterEntry]
    history: list[SwitchRecord]  # newest first
    back_to: str | None  # what "switch back" returns to: an adapter file name, "" for the base, None: nothing

    def entry(self, name: str) -> AdapterEntry | None:
        return next((a for a in self.adapters if a.name == name), None)


class AdapterService:
    def __init__(self, *, db: Database, model: ServedModel, models_dir: Path) -> None:
        self.db = db
        self.model = model
        self.models_dir = Path(models_dir)

    def listing(self, actor: Actor) -> AdapterListing:
        _require_teacher(actor)
        info = self.model.info
        history = self._history()
        return AdapterListing(model=info, active=info.adapter, adapters=list_adapters(self.models_dir),
                              history=history, back_to=_back_to(info.adapter, history))

    def activate(self, actor: Actor, name: str) -> ModelInfo:
        """Apply the adapter ``name`` (a file of ``models/adapters/``) to the running model."""
        _require_teacher(actor)
        entry = next((a for a in list_adapters(self.models_dir) if a.name == (name or "").strip()), None)
        if entry is None:
            known = ", ".join(a.name for a in list_adapters(self.models_dir)) or "none yet"
            raise NotFound(f"There is no adapter {name!r} in {self.models_dir / 'adapters'} (there: {known}).")
        return self._switch(actor, entry.path)

    def use_base(self, actor: Actor) -> ModelInfo:
        """Back to the base model, without an adapter."""
        _require_teacher(actor)
        return self._switch(actor, None)

    def switch_back(self, actor: Actor) -> ModelInfo:
        """Back to what was in use before the last switch."""
        _require_teacher(actor)
        target = _back_to(self.model.info.adapter, self._history())
        if target is None:
            raise TutorError("There is nothing to switch back to: the adapter has not been switched yet.")
        return self.use_base(actor) if target == "" else self.activate(actor, target)

    def restore(self, say: Callable[[str], None] = log.info) -> ModelInfo | None:
        """At start-up: apply the adapter of the last switch again (None when there is nothing to do).
        A failure is said, not raised: the app runs with the base model then."""
        history = self._history(limit=1)
        if not history or history[0].adapter is None or self.model.info.adapter is not None:
            return None
        path = Path(history[0].path or "")
        if not path.is_file():
            say(f"adapter: {history[0].adapter} was in use before the restart, but {path} is gone; using the base model")
            return None
        try:
            info = self.model.set_adapter(path)
        except (ModelError, AttributeError) as exc:
            say(f"adapter: cannot apply {path.name} again ({exc}); using the base model")
            return None
        say(f"adapter: {info.adapter} (in use before the restart)")
        return info

    # helpers ---------------------------------------------------------------------------
    def _switch(self, actor: Actor, path: Path | None) -> ModelInfo:
        info = self.model.info  # read before the switch: a backend may update its info in place
        before = AdapterSwitch(model_name=info.name, adapter=info.adapter, path=(info.detail or {}).get("lora"),
                               teacher=STARTED_WITH)
        last = self._history(limit=1)
        try:
            info = self.model.set_adapter(path)
        except ModelError as exc:
            raise TutorError(f"The adapter was not switched: {exc}") from None
        with self.db.session() as session:
            if (last[0].adapter if last else None) != before.adapter:
                # The state the app started in (--lora, or a log from another machine): logged
                # first, so that "switch back" returns to it.
                session.add(before)
                session.flush()
            session.add(AdapterSwitch(model_name=info.name, adapter=info.adapter, path=str(path) if path else None,
                                      teacher=actor.role))
        return info

    def _history(self, limit: int = HISTORY) -> list[SwitchRecord]:
        with self.db.session() as session:
            rows = session.scalars(sa.select(AdapterSwitch).order_by(AdapterSwitch.created_at.desc(),
                                                                     AdapterSwitch.id.desc()).limit(limit))
            return [SwitchRecord(r.model_name, r.adapter, r.path, r.teacher, r.created_at) for r in rows]


def _back_to(active: str | None, history: list[SwitchRecord]) -> str | None:
    """The adapter file name in use before the last switch ("" for the base model), when the last
    switch is what is in use now; None when there is nothing to go back to."""
    if not history or history[0].adapter != active:
        return None
    before = history[1].adapter if len(history) > 1 else None
    if before == active:
        return None
    return adapter_file_name(before) or ""


def _require_teacher(actor: Actor) -> None:
    if not actor.is_teacher:
        raise Forbidden("Only the teacher can switch the tutor's model adapter.")
