"""Appointments <-> FHIR R4 Appointment (https://hl7.org/fhir/R4/appointment.html).

R4's Appointment has no recurrence, so a series is exported one resource per occurrence, each with
the start, end and status it has (moved or cancelled ones included) for any reader, and carecoord's
``appointment-series`` extension: the series' uid, RRULE (RFC 5545), first start and end, its own
status, and the occurrence's original start (its RECURRENCE-ID) with the exception recorded for it,
if any. An import gathers the occurrences of a series and rebuilds the one series row with its
exceptions. A one-off is one resource with the record's own uid.

status: carecoord stores the R4 appointmentstatus codes themselves (proposed, pending, booked, arrived,
fulfilled, cancelled, noshow, entered-in-error, checked-in, waitlist:
https://hl7.org/fhir/R4/valueset-appointmentstatus.html), so they map one to one.
appointmentType: carecoord's own code system (``code_system("appointment-type")``; the binding to
v2-0276 is preferred, not required). The place is a participant of type LOC (v3 ParticipationType
"location", https://terminology.hl7.org/CodeSystem-v3-ParticipationType.html) named by display.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from carecoord.fhir import Refs, code_system, named_uid
from carecoord.fhir.elements import (
    codes,
    coding,
    compact,
    complex_extension,
    extension_value,
    extensions,
    instant,
    meta,
    parts_of,
    read_moment,
    record_identifier,
    words,
    zoned,
)

TYPE_SYSTEM = code_system("appointment-type")
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
LOCATION = "LOC"
SERIES = "appointment-series"
STATUSES = frozenset(
    {"proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error",
     "checked-in", "waitlist"}
)  # fmt: skip
REASON_SHOWN = frozenset(
    {"cancelled", "noshow"}
)  # cancelationReason: "the coded reason for the appointment being cancelled"


def occurrence_uid(series_uid: str, original_start: datetime) -> str:
    """The id of one occurrence of a series: the same every export (made from the series' uid and the
    occurrence's original start)."""
    return named_uid("Appointment", f"{series_uid}-{instant(original_start)}")


def to_fhir(
    appointment: Any,
    patient_uid: str,
    patient_name: str,
    refs: Refs,
    *,
    labels: Mapping[str, str],
    sitting: Any = None,
) -> dict[str, Any]:
    """The Appointment resource of a one-off (``sitting`` None) or of one occurrence of a series
    (``sitting``: a services.appointments.Occurrence)."""
    tz = appointment.tz
    updated = appointment.updated_at
    if sitting is None:
        uid, start, end = appointment.uid, appointment.starts_at, appointment.ends_at
        status, reason = appointment.status, appointment.status_reason
        series = None
    else:
        uid, start, end = occurrence_uid(appointment.uid, sitting.original_start), sitting.start, sitting.end
        status, reason = sitting.status, sitting.reason
        exception = sitting.exception
        if exception is not None and exception.updated_at > updated:
            updated = exception.updated_at
        series = complex_extension(
            SERIES,
            [
                ("uid", "String", appointment.uid),
                ("rrule", "String", appointment.rrule),
                ("first-start", "DateTime", zoned(appointment.starts_at, tz)),
                ("first-end", "DateTime", zoned(appointment.ends_at, tz)),
                ("status", "Code", appointment.status),
                ("status-reason", "String", appointment.status_reason),
                ("original-start", "DateTime", zoned(sitting.original_start, tz)),
                *(
                    [
                        ("exception-uid", "String", exception.uid),
                        ("exception-status", "Code", exception.status),
                        (
                            "exception-start",
                            "DateTime",
                            zoned(exception.starts_at, tz) if exception.starts_at else None,
                        ),
                        ("exception-end", "DateTime", zoned(exception.ends_at, tz) if exception.ends_at else None),
                        ("exception-reason", "String", exception.status_reason),
                    ]
                    if exception is not None
                    else []
                ),
            ],
        )
    label = labels.get(appointment.kind, appointment.kind)
    own = extensions(
        [
            ("timezone", "Code", tz),
            ("attending", "Boolean", bool(appointment.attending)),
            ("reminder-minutes", "Integer", appointment.reminder_minutes),
            ("sequence", "Integer", appointment.sequence),
            ("status-reason", "String", reason),
        ]
    )
    participants: list[dict[str, Any]] = [
        {"actor": refs.to("Patient", patient_uid, patient_name), "status": "accepted"}
    ]
    if appointment.location:
        participants.append({"type": [{"coding": [coding(PARTICIPATION_TYPE, LOCATION, "location")]}],
                             "actor": {"display": appointment.location}, "status": "accepted"})  # fmt: skip
    if appointment.with_whom:
        participants.append({"actor": {"display": appointment.with_whom}, "status": "accepted"})
    return compact(
        {
            "resourceType": "Appointment",
            "id": uid,
            "meta": meta(updated),
            "extension": [*own, series] if series else own,
            "identifier": [record_identifier(uid)],
            "status": status,
            "cancelationReason": {"text": reason} if reason and status in REASON_SHOWN else None,
            "appointmentType": {"coding": [coding(TYPE_SYSTEM, appointment.kind, label)], "text": label},
            "description": label,
            "start": zoned(start, tz),
            "end": zoned(end, tz),
            "minutesDuration": max(1, int((end - start).total_seconds() // 60)),
            "comment": appointment.notes,
            "participant": participants,
        }
    )


def _is_location(participant: Mapping[str, Any]) -> bool:
    if any(LOCATION in codes(kind, PARTICIPATION_TYPE) for kind in participant.get("type") or ()):
        return True
    reference = (participant.get("actor") or {}).get("reference")
    return isinstance(reference, str) and reference.startswith("Location")


def from_fhir(resource: Mapping[str, Any]) -> dict[str, Any]:
    """An appointment's fields from an Appointment resource; ``series``: the parts of carecoord's
    series extension (None for a one-off or another system's appointment); ``tz`` None when the
    sender is not carecoord."""
    kinds = codes(resource.get("appointmentType"), TYPE_SYSTEM)
    start = read_moment(resource.get("start"))
    end = read_moment(resource.get("end"))
    minutes = resource.get("minutesDuration")
    if start is not None and end is None and isinstance(minutes, int) and minutes > 0:
        end = start + timedelta(minutes=minutes)
    location = with_whom = None
    for participant in resource.get("participant") or ():
        actor = participant.get("actor") or {}
        name = actor.get("display") if isinstance(actor.get("display"), str) else None
        if _is_location(participant):
            location = location or name
        elif name and not str(actor.get("reference", "")).startswith(("Patient", "urn:")):
            with_whom = with_whom or name
    reason = extension_value(resource, "status-reason")
    if reason is None:
        reason = words(resource.get("cancelationReason"))
    return {
        "kind": kinds[0] if kinds else "other",
        "status": resource.get("status"),
        "status_reason": reason,
        "starts_at": start,
        "ends_at": end,
        "tz": extension_value(resource, "timezone"),
        "location": location,
        "with_whom": with_whom,
        "attending": extension_value(resource, "attending"),
        "reminder_minutes": extension_value(resource, "reminder-minutes"),
        "sequence": extension_value(resource, "sequence"),
        "notes": resource.get("comment") if isinstance(resource.get("comment"), str) else None,
        "series": parts_of(resource, SERIES),
    }
