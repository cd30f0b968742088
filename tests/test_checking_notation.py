"""The notation tables shared by the checker, the leak guard and the worksheets."""

from __future__ import annotations

import pytest

from tutor_app.checking import check_answer
from tutor_app.checking.notation import latex_to_plain
from tutor_app.curriculum.schema import CheckOptions
from tutor_app.dialogue.mathtext import plain
from tutor_app.practice.mathhtml import latex_to_html


@pytest.mark.parametrize(("tex", "plain_text"), [
    (r"\frac{8}{2}", "8/2"), (r"\dfrac{16}{4}", "16/4"), (r"\frac12", "1/2"), (r"\frac{x+1}{2}", "((x+1)/(2))"),
    (r"\frac{\frac{1}{2}}{3}", "((1/2)/(3))"), (r"\sqrt{16}", "sqrt(16)"), (r"x^{2}", "x^(2)"),
    (r"3 \cdot 2x", "3 * 2x"), (r"8 \div 2", "8 / 2"), (r"\left( x \right)", "( x )"), (r"\boxed{x = 4}", "x = 4"),
    (r"\text{cm}", "cm"), (r"90^\circ", "90°"), (r"\displaystyle\frac{1}{2}", "1/2"), (r"\unknown x", r"\unknown x"),
])
def test_latex_in_the_plain_notation(tex, plain_text):
    assert " ".join(latex_to_plain(tex).split()) == plain_text


@pytest.mark.parametrize("given", [r"\dfrac{1}{2}", r"\frac12", "½", "0.5"])
def test_the_checker_reads_what_the_guard_reads(given):
    assert check_answer(CheckOptions(check="expression"), "1/2", given).verdict == "correct"
    assert "1/2" in plain(given) or "0.5" in plain(given)


def test_worksheets_print_a_boxed_answer_without_the_command_name():
    assert latex_to_html(r"\boxed{x = 4}") == "<i>x</i> = 4"
