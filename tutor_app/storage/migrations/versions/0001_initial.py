"""The tutoring core: students, sessions, attempts, hints, mastery, chat, teacher account.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "students",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_students_name"),
    )
    op.create_table(
        "tutor_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("student_id", sa.Integer(), sa.ForeignKey("students.id", ondelete="CASCADE",
                                                              name="fk_tutor_sessions_student_id"), nullable=False),
        sa.Column("curriculum_id", sa.String(80), nullable=False),
        sa.Column("problem_id", sa.String(80), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("progress", sa.JSON(), nullable=False),
        sa.Column("step_id", sa.String(80), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_tutor_sessions_resume", "tutor_sessions", ["student_id", "curriculum_id", "problem_id", "done"])
    op.create_index("ix_tutor_sessions_unit", "tutor_sessions", ["curriculum_id", "problem_id"])

    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("tutor_sessions.id", ondelete="CASCADE",
                                                             name="fk_attempts_session_id"), nullable=False),
        sa.Column("step_id", sa.String(80), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("misconception_id", sa.String(80), nullable=True),
        sa.Column("diagnosis", sa.String(16), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("scaffold", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_attempts_session_time", "attempts", ["session_id", "created_at"])
    op.create_index("ix_attempts_misconception", "attempts", ["misconception_id"])

    op.create_table(
        "hints_shown",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("tutor_sessions.id", ondelete="CASCADE",
                                                             name="fk_hints_shown_session_id"), nullable=False),
        sa.Column("step_id", sa.String(80), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("bottom_out", sa.Boolean(), nullable=False),
        sa.Column("scaffold", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_hints_shown_session_time", "hints_shown", ["session_id", "created_at"])

    op.create_table(
        "mastery",
        sa.Column("student_id", sa.Integer(), sa.ForeignKey("students.id", ondelete="CASCADE",
                                                              name="fk_mastery_student_id"), primary_key=True),
        sa.Column("curriculum_id", sa.String(80), primary_key=True),
        sa.Column("skill_id", sa.String(80), primary_key=True),
        sa.Column("p_known", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "mastery_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("student_id", sa.Integer(), sa.ForeignKey("students.id", ondelete="CASCADE",
                                                              name="fk_mastery_history_student_id"), nullable=False),
        sa.Column("curriculum_id", sa.String(80), nullable=False),
        sa.Column("skill_id", sa.String(80), nullable=False),
        sa.Column("p_known", sa.Float(), nullable=False),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("tutor_sessions.id", ondelete="SET NULL",
                                                             name="fk_mastery_history_session_id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_mastery_history_student", "mastery_history",
                    ["student_id", "curriculum_id", "skill_id", "created_at"])

    op.create_table(
        "tutor_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("tutor_sessions.id", ondelete="CASCADE",
                                                             name="fk_tutor_messages_session_id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("step_id", sa.String(80), nullable=True),
        sa.Column("model_name", sa.String(200), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("evaluated_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("ttft_s", sa.Float(), nullable=True),
        sa.Column("total_s", sa.Float(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_tutor_messages_session_time", "tutor_messages", ["session_id", "created_at"])

    op.create_table(
        "teacher_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("username", name="uq_teacher_accounts_username"),
    )


def downgrade() -> None:
    for table in ("teacher_accounts", "tutor_messages", "mastery_history", "mastery", "hints_shown", "attempts",
                  "tutor_sessions", "students"):
        op.drop_table(table)
