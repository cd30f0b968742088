"""Rules that need the whole unit (or all files), checked after the schema accepted a file.

The schema says what a field may hold; these rules catch what makes a unit misbehave in class:
ids used twice, a bug rule or step naming something that is not defined, a skill no step
practises, a step without an answer or rubric, a parametric problem whose numbers cannot be
drawn or whose ``{placeholders}`` are misspelt, an option written for another kind of check
(``form:`` outside equation checks), and an answer that its own checker would fail to read (so
no student could ever be marked correct). Parametric problems are checked on a few
seeded variants, since an answer that parses for one set of numbers may not for another.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..checking import answers_equivalent, expected_answer_problem
from ..checking.phrases import compiled_pattern
from ..checking.result import Unreadable
from ..checking.units import known_unit
from .errors import CurriculumError
from .loader import LoadedFile
from .params import ParamError, problem_texts, render_variant, unknown_placeholders, variant_values
from .audience import unsuitable_words
from .derived import format_value
from .schema import CheckOptions, ConversationUnit, Problem, Rubric, ScaffoldHint, Step, Unit

VALIDATION_SEEDS = (0, 1, 2, 3, 4, 5)


def validate_loaded(loaded: LoadedFile, rubric_ids: set[str]) -> list[CurriculumError]:
    """Every whole-file rule for a file the schema accepted; ``rubric_ids`` are the rubric files loaded."""
    item = loaded.item
    if isinstance(item, Unit):
        return validate_unit(loaded, item, rubric_ids)
    if isinstance(item, ConversationUnit):
        return _duplicates(loaded, item.skills, ("skills",), "skill") + \
            _duplicates(loaded, item.misconceptions, ("misconceptions",), "misconception") + \
            _duplicates(loaded, item.goals, ("goals",), "goal") + _language_rules(loaded, item) + \
            _audience(loaded, item)
    if isinstance(item, Rubric):
        return validate_rubric(loaded, item, ())
    return []


def _language_rules(loaded: LoadedFile, unit: ConversationUnit) -> list[CurriculumError]:
    """Every rule's pattern compiles (it runs on each message the students send)."""
    errors = []
    for m, misconception in enumerate(unit.misconceptions):
        for r, rule in enumerate(misconception.rules):
            try:
                compiled_pattern(rule.pattern)
            except Unreadable as exc:
                errors.append(loaded.error(("misconceptions", m, "rules", r, "pattern"),
                                           f"pattern {rule.pattern!r}: {exc.reason}"))
    return errors


def _audience(loaded: LoadedFile, unit: ConversationUnit) -> list[CurriculumError]:
    """A school unit teaches no words about alcohol, sex or drugs (``audience.py``)."""
    if unit.audience != "school":
        return []
    texts: list[tuple[tuple, str]] = [(("scenario",), unit.scenario), (("character",), unit.character),
                                      (("opening",), unit.opening)]
    texts += [(("vocabulary", i, field), getattr(v, field) or "") for i, v in enumerate(unit.vocabulary)
              for field in ("word", "translation")]
    texts += [(("goals", i, "phrases", j), p) for i, g in enumerate(unit.goals) for j, p in enumerate(g.phrases)]
    texts += [(("misconceptions", i, "examples", j), e) for i, m in enumerate(unit.misconceptions)
              for j, e in enumerate(m.examples)]
    errors = []
    for at, text in texts:
        found = unsuitable_words(text)
        if found:
            errors.append(loaded.error(at, f"{', '.join(repr(w) for w in found)} is not for a school class; "
                                           f"replace it, or set audience: adults if the unit is for adults"))
    return errors


def validate_unit(loaded: LoadedFile, unit: Unit, rubric_ids: set[str]) -> list[CurriculumError]:
    errors = _duplicates(loaded, unit.skills, ("skills",), "skill")
    errors += [loaded.error(("misconceptions", i, "rules"), "rules: correct messages in conversation units; "
                                                            "a problem unit's steps list bug rules instead")
               for i, m in enumerate(unit.misconceptions) if m.rules]
    errors += _duplicates(loaded, unit.misconceptions, ("misconceptions",), "misconception")
    errors += _duplicates(loaded, unit.problems, ("problems",), "problem")
    skill_ids = {s.id for s in unit.skills}
    misconception_ids = {m.id for m in unit.misconceptions}
    used_skills: set[str] = set()
    for p, problem in enumerate(unit.problems):
        at = ("problems", p)
        errors += _duplicates(loaded, problem.steps, at + ("steps",), "step")
        for s, step in enumerate(problem.steps):
            used_skills.update(step.skills)
            errors += _step_rules(loaded, step, at + ("steps", s), skill_ids, misconception_ids, rubric_ids)
        errors += _problem_answers(loaded, problem, at)
    for i, skill in enumerate(unit.skills):
        if skill.id not in used_skills:
            errors.append(loaded.error(("skills", i, "id"), f"skill {skill.id!r} is not practised by any step; "
                                                             f"list it under a step's skills: or remove it"))
    return errors


def validate_rubric(loaded: LoadedFile, rubric: Rubric, at: tuple) -> list[CurriculumError]:
    errors = _duplicates(loaded, rubric.criteria, at + ("criteria",), "criterion")
    for c, criterion in enumerate(rubric.criteria):
        seen: set[int] = set()
        for lv, level in enumerate(criterion.levels):
            if level.score in seen:
                errors.append(loaded.error(at + ("criteria", c, "levels", lv, "score"),
                                           f"score {level.score} is used by two levels of criterion {criterion.id!r}"))
            seen.add(level.score)
    return errors


def cross_file_duplicates(files: list[LoadedFile]) -> list[CurriculumError]:
    """Unit and conversation ids are unique across the folder, and so are rubric ids; the file
    read first (in path order) keeps the id and each later one gets an error."""
    owners: dict[tuple[str, str], Path] = {}
    errors = []
    for loaded in files:
        if loaded.item is None:
            continue
        space = "rubric" if isinstance(loaded.item, Rubric) else "unit"
        key = (space, loaded.item.id)
        if key in owners:
            errors.append(loaded.error(("id",), f"{space} id {loaded.item.id!r} is already used by "
                                                f"{owners[key]}; ids must be unique across all files"))
        else:
            owners[key] = loaded.path
    return errors


def _duplicates(loaded: LoadedFile, items: Iterable, at: tuple, what: str) -> list[CurriculumError]:
    first: dict[str, int] = {}
    errors = []
    for i, item in enumerate(items):
        if item.id in first:
            line = loaded.source.line(at + (first[item.id], "id"))
            errors.append(loaded.error(at + (i, "id"), f"duplicate {what} id {item.id!r} (first used"
                                                       + (f" on line {line})" if line else ")")))
        else:
            first[item.id] = i
    return errors


def _step_rules(loaded: LoadedFile, step: Step, at: tuple, skill_ids: set[str], misconception_ids: set[str],
                rubric_ids: set[str]) -> list[CurriculumError]:
    errors = []
    for i, skill in enumerate(step.skills):
        if skill not in skill_ids:
            errors.append(loaded.error(at + ("skills", i), f"unknown skill {skill!r} (the unit's skills: "
                                                            f"{', '.join(sorted(skill_ids))})"))
    for r, rule in enumerate(step.misconceptions):
        if rule.id not in misconception_ids:
            known = ", ".join(sorted(misconception_ids)) or "none yet"
            errors.append(loaded.error(at + ("misconceptions", r, "id"),
                                       f"bug rule names misconception {rule.id!r}, which is not in the unit's "
                                       f"misconceptions: list ({known})"))
        errors += _text_rule_fields(loaded, step, rule, at + ("misconceptions", r))
    if step.check == "open":
        if step.rubric is None:
            errors.append(loaded.error(at + ("rubric",), "an open step needs a rubric: the id of a rubric file "
                                                         "or a rubric written under the step"))
        elif isinstance(step.rubric, str) and step.rubric not in rubric_ids:
            known = ", ".join(sorted(rubric_ids)) or "no rubric files loaded"
            errors.append(loaded.error(at + ("rubric",), f"unknown rubric {step.rubric!r} ({known})"))
        elif isinstance(step.rubric, Rubric):
            errors += validate_rubric(loaded, step.rubric, at + ("rubric",))
    else:
        if step.answer is None or not step.answer.strip():
            errors.append(loaded.error(at + ("answer",), f"a {step.check!r} step needs an answer: "
                                                         f"(only open steps go without one)"))
        if step.rubric is not None:
            errors.append(loaded.error(at + ("rubric",), "only open steps are graded with a rubric; "
                                                         "set check: open or remove the rubric"))
    errors += _form_rule(loaded, step, at) + _unit_rule(loaded, step, at)
    for h, hint in enumerate(step.hints):
        if isinstance(hint, ScaffoldHint) and hint.check == "open":
            errors.append(loaded.error(at + ("hints", h, "check"), "a scaffold question needs an answer the "
                                                                   "app can check; open is not allowed here"))
        if isinstance(hint, ScaffoldHint):
            errors += _form_rule(loaded, hint, at + ("hints", h)) + _unit_rule(loaded, hint, at + ("hints", h))
    return errors


def _text_rule_fields(loaded: LoadedFile, step: Step, rule, at: tuple) -> list[CurriculumError]:
    """Open steps' bug rules say which words show the misconception; other steps' give answers
    their checker compares. Each pattern must compile."""
    if step.check == "open":
        errors = [loaded.error(at + ("answers",), "an open step's bug rule uses phrases: or patterns: (its answers "
                                                  "cannot be compared with a checker); move these into phrases:")
                  ] if rule.answers else []
        for i, pattern in enumerate(rule.patterns):
            try:
                compiled_pattern(pattern)
            except Unreadable as exc:
                errors.append(loaded.error(at + ("patterns", i), f"pattern {pattern!r}: {exc.reason}"))
        return errors
    extra = [f for f in ("phrases", "patterns") if getattr(rule, f)]
    return [loaded.error(at + (extra[0],), f"{extra[0]}: apply to open steps only; a {step.check} step's bug rule "
                                           f"lists answers: that its checker compares")] if extra else []


def _form_rule(loaded: LoadedFile, options: CheckOptions, at: tuple) -> list[CurriculumError]:
    """``form:`` says which equations count, so anywhere else it would be silently ignored."""
    if "form" not in options.model_fields_set or options.check == "equation":
        return []
    return [loaded.error(at + ("form",), f"form: only applies to equation checks (this one is "
                                          f"check: {options.check}); remove it or set check: equation")]


def _unit_rule(loaded: LoadedFile, options: CheckOptions, at: tuple) -> list[CurriculumError]:
    """``unit:`` is read by the numeric checker only, and must be a unit it knows or one whose
    spellings the teacher lists, or students writing it would all be told "unknown unit"."""
    written = [f for f in ("unit", "unit_names") if f in options.model_fields_set]
    if written and options.check != "numeric":
        return [loaded.error(at + (written[0],), f"{written[0]}: only applies to numeric checks (this one is "
                                                  f"check: {options.check}); remove it or set check: numeric")]
    if options.unit_names and not options.unit:
        return [loaded.error(at + ("unit_names",), "unit_names: lists other spellings of the step's unit:, "
                                                   "which is missing; add unit: with its symbol")]
    if options.unit and not options.unit_names and not known_unit(options.unit):
        return [loaded.error(at + ("unit",), f"unknown unit {options.unit!r}: use a symbol such as J, m/s, cm^2 or €, "
                                             f"or list how students write it under unit_names:")]
    return []


def _problem_answers(loaded: LoadedFile, problem: Problem, at: tuple) -> list[CurriculumError]:
    """Answers checked by their own checker: the problem itself, or a few variants of a parametric one."""
    if not problem.params:
        return [loaded.error(at + loc, message) for loc, message in answer_problems(problem)]
    errors = _template_errors(loaded, problem, at)
    if errors:
        return errors
    reported: set[tuple] = set()
    for seed in VALIDATION_SEEDS:
        concrete = render_variant(problem, seed)
        values = ", ".join(f"{k}={format_value(v)}" for k, v in variant_values(problem, seed).items())
        for loc, message in answer_problems(concrete):
            if loc not in reported:
                reported.add(loc)
                errors.append(loaded.error(at + loc, f"{message} (in the variant with seed {seed}: {values})"))
    return errors


def _template_errors(loaded: LoadedFile, problem: Problem, at: tuple) -> list[CurriculumError]:
    declared = list(problem.params)
    errors = []
    for loc, text in problem_texts(problem):
        for name in unknown_placeholders(text, set(declared)):
            errors.append(loaded.error(at + loc, f"unknown placeholder {{{name}}} (params: {', '.join(declared)}); "
                                                 f"write {{{{{name}}}}} for literal braces"))
    for seed in VALIDATION_SEEDS:
        try:
            variant_values(problem, seed)
        except ParamError as exc:
            errors.append(loaded.error(at + ("params", exc.name), exc.message))
            break
    return errors


def answer_problems(problem: Problem) -> list[tuple[tuple, str]]:
    """(field path below the problem, why) for each answer its checker cannot read."""
    found = []
    for s, step in enumerate(problem.steps):
        at = ("steps", s)
        if step.check == "open":
            continue
        if step.check == "choice" and not step.choices:
            found.append((at + ("choices",), "a choice step needs choices: (the options the student picks from)"))
            continue
        if step.answer is not None:
            found += _unreadable(step, [(at + ("answer",), step.answer)])
        found += _unreadable(step, [(at + ("alternatives", i), a) for i, a in enumerate(step.alternatives)])
        for h, hint in enumerate(step.hints):
            if isinstance(hint, ScaffoldHint) and hint.check != "open":
                where = at + ("hints", h)
                if hint.check == "choice" and not hint.choices:
                    found.append((where + ("choices",), "a choice question needs choices:"))
                    continue
                found += _unreadable(hint, [(where + ("answer",), hint.answer)])
                found += _unreadable(hint, [(where + ("alternatives", i), a) for i, a in enumerate(hint.alternatives)])
        for r, rule in enumerate(step.misconceptions):
            answers = [(at + ("misconceptions", r, "answers", i), a) for i, a in enumerate(rule.answers)]
            unreadable = _unreadable(step, answers)
            found += unreadable
            if step.answer is not None and step.check != "regex" and not _unreadable(step, [((), step.answer)]):
                bad = {loc for loc, _ in unreadable}
                found += [(loc, f"the wrong answer {a!r} is equivalent to the correct answer {step.answer!r}, so a "
                                f"correct student would be told they hold this misconception")
                          for loc, a in answers if loc not in bad and answers_equivalent(step, a, step.answer)]
    return found


def _unreadable(options: CheckOptions, answers: list[tuple[tuple, str]]) -> list[tuple[tuple, str]]:
    found = []
    for loc, answer in answers:
        problem = expected_answer_problem(options, answer)
        if problem:
            found.append((loc, f"the {options.check} checker cannot read {answer!r}: {problem}"))
    return found
