"""Children's data is readable by the account that runs the tutor and nobody else on the computer.

A school server is often shared (other teachers' accounts, a web server user, backup agents). So
the data folder is ``0700`` and the files in it ``0600``, whatever umask the service was started
with: the SQLite database and its ``-wal``/``-shm`` companions (SQLite gives those the database
file's own mode, so the database file is made private before SQLite first opens it), the roster,
worksheets, exported grades and spilled model states. ``private_umask`` makes every file the
process creates afterwards owner-only too; ``launch`` and the commands set it at start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_umask() -> None:
    os.umask(UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) and make it owner-only. An older version created it
    world-readable; tightening it on every start fixes that, and closes everything inside at once.
    Files inside are left as they are: the folder may be one the school chose, with its own files."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _tighten(path, DIR_MODE)
    return path


def private_if_present(path: Path) -> None:
    """An existing file of ours made owner-only (made by an older version, or copied in by hand)."""
    _tighten(Path(path), FILE_MODE)


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it is missing, owner-only either way."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def private_sqlite_file(path: Path) -> None:
    """The database file and the companions SQLite keeps beside it, owner-only (created if missing,
    so that SQLite's own companions inherit the mode)."""
    private_file(path)
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            _tighten(companion, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    """Remove group and other access (never add any); only for what this account owns."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
