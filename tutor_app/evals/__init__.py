"""Evaluating the tutor's model on held-out cases: misconception diagnoses, rubric grades and
answer leaks, measured through the app's own prompt code, reported and compared with
confidence intervals (base against adapter, or two quants)."""
