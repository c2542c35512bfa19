"""Program enrolment with consent, the program a log entry's minutes count toward, and phone
numbers stored as E.164 (issue 15).

- ``program_enrolment``: a patient's enrolment in ccm, complex-ccm, pcm, tcm, chi, pin or apcm with
  its consent (verbal or written, when, by whom); APCM's level facts (chronic conditions, QMB).
  On PostgreSQL the team gets its privileges on it and row-level security through its patient.
- ``communication.program``: the program a log entry's minutes count toward (NULL: none named).
- ``patient.phone``, ``contact.phone``, ``resource.phone`` and ``coverage.phone`` are rewritten as
  E.164 (``+16175550123``, ``;ext=12`` for an extension) where ``phonenumbers`` can read them as
  possible numbers of the region in ``CARECOORD_REGION`` (default US); anything it cannot read is
  kept exactly as it was.
  Downgrading drops the table and the column but leaves the numbers in their E.164 form (the typed
  form is not kept; the audit trail of later edits does not hold it either).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carecoord import dialects

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "program_enrolment"
PHONE_TABLES = ("patient", "contact", "resource", "coverage")  # every table with a phone when 0012 runs
BATCH = 1000


def _normalise_phones(table_name: str) -> None:
    """Rewrite each readable phone number of ``table_name`` as E.164, in batches; keep the rest."""
    from carecoord.errors import CarecoordError
    from carecoord.phones import normalise

    bind = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer()), sa.column("phone", sa.String()))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.phone)
            .where(table.c.id > last, table.c.phone.is_not(None))
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changed = []
        for row_id, phone in rows:
            try:
                stored = normalise(phone)
            except CarecoordError:
                continue  # unreadable: kept as it was
            if stored != phone:
                changed.append({"row_id": row_id, "stored": stored})
        if changed:
            bind.execute(
                table.update().where(table.c.id == sa.bindparam("row_id")).values(phone=sa.bindparam("stored")),
                changed,
            )
        last = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(), nullable=False),
        sa.Column("consent", sa.String(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("consent_by", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("chronic_conditions", sa.Integer(), nullable=True),
        sa.Column("qmb", sa.Boolean(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_program_enrolment_program", TABLE, ["program"])
    op.create_index("ix_program_enrolment_patient_program", TABLE, ["patient_id", "program"])
    program = sa.Column("program", sa.String(), nullable=True)
    if op.get_bind().dialect.name == dialects.POSTGRESQL:
        op.add_column("communication", program)  # keeps the table's privileges and policies
    else:  # rebuilt, as the downgrade rebuilds it: the same table text whichever way it was reached
        with op.batch_alter_table("communication", schema=None, recreate="always") as batch_op:
            batch_op.add_column(program)
    for table_name in PHONE_TABLES:
        _normalise_phones(table_name)
    if op.get_bind().dialect.name != dialects.POSTGRESQL:
        return
    for statement in dialects.grant_team_sql((TABLE,), ()):
        op.execute(statement)
    for statement in dialects.child_policy_sql(TABLE):
        op.execute(statement)


def downgrade() -> None:
    # Dropping the table drops its policies and privileges with it.
    op.drop_index("ix_program_enrolment_patient_program", table_name=TABLE)
    op.drop_index("ix_program_enrolment_program", table_name=TABLE)
    op.drop_table(TABLE)
    if op.get_bind().dialect.name == dialects.POSTGRESQL:
        op.drop_column("communication", "program")
    else:
        with op.batch_alter_table("communication", schema=None) as batch_op:
            batch_op.drop_column("program")
