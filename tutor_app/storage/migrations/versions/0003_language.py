"""Conversation practice: conversations, turns with their corrections, errors, goals met.

Revision ID: 0003_language
Revises: 0002_assessment
Create Date: 2026-11-30

Only new tables: tutoring and grading data are untouched. Errors are rows of their own (not
JSON on the turn) so that the teacher's dashboard can count them per category in SQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_language"
down_revision = "0002_assessment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("student_id", sa.Integer(), sa.ForeignKey("students.id", ondelete="CASCADE",
                                                              name="fk_conversation_sessions_student_id"),
                  nullable=False),
        sa.Column("curriculum_id", sa.String(80), nullable=False),
        sa.Column("level", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_conversation_sessions_student", "conversation_sessions",
                    ["student_id", "curriculum_id", "updated_at"])
    op.create_table(
        "conversation_turns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE",
                                                             name="fk_conversation_turns_session_id"),
                  nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("level", sa.String(2), nullable=False),
        sa.Column("corrected", sa.Text(), nullable=True),
        sa.Column("correction_status", sa.String(16), nullable=True),
        sa.Column("simplified", sa.Boolean(), nullable=False),
        sa.Column("too_hard", sa.Boolean(), nullable=False),
        sa.Column("translation", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("model_name", sa.String(200), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_conversation_turns_session_time", "conversation_turns", ["session_id", "created_at"])
    op.create_table(
        "conversation_errors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("turn_id", sa.Integer(), sa.ForeignKey("conversation_turns.id", ondelete="CASCADE",
                                                         name="fk_conversation_errors_turn_id"), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("span", sa.Text(), nullable=False),
        sa.Column("correction", sa.Text(), nullable=False),
        sa.Column("category", sa.String(80), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
    )
    op.create_index("ix_conversation_errors_category", "conversation_errors", ["category"])
    op.create_table(
        "conversation_goals",
        sa.Column("session_id", sa.String(64), sa.ForeignKey("conversation_sessions.id", ondelete="CASCADE",
                                                             name="fk_conversation_goals_session_id"),
                  primary_key=True),
        sa.Column("goal_id", sa.String(80), primary_key=True),
        sa.Column("turn_id", sa.Integer(), sa.ForeignKey("conversation_turns.id", ondelete="SET NULL",
                                                         name="fk_conversation_goals_turn_id"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conversation_goals")
    op.drop_index("ix_conversation_errors_category", table_name="conversation_errors")
    op.drop_table("conversation_errors")
    op.drop_index("ix_conversation_turns_session_time", table_name="conversation_turns")
    op.drop_table("conversation_turns")
    op.drop_index("ix_conversation_sessions_student", table_name="conversation_sessions")
    op.drop_table("conversation_sessions")
