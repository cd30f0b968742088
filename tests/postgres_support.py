"""A throwaway PostgreSQL server for the tests: a district runs the app on PostgreSQL, so the
storage, migration and tutoring tests run on a real one as well as on SQLite.

The cluster is made with Debian's own binaries (``initdb``/``pg_ctl`` from the ``postgresql``
package, which ``.ci/run`` installs) in a temporary folder, listens on 127.0.0.1 and a free port
only, trusts local connections (nothing outside this machine reaches it) and is stopped and
deleted when the test session ends. ``initdb`` refuses to run as root (CI runs as root), so as
root the server runs as the ``postgres`` user that the package creates.

Each test gets its own fresh database on that one server (``fresh_database``), so tests never
see each other's rows and the server starts once per test session.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("install Debian's PostgreSQL server (`apt-get install postgresql`, as .ci/run does) "
                "or set TUTOR_TEST_PG_BIN to the folder holding initdb and pg_ctl")
SUPERUSER = "tutor_test"
_names = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server cannot be started; the message says why and what to install."""


def server_binaries() -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: TUTOR_TEST_PG_BIN, else the newest
    /usr/lib/postgresql/N/bin (Debian keeps them off the PATH)."""
    configured = os.environ.get("TUTOR_TEST_PG_BIN")
    candidates = [Path(configured)] if configured else sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    where = configured or "/usr/lib/postgresql/*/bin"
    raise PostgresUnavailable(f"PostgreSQL's initdb and pg_ctl were not found in {where}: {INSTALL_HINT}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """A running throwaway cluster; ``url(name)`` is a SQLAlchemy URL of one of its databases."""

    bin_dir: Path
    root: Path
    port: int
    run_as: str | None  # the user the server runs as when the tests run as root

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"{' '.join(args[:2])} failed (exit {done.returncode}): "
                                      f"{done.stderr.strip() or done.stdout.strip()}\n{tail}")
        return done

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        # Socket in the cluster's own folder: /var/run/postgresql may not exist or be writable.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data_dir), "-o", options, "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def fresh_database(self) -> str:
        """A new, empty database on this server; its URL."""
        import psycopg

        name = f"tutor_{os.getpid()}_{next(_names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server() -> PostgresServer:
    """Start a throwaway cluster (see the module notes); raises ``PostgresUnavailable`` with what to do."""
    bin_dir = server_binaries()
    run_as = None
    root = Path(tempfile.mkdtemp(prefix="tutor-pg-"))
    if os.geteuid() == 0:
        run_as = os.environ.get("TUTOR_TEST_PG_USER", "postgres")
        try:
            user = pwd.getpwnam(run_as)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"the tests run as root and initdb refuses root, but there is no "
                                      f"{run_as!r} user to run it as: {INSTALL_HINT} (the package creates it)")
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), run_as=run_as)
    try:
        server.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server
