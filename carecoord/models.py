"""SQLModel tables: the schema. Alembic migrations in ``migrations/`` create it."""

import uuid
from datetime import UTC, date, datetime, time
from typing import Any, Optional

from sqlalchemy import (
    Column,
    Date,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    event,
    false,
    func,
    or_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import column_property
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, Relationship, SQLModel, col, select

from carecoord.dialects import case_insensitive_text, default_coordinator, partial_index
from carecoord.vocab import PatientStatus, PlanStatus, TaskPriority, TaskStatus


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
        # combine() rather than replace(tzinfo=UTC): the same datetime at a seventh of the cost
        # (replace parses keywords), and an agency's FHIR export reads millions of them.
        return None if value is None else datetime.combine(value, value.time(), UTC)


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
        sa_column=Column(case_insensitive_text(), unique=True, nullable=True),
    )
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    language: str | None = None
    # payer, member_id, auth_expires: read from the patient's coverage and authorizations (0011, at the end)
    pcp: str | None = None
    risk: str | None = Field(default=None, index=True)
    status: str = Field(default=PatientStatus.active.value, index=True)
    enrolled_on: date
    discharged_on: date | None = None
    discharge_reason: str | None = None
    tags: str = Field(default="", description="normalised tags, comma-separated, sorted")
    notes: str | None = None
    coordinator: str | None = Field(
        default=None,
        sa_column=Column(String, nullable=False, index=True, server_default=FetchedValue()),
        description="the role (team store) or OS user (own file) the patient is assigned to (0008)",
    )

    contacts: list["Contact"] = Relationship(
        back_populates="patient",
        sa_relationship_kwargs={"cascade": "all, delete-orphan", "order_by": "Contact.id"},
    )


@event.listens_for(Patient, "before_insert")
def _assign_new_patient(_mapper: Any, connection: Any, patient: Patient) -> None:
    """A new patient is the person adding's: set here on SQLite; the server's default on PostgreSQL."""
    if patient.coordinator is None:
        patient.coordinator = default_coordinator(connection.dialect.name)


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


def _parent(table: str, *, nullable: bool = False, index: bool = True) -> Any:
    """A foreign key to ``table.id`` that disappears with its parent."""
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable, index=index),
    )


class CarePlan(Timestamped, table=True):
    """A patient's care plan: needs, goals, tasks, and a review cycle."""

    __tablename__ = "care_plan"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient")
    title: str
    status: str = Field(default=PlanStatus.draft.value, index=True)
    needs: str = Field(default="", description="problems and needs, one per line")
    start_on: date | None = None
    end_on: date | None = None
    next_review: date | None = Field(default=None, index=True)
    review_every_days: int | None = None
    notes: str | None = None

    patient: Patient | None = Relationship(sa_relationship_kwargs={"viewonly": True})


class PlanReview(Timestamped, table=True):
    """A recorded review of a care plan."""

    __tablename__ = "plan_review"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = _parent("care_plan")
    patient_id: int = _parent("patient")
    reviewed_on: date
    note: str | None = None
    next_review: date | None = None


class Goal(Timestamped, table=True):
    """A goal within a care plan (FHIR Goal)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = _parent("care_plan")
    patient_id: int = _parent("patient")
    description: str
    lifecycle_status: str = Field(default="active", index=True)
    achievement_status: str | None = None
    target_on: date | None = Field(default=None, index=True)
    measure: str | None = None


class Task(Timestamped, table=True):
    """Something to do, for a patient or not, maybe under a plan and goal, maybe recurring."""

    # Covers "open tasks due by a date" with what counts and the most-urgent-first order need (0006).
    __table_args__ = (Index("ix_task_due_cover", "status", "due_on", "patient_id", "priority", "due_time"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int | None = _parent("patient", nullable=True)
    plan_id: int | None = _parent("care_plan", nullable=True)
    goal_id: int | None = _parent("goal", nullable=True)
    title: str
    status: str = Field(default=TaskStatus.requested.value)
    status_reason: str | None = None
    priority: str = Field(default=TaskPriority.routine.value)
    due_on: date | None = None
    due_time: time | None = None
    rrule: str | None = Field(default=None, description="RFC 5545 RRULE value, e.g. FREQ=WEEKLY")
    repeat_from: date | None = Field(default=None, description="the series' first due date (DTSTART)")
    series_id: int | None = Field(default=None, index=True)
    tags: str = Field(default="", description="normalised tags, comma-separated, sorted")
    notes: str | None = None
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Appointment(Timestamped, table=True):
    """An appointment, one-off or a recurring series, kept in the zone it was booked in."""

    # Series are few and long: finding those alive in a window scans only them (migration 0006).
    __table_args__ = (Index("ix_appointment_series_start", "starts_at", **partial_index("rrule IS NOT NULL")),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient")
    kind: str = Field(description="appointment type code (vocab.AppointmentType)")
    status: str = Field(default="booked")
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True, description="first (or only) start")
    ends_at: datetime = Field(sa_type=UTCDateTime)
    tz: str = Field(description="IANA zone the appointment was booked in")
    rrule: str | None = None
    series_ends_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, index=True, description="end of the last occurrence; None = open-ended"
    )
    location: str | None = None
    with_whom: str | None = None
    attending: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": false()},
        description="whether the coordinator attends (only attended appointments clash with each other; 0007)",
    )
    reminder_minutes: int | None = None
    status_reason: str | None = None
    notes: str | None = None
    sequence: int = Field(default=0, description="iCalendar SEQUENCE: raised on every change")
    authorization_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("prior_authorization.id", ondelete="SET NULL"), nullable=True,
                         index=True),
        description="the prior authorization a fulfilled sitting uses one unit of (0011)",
    )  # fmt: skip


class AppointmentException(Timestamped, table=True):
    """One occurrence of a series that differs: moved, cancelled, fulfilled or missed."""

    __tablename__ = "appointment_exception"
    __table_args__ = (
        Index("ux_exception_occurrence", "appointment_id", "original_start", unique=True),
        Index("ix_appointment_exception_starts_at", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = _parent("appointment", index=False)
    patient_id: int = _parent("patient")
    original_start: datetime = Field(sa_type=UTCDateTime, description="the RECURRENCE-ID")
    status: str
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime, description="new start when moved")
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_reason: str | None = None


class Communication(Timestamped, table=True):
    """One entry of the communication log: a call, visit, message or letter, and its minutes."""

    __table_args__ = (
        Index("ix_communication_patient_at", "patient_id", "at"),
        Index("ix_communication_outcome_patient_at", "outcome", "patient_id", "at"),
        Index("ix_communication_at_patient_minutes", "at", "patient_id", "minutes"),  # a month's minutes (0006)
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient", index=False)
    at: datetime = Field(sa_type=UTCDateTime)
    channel: str = Field(default="phone")
    direction: str = Field(default="outbound")
    with_whom: str | None = None
    contact_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("contact.id", ondelete="SET NULL"), nullable=True),
    )
    outcome: str = Field(default="reached", index=True)
    minutes: int = 0
    note: str | None = None
    program: str | None = Field(
        default=None, description="the program its minutes count toward (vocab.Program; 0012); None: none named"
    )


class CallTimer(Timestamped, table=True):
    """The running call timer (at most one row)."""

    __tablename__ = "call_timer"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient")
    started_at: datetime = Field(sa_type=UTCDateTime)
    note: str | None = None


class Transition(Timestamped, table=True):
    """A hospital or facility discharge and its transitional-care deadlines."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient")
    facility: str
    discharged_on: date = Field(index=True)
    complexity: str = Field(default="moderate")
    contact_due: date
    visit_due: date
    contact_task_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("task.id", ondelete="SET NULL"), nullable=True)
    )
    visit_task_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("task.id", ondelete="SET NULL"), nullable=True)
    )
    notes: str | None = None


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
    db_role: str | None = Field(
        default=None,
        sa_column=Column(String, nullable=True, server_default=FetchedValue()),
        description="the database role that made the change, set by the server (team store; None on a file)",
    )


class ProgramEnrolment(Timestamped, table=True):
    """A patient's enrolment in a Medicare care-management or navigation program, with the consent
    Medicare requires before it (issue 15; migration 0012)."""

    __tablename__ = "program_enrolment"
    __table_args__ = (Index("ix_program_enrolment_patient_program", "patient_id", "program"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient", index=False)
    program: str = Field(index=True, description="vocab.Program code: ccm, complex-ccm, pcm, tcm, chi, pin, apcm")
    consent: str = Field(description="how the patient consented: verbal or written")
    enrolled_on: date = Field(description="the day consent was given and the enrolment began")
    consent_by: str | None = Field(default=None, description="who obtained the consent")
    note: str | None = None
    chronic_conditions: int | None = Field(default=None, description="APCM: chronic conditions, for its level")
    qmb: bool | None = Field(default=None, description="APCM: a Qualified Medicare Beneficiary, for its level")
    ended_on: date | None = None
    end_reason: str | None = None


# --- community resources and referrals (issue 14, migration 0010) ---------------------------------


class Resource(Timestamped, table=True):
    """A community resource or service in the team's directory (an HSDS service at its location).

    Belongs to the whole team, not to a patient; retired rather than deleted, so that the referrals
    made to it keep their history."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    category: str = Field(index=True, description="vocab.RESOURCE_CATEGORIES: an SDOH domain or a clinical kind")
    organization: str | None = None
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    address: str | None = None
    hours: str | None = None
    eligibility: str | None = None
    languages: str | None = None
    fees: str | None = None
    notes: str | None = None
    status: str = Field(default="active", index=True)
    retired_on: date | None = None
    hsds_id: str | None = Field(
        default=None, unique=True, description="the Open Referral (HSDS) service id: a re-import updates by it"
    )
    taxonomy: str | None = Field(default=None, description="HSDS taxonomy term codes, comma-separated")


class Referral(Timestamped, table=True):
    """A referral of a patient to a resource or a named recipient (FHIR ServiceRequest with its Task):
    its status, outcome, consent to share, and the follow-up task that keeps the loop closing."""

    # Stalled referrals: walked by their last change, oldest first, status and patient read from the index.
    __table_args__ = (Index("ix_referral_changed_status_patient", "changed_at", "status", "patient_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient")
    resource_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("resource.id"), nullable=True, index=True)
    )
    recipient: str = Field(description="who it goes to: the resource's name, or the name typed with --to")
    kind: str = Field(default="community")
    need: str | None = Field(default=None, index=True, description="vocab.SDOH_DOMAINS code")
    reason: str | None = None
    priority: str = Field(default=TaskPriority.routine.value)
    status: str = Field(default="draft")
    outcome: str | None = None
    status_reason: str | None = None
    consent_method: str | None = Field(default=None, description="verbal | written; None: no consent recorded")
    consent_by: str | None = Field(default=None, description="who consented: the patient or their representative")
    consent_on: date | None = None
    consent_recorded_by: str | None = None
    sent_on: date | None = Field(default=None, index=True)
    closed_on: date | None = Field(default=None, index=True)
    changed_at: datetime = Field(
        default_factory=utcnow, sa_type=UTCDateTime, description="the last change in its history (stalled after N days)"
    )
    follow_up_days: int = Field(default=3, description="business days to the first follow-up")
    followup_task_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("task.id", ondelete="SET NULL"), nullable=True)
    )
    notes: str | None = None
    screening_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("screening.id", ondelete="SET NULL"), nullable=True, index=True),
        description="the screening that found the need (0013)",
    )


class ReferralEvent(Timestamped, table=True):
    """One step in a referral's history: created, consent recorded, a status move, an edit."""

    __tablename__ = "referral_event"

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = _parent("referral")
    at: datetime = Field(sa_type=UTCDateTime, description="when it was recorded")
    happened_on: date = Field(description="the day it happened (referral status --date)")
    action: str = Field(description="created | consent | status | edited")
    from_status: str | None = None
    to_status: str | None = None
    outcome: str | None = None
    note: str | None = None
    recorded_by: str = Field(description="who recorded it: the OS user on a file, the database role on a team store")


# --- insurance coverage and prior authorizations (issue 15, migration 0011) -----------------------


class Coverage(Timestamped, table=True):
    """A patient's insurance coverage (FHIR Coverage): payer, plan, member id, order of benefits, period."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient")
    payer: str | None = Field(default=None, description="required by 'coverage add'; None only when moved so (0011)")
    plan: str | None = None
    member_id: str | None = None
    group_number: str | None = None
    type: str | None = None
    order: str = Field(default="primary", description="order of benefits: primary, secondary, tertiary")
    status: str = Field(default="active")
    start_on: date | None = None
    end_on: date | None = Field(default=None, index=True)
    phone: str | None = None
    notes: str | None = None


class Authorization(Timestamped, table=True):
    """A prior authorization for a service: status, dates and units approved (its uses count the units used)."""

    __tablename__ = "prior_authorization"
    __table_args__ = (
        Index("ix_prior_authorization_status_end", "status", "end_on"),  # the agenda, auth list --expiring
        Index("ix_prior_authorization_patient_status_end", "patient_id", "status", "end_on"),  # a patient's, and
        # the authorization end each patient shows (patient list)
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient", index=False)
    coverage_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("coverage.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    service: str
    number: str | None = None
    status: str = Field(default="requested")
    requested_on: date | None = None
    decided_on: date | None = None
    start_on: date | None = None
    end_on: date | None = None
    units_approved: int | None = None
    unit: str | None = None
    notes: str | None = None
    referral_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("referral.id", ondelete="SET NULL"), nullable=True, index=True),
        description="the referral it authorizes (0013)",
    )


class AuthorizationUse(Timestamped, table=True):
    """Units of an authorization used on a day: by hand ('auth use') or by a linked appointment marked done."""

    __tablename__ = "authorization_use"
    __table_args__ = (Index("ux_authorization_use_occurrence", "appointment_id", "occurrence", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    authorization_id: int = _parent("prior_authorization")
    used_on: date
    units: int = 1
    appointment_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("appointment.id", ondelete="SET NULL"), nullable=True),
    )
    occurrence: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="the sitting's original start (a series' RECURRENCE-ID)"
    )
    note: str | None = None


AUDITED_TABLES: tuple[type[Any], ...] = (
    Patient, Contact, CarePlan, PlanReview, Goal, Task, Appointment, AppointmentException, Communication,
    CallTimer, Transition, ProgramEnrolment, Resource, Referral, ReferralEvent, Coverage, Authorization,
    AuthorizationUse,
)  # fmt: skip


# --- screenings (issue 13): a QuestionnaireResponse with its answers, summarised as the score, band,
# positive domains and safety flag an Observation would carry ------------------------------------


class Screening(Timestamped, table=True):
    """One screening instrument given to a patient: who answered, when, and what it came to."""

    __table_args__ = (
        # who is due: each patient's latest (and latest positive) screening per instrument, from the index alone
        Index("ix_screening_patient_instrument_taken", "patient_id", "instrument", "taken_on", "positive"),
        # the report: a period's screenings counted by instrument and positive domains, from the index alone
        Index("ix_screening_taken_on", "taken_on", "instrument", "positive_domains"),
        Index("ix_screening_safety_flag", "safety_flag", "patient_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = _parent("patient", index=False)
    instrument: str = Field(description="the instrument's key (phq9, ahc-hrsn, ...)")
    instrument_version: str
    loinc: str | None = Field(default=None, description="the instrument's panel code")
    taken_on: date
    answered_by: str = Field(default="coordinator", description="vocab.AnsweredBy")
    note: str | None = None
    score: int | None = Field(default=None, description="the total, when the instrument has one")
    band: str | None = None
    positive: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    positive_domains: str = Field(default="", description="domain codes, comma-separated, in the instrument's order")
    safety_flag: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    safety_task_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("task.id", ondelete="SET NULL"), nullable=True)
    )
    plan_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("care_plan.id", ondelete="SET NULL"), nullable=True)
    )


class ScreeningAnswer(SQLModel, table=True):
    """One question of a screening and the answer given (a QuestionnaireResponse item)."""

    __tablename__ = "screening_answer"

    id: int | None = Field(default=None, primary_key=True)
    screening_id: int = _parent("screening")
    position: int
    item_id: str = Field(description="the item's linkId in the instrument")
    loinc: str | None = None
    answer: str = Field(default="", description="the answer code(s) given, '+'-joined; '' when skipped")
    answer_loinc: str | None = Field(default=None, description="the LOINC answer code(s), '+'-joined")
    score: int | None = None


class ScreeningCadence(Timestamped, table=True):
    """How often an instrument is given again, when it differs from the instrument's default (the team's)."""

    __tablename__ = "screening_cadence"

    id: int | None = Field(default=None, primary_key=True)
    instrument: str = Field(sa_column=Column(String, nullable=False, unique=True))
    every_days: int | None = Field(default=None, description="None: not rescreened")
    sooner_days: int | None = Field(default=None, description="the shorter interval after a positive result")


class ScreeningInstrument(Timestamped, table=True):
    """An instrument a user loaded (screen instruments --add): the team's, kept whole as its JSON."""

    __tablename__ = "screening_instrument"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String, nullable=False, unique=True))
    version: str
    title: str
    definition: str = Field(description="the Questionnaire JSON as loaded")


AUDITED_TABLES += (Screening, ScreeningCadence, ScreeningInstrument)


# --- the account of disclosures (issue 16; migration 0014): append-only, like the audit trail -----


class Disclosure(SQLModel, table=True):
    """One export that carried patients' information out of carecoord: when, who, what kind, to whom,
    why, which file (45 CFR 164.528(b)(2); see ``services/disclosures.py``). Never changed or deleted.
    No uid, like the audit trail: a caseload copied into a store again (``db copy``) after its patients
    were deleted there brings its account along again, rather than being refused for good."""

    __tablename__ = "disclosure"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    os_user: str
    db_role: str | None = Field(
        default=None,
        sa_column=Column(String, nullable=True, server_default=FetchedValue()),
        description="the database role that made the export, set by the server (team store; None on a file)",
    )
    kind: str = Field(description="vocab.DisclosureKind")
    recipient: str | None = Field(default=None, description="to whom (--to); None: unspecified")
    purpose: str | None = Field(default=None, description="vocab.DisclosurePurpose; None: unspecified")
    target: str = Field(description="the file written")
    description: str = Field(description="what the file holds, briefly")


class DisclosurePatient(SQLModel, table=True):
    """A patient whose information a disclosure carried, with their name and MRN as they were then:
    no foreign key to the patient, so a deleted patient's disclosures stay (as the audit trail's
    patient_id). On a team store the server names the role that wrote it, as on the disclosure."""

    __tablename__ = "disclosure_patient"

    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosure.id", index=True)
    patient_id: int = Field(index=True)
    patient_name: str
    patient_mrn: str | None = None
    db_role: str | None = Field(default=None, sa_column=Column(String, nullable=True, server_default=FetchedValue()))


# The patient's insurance fields of old (before 0011 they were columns), read from the records that now
# hold them: the current primary coverage's payer and member id, and the end of the approved
# authorization that ends last. Deferred: loaded when read, or with the patients ('patient list').
def _today() -> date:
    from carecoord.dates import today

    return today()


def _primary_coverage(column: Any) -> Any:
    on = bindparam("coverage_today", callable_=_today, type_=Date, unique=True)
    return (
        select(column)
        .where(
            Coverage.patient_id == Patient.id,
            Coverage.order == "primary",
            Coverage.status == "active",
            or_(col(Coverage.start_on).is_(None), col(Coverage.start_on) <= on),
            or_(col(Coverage.end_on).is_(None), col(Coverage.end_on) >= on),
        )
        .order_by(col(Coverage.start_on).desc().nulls_last(), col(Coverage.id).desc())
        .limit(1)
        .correlate_except(Coverage)
        .scalar_subquery()
    )


Patient.payer = column_property(_primary_coverage(Coverage.payer), deferred=True)
Patient.member_id = column_property(_primary_coverage(Coverage.member_id), deferred=True)
Patient.auth_expires = column_property(
    select(func.max(Authorization.end_on))
    .where(Authorization.patient_id == Patient.id, Authorization.status == "approved")
    .correlate_except(Authorization)
    .scalar_subquery(),
    deferred=True,
)
PATIENT_INSURANCE = ("payer", "member_id", "auth_expires")
