"""A class whose stored answers were simulated from known BKT parameters, for the tests of fitting
the class's parameters (service, command and dashboard page).

The unit has three skills: ``drill`` is practised by ``FITTED_STUDENTS`` students in a ten-step
problem (enough for a fit that can be adopted), ``review`` by ``FEW_STUDENTS`` (enough to try,
too few to pin the values down), and ``later`` by nobody. The answers go into the database as
the tutor stores them (a session per student and problem, one first attempt per step), in one
transaction: thousands of them through the service would take minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tutor_app.curriculum.schema import BKTParams
from tutor_app.engine.bkt_fit import simulate_answers
from tutor_app.service.models import Student
from tutor_app.storage.database import Database
from tutor_app.tutoring.models import Attempt, TutorSession

UNIT_ID = "fit-practice"
STEPS = 10
TRUTH = BKTParams(p_init=0.3, p_transit=0.15, p_guess=0.2, p_slip=0.1)
FILE_PARAMS = BKTParams(p_init=0.2, p_transit=0.15, p_guess=0.2, p_slip=0.1)  # the unit file's (the defaults)
FITTED_STUDENTS = 200
FEW_STUDENTS = 40
SEED = 1


def _steps(skill: str) -> str:
    return "".join(f"""
      - id: s{n}
        prompt: "What is {n} + {n}?"
        answer: "{2 * n}"
        check: numeric
        skills: [{skill}]""" for n in range(1, STEPS + 1))


UNIT_YAML = f"""\
id: {UNIT_ID}
title: Fit practice
subject: math
skills:
  - id: drill
    name: Doubling drill
  - id: review
    name: Doubling review
  - id: later
    name: Not practised yet
problems:
  - id: drill-problem
    title: Ten doublings
    statement: "Double each number."
    steps:{_steps("drill")}
  - id: review-problem
    title: Ten more doublings
    statement: "Double each number again."
    steps:{_steps("review")}
  - id: later-problem
    title: Doubling later
    statement: "Nobody has tried this one."
    steps:
      - id: s1
        prompt: "What is 2 + 2?"
        answer: "4"
        check: numeric
        skills: [later]
"""


def store_simulated_class(db: Database, *, students: int = FITTED_STUDENTS, few: int = FEW_STUDENTS,
                          seed: int = SEED) -> None:
    """``students`` answer the drill problem and the first ``few`` of them the review problem,
    each first answer right or wrong as ``simulate_answers(TRUTH)`` decides."""
    start = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
    drill = simulate_answers(TRUTH, students=students, steps=STEPS, seed=seed)
    review = simulate_answers(TRUTH, students=few, steps=STEPS, seed=seed + 1)
    with db.session() as session:
        for i, answers in enumerate(drill):
            student = Student(name=f"Sim {i:03d}", created_at=start)
            session.add(student)
            session.flush()
            for problem, rows in (("drill-problem", answers), ("review-problem", review[i] if i < few else None)):
                if rows is None:
                    continue
                sid = f"sim-{i:03d}-{problem}"
                session.add(TutorSession(id=sid, student_id=student.id, curriculum_id=UNIT_ID, problem_id=problem,
                                         seed=0, progress={}, step_id=None, done=True, created_at=start,
                                         updated_at=start))
                session.flush()  # the attempts point at it; no ORM relationship orders the inserts
                for n, right in enumerate(rows, start=1):
                    at = start + timedelta(minutes=n, seconds=i)
                    session.add(Attempt(session_id=sid, step_id=f"s{n}", answer=str(2 * n if right else 2 * n + 1),
                                        normalized=None, verdict="correct" if right else "incorrect",
                                        misconception_id=None, diagnosis=None, feedback=None, scaffold=False,
                                        created_at=at))
