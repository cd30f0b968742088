"""A small conversation unit for the language tests: two goals, a little vocabulary, two misconceptions."""

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
