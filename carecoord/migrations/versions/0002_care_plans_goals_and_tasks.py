"""Care plans with needs, reviews and goals; tasks with priorities, tags and recurrence.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_plan",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("needs", sa.String(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.Column("review_every_days", sa.Integer(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("care_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_care_plan_next_review"), ["next_review"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plan_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_care_plan_status"), ["status"], unique=False)

    op.create_table(
        "goal",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("lifecycle_status", sa.String(), nullable=False),
        sa.Column("achievement_status", sa.String(), nullable=True),
        sa.Column("target_on", sa.Date(), nullable=True),
        sa.Column("measure", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goal_lifecycle_status"), ["lifecycle_status"], unique=False)
        batch_op.create_index(batch_op.f("ix_goal_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_goal_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_goal_target_on"), ["target_on"], unique=False)

    op.create_table(
        "plan_review",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("plan_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_review_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_review_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("status_reason", sa.String(), nullable=True),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("due_time", sa.Time(), nullable=True),
        sa.Column("rrule", sa.String(), nullable=True),
        sa.Column("repeat_from", sa.Date(), nullable=True),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("tags", sa.String(), nullable=False),
        sa.Column("notes", sa.String(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plan.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_series_id"), ["series_id"], unique=False)
        batch_op.create_index("ix_task_status_due", ["status", "due_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_status_due")
        batch_op.drop_index(batch_op.f("ix_task_series_id"))
        batch_op.drop_index(batch_op.f("ix_task_plan_id"))
        batch_op.drop_index(batch_op.f("ix_task_patient_id"))
        batch_op.drop_index(batch_op.f("ix_task_goal_id"))

    op.drop_table("task")
    with op.batch_alter_table("plan_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_review_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_review_patient_id"))

    op.drop_table("plan_review")
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goal_target_on"))
        batch_op.drop_index(batch_op.f("ix_goal_plan_id"))
        batch_op.drop_index(batch_op.f("ix_goal_patient_id"))
        batch_op.drop_index(batch_op.f("ix_goal_lifecycle_status"))

    op.drop_table("goal")
    with op.batch_alter_table("care_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_plan_status"))
        batch_op.drop_index(batch_op.f("ix_care_plan_patient_id"))
        batch_op.drop_index(batch_op.f("ix_care_plan_next_review"))

    op.drop_table("care_plan")
