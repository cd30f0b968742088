"""Every area's tables, in one list: what the migrations must build, and what Alembic compares.

Each area declares its tables in its own ``models.py`` on the shared ``storage.base.Base``. The
storage layer cannot import the areas above it, so the list lives here, at the top next to the
app factory, and is handed down: to Alembic's autogenerate (``new_revision``) and to the test
that compares the migrated schema with every table. A new area adds its models module to
``AREAS``; a test fails while any mapped table is missing from it.

    python -m tutor_app.tables "what changed"    # writes storage/migrations/versions/NNNN_what_changed.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import MetaData

from .assessment import models as assessment
from .curation import models as curation
from .deployment import models as deployment
from .language import models as language
from .service import model_switch
from .service import models as people
from .storage import migrate
from .storage.base import Base
from .storage.database import Database
from .tutoring import models as tutoring

AREAS = (people, model_switch, tutoring, assessment, language, curation, deployment)


def area_tables() -> set[str]:
    """The names of the tables the areas in ``AREAS`` declare."""
    modules = {module.__name__ for module in AREAS}
    return {mapper.local_table.name for mapper in Base.registry.mappers if mapper.class_.__module__ in modules}


def metadata() -> MetaData:
    """Every area's tables (and nothing a test or a stray import may have added to ``Base``)."""
    wanted = area_tables()
    found = MetaData()
    for table in Base.metadata.sorted_tables:
        if table.name in wanted:
            table.to_metadata(found)
    return found


def new_revision(message: str, *, version_path: Path | None = None) -> Path:
    """Autogenerate the next revision from the difference between head and every area's tables."""
    db = Database("sqlite://")
    try:
        return migrate.new_revision(db.engine, metadata(), message, version_path=version_path)
    finally:
        db.close()


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit('usage: python -m tutor_app.tables "what changed"')
    print(new_revision(sys.argv[1]))
