"""Patients: enrolment, edits, discharge and reactivation, lookup and listing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from carecoord.dates import today
from carecoord.errors import AmbiguousError, ConflictError, NotFoundError, ValidationError
from carecoord.fields import PATIENT
from carecoord.models import (
    Appointment,
    AppointmentException,
    Authorization,
    CallTimer,
    CarePlan,
    Communication,
    Contact,
    Coverage,
    Goal,
    Patient,
    PlanReview,
    Referral,
    ReferralEvent,
    Screening,
    Task,
    Transition,
)
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref, search_key
from carecoord.services.tags import has_tag, join_tags, retag
from carecoord.vocab import RISK_RANK, PatientSort, PatientStatus

ALL_STATUSES = "all"


def phone_matches(column: Any, text: str) -> list[Any]:
    """SQL: the stored number (E.164) holds the number ``text`` types, however it was typed
    ('(617) 555-0123', '617.555.0123', '+1 617 555 0123'); nothing if ``text`` is not a number."""
    from carecoord.phones import search_digits

    return [column.contains(digits, autoescape=True) for digits in search_digits(text)]


MATCHES_READ = 50  # patients a name is looked up among: enough to list candidates and count a few
EARLIEST_BIRTH = date(1900, 1, 1)


# --- validation ---------------------------------------------------------------------------------


def validate_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Clean and check the fields a person set (see ``fields.PATIENT``); empty text clears a field."""
    values = text.clean_fields(PATIENT, fields)
    birth = values.get("birth_date")
    if birth is not None and not EARLIEST_BIRTH <= birth <= today():
        raise ValidationError(f"date of birth {birth.isoformat()} is not plausible (future or before 1900)")
    return values


def identity_key(name: str, born: date | None) -> tuple[str, date | None] | None:
    """Name and date of birth, the name's words in any order and case ('Lee, Olga' is 'olga lee'):
    with the MRN, how a person is recognised (the imports and ``patient add`` use it)."""
    return (" ".join(sorted(search_key(name).split())), born) if born else None


def same_person(session: Session, name: str, born: date | None, mrn: str | None = None) -> Patient | None:
    """A stored patient with the same name and date of birth, unless both have an MRN and they
    differ (then they are two people); None when there is none or no date of birth is known."""
    key = identity_key(name, born)
    if key is None:
        return None
    for stored in session.exec(select(Patient).where(Patient.birth_date == born).order_by(col(Patient.id))).all():
        if identity_key(stored.name, stored.birth_date) == key and not (mrn and stored.mrn and stored.mrn != mrn):
            return stored
    return None


def _check_mrn_free(session: Session, mrn: str | None, patient_id: int | None) -> None:
    if mrn is None:
        return
    holder = session.exec(select(Patient).where(col(Patient.mrn) == mrn)).first()
    if holder is not None and holder.id != patient_id:
        raise ConflictError(f"MRN {mrn} already belongs to patient #{holder.id}")


def _apply(patient: Patient, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        setattr(patient, key, value)
    if "name" in values:
        patient.name_key = search_key(patient.name)


# --- changes ------------------------------------------------------------------------------------


def add_patient(
    session: Session, *, tags: Iterable[str] = (), enrolled_on: date | None = None, **fields: Any
) -> Patient:
    """Enrol a new active patient."""
    from carecoord.services import coverage

    values, insurance = coverage.split_patient_fields(validate_fields({"name": None, **fields}))
    enrolled = enrolled_on or today()
    if enrolled > today():
        raise ValidationError(f"the enrolment date {enrolled} is in the future")
    _check_mrn_free(session, values.get("mrn"), None)
    patient = Patient(name=values["name"], name_key="", enrolled_on=enrolled, tags=join_tags(tags))
    _apply(patient, values)
    session.add(patient)
    session.flush()
    if insurance:  # payer, member id and authorization end live in coverage and authorizations (0011)
        coverage.set_patient_insurance(session, patient, insurance)
        coverage.refresh_patient(session, patient)
    return patient


def update_patient(
    session: Session,
    patient: Patient,
    fields: Mapping[str, Any],
    *,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
) -> Patient:
    """Change any editable fields and tags; empty text clears a field."""
    from carecoord.services import coverage

    values, insurance = coverage.split_patient_fields(validate_fields(fields))
    if "mrn" in values:
        _check_mrn_free(session, values["mrn"], patient.id)
    if "name" in values and values["name"] != patient.name:
        _renamed(session, patient)
    _apply(patient, values)
    patient.tags = retag(patient.tags, add_tags, remove_tags, f"patient #{patient.id}")
    session.flush()
    if insurance:  # payer, member id and authorization end live in coverage and authorizations (0011)
        coverage.set_patient_insurance(session, patient, insurance)
        coverage.refresh_patient(session, patient)
    return patient


def _renamed(session: Session, patient: Patient) -> None:
    """A new name changes the patient's calendar entries: raise their SEQUENCE so calendars update."""
    for appointment in session.exec(select(Appointment).where(Appointment.patient_id == patient.id)).all():
        appointment.sequence += 1


def discharge(session: Session, patient: Patient, *, on: date | None = None, reason: str | None = None) -> list[str]:
    """End the patient's enrolment (the normal way out; nothing is deleted) and their programs';
    returns the programs that ended with it."""
    if patient.status == PatientStatus.discharged.value:
        raise ConflictError(f"patient #{patient.id} was already discharged on {patient.discharged_on}")
    when = on or today()
    if when < patient.enrolled_on:
        raise ValidationError(f"discharge date {when} is before enrolment on {patient.enrolled_on}")
    patient.status = PatientStatus.discharged.value
    patient.discharged_on = when
    patient.discharge_reason = text.single_line(reason, "discharge reason")
    ended = _end_programs(session, patient, when)
    session.flush()
    return ended


def _end_programs(session: Session, patient: Patient, when: date) -> list[str]:
    """A discharged patient's program enrolments end with the discharge (none begun later stays open):
    care management is no longer furnished, so no more minutes count toward it."""
    from carecoord.services.programs import list_enrolments

    open_ones = [enrolment for enrolment, _ in list_enrolments(session, patient_id=patient.id, ended=False)]
    for enrolment in open_ones:
        enrolment.ended_on = max(when, enrolment.enrolled_on)
        enrolment.end_reason = "patient discharged"
    return [enrolment.program for enrolment in open_ones]


def put_on_hold(session: Session, patient: Patient) -> Patient:
    """Pause an active patient (hospital stay, travel) without discharging."""
    if patient.status != PatientStatus.active.value:
        raise ConflictError(f"patient #{patient.id} is {patient.status}, not active")
    patient.status = PatientStatus.on_hold.value
    session.flush()
    return patient


def reactivate(session: Session, patient: Patient, *, on: date | None = None) -> Patient:
    """Make an on-hold or discharged patient active again (re-enrolment after a discharge)."""
    if patient.status == PatientStatus.active.value:
        raise ConflictError(f"patient #{patient.id} is already active")
    if patient.status == PatientStatus.discharged.value:
        patient.enrolled_on = on or today()
        patient.discharged_on = None
        patient.discharge_reason = None
    patient.status = PatientStatus.active.value
    session.flush()
    return patient


# What a hard delete removes with a patient, children first so foreign keys hold at every step.
_DEPENDENTS: tuple[tuple[str, Any], ...] = (
    ("screening", Screening),  # its answers go with it (foreign key ON DELETE CASCADE)
    ("referral", Referral),  # its history (referral_event) goes first, in delete_patient
    ("authorization", Authorization),  # with its uses (removed and audited first: see delete_patient)
    ("coverage", Coverage),
    ("transition", Transition),
    ("call timer", CallTimer),
    ("log entry", Communication),
    ("appointment exception", AppointmentException),
    ("appointment", Appointment),
    ("task", Task),
    ("goal", Goal),
    ("plan review", PlanReview),
    ("care plan", CarePlan),
    ("contact", Contact),
)


def related_counts(session: Session, patient: Patient) -> dict[str, int]:
    """What a hard delete of ``patient`` removes besides the patient (noun -> how many)."""
    return {
        noun: session.exec(select(func.count()).select_from(model).where(model.patient_id == patient.id)).one()
        for noun, model in _DEPENDENTS
    }


def delete_patient(session: Session, patient: Patient) -> dict[str, int]:
    """Remove the patient and everything recorded under them, each row audited."""
    removed = related_counts(session, patient)
    referral_ids = select(Referral.id).where(Referral.patient_id == patient.id)
    for event in session.exec(select(ReferralEvent).where(col(ReferralEvent.referral_id).in_(referral_ids))).all():
        session.delete(event)
    from carecoord.services.authorizations import delete_uses_of_patient

    delete_uses_of_patient(session, patient)
    for _noun, model in _DEPENDENTS:
        for row in session.exec(select(model).where(model.patient_id == patient.id)).all():
            session.delete(row)
        session.flush()
    session.delete(patient)
    session.flush()
    return removed


# --- finding ------------------------------------------------------------------------------------


def describe(patient: Patient) -> str:
    """``#12 Jane Doe (MRN 123)``: how a patient is named in messages."""
    mrn = f" (MRN {patient.mrn})" if patient.mrn else ""
    return f"#{patient.id} {patient.name}{mrn}"


def describe_candidate(patient: Patient) -> str:
    """``#3 John Smith (b. 1948-02-01, MRN 77)``: one of several patients a name matches, with what
    tells them apart."""
    born = f"b. {patient.birth_date.isoformat()}" if patient.birth_date else "no date of birth"
    mrn = f", MRN {patient.mrn}" if patient.mrn else ""
    return f"#{patient.id} {patient.name} ({born}{mrn})"


def resolve(session: Session, ref: str) -> Patient:
    """A patient from an id (``12`` or ``#12``), an MRN, or an unambiguous part of the name.

    A number is never matched against names: ``12`` is patient #12 or the patient whose MRN is
    12 (both at once is ambiguous); ``#12`` is always the id.
    """
    cleaned = require_ref(ref, "patient")
    by_mrn = session.exec(select(Patient).where(col(Patient.mrn) == cleaned)).first()
    patient_id = as_id(cleaned)
    if patient_id is not None:
        by_id = session.get(Patient, patient_id)
        if cleaned.startswith("#") or by_mrn is None or by_mrn is by_id:
            if by_id is None:
                raise NotFoundError(f"no patient #{patient_id}")
            return by_id
        if by_id is not None:
            raise AmbiguousError(
                f"'{cleaned}' is both patient #{by_id.id}'s id and patient #{by_mrn.id}'s MRN; "
                f"use #{by_id.id} for the id"
            )
    if by_mrn is not None:
        return by_mrn
    key = search_key(cleaned)
    query = select(Patient).order_by(col(Patient.name_key), col(Patient.id)).limit(MATCHES_READ)
    for word in key.split():
        query = query.where(col(Patient.name_key).contains(word, autoescape=True))
    matches = session.exec(query).all() if key else []
    exact = [p for p in matches if p.name_key == key]
    if not matches:
        raise NotFoundError(f"no patient matches '{cleaned}' (use an id, an MRN or part of the name)")
    if exact:  # 'john smith' names the John Smiths, not Johnny Smithers too
        return pick_one(cleaned, "patient", exact, describe_candidate)
    return pick_one(cleaned, "patient", matches, describe_candidate, limit=MATCHES_READ)


@dataclass(frozen=True)
class PatientFilter:
    """What ``patient list`` narrows by."""

    status: str = PatientStatus.active.value
    risk: str | None = None
    tag: str | None = None
    text: str | None = None
    sort: PatientSort = PatientSort.name
    descending: bool = False
    limit: int | None = None
    coordinator: str | None = None  # only this coordinator's patients


_SEARCHED = ("mrn", "phone", "email", "address", "pcp", "language", "notes")


def list_patients(session: Session, wanted: PatientFilter) -> Sequence[Patient]:
    """Patients matching ``wanted``, in one indexed query."""
    query = select(Patient)
    if wanted.status != ALL_STATUSES:
        query = query.where(Patient.status == wanted.status)
    if wanted.risk:
        query = query.where(Patient.risk == wanted.risk)
    if wanted.tag:
        query = query.where(has_tag(col(Patient.tags), wanted.tag))
    if wanted.coordinator is not None:
        query = query.where(Patient.coordinator == wanted.coordinator)
    if wanted.text and wanted.text.strip():
        text = wanted.text.strip()
        query = query.where(
            or_(
                col(Patient.name_key).contains(search_key(text), autoescape=True),
                *(func.lower(getattr(Patient, field)).contains(text.lower(), autoescape=True)
                  for field in _SEARCHED),
                *phone_matches(col(Patient.phone), text),
                col(Patient.id).in_(_insured_by(text)),
            )
        )  # fmt: skip
    risk_rank = case(RISK_RANK, value=Patient.risk, else_=len(RISK_RANK))
    sort_key = {
        PatientSort.name: col(Patient.name_key),
        PatientSort.id: col(Patient.id),
        PatientSort.risk: risk_rank,
        PatientSort.dob: col(Patient.birth_date),
        PatientSort.enrolled: col(Patient.enrolled_on),
        PatientSort.updated: col(Patient.updated_at),
    }[wanted.sort]
    ordered = sort_key.desc() if wanted.descending else sort_key.asc()
    query = query.order_by(ordered.nulls_last(), col(Patient.id))  # unknown values last, on both engines
    if wanted.limit:
        query = query.limit(wanted.limit)
    found = session.exec(query).all()
    from carecoord.services.coverage import load_insurance

    load_insurance(session, found)  # payer, member id and authorization end: two queries for the lot
    return found


def _insured_by(text: str) -> Any:
    """Patients with a coverage whose payer or member id holds ``text`` (they were patient columns)."""
    needle = text.lower()
    return select(Coverage.patient_id).where(
        or_(func.lower(Coverage.payer).contains(needle, autoescape=True),
            func.lower(Coverage.member_id).contains(needle, autoescape=True))
    )  # fmt: skip


# --- the patient's care now (patient show) -----------------------------------------------------

OVERVIEW_TASKS = 20  # open tasks shown, most urgent first
OVERVIEW_DAYS = 30  # appointments this many days ahead


@dataclass(frozen=True)
class CareNow:
    """What is going on in a patient's care: open tasks, appointments ahead, open care plans, and
    discharges still in their transitional-care service period."""

    tasks: Sequence[Any]  # (Task, patient name)
    appointments: Sequence[Any]  # (Occurrence, Patient)
    plans: Sequence[Any]  # (CarePlan, Patient)
    transitions: Sequence[Any]  # TransitionStatus


def care_now(session: Session, patient: Patient) -> CareNow:
    """The patient's care now, for the one-page view: a few indexed queries."""
    from datetime import timedelta

    from carecoord.dates import now
    from carecoord.services import appointments, plans, tasks, transitions

    assert patient.id is not None
    begins = now()
    return CareNow(
        tasks=tasks.list_tasks(session, tasks.TaskFilter(patient_id=patient.id, limit=OVERVIEW_TASKS)),
        appointments=appointments.occurrences(
            session,
            appointments.AppointmentFilter(begins, begins + timedelta(days=OVERVIEW_DAYS), patient_id=patient.id),
        ),
        plans=plans.list_plans(session, plans.PlanFilter(patient_id=patient.id)),
        transitions=transitions.in_period(session, patient.id),
    )
