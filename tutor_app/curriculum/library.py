"""The curricula the app serves: every valid file of the folder, reloadable while students work.

A teacher edits files during a lesson. ``reload()`` reads the folder again; a file that now has
a mistake is reported and the last good version of its unit stays live, so a typo never takes
a unit away from a class mid-problem. With a ``keep_dir`` (the app's data folder) the last good
text of every file is kept on disk too (``last_good.py``), so a restart serves it as well.
Reloads are serialised by a lock and publish fresh dicts in one go, so a request reading
``units`` never sees a half-built library.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CurriculumError
from .last_good import LastGoodCopies
from .loader import Loaded, LoadedFile, curriculum_files, load_file
from .schema import ConversationUnit, Rubric, Unit
from .validate import cross_file_duplicates, validate_loaded


@dataclass(frozen=True)
class LoadReport:
    """What one reload found: counts for the summary line, errors, and units kept from before."""

    files: int
    valid: int
    errors: list[CurriculumError] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # ids whose file broke; the last good version stays live

    @property
    def with_errors(self) -> int:
        return self.files - self.valid

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        text = f"{self.files} file{'s' if self.files != 1 else ''}, {self.valid} valid, {self.with_errors} with errors"
        if self.kept:
            text += f" (still serving the last good version of: {', '.join(self.kept)})"
        return text


class CurriculumLibrary:
    def __init__(self, root: Path, *, keep_dir: Path | None = None) -> None:
        """``keep_dir``: where the last good text of each file is kept across restarts (the app
        passes a folder in its data folder; ``python app.py check`` keeps nothing)."""
        self.root = Path(root)
        inside = keep_dir is not None and self.root.resolve() in (Path(keep_dir).resolve(), *Path(keep_dir).resolve().parents)
        # Copies below the curricula folder would be loaded as units of their own.
        self._copies = LastGoodCopies(keep_dir, self.root) if keep_dir is not None and not inside else None
        self.units: dict[str, Unit] = {}
        self.conversations: dict[str, ConversationUnit] = {}
        self.rubrics: dict[str, Rubric] = {}
        self.files: dict[str, Path] = {}  # unit or conversation id -> its file
        self.errors: list[CurriculumError] = []
        self.last_report: LoadReport | None = None
        self._last_good: dict[Path, Loaded] = {}
        self._lock = threading.Lock()

    def get_unit(self, unit_id: str) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            known = ", ".join(sorted(self.units)) or "none loaded"
            raise KeyError(f"no curriculum unit {unit_id!r} (loaded units: {known})") from None

    def reload(self) -> LoadReport:
        with self._lock:
            if not self.root.is_dir():
                error = CurriculumError(self.root, None, "", "the curricula folder does not exist")
                return self._publish({}, [error], LoadReport(0, 0, [error]))
            files = [load_file(p) for p in curriculum_files(self.root)]
            errors = [e for f in files for e in f.errors]
            errors += self._reject(files, cross_file_duplicates(files))
            # Rubric files first: steps of the units refer to them by id.
            rubrics = [f for f in files if isinstance(f.item, Rubric)]
            errors += self._reject(rubrics, [e for f in rubrics for e in validate_loaded(f, set())])
            rubric_ids = {f.item.id for f in rubrics if f.item is not None}
            rubric_ids |= {previous.id for f in files if f.item is None
                           for previous in [self._previous(f.path, set())] if isinstance(previous, Rubric)}
            others = [f for f in files if f.item is not None and not isinstance(f.item, Rubric)]
            errors += self._reject(others, [e for f in others for e in validate_loaded(f, rubric_ids)])

            good = {f.path: f.item for f in files if f.item is not None}
            taken = {(isinstance(item, Rubric), item.id) for item in good.values()}
            kept = {}
            for f in files:
                previous = self._previous(f.path, rubric_ids) if f.item is None else None
                if previous is not None and (isinstance(previous, Rubric), previous.id) not in taken:
                    kept[f.path] = previous
                    taken.add((isinstance(previous, Rubric), previous.id))
            self._keep_on_disk(files)
            errors.sort(key=CurriculumError.sort_key)
            bad_files = {e.file for e in errors}
            report = LoadReport(len(files), sum(1 for f in files if f.path not in bad_files), errors,
                                sorted(item.id for item in kept.values()))
            return self._publish({**good, **kept}, errors, report)

    def _previous(self, path: Path, rubric_ids: set[str]) -> Loaded | None:
        """The last good version of a file that is broken now: the one in memory, else (after a
        restart) the copy kept on disk."""
        if path in self._last_good:
            return self._last_good[path]
        return self._copies.recall(path, rubric_ids) if self._copies is not None else None

    def _keep_on_disk(self, files: list[LoadedFile]) -> None:
        if self._copies is None:
            return
        for f in files:
            if f.item is not None:
                self._copies.remember(f)
        self._copies.forget_all_but({f.path for f in files})

    @staticmethod
    def _reject(files: list[LoadedFile], errors: list[CurriculumError]) -> list[CurriculumError]:
        """Files with any of these errors are not served (their last good version may be)."""
        broken = {e.file for e in errors}
        for f in files:
            if f.path in broken:
                f.item = None
        return errors

    def _publish(self, items: dict[Path, Loaded], errors: list[CurriculumError], report: LoadReport) -> LoadReport:
        units, conversations, rubrics, files = {}, {}, {}, {}
        for path, item in sorted(items.items(), key=lambda kv: str(kv[0])):
            if isinstance(item, Rubric):
                rubrics[item.id] = item
            else:
                (units if isinstance(item, Unit) else conversations)[item.id] = item
                files[item.id] = path
        self._last_good = dict(items)
        self.units, self.conversations, self.rubrics, self.files = units, conversations, rubrics, files
        self.errors = list(errors)
        self.last_report = report
        return report
