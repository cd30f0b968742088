"""Files between the browser and the app, kept no longer than they are needed.

Gradio hands out only files under the working directory or the system's temporary folder,
and the data folder may be anywhere (``--data-dir /srv/tutor``). So a file kept there (a
worksheet, a drafts file) is copied into a fresh temporary folder first; the copy keeps the
name, which is what the teacher sees and saves. Such copies carry students' names, so folders
older than ``KEEP_S`` are removed whenever a new one is made (Gradio's own copy is swept by
``delete_cache``). Uploads are Gradio's copies in its upload folder; ``discard_uploads`` deletes
them once the app has read them.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from gradio.utils import get_upload_folder

PREFIX = "tutor-download-"
KEEP_S = 3600.0


def discard_uploads(paths: list[Path]) -> None:
    """Delete Gradio's stored copies of uploaded files (only those: a path elsewhere is a file of
    the school's own, given by a script or a test, and is left alone)."""
    uploads = Path(get_upload_folder()).resolve()
    for path in paths:
        if uploads in Path(path).resolve().parents:
            Path(path).unlink(missing_ok=True)


def fresh_folder() -> Path:
    """A new temporary folder for files on their way to the browser (old ones are swept first)."""
    _sweep_old_copies()
    return Path(tempfile.mkdtemp(prefix=PREFIX))


def downloadable(*paths: Path) -> list[str]:
    folder = fresh_folder()
    copies = []
    for path in paths:
        target = folder / Path(path).name
        shutil.copyfile(path, target)
        copies.append(str(target))
    return copies


def _sweep_old_copies() -> None:
    cutoff = time.time() - KEEP_S
    for old in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue  # another process's, or gone already
