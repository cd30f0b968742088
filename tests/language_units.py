"""A small conversation unit for the language tests: two goals, a little vocabulary, two misconceptions."""

from __future__ import annotations

from pathlib import Path

from tutor_app.curriculum.library import CurriculumLibrary

TAPAS = """\
kind: conversation
id: tapas
title: Tapas in Madrid
language: en
target_language: es
level: A2
scenario: A tapas bar near the Plaza Mayor in Madrid.
character: Lucía, a friendly waitress.
opening: "¡Hola! ¿Qué te pongo?"
goals:
  - {id: order-politely, description: Order politely, phrases: ["me pone", "quería", "para mí"]}
  - {id: ask-for-the-bill, description: Ask for the bill, phrases: ["la cuenta", "cuánto es"]}
vocabulary:
  - {word: "una limonada", translation: "a lemonade"}
  - {word: "las croquetas", translation: "croquettes"}
misconceptions:
  - id: gender-agreement
    description: "Gender agreement: the article does not match the noun"
    examples: ["*un limonada* → una limonada"]
  - id: ser-estar
    description: "ser / estar: ser for a state"
"""


def tapas_library(root: Path) -> CurriculumLibrary:
    """A curricula folder under ``root`` holding only the tapas unit, loaded."""
    folder = root / "curricula"
    folder.mkdir()
    (folder / "tapas.yaml").write_text(TAPAS, encoding="utf-8")
    library = CurriculumLibrary(folder)
    library.reload()
    assert library.errors == [] and set(library.conversations) == {"tapas"}, library.errors
    return library
