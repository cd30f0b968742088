"""Parametric problems: each seed is one variant, always the same one; placeholders never touch LaTeX."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tutor_app.curriculum.derived import DerivedError, evaluate_derived, format_value, parse_derived
from tutor_app.curriculum.params import (ParamError, fill_placeholders, render_variant, unknown_placeholders,
                                         variant_values)
from tutor_app.curriculum.schema import Problem

REPO = Path(__file__).resolve().parent.parent


def make(params: dict, statement: str = "Solve ${a}x + {b} = {c}$", **step) -> Problem:
    step = {"id": "s", "prompt": "Find $x$ in ${a}x + {b} = {c}$.", "answer": "x = {x}", "check": "equation",
            "hints": ["Subtract {b}.", {"scaffold": "What is {c} - {b}?", "answer": "{ax}", "check": "numeric"}],
            "misconceptions": [{"id": "m", "answers": ["x = {wrong}"], "feedback": "You added {b}."}], **step}
    return Problem.model_validate({"id": "p", "statement": statement, "params": params, "steps": [step]})


LINEAR = {"a": {"range": ["2", "9"]}, "x": {"range": [1, 12], "exclude": [5]}, "b": {"range": [1, 20]},
          "c": "a*x + b", "ax": "c - b", "wrong": "(c + b) / a"}


def test_same_seed_same_values_and_problem():
    problem = make(LINEAR)
    assert variant_values(problem, 42) == variant_values(problem, 42)
    assert render_variant(problem, 42) == render_variant(problem, 42)


def test_different_seeds_give_a_class_different_numbers():
    problem = make(LINEAR)
    variants = {tuple(variant_values(problem, seed).items()) for seed in range(30)}
    assert len(variants) >= 25  # 30 students, almost all with their own numbers


def test_rendered_variant_is_concrete_and_consistent():
    problem = make(LINEAR)
    values = variant_values(problem, 7)
    a, x, b = values["a"], values["x"], values["b"]
    assert values["c"] == a * x + b and values["ax"] == a * x
    concrete = render_variant(problem, 7)
    assert concrete.params == {}
    assert concrete.statement == f"Solve ${a}x + {b} = {a * x + b}$"
    step = concrete.steps[0]
    assert step.answer == f"x = {x}"
    assert step.prompt == f"Find $x$ in ${a}x + {b} = {a * x + b}$."
    assert step.hints[0] == f"Subtract {b}." and step.hints[1].answer == str(a * x)
    assert step.hints[1].scaffold == f"What is {a * x + b} - {b}?"
    assert step.misconceptions[0].feedback == f"You added {b}."
    assert render_variant(concrete, 99) == concrete  # already concrete: nothing left to change


def test_a_resumed_session_in_a_new_process_renders_the_same_variant():
    """The seed is all a session stores; another process (another hash seed) must rebuild the same problem."""
    problem = make(LINEAR)
    script = ("import json, sys; from tutor_app.curriculum.schema import Problem; "
              "from tutor_app.curriculum.params import render_variant; "
              "p = Problem.model_validate_json(sys.stdin.read()); "
              "print(json.dumps([render_variant(p, s).model_dump(mode='json') for s in (1, 2, 12345)]))")
    out = subprocess.run([sys.executable, "-c", script], input=problem.model_dump_json(), capture_output=True,
                         text=True, cwd=REPO, env={"PYTHONHASHSEED": "123", "PATH": ""}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [render_variant(problem, s).model_dump(mode="json") for s in (1, 2, 12345)]


def test_global_random_is_left_alone():
    import random
    random.seed(5)
    expected = random.random()
    random.seed(5)
    variant_values(make(LINEAR), 3)
    assert random.random() == expected


def test_latex_braces_survive_and_arguments_keep_theirs():
    problem = make({"a": {"range": [10, 12]}, "b": {"range": [2, 2]}, "n": {"choices": ["3"]}},
                   statement=r"Work out $\frac{1}{a} + \frac{a}{b}$, $x^{n}$, $\sqrt{16}$, \text{cm} and {a} {{b}}.",
                   answer="{a}", check="numeric", hints=[], misconceptions=[])
    a = variant_values(problem, 1)["a"]
    assert render_variant(problem, 1).statement == (
        rf"Work out $\frac{{1}}{{{a}}} + \frac{{{a}}}{{2}}$, $x^{{3}}$, $\sqrt{{16}}$, \text{{cm}} and {a} {{b}}.")


def test_fill_leaves_undeclared_and_escaped_braces():
    shown = {"a": "12", "b": "-3"}
    assert fill_placeholders(r"${a}x {b}$ \{c\} {c} {{a}} {{", shown) == r"$12x -3$ \{c\} {c} {a} {{"
    assert fill_placeholders("{a}{b} costs {a} euros", shown) == "12-3 costs 12 euros"  # outside math: no braces
    assert fill_placeholders(r"$\frac{a}{b}$", {}) == r"$\frac{a}{b}$"


def test_non_parametric_problem_is_returned_as_is():
    problem = Problem.model_validate({"id": "p", "statement": r"$\frac{a}{b}$ {{x}}",
                                      "steps": [{"id": "s", "prompt": "{a}", "answer": "1"}]})
    assert render_variant(problem, 3) is problem and variant_values(problem, 3) == {}


def test_derived_values_print_as_ints_fractions_and_decimals():
    problem = make({"a": {"range": [4, 4]}, "half": "a / 8", "whole": "a / 2", "neg": "-a / 6", "dec": "a * 0.25",
                    "big": "2^10", "root": "sqrt(a)", "x": "a"}, statement="{half} {whole} {neg} {dec} {big} {root}")
    values = variant_values(problem, 0)
    assert values["half"] == Fraction(1, 2) and values["whole"] == 2 and values["neg"] == Fraction(-2, 3)
    assert values["dec"] == 1.0 and values["root"] == 2
    assert render_variant(problem, 0).statement == "1/2 2 -2/3 1 1024 2"
    assert format_value(Fraction(6, 4)) == "3/2" and format_value(2.50) == "2.5" and format_value(1e-7) == "0.0000001"


def test_choices_as_numbers_or_text():
    problem = make({"name": {"choices": ["Ada", "Bo"]}, "p": {"choices": ["0.5"]}, "q": {"choices": ["3/4"]},
                    "r": "p + q"}, statement="{name}: {r}")
    values = variant_values(problem, 0)
    assert values["p"] == 0.5 and values["q"] == Fraction(3, 4) and values["r"] == 1.25
    assert render_variant(problem, 0).statement in ("Ada: 1.25", "Bo: 1.25")


@pytest.mark.parametrize("params, name, words", [
    ({"a": {"range": [9, 2]}}, "a", "must not be larger"),
    ({"a": {"range": [1, 2], "exclude": [1, 2]}}, "a", "every number"),
    ({"a": {"range": [1, 2]}, "c": "a +* 2"}, "c", "cannot read"),
    ({"c": "a + 1", "a": {"range": [1, 2]}}, "c", "unknown name 'a'"),
    ({"a": {"range": [0, 0]}, "c": "1 / a"}, "c", "division by zero"),
    ({"a": {"range": [-4, -4]}, "c": "sqrt(a)"}, "c", "not a real number"),
    ({"a": {"choices": ["x"]}, "c": "a + 1"}, "c", "is text"),
    ({"a": {"range": [1, 2]}, "c": "__import__('os').system('true')"}, "c", "use only"),
    ({"a": {"range": [1, 2]}, "c": "a.__class__"}, "c", "use only"),
    ({"a": {"range": [1, 2]}, "c": "9^9^9^9"}, "c", "exponents larger"),
    ({"a": {"range": [1, 2]}, "c": "open(a)"}, "c", "unknown name 'open'"),
    ({"2a": {"range": [1, 2]}}, "2a", "param name"),
])
def test_broken_params_say_which_and_why(params, name, words):
    with pytest.raises(ParamError) as caught:
        variant_values(make(params), 0)
    assert caught.value.name == name and words in caught.value.message


def test_power_towers_are_refused_quickly():
    started = time.monotonic()
    for text in ("9^9^9^9", "(a^60)^60", "a^64 * a^64 * a^64", "99^64"):
        with pytest.raises(DerivedError):
            evaluate_derived(parse_derived(text, ("a",)), {"a": parse_derived("99", ())})
    assert time.monotonic() - started < 2


def test_unknown_placeholders_ignore_latex():
    text = r"$\frac{a}{b}$ $x^{n}$ $y_{k}$ \text{cm} \{set\} {{lit}} {typo} {ok}"
    assert unknown_placeholders(text, {"ok"}) == ["typo"]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(min_value=-(2 ** 63), max_value=2 ** 63), low=st.integers(-50, 50), span=st.integers(0, 30),
       exclude=st.lists(st.integers(-60, 90), max_size=5))
def test_range_draws_stay_in_range_and_are_reproducible(seed, low, span, exclude):
    allowed = [v for v in range(low, low + span + 1) if v not in exclude]
    problem = make({"a": {"range": [low, low + span], "exclude": exclude}}, statement="{a}")
    if not allowed:
        with pytest.raises(ParamError):
            variant_values(problem, seed)
        return
    value = variant_values(problem, seed)["a"]
    assert value in allowed and variant_values(problem, seed)["a"] == value
    assert render_variant(problem, seed).statement == str(value)


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab{}$\\^_ x")), max_size=30))
def test_placeholders_never_change_text_without_declared_names(text):
    """Whatever braces and LaTeX a teacher writes, only ``{a}`` (and ``{{a}}``) are touched."""
    filled = fill_placeholders(text, {"a": "7"})
    if "{a}" not in text:
        assert filled == text
    assert fill_placeholders(text, {"b": "7"}) == text or "{b}" in text
