"""Whether the coordinator attends an appointment (issue 11): only attended ones clash with each other.

- ``appointment.attending``: NOT NULL, backfilled from the type: home visits, phone calls and
  telehealth sessions are attended; office, PCP, specialist and other appointments are the
  patient's own. Downgrading drops the column (the rows stay; an override of the default is lost).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The types attended by default when this revision was written (vocab.ATTENDED_APPOINTMENT_TYPES then).
ATTENDED_TYPES = ("home-visit", "phone", "telehealth")


def upgrade() -> None:
    op.add_column("appointment", sa.Column("attending", sa.Boolean(), server_default=sa.false(), nullable=False))
    appointment = sa.table("appointment", sa.column("kind", sa.String()), sa.column("attending", sa.Boolean()))
    op.execute(appointment.update().where(appointment.c.kind.in_(ATTENDED_TYPES)).values(attending=True))


def downgrade() -> None:
    op.drop_column("appointment", "attending")
