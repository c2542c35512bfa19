"""A referral remembers the screening that found the need it answers (issue 14, item 7), and an
authorization the referral it authorizes (issue 15, ``auth add --referral``).

- ``referral.screening_id``: the screening (nullable; set NULL when the screening is deleted as
  entered in error), indexed for a screening's referrals.
- ``prior_authorization.referral_id``: the referral (nullable; set NULL when it goes), indexed.

Row-level security needs nothing new: both tables' policies go through their patient.
Downgrading drops the columns (the links are lost; the records stay).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, the table it refers to)
LINKS = (("referral", "screening_id", "screening"), ("prior_authorization", "referral_id", "referral"))


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table to add the foreign key; PostgreSQL alters it in place
    for table, column, parent in LINKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(f"fk_{table}_{column}_{parent}", parent, [column], ["id"], ondelete="SET NULL")
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)


def downgrade() -> None:
    for table, column, parent in reversed(LINKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_{column}")
            batch_op.drop_constraint(f"fk_{table}_{column}_{parent}", type_="foreignkey")
            batch_op.drop_column(column)
