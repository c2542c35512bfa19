"""Appointments: booking, series with per-occurrence exceptions, conflicts, moves and outcomes.

Times are stored as UTC plus the IANA zone the appointment was booked in; a series is expanded in
that zone, so a weekly 10:00 visit stays at 10:00 local time across daylight-saving changes. An
occurrence is identified by its original start (the iCalendar RECURRENCE-ID).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from carecoord.dates import localize, zone
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.models import Appointment, AppointmentException, Patient
from carecoord.recurrence import fixed_weekdays, last_moment, moments_between
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.vocab import APPOINTMENT_FREE, APPOINTMENT_TYPE_LABELS, AppointmentStatus

# Conflicts are checked over the first year of a series that has no end.
CONFLICT_HORIZON = timedelta(days=366)
EDITABLE_FIELDS = ("kind", "location", "with_whom", "reminder_minutes", "notes", "status")


@dataclass(frozen=True)
class Occurrence:
    """One sitting of an appointment, with the exception applied if it has one."""

    appointment: Appointment
    original_start: datetime
    start: datetime
    end: datetime
    status: str
    reason: str | None
    moved: bool
    exception: AppointmentException | None

    @property
    def blocks_time(self) -> bool:
        """Whether it occupies the coordinator's calendar."""
        return self.status not in APPOINTMENT_FREE


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _zone_of(appointment: Appointment) -> ZoneInfo:
    return ZoneInfo(appointment.tz)


def _duration(appointment: Appointment) -> timedelta:
    return appointment.ends_at - appointment.starts_at


def _original_starts(appointment: Appointment, low: datetime, high: datetime) -> list[datetime]:
    """Original starts (UTC) of occurrences that overlap [low, high)."""
    duration = _duration(appointment)
    if not appointment.rrule:
        start = appointment.starts_at
        return [start] if start < high and start + duration > low else []
    local_start = appointment.starts_at.astimezone(_zone_of(appointment))
    found = moments_between(appointment.rrule, local_start, low - duration, high)
    return [_utc(moment) for moment in found if moment < high and _utc(moment) + duration > low]


def _occurrence(appointment: Appointment, original: datetime, exception: AppointmentException | None) -> Occurrence:
    tz = _zone_of(appointment)
    start, end = original, original + _duration(appointment)
    status, reason, moved = appointment.status, appointment.status_reason, False
    if exception is not None:
        status, reason = exception.status, exception.status_reason
        if exception.starts_at is not None and exception.ends_at is not None:
            start, end, moved = exception.starts_at, exception.ends_at, True
    if appointment.status in APPOINTMENT_FREE:  # a cancelled series cancels every sitting
        status, reason = appointment.status, appointment.status_reason or reason
    return Occurrence(appointment, original, start.astimezone(tz), end.astimezone(tz), status, reason, moved, exception)


def expand(
    appointment: Appointment, exceptions: Sequence[AppointmentException], low: datetime, high: datetime
) -> list[Occurrence]:
    """The appointment's occurrences overlapping [low, high), exceptions applied."""
    by_original = {exception.original_start: exception for exception in exceptions}
    result = []
    for original in _original_starts(appointment, low, high):
        sitting = _occurrence(appointment, original, by_original.pop(original, None))
        if sitting.start < high and sitting.end > low:
            result.append(sitting)
    for exception in by_original.values():  # moved here from outside the window
        if exception.starts_at and exception.ends_at and exception.starts_at < high and exception.ends_at > low:
            result.append(_occurrence(appointment, exception.original_start, exception))
    return result


@dataclass(frozen=True)
class AppointmentFilter:
    """What ``appt list`` and the agenda narrow by."""

    start: datetime
    end: datetime
    patient_id: int | None = None
    kind: str | None = None
    status: str | None = None


def occurrences(session: Session, wanted: AppointmentFilter) -> list[tuple[Occurrence, Patient]]:
    """All occurrences in the window, by start; one query for series, one for their exceptions."""
    low, high = _utc(wanted.start), _utc(wanted.end)
    moved_in = select(AppointmentException.appointment_id).where(
        col(AppointmentException.starts_at) < high, col(AppointmentException.ends_at) > low
    )
    query = (
        select(Appointment, Patient)
        .join(Patient, col(Patient.id) == Appointment.patient_id)
        .where(
            or_(
                and_(col(Appointment.starts_at) < high,
                     or_(col(Appointment.series_ends_at).is_(None), col(Appointment.series_ends_at) > low)),
                col(Appointment.id).in_(moved_in),
            )
        )
    )  # fmt: skip
    if wanted.patient_id is not None:
        query = query.where(Appointment.patient_id == wanted.patient_id)
    if wanted.kind is not None:
        query = query.where(Appointment.kind == wanted.kind)
    rows = session.exec(query).all()
    exceptions = _exceptions_of(session, [appointment.id for appointment, _ in rows if appointment.rrule])
    found = [
        (sitting, patient)
        for appointment, patient in rows
        for sitting in expand(appointment, exceptions.get(appointment.id or 0, []), low, high)
        if wanted.status is None or sitting.status == wanted.status
    ]
    found.sort(key=lambda pair: (pair[0].start, pair[0].appointment.id))
    return found


def _exceptions_of(session: Session, ids: Iterable[int | None]) -> dict[int, list[AppointmentException]]:
    wanted = [i for i in ids if i is not None]
    grouped: dict[int, list[AppointmentException]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        for exception in session.exec(
            select(AppointmentException).where(col(AppointmentException.appointment_id).in_(batch))
        ).all():
            grouped[exception.appointment_id].append(exception)
    return grouped


# --- conflicts ----------------------------------------------------------------------------------


def _spans(appointment: Appointment, first: datetime, horizon: timedelta) -> list[tuple[datetime, datetime]]:
    """Where a (new or changed) appointment will sit, up to ``horizon`` for an open-ended series."""
    end = appointment.series_ends_at or (first + horizon)
    duration = _duration(appointment)
    return [(start, start + duration) for start in _original_starts(appointment, first, end + duration)]


def check_clashes(
    session: Session,
    spans: Sequence[tuple[datetime, datetime]],
    *,
    ignore: Appointment | None = None,
    ignore_original: datetime | None = None,
) -> None:
    """Refuse spans that overlap another occupied occurrence (naming the first clash)."""
    if not spans:
        return
    low, high = min(s for s, _ in spans), max(e for _, e in spans)
    taken = [
        (sitting, patient)
        for sitting, patient in occurrences(session, AppointmentFilter(low, high))
        if sitting.blocks_time
        and not (ignore is not None and sitting.appointment.id == ignore.id
                 and (ignore_original is None or sitting.original_start == ignore_original))
    ]  # fmt: skip
    for start, end in sorted(spans):
        for sitting, patient in taken:
            if sitting.start < end and sitting.end > start:
                raise ConflictError(
                    f"clashes with appointment #{sitting.appointment.id} ({label(sitting.appointment)}, "
                    f"{patient.name}) on {sitting.start:%Y-%m-%d %H:%M}-{sitting.end:%H:%M}; "
                    "add --force to book it anyway"
                )


# --- booking and changes ------------------------------------------------------------------------


def label(appointment: Appointment) -> str:
    """``Home visit``: the type as people say it."""
    return APPOINTMENT_TYPE_LABELS.get(appointment.kind, appointment.kind)


def describe(appointment: Appointment) -> str:
    """``#5 Home visit 2026-11-27 10:00``, in the zone it was booked in."""
    local = appointment.starts_at.astimezone(_zone_of(appointment))
    series = " (series)" if appointment.rrule else ""
    return f"#{appointment.id} {label(appointment)} {local:%Y-%m-%d %H:%M}{series}"


def _series_end(appointment: Appointment) -> datetime | None:
    if not appointment.rrule:
        return appointment.ends_at
    last = last_moment(appointment.rrule, appointment.starts_at.astimezone(_zone_of(appointment)))
    return None if last is None else _utc(last) + _duration(appointment)


def _check_times(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationError(f"the appointment ends ({end:%Y-%m-%d %H:%M}) before it starts ({start:%Y-%m-%d %H:%M})")
    if end - start > timedelta(hours=24):
        raise ValidationError("an appointment lasts at most 24 hours")


def _touch(appointment: Appointment) -> None:
    """Every change raises the iCalendar SEQUENCE, so calendars take the new version."""
    appointment.sequence += 1


@dataclass(frozen=True)
class Booking:
    """What ``appt add`` asks for."""

    start: datetime
    end: datetime
    tz: str
    kind: str
    status: str = AppointmentStatus.booked.value
    rrule: str | None = None
    location: str | None = None
    with_whom: str | None = None
    reminder_minutes: int | None = None
    notes: str | None = None


def add_appointment(session: Session, patient: Patient, booking: Booking, *, force: bool = False) -> Appointment:
    """Book an appointment or a series; refuses a clash with another unless ``force``."""
    zone(booking.tz)
    _check_times(booking.start, booking.end)
    if booking.status not in (AppointmentStatus.proposed.value, AppointmentStatus.booked.value):
        raise ValidationError(f"a new appointment is proposed or booked, not {booking.status}")
    if booking.reminder_minutes is not None and booking.reminder_minutes < 0:
        raise ValidationError("a reminder comes before the appointment: give a positive time")
    assert patient.id is not None
    appointment = Appointment(
        patient_id=patient.id,
        kind=booking.kind,
        status=booking.status,
        starts_at=_utc(booking.start),
        ends_at=_utc(booking.end),
        tz=booking.tz,
        rrule=booking.rrule,
        location=text.free_text(booking.location, "location"),
        with_whom=text.single_line(booking.with_whom, "'with'"),
        reminder_minutes=booking.reminder_minutes,
        notes=text.free_text(booking.notes, "notes"),
    )
    appointment.series_ends_at = _series_end(appointment)
    first_year = _original_starts(appointment, appointment.starts_at, appointment.starts_at + CONFLICT_HORIZON)
    if booking.rrule and not first_year:
        raise ValidationError("the series has no occurrence: check --until/--count and the rule against the start")
    if not force:
        check_clashes(session, _spans(appointment, appointment.starts_at, CONFLICT_HORIZON))
    session.add(appointment)
    session.flush()
    return appointment


def update_appointment(session: Session, appointment: Appointment, fields: Mapping[str, Any]) -> Appointment:
    """Change what, where, with whom, reminder, notes or status (times change with ``move``)."""
    for key, value in fields.items():
        if key not in EDITABLE_FIELDS:
            raise ValidationError(f"unknown appointment field: {key}")
        if key in ("location", "notes"):
            value = text.free_text(value, key)
        elif key == "with_whom":
            value = text.single_line(value, "'with'")
        elif key == "reminder_minutes" and value is not None and value < 0:
            raise ValidationError("a reminder comes before the appointment: give a positive time")
        setattr(appointment, key, value if value != "" else None)
    _touch(appointment)
    session.flush()
    return appointment


def find_occurrence(session: Session, appointment: Appointment, day: date) -> datetime:
    """The original start of the occurrence on ``day`` (in the appointment's zone), or an error."""
    tz = _zone_of(appointment)
    low, high = localize(day, time(0, 0), tz), localize(day + timedelta(days=1), time(0, 0), tz)
    originals = _original_starts(appointment, _utc(low), _utc(high))
    if not originals:
        exceptions = session.exec(
            select(AppointmentException).where(AppointmentException.appointment_id == appointment.id)
        ).all()
        originals = [e.original_start for e in exceptions if e.starts_at and low <= e.starts_at < high]
    if not originals:
        kind = "series" if appointment.rrule else "appointment"
        raise NotFoundError(f"{day} is not a date of the {kind} {describe(appointment)}")
    return originals[0]


def _exception(session: Session, appointment: Appointment, original: datetime) -> AppointmentException:
    existing = session.exec(
        select(AppointmentException).where(
            AppointmentException.appointment_id == appointment.id, AppointmentException.original_start == original
        )
    ).first()
    if existing is not None:
        return existing
    assert appointment.id is not None
    created = AppointmentException(
        appointment_id=appointment.id,
        patient_id=appointment.patient_id,
        original_start=original,
        status=appointment.status,
    )
    session.add(created)
    return created


def occurrence_of(session: Session, appointment: Appointment, original: datetime) -> Occurrence:
    """The occurrence that originally started at ``original``, its exception applied."""
    exceptions = _exceptions_of(session, [appointment.id]).get(appointment.id or 0, [])
    match = next((e for e in exceptions if e.original_start == original), None)
    return _occurrence(appointment, original, match)


def move(
    session: Session,
    appointment: Appointment,
    new_start: datetime,
    *,
    new_end: datetime | None = None,
    occurrence: date | None = None,
    force: bool = False,
    now: datetime | None = None,
) -> Occurrence | Appointment:
    """Move a one-off appointment, one occurrence of a series, or the whole series.

    For a whole series, ``new_start`` is where its next occurrence should be; every occurrence
    (and every exception) shifts by the same wall-clock difference.
    """
    if appointment.status in APPOINTMENT_FREE:
        raise ConflictError(f"appointment {describe(appointment)} is {appointment.status}; it cannot be moved")
    duration = (new_end - new_start) if new_end is not None else _duration(appointment)
    end = new_start + duration
    _check_times(new_start, end)
    if appointment.rrule and occurrence is not None:
        original = find_occurrence(session, appointment, occurrence)
        if not force:
            check_clashes(session, [(new_start, end)], ignore=appointment, ignore_original=original)
        exception = _exception(session, appointment, original)
        if exception.status in APPOINTMENT_FREE:
            raise ConflictError(f"the {occurrence} occurrence is {exception.status}; it cannot be moved")
        exception.starts_at, exception.ends_at = _utc(new_start), _utc(end)
        _touch(appointment)
        session.flush()
        return occurrence_of(session, appointment, original)
    if occurrence is not None:
        find_occurrence(session, appointment, occurrence)  # a one-off: the date must be its date
    if appointment.rrule:
        shift = _series_shift(appointment, new_start, now or datetime.now(UTC))
        appointment.starts_at = _utc(_shift_wall(appointment.starts_at, shift, appointment))
    else:
        appointment.starts_at = _utc(new_start)
    appointment.ends_at = appointment.starts_at + duration
    if appointment.rrule:
        for exception in exceptions_of(session, appointment):
            exception.original_start = _utc(_shift_wall(exception.original_start, shift, appointment))
    appointment.series_ends_at = _series_end(appointment)
    if not force:
        check_clashes(session, _spans(appointment, appointment.starts_at, CONFLICT_HORIZON), ignore=appointment)
    _touch(appointment)
    session.flush()
    return appointment


def _shift_wall(moment: datetime, shift: timedelta, appointment: Appointment) -> datetime:
    """``moment`` moved by ``shift`` of wall-clock time in the appointment's zone."""
    tz = _zone_of(appointment)
    local = moment.astimezone(tz).replace(tzinfo=None) + shift
    return localize(local.date(), local.time(), tz)


def _series_shift(appointment: Appointment, new_start: datetime, now: datetime) -> timedelta:
    """The wall-clock difference from the series' next occurrence to ``new_start``."""
    assert appointment.rrule is not None
    tz = _zone_of(appointment)
    upcoming = _original_starts(appointment, now, now + timedelta(days=3660))
    anchor = upcoming[0] if upcoming else appointment.starts_at
    shift = new_start.astimezone(tz).replace(tzinfo=None) - anchor.astimezone(tz).replace(tzinfo=None)
    if shift.days and fixed_weekdays(appointment.rrule):
        raise ValidationError(
            "this series repeats on fixed days; move one occurrence with --occurrence, or keep the day"
        )
    return shift


def set_outcome(
    session: Session,
    appointment: Appointment,
    status: str,
    *,
    occurrence: date | None = None,
    reason: str | None = None,
) -> Occurrence | Appointment:
    """Cancel, fulfil or mark missed: the whole appointment/series, or one occurrence of a series."""
    reason = text.single_line(reason, "reason")
    if appointment.status in (AppointmentStatus.cancelled.value, AppointmentStatus.entered_in_error.value):
        raise ConflictError(f"appointment {describe(appointment)} is already {appointment.status}")
    if appointment.rrule and occurrence is not None:
        original = find_occurrence(session, appointment, occurrence)
        exception = _exception(session, appointment, original)
        if exception.status == status:
            raise ConflictError(f"the {occurrence} occurrence is already {status}")
        exception.status, exception.status_reason = status, reason
        _touch(appointment)
        session.flush()
        return occurrence_of(session, appointment, original)
    if appointment.rrule and status != AppointmentStatus.cancelled.value:
        raise ValidationError(f"{describe(appointment)} is a series: say which one with --occurrence DATE")
    if occurrence is not None:
        find_occurrence(session, appointment, occurrence)
    if appointment.status == status:
        raise ConflictError(f"appointment {describe(appointment)} is already {status}")
    appointment.status, appointment.status_reason = status, reason
    _touch(appointment)
    session.flush()
    return appointment


def resolve(session: Session, ref: str) -> Appointment:
    """An appointment by its id."""
    cleaned = require_ref(ref, "appointment")
    appointment_id = as_id(cleaned)
    if appointment_id is None:
        raise ValidationError(f"give the appointment's id (see 'carecoord appt list'), not '{cleaned}'")
    found = session.exec(select(Appointment).where(Appointment.id == appointment_id)).all()
    return pick_one(cleaned, "appointment", found, describe)


def first_occurrence(appointment: Appointment) -> Occurrence:
    """The series' first sitting (or the one-off itself), ignoring exceptions."""
    return _occurrence(appointment, appointment.starts_at, None)


def patient_of(session: Session, appointment: Appointment) -> Patient:
    """The appointment's patient."""
    patient = session.get(Patient, appointment.patient_id)
    assert patient is not None
    return patient


def exceptions_of(session: Session, appointment: Appointment) -> list[AppointmentException]:
    """The appointment's per-occurrence exceptions, by original start."""
    found = _exceptions_of(session, [appointment.id]).get(appointment.id or 0, [])
    return sorted(found, key=lambda e: e.original_start)
