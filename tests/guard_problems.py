"""Word problems for the answer-leak guard's tests, and the one way they are guarded.

``guarded`` runs the guard exactly as the tutor chat does (``guard_for_turn``, the model's
chunks fed through ``StreamGuard``), so every table of the guard tests measures the guard a
student meets, not a shortcut around it.
"""

from __future__ import annotations

from tutor_app.curriculum.schema import Problem
from tutor_app.dialogue.leak_guard import LeakFinding, guard_for_turn


def word_problem(problem_id: str, statement: str, *steps: tuple[str, str, str]) -> Problem:
    """A problem from (prompt, answer, check) steps."""
    return Problem.model_validate({"id": problem_id, "statement": statement, "steps": [
        {"id": f"step-{i + 1}", "prompt": prompt, "answer": answer, "check": check}
        for i, (prompt, answer, check) in enumerate(steps)]})


SAVINGS = word_problem("savings", "Steve saves $12 each week. He wants to buy a bike that costs $84.",
                       ("How many weeks does Steve need to save?", "7", "numeric"))
WAGES = word_problem("wages", "Maria earns $15 per hour. Last month she worked 84 hours. She pays $200 for rent.",
                     ("How much did she earn last month?", "1260", "numeric"),
                     ("How much money does she have left after paying the rent?", "1060", "numeric"))
POSTERS = word_problem("posters", "The club printed 50 large posters. They put up 20 in the school and 25 in "
                       "the library.", ("How many large posters are left?", "5", "numeric"))
STICKERS = word_problem("stickers", "Ana has 20 stickers. She gives 5 to Ben and 10 to Carla.",
                        ("How many stickers does Ana have left?", "5", "numeric"))
WALK = word_problem("walk", "Ana walks 500 steps to school. Ben walks 4 times as many steps as Ana.",
                    ("How many steps does Ben walk?", "2000", "numeric"))
PIZZAS = word_problem("pizzas", "Three pizzas are shared equally between two friends.",
                      ("How many pizzas does each friend get?", "1 1/2", "numeric"))
GLASSES = word_problem("glasses", "In a class of 30 students, 9 wear glasses.",
                       ("What percent of the students wear glasses?", "30", "numeric"))
CHOCOLATE = word_problem("chocolate", "Lena ate two-fifths of a chocolate bar. That was 2 equal pieces.",
                         ("How many pieces did the whole bar have?", "5", "numeric"))


def guarded(problem: Problem, reply: str, *, student: str = "", history: list[dict] | None = None,
            step_index: int = 0, chunk: int = 4) -> LeakFinding | None:
    """What the guard finds in ``reply`` when it streams in ``chunk``-sized pieces, or None."""
    guard = guard_for_turn(problem, step_index, [], student_message=student, history=history or [])
    for i in range(0, len(reply), chunk):
        guard.feed(reply[i:i + chunk])
    guard.finish()
    return guard.finding
