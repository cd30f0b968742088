"""The app factory: one ``Settings`` in, every application service out.

Tests build the whole app from a ``Settings`` with ``sqlite://``, a temporary curricula folder
and a scripted model (microblog's ``create_app(config_class)``); ``python app.py`` and each of
its commands build it from flags and ``TUTOR_*`` variables. Nothing here decides anything; it
only wires. ``Services`` is the one typed seam the web UI and the commands are given.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assessment.service import AssessmentService
from .curriculum.last_good import FOLDER_NAME as LAST_GOOD_FOLDER
from .curriculum.library import CurriculumLibrary
from .dashboard.mastery_fit import MasteryFitService
from .dashboard.service import DashboardService
from .language.service import LanguageService
from .practice.service import PracticeService
from .prompting import PromptLibrary
from .runtime.protocol import ModelBackend, ServedModel
from .runtime.queue import ModelQueue
from .service.auth import Auth
from .service.roster import roster_path
from .settings import Settings
from .storage.database import Database
from .tutoring.service import TutorService


@dataclass
class Services:
    settings: Settings
    db: Database
    library: CurriculumLibrary
    prompts: PromptLibrary
    model: ServedModel  # the one model, shared: every call in the app goes through it (a ModelQueue)
    tutor: TutorService
    dashboard: DashboardService
    mastery_fit: MasteryFitService  # the class's fitted BKT parameters: view, adopt, history
    auth: Auth
    assessment: AssessmentService
    practice: PracticeService
    language: LanguageService

    def close(self) -> None:
        self.tutor.close()
        self.model.close()
        self.db.close()


def create_services(settings: Settings, *, model: ModelBackend | None = None) -> Services:
    """Build the app. ``model`` replaces the configured backend (tests pass a scripted one);
    either way it is wrapped in the queue that serialises calls to the one model."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    library = CurriculumLibrary(settings.curricula, keep_dir=settings.data_dir / LAST_GOOD_FOLDER)
    library.reload()  # bad files are reported in library.errors; the app starts with the good ones
    prompts = PromptLibrary()
    if model is None:
        from .runtime.loading import load_backend  # imports the model runtime only when it is needed

        model = load_backend(settings)
    queued = model if isinstance(model, ModelQueue) else ModelQueue(model)
    assessment = AssessmentService(db=db, library=library, model=queued, prompts=prompts)
    return Services(
        settings=settings, db=db, library=library, prompts=prompts, model=queued,
        tutor=TutorService(db=db, library=library, model=queued, prompts=prompts, assessment=assessment),
        dashboard=DashboardService(db=db, library=library), auth=Auth(db, roster_path(settings)),
        mastery_fit=MasteryFitService(db=db, library=library),
        assessment=assessment,
        practice=PracticeService(settings=settings, library=library, model=queued, prompts=prompts),
        language=LanguageService(db=db, library=library, model=queued, prompts=prompts))
