"""Alembic environment for the tutor's database.

``Database`` runs migrations in-process and hands over its own connection in
``config.attributes["connection"]`` (an in-memory ``sqlite://`` database exists only on that
connection). The ``alembic`` command line works too for upgrades: pass the database with
``-x url=sqlite:///data/tutor.sqlite3``.

Autogenerate compares with ``config.attributes["target_metadata"]``: every area's tables, from
the one list in ``tutor_app/tables.py`` (storage cannot import the areas above it). Write a new
revision with ``python -m tutor_app.tables "what changed"``; without the list, autogenerate
refuses to run rather than write ``drop_table`` for the tables it was not shown.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
target_metadata = config.attributes.get("target_metadata")


def _configure_and_run(connection) -> None:
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("alembic: pass the database with -x url=SQLALCHEMY_URL")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _configure_and_run(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
