"""Indexes that keep the agenda, exports and reports fast at agency size (issue 7).

- ``ix_appointment_series_start``: a partial index on the first start of recurring series only, so
  "series alive in this window" reads the series, not every one-off booked before the window.
- ``ix_appointment_exception_starts_at``: occurrences moved into a window, by their new start.
- ``ix_task_due_cover`` replaces ``ix_task_status_due``: open tasks due by a date, with the patient,
  priority and time, so the overdue count and "the 100 most urgent" are read from the index alone.
- ``ix_communication_at_patient_minutes`` replaces ``ix_communication_at``: a month's minutes per
  patient, read from the index alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

from carecoord.dialects import partial_index

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_appointment_series_start", "appointment", ["starts_at"], **partial_index("rrule IS NOT NULL"))
    op.create_index("ix_appointment_exception_starts_at", "appointment_exception", ["starts_at"])
    op.create_index("ix_task_due_cover", "task", ["status", "due_on", "patient_id", "priority", "due_time"])
    op.drop_index("ix_task_status_due", table_name="task")
    op.create_index("ix_communication_at_patient_minutes", "communication", ["at", "patient_id", "minutes"])
    op.drop_index("ix_communication_at", table_name="communication")


def downgrade() -> None:
    op.create_index("ix_communication_at", "communication", ["at"])
    op.drop_index("ix_communication_at_patient_minutes", table_name="communication")
    op.create_index("ix_task_status_due", "task", ["status", "due_on"])
    op.drop_index("ix_task_due_cover", table_name="task")
    op.drop_index("ix_appointment_exception_starts_at", table_name="appointment_exception")
    op.drop_index("ix_appointment_series_start", table_name="appointment")
