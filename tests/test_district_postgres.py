"""A district's configuration: the whole app (tutoring, language practice, grading, curation,
the teacher's dashboard and exports) on PostgreSQL serves a class exactly as it does on the
school's SQLite file. The same scripted class runs on both; the teacher reads the same."""

from __future__ import annotations

from class_support import TEACHER, UNIT, class_services, run_class
from tutor_app.runtime.fake import ScriptedBackend

STUDENTS = ["Ada", "Ben", "Chloe"]


def teachers_view(url: str, root) -> dict:
    model = ScriptedBackend()
    services = class_services(root, model, db_url=url)
    try:
        record = run_class(services, model, lambda name, n: f"Reply {n} for {name}.", students=STUDENTS)
        dashboard = services.dashboard
        transcript = dashboard.transcript(TEACHER, record.sessions["Ada"])
        return {
            "misconceptions": [(r.curriculum_id, r.misconception_id, r.count, r.students)
                               for r in dashboard.misconceptions(TEACHER)],
            "mastery": sorted((s.student, sorted(s.mastery.items()), s.mastered)
                              for s in dashboard.class_mastery(TEACHER, UNIT).students),
            "sessions": sorted((s.student, s.attempts) for s in dashboard.sessions(TEACHER)),
            "transcript": [(e.kind, e.text, e.verdict, e.misconception_id) for e in transcript.entries],
            "conversations": sorted(c.student for c in dashboard.conversations(TEACHER)),
            "attempts_csv_rows": len(dashboard.attempts_csv(TEACHER).splitlines()),
            "errors_csv_rows": len(dashboard.conversation_errors_csv(TEACHER).splitlines()),
        }
    finally:
        services.close()


def test_a_class_on_postgresql_reads_as_on_sqlite(postgres_url, tmp_path):
    on_sqlite = teachers_view(f"sqlite:///{tmp_path / 'school.sqlite3'}", tmp_path / "sqlite")
    on_postgres = teachers_view(postgres_url, tmp_path / "postgres")
    assert on_sqlite["misconceptions"] and on_sqlite["attempts_csv_rows"] > len(STUDENTS)
    assert on_postgres == on_sqlite
