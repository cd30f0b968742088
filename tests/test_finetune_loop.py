"""The fine-tuning loop end to end, on the CPU with the default model (issue 15's "Done means").

1. A scripted class fills the database through the app's services (the model is scripted here:
   what it says is the test's choice).
2. The teacher approves the tutor replies that open with one fixed phrase and rewrites the others
   to open with it (the toy objective; diagnoses, grades and corrections stay unreviewed, so the
   export holds replies only, and training stays within minutes on a CPU).
3. ``export-training`` writes the split and the held-out suite.
4. ``train-lora`` trains a few steps on the export: the toy objective is the opening phrase.
5. It converts the adapter to GGUF, and
6. llama.cpp loads it (the evaluation loads the model as the app does, with ``--lora``).
7. Base against adapter on the held-out suite: the report shows the adapter moved the tutor's
   replies towards the teachers' (similarity better, with its interval above zero) and opens them
   with the phrase, and the base model did not.
8. Deployed in the running app from the model panel's service, the adapter is named on the new
   outputs; switched back, the base model is.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tutor_app.curation.export import export_training
from tutor_app.curation.pseudonyms import Pseudonyms
from tutor_app.evals.commands import eval_adapter_command
from tutor_app.runtime.adapters import adapter_version
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.llama_backend import LlamaCppBackend
from tutor_app.settings import Settings
from tutor_app.training.commands import train_lora_command
from tutor_app.training.config import CPU_RECIPE
from tutor_app.tutoring.models import TutorMessage

from class_support import (EXPORT_SECRET, HELDOUT_SHARE, PROBLEM, TEACHER, UNIT, approve_phrase_replies,
                           class_services, phrase_replies, run_class, student)

# Training on the CPU takes minutes (and many more on a shared machine): above the suite's 600 s.
pytestmark = [pytest.mark.model, pytest.mark.timeout(2400)]


def test_curate_export_train_evaluate_deploy(smollm2_path, tmp_path):
    # 1-2: the class and the teacher
    model = ScriptedBackend()
    services = class_services(tmp_path, model)
    record = run_class(services, model, phrase_replies)
    approve_phrase_replies(services, record)
    # 3: export
    export = tmp_path / "export"
    report = export_training(services.db, services.library, services.assessment, services.prompts, export,
                             Pseudonyms(EXPORT_SECRET, heldout_share=HELDOUT_SHARE))
    services.close()
    assert report.counts[("train", "tutoring")] == 18 and report.counts[("heldout", "tutoring")] == 12
    assert report.total("train") == 18  # only what the teacher reviewed

    # 4-5: train a few steps and convert
    adapter = tmp_path / "models" / "adapters" / "opener.gguf"
    lines: list[str] = []
    config = CPU_RECIPE.with_overrides(max_steps=8, learning_rate=2e-3, batch_size=4, warmup_ratio=0.0,
                                       scheduler="constant", threads=1)
    settings = Settings(curricula=services.settings.curricula, models_dir=tmp_path / "models", n_ctx=1024)
    assert train_lora_command(export, adapter, settings, config=config, out=lines.append) == 0, lines
    print("\n".join(lines))
    trained = json.loads(adapter.with_name("opener.train.json").read_text())
    assert trained["steps"] == 8 and all(f.endswith(".jsonl") and "/train/" in f for f in trained["training_files"])
    print(f"training: {trained['train_seconds']} s for {trained['steps']} steps on {trained['examples']} examples, "
          f"loss {trained['losses'][0][1]:.3f} -> {trained['final_loss']:.3f}; adapter {trained['adapter_bytes']} bytes")

    # 6-7: llama.cpp loads it; base against adapter on the held-out students
    out = tmp_path / "eval"
    assert eval_adapter_command(report.suite, adapter, out, settings, out=lines.append) == 0, lines[-5:]
    comparison = json.loads((out / "comparison.json").read_text())
    similarity = next(m for m in comparison["metrics"] if m["metric"] == "reply_similarity")
    print("reply similarity base {first:.3f} -> adapter {second:.3f} (95% {low:+.3f} to {high:+.3f})".format(**similarity))
    assert similarity["verdict"] == "better" and similarity["low"] > 0
    base_run = json.loads((out / "base" / "report.json").read_text())["cases"]["tutoring"]
    adapted_run = json.loads((out / "adapter" / "report.json").read_text())["cases"]["tutoring"]
    opens = [sum(o["reply"].startswith("Let's reason") for o in run) for run in (base_run, adapted_run)]
    print(f"replies opening with the phrase: base {opens[0]}/{len(base_run)}, adapter {opens[1]}/{len(adapted_run)}")
    assert opens[0] == 0 and opens[1] >= len(adapted_run) * 3 // 4
    assert "| similarity to the teachers' replies (chrF) |" in (out / "comparison.md").read_text()
    [indexed] = json.loads(adapter.with_name("opener.evals.json").read_text())
    assert indexed["version"] == adapter_version(adapter) and indexed["differences"]["reply_similarity"]["verdict"] == "better"

    # 8: deployed in the running app, and switched back
    app = class_services(tmp_path, LlamaCppBackend(smollm2_path, n_ctx=1024))
    try:
        assert [a.name for a in app.adapters.listing(TEACHER).adapters] == ["opener.gguf"]
        app.adapters.activate(TEACHER, "opener.gguf")
        session = app.tutor.start_session(student("Kofi"), "Kofi", UNIT, PROBLEM).session_id
        replies = ["".join(app.tutor.ask_tutor(student("Kofi"), session, "How do I start?"))]
        app.adapters.switch_back(TEACHER)
        replies.append("".join(app.tutor.ask_tutor(student("Kofi"), session, "And then?")))
        with app.db.session() as db:
            stored = db.execute(sa.select(TutorMessage.adapter, TutorMessage.model_name, TutorMessage.content)
                                .where(TutorMessage.session_id == session, TutorMessage.role == "tutor")
                                .order_by(TutorMessage.id)).all()
        assert [(a, m) for a, m, _ in stored] == [(adapter_version(adapter), "SmolLM2-135M-Instruct.Q4_1"),
                                                  (None, "SmolLM2-135M-Instruct.Q4_1")]
        print(f"deployed reply: {stored[0][2][:80]!r}; after switching back: {stored[1][2][:80]!r}")
        assert stored[0][2].startswith("Let's reason")
    finally:
        app.close()
