"""Open answers remember their grade; chat replies name their question; the teacher's model switch.

Revision ID: 0004_open_grades_model_switch
Revises: 0003_language
Create Date: 2026-12-06

``attempts`` gains ``graded_by`` and ``grade_share`` (both empty for every stored attempt: an
open answer stored before this revision counts as not graded yet, which is what it was).
``tutor_messages`` gains ``reply_to`` (empty for stored replies: they follow their question in
time, as every reply did before questions could overlap). ``model_switches`` is new and empty: the model is on everywhere until a teacher turns it off.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_open_grades_model_switch"
down_revision = "0003_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("graded_by", sa.String(16), nullable=True))
        batch.add_column(sa.Column("grade_share", sa.Float(), nullable=True))
    with op.batch_alter_table("tutor_messages") as batch:
        batch.add_column(sa.Column("reply_to", sa.Integer(), nullable=True))
    op.create_table(
        "model_switches",
        sa.Column("curriculum_id", sa.String(80), primary_key=True),
        sa.Column("model_off", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_switches")
    with op.batch_alter_table("tutor_messages") as batch:
        batch.drop_column("reply_to")
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("grade_share")
        batch.drop_column("graded_by")
