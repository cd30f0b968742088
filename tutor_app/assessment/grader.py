"""Grade one submission against a rubric: one constrained model call per criterion, then a summary.

Each criterion gets its own call whose JSON schema is built from that criterion's levels, so the
model can only answer with a score the teacher wrote. Fields come in the order justification,
score, next_step: a constrained model writes left to right, and a score written after its
reason follows from the reason instead of the reason being invented to fit a score.

The justification must quote the submission. A quote that is not in the text (a paraphrase, or
worse, an invention) does not throw the grade away: it is kept and flagged (``quote_verified``)
for the teacher's review.

Long submissions are cut into parts that fit the context (``chunking.py``); every part is
graded on every criterion and the parts are combined deterministically:

- ``mean`` (default): the mean of the part scores weighted by each part's length in tokens,
  rounded to the nearest score the criterion has; a tie goes to the lower level (a grader
  should not round a student up on the strength of arithmetic).
- ``max``: the best part's score, for rubrics whose criteria ask whether something appears at
  all ("uses evidence").

The comment kept is the one from a part that scored the combined score (the longest such part),
else from the part nearest to it. The summary's next steps come from one more call; if that
call fails, the criteria's own next steps are used, so a grade never fails for its summary.

The criterion calls do not depend on each other, so they go to the model together, as many at
a time as it serves (``runtime.fanout``); a batch of submissions passes ``priority="batch"`` so
that students' calls go first.

A comment or next step that repeats the prompt's own instructions (``echo.py``) is rejected:
the criterion is asked once more with a note saying so, and if the retry echoes too, its score
is kept with no comment (an empty comment is honest; a copied instruction reads as the
teacher's words). Summary steps that echo are dropped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError, create_model

from ..curriculum.schema import Rubric, RubricCriterion
from ..dialogue.phrases import language_name
from ..prompting import PromptLibrary
from ..runtime.fanout import fan_out
from ..runtime.protocol import Message, ModelBackend, ModelError, ModelUnavailable, Priority, parallel_calls
from .chunking import split_text
from .echo import echoes, instruction_grams
from .shapes import GradedCriterion, GradeResult

log = logging.getLogger(__name__)

Combine = Literal["mean", "max"]
DEFAULT_N_CTX = 2048  # what a backend that does not report its context is assumed to have
MIN_COMMENT_CHARS = 8  # shorter than this, a "comment" is a stray token from the model (",")
MIN_UNMARKED_WORDS = 6  # an unmarked quote: this many words in a row, verbatim
MIN_PART_TOKENS = 48  # below this a "part" is a few words: the rubric's prompt is too big instead
ECHO_RETRY_TEMPERATURE = 0.3  # at 0 the same prompt would give the same echo again
ECHO_NOTE = ("Your last answer copied these instructions instead of judging the work. Write the justification "
             "and the next step in your own words, about what this student wrote.")


class GradingError(RuntimeError):
    """The submission cannot be graded; the message says why in plain words."""


class NoModel(GradingError):
    """No model is loaded: nothing can be graded until one is (a batch stops instead of failing each)."""


@dataclass(frozen=True)
class GraderConfig:
    justification_chars: int = 300
    next_step_chars: int = 160
    criterion_max_tokens: int = 256
    summary_steps: int = 3
    summary_step_chars: int = 160
    summary_max_tokens: int = 256
    combine: Combine = "mean"


@dataclass(frozen=True)
class PartGrade:
    """The model's grade of one part of a submission on one criterion (empty words: rejected as an echo)."""

    score: int
    justification: str
    next_step: str


@dataclass(frozen=True)
class CriterionGrade:
    criterion_id: str
    score: int
    justification: str
    next_step: str
    quote_verified: bool
    part_scores: tuple[int, ...]


@dataclass(frozen=True)
class Grading:
    """Everything the grader concluded, richer than the API's ``GradeResult``."""

    rubric_id: str
    criteria: list[CriterionGrade]
    next_steps: list[str]
    total: float
    max_total: float
    parts: int
    model_name: str
    calls: int = 0
    summary_from_model: bool = True
    adapter: str | None = None  # the LoRA adapter version in use (None: the base model)

    def to_result(self) -> GradeResult:
        return GradeResult(rubric_id=self.rubric_id, total=self.total, max_total=self.max_total,
                           criteria=[GradedCriterion(id=c.criterion_id, score=c.score, comment=c.justification)
                                     for c in self.criteria],
                           next_steps=list(self.next_steps))


# schemas -------------------------------------------------------------------------------
def level_scores(criterion: RubricCriterion) -> list[int]:
    return sorted({level.score for level in criterion.levels})


def criterion_schema(criterion: RubricCriterion, config: GraderConfig = GraderConfig()) -> type[BaseModel]:
    """A pydantic model whose ``score`` admits exactly this criterion's level scores."""
    scores = tuple(level_scores(criterion))
    return create_model(
        "CriterionGrade",
        justification=(str, Field(min_length=MIN_COMMENT_CHARS, max_length=config.justification_chars,
                                  description="Why this score, quoting the submission")),
        score=(Literal[scores], Field(description="One of the criterion's level scores")),
        next_step=(str, Field(min_length=MIN_COMMENT_CHARS, max_length=config.next_step_chars,
                              description="One concrete next step for the student")),
    )


def summary_schema(config: GraderConfig = GraderConfig()) -> type[BaseModel]:
    step = Annotated[str, Field(min_length=MIN_COMMENT_CHARS, max_length=config.summary_step_chars)]
    return create_model("GradeSummary", next_steps=(list[step], Field(min_length=1, max_length=config.summary_steps)))


# totals and combining ------------------------------------------------------------------
def max_total(rubric: Rubric) -> float:
    return round(sum(c.weight * max(level_scores(c)) for c in rubric.criteria), 2)


def weighted_total(rubric: Rubric, scores: dict[str, int]) -> tuple[float, float]:
    """(total, max_total): each criterion's score times its weight, against its top level."""
    return round(sum(c.weight * scores[c.id] for c in rubric.criteria), 2), max_total(rubric)


def nearest_level(value: float, scores: list[int]) -> int:
    """The level score nearest ``value``; on a tie the lower one."""
    return min(sorted(scores), key=lambda s: (abs(s - value), s))


def combine_scores(part_scores: list[int], weights: list[int], scores: list[int], how: Combine) -> int:
    if how == "max":
        return max(part_scores)
    total_weight = sum(weights) or len(weights)
    mean = sum(s * (w or 1) for s, w in zip(part_scores, weights)) / total_weight
    return nearest_level(mean, scores)


# quotes ---------------------------------------------------------------------------------
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|«([^»]+)»|„([^“”]+)[“”]')
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…|\[\.\.\.\])\s*")


def _normal(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.lower().split())


def quotes_in(justification: str) -> list[str]:
    return [next(g for g in match.groups() if g is not None) for match in _QUOTED.finditer(justification)]


def quote_verified(justification: str, submission: str) -> bool:
    """True when the justification quotes the submission and every quote is really in it
    (case, spacing and curly quotes aside; an ellipsis inside a quote may skip words).
    Without quotation marks, a run of ``MIN_UNMARKED_WORDS`` words copied verbatim counts:
    small models quote by copying and forget the marks."""
    quotes = quotes_in(justification)
    haystack = _normal(submission)
    if not quotes:
        words = _normal(justification).split()
        n = max(2, min(MIN_UNMARKED_WORDS, len(haystack.split())))  # a very short text is quoted whole
        return any(" ".join(words[i:i + n]) in haystack for i in range(len(words) - n + 1))
    for quote in quotes:
        fragments = [_normal(f).strip(" .,;:!?") for f in _ELLIPSIS.split(quote)]
        fragments = [f for f in fragments if f]
        if not fragments or any(f not in haystack for f in fragments):
            return False
    return True


# the grader ----------------------------------------------------------------------------
@dataclass
class Grader:
    model: ModelBackend
    prompts: PromptLibrary
    config: GraderConfig = field(default_factory=GraderConfig)

    def grade(self, rubric: Rubric, text: str, *, task: str | None = None,
              priority: Priority = "interactive") -> Grading:
        """``task`` replaces the rubric's own task text (an open step's prompt); ``priority`` is
        "batch" for a class set, whose calls wait behind students'."""
        if not text or not text.strip():
            raise GradingError("the submission is empty: there is nothing to grade")
        info = self.model.info
        if not info.available:
            raise NoModel(f"no model is available to grade with: {info.problem or 'none is loaded'}")
        if task:
            rubric = rubric.model_copy(update={"task": task})
        parts = split_text(text, self.part_budget(rubric), self.model.count_tokens)
        weights = [self.model.count_tokens(p) for p in parts]
        jobs = [(criterion, index, part) for criterion in rubric.criteria
                for index, part in enumerate(parts, start=1)]
        replies = fan_out(lambda job: self._grade_part(rubric, job[0], job[2], job[1], len(parts), priority),
                          jobs, width=parallel_calls(self.model))
        grades = [self._combine(criterion, replies[i * len(parts):(i + 1) * len(parts)], weights, text)
                  for i, criterion in enumerate(rubric.criteria)]
        total, max_total = weighted_total(rubric, {g.criterion_id: g.score for g in grades})
        next_steps, from_model = self._summary(rubric, grades, total, max_total, priority)
        return Grading(rubric_id=rubric.id, criteria=grades, next_steps=next_steps, total=total,
                       max_total=max_total, parts=len(parts), model_name=info.name,
                       calls=len(jobs) + 1, summary_from_model=from_model, adapter=info.adapter)

    # budget ------------------------------------------------------------------------------
    def part_budget(self, rubric: Rubric) -> int:
        """Tokens one part of a submission may take so that the longest criterion prompt, the
        reply and its retry (the backend doubles ``max_tokens`` on a second try) fit ``n_ctx``."""
        n_ctx = self.model.info.n_ctx or DEFAULT_N_CTX
        reply = 2 * min(self.config.criterion_max_tokens, n_ctx // 2)
        worst, worst_criterion = 0, rubric.criteria[0]
        for criterion in rubric.criteria:
            messages = self.criterion_messages(rubric, criterion, "", part=2, parts=2)
            used = sum(self.model.count_tokens(m["content"]) + 8 for m in messages)
            if used > worst:
                worst, worst_criterion = used, criterion
        margin = 16 + n_ctx // 20  # tokenising a part inside the prompt is not exactly additive
        budget = n_ctx - worst - reply - margin
        if budget < MIN_PART_TOKENS:
            raise GradingError(
                f"rubric '{rubric.id}': the prompt for criterion '{worst_criterion.id}' (its levels and exemplars) "
                f"takes {worst} of the model's {n_ctx} context tokens, leaving no room for the submission; "
                "shorten the exemplars or use a model with a larger context")
        return budget

    # calls --------------------------------------------------------------------------------
    def criterion_messages(self, rubric: Rubric, criterion: RubricCriterion, submission: str, *, part: int = 1,
                           parts: int = 1) -> list[Message]:
        return self.prompts.render_messages(
            "grade_criterion",
            subject=rubric.subject or "school", rubric_title=rubric.title, task=rubric.task or "",
            criterion_name=criterion.name, criterion_description=criterion.description,
            levels=[{"score": lv.score, "description": lv.description, "exemplars": lv.exemplars}
                    for lv in sorted(criterion.levels, key=lambda lv: lv.score)],
            scores=level_scores(criterion), language_name=language_name(rubric.language),
            justification_chars=self.config.justification_chars, next_step_chars=self.config.next_step_chars,
            # The text sits between <<< and >>>; a student cannot close that block early.
            submission=submission.replace("<<<", "‹‹‹").replace(">>>", "›››"), part=part, parts=parts)

    def _grade_part(self, rubric: Rubric, criterion: RubricCriterion, part: str, index: int, parts: int,
                    priority: Priority = "interactive"):
        """The model's grade of one part on one criterion, as a plain ``PartGrade``; asked again
        once when its words echo the prompt, and stored without them if they still do."""
        schema = criterion_schema(criterion, self.config)
        messages = self.criterion_messages(rubric, criterion, part, part=index, parts=parts)
        instructions = instruction_grams(messages, cited=self._cited(rubric, criterion, part))
        reply = self._ask_criterion(schema, messages, criterion, index, parts, temperature=0.0, priority=priority)
        if not self._echoes(reply, instructions, part):
            return reply
        log.info("grade of criterion %s repeats the prompt's instructions; asking again", criterion.id)
        retry = messages[:-1] + [{"role": messages[-1]["role"], "content": f"{messages[-1]['content']}\n\n{ECHO_NOTE}"}]
        reply = self._ask_criterion(schema, retry, criterion, index, parts, temperature=ECHO_RETRY_TEMPERATURE,
                                    priority=priority)
        if not self._echoes(reply, instructions, part):
            return reply
        log.warning("grade of criterion %s still repeats the instructions; its score is kept without a comment",
                    criterion.id)
        return PartGrade(score=reply.score, justification="", next_step="")

    def _ask_criterion(self, schema, messages, criterion: RubricCriterion, index: int, parts: int, *,
                       temperature: float, priority: Priority) -> "PartGrade":
        try:
            reply = self.model.generate_json(messages, schema, max_tokens=self.config.criterion_max_tokens,
                                             temperature=temperature, priority=priority)
        except ModelUnavailable as exc:
            raise NoModel(f"no model is available to grade with: {exc}") from exc
        except (ModelError, ValidationError) as exc:  # a backend that hands back unvalidated output
            raise GradingError(f"the model could not grade criterion '{criterion.name}'"
                               f"{f' (part {index} of {parts})' if parts > 1 else ''}: {exc}") from exc
        # Re-validate against our own schema: a backend may hand back another class of the same shape.
        checked = schema.model_validate(reply.model_dump())
        return PartGrade(score=checked.score, justification=checked.justification, next_step=checked.next_step)

    @staticmethod
    def _cited(rubric: Rubric, criterion: RubricCriterion, part: str) -> list[str]:
        """What a comment may repeat from the prompt: the rubric's words and the student's text."""
        cited = [rubric.title, rubric.task or "", rubric.subject or "", criterion.name, criterion.description, part,
                 part.replace("<<<", "‹‹‹").replace(">>>", "›››")]
        for level in criterion.levels:
            cited += [level.description, *level.exemplars]
        return cited

    @staticmethod
    def _echoes(reply: "PartGrade", instructions: set, part: str) -> bool:
        return any(echoes(text, instructions, part) for text in (reply.justification, reply.next_step))

    def _combine(self, criterion: RubricCriterion, replies: list, weights: list[int], text: str) -> CriterionGrade:
        part_scores = [r.score for r in replies]
        score = combine_scores(part_scores, weights, level_scores(criterion), self.config.combine)
        matching = [i for i, s in enumerate(part_scores) if s == score]
        if matching:
            chosen = max(matching, key=lambda i: (weights[i], -i))
        else:
            chosen = min(range(len(replies)), key=lambda i: (abs(part_scores[i] - score), i))
        reply = replies[chosen]
        justification = " ".join(reply.justification.split())
        return CriterionGrade(criterion_id=criterion.id, score=score, justification=justification,
                              next_step=" ".join(reply.next_step.split()),
                              quote_verified=quote_verified(justification, text), part_scores=tuple(part_scores))

    def _summary(self, rubric: Rubric, grades: list[CriterionGrade], total: float,
                 max_total: float, priority: Priority = "interactive") -> tuple[list[str], bool]:
        """(next steps, whether the model wrote them rather than the criteria's fallback)."""
        by_id = {c.id: c for c in rubric.criteria}
        schema = summary_schema(self.config)
        messages = self.prompts.render_messages(
            "grade_summary",
            subject=rubric.subject or "school", rubric_title=rubric.title, task=rubric.task or "",
            language_name=language_name(rubric.language), max_steps=self.config.summary_steps,
            step_chars=self.config.summary_step_chars, total=_number(total), max_total=_number(max_total),
            criteria=[{"name": by_id[g.criterion_id].name, "score": g.score,
                       "max_score": max(level_scores(by_id[g.criterion_id])),
                       "justification": g.justification, "next_step": g.next_step} for g in grades])
        try:
            reply = schema.model_validate(self.model.generate_json(
                messages, schema, max_tokens=self.config.summary_max_tokens, temperature=0.0,
                priority=priority).model_dump())
            instructions = instruction_grams(messages, cited=[rubric.title, rubric.task or "", rubric.subject or ""]
                                             + [c.name for c in rubric.criteria]
                                             + [g.justification for g in grades] + [g.next_step for g in grades])
            steps = _dedupe([s for s in reply.next_steps if not echoes(s, instructions)])
            if steps:
                return steps, True
        except (ModelError, ValidationError):
            log.warning("grade summary failed for rubric %s; using the criteria's next steps", rubric.id,
                        exc_info=True)
        return _dedupe([g.next_step for g in grades if g.next_step])[: self.config.summary_steps], False


def _dedupe(steps: list[str]) -> list[str]:
    seen, kept = set(), []
    for step in steps:
        clean = " ".join(step.split())
        if clean and clean.lower() not in seen:
            seen.add(clean.lower())
            kept.append(clean)
    return kept


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
