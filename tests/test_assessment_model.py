"""The real default model (SmolLM2-135M through llama.cpp) grades under the constrained schema."""

from __future__ import annotations

import pytest

from tutor_app.assessment.grader import Grader, GraderConfig, level_scores
from tutor_app.prompting import PromptLibrary

from assessment_support import small_rubric

CONFIG = GraderConfig(justification_chars=160, next_step_chars=100, criterion_max_tokens=96,
                      summary_steps=2, summary_step_chars=100, summary_max_tokens=96)


@pytest.mark.model
def test_the_default_model_returns_grades_that_parse_and_fit_the_levels(smollm2_path):
    from tutor_app.runtime.llama_backend import LlamaCppBackend

    model = LlamaCppBackend(smollm2_path, n_ctx=2048, n_threads=2)
    try:
        rubric = small_rubric()
        grading = Grader(model, PromptLibrary(), CONFIG).grade(
            rubric, "We have seasons because the Earth's axis is tilted, so in June our half leans toward the sun.")
    finally:
        model.close()
    assert grading.model_name == smollm2_path.stem and grading.calls == 3
    for criterion, grade in zip(rubric.criteria, grading.criteria):
        assert grade.score in level_scores(criterion)
        assert 8 <= len(grade.justification) <= CONFIG.justification_chars
        assert 8 <= len(grade.next_step) <= CONFIG.next_step_chars
    assert 1 <= len(grading.next_steps) <= 2
    scores = {g.criterion_id: g.score for g in grading.criteria}
    assert grading.total == 2 * scores["accuracy"] + scores["clarity"] and grading.max_total == 8
    result = grading.to_result()
    assert [c.id for c in result.criteria] == ["accuracy", "clarity"]
