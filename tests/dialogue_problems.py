"""Problems and a unit shared by the dialogue tests (plain data, built through the real schema)."""

from __future__ import annotations

from tutor_app.curriculum.schema import Problem, Unit

LINEAR = Problem.model_validate({
    "id": "two-step-1",
    "statement": "Solve for $x$: $2x + 3 = 11$",
    "steps": [
        {"id": "isolate", "prompt": "Subtract 3 from both sides. What equation do you get?", "answer": "2x = 8",
         "check": "equation", "skills": ["inverse-operations"],
         "hints": ["Which operation undoes + 3?", {"scaffold": "What is 11 - 3?", "answer": "8", "check": "numeric"},
                   "2x + 3 - 3 = 11 - 3, so 2x = 8."],
         "misconceptions": [{"id": "added-instead-of-subtracted", "answers": ["2x = 14"],
                             "feedback": "It looks like you added 3 to both sides."}]},
        {"id": "solve", "prompt": "Now find x.", "answer": "x = 4", "check": "equation",
         "skills": ["inverse-operations"], "hints": ["Divide both sides by 2.", "x = 8 / 2 = 4"]},
    ],
})

HALF = Problem.model_validate({
    "id": "pizza",
    "statement": "A pizza is cut into 8 equal slices. Ana eats 4 of them. What part of the pizza did she eat?",
    "steps": [{"id": "part", "prompt": "Write the part she ate as a number.", "answer": "0.5", "check": "numeric",
               "skills": ["fractions"], "hints": ["How many slices are there?", "4/8 = 1/2 = 0.5"]}],
})

PI = Problem.model_validate({
    "id": "circle",
    "statement": "A circle's circumference divided by its diameter is always the same number.",
    "steps": [{"id": "pi", "prompt": "Give that number with two decimals.", "answer": "3.14", "check": "numeric",
               "tolerance": 0.01, "skills": ["fractions"]}],
})

PLANTS = Problem.model_validate({
    "id": "plants",
    "statement": "Green plants make their own food using light from the Sun.",
    "steps": [{"id": "process", "prompt": "What is this process called?", "answer": "photosynthesis",
               "alternatives": ["photo-synthesis"], "check": "text", "skills": ["fractions"]}],
})

PLANETS = Problem.model_validate({
    "id": "planets",
    "statement": "Our solar system has eight planets.",
    "steps": [{"id": "closest", "prompt": "Which planet is closest to the Sun?", "answer": "Mercury",
               "check": "choice", "choices": ["Mercury", "Venus", "Earth", "Mars"], "skills": ["fractions"]}],
})

EXPAND = Problem.model_validate({
    "id": "expand-1",
    "statement": "Expand $3(2x + 3)$.",
    "steps": [{"id": "expand", "prompt": "Multiply each term in the brackets by 3.", "answer": "6x + 9",
               "check": "expression", "skills": ["inverse-operations"]}],
})

UNIT = Unit.model_validate({
    "id": "linear-equations",
    "title": "Solving linear equations",
    "subject": "math",
    "language": "en",
    "level": "Grade 8",
    "skills": [{"id": "inverse-operations", "name": "Use inverse operations"},
               {"id": "fractions", "name": "Fractions"}],
    "misconceptions": [
        {"id": "added-instead-of-subtracted", "description": "Applies the same operation instead of the inverse one"},
        {"id": "divided-one-side", "description": "Divides only one side of the equation"},
    ],
    "problems": [LINEAR.model_dump(), HALF.model_dump(), EXPAND.model_dump()],
})


def unit_in(language: str) -> Unit:
    return UNIT.model_copy(update={"language": language})
