"""Appointments: booking, series with per-occurrence exceptions, conflicts, moves and outcomes.

Times are stored as UTC plus the IANA zone the appointment was booked in; a series is expanded in
that zone, so a weekly 10:00 visit stays at 10:00 local time across daylight-saving changes. An
occurrence is identified by its original start (the iCalendar RECURRENCE-ID).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import and_, not_, or_, union_all
from sqlmodel import Session, col, func, select

from carecoord.dates import day_start, local_zone, localize, zone
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.fields import APPOINTMENT, EDITABLE_APPOINTMENT_STATUSES
from carecoord.models import Appointment, AppointmentException, Patient
from carecoord.recurrence import (
    count_of,
    first_moment,
    fixed_weekdays,
    last_moment,
    moments_between,
    shift_until,
    without_end,
)
from carecoord.services import snapshots, text
from carecoord.services.lookup import as_id, id_batches, pick_one, require_ref
from carecoord.services.team import of_coordinator
from carecoord.vocab import (
    APPOINTMENT_FREE,
    APPOINTMENT_TYPE_LABELS,
    ATTENDED_APPOINTMENT_TYPES,
    NEW_APPOINTMENT_STATUSES,
    AppointmentStatus,
)

# Conflicts are checked over the first year of a series that has no end.
CONFLICT_HORIZON = timedelta(days=366)
# The longest a single sitting may last (elapsed time); it bounds the start of a one-off that
# overlaps a window. The check once compared wall-clock times, so a sitting stored then across a DST
# change may run up to two hours longer: the window search allows for that.
LONGEST_SITTING = timedelta(hours=24)
WINDOW_SLACK = LONGEST_SITTING + timedelta(hours=2)


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
    coordinator: str | None = None  # only appointments of this coordinator's patients


def _in_window(wanted: AppointmentFilter) -> Any:
    """The appointments (and series) whose span overlaps the window, or with an occurrence moved
    into it: a subquery of the Appointment columns (as :func:`snapshots.columns` lists them).

    Three index searches (see migration 0006), one branch each of a UNION ALL: one-offs by a start
    range no wider than the window plus the longest sitting, series by the partial index on their
    first start, and those with a sitting moved in by its new start (less the ones the first two
    found, so each appointment comes once). A plain ``starts_at < high AND series_ends_at > low`` is
    a two-sided range that no index serves and scans half the table; the three ORed in one WHERE
    made PostgreSQL read the whole ``starts_at`` index for a day's window.
    """
    low, high = _utc(wanted.start), _utc(wanted.end)
    one_off = and_(
        col(Appointment.rrule).is_(None),
        col(Appointment.starts_at) > low - WINDOW_SLACK,
        col(Appointment.starts_at) < high,
        col(Appointment.ends_at) > low,
    )
    series = and_(
        col(Appointment.rrule).is_not(None),
        col(Appointment.starts_at) < high,
        or_(col(Appointment.series_ends_at).is_(None), col(Appointment.series_ends_at) > low),
    )
    moved_in = col(Appointment.id).in_(
        select(AppointmentException.appointment_id).where(
            col(AppointmentException.starts_at) < high, col(AppointmentException.ends_at) > low
        )
    )
    narrowed = []
    if wanted.patient_id is not None:
        narrowed.append(col(Appointment.patient_id) == wanted.patient_id)
    if wanted.kind is not None:
        narrowed.append(col(Appointment.kind) == wanted.kind)
    if wanted.coordinator is not None:
        narrowed.append(of_coordinator(Appointment.patient_id, wanted.coordinator))
    branches = (one_off, series, and_(moved_in, not_(one_off), not_(series)))  # never NULL: see the columns
    selects = (snapshots.query(Appointment).where(branch, *narrowed) for branch in branches)
    return union_all(*selects).subquery("in_window")


def occurrences(session: Session, wanted: AppointmentFilter) -> list[tuple[Occurrence, Patient]]:
    """All occurrences in the window, by start, with their patients: a few queries however many.

    Patients are loaded only for the sittings found: most series alive in a short window have no
    sitting in it. Appointments and patients are read-only snapshots (services/snapshots.py).
    """
    low, high = _utc(wanted.start), _utc(wanted.end)
    window = _in_window(wanted)
    appointments = [snapshots.snapshot(Appointment, row) for row in session.exec(cast(Any, select)(*window.c))]
    exceptions = _exceptions_of(session, [appointment.id for appointment in appointments if appointment.rrule])
    sittings = [
        sitting
        for appointment in appointments
        for sitting in expand(appointment, exceptions.get(appointment.id or 0, []), low, high)
        if wanted.status is None or sitting.status == wanted.status
    ]
    patients = _patients_by_id(session, [sitting.appointment.patient_id for sitting in sittings])
    sittings.sort(key=lambda sitting: (sitting.start, sitting.appointment.id))
    return [(sitting, patients[sitting.appointment.patient_id]) for sitting in sittings]


def _patients_by_id(session: Session, ids: Iterable[int]) -> dict[int, Patient]:
    found: dict[int, Patient] = {}
    query = snapshots.query(Patient)
    for batch in id_batches(ids):
        for row in session.exec(query.where(col(Patient.id).in_(batch))):
            patient = snapshots.snapshot(Patient, row)
            found[patient.id or 0] = patient
    return found


def _exceptions_of(session: Session, ids: Iterable[int | None]) -> dict[int, list[AppointmentException]]:
    grouped: dict[int, list[AppointmentException]] = defaultdict(list)
    for batch in id_batches(ids):
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


def attended_by_default(kind: str) -> bool:
    """Whether the coordinator attends an appointment of this type unless told otherwise."""
    return kind in ATTENDED_APPOINTMENT_TYPES


def can_clash(one: Appointment, other: Appointment) -> bool:
    """Whether two appointments compete for someone's time if they overlap.

    Only appointments the coordinator attends take the coordinator's time, so they clash with each
    other; a patient's own appointments (a specialist visit, an office visit) clash only with that
    patient's other appointments. Two patients' specialist visits at the same hour both stand.
    """
    return one.patient_id == other.patient_id or (one.attending and other.attending)


def check_clashes(
    session: Session,
    subject: Appointment,
    spans: Sequence[tuple[datetime, datetime]],
    *,
    ignore_original: datetime | None = None,
) -> None:
    """Refuse spans of ``subject`` (new or changed) that overlap an occupied occurrence of another
    appointment it can clash with (:func:`can_clash`), naming the first clash. ``subject``'s own
    occurrences are left out when it is stored, or only the one at ``ignore_original`` if given."""
    if not spans:
        return
    low, high = min(s for s, _ in spans), max(e for _, e in spans)
    # Not attended: only the patient's own appointments can clash, and one patient's are few.
    # Attended: the coordinator's, that is the patient's coordinator's (a supervisor sees everyone's).
    owner = session.get(Patient, subject.patient_id)
    wanted = AppointmentFilter(
        low, high, patient_id=None if subject.attending else subject.patient_id,
        coordinator=owner.coordinator if subject.attending and owner is not None else None,
    )  # fmt: skip
    taken = [
        (sitting, patient)
        for sitting, patient in occurrences(session, wanted)
        if sitting.blocks_time and can_clash(subject, sitting.appointment)
        and not (subject.id is not None and sitting.appointment.id == subject.id
                 and (ignore_original is None or sitting.original_start == ignore_original))
    ]  # fmt: skip
    for start, end in sorted(spans):
        for sitting, patient in taken:
            if sitting.start < end and sitting.end > start:
                # why, by the rule of can_clash: a patient's own appointments first, then yours
                why = (f"{patient.name} cannot be at both" if sitting.appointment.patient_id == subject.patient_id
                       else "you attend both")  # fmt: skip
                raise ConflictError(
                    f"clashes with appointment #{sitting.appointment.id} ({label(sitting.appointment)}, "
                    f"{patient.name}) on {sitting.start:%Y-%m-%d %H:%M}-{sitting.end:%H:%M}: {why}; "
                    "add --force to keep both"
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


def series_end(appointment: Appointment) -> datetime | None:
    """When the appointment's last occurrence ends (a one-off's end); None for an open-ended series."""
    return _series_end(appointment)


def _check_times(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationError(f"the appointment ends ({end:%Y-%m-%d %H:%M}) before it starts ({start:%Y-%m-%d %H:%M})")
    if _utc(end) - _utc(start) > LONGEST_SITTING:  # elapsed: aware times in one zone subtract wall clocks
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
    attending: bool | None = None  # None: as the type has it (attended_by_default)
    authorization_id: int | None = None  # the prior authorization it uses (checked: authorizations.link)


def booking_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Booking`` values of the settable fields of ``fields.APPOINTMENT`` a person gave (its
    type, where, with whom, whether attended, reminder, notes), checked."""
    values = text.clean_fields(APPOINTMENT, fields)
    return {APPOINTMENT[key].source: value for key, value in values.items() if value is not None}


def add_appointment(session: Session, patient: Patient, booking: Booking, *, force: bool = False) -> Appointment:
    """Book an appointment or a series; refuses a clash with another unless ``force``."""
    zone(booking.tz)
    _check_times(booking.start, booking.end)
    if booking.status not in NEW_APPOINTMENT_STATUSES:
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
        attending=attended_by_default(booking.kind) if booking.attending is None else booking.attending,
        reminder_minutes=booking.reminder_minutes,
        notes=text.free_text(booking.notes, "notes"),
    )
    appointment.series_ends_at = _series_end(appointment)
    if booking.rrule:
        local_start = booking.start.astimezone(_zone_of(appointment))
        first = first_moment(booking.rrule, local_start)
        if first is None:
            raise ValidationError("the series has no occurrence: check --until/--count and the rule against the start")
        if _utc(first) != appointment.starts_at and first.replace(tzinfo=None) == local_start.replace(tzinfo=None):
            raise ValidationError(
                f"{local_start:%H:%M} comes twice on {local_start:%a %Y-%m-%d} as the clocks go back, and a series "
                f"keeps the first ({first:%H:%M %Z}), as calendar apps do: start it then or at another time"
            )
        if _utc(first) != appointment.starts_at:
            raise ValidationError(
                f"{local_start:%a %Y-%m-%d} is not a day of this series (first: {first:%a %Y-%m-%d}); "
                "start it on its first day, as calendar apps count the start as an occurrence"
            )
    if not force:
        check_clashes(session, appointment, _spans(appointment, appointment.starts_at, CONFLICT_HORIZON))
    session.add(appointment)
    session.flush()
    if booking.authorization_id is not None:
        from carecoord.services import authorizations

        authorization = authorizations.resolve(session, str(booking.authorization_id))
        authorizations.link(session, appointment, authorization, force=force)
    return appointment


OUTCOMES = frozenset({AppointmentStatus.fulfilled.value, AppointmentStatus.noshow.value})
SERIES_SEARCH = timedelta(days=3660)  # how far ahead to look for a series' next occurrence


def _refuse_if_closed(appointment: Appointment) -> None:
    if appointment.status in (AppointmentStatus.cancelled.value, AppointmentStatus.entered_in_error.value):
        raise ConflictError(f"appointment {describe(appointment)} is {appointment.status}; book a new one instead")


def update_appointment(
    session: Session, appointment: Appointment, fields: Mapping[str, Any], *, force: bool = False
) -> Appointment:
    """Change what, where, with whom, whether attended, reminder, notes or a pre-visit status (times
    change with ``move``).

    A new type brings its default for ``attending`` unless that was overridden (or is given too). An
    appointment that becomes attended is checked for clashes from now on, unless ``force``.
    """
    _refuse_if_closed(appointment)
    was_attending = appointment.attending
    if str(fields.get("status", "")).strip().lower() in (*OUTCOMES, AppointmentStatus.cancelled.value):
        raise ValidationError(
            f"--status sets one of {', '.join(EDITABLE_APPOINTMENT_STATUSES)}; "
            "use 'appt done', 'appt noshow' or 'appt cancel' for outcomes"
        )
    values = text.clean_fields(APPOINTMENT, fields)
    if "type" in values and "attending" not in values and was_attending == attended_by_default(appointment.kind):
        values["attending"] = attended_by_default(values["type"])
    for key, value in values.items():
        if key == "reminder_minutes" and value is not None and value < 0:
            raise ValidationError("a reminder comes before the appointment: give a positive time")
        setattr(appointment, APPOINTMENT[key].source, value)
    if appointment.attending and not was_attending and not force:
        check_clashes(session, appointment, _spans_to_come(session, appointment, CONFLICT_HORIZON))
    _touch(appointment)
    session.flush()
    _sync_followups(session, appointment)
    return appointment


def _spans_to_come(session: Session, appointment: Appointment, horizon: timedelta) -> list[tuple[datetime, datetime]]:
    """Where a stored appointment's occurrences still to come sit (moves applied, cancelled ones left
    out), up to ``horizon`` for an open-ended series."""
    low = datetime.now(UTC)
    high = appointment.series_ends_at or (low + horizon)
    if high <= low:
        return []
    sittings = expand(appointment, exceptions_of(session, appointment), low, high)
    return [(sitting.start, sitting.end) for sitting in sittings if sitting.blocks_time]


def find_occurrence(session: Session, appointment: Appointment, day: date) -> Occurrence:
    """The occurrence taking place on ``day`` (in the user's zone, as 'appt list' shows it), else
    the one originally due that day; an error if the day is not one of the appointment's."""
    zone = local_zone()
    low, high = day_start(day, zone), day_start(day + timedelta(days=1), zone)
    sittings = expand(appointment, exceptions_of(session, appointment), low, high)
    happening = [o for o in sittings if low <= o.start < high]
    if happening:
        return happening[0]
    originals = [o for o in _original_starts(appointment, low, high) if low <= o < high]
    if originals:
        return occurrence_of(session, appointment, originals[0])
    kind = "series" if appointment.rrule else "appointment"
    raise NotFoundError(f"{day} is not a date of the {kind} {describe(appointment)}")


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
    match = next((e for e in exceptions_of(session, appointment) if e.original_start == original), None)
    return _occurrence(appointment, original, match)


def split_series(session: Session, appointment: Appointment, at: datetime) -> Appointment | None:
    """The series from its first occurrence at or after ``at`` on, as an appointment of its own.

    The earlier part keeps its id, its past occurrences and their outcomes, and now ends before
    ``at``: changing "the whole series" never rewrites what already happened. Returns the series
    itself when it has not started yet, and None when it has no occurrence left.
    """
    assert appointment.rrule is not None
    if appointment.starts_at >= at:
        return appointment
    upcoming = [o for o in _original_starts(appointment, at, at + SERIES_SEARCH) if o >= at]
    if not upcoming:
        return None
    following = upcoming[0]
    rule = appointment.rrule
    remaining = count_of(rule)
    if remaining is not None:
        local_start = appointment.starts_at.astimezone(_zone_of(appointment))
        before = moments_between(rule, local_start, local_start, following.astimezone(local_start.tzinfo))
        remaining -= len([m for m in before if _utc(m) < following])
    future = Appointment(
        patient_id=appointment.patient_id, kind=appointment.kind, status=appointment.status,
        starts_at=following, ends_at=following + _duration(appointment), tz=appointment.tz,
        rrule=f"{without_end(rule)};COUNT={remaining}" if remaining is not None else rule,
        location=appointment.location, with_whom=appointment.with_whom, attending=appointment.attending,
        reminder_minutes=appointment.reminder_minutes, status_reason=appointment.status_reason,
        notes=appointment.notes, authorization_id=appointment.authorization_id,
    )  # fmt: skip
    future.series_ends_at = _series_end(future)
    appointment.rrule = f"{without_end(rule)};UNTIL={following - timedelta(seconds=1):%Y%m%dT%H%M%SZ}"
    appointment.series_ends_at = _series_end(appointment)
    _touch(appointment)
    session.add(future)
    session.flush()
    for exception in exceptions_of(session, appointment):
        if exception.original_start >= following:
            assert future.id is not None
            exception.appointment_id = future.id
    session.flush()
    return future


def move(
    session: Session,
    appointment: Appointment,
    new_start: datetime,
    *,
    new_end: datetime | None = None,
    occurrence: date | None = None,
    force: bool = False,
) -> Occurrence | Appointment:
    """Move a one-off appointment, one occurrence of a series, or the rest of a series.

    For a series without ``occurrence``, ``new_start`` is where its next occurrence goes; that one
    and every later one shift alike, and past occurrences stay where they were.
    """
    _refuse_if_closed(appointment)
    duration = (new_end - new_start) if new_end is not None else _duration(appointment)
    end = new_start + duration
    _check_times(new_start, end)
    if appointment.rrule and occurrence is not None:
        sitting = find_occurrence(session, appointment, occurrence)
        if sitting.status in APPOINTMENT_FREE or sitting.status in OUTCOMES:
            raise ConflictError(f"the {occurrence} occurrence is {sitting.status}; it cannot be moved")
        if not force:
            check_clashes(session, appointment, [(new_start, end)], ignore_original=sitting.original_start)
        exception = _exception(session, appointment, sitting.original_start)
        exception.starts_at, exception.ends_at = _utc(new_start), _utc(end)
        _touch(appointment)
        session.flush()
        return occurrence_of(session, appointment, sitting.original_start)
    if occurrence is not None:
        find_occurrence(session, appointment, occurrence)  # a one-off: the date must be its date
    if not appointment.rrule:
        appointment.starts_at, appointment.ends_at = _utc(new_start), _utc(end)
        appointment.series_ends_at = appointment.ends_at
        if not force:
            check_clashes(session, appointment, [(appointment.starts_at, appointment.ends_at)])
        _touch(appointment)
        session.flush()
        _sync_followups(session, appointment)  # a visit already fulfilled may move in or out of a period
        return appointment
    series = split_series(session, appointment, datetime.now(UTC))
    if series is None:
        raise ConflictError(f"the series {describe(appointment)} has no occurrence left to move")
    shift = _wall(new_start, series) - _wall(series.starts_at, series)
    assert series.rrule is not None
    if shift.days and fixed_weekdays(series.rrule):
        raise ValidationError(
            "this series repeats on fixed days; move one occurrence with --occurrence, or keep the day"
        )
    old_start = series.starts_at.astimezone(_zone_of(series))
    series.starts_at = _utc(_shift_wall(series.starts_at, shift, series))
    series.ends_at = series.starts_at + duration
    series.rrule = shift_until(series.rrule, old_start, shift)
    for exception in exceptions_of(session, series):
        exception.original_start = _utc(_shift_wall(exception.original_start, shift, series))
    series.series_ends_at = _series_end(series)
    if not force:
        check_clashes(session, series, _spans(series, series.starts_at, CONFLICT_HORIZON))
    _touch(series)
    session.flush()
    return series


def _wall(moment: datetime, appointment: Appointment) -> datetime:
    """``moment`` as a naive wall-clock time in the appointment's zone."""
    return moment.astimezone(_zone_of(appointment)).replace(tzinfo=None)


def _shift_wall(moment: datetime, shift: timedelta, appointment: Appointment) -> datetime:
    """``moment`` moved by ``shift`` of wall-clock time in the appointment's zone."""
    local = _wall(moment, appointment) + shift
    return localize(local.date(), local.time(), _zone_of(appointment))


def _check_outcome(sitting: Occurrence, status: str, what: str) -> None:
    """Outcomes follow the visit: no 'done' before it happened, no cancelling what took place."""
    if sitting.status in (AppointmentStatus.cancelled.value, AppointmentStatus.entered_in_error.value):
        raise ConflictError(f"{what} is {sitting.status}")
    if status in OUTCOMES and sitting.start > datetime.now(UTC):
        raise ConflictError(f"{what} has not happened yet ({sitting.start:%Y-%m-%d %H:%M})")
    if status == AppointmentStatus.cancelled.value and sitting.status in OUTCOMES:
        raise ConflictError(f"{what} is already {sitting.status}: it cannot be cancelled")
    if sitting.status == status:
        raise ConflictError(f"{what} is already {status}")


def set_outcome(
    session: Session,
    appointment: Appointment,
    status: str,
    *,
    occurrence: date | None = None,
    reason: str | None = None,
) -> Occurrence | Appointment:
    """Fulfilled, no-show or cancelled: a one-off, one occurrence of a series, or (cancelling only)
    the rest of a series; past occurrences keep what happened."""
    reason = text.single_line(reason, "reason")
    _refuse_if_closed(appointment)
    if appointment.rrule and occurrence is not None:
        sitting = find_occurrence(session, appointment, occurrence)
        _check_outcome(sitting, status, f"the {occurrence} occurrence")
        exception = _exception(session, appointment, sitting.original_start)
        exception.status, exception.status_reason = status, reason
        _touch(appointment)
        session.flush()
        _sync_followups(session, appointment)
        return occurrence_of(session, appointment, sitting.original_start)
    if appointment.rrule:
        if status != AppointmentStatus.cancelled.value:
            raise ValidationError(f"{describe(appointment)} is a series: say which one with --occurrence DATE")
        series = split_series(session, appointment, datetime.now(UTC))
        if series is None:
            raise ConflictError(f"the series {describe(appointment)} has no occurrence left to cancel")
        series.status, series.status_reason = status, reason
        _touch(series)
        session.flush()
        _sync_followups(session, series)
        return series
    if occurrence is not None:
        find_occurrence(session, appointment, occurrence)
    _check_outcome(first_occurrence(appointment), status, f"appointment {describe(appointment)}")
    appointment.status, appointment.status_reason = status, reason
    _touch(appointment)
    session.flush()
    _sync_followups(session, appointment)
    return appointment


def _sync_followups(session: Session, appointment: Appointment) -> None:
    """A fulfilled visit meets transition-of-care follow-ups; one that no longer is (or moved) may
    reopen them: the rule is in services/transitions.py."""
    from carecoord.services.transitions import sync_followups  # it reads appointments: imported late

    sync_followups(session, appointment.patient_id)
    _sync_units(session, appointment)


def _sync_units(session: Session, appointment: Appointment) -> None:
    """A linked appointment uses one unit of its authorization per sitting done: the rule is in
    services/authorizations.py; what it did is told by ``authorizations.effects``."""
    if appointment.authorization_id is None and appointment.id is not None:
        from carecoord.models import AuthorizationUse

        if (
            session.exec(select(AuthorizationUse.id).where(AuthorizationUse.appointment_id == appointment.id)).first()
            is None
        ):
            return  # not linked and never was: nothing to bring in line
    from carecoord.services.authorizations import sync_appointment

    sync_appointment(session, appointment)


def resolve(session: Session, ref: str) -> Appointment:
    """An appointment by its id."""
    cleaned = require_ref(ref, "appointment")
    appointment_id = as_id(cleaned)
    if appointment_id is None:
        raise ValidationError(f"give the appointment's id (see 'carecoord appt list'), not '{cleaned}'")
    found = session.exec(select(Appointment).where(Appointment.id == appointment_id)).all()
    return pick_one(cleaned, "appointment", found, describe)


def spanning(
    session: Session, wanted: AppointmentFilter, *, batch: int = 1000
) -> Iterator[tuple[Appointment, str, list[AppointmentException]]]:
    """Appointments and series whose span overlaps the window (read-only snapshots), by first
    start, with their patient's name and their exceptions; streamed in batches, so memory stays
    flat however many there are."""
    window = _in_window(wanted)
    query = (
        cast(Any, select)(*window.c, Patient.name)
        .join(Patient, col(Patient.id) == window.c.patient_id)
        .order_by(window.c.starts_at, window.c.uid)
    )
    result = session.exec(query.execution_options(yield_per=batch))
    for part in result.partitions(batch):
        found = [(snapshots.snapshot(Appointment, row[:-1]), row[-1]) for row in part]
        exceptions = exceptions_for(session, [appointment for appointment, _ in found])
        for appointment, name in found:
            yield appointment, name, exceptions.get(appointment.id or 0, [])


def zones_and_years(session: Session, wanted: AppointmentFilter) -> tuple[list[str], list[int]]:
    """The time zones, and the first and last years, of the appointments in the window."""
    window = _in_window(wanted)
    per_zone = session.exec(
        select(window.c.tz, func.min(window.c.starts_at), func.max(window.c.series_ends_at)).group_by(window.c.tz)
    ).all()
    firsts = [first for _, first, _ in per_zone if first is not None]
    lasts = [last for _, _, last in per_zone if last is not None]
    years = [moment.year for moment in (min(firsts, default=None), max(lasts, default=None)) if moment is not None]
    return sorted(tz for tz, _, _ in per_zone), years


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
    return exceptions_for(session, [appointment]).get(appointment.id or 0, [])


def exceptions_for(session: Session, appointments: Iterable[Appointment]) -> dict[int, list[AppointmentException]]:
    """Exceptions of many appointments in a few queries, each list by original start."""
    grouped = _exceptions_of(session, [a.id for a in appointments if a.rrule])
    return {key: sorted(found, key=lambda e: e.original_start) for key, found in grouped.items()}
