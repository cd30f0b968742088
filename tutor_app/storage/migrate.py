"""Bring a database to the newest schema, in-process, with no ``alembic.ini`` to ship.

The Alembic history in ``migrations/versions`` is append-only: each school's database moves
forward one revision at a time and keeps its rows. SQLite rebuilds a table for most changes
(batch mode); with foreign keys on, dropping the old copy would cascade-delete the rows that
point at it, so foreign keys are switched off for the migration and checked afterwards.

Revision ids say what changed (``0005_curation_and_model_provenance``), longer than the 32
characters of Alembic's own ``alembic_version`` column. SQLite ignores a string's length;
PostgreSQL refuses the longer id, so there the version table is made (or widened) to
``VERSION_NUM_LENGTH`` before Alembic looks at it.

A district's app processes may all start at once on a new PostgreSQL database, and each would
create the tables. The migration holds an advisory lock (``advisory.py``) in its one
transaction (PostgreSQL's DDL is transactional): the first process migrates and commits, the
others wait for it and then find the schema at head. SQLite has one app process.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
import sqlalchemy as sa
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

from .advisory import lock_name

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
VERSION_NUM_LENGTH = 128
SCHEMA_LOCK = "tutor_app:schema-migration"


class MigrationError(RuntimeError):
    pass


def alembic_config(connection: Connection | None = None, *, target_metadata: MetaData | None = None) -> Config:
    """``target_metadata``: every area's tables, for autogenerate only. Storage cannot import the
    areas above it, so whoever asks for a new revision hands them down (``tutor_app.tables``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    config.attributes["target_metadata"] = target_metadata
    return config


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise MigrationError(f"the migration history has {len(heads)} heads ({', '.join(heads)}); "
                             "each revision must name the previous one as down_revision")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Only effective outside a transaction, hence the commit right after.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            if not sqlite:
                lock_name(connection, SCHEMA_LOCK)  # until the commit below: see the module notes
                _wide_version_table(connection)
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(f"migration to {revision} left {len(broken)} rows pointing at missing rows "
                                         f"(first: table {broken[0][0]}, row {broken[0][1]})")
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _wide_version_table(connection: Connection) -> None:
    """Room for this history's revision ids in the version table (see the module notes)."""
    inspector = sa.inspect(connection)
    if not inspector.has_table(VERSION_TABLE):
        sa.Table(VERSION_TABLE, MetaData(),
                 sa.Column("version_num", sa.String(VERSION_NUM_LENGTH), nullable=False),
                 sa.PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc")).create(connection)
        return
    (column,) = [c for c in inspector.get_columns(VERSION_TABLE) if c["name"] == "version_num"]
    length = getattr(column["type"], "length", None)
    if length is not None and length < VERSION_NUM_LENGTH:
        Operations(MigrationContext.configure(connection)).alter_column(
            VERSION_TABLE, "version_num", type_=sa.String(VERSION_NUM_LENGTH), existing_type=column["type"],
            existing_nullable=False)


def new_revision(engine: Engine, target_metadata: MetaData, message: str, *, version_path: Path | None = None) -> Path:
    """Write the next revision, autogenerated from the difference between ``engine``'s database
    (at head) and ``target_metadata``; returns its file. Read it before committing: autogenerate misses
    renames and data moves, and each revision should say why in its docstring."""
    number = len(revisions()) + 1
    slug = "_".join("".join(c if c.isalnum() else " " for c in message.lower()).split())[:40] or "change"
    with engine.connect() as connection:
        config = alembic_config(connection, target_metadata=target_metadata)
        config.set_main_option("file_template", "%%(rev)s")  # the id already says what changed: 0004_add_x.py
        if version_path is not None:  # somewhere else than the history (tests), read beside it
            config.set_main_option("path_separator", "os")
            config.set_main_option("version_locations", os.pathsep.join(
                str(p).replace("%", "%%") for p in (MIGRATIONS_DIR / "versions", version_path)))
        script = command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}_{slug}",
                                  version_path=str(version_path) if version_path else None)
    return Path(script.path)
