"""Communication log entries <-> FHIR R4 Communication (https://hl7.org/fhir/R4/communication.html).

When it happened is ``sent``; the channel is ``medium`` (v3 ParticipationMode); the note is the
payload. The other party is the ``recipient`` of an outbound entry and the ``sender`` of an inbound
one: the contact it was with (a reference, displayed as the name logged), else the name alone, else
the patient. Outcome is the ``statusReason`` (a carecoord code; the status says whether the
communication took place); minutes and program are carecoord extensions.

No category: communication-category (https://terminology.hl7.org/CodeSystem-communication-category.html:
alert, notification, reminder, instruction) has no code for a care-coordination contact.
"""

from __future__ import annotations

from datetime import datetime, time, tzinfo
from typing import TYPE_CHECKING, Any

from carecoord.errors import ValidationError
from carecoord.fhir import Refs, code_system
from carecoord.fhir.elements import (
    codes,
    coding,
    concept,
    extension,
    extension_value,
    instant,
    meta,
    read_date,
    read_moment,
    record_identifier,
)
from carecoord.fhir.parts import Resource, duration, duration_value, name
from carecoord.vocab import PROGRAM_NAMES

if TYPE_CHECKING:
    from carecoord.models import Communication

# Communication.medium: v3 ParticipationMode, http://terminology.hl7.org/CodeSystem/v3-ParticipationMode
# (R4 list: https://hl7.org/fhir/R4/v3/ParticipationMode/cs.html; MSGWRIT "messaging" was added in THO
# 4.0.0, 2021-08-10: https://terminology.hl7.org/CodeSystem-v3-ParticipationMode.html).
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
MEDIUM = {
    "phone": ("PHONE", "telephone"),
    "visit": ("FACE", "face-to-face"),
    "video": ("VIDEOCONF", "videoconferencing"),
    "message": ("MSGWRIT", "messaging"),
    "letter": ("MAILWRIT", "mail"),
    "email": ("EMAILWRIT", "email"),
}
# Other senders' codes, read as the nearest channel.
CHANNEL_FROM_MODE = {code: channel for channel, (code, _) in MEDIUM.items()} | {
    "VERBAL": "phone", "DICTATE": "phone", "PHYSICAL": "visit", "REMOTE": "video", "SMSWRIT": "message",
    "MMSWRIT": "message", "APPWRIT": "message", "ONLINEWRIT": "message", "ELECTRONIC": "message",
    "WRITTEN": "letter", "HANDWRIT": "letter", "TYPEWRIT": "letter", "FAXWRIT": "letter",
}  # fmt: skip
# Communication.status: event-status, https://hl7.org/fhir/R4/codesystem-event-status.html: a message
# left was communicated; an unanswered call, a wrong number or a refusal was not.
COMPLETED_OUTCOMES = frozenset({"reached", "left-message"})
OUTCOME_SYSTEM = code_system("communication-outcome")
OUTCOMES = {
    "reached": "Reached",
    "no-answer": "No answer",
    "left-message": "Left a message",
    "wrong-number": "Wrong number",
    "declined": "Declined",
}
PROGRAM_SYSTEM = code_system("program")
MINUTES = "minutes"  # carecoord extension: valueDuration (UCUM min)
PROGRAM = "program"  # carecoord extension: valueCoding in PROGRAM_SYSTEM (vocab.Program)


def communication_to_fhir(
    entry: Communication, patient_uid: str, refs: Refs, *, contact: tuple[str, str] | None = None
) -> Resource:
    """The Communication resource of a log entry; ``contact``: the (resource type, uid) of the contact
    it was with, when the entry names one."""
    if contact is not None:
        party = refs.to(contact[0], contact[1], entry.with_whom)
    elif entry.with_whom:
        party = {"display": entry.with_whom}
    else:
        party = refs.to("Patient", patient_uid)
    mode, display = MEDIUM.get(entry.channel, MEDIUM["phone"])
    program = [extension(PROGRAM, "Coding", _program(entry.program))] if entry.program else []
    resource: Resource = {
        "resourceType": "Communication",
        "id": entry.uid,
        "meta": meta(entry.updated_at),
        "identifier": [record_identifier(entry.uid)],
        "extension": [extension(MINUTES, "Duration", duration(entry.minutes, "min")), *program],
        "status": "completed" if entry.outcome in COMPLETED_OUTCOMES else "not-done",
        "statusReason": concept(None, coding(OUTCOME_SYSTEM, entry.outcome, OUTCOMES.get(entry.outcome))),
        "medium": [concept(entry.channel, coding(PARTICIPATION_MODE, mode, display))],
        "subject": refs.to("Patient", patient_uid),
        "sent": instant(entry.at),
    }
    # built in place rather than compacted: an agency's log is 500,000 entries
    if entry.direction == "inbound":
        resource["sender"] = party
    else:
        resource["recipient"] = [party]
    if entry.note:
        resource["payload"] = [{"contentString": entry.note}]
    return resource


def _program(code: str) -> dict[str, str]:
    return {"system": PROGRAM_SYSTEM, "code": code, "display": PROGRAM_NAMES.get(code, code)}


def communication_from_fhir(resource: Resource, zone: tzinfo) -> dict[str, Any]:
    """The log entry's fields from a Communication (the contact it was with: :func:`communication_party`)."""
    owner = name(resource)
    at = _moment(resource.get("sent") or resource.get("received"), zone)
    if at is None:
        raise ValidationError(f"{owner}: no sent time")
    outcome = next(iter(codes(resource.get("statusReason"), OUTCOME_SYSTEM)), None)
    if outcome not in OUTCOMES:
        outcome = "reached" if resource.get("status") != "not-done" else "no-answer"
    mode = next((code for medium in resource.get("medium") or () for code in codes(medium, PARTICIPATION_MODE)), "")
    program = extension_value(resource, PROGRAM) or {}
    direction, party = _party(resource)
    notes = [p["contentString"] for p in resource.get("payload") or () if p.get("contentString")]
    return {
        "at": at,
        "channel": CHANNEL_FROM_MODE.get(mode, "phone"),
        "direction": direction,
        "with_whom": None if party is None or _is_subject(resource, party) else party.get("display"),
        "outcome": outcome,
        "minutes": duration_value(extension_value(resource, MINUTES), "min", owner) or 0,
        "note": "\n\n".join(notes) or None,
        "program": program.get("code") if program.get("system") == PROGRAM_SYSTEM else None,
    }


def _moment(value: Any, zone: tzinfo) -> datetime | None:
    """A dateTime as an aware datetime; a date alone is the start of that day in ``zone``."""
    moment = read_moment(value)
    if moment is None and (on := read_date(value)) is not None:
        return datetime.combine(on, time(0), tzinfo=zone)
    return moment


def communication_party(resource: Resource) -> dict[str, Any] | None:
    """The reference to whom the entry was with (not the patient), if it is a reference at all."""
    _direction, party = _party(resource)
    if party is None or not party.get("reference") or _is_subject(resource, party):
        return None
    return party


def _party(resource: Resource) -> tuple[str, dict[str, Any] | None]:
    """The direction and the other party: the sender of an inbound entry, the recipient of an outbound one."""
    sender = resource.get("sender")
    recipients = resource.get("recipient") or []
    if sender and (not recipients or _is_subject(resource, sender)):
        return "inbound", sender
    return "outbound", recipients[0] if recipients else None


def _is_subject(resource: Resource, party: dict[str, Any]) -> bool:
    reference = party.get("reference")
    return bool(reference) and reference == (resource.get("subject") or {}).get("reference")
