"""Shared pieces of the assessment and practice tests: the sample rubric and scripted graders.

A scripted grader answers from what the prompt actually contains (the allowed scores come from
the schema the code passed, the quote from the submission the prompt shows), so a test fails
if the code sends the wrong schema or the wrong text.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Callable

from tutor_app.assessment.inputs import SubmissionInput
from tutor_app.curriculum.loader import load_file
from tutor_app.curriculum.schema import Rubric
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.runtime.protocol import ModelInfo

REPO = Path(__file__).resolve().parent.parent
SAMPLE_RUBRIC_FILE = REPO / "curricula" / "rubrics" / "explain-your-reasoning.yaml"
SAMPLES = REPO / "samples"


def sample_rubric() -> Rubric:
    loaded = load_file(SAMPLE_RUBRIC_FILE)  # the curricula's own reader (YAML 1.2: "no" stays a string)
    assert loaded.item is not None, loaded.errors
    return loaded.item


def small_rubric(rubric_id: str = "short-answer") -> Rubric:
    return Rubric.model_validate({
        "id": rubric_id, "title": "Short answer", "subject": "science", "task": "Why do we have seasons?",
        "criteria": [
            {"id": "accuracy", "name": "Accuracy", "weight": 2,
             "levels": [{"score": 0, "description": "wrong"}, {"score": 1, "description": "partly right"},
                        {"score": 2, "description": "right"}]},
            {"id": "clarity", "name": "Clarity",
             "levels": [{"score": 0, "description": "unclear"}, {"score": 2, "description": "clear"},
                        {"score": 4, "description": "very clear", "exemplars": ["The tilt of the axis..."]}]},
        ]})


def allowed_scores(schema) -> list[int]:
    return schema.model_json_schema()["properties"]["score"]["enum"]


def submission_in(messages) -> str:
    found = re.search(r"<<<\n(.*)\n>>>", "\n".join(m["content"] for m in messages), re.DOTALL)
    assert found, "the grading prompt must show the submission between <<< and >>>"
    return found.group(1)


def criterion_in(messages) -> str:
    return re.search(r"Grade ONE criterion only: (.+?)\.", messages[-1]["content"]).group(1)


ScorePolicy = Callable[[str, str, list[int]], int]  # (criterion name, submission part, allowed) -> score


def top_score(_criterion: str, _text: str, allowed: list[int]) -> int:
    return max(allowed)


def grading_reply(policy: ScorePolicy = top_score, *, quote: bool = True):
    """A JSON reply for either call of the grader: a criterion grade or the summary."""
    def reply(messages, schema):
        if "score" in schema.model_fields:
            text = submission_in(messages)
            name = criterion_in(messages)
            words = " ".join(text.split()[:4])
            justification = f'The student writes "{words}".' if quote else "Good work overall."
            return {"justification": justification, "score": policy(name, text, allowed_scores(schema)),
                    "next_step": f"Improve your {name.lower()}."}
        return {"next_steps": ["Add one more piece of evidence.", "Explain how heat moves."]}
    return reply


def enqueue_grading(model: ScriptedBackend, calls: int, policy: ScorePolicy = top_score, **kw) -> None:
    for _ in range(calls):
        model.enqueue_json(grading_reply(policy, **kw))


class SmallContextModel(ScriptedBackend):
    """A scripted model that reports a small context, to make the grader cut submissions."""

    def __init__(self, n_ctx: int, **kw) -> None:
        super().__init__(**kw)
        self.n_ctx = n_ctx

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="scripted-small", backend="fake", n_ctx=self.n_ctx)


def json_calls(model: ScriptedBackend) -> list:
    return [c for c in model.calls if c.kind == "json"]


CALLS_PER_SUBMISSION = 3  # small_rubric: two criteria and the summary


def inputs(*pairs: tuple[str, str]) -> list[SubmissionInput]:
    return [SubmissionInput(student=s, text=t, source_file="class.csv", source_row=i + 2)
            for i, (s, t) in enumerate(pairs)]


CLASS = inputs(("Ana", "The tilt of the axis."), ("Ben", "The sun is closer in summer."), ("Cy", "Axis tilt."))


class ParallelModel(ScriptedBackend):
    """A scripted model that says it serves ``parallel`` calls at once, takes ``delay_s`` per JSON
    call, and records how many calls overlapped and at which priority each came."""

    def __init__(self, parallel: int, delay_s: float = 0.05, **kw) -> None:
        super().__init__(**kw)
        self._parallel = parallel
        self.json_delay_s = delay_s
        self.running = 0
        self.most = 0
        self.priorities: list[str] = []
        self._count = threading.Lock()

    @property
    def parallel(self) -> int:
        return self._parallel

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(name="scripted-parallel", backend="fake", n_ctx=4096, detail={"parallel": self.parallel})

    def generate_json(self, messages, schema, **kwargs):
        with self._count:
            self.running += 1
            self.most = max(self.most, self.running)
            self.priorities.append(kwargs.get("priority", "interactive"))
        try:
            time.sleep(self.json_delay_s)
            return super().generate_json(messages, schema, **kwargs)
        finally:
            with self._count:
                self.running -= 1
