"""The tutoring engine: pure functions that walk a student through a problem, trace mastery and
pick the next problem. No I/O and no model, so every rule is tested as plain function calls."""
