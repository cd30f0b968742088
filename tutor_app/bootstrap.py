"""The app factory: one ``Settings`` in, every application service out.

Tests build the whole app from a ``Settings`` with ``sqlite://``, a temporary curricula folder
and a scripted model (microblog's ``create_app(config_class)``); ``python app.py`` and each of
its commands build it from flags and ``TUTOR_*`` variables. Nothing here decides anything; it
only wires. ``Services`` is the one typed seam the web UI and the commands are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .assessment.service import AssessmentService
from .curation.service import CurationService
from .curriculum.last_good import FOLDER_NAME as LAST_GOOD_FOLDER
from .curriculum.library import CurriculumLibrary
from .dashboard.mastery_fit import MasteryFitService
from .dashboard.service import DashboardService
from .deployment.service import AdapterService
from .language.service import LanguageService
from .practice.service import PracticeService
from .prompting import PromptLibrary
from .runtime.protocol import ModelBackend, ServedModel
from .runtime.queue import ModelQueue
from .service.auth import Auth
from .service.model_switch import ModelSwitches
from .service.roster import move_legacy_roster, roster_path
from .settings import Settings
from .storage.database import Database
from .storage.private import private_dir, private_if_present
from .tutoring.service import TutorService


@dataclass
class Services:
    settings: Settings
    db: Database
    library: CurriculumLibrary
    prompts: PromptLibrary
    model: ServedModel  # the one model, shared: every call in the app goes through it (a ModelQueue)
    switches: ModelSwitches  # the teacher's switches: the model off for a unit or the class
    tutor: TutorService
    dashboard: DashboardService
    mastery_fit: MasteryFitService  # the class's fitted BKT parameters: view, adopt, history
    auth: Auth
    assessment: AssessmentService
    practice: PracticeService
    language: LanguageService
    curation: CurationService
    adapters: AdapterService
    notes: list[str] = field(default_factory=list)  # for the start-up output (a roster moved...)

    def close(self) -> None:
        self.tutor.close()
        self.language.close()
        self.model.close()
        self.db.close()


def create_services(settings: Settings, *, model: ModelBackend | None = None, wait_for_model: bool = False) -> Services:
    """Build the app. ``model`` replaces the configured backend (tests pass a scripted one);
    either way it is wrapped in the queue that shares the model's places among callers. The web
    app listens while the model loads in its worker; a command that needs the model at once
    (grading, drafting) passes ``wait_for_model``."""
    private_dir(settings.data_dir)  # children's data: owner-only, also when an older version made it
    moved = move_legacy_roster(settings)
    private_if_present(roster_path(settings))
    db = Database(settings.database_url)
    library = CurriculumLibrary(settings.curricula, keep_dir=settings.data_dir / LAST_GOOD_FOLDER)
    library.reload()  # bad files are reported in library.errors; the app starts with the good ones
    prompts = PromptLibrary()
    if model is None:
        from .runtime.loading import load_backend  # imports the model runtime only when it is needed

        model = load_backend(settings, wait=wait_for_model)
    queued = model if isinstance(model, ModelQueue) else ModelQueue(model)
    assessment = AssessmentService(db=db, library=library, model=queued, prompts=prompts,
                                   time_limit_s=settings.grade_seconds)
    switches = ModelSwitches(db)
    adapters = AdapterService(db=db, model=queued, models_dir=settings.models_dir)
    if settings.lora is None:
        adapters.restore()  # the adapter a teacher deployed stays deployed across a restart
    return Services(
        settings=settings, db=db, library=library, prompts=prompts, model=queued, switches=switches,
        tutor=TutorService(db=db, library=library, model=queued, prompts=prompts, assessment=assessment,
                           switches=switches),
        dashboard=DashboardService(db=db, library=library), auth=Auth(db, roster_path(settings)),
        mastery_fit=MasteryFitService(db=db, library=library),
        assessment=assessment,
        practice=PracticeService(settings=settings, library=library, model=queued, prompts=prompts),
        language=LanguageService(db=db, library=library, model=queued, prompts=prompts, switches=switches),
        curation=CurationService(db=db, library=library), adapters=adapters, notes=[moved] if moved else [])
