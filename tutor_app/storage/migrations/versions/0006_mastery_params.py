"""Mastery parameters adopted from a fit of the class, with their history.

Revision ID: 0006_mastery_params
Revises: 0005_curation_and_model_provenance
Create Date: 2026-12-06

Only a new table: the unit files keep their ``bkt:`` values, and a row here overrides them for
the class (the newest row per unit and skill). Rows are never updated, so the table is also
the history: who adopted what, when, and what was in use before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_mastery_params"
down_revision = "0005_curation_and_model_provenance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mastery_params",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("curriculum_id", sa.String(80), nullable=False),
        sa.Column("skill_id", sa.String(80), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("p_init", sa.Float(), nullable=True),
        sa.Column("p_transit", sa.Float(), nullable=True),
        sa.Column("p_guess", sa.Float(), nullable=True),
        sa.Column("p_slip", sa.Float(), nullable=True),
        sa.Column("old_p_init", sa.Float(), nullable=False),
        sa.Column("old_p_transit", sa.Float(), nullable=False),
        sa.Column("old_p_guess", sa.Float(), nullable=False),
        sa.Column("old_p_slip", sa.Float(), nullable=False),
        sa.Column("students", sa.Integer(), nullable=True),
        sa.Column("observations", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_mastery_params_skill", "mastery_params", ["curriculum_id", "skill_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_mastery_params_skill", table_name="mastery_params")
    op.drop_table("mastery_params")
