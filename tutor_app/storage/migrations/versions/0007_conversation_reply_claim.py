"""Who is writing a conversation's reply, so that two app processes never both write it.

Revision ID: 0007_conversation_reply_claim
Revises: 0006_mastery_params
Create Date: 2026-12-06

Two nullable columns on ``conversation_sessions``: existing conversations start unclaimed.
``language/reply_claims.py`` says how they are used.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_conversation_reply_claim"
down_revision = "0006_mastery_params"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_claim", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("reply_claimed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_sessions", schema=None) as batch_op:
        batch_op.drop_column("reply_claimed_at")
        batch_op.drop_column("reply_claim")
