"""The last valid text of each curriculum file, kept in the data folder, so that a restart still
serves a unit whose file a teacher broke.

``CurriculumLibrary.reload`` keeps a broken file's last good version live, but only in memory:
after a restart (a power cut, an update, the school's nightly reboot) the unit would be gone and
its students would silently lose it until someone fixed the file. So each file that loads
cleanly is copied, as the very text that passed, to ``<data>/curricula-last-good/<same path>``;
when a file is broken and the library has no version of it in memory, the copy is loaded and
validated like any file and served in its place (the teacher's page says so). The copies are
the app's, never the teacher's: the YAML in the curricula folder stays the one to edit, and a
copy whose file was deleted is deleted too, so removing a unit still removes it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .loader import Loaded, LoadedFile, load_file
from .schema import Rubric
from .validate import validate_loaded

log = logging.getLogger(__name__)

FOLDER_NAME = "curricula-last-good"


class LastGoodCopies:
    def __init__(self, folder: Path, root: Path) -> None:
        self.folder = Path(folder)
        self.root = Path(root)

    def _copy_of(self, path: Path) -> Path | None:
        try:
            return self.folder / Path(path).relative_to(self.root)
        except ValueError:  # not below the curricula folder: nothing to keep
            return None

    def remember(self, loaded: LoadedFile) -> None:
        """Keep the text of a file that passed every check (when it differs from the copy)."""
        copy = self._copy_of(loaded.path)
        if copy is None or loaded.text is None:
            return
        try:
            if copy.is_file() and copy.read_text(encoding="utf-8") == loaded.text:
                return
            copy.parent.mkdir(parents=True, exist_ok=True)
            partial = copy.with_name(copy.name + ".partial")
            partial.write_text(loaded.text, encoding="utf-8")
            os.replace(partial, copy)  # a crash mid-write never leaves half a unit as the "good" one
        except OSError as exc:  # a full or read-only disk costs the safety net, not the reload
            log.warning("could not keep the last good version of %s in %s: %s", loaded.path, self.folder, exc)

    def recall(self, path: Path, rubric_ids: set[str]) -> Loaded | None:
        """The unit (or rubric) of the kept copy of ``path``, when there is one and it is still
        valid as it stands (a rubric it named may be gone since): None otherwise."""
        copy = self._copy_of(path)
        if copy is None or not copy.is_file():
            return None
        loaded = load_file(copy)
        if loaded.item is None:
            return None
        if validate_loaded(loaded, set() if isinstance(loaded.item, Rubric) else rubric_ids):
            return None
        return loaded.item

    def forget_all_but(self, present: set[Path]) -> None:
        """Delete the copies of files that are no longer in the curricula folder."""
        if not self.folder.is_dir():
            return
        wanted = {copy for copy in map(self._copy_of, present) if copy is not None}
        for copy in self.folder.rglob("*"):
            if copy.is_file() and copy not in wanted:
                try:
                    copy.unlink()
                except OSError as exc:
                    log.warning("could not delete %s: %s", copy, exc)
