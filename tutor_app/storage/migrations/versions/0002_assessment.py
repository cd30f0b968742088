"""Rubric grading: batches, submissions, the model's grades and the teacher's overrides.

Revision ID: 0002_assessment
Revises: 0001_initial
Create Date: 2026-11-23

Only new tables: a school's tutoring data is untouched. Model grades and teacher overrides are
separate tables so that an override never rewrites what the model said (see assessment/models.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_assessment"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_batches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rubric_id", sa.String(80), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "assessment_submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("assessment_batches.id", ondelete="SET NULL",
                                                          name="fk_assessment_submissions_batch_id"), nullable=True),
        sa.Column("rubric_id", sa.String(80), nullable=False),
        sa.Column("student", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("rubric_id", "student", "content_hash", name="uq_assessment_submissions_identity"),
    )
    op.create_index("ix_assessment_submissions_rubric", "assessment_submissions", ["rubric_id", "created_at"])
    op.create_table(
        "assessment_model_grades",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(),
                  sa.ForeignKey("assessment_submissions.id", ondelete="CASCADE",
                                name="fk_assessment_model_grades_submission_id"), nullable=False),
        sa.Column("rubric_hash", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("max_total", sa.Float(), nullable=False),
        sa.Column("next_steps", sa.JSON(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("summary_from_model", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("submission_id", "rubric_hash", name="uq_assessment_model_grades_version"),
    )
    op.create_table(
        "assessment_model_criteria",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("grade_id", sa.Integer(),
                  sa.ForeignKey("assessment_model_grades.id", ondelete="CASCADE",
                                name="fk_assessment_model_criteria_grade_id"), nullable=False),
        sa.Column("criterion_id", sa.String(80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("next_step", sa.Text(), nullable=False),
        sa.Column("quote_verified", sa.Boolean(), nullable=False),
        sa.Column("part_scores", sa.JSON(), nullable=False),
        sa.UniqueConstraint("grade_id", "criterion_id", name="uq_assessment_model_criteria_criterion"),
    )
    op.create_table(
        "assessment_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(),
                  sa.ForeignKey("assessment_submissions.id", ondelete="CASCADE",
                                name="fk_assessment_overrides_submission_id"), nullable=False),
        sa.Column("criterion_id", sa.String(80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("teacher", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_assessment_overrides_lookup", "assessment_overrides",
                    ["submission_id", "criterion_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_assessment_overrides_lookup", table_name="assessment_overrides")
    op.drop_table("assessment_overrides")
    op.drop_table("assessment_model_criteria")
    op.drop_table("assessment_model_grades")
    op.drop_index("ix_assessment_submissions_rubric", table_name="assessment_submissions")
    op.drop_table("assessment_submissions")
    op.drop_table("assessment_batches")
