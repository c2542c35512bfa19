"""Appointments as FHIR R4 Appointment resources: the export section and the import handler.

Export: a one-off is one resource; a series is one resource per occurrence, from its first one to a
year ahead (:func:`horizon`: to the end of the month a year from today, so that a nightly export
changes once a month, not every night; further if an exception was recorded later), each as it happened or will
happen, exceptions applied (see carecoord.fhir.appointments).

Import: an appointment carecoord exported (it carries carecoord's time-zone extension) is taken
whatever its date, and a series is rebuilt as one row with its exceptions from all its occurrences
in the file; another system's appointment is taken only if it is still to come (it ends after
now), in the importing user's time zone, of type 'other' unless it carries carecoord's type code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from carecoord.dates import day_start, local_zone, now, today, zone_name
from carecoord.errors import ValidationError
from carecoord.fhir import Refs
from carecoord.fhir import appointments as appointment_fhir
from carecoord.fhir.elements import read_moment
from carecoord.models import Appointment, AppointmentException, Patient
from carecoord.services import appointments as appointment_service
from carecoord.services import snapshots
from carecoord.services.fhir_export import Section
from carecoord.services.fhir_import import Handler, ImportContext, Outcome, reference_text, referenced_type
from carecoord.services.lookup import IN_LIST_SIZE
from carecoord.vocab import APPOINTMENT_TYPE_LABELS, AppointmentType

HORIZON = timedelta(days=365)  # a series' occurrences are exported up to a year ahead (to that month's end)
_SLACK = timedelta(days=1)

# --- export ---------------------------------------------------------------------------------------


def horizon() -> datetime:
    """How far ahead a series is exported: the end of the month a year from today (the user's zone)."""
    ahead = today() + HORIZON
    next_month = date(ahead.year + ahead.month // 12, ahead.month % 12 + 1, 1)
    return day_start(next_month)


def appointment_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """Every appointment of a batch: one-offs as they are, series occurrence by occurrence."""
    by_id = {patient.id: patient for patient in patients}
    query = (
        snapshots.query(Appointment)
        .where(col(Appointment.patient_id).in_(list(by_id)))
        .order_by(col(Appointment.patient_id), col(Appointment.starts_at), col(Appointment.id))
    )
    found = snapshots.read(session, Appointment, query)
    exceptions = appointment_service.exceptions_for(session, found)
    until = horizon()
    for appointment in found:
        owner = by_id[appointment.patient_id]
        if not appointment.rrule:
            yield appointment_fhir.to_fhir(appointment, owner.uid, owner.name, refs, labels=APPOINTMENT_TYPE_LABELS)
            continue
        recorded = exceptions.get(appointment.id or 0, [])
        moments = [e.original_start for e in recorded] + [e.starts_at for e in recorded if e.starts_at is not None]
        low = min([appointment.starts_at, *moments]) - _SLACK
        high = max([until, *(moment + _SLACK for moment in moments)])
        sittings = appointment_service.expand(appointment, recorded, low, high)
        for sitting in sorted(sittings, key=lambda s: (s.original_start, s.start)):
            yield appointment_fhir.to_fhir(
                appointment, owner.uid, owner.name, refs, labels=APPOINTMENT_TYPE_LABELS, sitting=sitting
            )


# --- import ---------------------------------------------------------------------------------------

_SERIES_FIELDS = ("kind", "status", "status_reason", "starts_at", "ends_at", "tz", "rrule", "location", "with_whom",
                  "attending", "reminder_minutes", "notes", "sequence")  # fmt: skip
_EXCEPTION_FIELDS = ("status", "starts_at", "ends_at", "status_reason")
_KINDS = frozenset(kind.value for kind in AppointmentType)


def _patient_reference(ctx: ImportContext, resource: dict[str, Any]) -> Any:
    """The participant's actor that is the patient (a Reference), or None."""
    for participant in resource.get("participant") or ():
        actor = participant.get("actor")
        target = ctx.target(actor)
        kind = target["resourceType"] if target is not None else referenced_type(actor)
        if kind == "Patient":
            return actor
    return None


def _fields(key: str, values: dict[str, Any], *, tz: str) -> dict[str, Any]:
    """An appointment row's fields from what a resource says, checked."""
    if values["status"] not in appointment_fhir.STATUSES:
        raise ValidationError(f"{key}: status '{values['status']}' is not an R4 appointment status")
    if values["starts_at"] is None or values["ends_at"] is None:
        raise ValidationError(f"{key}: no start" if values["starts_at"] is None else f"{key}: no end")
    if values["ends_at"] <= values["starts_at"]:
        raise ValidationError(f"{key}: it ends before it starts")
    kind = values["kind"] if values["kind"] in _KINDS else AppointmentType.other.value
    attending = values["attending"]
    return {
        "kind": kind,
        "status": values["status"],
        "status_reason": values["status_reason"],
        "starts_at": values["starts_at"],
        "ends_at": values["ends_at"],
        "tz": tz,
        "rrule": None,
        "location": values["location"],
        "with_whom": values["with_whom"],
        "attending": appointment_service.attended_by_default(kind) if attending is None else bool(attending),
        "reminder_minutes": values["reminder_minutes"],
        "notes": values["notes"],
        "sequence": values["sequence"] if isinstance(values["sequence"], int) else 0,
    }


def _series_groups(ctx: ImportContext) -> dict[str, list[dict[str, Any]]]:
    """The file's occurrences of each series, by the series' uid (read once)."""
    groups: dict[str, list[dict[str, Any]]] | None = ctx.state.get("appointment-series-groups")
    if groups is None:
        groups = defaultdict(list)
        for resource in ctx.resources("Appointment"):
            parts = appointment_fhir.from_fhir(resource)["series"]
            if parts and isinstance(parts.get("uid"), str):
                groups[parts["uid"]].append(resource)
        ctx.state["appointment-series-groups"] = groups
    return groups


def _wanted_exceptions(key: str, occurrences: list[dict[str, Any]]) -> dict[datetime, dict[str, Any]]:
    """The exceptions a series' occurrences carry, by original start."""
    wanted: dict[datetime, dict[str, Any]] = {}
    for resource in occurrences:
        parts = appointment_fhir.from_fhir(resource)["series"] or {}
        if parts.get("exception-status") is None:
            continue
        original = read_moment(parts.get("original-start"))
        if original is None or parts["exception-status"] not in appointment_fhir.STATUSES:
            raise ValidationError(f"{key}: an occurrence's exception has no original start or status")
        wanted[original] = {
            "uid": parts.get("exception-uid"),
            "status": parts["exception-status"],
            "starts_at": read_moment(parts.get("exception-start")),
            "ends_at": read_moment(parts.get("exception-end")),
            "status_reason": parts.get("exception-reason"),
        }
    return wanted


def _import_series(
    session: Session, ctx: ImportContext, patient: Patient, resource: dict[str, Any], parts: dict[str, Any]
) -> Outcome:
    key = ctx.key(resource)
    values = appointment_fhir.from_fhir(resource)
    values.update(
        status=parts.get("status"), status_reason=parts.get("status-reason"),
        starts_at=read_moment(parts.get("first-start")), ends_at=read_moment(parts.get("first-end")),
    )  # fmt: skip
    tz = values["tz"] or zone_name(local_zone())
    fields = _fields(key, values, tz=tz)
    if not isinstance(parts.get("rrule"), str):
        raise ValidationError(f"{key}: the series has no rule")
    fields["rrule"] = parts["rrule"]
    wanted = _wanted_exceptions(key, _series_groups(ctx)[parts["uid"]])
    stored = session.exec(select(Appointment).where(Appointment.uid == parts["uid"])).first()
    changed = False
    if stored is None:
        assert patient.id is not None
        stored = Appointment(patient_id=patient.id, uid=parts["uid"], **fields)
        stored.series_ends_at = appointment_service.series_end(stored)
        session.add(stored)
        session.flush()
        outcome: Outcome = "created"
    else:
        changed = _apply(stored, fields)
        outcome = "unchanged"
    assert stored.id is not None and stored.patient_id is not None
    have = {e.original_start: e for e in session.exec(
        select(AppointmentException).where(AppointmentException.appointment_id == stored.id)).all()}  # fmt: skip
    for original, exception in have.items():
        if original not in wanted:
            session.delete(exception)
            changed = True
    for original, values_ in wanted.items():
        uid = values_.pop("uid")
        found = have.get(original)
        if found is None:
            found = AppointmentException(appointment_id=stored.id, patient_id=stored.patient_id,
                                         original_start=original, **values_)  # fmt: skip
            if (
                isinstance(uid, str)
                and session.exec(select(AppointmentException.id).where(AppointmentException.uid == uid)).first() is None
            ):
                found.uid = uid
            session.add(found)
            changed = True
        else:
            changed = _apply(found, values_) or changed
    session.flush()
    if outcome == "created":
        return outcome
    return "updated" if changed else "unchanged"


def _apply(record: Any, fields: dict[str, Any]) -> bool:
    """Set the fields that differ; whether any did (a series' end follows its rule and start)."""
    changes = {name: value for name, value in fields.items() if getattr(record, name) != value}
    for name, value in changes.items():
        setattr(record, name, value)
    if changes and isinstance(record, Appointment):
        record.series_ends_at = appointment_service.series_end(record)
    return bool(changes)


def import_appointment(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """An Appointment of a patient in the file: a one-off, or (carecoord's) an occurrence of a series."""
    key = ctx.key(resource)
    reference = _patient_reference(ctx, resource)
    if reference is None:
        return "skipped"  # no patient takes part: nothing of a caseload
    patient = ctx.patient(reference)
    if patient is None:
        raise ValidationError(f"{key}: its patient {reference_text(reference)} points at nothing in the file")
    values = appointment_fhir.from_fhir(resource)
    parts = values["series"]
    if parts and isinstance(parts.get("uid"), str):
        done: dict[str, Outcome] = ctx.state.setdefault("appointment-series-done", {})
        if parts["uid"] not in done:
            done[parts["uid"]] = _import_series(session, ctx, patient, resource, parts)
        return done[parts["uid"]]
    ours = values["tz"] is not None
    if values["starts_at"] is None and values["status"] in ("proposed", "cancelled", "waitlist"):
        return "skipped"  # R4 lets these have no time yet; carecoord's appointments have one
    if not ours and values["ends_at"] is not None and values["ends_at"] < now():
        return "skipped"  # another system's past appointment: only upcoming ones are taken
    fields = _fields(key, values, tz=values["tz"] or zone_name(local_zone()))
    uid = ctx.uid(resource)
    known = _stored_one_offs(session, ctx)
    stored = known.get(uid)
    if stored is None:
        assert patient.id is not None
        appointment = Appointment(patient_id=patient.id, uid=uid, **fields)
        appointment.series_ends_at = appointment_service.series_end(appointment)
        session.add(appointment)
        known[uid] = appointment
        ctx.remember(resource, appointment)
        return "created"
    ctx.remember(resource, stored)
    return "updated" if _apply(stored, fields) else "unchanged"


def _stored_one_offs(session: Session, ctx: ImportContext) -> dict[str, Appointment]:
    """The stored appointments the file's Appointments may be, by uid: a few IN queries for the lot."""
    known: dict[str, Appointment] | None = ctx.type_state.get("stored-appointments")
    if known is None:
        uids = sorted({ctx.uid(resource) for resource in ctx.resources("Appointment")})
        known = {}
        for start in range(0, len(uids), IN_LIST_SIZE):
            query = select(Appointment).where(col(Appointment.uid).in_(uids[start : start + IN_LIST_SIZE]))
            known.update((found.uid, found) for found in session.exec(query).all())
        ctx.type_state["stored-appointments"] = known
    return known


EXPORT_SECTIONS: list[Section] = [appointment_section]
IMPORT_HANDLERS: dict[str, Handler] = {"Appointment": import_appointment}
