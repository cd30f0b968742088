"""Units written for the student-side tests of issue 12, beside the harness's equations unit.

Each problem holds one thing the walk-through found: a numeric answer (3/4) that a fixed
example would give away, answers with units, an equation a phone capitalises, and an open
step with phrase bug rules."""

from __future__ import annotations

from pathlib import Path

FINDINGS_ID = "findings"

FINDINGS_YAML = """\
id: findings
title: Findings of the walk-through
subject: science
language: en
skills:
  - id: fractions
    name: Fractions of a whole
  - id: energy
    name: Energy in joules
  - id: money
    name: Money
  - id: solving
    name: Solving
  - id: explaining
    name: Explaining energy
misconceptions:
  - id: energy-used-up
    description: Thinks energy is used up instead of transferred.
problems:
  - id: quarters
    title: Pizza left over
    statement: "A pizza is cut into 4 equal slices and Ana eats 1."
    steps:
      - id: left
        prompt: "What fraction of the pizza is left?"
        answer: "3/4"
        check: numeric
        skills: [fractions]
  - id: energy
    title: Energy and money
    statement: "A 4 kg ball rolls at 3 m/s. A ticket costs 20 euros."
    steps:
      - id: joules
        prompt: "What is the ball's kinetic energy, in joules?"
        answer: "18"
        check: numeric
        unit: J
        skills: [energy]
      - id: price
        prompt: "How much is the ticket, in euros?"
        answer: "20"
        check: numeric
        unit: €
        skills: [money]
  - id: line
    title: Find y
    statement: "Solve $y - 3 = 4$."
    steps:
      - id: solve-y
        prompt: "What is y? Write an equation."
        answer: "y = 7"
        check: equation
        skills: [solving]
  - id: pendulum
    title: Where does the energy go?
    statement: "A pendulum swings lower and lower until it stops."
    steps:
      - id: explain
        prompt: "Explain where the pendulum's energy went."
        check: open
        skills: [explaining]
        misconceptions:
          - id: energy-used-up
            phrases: ["used up", "runs out of energy"]
            patterns: ["energ(y|ies) (is|was) (lost|destroyed)"]
            feedback: "Energy is never used up. Which stores went up as the pendulum slowed down?"
        rubric:
          id: pendulum-rubric
          title: Pendulum energy
          criteria:
            - id: transfer
              name: Transfer
              levels:
                - {score: 0, description: "Says energy is used up"}
                - {score: 2, description: "Energy is transferred to the surroundings"}
"""


def write_findings(root: Path) -> Path:
    """The findings unit in ``root``'s curricula folder (``running_app`` adds its own unit beside it)."""
    folder = root / "curricula"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "findings.yaml"
    path.write_text(FINDINGS_YAML, encoding="utf-8")
    return path
