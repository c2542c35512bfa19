"""The account of disclosures (issue 16): every export that carried patients' information out of
carecoord, as HIPAA's accounting of disclosures asks (45 CFR 164.528(b)(2): the date, the recipient,
a brief description of what was disclosed, the purpose).

- ``disclosure``: one export: when (UTC), the operating-system user and, on a team store, the
  database role (set by the server, as on the audit trail), the kind of export, to whom and why
  (NULL: unspecified), the file written and a brief description.
- ``disclosure_patient``: each patient the export carried, with their name and MRN as they were at
  the time. ``patient_id`` has no foreign key (like ``audit_log.patient_id``): deleting a patient
  never removes or changes their disclosures, and their id still finds them. A foreign key with
  ON DELETE SET NULL would have changed rows of an append-only table and lost that id.

Both are append-only. On PostgreSQL the team's groups may only read and add rows (grants, as on the
audit trail); a coordinator reads the disclosures of their own patients and those they made, a
supervisor all (row-level security). On SQLite triggers refuse an UPDATE or DELETE of either table.

Downgrading drops the two tables: the account is lost (a backup of the file is made before every
upgrade, not before a downgrade).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carecoord import dialects

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disclosure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("os_user", sa.String(), nullable=False),
        sa.Column("db_role", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=True),
        sa.Column("purpose", sa.String(), nullable=True),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disclosure_at", "disclosure", ["at"])
    op.create_table(
        "disclosure_patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("disclosure_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("patient_name", sa.String(), nullable=False),
        sa.Column("patient_mrn", sa.String(), nullable=True),
        sa.Column("db_role", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["disclosure_id"], ["disclosure.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_disclosure_patient_disclosure_id", "disclosure_patient", ["disclosure_id"])
    op.create_index("ix_disclosure_patient_patient_id", "disclosure_patient", ["patient_id"])
    if op.get_bind().dialect.name != dialects.POSTGRESQL:
        for table in dialects.DISCLOSURE_TABLES:
            for statement in dialects.sqlite_append_only_sql(table):
                op.execute(statement)
        return
    for statement in dialects.grant_team_sql((), append_only=dialects.DISCLOSURE_TABLES):
        op.execute(statement)
    for statement in dialects.disclosure_policy_sql():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == dialects.POSTGRESQL:  # the disclosure's policy reads its patients' table
        for statement in dialects.drop_policies_sql(dialects.DISCLOSURE_TABLES):
            op.execute(statement)
    # the tables' triggers, grants and other policies go with them
    op.drop_table("disclosure_patient")
    op.drop_table("disclosure")
