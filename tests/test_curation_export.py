"""``export-training``: only teacher-approved or teacher-corrected items, with the prompts the app
really sent, students pseudonymized by a keyed hash, a by-student split no student crosses, and a
datasheet beside the files. A scripted class fills the database through the app's own services,
so each exported prompt can be compared with what the scripted model was actually sent."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat

import pytest

from tutor_app.cli import main
from tutor_app.curation.export import export_training
from tutor_app.curation.pseudonyms import SECRET_FILE, Pseudonyms, install_secret
from tutor_app.evals.suite import load_suite
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.training.examples import load_training_data, read_examples

from class_support import (EXPORT_SECRET, HELDOUT_SHARE, RUBRIC, STUDENTS, TEACHER, class_services, run_class)

OPENER = "Let's reason together."
HELD_OUT = {"Ada", "Chloe", "Elif", "Grace"}


def replies(name: str, number: int) -> str:
    return {0: f"{OPENER} What undoes adding 7, {name}?", 1: "The answer is x = 8.",
            2: "Maybe try something."}[number]


@pytest.fixture
def model():
    return ScriptedBackend()


@pytest.fixture
def curated(tmp_path, model):
    """A class of ten; the teacher approves, rewrites, rejects and leaves things unreviewed."""
    services = class_services(tmp_path, model)
    record = run_class(services, model, replies)
    curation = services.curation
    for name, session_id in record.sessions.items():
        bug_rule, by_model, good, cut, poor = curation.session_items(TEACHER, session_id)
        curation.judge_reply(TEACHER, good.id, "good")
        if name == "Ben":
            curation.judge_reply(TEACHER, cut.id, "good")  # approved, but the guard cut it: left out
        else:
            curation.judge_reply(TEACHER, cut.id, "rewritten", f"{OPENER} Which operation undoes + 7, {name}?")
        curation.judge_reply(TEACHER, poor.id, "bad")
        curation.judge_diagnosis(TEACHER, bug_rule.id, "confirmed")
        if name != "Jonah":  # Jonah's second answer is not reviewed
            curation.judge_diagnosis(TEACHER, by_model.id, "corrected", "none")
    for name, conversation in record.conversations.items():
        [turn] = curation.conversation_items(TEACHER, conversation)
        curation.judge_correction(TEACHER, turn.id, "rejected" if name == "Felix" else "approved")
    grades = {row.student: row for row in services.assessment.list_grades(TEACHER, RUBRIC)}
    services.assessment.confirm(TEACHER, grades["Ada"].submission_id, rubric_id=RUBRIC)
    services.assessment.override(TEACHER, grades["Ben"].submission_id, "claim", score=1,
                                 comment="The claim is not stated.", rubric_id=RUBRIC)
    services.assessment.override(TEACHER, grades["Chloe"].submission_id, "claim", score=1, rubric_id=RUBRIC)
    yield services, record
    services.close()


def export(services, out, secret=EXPORT_SECRET, share=HELDOUT_SHARE):
    return export_training(services.db, services.library, services.assessment, services.prompts, out,
                           Pseudonyms(secret, heldout_share=share))


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def every_example(out):
    return [(path, example) for path in sorted(out.rglob("*.jsonl")) for example in lines(path)]


def test_only_approved_or_corrected_items_are_exported_and_the_rest_is_accounted_for(curated, tmp_path):
    services, _ = curated
    report = export(services, tmp_path / "export")
    counts = {task: report.counts[("train", task)] + report.counts[("heldout", task)]
              for task in ("tutoring", "classification", "grading", "corrections")}
    # replies: 10 good + 9 rewritten (Ben's cut one is left out), none of the 10 bad ones
    # diagnoses: 10 confirmed bug rules + 9 corrected; grading: Ada's 4 confirmed criteria + Ben's override
    # (Chloe's score without a comment is left out); corrections: 9 approved (Felix's rejected)
    assert counts == {"tutoring": 19, "classification": 19, "grading": 5, "corrections": 9}
    reasons = {(e.task, e.reason) for e in report.collected.excluded}
    assert reasons == {
        ("tutoring", "marked bad by the teacher"),
        ("tutoring", "cut by the answer-leak guard (the stored reply ends in the guard's redirect, not the model's "
                     "words); rewrite it to use it"),
        ("grading", "score overridden without a comment (the model's justification argued for another score)"),
        ("corrections", "rejected by the teacher")}
    assert report.collected.not_reviewed == {"tutoring": 0, "classification": 1, "grading": 7, "corrections": 0}
    answers = [e["messages"][-1]["content"] for _, e in every_example(tmp_path / "export")
               if e["meta"]["task"] == "tutoring"]
    assert all(a.startswith(OPENER) for a in answers) and not any("x = 8" in a or "Maybe" in a for a in answers)
    sources = {(e["meta"]["task"], e["meta"]["source"]) for _, e in every_example(tmp_path / "export")}
    assert sources == {("tutoring", "approved"), ("tutoring", "rewritten"), ("classification", "confirmed"),
                       ("classification", "corrected"), ("grading", "confirmed"), ("grading", "overridden"),
                       ("corrections", "approved")}


def test_each_prompt_is_the_one_the_app_sent(curated, model, tmp_path):
    services, _ = curated
    export(services, tmp_path / "export", share=0.0)  # everyone in train/: the names are easier to follow
    sent = [[{"role": m["role"], "content": m["content"]} for m in call.messages] for call in model.calls]
    pseudonyms = Pseudonyms(EXPORT_SECRET, heldout_share=0.0)
    scrubbed = [[{**m, "content": pseudonyms.scrub(m["content"], STUDENTS)} for m in call] for call in sent]
    for path, example in every_example(tmp_path / "export"):
        prompt = [{"role": m["role"], "content": m["content"]} for m in example["messages"][:-1]]
        if example["meta"]["task"] == "classification" and "x = 22" in json.dumps(prompt):
            # a bug rule's diagnosis: the model was never asked about x = 22, and would have been
            prompt = json.loads(json.dumps(prompt).replace("x = 22", "x = 9"))  # asked just as for x = 9
        assert prompt in scrubbed, f"{path.name}: {example['meta']} was not sent like this"
        assert all(m.get("weight") == 0 for m in example["messages"][:-1] if m["role"] == "assistant")
    by_task = {}
    for _, example in every_example(tmp_path / "export"):
        by_task.setdefault(example["meta"]["task"], []).append(example)
    diagnosis = json.loads(by_task["classification"][0]["messages"][-1]["content"])
    assert list(diagnosis) == ["reasoning", "misconception_id", "feedback"]  # the schema's order
    grade = json.loads(by_task["grading"][0]["messages"][-1]["content"])
    assert list(grade) == ["justification", "score", "next_step"]
    overridden = next(e for e in by_task["grading"] if e["meta"]["source"] == "overridden")
    assert json.loads(overridden["messages"][-1]["content"])["justification"] == "The claim is not stated."
    correction = json.loads(by_task["corrections"][0]["messages"][-1]["content"])
    assert correction == {"corrected": "Quiero una cerveza.", "errors": [
        {"span": "un cerveza", "correction": "una cerveza", "category": "gender-agreement",
         "explanation": "Cerveza is feminine."}]}


def test_students_are_pseudonyms_under_this_installs_secret(curated, tmp_path):
    services, _ = curated
    export(services, tmp_path / "export")
    written = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "export").rglob("*") if p.is_file())
    for name in STUDENTS:
        assert not re.search(rf"\b{name}\b", written), f"{name} appears in the export"
    pseudonyms = Pseudonyms(EXPORT_SECRET)
    used = set(re.findall(r"student-[0-9a-f]{10}", written))
    assert used == {pseudonyms.of(name) for name in STUDENTS}
    assert pseudonyms.of("Ada") == pseudonyms.of("  ada ")  # the same student however the name was typed
    assert pseudonyms.of("Ada") != Pseudonyms(bytes(32)).of("Ada")  # another school, another pseudonym
    assert hashlib.sha256(b"Ada").hexdigest()[:10] not in written  # not a plain hash anyone can recompute
    again = export(services, tmp_path / "again")
    assert again.counts == export(services, tmp_path / "export").counts
    assert (tmp_path / "again" / "train" / "tutoring.jsonl").read_text() == \
        (tmp_path / "export" / "train" / "tutoring.jsonl").read_text()


def test_the_install_secret_is_made_once_and_kept_private(tmp_path):
    secret = install_secret(tmp_path / "data")
    assert len(secret) == 32 and install_secret(tmp_path / "data") == secret
    assert stat.S_IMODE(os.stat(tmp_path / "data" / SECRET_FILE).st_mode) == 0o600
    assert install_secret(tmp_path / "other") != secret


def test_the_split_is_by_student_and_no_student_is_on_both_sides(curated, model, tmp_path):
    services, _ = curated
    report = export(services, tmp_path / "export")
    pseudonyms = Pseudonyms(EXPORT_SECRET, heldout_share=HELDOUT_SHARE)
    sides = {}
    for path, example in every_example(tmp_path / "export"):
        sides.setdefault(example["meta"]["student"], set()).add(path.parent.name)
    assert all(len(s) == 1 for s in sides.values())
    held_out = {p for p, s in sides.items() if s == {"heldout"}}
    assert held_out == {pseudonyms.of(name) for name in HELD_OUT}
    assert report.students == {"train": 6, "heldout": 4}
    # a new student joins and everything is exported again: nobody changes side
    run_class(services, model, replies, students=["Kofi"])
    export(services, tmp_path / "later")
    for path, example in every_example(tmp_path / "later"):
        if example["meta"]["student"] in sides:
            assert path.parent.name in sides[example["meta"]["student"]]
    # the trainer reads the training side only, and every line is a valid example
    data = load_training_data(tmp_path / "export")
    assert data.errors == [] and all(p.parent.name == "train" for p in data.files)
    assert len(data.examples) == report.total("train")
    for path in (tmp_path / "export" / "heldout").glob("*.jsonl"):
        assert "heldout" in path.name and read_examples(path)[1] == []


def test_the_held_out_split_is_an_evaluation_suite(curated, tmp_path):
    services, _ = curated
    report = export(services, tmp_path / "export")
    loaded = load_suite(report.suite, services.library)
    assert loaded.errors == []
    suite = loaded.suite
    assert len(suite.tutoring) == 2 * len(HELD_OUT) and len(suite.misconceptions) == 2 * len(HELD_OUT)
    assert [c.rubric for c in suite.rubric_grading] == [RUBRIC]  # Ada's confirmed grade
    assert all(c.reference.startswith(OPENER) for c in suite.tutoring)
    labels = {c.expected for c in suite.misconceptions}
    assert labels == {"same-operation-not-inverse", "none"}


def test_the_datasheets_say_what_is_in_and_what_is_not(curated, tmp_path):
    services, _ = curated
    export(services, tmp_path / "export")
    train = (tmp_path / "export" / "train" / "datasheet.md").read_text(encoding="utf-8")
    assert "| tutoring replies | linear-equations | 11 | 6 |" in train  # Ben's cut reply is left out
    assert "| rubric grading | explain-your-reasoning | 1 | 1 |" in train  # Ben's overridden criterion
    assert "| language corrections | spanish-a2-tapas-bar | 5 | 5 |" in train  # Felix's was rejected
    assert "| tutoring replies | linear-equations | marked bad by the teacher | 10 |" in train
    assert "| misconception classification | all | not reviewed by a teacher | 1 |" in train
    assert re.search(r"Model outputs from \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d UTC", train)
    assert "first 30% of its range" in train and "no student is in both" in train
    held_out = (tmp_path / "export" / "heldout" / "datasheet.md").read_text(encoding="utf-8")
    assert "`tutoring.heldout.jsonl` | tutoring replies | 8 |" in held_out and "`eval-suite.yaml`" in held_out


def test_the_command_writes_the_export_from_the_database(curated, tmp_path, capsys):
    services, _ = curated
    settings = services.settings
    (settings.data_dir / SECRET_FILE).write_bytes(EXPORT_SECRET)
    argv = ["export-training", str(tmp_path / "cli"), "--heldout-share", "0.3", "--curricula", str(settings.curricula),
            "--data-dir", str(settings.data_dir), "--db-url", settings.db_url]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "tutoring replies: 11 to train on, 8 held out" in out and "students: 6 in train/, 4 in heldout/" in out
    assert (tmp_path / "cli" / "train" / "datasheet.md").is_file()
    assert "counted with its own tokenizer" in (tmp_path / "cli" / "train" / "datasheet.md").read_text()
    assert main(["export-training", str(tmp_path / "x"), "--heldout-share", "1.5", "--data-dir",
                 str(settings.data_dir)]) == 1
    assert "held-out share" in capsys.readouterr().err
