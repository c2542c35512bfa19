"""Appointments and tasks as an RFC 5545 calendar. No CLI, no database.

The content lines are written directly (escaped, folded at 75 octets, CRLF), one component at a
time, so a year of an agency's appointments is a few seconds and a few megabytes; VTIMEZONE
definitions are built from the system's zoneinfo, one part per offset change. The same data always gives the same bytes:
components are sorted, DTSTAMP is the record's last change (never "now"), and time zones come
in name order. Cancelled appointments and cancelled occurrences stay in the file with
STATUS:CANCELLED, so subscribers see them go.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from carecoord import __version__
from carecoord.models import Appointment, AppointmentException, Task
from carecoord.recurrence import normalise_until
from carecoord.vocab import APPOINTMENT_TYPE_LABELS, PRIORITY_RANK

PRODID = f"-//carecoord//carecoord {__version__}//EN"
UID_DOMAIN = "carecoord"
LINE_OCTETS = 75

# FHIR appointment status -> iCalendar VEVENT STATUS
EVENT_STATUS = {
    "proposed": "TENTATIVE", "pending": "TENTATIVE", "waitlist": "TENTATIVE",
    "booked": "CONFIRMED", "arrived": "CONFIRMED", "checked-in": "CONFIRMED", "fulfilled": "CONFIRMED",
    "noshow": "CONFIRMED", "cancelled": "CANCELLED", "entered-in-error": "CANCELLED",
}  # fmt: skip
# FHIR task status -> VTODO STATUS
TODO_STATUS = {"requested": "NEEDS-ACTION", "in-progress": "IN-PROCESS", "on-hold": "NEEDS-ACTION",
               "completed": "COMPLETED", "cancelled": "CANCELLED"}  # fmt: skip
# FHIR priority -> iCalendar PRIORITY (1 highest, 9 lowest)
TODO_PRIORITY = {"stat": 1, "asap": 3, "urgent": 5, "routine": 9}
assert set(TODO_PRIORITY) == set(PRIORITY_RANK)


@dataclass(frozen=True)
class AppointmentEntry:
    """An appointment with what its calendar entry needs."""

    appointment: Appointment
    patient_name: str
    exceptions: Sequence[AppointmentException] = field(default_factory=tuple)


@dataclass(frozen=True)
class TaskEntry:
    """A task with its patient's name (None for a task about no one)."""

    task: Task
    patient_name: str | None


def initials(name: str) -> str:
    """``Jane Q. Doe`` -> ``J.Q.D.``: enough for the coordinator, nothing for anyone else."""
    letters = [word[0].upper() for word in name.replace(",", " ").split() if word[0].isalpha()]
    return "".join(f"{letter}." for letter in letters) or "?"


# --- content lines (RFC 5545 section 3.1) ------------------------------------------------------


def text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newline escaped."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")
    )


def fold(line: str) -> bytes:
    """One content line as UTF-8, folded so that no line is longer than 75 octets."""
    raw = line.encode("utf-8")
    if len(raw) <= LINE_OCTETS:
        return raw + b"\r\n"
    parts, start, limit = [], 0, LINE_OCTETS
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(raw[start:end])
        start, limit = end, LINE_OCTETS - 1  # continuation lines begin with a space
    return b"\r\n ".join(parts) + b"\r\n"


def _wall(moment: datetime) -> str:
    """``20261125T100000``: a DATE-TIME's digits (what strftime's %Y%m%dT%H%M%S writes, several
    times faster: a month's export at agency size writes some 30,000 of them)."""
    fields = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    return "%04d%02d%02dT%02d%02d%02d" % fields  # noqa: UP031 (the fastest way)


def _utc(moment: datetime) -> str:
    return _wall(moment.astimezone(UTC)) + "Z"


def _zoned(name: str, moment: datetime, tz: ZoneInfo) -> str:
    return f"{name};TZID={tz.key}:{_wall(moment.astimezone(tz))}"


def _duration(minutes: int) -> str:
    return f"-PT{minutes}M"


# --- components ---------------------------------------------------------------------------------


def _label(appointment: Appointment) -> str:
    return APPOINTMENT_TYPE_LABELS.get(appointment.kind, appointment.kind)


def _describe(appointment: Appointment, status: str, reason: str | None) -> str:
    lines = [f"With: {appointment.with_whom}"] if appointment.with_whom else []
    if status in ("cancelled", "noshow") and reason:
        lines.append(f"{'Cancelled' if status == 'cancelled' else 'No-show'}: {reason}")
    if appointment.notes:
        lines.append(appointment.notes)
    return "\n".join(lines)


def _event_lines(
    entry: AppointmentEntry, *, redact: bool, status: str, reason: str | None, stamp: datetime, timing: list[str]
) -> list[str]:
    """A VEVENT: the properties a master and its overrides share, around ``timing``."""
    appointment = entry.appointment
    who = initials(entry.patient_name) if redact else entry.patient_name
    summary = f"{_label(appointment)}: {who}"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{text(appointment.uid)}@{UID_DOMAIN}",
        f"DTSTAMP:{_utc(stamp)}",
        *timing,
        f"SUMMARY:{text(summary)}",
        f"STATUS:{EVENT_STATUS.get(status, 'CONFIRMED')}",
        f"SEQUENCE:{appointment.sequence}",
        f"CATEGORIES:{text(appointment.kind)}",
    ]
    if not redact:
        if appointment.location:
            lines.append(f"LOCATION:{text(appointment.location)}")
        description = _describe(appointment, status, reason)
        if description:
            lines.append(f"DESCRIPTION:{text(description)}")
    if appointment.reminder_minutes and status not in ("cancelled", "entered-in-error"):
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{text(summary)}",
                  f"TRIGGER:{_duration(appointment.reminder_minutes)}", "END:VALARM"]  # fmt: skip
    lines.append("END:VEVENT")
    return lines


def appointment_lines(entry: AppointmentEntry, *, redact: bool = False) -> list[str]:
    """The master VEVENT (with RRULE and EXDATE for a series) and one override per changed occurrence."""
    appointment = entry.appointment
    tz = ZoneInfo(appointment.tz)
    duration = appointment.ends_at - appointment.starts_at
    timing = [
        _zoned("DTSTART", appointment.starts_at, tz),
        _zoned("DTEND", appointment.ends_at, tz),
        f"CREATED:{_utc(appointment.created_at)}",
        f"LAST-MODIFIED:{_utc(appointment.updated_at)}",
    ]
    if appointment.rrule:
        timing.append(f"RRULE:{normalise_until(appointment.rrule, tz)}")
        removed = sorted(e.original_start for e in entry.exceptions if e.status == "entered-in-error")
        if removed:
            timing.append(f"EXDATE;TZID={tz.key}:" + ",".join(f"{m.astimezone(tz):%Y%m%dT%H%M%S}" for m in removed))
    lines = _event_lines(entry, redact=redact, status=appointment.status, reason=appointment.status_reason,
                         stamp=appointment.updated_at, timing=timing)  # fmt: skip
    if not appointment.rrule:
        return lines
    for exception in sorted(entry.exceptions, key=lambda e: e.original_start):
        if exception.status == "entered-in-error":
            continue
        status = appointment.status if appointment.status == "cancelled" else exception.status
        start = exception.starts_at or exception.original_start
        end = exception.ends_at or start + duration
        override_timing = [_zoned("RECURRENCE-ID", exception.original_start, tz), _zoned("DTSTART", start, tz),
                           _zoned("DTEND", end, tz)]  # fmt: skip
        stamp = max(exception.updated_at, appointment.updated_at)
        lines += _event_lines(entry, redact=redact, status=status, reason=exception.status_reason, stamp=stamp,
                              timing=override_timing)  # fmt: skip
    return lines


def task_lines(entry: TaskEntry, zone: tzinfo, *, redact: bool = False) -> list[str]:
    """A VTODO for a task: due date (or date and time in the user's zone), status, priority."""
    task = entry.task
    lines = ["BEGIN:VTODO", f"UID:{text(task.uid)}@{UID_DOMAIN}", f"DTSTAMP:{_utc(task.updated_at)}"]
    if redact:
        lines.append("SUMMARY:" + (f"Task: {initials(entry.patient_name)}" if entry.patient_name else "Task"))
    else:
        lines.append("SUMMARY:" + text(task.title + (f" ({entry.patient_name})" if entry.patient_name else "")))
        if task.notes:
            lines.append(f"DESCRIPTION:{text(task.notes)}")
    if task.due_on is not None:
        if task.due_time is None:
            lines.append(f"DUE;VALUE=DATE:{task.due_on:%Y%m%d}")
        else:
            due = datetime.combine(task.due_on, task.due_time, tzinfo=zone)
            key = getattr(zone, "key", None)
            lines.append(f"DUE;TZID={key}:{due:%Y%m%dT%H%M%S}" if key else f"DUE:{_utc(due)}")
    lines.append(f"STATUS:{TODO_STATUS.get(task.status, 'NEEDS-ACTION')}")
    lines.append(f"PRIORITY:{TODO_PRIORITY.get(task.priority, 9)}")
    if task.completed_at is not None:
        lines.append(f"COMPLETED:{_utc(task.completed_at)}")
    lines += [f"LAST-MODIFIED:{_utc(task.updated_at)}", "END:VTODO"]
    return lines


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _transitions(tz: ZoneInfo, first: datetime, last: datetime) -> Iterator[datetime]:
    """The UTC moments between ``first`` and ``last`` at which ``tz`` changes its offset."""
    step = timedelta(days=1)
    moment = first
    while moment < last:
        following = moment + step
        if moment.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = moment, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset():
                    low = middle
                else:
                    high = middle
            yield high.replace(second=0, microsecond=0)
        moment = following


def timezone_block(tzid: str, years: Sequence[int]) -> bytes:
    """The VTIMEZONE for ``tzid``: its offset at the start of the data's first year, then every
    change up to two years after the last, one STANDARD or DAYLIGHT part each (from zoneinfo)."""
    tz = ZoneInfo(tzid)
    first_year = (min(years) - 1) if years else 1970
    last_year = (max(years) + 2) if years else 2038
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year, 1, 1, tzinfo=UTC)

    def part(moment: datetime, before: timedelta | None) -> list[str]:
        local = moment.astimezone(tz)
        kind = "DAYLIGHT" if local.dst() else "STANDARD"
        wall = (moment + (before if before is not None else local.utcoffset() or timedelta(0))).replace(tzinfo=None)
        return [f"BEGIN:{kind}", f"DTSTART:{wall:%Y%m%dT%H%M%S}",
                f"TZOFFSETFROM:{_offset(before if before is not None else local.utcoffset())}",
                f"TZOFFSETTO:{_offset(local.utcoffset())}", f"TZNAME:{text(local.tzname() or tzid)}",
                f"END:{kind}"]  # fmt: skip

    lines = ["BEGIN:VTIMEZONE", f"TZID:{text(tzid)}", *part(start, None)]
    for change in _transitions(tz, start, end):
        lines += part(change, (change - timedelta(minutes=1)).astimezone(tz).utcoffset())
    lines.append("END:VTIMEZONE")
    return b"".join(fold(line) for line in lines)


def calendar_chunks(
    appointments: Iterable[AppointmentEntry],
    tasks: Sequence[TaskEntry] = (),
    *,
    zone: tzinfo,
    zones: Iterable[str],
    years: Sequence[int],
    name: str = "carecoord",
    redact: bool = False,
) -> Iterator[bytes]:
    """The calendar, piece by piece: ``appointments`` in (start, uid) order may be a stream;
    ``zones`` are their time zones and ``years`` the years they span (for the VTIMEZONEs)."""
    task_zone = {str(zone.key)} if tasks and getattr(zone, "key", None) else set()  # type: ignore[attr-defined]
    header = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
              f"X-WR-CALNAME:{text(name)}"]  # fmt: skip
    yield b"".join(fold(line) for line in header)
    for tzid in sorted(set(zones) | task_zone):
        yield timezone_block(tzid, years)
    for entry in appointments:
        yield b"".join(fold(line) for line in appointment_lines(entry, redact=redact))
    for task_entry in sorted(tasks, key=lambda e: (e.task.due_on or date.max, e.task.id or 0)):
        yield b"".join(fold(line) for line in task_lines(task_entry, zone, redact=redact))
    yield fold("END:VCALENDAR")


def calendar_bytes(
    appointments: Sequence[AppointmentEntry],
    tasks: Sequence[TaskEntry] = (),
    *,
    zone: tzinfo,
    name: str = "carecoord",
    redact: bool = False,
) -> bytes:
    """The whole calendar as bytes, for appointments already in memory."""
    ordered = sorted(appointments, key=lambda e: (e.appointment.starts_at, e.appointment.uid))
    spans = [(e.appointment.starts_at, e.appointment.series_ends_at or e.appointment.starts_at) for e in ordered]
    years = sorted({moment.year for span in spans for moment in span})
    zones = {e.appointment.tz for e in ordered}
    return b"".join(calendar_chunks(ordered, tasks, zone=zone, zones=zones, years=years, name=name, redact=redact))
