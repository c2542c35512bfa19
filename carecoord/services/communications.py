"""The communication log (calls, visits, messages, letters, with their minutes) and the call timer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from carecoord.clinical import ENTRY_MINUTES_LIMIT
from carecoord.dates import local_zone
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.fields import COMMUNICATION
from carecoord.models import CallTimer, Communication, Contact, Patient, utcnow
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.services.transitions import sync_followups
from carecoord.vocab import Outcome

MAX_MINUTES = 24 * 60
FUTURE_GRACE = timedelta(minutes=5)  # clocks differ a little; a log entry is about the past


def _check_minutes(minutes: int, *, force: bool = False) -> int:
    """Minutes for one entry: never negative or more than a day; over ENTRY_MINUTES_LIMIT only with ``force``."""
    if minutes < 0:
        raise ValidationError(f"minutes cannot be negative ({minutes})")
    if minutes > MAX_MINUTES:
        raise ValidationError(f"{minutes} minutes is more than a day; check the number")
    if minutes > ENTRY_MINUTES_LIMIT and not force:
        raise ValidationError(
            f"{minutes} minutes in one entry is more than {ENTRY_MINUTES_LIMIT // 60} hours: almost always a typo, "
            "and log minutes go into care-management billing; add --force if it is right"
        )
    return minutes


def _match_contact(session: Session, patient: Patient, with_whom: str | None) -> int | None:
    """The patient's contact whose name is ``with_whom`` (case-insensitive), if there is one."""
    if not with_whom:
        return None
    found = session.exec(
        select(Contact.id).where(Contact.patient_id == patient.id, func.lower(Contact.name) == with_whom.lower())
    ).first()
    return found


@dataclass(frozen=True)
class Entry:
    """What a log entry records."""

    at: datetime
    channel: str = "phone"
    direction: str = "outbound"
    with_whom: str | None = None
    outcome: str = Outcome.reached.value
    minutes: int = 0
    note: str | None = None
    program: str | None = None  # the program its minutes count toward; None: the patient's one time-based program


def entry_from(fields: Mapping[str, Any]) -> Entry:
    """A new entry from the settable fields of ``fields.COMMUNICATION`` a person gave (the rest take
    their defaults: now, a phone call out, reached, no minutes)."""
    values = text.clean_fields(COMMUNICATION, fields)
    given = {COMMUNICATION[key].source: value for key, value in values.items() if value is not None}
    return Entry(**{"at": utcnow(), **given})


def _program(session: Session, patient: Patient, entry: Entry) -> str | None:
    """The program named, or the patient's one enrolled time-based program on the entry's day."""
    from carecoord.services import programs

    if entry.program:
        return programs.program_code(entry.program)
    return programs.default_program(session, patient, entry.at.astimezone(local_zone()).date(),
                                    needed=entry.minutes > 0)  # fmt: skip


def add_entry(session: Session, patient: Patient, entry: Entry, *, force: bool = False) -> Communication:
    """Log a call, visit, message or letter (``force``: allow more than ENTRY_MINUTES_LIMIT minutes);
    a reached contact meets open transition follow-ups."""
    _check_not_future(entry.at)
    with_whom = text.single_line(entry.with_whom, "'with'")
    assert patient.id is not None
    logged = Communication(
        patient_id=patient.id,
        at=entry.at,
        channel=entry.channel,
        direction=entry.direction,
        with_whom=with_whom,
        contact_id=_match_contact(session, patient, with_whom),
        outcome=entry.outcome,
        minutes=_check_minutes(entry.minutes, force=force),
        note=text.free_text(entry.note, "note"),
        program=_program(session, patient, entry),
    )
    session.add(logged)
    session.flush()
    sync_followups(session, patient.id)
    return logged


def update_entry(
    session: Session, logged: Communication, fields: Mapping[str, Any], *, force: bool = False
) -> Communication:
    """Correct a log entry (``force``: allow more than ENTRY_MINUTES_LIMIT minutes); the follow-ups it
    meets (or no longer meets) follow."""
    for key, value in text.clean_fields(COMMUNICATION, fields).items():
        if key == "minutes":
            value = _check_minutes(value, force=force)
        elif key == "at":
            _check_not_future(value)
        elif key == "program":
            from carecoord.services.programs import program_code

            value = program_code(value) if value else None
        elif key == "with":
            patient = session.get(Patient, logged.patient_id)
            assert patient is not None
            logged.contact_id = _match_contact(session, patient, value)
        setattr(logged, COMMUNICATION[key].source, value)
    session.flush()
    sync_followups(session, logged.patient_id)
    return logged


def _check_not_future(at: datetime) -> None:
    if at > utcnow() + FUTURE_GRACE:
        raise ValidationError(f"{at.astimezone(local_zone()):%Y-%m-%d %H:%M} is in the future; log what has happened")


def delete_entry(session: Session, logged: Communication) -> None:
    """Remove a log entry made by mistake (the audit trail keeps it); a follow-up it alone met reopens."""
    session.delete(logged)
    session.flush()
    sync_followups(session, logged.patient_id)


def describe(logged: Communication) -> str:
    """``#8 phone 2026-11-25 09:40`` (in the user's zone)."""
    return f"#{logged.id} {logged.channel} {logged.at.astimezone(local_zone()):%Y-%m-%d %H:%M}"


def resolve(session: Session, ref: str) -> Communication:
    """A log entry by id."""
    cleaned = require_ref(ref, "log entry")
    entry_id = as_id(cleaned)
    if entry_id is None:
        raise ValidationError(f"give the log entry's id (see 'carecoord log list'), not '{cleaned}'")
    return pick_one(cleaned, "log entry", session.exec(select(Communication).where(Communication.id == entry_id)).all(),
                    describe)  # fmt: skip


@dataclass(frozen=True)
class LogFilter:
    """What ``log list`` narrows by (``start`` inclusive, ``end`` exclusive)."""

    patient_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    outcome: str | None = None
    search: str | None = None
    limit: int | None = None


def list_entries(session: Session, wanted: LogFilter) -> Sequence[tuple[Communication, Patient]]:
    """Log entries with their patients, newest first, in one query."""
    query = select(Communication, Patient).join(Patient, col(Patient.id) == Communication.patient_id)
    if wanted.patient_id is not None:
        query = query.where(Communication.patient_id == wanted.patient_id)
    if wanted.start is not None:
        query = query.where(col(Communication.at) >= wanted.start)
    if wanted.end is not None:
        query = query.where(col(Communication.at) < wanted.end)
    if wanted.channel is not None:
        query = query.where(Communication.channel == wanted.channel)
    if wanted.outcome is not None:
        query = query.where(Communication.outcome == wanted.outcome)
    if wanted.search:
        query = query.where(col(Communication.note).icontains(wanted.search, autoescape=True))
    query = query.order_by(col(Communication.at).desc(), col(Communication.id).desc())
    if wanted.limit:
        query = query.limit(wanted.limit)
    return [(entry, patient) for entry, patient in session.exec(query).all()]


# --- the call timer -----------------------------------------------------------------------------


def running_timer(session: Session) -> tuple[CallTimer, Patient] | None:
    """The timer that is running, with its patient."""
    row = session.exec(select(CallTimer, Patient).join(Patient, col(Patient.id) == CallTimer.patient_id)).first()
    return (row[0], row[1]) if row else None


def start_timer(session: Session, patient: Patient, note: str | None = None) -> CallTimer:
    """Start timing a call; only one timer runs at a time."""
    running = running_timer(session)
    if running is not None:
        timer, other = running
        since = timer.started_at.astimezone(local_zone())
        raise ConflictError(
            f"a timer is already running for #{other.id} {other.name} since {since:%H:%M}; "
            "stop it first (carecoord timer stop)"
        )
    assert patient.id is not None
    timer = CallTimer(patient_id=patient.id, started_at=utcnow(), note=text.free_text(note, "note"))
    session.add(timer)
    session.flush()
    return timer


def elapsed_minutes(timer: CallTimer, now: datetime | None = None) -> int:
    """Whole minutes on the timer, rounded up (a 30-second call is a minute of work)."""
    seconds = ((now or utcnow()) - timer.started_at).total_seconds()
    return max(1, math.ceil(seconds / 60))


def stop_timer(
    session: Session,
    *,
    outcome: str = Outcome.reached.value,
    channel: str = "phone",
    note: str | None = None,
    minutes: int | None = None,
    force: bool = False,
    program: str | None = None,
) -> tuple[Communication, Patient]:
    """Stop the timer and log the call with its minutes (or ``minutes``, for a timer left running);
    ``force`` allows more than ENTRY_MINUTES_LIMIT minutes."""
    running = running_timer(session)
    if running is None:
        raise NotFoundError("no timer is running (start one with: carecoord timer start PATIENT)")
    timer, patient = running
    took = elapsed_minutes(timer) if minutes is None else minutes
    if minutes is None and (took > MAX_MINUTES or (took > ENTRY_MINUTES_LIMIT and not force)):
        allow = "" if took > MAX_MINUTES else ", add --force if the call really took that long"
        raise ValidationError(
            f"the timer has run for {took} minutes; give the call's real length with --minutes{allow}, "
            "or 'timer cancel'"
        )
    notes = "\n".join(part for part in (timer.note, note) if part) or None
    logged = add_entry(
        session,
        patient,
        Entry(at=timer.started_at, channel=channel, outcome=outcome, minutes=took, note=notes, program=program),
        force=force,
    )
    session.delete(timer)
    session.flush()
    return logged, patient


def cancel_timer(session: Session) -> Patient:
    """Discard the running timer without logging anything."""
    running = running_timer(session)
    if running is None:
        raise NotFoundError("no timer is running")
    timer, patient = running
    session.delete(timer)
    session.flush()
    return patient
