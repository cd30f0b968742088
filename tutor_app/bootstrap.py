"""The app factory: one ``Settings`` in, every application service out.

Tests build the whole app from a ``Settings`` with ``sqlite://``, a temporary curricula folder
and a scripted model (microblog's ``create_app(config_class)``); ``python app.py`` builds it
from flags and ``TUTOR_*`` variables. Nothing here decides anything; it only wires.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assessment.service import AssessmentService
from .curriculum.library import CurriculumLibrary
from .dashboard.service import DashboardService
from .language.service import LanguageService
from .practice.service import PracticeService
from .prompting import PromptLibrary
from .runtime.protocol import ModelBackend
from .runtime.queue import ModelQueue
from .service.auth import Auth
from .service.roster import roster_path
from .settings import Settings
from .tutoring.service import TutorService
from .tutoring.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    library: CurriculumLibrary
    prompts: PromptLibrary
    model: ModelBackend  # the queued backend: every model call in the app goes through it
    tutor: TutorService
    dashboard: DashboardService
    auth: Auth
    assessment: AssessmentService | None = None
    practice: PracticeService | None = None
    language: LanguageService | None = None

    def close(self) -> None:
        self.tutor.close()
        self.model.close()
        self.store.close()


def create_services(settings: Settings, *, model: ModelBackend | None = None) -> Services:
    """Build the app. ``model`` replaces the configured backend (tests pass a scripted one);
    either way it is wrapped in the queue that serialises calls to the one model."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url)
    library = CurriculumLibrary(settings.curricula)
    library.reload()  # bad files are reported in library.errors; the app starts with the good ones
    prompts = PromptLibrary()
    if model is None:
        from .runtime.loading import load_backend  # imports the model runtime only when it is needed

        model = load_backend(settings)
    queued = model if isinstance(model, ModelQueue) else ModelQueue(model)
    assessment = AssessmentService(store=store, library=library, model=queued, prompts=prompts)
    tutor = TutorService(store=store, library=library, model=queued, prompts=prompts, assessment=assessment)
    dashboard = DashboardService(store=store, library=library)
    auth = Auth(store, roster_path(settings))
    practice = PracticeService(settings=settings, library=library, model=queued, prompts=prompts)
    language = LanguageService(store=store, library=library, model=queued, prompts=prompts)
    return Services(settings=settings, store=store, library=library, prompts=prompts, model=queued, tutor=tutor,
                    dashboard=dashboard, auth=auth, assessment=assessment, practice=practice, language=language)
