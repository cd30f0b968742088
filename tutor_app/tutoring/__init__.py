"""Step-by-step tutoring: its tables, store and reports, and the service behind the student's page
and the JSON API (start a problem, submit an answer, take a hint, ask the tutor)."""
