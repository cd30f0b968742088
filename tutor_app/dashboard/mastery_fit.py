"""The teacher's view of each skill's BKT parameters fitted from the class, and adopting them.

The fit itself is the engine's (``engine.bkt_fit``: an EM fit of the model the live update runs,
with its thresholds and guards); the observations are the ones the live update made, rebuilt
from the stored answers and hints (``engine.observation_sequences``). This service puts them
beside the parameters in use, with the data each fit rests on, and writes what the teacher
adopts to the class's parameters (``tutoring.mastery_params``), which the tutor then uses in
place of the unit file's values. Adopting never changes a stored estimate: a student's mastery
so far stays the record, and the new values apply from the next observation on.

The same service answers the dashboard's mastery page and ``python app.py fit-mastery``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..curriculum.library import CurriculumLibrary
from ..curriculum.schema import BKTParams, Unit
from ..engine import bkt_fit
from ..engine.mastery import skill_params
from ..engine.observation_sequences import observation_sequences
from ..service.actor import Actor
from ..service.errors import Forbidden, NotFound, TutorError
from ..service.locks import StripedLocks
from ..storage.database import Database
from ..tutoring import reports
from ..tutoring.mastery_params import MasteryParamsStore, ParamsChange, ParamsHistoryRecord
from .shapes import MasteryFitTable, ParamsChangeView, ParamValues, SkillFit

CHANGED_BY = {"teacher": "teacher", "local": "local user (this computer)"}


class MasteryFitService:
    def __init__(self, *, db: Database, library: CurriculumLibrary) -> None:
        self.db = db
        self.library = library
        self.params = MasteryParamsStore(db)
        self._lock = StripedLocks()  # two clicks on "adopt" record one change, not two

    def fits(self, actor: Actor, curriculum_id: str) -> MasteryFitTable:
        """Every skill of the unit: the parameters in use and where they come from, and the fit
        of the class's answers with the data it rests on and whether it can be adopted."""
        _require_teacher(actor)
        unit = self._unit(curriculum_id)
        fits, ignored = self._fit(unit)
        in_use = skill_params(unit, self.params.adopted(curriculum_id=unit.id))
        adoptable = {change.skill_id for change in bkt_fit.adoption(in_use, fits)}
        last = {}
        for record in reversed(self.params.history(curriculum_id=unit.id)):  # oldest first: the newest wins
            last[record.skill_id] = record
        skills = []
        for skill in unit.skills:
            fit, record = fits[skill.id], last.get(skill.id)
            adopted = record is not None and record.source == "fit"
            skills.append(SkillFit(
                skill_id=skill.id, skill_name=skill.name, current=_values(in_use[skill.id]),
                source="adopted" if adopted else "file", adopted_at=record.at if adopted else None,
                adopted_by=record.changed_by if adopted else None, status=fit.status,
                fitted=ParamValues(**fit.estimate._asdict()) if fit.estimate else None,
                margins=fit.margins._asdict() if fit.margins else None, students=fit.students,
                observations=fit.observations, reason=fit.reason, adoptable=skill.id in adoptable))
        return MasteryFitTable(curriculum_id=unit.id, title=unit.title, min_students=bkt_fit.MIN_STUDENTS,
                               min_observations=bkt_fit.MIN_OBSERVATIONS, max_margin=bkt_fit.MAX_MARGIN,
                               ignored_events=ignored, skills=skills)

    def adopt(self, actor: Actor, curriculum_id: str, skill_ids: list[str] | None = None, *,
              changed_by: str | None = None) -> list[ParamsChangeView]:
        """Adopt the fitted values: of every skill with a usable fit (``skill_ids`` None), or of the
        named skills, each of which must have one. Fitted afresh from the answers stored now, so
        what is adopted is what the answers say at this moment. Returns the changes (none when
        the fits equal what is in use)."""
        _require_teacher(actor)
        unit = self._unit(curriculum_id)
        with self._unit_turn(unit.id):
            fits, _ = self._fit(unit)
            in_use = skill_params(unit, self.params.adopted(curriculum_id=unit.id))
            try:
                changes = bkt_fit.adoption(in_use, fits, skill_ids)
            except ValueError as exc:
                raise TutorError(f"Nothing was adopted: {exc}.") from None
            stored = self.params.record(
                curriculum_id=unit.id, changed_by=changed_by or CHANGED_BY.get(actor.role, actor.role),
                changes=[ParamsChange(c.skill_id, c.before, c.after, c.students, c.observations) for c in changes])
        return [self._view(unit, record) for record in stored]

    def use_file_values(self, actor: Actor, curriculum_id: str, skill_id: str, *,
                        changed_by: str | None = None) -> ParamsChangeView | None:
        """Go back to the unit file's values for one skill; None when they are already in use."""
        _require_teacher(actor)
        unit = self._unit(curriculum_id)
        with self._unit_turn(unit.id):
            adopted = self.params.adopted(curriculum_id=unit.id)
            if skill_id not in {s.id for s in unit.skills}:
                raise NotFound(f"The unit {unit.id!r} has no skill {skill_id!r}.")
            if skill_id not in adopted:
                return None
            (stored,) = self.params.record(
                curriculum_id=unit.id, changed_by=changed_by or CHANGED_BY.get(actor.role, actor.role),
                changes=[ParamsChange(skill_id, adopted[skill_id], None)])
        return self._view(unit, stored)

    @contextmanager
    def _unit_turn(self, unit_id: str) -> Iterator[None]:
        """One change of a unit's parameters at a time: two clicks on "adopt" record one change,
        not two, also when a district's load balancer sends them to two app processes (the
        database's lock on the unit's name; nothing more on SQLite, which one process serves)."""
        with self._lock(unit_id), self.db.key_locked(f"mastery-params:{unit_id}"):
            yield

    def history(self, actor: Actor, curriculum_id: str | None = None) -> list[ParamsChangeView]:
        """Every change of the class's parameters, newest first."""
        _require_teacher(actor)
        return [self._view(self.library.units.get(record.curriculum_id), record)
                for record in self.params.history(curriculum_id=curriculum_id)]

    # internals ------------------------------------------------------------------------------
    def _unit(self, curriculum_id: str) -> Unit:
        unit = self.library.units.get(curriculum_id)
        if unit is None:
            known = ", ".join(sorted(self.library.units)) or "none"
            raise NotFound(f"There is no unit {curriculum_id!r} with skills to fit (units: {known}).")
        return unit

    def _fit(self, unit: Unit) -> tuple[dict[str, bkt_fit.FitResult], int]:
        found = observation_sequences(unit, reports.step_events(self.db, curriculum_id=unit.id))
        return bkt_fit.fit_unit(unit, found.by_skill), found.ignored

    @staticmethod
    def _view(unit: Unit | None, record: ParamsHistoryRecord) -> ParamsChangeView:
        names = {s.id: s.name for s in unit.skills} if unit is not None else {}
        return ParamsChangeView(curriculum_id=record.curriculum_id, skill_id=record.skill_id,
                                skill_name=names.get(record.skill_id, record.skill_id), source=record.source,
                                before=_values(record.before), after=_values(record.after) if record.after else None,
                                students=record.students, observations=record.observations,
                                changed_by=record.changed_by, at=record.at)


def _values(params: BKTParams) -> ParamValues:
    return ParamValues(**params.model_dump())


def _require_teacher(actor: Actor) -> None:
    if not actor.is_teacher:
        raise Forbidden("Only the teacher can see and change the class's mastery parameters.")
