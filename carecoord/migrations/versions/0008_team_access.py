"""People, roles and access on a team store (issue 12).

- ``patient.coordinator`` (NOT NULL, indexed): who the patient is assigned to. Existing patients go
  to whoever runs the migration: the operating-system user on SQLite (one person's file), the
  database role on PostgreSQL (``DEFAULT current_user``, which also assigns each new patient to the
  role adding it, as the server knows it).
- ``audit_log.db_role``: on PostgreSQL the database role that made the change, set by the server
  (a default and a trigger, whatever the client sends); NULL on SQLite.
- PostgreSQL only: the group roles ``carecoord_coordinator`` and ``carecoord_supervisor`` (created
  if missing: roles belong to the whole server), their privileges on the tables (the audit trail
  only read and added to), and row-level security: a coordinator reads and changes only their own
  patients and everything hanging off them, and cannot hand a patient to someone else; a supervisor
  reads and changes all; tasks with no patient are the whole team's. Coordinators read their
  patients' audit rows and their own, supervisors all.

Downgrading drops the columns (assignments are lost: upgrading again assigns every patient to the
role or user running it), the policies, the trigger and this database's grants. The group roles
stay, with their members: other databases on the server may use them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carecoord import dialects

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables when this revision was written: each row of these belongs to a patient.
PATIENT_TABLES = (
    "contact", "care_plan", "plan_review", "goal", "appointment", "appointment_exception", "communication",
    "call_timer", "transition",
)  # fmt: skip
TEAM_TABLES = ("patient", *PATIENT_TABLES, "task")
AUDIT_TABLE = "audit_log"
# What SQLite's table rebuild must keep that reading the table back loses: the MRN's collation.
_KEPT_COLUMNS = [sa.Column("mrn", dialects.case_insensitive_text(), nullable=True)]


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == dialects.POSTGRESQL
    if postgresql:
        op.add_column(
            "patient",
            sa.Column("coordinator", sa.String(), nullable=False, server_default=sa.text("current_user")),
        )
    else:
        with op.batch_alter_table("patient", schema=None) as batch_op:
            batch_op.add_column(sa.Column("coordinator", sa.String(), nullable=True))
        patient = sa.table("patient", sa.column("coordinator", sa.String()))
        op.execute(patient.update().values(coordinator=dialects.default_coordinator(dialects.SQLITE)))
        # SQLite cannot add NOT NULL to a column: the table is rebuilt, the MRN keeping its collation
        with op.batch_alter_table("patient", schema=None, reflect_args=_KEPT_COLUMNS) as batch_op:
            batch_op.alter_column("coordinator", existing_type=sa.String(), nullable=False)
    op.create_index("ix_patient_coordinator", "patient", ["coordinator"])
    op.add_column(AUDIT_TABLE, sa.Column("db_role", sa.String(), nullable=True))
    if not postgresql:
        return
    op.execute(dialects.create_group_roles_sql())
    for statement in dialects.grant_team_sql(TEAM_TABLES, append_only=(AUDIT_TABLE,)):
        op.execute(statement)
    for statement in dialects.patient_policy_sql():
        op.execute(statement)
    for table in PATIENT_TABLES:
        for statement in dialects.child_policy_sql(table):
            op.execute(statement)
    for statement in dialects.child_policy_sql("task", patient_optional=True):
        op.execute(statement)
    for statement in dialects.audit_policy_sql():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == dialects.POSTGRESQL:
        for statement in [*dialects.drop_audit_trigger_sql(), *dialects.drop_policies_sql((*TEAM_TABLES, AUDIT_TABLE))]:
            op.execute(statement)
        for statement in dialects.revoke_team_sql((*TEAM_TABLES, AUDIT_TABLE)):
            op.execute(statement)
    op.drop_column(AUDIT_TABLE, "db_role")
    op.drop_index("ix_patient_coordinator", table_name="patient")
    with op.batch_alter_table("patient", schema=None, reflect_args=_KEPT_COLUMNS) as batch_op:
        batch_op.drop_column("coordinator")
