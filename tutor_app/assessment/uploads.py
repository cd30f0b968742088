"""Turn what a teacher uploaded in the browser into one input the batch reader takes.

The command line is given a CSV or a folder; a browser can only send files. So the teacher
uploads one CSV, or several ``.txt`` files (one per student), or a zip of either, and this
gathers them into a CSV path or a folder of ``.txt`` files under a fresh working folder.
A zip is read member by member under limits (names reduced to their last part, so nothing
is written outside the folder; a size cap, so a zip bomb stops early). Two files for the same
student are refused rather than one silently replacing the other.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

from .inputs import InputProblem

TEXT_SUFFIXES = (".txt",)
CSV_SUFFIXES = (".csv", ".tsv")
MAX_ZIP_MEMBERS = 2000
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # a class set of essays is a few MB at most
UPLOADED_FOLDER = "uploaded"


def gather_uploads(paths: list[Path], work: Path) -> Path:
    """A CSV file or a folder of ``.txt`` files inside ``work`` (created), for ``read_submissions``."""
    paths = [Path(p) for p in paths if p]
    if not paths:
        raise InputProblem("nothing was uploaded: add a CSV (student and text columns), .txt files or a zip")
    for path in paths:
        if path.suffix.lower() not in TEXT_SUFFIXES + CSV_SUFFIXES + (".zip",):
            raise InputProblem(f"{path.name}: upload .csv, .txt or .zip files, not {path.suffix or 'a file without an extension'}")
    work.mkdir(parents=True, exist_ok=True)
    zips = [p for p in paths if p.suffix.lower() == ".zip"]
    csvs = [p for p in paths if p.suffix.lower() in CSV_SUFFIXES]
    if zips:
        if len(paths) > 1:
            raise InputProblem("upload a zip on its own, not together with other files")
        return _unzip(zips[0], work)
    if csvs:
        if len(paths) > 1:
            raise InputProblem("upload one CSV at a time, or .txt files (one per student) without a CSV")
        target = work / csvs[0].name
        shutil.copyfile(csvs[0], target)
        return target
    folder = work / UPLOADED_FOLDER
    folder.mkdir(exist_ok=True)
    _place_texts([(p.name, p.read_bytes()) for p in paths], folder)
    return folder


def _place_texts(files: list[tuple[str, bytes]], folder: Path) -> None:
    seen: dict[str, str] = {}
    for name, data in files:
        key = Path(name).stem.strip().lower()
        if key in seen:
            raise InputProblem(f"two files for the same student: {seen[key]} and {name}; keep one of them")
        seen[key] = name
        (folder / Path(name).name).write_bytes(data)


def _unzip(path: Path, work: Path) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputProblem(f"{path.name}: not a readable zip file") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not _hidden(m.filename)]
        if len(members) > MAX_ZIP_MEMBERS:
            raise InputProblem(f"{path.name}: {len(members)} files; at most {MAX_ZIP_MEMBERS} can be graded at once")
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise InputProblem(f"{path.name}: more than {MAX_UNZIPPED_BYTES // (1024 * 1024)} MB unzipped; "
                               "that is not a class set of texts")
        texts = [m for m in members if PurePosixPath(m.filename).suffix.lower() in TEXT_SUFFIXES]
        csvs = [m for m in members if PurePosixPath(m.filename).suffix.lower() in CSV_SUFFIXES]
        if texts and csvs or len(csvs) > 1:
            raise InputProblem(f"{path.name}: put either one CSV or .txt files (one per student) in the zip, not both")
        if csvs:
            target = work / PurePosixPath(csvs[0].filename).name
            target.write_bytes(archive.read(csvs[0]))
            return target
        if not texts:
            raise InputProblem(f"{path.name}: no .txt or .csv files inside (one text file per student, "
                               "named after the student)")
        folder = work / (Path(path.name).stem or UPLOADED_FOLDER)
        folder.mkdir(exist_ok=True)
        _place_texts([(PurePosixPath(m.filename).name, archive.read(m)) for m in texts], folder)
        return folder


def _hidden(name: str) -> bool:
    """Archivers add these (macOS resource forks, dot files); they are nobody's submission."""
    parts = PurePosixPath(name).parts
    return any(part == "__MACOSX" or part.startswith(".") and part not in (".", "..") for part in parts)
