"""No student text can run code, hang the checker or raise out of it."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor_app.checking import answers_equivalent, check_answer, expected_answer_problem
from tutor_app.checking.checkers import CHECKERS
from tutor_app.checking.limits import TimeLimitExceeded, run_with_time_limit
from tutor_app.checking.options import CHECK_KINDS, CheckOptions

KINDS = list(CHECK_KINDS)
EXPECTED = {"text": "denominator", "numeric": "0.5", "expression": "2x + 6", "equation": "2x = 8",
            "choice": "smaller", "regex": "(the )?mitochondri(a|on)", "open": None}


def test_every_check_kind_has_one_checker():
    assert sorted(CHECKERS) == sorted(CHECK_KINDS) == sorted(EXPECTED)


def options(kind: str) -> CheckOptions:
    return CheckOptions(check=kind, choices=["bigger", "smaller"] if kind == "choice" else [])


INJECTIONS = [
    "__import__('os').system('touch /tmp/pwned')",
    "__import__('os')",
    "lambda: 1",
    "(lambda x: x)(1)",
    "x.__class__",
    "x.__class__.__mro__",
    "().__class__.__bases__[0].__subclasses__()",
    "eval('1+1')",
    "exec('import os')",
    "open('/etc/passwd').read()",
    "import os",
    "globals()",
    "Symbol('x')",
    "Integer.__new__",
    "x = __builtins__",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "'a' * 10",
    "f'{1}'",
    "x; import os",
    "x if x else y",
    "getattr(x, 'y')",
]


@pytest.mark.parametrize("kind", ["expression", "equation"])
@pytest.mark.parametrize("attack", INJECTIONS)
def test_injection_attempts_are_just_unreadable(kind, attack, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = check_answer(options(kind), EXPECTED[kind], attack)
    assert result.verdict in ("invalid", "incorrect")
    assert not (tmp_path / "pwned").exists()
    assert not answers_equivalent(options(kind), EXPECTED[kind], attack)


def test_the_parser_cannot_reach_builtins_even_through_words():
    # Python's names become products of single-letter symbols, never calls.
    for word in ["exec", "eval", "open", "print", "compile", "input", "vars", "dir"]:
        result = check_answer(options("expression"), "2x + 6", f"{word}(1)")
        assert result.verdict == "incorrect", word


@pytest.mark.parametrize("bomb", ["9^9^9^9", "2^(10^10)", "10^10^10 = x", "(x+1)^100000", "x^(9^9^9)",
                                  "99999999999999999999999999999999999^99",
                                  "((((((((((x+1)^2)^2)^2)^2)^2)^2)^2)^2)^2)"])
def test_huge_numbers_are_refused_before_they_are_computed(bomb):
    start = time.perf_counter()
    result = check_answer(options("expression"), "2x + 6", bomb)
    assert result.verdict == "invalid"
    assert time.perf_counter() - start < 2.5


def test_slow_work_is_stopped_by_the_time_limit():
    def forever():
        while True:
            sum(range(1000))

    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded):
        run_with_time_limit(forever, seconds=0.2)
    assert time.perf_counter() - start < 1.0
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "checking-limited" and t.is_alive()]


def test_time_limited_calls_pass_results_and_errors_back():
    assert run_with_time_limit(lambda a, b: a + b, 2, 3, seconds=1) == 5
    with pytest.raises(KeyError):
        run_with_time_limit({}.__getitem__, "missing", seconds=1)


def test_checking_works_off_the_main_thread():
    results = []

    def work():
        results.append(check_answer(options("equation"), "2x = 8", "8 = 2x").verdict)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert results == ["correct"] * 4


def test_sympy_work_is_interrupted_not_left_running():
    import sympy

    x, y, z = sympy.symbols("x y z")
    with pytest.raises(TimeLimitExceeded):
        run_with_time_limit(lambda: sympy.expand((x + y + z + 1) ** 60), seconds=0.2)
    time.sleep(0.3)
    assert not [t for t in threading.enumerate() if t.name == "checking-limited" and t.is_alive()]


def test_a_checker_that_times_out_gives_a_friendly_verdict(monkeypatch):
    from tutor_app.checking import checkers, equivalence

    def too_slow(*args, **kwargs):
        raise TimeLimitExceeded("gave up")

    monkeypatch.setattr(checkers, "run_with_time_limit", too_slow)
    monkeypatch.setattr(equivalence, "run_with_time_limit", too_slow)
    result = check_answer(options("equation"), "2x = 8", "8 = 2x")
    assert result.verdict == "invalid" and "too long" in result.message
    assert not answers_equivalent(options("equation"), "2x = 8", "8 = 2x")
    assert "too long" in expected_answer_problem(options("equation"), "2x = 8")


def test_non_text_answers_are_invalid_not_errors():
    assert check_answer(options("numeric"), "1", None).verdict == "invalid"  # type: ignore[arg-type]
    assert check_answer(options("text"), "a", 5).verdict == "invalid"  # type: ignore[arg-type]
    assert not answers_equivalent(options("text"), "a", None)  # type: ignore[arg-type]


# Arbitrary text from students: any printable or unusual code point, long or short, and what only
# a script can send (lone surrogates, NUL and other control characters).
student_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="0123456789xyab+-*/^()=., ½²√π×÷−%$\\{}[]", max_size=80),
    st.from_regex(r"[0-9x+\-*/^() =.]{0,40}", fullmatch=True),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=60),
    st.builds(lambda a, b: a + b, st.from_regex(r"[0-9x+=]{1,8}", fullmatch=True),
              st.text(alphabet=st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b", "\u202e", "\ufeff"]),
                      min_size=1, max_size=4)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), text=student_text)
def test_arbitrary_text_never_raises_and_finishes_in_bounded_time(kind, text):
    start = time.perf_counter()
    result = check_answer(options(kind), EXPECTED[kind], text)
    assert result.verdict in ("correct", "incorrect", "invalid", "pending")
    assert result.verdict != "invalid" or result.message
    assert isinstance(answers_equivalent(options(kind), EXPECTED[kind], text), bool)
    problem = expected_answer_problem(options(kind), text)
    assert problem is None or isinstance(problem, str)
    assert time.perf_counter() - start < 7.0  # three calls, each at most the 2 s limit


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([k for k in KINDS if k != "open"]), text=student_text)
def test_every_readable_answer_key_is_correct_against_itself(kind, text):
    """Tools that check a key against itself (the worksheet builder, the validator) rely on this."""
    if expected_answer_problem(options(kind), text) is None:
        assert check_answer(options(kind), text, text).verdict == "correct"
