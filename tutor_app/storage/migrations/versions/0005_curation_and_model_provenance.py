"""Teachers' curation of model outputs, grade confirmations, the adapter log, and which model wrote what.

Revision ID: 0005_curation_and_model_provenance
Revises: 0004_open_grades_model_switch
Create Date: 2026-12-05

New tables, all empty: ``curation_reply_reviews``, ``curation_diagnosis_reviews`` and
``curation_correction_reviews`` (a teacher's judgement of a tutor reply, a diagnosis, a
language correction, kept apart from it), ``assessment_confirmations`` (a model grade checked
and kept as it is) and ``adapter_switches`` (which LoRA adapter the running model used from when).

New columns, empty for every stored row: the LoRA adapter version beside each stored model
output (``tutor_messages.adapter``, ``assessment_model_grades.adapter``,
``conversation_turns.adapter``; ``attempts.diagnosis_model`` and ``diagnosis_adapter`` for a
model's diagnosis), and ``tutor_messages.guard_rule`` (the answer-leak guard's rule when it cut
the reply). Stored rows were written before adapters could be switched at run time; an empty
adapter reads as "the base model or unknown", and the dashboard's trends show them so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_curation_and_model_provenance"
down_revision = "0004_open_grades_model_switch"
branch_labels = None
depends_on = None

ADAPTER = 200  # a model name or an adapter version label ("school.gguf@3f2a9c1b0d")


def _review_table(name: str, item: str, parent: str, *extra: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(item, sa.Integer(), sa.ForeignKey(f"{parent}.id", ondelete="CASCADE", name=f"fk_{name}_{item}"),
                  nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        *extra,
        sa.Column("teacher", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index(f"ix_{name}_{item.removesuffix('_id')}", name, [item, "created_at"])


def upgrade() -> None:
    _review_table("curation_reply_reviews", "message_id", "tutor_messages",
                  sa.Column("better_reply", sa.Text(), nullable=True))
    _review_table("curation_diagnosis_reviews", "attempt_id", "attempts",
                  sa.Column("misconception_id", sa.String(80), nullable=True),
                  sa.Column("feedback", sa.Text(), nullable=True))
    _review_table("curation_correction_reviews", "turn_id", "conversation_turns")
    op.create_table(
        "assessment_confirmations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("grade_id", sa.Integer(), sa.ForeignKey("assessment_model_grades.id", ondelete="CASCADE",
                                                            name="fk_assessment_confirmations_grade_id"),
                  nullable=False),
        sa.Column("teacher", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_assessment_confirmations_grade", "assessment_confirmations", ["grade_id", "created_at"])
    op.create_table(
        "adapter_switches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model_name", sa.String(ADAPTER), nullable=False),
        sa.Column("adapter", sa.String(ADAPTER), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("teacher", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_adapter_switches_time", "adapter_switches", ["created_at"])

    with op.batch_alter_table("tutor_messages") as batch:
        batch.add_column(sa.Column("adapter", sa.String(ADAPTER), nullable=True))
        batch.add_column(sa.Column("guard_rule", sa.String(40), nullable=True))
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("diagnosis_model", sa.String(ADAPTER), nullable=True))
        batch.add_column(sa.Column("diagnosis_adapter", sa.String(ADAPTER), nullable=True))
    with op.batch_alter_table("assessment_model_grades") as batch:
        batch.add_column(sa.Column("adapter", sa.String(ADAPTER), nullable=True))
    with op.batch_alter_table("conversation_turns") as batch:
        batch.add_column(sa.Column("adapter", sa.String(ADAPTER), nullable=True))


def downgrade() -> None:
    for table, columns in (("conversation_turns", ["adapter"]), ("assessment_model_grades", ["adapter"]),
                           ("attempts", ["diagnosis_adapter", "diagnosis_model"]),
                           ("tutor_messages", ["guard_rule", "adapter"])):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
    for table in ("adapter_switches", "assessment_confirmations", "curation_correction_reviews",
                  "curation_diagnosis_reviews", "curation_reply_reviews"):
        op.drop_table(table)
