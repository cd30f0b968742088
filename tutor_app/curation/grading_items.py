"""Training items for rubric grading: one per criterion the teacher confirmed or corrected.

The prompt is the grader's own (``Grader.criterion_messages``) for the rubric version the grade
was given under, with the task the submission was graded for (an open step's prompt, or the
rubric's). The answer to learn is the criterion object the grader writes (justification, score,
next step):

- a confirmed grade: the model's, as it stands;
- an overridden score: the teacher's score with the teacher's comment as justification; a score
  overridden without a comment is left out, since the model's justification argued for another
  score;
- a comment edited without a new score: the model's score with the teacher's comment.

Grades given under an earlier version of the rubric, grades of texts graded in several parts
(the teacher's score is for the whole text, the prompt shows one part), and comments longer
than the grader may write are left out, each with its reason.
"""

from __future__ import annotations

from dataclasses import replace

from ..assessment.grader import Grader, GraderConfig
from ..assessment.service import AssessmentService
from ..assessment.store import AssessmentStore, rubric_hash
from ..prompting import PromptLibrary
from ..service.errors import NotFound
from .items import Collected, Exclusion, TrainingItem, answer_json, with_answer

TASK = "grading"


def grading_items(assessment: AssessmentService, prompts: PromptLibrary) -> Collected:
    collected = Collected()
    astore: AssessmentStore = assessment.astore
    config = GraderConfig()
    grader = Grader(model=None, prompts=prompts, config=config)  # only its prompts: no model is asked
    for rubric_id in astore.rubric_ids():
        confirmations = astore.confirmations(rubric_id=rubric_id)
        views = astore.teacher_views(rubric_id=rubric_id)
        submissions = astore.submissions(rubric_id=rubric_id)
        confirmed = {c.submission_id for c in confirmations.values()}
        reviewed = [s for s in submissions if s.id in confirmed or any(key[0] == s.id for key in views)]
        collected.not_reviewed[TASK] = collected.not_reviewed.get(TASK, 0) + len(submissions) - len(reviewed)

        def exclude(reason: str, n: int = 1) -> None:
            collected.excluded += [Exclusion(TASK, rubric_id, reason)] * n

        try:
            rubric = assessment.rubric_for_review(rubric_id)
        except NotFound:
            exclude(f"rubric {rubric_id} is no longer loaded", len(reviewed))
            continue
        for submission in reviewed:
            grade = astore.find_grade(submission_id=submission.id, rubric_hash=rubric_hash(rubric))
            if grade is None:
                exclude("graded against an earlier version of the rubric")
                continue
            if grade.parts > 1:
                exclude(f"graded in {grade.parts} parts (the teacher's score is for the whole text)")
                continue
            task = assessment.task_for(rubric, submission.source_file or "")
            graded = rubric.model_copy(update={"task": task}) if task else rubric
            scores: dict[str, int] = {}
            for criterion in rubric.criteria:
                model = grade.criterion(criterion.id)
                view = views.get((submission.id, criterion.id))
                if model is None or (view is None and grade.id not in confirmations):
                    continue  # this criterion was not looked at
                if view is not None and view.score is not None and not view.comment:
                    exclude("score overridden without a comment (the model's justification argued for another score)")
                    continue
                justification = view.comment if view is not None and view.comment else model.justification
                if len(justification) > config.justification_chars:
                    exclude(f"the teacher's comment is longer than the grader may write ({config.justification_chars} "
                            "characters)")
                    continue
                score = view.score if view is not None and view.score is not None else model.score
                source = ("overridden" if view is not None and view.score is not None
                          else "corrected" if view is not None else "confirmed")
                answer = answer_json({"justification": justification, "score": score, "next_step": model.next_step})
                prompt = grader.criterion_messages(graded, criterion, submission.text)
                collected.items.append(TrainingItem(
                    task=TASK, unit=rubric_id, student=submission.student, at=grade.created_at,
                    messages=with_answer(prompt, answer), source=source,
                    item=f"assessment_model_criteria:{grade.id}/{criterion.id}"))
                scores[criterion.id] = score
            if scores:  # the whole submission as one held-out case
                case = {"section": "rubric_grading", "rubric": rubric_id, "submission": submission.text,
                        "teacher_scores": scores, **({"task": task} if task else {})}
                collected.items[-1] = replace(collected.items[-1], case=case)
    return collected
