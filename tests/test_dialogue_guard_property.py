"""One math reader: for every numeric answer the checker accepts, the guard protects that value.

The teacher writes the answer in any documented form (integer, decimal, ``.5``, decimal comma,
fraction, mixed number, percent, thousands separators, negative numbers, ``½``, ``1.5e3``); a
reply states the value in any form the checker would accept from the student for it. The
guard must cut that reply, and must let the same reply with a different value through. Number
words are no answer the checker accepts, but the guard reads them too (English, Spanish,
French): a reply spelling the value out is cut as well.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from num2words import num2words

from guard_problems import guarded, word_problem
from tutor_app.checking import check_answer
from tutor_app.checking.numbers import format_number, parse_number
from tutor_app.curriculum.schema import CheckOptions

NUMERIC = CheckOptions(check="numeric")
TEMPLATES = ["So each friend gets {} of it.", "That means the result is {}.", "Then you get {} in the end.",
             "Each friend gets {}."]
WORD_TEMPLATES = {"en": "So each friend gets {}.", "es": "Así que cada amigo recibe {}.",
                  "fr": "Donc chaque ami reçoit {}."}


def _decimal(value: Fraction) -> str | None:
    text = format_number(value)
    return text if "/" not in text else None


def written_forms(value: Fraction) -> list[str]:
    """Ways of writing ``value`` that the numeric checker documents (not all apply to all values)."""
    forms: list[str] = []
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    decimal = _decimal(value)
    if value.denominator == 1:
        forms.append(str(value.numerator))
        if magnitude >= 1000:
            forms.append(sign + f"{int(magnitude):,}")
            digits = str(int(magnitude)).rstrip("0")
            forms.append(f"{sign}{digits[0]}{'.' + digits[1:] if len(digits) > 1 else ''}e{len(str(int(magnitude))) - 1}")
    else:
        forms.append(f"{value.numerator}/{value.denominator}")
        forms.append(f"{2 * value.numerator}/{2 * value.denominator}")  # not in lowest terms
        if magnitude > 1:
            whole = magnitude.numerator // magnitude.denominator
            rest = magnitude - whole
            forms.append(f"{sign}{whole} {rest.numerator}/{rest.denominator}")
        if magnitude == Fraction(1, 2):
            forms.append(sign + "½")
        if magnitude > 1 and magnitude - int(magnitude) == Fraction(1, 2):
            forms.append(f"{sign}{int(magnitude)}½")
    if decimal is not None:
        forms.append(decimal)
        if "." in decimal:
            forms.append(decimal + "0")
            forms.append(decimal.replace(".", ","))
            if magnitude < 1:
                forms.append(sign + decimal.lstrip("-").removeprefix("0"))  # ".5"
    percent = _decimal(value * 100)
    if percent is not None:
        forms.append(percent + "%")
    return list(dict.fromkeys(forms))


values = st.one_of(
    st.integers(min_value=-20000, max_value=20000).map(Fraction),
    st.builds(Fraction, st.integers(min_value=-999, max_value=999), st.sampled_from([2, 4, 5, 8, 10, 100])),
    st.builds(Fraction, st.integers(min_value=1, max_value=40), st.sampled_from([3, 6, 7, 9, 12])),
)


def _problem(answer: str):
    return word_problem("sharing", "Some pizzas are shared between friends.",
                        ("How much pizza does each friend get?", answer, "numeric"))


def _accepted(teacher: str, student: str) -> bool:
    return check_answer(NUMERIC, teacher, student).verdict == "correct"


def _same_for_the_guard(a: Fraction, b: Fraction) -> bool:
    # a percentage and its number give each other away (30% and 30)
    return a == b or a == b * 100 or a * 100 == b


@settings(max_examples=150, deadline=None)
@given(value=values, data=st.data())
def test_every_form_the_checker_accepts_is_protected(value, data):
    forms = written_forms(value)
    teacher = data.draw(st.sampled_from(forms), label="teacher's answer")
    stated = data.draw(st.sampled_from(forms), label="reply states")
    assume(_accepted(teacher, stated))
    template = data.draw(st.sampled_from(TEMPLATES), label="template")
    # a bare unreduced fraction ("Each friend gets 2/4") is a division left to the student
    # (policy 2); the templates that present it as the result cover it
    assume(not (template == "Each friend gets {}." and _is_division_still_to_do(stated)))
    reply = template.format(stated)
    assert guarded(_problem(teacher), reply) is not None, (teacher, reply)


@settings(max_examples=150, deadline=None)
@given(value=values, other=values, data=st.data())
def test_a_different_value_is_not_taken_for_the_answer(value, other, data):
    teacher = data.draw(st.sampled_from(written_forms(value)), label="teacher's answer")
    answer = parse_number(teacher).value
    assume(not _same_for_the_guard(answer, other))
    stated = data.draw(st.sampled_from(written_forms(other)), label="reply states")
    assume(not _accepted(teacher, stated))
    assume(not _same_for_the_guard(answer, parse_number(stated).value))
    # an unreduced fraction shows its two numbers (policy 2): "2/4" shows a 2
    assume(not (_is_division_still_to_do(stated) and any(_same_for_the_guard(answer, Fraction(part))
                                                         for part in stated.lstrip("-").split("/"))))
    reply = data.draw(st.sampled_from(TEMPLATES), label="template").format(stated)
    assert guarded(_problem(teacher), reply) is None, (teacher, reply)


@settings(max_examples=60, deadline=None)
@given(number=st.one_of(st.integers(min_value=0, max_value=100000),
                        st.builds(lambda n: Fraction(n, 10), st.integers(min_value=1, max_value=99))),
       language=st.sampled_from(sorted(WORD_TEMPLATES)), data=st.data())
def test_the_value_in_words_is_protected(number, language, data):
    value = Fraction(number)
    teacher = data.draw(st.sampled_from(written_forms(value)), label="teacher's answer")
    words = num2words(value.numerator if value.denominator == 1 else float(value), lang=language)
    reply = WORD_TEMPLATES[language].format(words)
    assert guarded(_problem(teacher), reply) is not None, (teacher, reply)


def _is_division_still_to_do(stated: str) -> bool:
    last = stated.split()[-1].lstrip("-")
    if "/" not in last:
        return False
    num, den = (int(p) for p in last.split("/"))
    return Fraction(num, den).denominator != den or den == 1


def test_the_forms_are_all_read_by_the_checker():
    for value in (Fraction(1, 2), Fraction(-3, 2), Fraction(1250), Fraction(3, 4), Fraction(7), Fraction(2, 3)):
        for form in written_forms(value):
            assert _accepted(format_number(value), form), (value, form)
