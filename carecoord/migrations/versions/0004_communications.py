"""The communication log, the call timer and transitions of care.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_timer",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("call_timer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_timer_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "communication",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("with_whom", sa.String(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_communication_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_communication_outcome"), ["outcome"], unique=False)
        batch_op.create_index("ix_communication_patient_at", ["patient_id", "at"], unique=False)

    op.create_table(
        "transition",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("facility", sa.String(), nullable=False),
        sa.Column("discharged_on", sa.Date(), nullable=False),
        sa.Column("complexity", sa.String(), nullable=False),
        sa.Column("contact_due", sa.Date(), nullable=False),
        sa.Column("visit_due", sa.Date(), nullable=False),
        sa.Column("contact_task_id", sa.Integer(), nullable=True),
        sa.Column("visit_task_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["contact_task_id"], ["task.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["visit_task_id"], ["task.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transition_discharged_on"), ["discharged_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_transition_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transition_patient_id"))
        batch_op.drop_index(batch_op.f("ix_transition_discharged_on"))

    op.drop_table("transition")
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.drop_index("ix_communication_patient_at")
        batch_op.drop_index(batch_op.f("ix_communication_outcome"))
        batch_op.drop_index(batch_op.f("ix_communication_at"))

    op.drop_table("communication")
    with op.batch_alter_table("call_timer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_timer_patient_id"))

    op.drop_table("call_timer")
