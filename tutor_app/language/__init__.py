"""Conversation practice: a student talks with a character in the language they learn.

Deterministic code decides everything that can be decided: where an error is in the student's
text (``corrections``), which goals were met (``goals``), the level and how it moves
(``levels``), whether a reply is at that level (``difficulty``). The model writes what only a
model can: the character's replies (``character``), the correction of a message under a JSON
schema built from the unit, and translations on demand (``translate``). ``service`` is what the
page and the API call; ``store`` and ``models`` keep conversations in the tutor's database.
"""
