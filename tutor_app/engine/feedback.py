"""The engine's own words to the student.

Fixed sentences, so no feedback can ever contain an answer: only the teacher's bug-rule
feedback, hints and explanations (which the teacher wrote) and the checker's reading-problem
messages are shown besides these. English for now; a unit in another language still gets
its teacher-written text in that language.
"""

from __future__ import annotations

from ..curriculum.schema import Step

CORRECT = "Correct!"
PROBLEM_DONE = "Correct! You have solved the whole problem."
SCAFFOLD_RIGHT = "Right! Now use that to have another go at the step."
UNREADABLE = "I couldn't read that answer. Try writing it another way."
PENDING = ("Thanks, your answer is saved. It is waiting for your teacher or the tutor to read it; "
           "you can go on meanwhile.")
PENDING_DONE = ("Thanks, your answer is saved. It is waiting for your teacher or the tutor to read it. "
                "That was the last step.")
LADDER_END_WITHOUT_ANSWER = ("That was the last hint for this step. Look back over the hints and try the step again, "
                             "or ask the tutor to explain.")

_WRONG = (
    "Not quite. Check your working and try again.",
    "Not quite yet. If you're stuck, ask for a hint.",
    "Still not right. A hint will show you the next idea: press Hint.",
)

_KIND_TIPS = {
    "equation": "Write an equation with one = sign, and do the same thing to both sides.",
    "expression": "Write an expression without an = sign. Work on one part at a time.",
    "numeric": "Work it out on paper one operation at a time, then type just the number.",
    "choice": "Rule out the choices you are sure are wrong, then decide between the rest.",
    "open": "Start with one sentence in your own words; you can improve it afterwards.",
}
_DEFAULT_TIP = "Look back at the problem and the earlier steps for what you need."


def correct(step: Step, problem_done: bool) -> str:
    text = PROBLEM_DONE if problem_done else CORRECT
    return f"{text} {step.explanation.strip()}" if step.explanation else text


def wrong(attempts_at_step: int) -> str:
    """Gently more pointed as attempts pile up: the third wrong answer suggests a hint."""
    return _WRONG[min(max(attempts_at_step, 1), len(_WRONG)) - 1]


def scaffold_wrong(question: str, misses: int, moves_on_after: int) -> str:
    text = f"Not quite. Have another go at the hint's question: {question}"
    return text + " You can also ask for the next hint." if misses >= moves_on_after else text


def scaffold_unreadable(question: str, reason: str | None) -> str:
    return f"First answer the hint's question: {question}" + (f" {reason}" if reason else "")


def generic_nudge(step: Step, level: int) -> str:
    """For a step the teacher gave no hints: first send the student back to the question, then
    a tip for the kind of answer. Never the answer: there is no teacher-written bottom-out."""
    if level <= 1:
        return (f"Read this step again slowly: {step.prompt.strip()} What is it asking for, and what do you already "
                f"know from the problem?")
    return f"{_KIND_TIPS.get(step.check, _DEFAULT_TIP)} If you are still stuck, ask the tutor."
