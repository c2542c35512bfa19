"""Insurance coverage and prior authorizations (issue 15, items 1 and 2).

- ``coverage`` (FHIR Coverage): payer, plan, member id, group, type, order of benefits, status,
  period, phone, notes; rows belong to a patient.
- ``prior_authorization``: a service authorized (or requested, denied...) under a coverage, with its
  dates and the units approved; rows belong to a patient.
- ``authorization_use``: units of an authorization used on a day, by hand or by a linked appointment
  marked done (one row per sitting); rows hang off their authorization.
- ``appointment.authorization_id``: the authorization a linked appointment uses.

Each patient's ``payer`` and ``member_id`` move into a primary coverage, and ``auth_expires`` into
an approved authorization ("insurance authorization") ending that day, under that coverage; then the
three patient columns go (one place for each fact: the patient's record reads them back from
there). Downgrading puts them back from the current primary coverage and the approved authorization
ending last, and drops the new tables (coverage and authorizations added since are lost).

On PostgreSQL: the team's grants on the new tables and row-level security (coverage and
authorizations through their patient, uses through their authorization).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from carecoord import dialects
from carecoord.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATIENT_TABLES = ("coverage", "prior_authorization")
TABLES = (*PATIENT_TABLES, "authorization_use")
MOVED_SERVICE = "insurance authorization"  # what the authorization moved from the patient is for
# What SQLite's table rebuild must keep that reading the table back loses: the MRN's collation.
_KEPT_COLUMNS = [sa.Column("mrn", dialects.case_insensitive_text(), nullable=True)]
BATCH = 1000


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
    ]


def _create_tables() -> None:
    op.create_table(
        "coverage",
        *_stamps(),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id", ondelete="CASCADE"), nullable=False),
        sa.Column("payer", sa.String(), nullable=True),
        sa.Column("plan", sa.String(), nullable=True),
        sa.Column("member_id", sa.String(), nullable=True),
        sa.Column("group_number", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("order", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_coverage_patient_id", "coverage", ["patient_id"])
    op.create_index("ix_coverage_end_on", "coverage", ["end_on"])
    op.create_table(
        "prior_authorization",
        *_stamps(),
        sa.Column("patient_id", sa.Integer(), sa.ForeignKey("patient.id", ondelete="CASCADE"), nullable=False),
        sa.Column("coverage_id", sa.Integer(), sa.ForeignKey("coverage.id", ondelete="SET NULL"), nullable=True),
        sa.Column("service", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("units_approved", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("notes", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index(
        "ix_prior_authorization_patient_status_end", "prior_authorization", ["patient_id", "status", "end_on"]
    )
    op.create_index("ix_prior_authorization_coverage_id", "prior_authorization", ["coverage_id"])
    op.create_index("ix_prior_authorization_status_end", "prior_authorization", ["status", "end_on"])
    op.create_table(
        "authorization_use",
        *_stamps(),
        sa.Column(
            "authorization_id",
            sa.Integer(),
            sa.ForeignKey("prior_authorization.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), sa.ForeignKey("appointment.id", ondelete="SET NULL"), nullable=True),
        sa.Column("occurrence", UTCDateTime(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_authorization_use_authorization_id", "authorization_use", ["authorization_id"])
    op.create_index(
        "ux_authorization_use_occurrence", "authorization_use", ["appointment_id", "occurrence"], unique=True
    )


def _move_insurance_out_of_patients() -> None:
    """Every patient's payer and member id become a primary coverage, and the authorization end an
    approved authorization under it: nothing is lost."""
    bind = op.get_bind()
    patient = sa.table(
        "patient",
        sa.column("id", sa.Integer()),
        sa.column("payer", sa.String()),
        sa.column("member_id", sa.String()),
        sa.column("auth_expires", sa.Date()),
    )
    coverage = sa.table(
        "coverage",
        *(sa.column(name) for name in ("uid", "patient_id", "payer", "member_id", "order", "status", "id")),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    authorization = sa.table(
        "prior_authorization",
        *(sa.column(name) for name in ("uid", "patient_id", "coverage_id", "service", "status")),
        sa.column("end_on", sa.Date()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    now = datetime.now(UTC).replace(microsecond=0)
    found = bind.execute(
        sa.select(patient.c.id, patient.c.payer, patient.c.member_id, patient.c.auth_expires)
        .where(sa.or_(patient.c.payer.is_not(None), patient.c.member_id.is_not(None),
                      patient.c.auth_expires.is_not(None)))
        .order_by(patient.c.id)
    ).all()  # fmt: skip
    for start in range(0, len(found), BATCH):
        part = found[start : start + BATCH]
        covered = [row for row in part if row.payer is not None or row.member_id is not None]
        if covered:
            bind.execute(
                coverage.insert(),
                [{"uid": str(uuid.uuid4()), "patient_id": row.id, "payer": row.payer, "member_id": row.member_id,
                  "order": "primary", "status": "active", "created_at": now, "updated_at": now}
                 for row in covered],
            )  # fmt: skip
        ids = [row.id for row in part]
        coverage_of = dict(
            bind.execute(sa.select(coverage.c.patient_id, coverage.c.id).where(coverage.c.patient_id.in_(ids))).all()
        )
        authorized = [row for row in part if row.auth_expires is not None]
        if authorized:
            bind.execute(
                authorization.insert(),
                [{"uid": str(uuid.uuid4()), "patient_id": row.id, "coverage_id": coverage_of.get(row.id),
                  "service": MOVED_SERVICE, "status": "approved", "end_on": row.auth_expires, "created_at": now,
                  "updated_at": now} for row in authorized],
            )  # fmt: skip


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == dialects.POSTGRESQL
    _create_tables()
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authorization_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_appointment_authorization_id", ["authorization_id"])
        batch_op.create_foreign_key(
            "fk_appointment_authorization_id", "prior_authorization", ["authorization_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip
    _move_insurance_out_of_patients()
    with op.batch_alter_table("patient", schema=None, reflect_args=_KEPT_COLUMNS) as batch_op:
        for column in ("payer", "member_id", "auth_expires"):
            batch_op.drop_column(column)
    if not postgresql:
        return
    for statement in dialects.grant_team_sql(TABLES, append_only=()):
        op.execute(statement)
    for table in PATIENT_TABLES:
        for statement in dialects.child_policy_sql(table):
            op.execute(statement)
    for statement in dialects.parent_policy_sql("authorization_use", "authorization_id", "prior_authorization"):
        op.execute(statement)


def _put_insurance_back() -> None:
    """The patient columns from the current primary coverage and the approved authorization ending last."""
    bind = op.get_bind()
    today = date.today()
    coverage = sa.table(
        "coverage",
        *(sa.column(n) for n in ("id", "patient_id", "payer", "member_id", "order", "status")),
        sa.column("start_on", sa.Date()),
        sa.column("end_on", sa.Date()),
    )
    authorization = sa.table(
        "prior_authorization", sa.column("patient_id"), sa.column("status"), sa.column("end_on", sa.Date())
    )
    patient = sa.table(
        "patient", sa.column("id"), sa.column("payer"), sa.column("member_id"), sa.column("auth_expires", sa.Date())
    )
    values: dict[int, dict[str, object]] = {}
    primaries = bind.execute(
        sa.select(coverage).where(coverage.c.order == "primary", coverage.c.status == "active")
        .order_by(coverage.c.patient_id, coverage.c.id)
    ).all()  # fmt: skip
    chosen: dict[int, tuple[object, ...]] = {}
    for row in primaries:
        current = (row.start_on is None or row.start_on <= today) and (row.end_on is None or row.end_on >= today)
        if not current:
            continue
        key = (row.start_on or date.min, row.id)
        if row.patient_id not in chosen or key > chosen[row.patient_id][0]:  # type: ignore[operator]
            chosen[row.patient_id] = (key, row.payer, row.member_id)
    for patient_id, (_, payer, member_id) in chosen.items():
        values.setdefault(patient_id, {}).update(payer=payer, member_id=member_id)
    ends = bind.execute(
        sa.select(authorization.c.patient_id, sa.func.max(authorization.c.end_on))
        .where(authorization.c.status == "approved", authorization.c.end_on.is_not(None))
        .group_by(authorization.c.patient_id)
    ).all()
    for patient_id, end in ends:
        values.setdefault(patient_id, {})["auth_expires"] = end
    for patient_id, fields in values.items():
        bind.execute(patient.update().where(patient.c.id == patient_id).values(**fields))


def downgrade() -> None:
    if op.get_bind().dialect.name == dialects.POSTGRESQL:
        for statement in dialects.drop_policies_sql(TABLES):
            op.execute(statement)
        for statement in dialects.revoke_team_sql(TABLES):
            op.execute(statement)
        # revoke_team_sql takes back the read of alembic_version that 0008 gave: give it back
        groups = ", ".join(dialects.TEAM_GROUPS)
        op.execute(f"GRANT SELECT ON alembic_version TO {groups}")
    with op.batch_alter_table("patient", schema=None, reflect_args=_KEPT_COLUMNS) as batch_op:
        batch_op.add_column(sa.Column("payer", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("member_id", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("auth_expires", sa.Date(), nullable=True))
    _put_insurance_back()
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_appointment_authorization_id", type_="foreignkey")
        batch_op.drop_index("ix_appointment_authorization_id")
        batch_op.drop_column("authorization_id")
    for table in reversed(TABLES):
        op.drop_table(table)
