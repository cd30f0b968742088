"""What a teacher uploads in the browser becomes one input the batch reader takes: a CSV, loose
.txt files or a zip, with clear refusals for what cannot be graded."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tutor_app.assessment.inputs import InputProblem, read_submissions
from tutor_app.assessment.uploads import gather_uploads

from assessment_support import SAMPLES

TEXTS = sorted((SAMPLES / "submissions").glob("*.txt"))


def make_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_one_csv_is_used_as_it_is(tmp_path):
    source = gather_uploads([SAMPLES / "submissions.csv"], tmp_path / "work")
    assert source.name == "submissions.csv"
    assert [s.student for s in read_submissions(source)][:2] == ["Amara", "Ben"]


def test_loose_text_files_become_a_folder_named_after_the_students(tmp_path):
    source = gather_uploads(TEXTS[:3], tmp_path / "work")
    assert source.is_dir()
    assert [s.student for s in read_submissions(source)] == ["Amara", "Ben", "Chloe"]
    assert read_submissions(source)[0].text == TEXTS[0].read_text(encoding="utf-8-sig")


def test_a_zip_of_texts_keeps_nothing_but_the_texts_and_only_their_names(tmp_path):
    upload = make_zip(tmp_path / "class-7b.zip", {
        "class-7b/Ana.txt": "Heat flows from the hand.", "class-7b/nested/Ben.txt": "Metal conducts.",
        "../../escape/Cy.txt": "Both are at room temperature.", "__MACOSX/class-7b/._Ana.txt": "junk",
        "class-7b/.DS_Store": "junk", "class-7b/": ""})
    source = gather_uploads([upload], tmp_path / "work")
    assert source == tmp_path / "work" / "class-7b"
    assert sorted(p.name for p in source.iterdir()) == ["Ana.txt", "Ben.txt", "Cy.txt"]
    assert not (tmp_path / "escape").exists()
    assert [s.student for s in read_submissions(source)] == ["Ana", "Ben", "Cy"]


def test_a_zip_with_one_csv_gives_that_csv(tmp_path):
    upload = make_zip(tmp_path / "export.zip", {"export/grades.csv": "student,text\nAna,Heat flows.\n"})
    source = gather_uploads([upload], tmp_path / "work")
    assert source.name == "grades.csv" and read_submissions(source)[0].text == "Heat flows."


@pytest.mark.parametrize("make, message", [
    (lambda d: [d / "notes.pdf"], "upload .csv, .txt or .zip files, not .pdf"),
    (lambda d: [SAMPLES / "submissions.csv", TEXTS[0]], "one CSV at a time"),
    (lambda d: [make_zip(d / "a.zip", {"Ana.txt": "x"}), TEXTS[0]], "zip on its own"),
    (lambda d: [make_zip(d / "b.zip", {"Ana.txt": "x", "list.csv": "student,text\n"})], "not both"),
    (lambda d: [make_zip(d / "c.zip", {"a/Ana.txt": "x", "b/ana.txt": "y"})], "two files for the same student"),
    (lambda d: [make_zip(d / "d.zip", {"readme.md": "x"})], "no .txt or .csv files inside"),
    (lambda d: [d / "broken.zip"], "not a readable zip"),
    (lambda d: [], "nothing was uploaded"),
])
def test_what_cannot_be_graded_is_refused_with_the_reason(tmp_path, make, message):
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    with pytest.raises(InputProblem, match=message):
        gather_uploads(make(tmp_path), tmp_path / "work")
