"""Screenings (issue 13): a patient's screening instruments, their answers, the team's rescreening
cadences and the instruments users loaded.

- ``screening``: one instrument given to a patient (a FHIR QuestionnaireResponse summarised as its
  Observations): instrument key and version, date, who answered, score, band, positive domains, safety
  flag with its follow-up task, the plan its needs went to.
- ``screening_answer``: each question and the answer given, hanging off its screening.
- ``screening_cadence``: an instrument's rescreening interval where the team changed the default.
- ``screening_instrument``: instruments loaded with ``screen instruments --add`` (a licensed PRAPARE).

On PostgreSQL the team's groups get their privileges on the four tables; a screening is visible to
whoever sees its patient, an answer to whoever sees its screening (row-level security); cadences and
loaded instruments belong to the whole team (grants only).

Downgrading drops the four tables (their grants and policies go with them).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carecoord import dialects

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("screening", "screening_answer", "screening_cadence", "screening_instrument")


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    """The columns every record has (models.Timestamped)."""
    return [
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "screening",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(), nullable=False),
        sa.Column("instrument_version", sa.String(), nullable=False),
        sa.Column("loinc", sa.String(), nullable=True),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("answered_by", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("band", sa.String(), nullable=True),
        sa.Column("positive", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("positive_domains", sa.String(), nullable=False),
        sa.Column("safety_flag", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("safety_task_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["safety_task_id"], ["task.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plan.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index(
        "ix_screening_patient_instrument_taken", "screening", ["patient_id", "instrument", "taken_on", "positive"]
    )
    op.create_index("ix_screening_taken_on", "screening", ["taken_on", "instrument", "positive_domains"])
    op.create_index("ix_screening_safety_flag", "screening", ["safety_flag", "patient_id"])
    op.create_table(
        "screening_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(), nullable=False),
        sa.Column("loinc", sa.String(), nullable=True),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("answer_loinc", sa.String(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["screening_id"], ["screening.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_screening_answer_screening_id", "screening_answer", ["screening_id"])
    op.create_table(
        "screening_cadence",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument", sa.String(), nullable=False),
        sa.Column("every_days", sa.Integer(), nullable=True),
        sa.Column("sooner_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instrument"),
        sa.UniqueConstraint("uid"),
    )
    op.create_table(
        "screening_instrument",
        *_stamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("definition", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("uid"),
    )
    if op.get_bind().dialect.name != dialects.POSTGRESQL:
        return
    for statement in dialects.grant_team_sql(TABLES, append_only=()):
        op.execute(statement)
    for statement in dialects.child_policy_sql("screening"):
        op.execute(statement)
    for statement in dialects.parent_policy_sql("screening_answer", "screening_id", "screening"):
        op.execute(statement)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
