"""SQLModel tables: the schema. Alembic migrations in ``migrations/`` create it."""

import uuid
from datetime import UTC, date, datetime
from typing import Any, Optional

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, Relationship, SQLModel

from carecoord.vocab import PatientStatus


def utcnow() -> datetime:
    """The current moment, timezone-aware UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def new_uid() -> str:
    """A stable identifier for exported objects."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; returns them aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Timestamped(SQLModel):
    """Columns every record has: a stable export id and created/updated times."""

    uid: str = Field(default_factory=new_uid, unique=True, max_length=36)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Patient(Timestamped, table=True):
    """A person on the coordinator's caseload."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str = Field(index=True, description="casefolded, accent-free name for search")
    birth_date: date | None = None
    mrn: str | None = Field(
        default=None,
        sa_column=Column(String(collation="NOCASE"), unique=True, nullable=True),
    )
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    language: str | None = None
    payer: str | None = None
    member_id: str | None = None
    auth_expires: date | None = None
    pcp: str | None = None
    risk: str | None = Field(default=None, index=True)
    status: str = Field(default=PatientStatus.active.value, index=True)
    enrolled_on: date
    discharged_on: date | None = None
    discharge_reason: str | None = None
    tags: str = Field(default="", description="normalised tags, comma-separated, sorted")
    notes: str | None = None

    contacts: list["Contact"] = Relationship(
        back_populates="patient",
        sa_relationship_kwargs={"cascade": "all, delete-orphan", "order_by": "Contact.id"},
    )


class Contact(Timestamped, table=True):
    """A member of the patient's care team or family."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(
        sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    name: str
    role: str | None = None
    organization: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_method: str | None = None
    consent_to_share: bool = False
    notes: str | None = None

    patient: Optional["Patient"] = Relationship(back_populates="contacts")


class AuditEntry(SQLModel, table=True):
    """One create, update or delete, written in the same transaction as the change."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    os_user: str
    table_name: str
    record_id: int
    patient_id: int | None = Field(default=None, index=True)
    action: str
    changes: str = Field(description="JSON object: field -> [old, new]")


AUDITED_TABLES: tuple[type[Any], ...] = (Patient, Contact)
