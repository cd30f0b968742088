"""Migrations keep a school's data: a database made by any revision, filled with rows, reaches
head with every row intact. Parametrized over the whole history, so each revision added later
(by any area) is covered without writing a new test."""

from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import tutor_app
from tutor_app import tables
from tutor_app.service.people import PeopleStore
from tutor_app.storage import migrate
from tutor_app.storage.base import Base
from tutor_app.storage.database import Database
from tutor_app.tutoring.store import TutoringStore

ROWS_PER_TABLE = 3


def sample_value(column: sa.Column, table: str, i: int):
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return i + 1
    if isinstance(kind, (sa.Float, sa.Numeric)):
        return 0.25 * (i + 1)
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 1 + i, 8, 30)
    if isinstance(kind, sa.JSON):
        return {"table": table, "i": i}
    if isinstance(kind, sa.String) and kind.length:
        return f"{table[:6]}-{column.name[:8]}-{i}"[: kind.length]
    return f"{table}.{column.name} row {i}"


def fill_every_table(engine: sa.Engine) -> dict[str, list[dict]]:
    """Insert rows into every table of the schema as it stands, parents before children.
    Foreign keys point at the parent's i-th row, so the rows form a consistent class record."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    written: dict[str, list[dict]] = {}
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = []
            for i in range(ROWS_PER_TABLE):
                row = {}
                for column in table.columns:
                    fks = list(column.foreign_keys)
                    if fks:
                        parent = fks[0].column
                        row[column.name] = written[parent.table.name][i][parent.name]
                    else:
                        row[column.name] = sample_value(column, table.name, i)
                rows.append(row)
            connection.execute(table.insert(), rows)
            written[table.name] = rows
    return written


def read_every_table(engine: sa.Engine) -> dict[str, list[dict]]:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {table.name: [dict(r._mapping) for r in connection.execute(sa.select(table))]
                for table in metadata.sorted_tables if table.name != "alembic_version"}


def comparable(value):
    return json.loads(value) if isinstance(value, str) and value.startswith("{") else value


@pytest.mark.parametrize("revision", migrate.revisions())
def test_upgrade_from_each_revision_keeps_every_row(revision, school_db_url):
    url = school_db_url
    old = Database(url, migrate_to=revision)
    assert migrate.current_revision(old.engine) == revision
    written = fill_every_table(old.engine)
    old.close()

    new = Database(url)  # what starting a newer version of the app does
    assert migrate.current_revision(new.engine) == migrate.head_revision()
    after = read_every_table(new.engine)
    for table, rows in written.items():
        assert table in after, f"migrating from {revision} dropped table {table}"
        assert len(after[table]) == len(rows), f"migrating from {revision} lost rows of {table}"
        for before_row, after_row in zip(rows, after[table]):
            for column, value in before_row.items():
                if column in after_row:  # a later revision may drop a column on purpose
                    expected = value.isoformat(" ") if isinstance(value, datetime) else value
                    got = after_row[column]
                    got = got.isoformat(" ") if isinstance(got, datetime) else comparable(got)
                    assert got == expected, f"{table}.{column} changed when migrating from {revision}"
    new.close()


def test_first_revision_data_is_readable_through_the_store(school_db_url):
    """Rows written in the 0001 layout (raw SQL, as that version of the app wrote them; FALSE is
    the 0 SQLite stores and a boolean on PostgreSQL) are served by today's store: sessions resume, attempts and mastery are there."""
    url = school_db_url
    old = Database(url, migrate_to="0001_initial")
    with old.engine.begin() as c:
        c.exec_driver_sql("INSERT INTO students (id, name, created_at) VALUES (1, 'Ada', '2026-01-05 09:00:00')")
        c.exec_driver_sql(
            "INSERT INTO tutor_sessions (id, student_id, curriculum_id, problem_id, seed, progress, step_id, done, "
            "created_at, updated_at) VALUES ('tok-1', 1, 'linear-equations', 'two-step-1', 42, "
            "'{\"step_index\": 1}', 'solve', FALSE, '2026-01-05 09:00:00', '2026-01-05 09:05:00')")
        c.exec_driver_sql(
            "INSERT INTO attempts (session_id, step_id, answer, normalized, verdict, misconception_id, diagnosis, "
            "feedback, scaffold, created_at) VALUES ('tok-1', 'isolate', '2x = 14', '2*x = 14', 'misconception', "
            "'added-instead-of-subtracted', 'bug_rule', 'Which operation undoes + 3?', FALSE, '2026-01-05 09:01:00')")
        c.exec_driver_sql("INSERT INTO mastery (student_id, curriculum_id, skill_id, p_known, updated_at) "
                          "VALUES (1, 'linear-equations', 'inverse-operations', 0.31, '2026-01-05 09:01:00')")
    old.close()

    db = Database(url)
    store = TutoringStore(db)
    session = store.get_session(session_id="tok-1")
    assert (session.student, session.seed, session.step_id, session.progress) == ("Ada", 42, "solve",
                                                                                  {"step_index": 1})
    (attempt,) = store.attempts(session_id="tok-1")
    assert (attempt.answer, attempt.misconception_id) == ("2x = 14", "added-instead-of-subtracted")
    assert store.mastery(student="Ada", curriculum_id="linear-equations") == {"inverse-operations": 0.31}
    assert [s.id for s in store.open_sessions(student="Ada", curriculum_id="linear-equations")] == ["tok-1"]
    db.close()


def import_every_module() -> None:
    """Every module of the app, so that every table any area maps is on ``Base``."""
    for found in pkgutil.walk_packages(tutor_app.__path__, "tutor_app."):
        if ".migrations" not in found.name:
            importlib.import_module(found.name)


def test_the_one_list_of_tables_covers_every_mapped_table():
    """``tables.AREAS`` is what autogenerate is shown: a models module missing from it would
    make the next revision drop that area's tables."""
    import_every_module()
    assert tables.area_tables() == {mapper.local_table.name for mapper in Base.registry.mappers}


@pytest.mark.parametrize("engine", ["sqlite-memory", "postgresql"])
def test_the_migrations_build_exactly_every_areas_tables(engine, request):
    """The migrations build exactly the tables the ORM of every area describes, columns, types,
    indexes and foreign keys alike (no forgotten revision), and no table nobody maps."""
    db = Database("sqlite://" if engine == "sqlite-memory" else request.getfixturevalue("postgres_url"))
    with db.engine.connect() as connection:
        built = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        assert built == tables.area_tables()
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, tables.metadata()) == []
    db.close()


def test_a_districts_processes_all_starting_at_once_on_a_new_database_migrate_it_once(postgres_server):
    """Several app processes started together on a new PostgreSQL database (a deploy starts them
    all): each brings the schema to head on start. One migrates; the others wait for it, find
    it at head and start too, instead of failing on tables the first one is creating."""
    import threading

    for round_ in range(3):
        url = postgres_server.fresh_database()
        barrier, opened, errors = threading.Barrier(3), [], []

        def start():
            barrier.wait()
            try:
                opened.append(Database(url))
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == [], f"round {round_}"
        for db in opened:
            assert migrate.current_revision(db.engine) == migrate.head_revision()
            db.close()
        postgres_server.drop_database(url)


def test_a_new_revision_is_autogenerated_from_every_area(tmp_path):
    """What ``python -m tutor_app.tables MESSAGE`` writes while the models match the migrations:
    a revision with nothing to do. Shown only some areas, it would write ``drop_table``."""
    path = tables.new_revision("nothing changed", version_path=tmp_path)
    assert path.parent == tmp_path and path.name == f"{len(migrate.revisions()) + 1:04d}_nothing_changed.py"
    source = path.read_text(encoding="utf-8")
    upgrade = source[source.index("def upgrade"):source.index("def downgrade")]
    assert "op." not in upgrade and "pass" in upgrade
    assert f"down_revision = {migrate.head_revision()!r}" in source


def test_single_head():
    assert migrate.head_revision() == migrate.revisions()[-1]


def test_a_school_database_from_before_conversations_keeps_its_data_and_gains_them(school_db_url):
    """A database of revision 0002 (tutoring and grading rows, written as that version of the app
    wrote them) reaches head: the rows are served as before, its students can start conversations,
    and the dashboard counts their conversation errors beside the old misconceptions."""
    from tutor_app.language.corrections import PlacedError
    from tutor_app.dashboard.service import class_misconception_counts
    from tutor_app.language.store import ConversationStore

    url = school_db_url
    old = Database(url, migrate_to="0002_assessment")
    with old.engine.begin() as c:
        c.exec_driver_sql("INSERT INTO students (id, name, created_at) VALUES (1, 'Ada', '2026-01-05 09:00:00')")
        c.exec_driver_sql(
            "INSERT INTO tutor_sessions (id, student_id, curriculum_id, problem_id, seed, progress, step_id, done, "
            "created_at, updated_at) VALUES ('tok-1', 1, 'fractions', 'halves', 7, '{}', 'sum', FALSE, "
            "'2026-01-05 09:00:00', '2026-01-05 09:05:00')")
        c.exec_driver_sql(
            "INSERT INTO attempts (session_id, step_id, answer, normalized, verdict, misconception_id, diagnosis, "
            "feedback, scaffold, created_at) VALUES ('tok-1', 'sum', '2/5', '2/5', 'misconception', "
            "'add-denominators', 'bug_rule', 'Look at the denominators.', FALSE, '2026-01-05 09:01:00')")
        c.exec_driver_sql(
            "INSERT INTO assessment_submissions (rubric_id, student, text, content_hash, created_at) "
            "VALUES ('essay', 'Ada', 'My essay.', 'h1', '2026-01-05 10:00:00')")
    old.close()

    db = Database(url)
    store = TutoringStore(db)
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    assert store.get_session(session_id="tok-1").student == "Ada"
    (attempt,) = store.attempts(session_id="tok-1")
    assert attempt.misconception_id == "add-denominators"
    with db.engine.connect() as c:
        assert c.exec_driver_sql("SELECT student, text FROM assessment_submissions").fetchall() == [("Ada", "My essay.")]

    conversations = ConversationStore(db)
    conversations.create(session_id="c-1", student="Ada", curriculum_id="tapas", level="A2", opening="¡Hola!")
    turn = conversations.add_student_turn(session_id="c-1", content="Un cerveza", level="A2")
    conversations.record_correction(turn_id=turn.id, status="checked", corrected="Una cerveza", goals_met=[],
                                    level="A2", errors=[PlacedError(0, 10, "Un cerveza", "Una cerveza",
                                                                    "gender-agreement", "Cerveza is feminine.")])
    assert PeopleStore(db).student_names() == ["Ada"]  # the same student, not a second one
    counts = {(r.curriculum_id, r.misconception_id): r.count for r in class_misconception_counts(db)}
    assert counts == {("fractions", "add-denominators"): 1, ("tapas", "gender-agreement"): 1}
    db.close()


def test_a_school_database_from_before_fitted_mastery_gains_the_parameters_history(school_db_url):
    """A database of revision 0003 reaches head: its mastery estimates are untouched, and the
    class's parameters can be adopted and read back (none are adopted at first)."""
    from tutor_app.curriculum.schema import BKTParams
    from tutor_app.tutoring.mastery_params import MasteryParamsStore, ParamsChange

    url = school_db_url
    old = Database(url, migrate_to="0003_language")
    with old.engine.begin() as c:
        c.exec_driver_sql("INSERT INTO students (id, name, created_at) VALUES (1, 'Ada', '2026-01-05 09:00:00')")
        c.exec_driver_sql("INSERT INTO mastery (student_id, curriculum_id, skill_id, p_known, updated_at) "
                          "VALUES (1, 'fractions', 'halves', 0.6, '2026-01-05 09:01:00')")
    old.close()

    db = Database(url)
    assert migrate.current_revision(db.engine) == migrate.head_revision()
    assert TutoringStore(db).mastery(student="Ada", curriculum_id="fractions") == {"halves": 0.6}
    params = MasteryParamsStore(db)
    assert params.adopted(curriculum_id="fractions") == {}
    fitted = BKTParams(p_init=0.31, p_transit=0.12, p_guess=0.22, p_slip=0.08)
    params.record(curriculum_id="fractions", changes=[ParamsChange("halves", BKTParams(), fitted, 200, 2000)],
                  changed_by="teacher")
    assert params.adopted(curriculum_id="fractions") == {"halves": fitted}
    (entry,) = params.history()
    assert (entry.before, entry.after, entry.students, entry.changed_by) == (BKTParams(), fitted, 200, "teacher")
    db.close()
