"""The tutoring section of an evaluation suite: the tutor's reply at a recorded moment against
the reply a teacher approved, measured with chrF (values worked out by hand), compared with a
confidence interval, and checked like every other section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor_app.curriculum.library import CurriculumLibrary
from tutor_app.dialogue.tutor_chat import build_messages
from tutor_app.evals.commands import eval_adapter_command
from tutor_app.evals.compare import compare_runs
from tutor_app.evals.metrics import all_metrics
from tutor_app.evals.runner import run_suite
from tutor_app.evals.similarity import chrf
from tutor_app.evals.suite import load_suite
from tutor_app.prompting import PromptLibrary
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelError
from tutor_app.settings import Settings

REPO = Path(__file__).resolve().parent.parent
OPENER = "Let's reason together."
SUITE = f"""kind: eval-suite
id: replies
title: Replies the teacher approved
tutoring:
  - id: first
    unit: linear-equations
    problem: one-step-add
    step: solve
    message: "I don't get it"
    attempts: [{{step: solve, answer: "x = 22", misconception: same-operation-not-inverse}}]
    hints: ["What undoes adding 7?"]
    history: [{{role: student, content: "hi"}}, {{role: tutor, content: "Hello! What do you notice?"}}]
    reference: "{OPENER} What operation undoes adding 7?"
"""


@pytest.fixture(scope="module")
def library():
    lib = CurriculumLibrary(REPO / "curricula")
    assert lib.reload().ok
    return lib


def test_chrf_by_hand():
    """"ab" against "abc": 1-grams P 2/2, R 2/3; 2-grams P 1/1, R 1/2; no 3-grams in "ab" (left out).
    Mean P = 1, mean R = 7/12; F(beta=2) = 5 * 1 * 7/12 / (4 * 1 + 7/12) = 7/11. Spaces do not count."""
    assert chrf("ab", "abc") == pytest.approx(7 / 11)
    assert chrf("a b", "ab c") == pytest.approx(7 / 11)
    assert chrf("What undoes adding 7?", "What undoes adding 7?") == pytest.approx(1.0)
    assert chrf("xy", "ab") == 0.0
    assert chrf("", "") == 1.0 and chrf("", "ab") == 0.0
    # recall weighs more than precision: the reference inside a longer reply beats a short partial one
    assert chrf(f"{OPENER} What undoes adding 7? Think.", f"{OPENER} What undoes adding 7?") > \
        chrf("What undoes", f"{OPENER} What undoes adding 7?")


def test_a_tutoring_case_is_asked_in_the_state_it_records(library, tmp_path):
    path = tmp_path / "replies.yaml"
    path.write_text(SUITE, encoding="utf-8")
    loaded = load_suite(path, library)
    assert loaded.errors == []
    model = ScriptedBackend()
    model.enqueue_text(f"{OPENER} Which operation undoes adding 7?")
    run = run_suite(loaded.suite, library, model, PromptLibrary())
    [outcome] = run.tutoring
    assert outcome.reply == f"{OPENER} Which operation undoes adding 7?"
    assert outcome.similarity == pytest.approx(chrf(outcome.reply, outcome.reference)) and outcome.similarity > 0.8
    unit = library.units["linear-equations"]
    problem = next(p for p in unit.problems if p.id == "one-step-add")
    assert model.calls[0].messages == build_messages(
        prompts=PromptLibrary(), unit=unit, problem=problem, step_index=0,
        attempts=[{"step_id": "solve", "answer": "x = 22", "verdict": "incorrect",
                   "misconception_id": "same-operation-not-inverse"}],
        misconceptions_seen=["same-operation-not-inverse"],
        history=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello! What do you notice?"}],
        student_message="I don't get it", hints_shown=["What undoes adding 7?"], count_tokens=model.count_tokens,
        n_ctx=4096)
    metrics = all_metrics(run)
    assert metrics["reply_similarity"] == {"value": outcome.similarity, "n": 1, "failed": 0}


def test_a_failed_reply_is_counted_not_scored(library, tmp_path):
    path = tmp_path / "replies.yaml"
    path.write_text(SUITE, encoding="utf-8")

    class Failing(ScriptedBackend):
        def stream_chat(self, messages, **kwargs):
            raise ModelError("llama.cpp failed")
            yield  # pragma: no cover

    run = run_suite(load_suite(path, library).suite, library, Failing(), PromptLibrary())
    [outcome] = run.tutoring
    assert outcome.similarity is None and "llama.cpp failed" in outcome.error
    assert all_metrics(run)["reply_similarity"] == {"value": None, "n": 0, "failed": 1}


def test_the_comparison_calls_replies_closer_to_the_teachers_better(library, tmp_path):
    cases = "\n".join(f"  - {{id: c{i}, unit: linear-equations, problem: one-step-add, step: solve, "
                      f'message: "question {i}", reference: "{OPENER} Hint number {i}."}}' for i in range(8))
    path = tmp_path / "replies.yaml"
    path.write_text(f"kind: eval-suite\nid: replies\ntitle: t\ntutoring:\n{cases}\n", encoding="utf-8")
    suite = load_suite(path, library).suite
    base, adapted = ScriptedBackend(), ScriptedBackend()
    for i in range(8):
        base.enqueue_text(f"Maybe consider looking at the equation again, question {i}?")
        adapted.enqueue_text(f"{OPENER} Hint number {i}, look again.")
    first = run_suite(suite, library, base, PromptLibrary())
    second = run_suite(suite, library, adapted, PromptLibrary())
    comparison = compare_runs(first, second, resamples=500)
    similarity = next(m for m in comparison.metrics if m.metric == "reply_similarity")
    assert similarity.verdict == "better" and similarity.low > 0.2
    assert comparison.recommendation == "deploy"


def test_eval_with_an_adapter_records_the_comparison_next_to_it(library, tmp_path):
    path = tmp_path / "replies.yaml"
    path.write_text(SUITE, encoding="utf-8")
    adapter = tmp_path / "adapters" / "school.gguf"
    adapter.parent.mkdir()
    adapter.write_bytes(b"GGUF adapter bytes")
    assert eval_adapter_command(path, adapter, tmp_path / "eval", Settings(curricula=REPO / "curricula"),
                                backend_factory=lambda s: ScriptedBackend(), out=lambda line: None) == 0
    [entry] = json.loads((tmp_path / "adapters" / "school.evals.json").read_text())
    assert entry["suite"] == "replies" and entry["report"] == str((tmp_path / "eval").resolve())
    assert entry["recommendation"] == "no evidence that it helps" and entry["version"].startswith("school.gguf@")
    assert set(entry["differences"]) >= {"reply_similarity", "answer_leak_rate"}
