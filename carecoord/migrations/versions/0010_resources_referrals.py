"""Community resources and referrals, with the loop closed (issue 14).

- ``resource``: the team's directory of community resources and services (an Open Referral HSDS
  service at its location), with the HSDS service id a re-import updates by. It belongs to the whole
  team: on PostgreSQL everyone on the team reads, adds and corrects entries, nobody deletes one (a
  resource is retired, so the referrals made to it keep their history); no row-level security.
- ``referral``: a patient's referral (FHIR ServiceRequest with its Task): recipient, need, status,
  outcome, consent to share, its follow-up task. On PostgreSQL its rows are the patient's
  coordinator's (the same policy as every table with a ``patient_id``).
- ``referral_event``: each step of a referral's history. On PostgreSQL a row is visible when its
  referral is (a policy through the parent table).

Downgrading drops the three tables (their rows are lost) with their grants and policies; the
follow-up tasks the referrals created stay, as tasks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carecoord import dialects

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIRECTORY_TABLES = ("resource",)
PATIENT_TABLES = ("referral",)
CHILD_TABLES = ("referral_event",)


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "resource",
        *_stamps(),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("organization", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("hours", sa.String(), nullable=True),
        sa.Column("eligibility", sa.String(), nullable=True),
        sa.Column("languages", sa.String(), nullable=True),
        sa.Column("fees", sa.String(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("retired_on", sa.Date(), nullable=True),
        sa.Column("hsds_id", sa.String(), nullable=True),
        sa.Column("taxonomy", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
        sa.UniqueConstraint("hsds_id"),
    )
    op.create_index("ix_resource_category", "resource", ["category"])
    op.create_index("ix_resource_status", "resource", ["status"])
    op.create_table(
        "referral",
        *_stamps(),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("need", sa.String(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("status_reason", sa.String(), nullable=True),
        sa.Column("consent_method", sa.String(), nullable=True),
        sa.Column("consent_by", sa.String(), nullable=True),
        sa.Column("consent_on", sa.Date(), nullable=True),
        sa.Column("consent_recorded_by", sa.String(), nullable=True),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("follow_up_days", sa.Integer(), nullable=False),
        sa.Column("followup_task_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_id"], ["resource.id"]),
        sa.ForeignKeyConstraint(["followup_task_id"], ["task.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    for name, columns in (
        ("ix_referral_patient_id", ["patient_id"]),
        ("ix_referral_resource_id", ["resource_id"]),
        ("ix_referral_need", ["need"]),
        ("ix_referral_sent_on", ["sent_on"]),
        ("ix_referral_closed_on", ["closed_on"]),
        ("ix_referral_changed_status_patient", ["changed_at", "status", "patient_id"]),
    ):
        op.create_index(name, "referral", columns)
    op.create_table(
        "referral_event",
        *_stamps(),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("from_status", sa.String(), nullable=True),
        sa.Column("to_status", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_referral_event_referral_id", "referral_event", ["referral_id"])
    if op.get_bind().dialect.name != dialects.POSTGRESQL:
        return
    for statement in dialects.grant_directory_sql(DIRECTORY_TABLES):
        op.execute(statement)
    for statement in dialects.grant_team_sql((*PATIENT_TABLES, *CHILD_TABLES), ()):
        op.execute(statement)
    for table in PATIENT_TABLES:
        for statement in dialects.child_policy_sql(table):
            op.execute(statement)
    for statement in dialects.parent_policy_sql("referral_event", "referral_id", "referral"):
        op.execute(statement)


def downgrade() -> None:
    # Dropping a table drops its policies and grants with it.
    op.drop_table("referral_event")
    op.drop_table("referral")
    op.drop_table("resource")
