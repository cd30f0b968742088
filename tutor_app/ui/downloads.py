"""Files for the browser from wherever the app keeps them.

Gradio hands out only files under the working directory or the system's temporary folder,
and the data folder may be anywhere (``--data-dir /srv/tutor``). So a file kept there (a
worksheet, a drafts file) is copied into a fresh temporary folder first; the copy keeps the
name, which is what the teacher sees and saves.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def downloadable(*paths: Path) -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="tutor-download-"))
    copies = []
    for path in paths:
        target = folder / Path(path).name
        shutil.copyfile(path, target)
        copies.append(str(target))
    return copies
