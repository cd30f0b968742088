"""The library the app serves from: the shipped samples, reloads that keep the last good version,
and reloads running while requests read."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from curriculum_helpers import UNIT, broken, load, write
from tutor_app.checking.options import CHECK_KINDS
from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.curriculum.params import render_variant
from tutor_app.curriculum.schema import Rubric, ScaffoldHint

SAMPLES = Path(__file__).resolve().parent.parent / "curricula"


@pytest.fixture(scope="module")
def samples() -> CurriculumLibrary:
    return load(SAMPLES)


def test_sample_curricula_load_without_errors(samples):
    assert samples.errors == [], "\n".join(map(str, samples.errors))
    assert {"linear-equations", "fractions", "parametric-practice", "energy-explanations"} <= set(samples.units)
    assert samples.last_report.valid == samples.last_report.files


def test_samples_show_every_feature(samples):
    mine = [samples.units[i] for i in ("linear-equations", "fractions", "parametric-practice", "energy-explanations")]
    steps = [step for unit in mine for problem in unit.problems for step in problem.steps]
    assert {step.check for step in steps} == set(CHECK_KINDS)
    assert any(isinstance(h, ScaffoldHint) for step in steps for h in step.hints)
    assert all(unit.misconceptions and any(s.misconceptions for p in unit.problems for s in p.steps) for unit in mine)
    assert any(isinstance(step.rubric, Rubric) for step in steps if step.check == "open")
    parametric = [p for p in samples.units["parametric-practice"].problems if p.params]
    assert len(parametric) >= 2
    assert any("$" in p.statement and "\\frac" in p.statement for u in mine for p in u.problems)


def test_sample_parametric_problems_render_without_leftover_placeholders(samples):
    for problem in samples.units["parametric-practice"].problems:
        for seed in range(20):
            dumped = render_variant(problem, seed).model_dump_json()
            assert not any("{" + name + "}" in dumped for name in problem.params), (problem.id, seed)


def test_reload_keeps_the_last_good_version_of_a_broken_unit(tmp_path):
    path = write(tmp_path, "algebra.yaml", UNIT)
    library = load(tmp_path)
    good = library.units["algebra"]
    write(tmp_path, "algebra.yaml", broken(UNIT, "check: numeric}", "check: numerc}").replace("Algebra", "Algebra 2"))
    report = library.reload()
    assert library.units["algebra"] is good and report.kept == ["algebra"]
    assert [e.path for e in library.errors] == ["problems[0].steps[0].hints[1].check"]
    assert report.summary() == "1 file, 0 valid, 1 with errors (still serving the last good version of: algebra)"
    assert library.files["algebra"] == path
    write(tmp_path, "algebra.yaml", UNIT.replace("title: Algebra", "title: Algebra fixed"))
    report = library.reload()
    assert library.units["algebra"].title == "Algebra fixed" and report.kept == [] and library.errors == []


def test_the_last_good_version_is_kept_on_disk_and_served_after_a_restart(tmp_path):
    curricula, kept = tmp_path / "curricula", tmp_path / "data" / "curricula-last-good"
    path = write(curricula, "math/algebra.yaml", UNIT)
    CurriculumLibrary(curricula, keep_dir=kept).reload()
    assert (kept / "math" / "algebra.yaml").read_text(encoding="utf-8") == UNIT  # the text that passed
    write(curricula, "math/algebra.yaml", broken(UNIT, "title: Algebra", "title: 'Algebra"))

    restarted = CurriculumLibrary(curricula, keep_dir=kept)  # nothing in memory: a new process
    report = restarted.reload()
    assert restarted.units["algebra"].title == "Algebra" and report.kept == ["algebra"]
    assert restarted.files["algebra"] == path and len(report.errors) == 1  # the error is still reported
    assert (kept / "math" / "algebra.yaml").read_text(encoding="utf-8") == UNIT  # never the broken text

    write(curricula, "math/algebra.yaml", UNIT.replace("title: Algebra", "title: Algebra fixed"))
    assert restarted.reload().ok and "Algebra fixed" in (kept / "math" / "algebra.yaml").read_text(encoding="utf-8")
    path.unlink()  # a unit the teacher removed stays removed, after a restart too
    restarted.reload()
    assert restarted.units == {} and not (kept / "math" / "algebra.yaml").exists()
    assert CurriculumLibrary(curricula, keep_dir=kept).reload().kept == []


def test_a_kept_copy_that_no_longer_validates_is_not_served(tmp_path):
    """A kept unit whose open step names a rubric that is gone now is not served half-working."""
    curricula, kept = tmp_path / "curricula", tmp_path / "kept"
    rubric = write(curricula, "r.yaml", "kind: rubric\nid: essay\ntitle: Essay\ncriteria:\n  - id: c\n    name: C\n"
                                        "    levels: [{score: 0, description: a}, {score: 1, description: b}]\n")
    unit = UNIT + "      - id: why\n        prompt: Why?\n        check: open\n        rubric: essay\n"
    write(curricula, "a.yaml", unit)
    assert CurriculumLibrary(curricula, keep_dir=kept).reload().ok
    write(curricula, "a.yaml", "id: [")
    rubric.unlink()
    library = CurriculumLibrary(curricula, keep_dir=kept)
    assert library.reload().kept == [] and library.units == {}


def test_copies_are_never_kept_inside_the_curricula_folder(tmp_path):
    write(tmp_path, "algebra.yaml", UNIT)
    library = CurriculumLibrary(tmp_path, keep_dir=tmp_path / "kept")
    library.reload()
    assert not (tmp_path / "kept").exists() and library.reload().ok


def test_a_broken_file_never_loaded_before_is_just_reported(tmp_path):
    library = CurriculumLibrary(tmp_path)
    write(tmp_path, "algebra.yaml", "id: [")
    report = library.reload()
    assert library.units == {} and report.kept == [] and len(library.errors) == 1


def test_deleted_or_renamed_units_go_away(tmp_path):
    path = write(tmp_path, "algebra.yaml", UNIT)
    library = load(tmp_path)
    write(tmp_path, "algebra.yaml", broken(UNIT, "id: algebra", "id: algebra-two"))
    library.reload()
    assert set(library.units) == {"algebra-two"}
    path.unlink()
    library.reload()
    assert library.units == {} and library.errors == [] and library.files == {}


def test_kept_version_yields_to_a_new_file_claiming_the_id(tmp_path):
    write(tmp_path, "a.yaml", UNIT)
    library = load(tmp_path)
    write(tmp_path, "a.yaml", "id: [")
    moved = write(tmp_path, "b.yaml", UNIT.replace("title: Algebra", "title: Moved"))
    report = library.reload()
    assert library.units["algebra"].title == "Moved" and library.files["algebra"] == moved and report.kept == []


def test_get_unit_names_what_is_loaded(tmp_path):
    write(tmp_path, "a.yaml", UNIT)
    library = load(tmp_path)
    assert library.get_unit("algebra").id == "algebra"
    with pytest.raises(KeyError, match="no curriculum unit 'geometry' \\(loaded units: algebra\\)"):
        library.get_unit("geometry")


def test_missing_folder_is_an_error_not_a_crash(tmp_path):
    library = CurriculumLibrary(tmp_path / "nowhere")
    report = library.reload()
    assert report.files == 0 and "does not exist" in str(library.errors[0]) and library.units == {}


def test_conversations_and_rubrics_have_their_own_maps(tmp_path):
    write(tmp_path, "talk.yaml", "kind: conversation\nid: cafe\ntitle: At the cafe\ntarget_language: es\nlevel: A1\n"
                                 "scenario: Order a drink\ncharacter: a waiter\nopening: Hola\n")
    write(tmp_path, "r.yaml", "kind: rubric\nid: cafe\ntitle: Same id, other kind\ncriteria:\n  - id: c\n    name: C\n"
                              "    levels: [{score: 0, description: a}, {score: 1, description: b}]\n")
    library = load(tmp_path)
    assert library.errors == [] and set(library.conversations) == {"cafe"} and set(library.rubrics) == {"cafe"}
    assert library.units == {} and library.files["cafe"].name == "talk.yaml"


def test_reload_while_requests_read(tmp_path):
    """Readers always see a complete library while another thread reloads over and over."""
    write(tmp_path, "a.yaml", UNIT)
    write(tmp_path, "b.yaml", UNIT.replace("id: algebra", "id: algebra-b"))
    library = load(tmp_path)
    problems: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            units = library.units
            if set(units) != {"algebra", "algebra-b"}:
                problems.append(f"saw {sorted(units)}")
            library.get_unit("algebra")

    def reload() -> None:
        for i in range(15):
            write(tmp_path, "a.yaml", UNIT if i % 2 else broken(UNIT, "check: numeric}", "check: oops}"))
            library.reload()

    readers = [threading.Thread(target=read) for _ in range(2)]
    reloaders = [threading.Thread(target=reload) for _ in range(2)]
    for t in readers + reloaders:
        t.start()
    for t in reloaders:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert problems == []
