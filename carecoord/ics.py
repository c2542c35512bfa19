"""Appointments and tasks as an RFC 5545 calendar (icalendar). No CLI, no database.

The same data always gives the same bytes: components are sorted, DTSTAMP is the record's last
change (never "now"), and time zones are added in name order. Cancelled appointments and
cancelled occurrences stay in the file with STATUS:CANCELLED so subscribers see them go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, Todo, vRecur

from carecoord import __version__
from carecoord.models import Appointment, AppointmentException, Task
from carecoord.vocab import APPOINTMENT_TYPE_LABELS, PRIORITY_RANK

PRODID = f"-//carecoord//carecoord {__version__}//EN"
UID_DOMAIN = "carecoord"

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


def _uid(uid: str) -> str:
    return f"{uid}@{UID_DOMAIN}"


def _label(appointment: Appointment) -> str:
    return APPOINTMENT_TYPE_LABELS.get(appointment.kind, appointment.kind)


def _describe(appointment: Appointment, status: str, reason: str | None) -> str:
    lines = [f"With: {appointment.with_whom}"] if appointment.with_whom else []
    if status in ("cancelled", "noshow") and reason:
        lines.append(f"{'Cancelled' if status == 'cancelled' else 'No-show'}: {reason}")
    if appointment.notes:
        lines.append(appointment.notes)
    return "\n".join(lines)


def _event(entry: AppointmentEntry, *, redact: bool, status: str, reason: str | None, stamp: datetime) -> Event:
    """The properties a master VEVENT and its overrides share."""
    appointment = entry.appointment
    who = initials(entry.patient_name) if redact else entry.patient_name
    event = Event()
    event.add("uid", _uid(appointment.uid))
    event.add("dtstamp", stamp)
    event.add("summary", f"{_label(appointment)}: {who}")
    event.add("status", EVENT_STATUS.get(status, "CONFIRMED"))
    event.add("sequence", appointment.sequence)
    event.add("categories", [appointment.kind])
    if not redact:
        if appointment.location:
            event.add("location", appointment.location)
        description = _describe(appointment, status, reason)
        if description:
            event.add("description", description)
    if appointment.reminder_minutes and status not in ("cancelled", "entered-in-error"):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{_label(appointment)}: {who}")
        alarm.add("trigger", timedelta(minutes=-appointment.reminder_minutes))
        event.add_component(alarm)
    return event


def appointment_events(entry: AppointmentEntry, *, redact: bool = False) -> list[Event]:
    """The master VEVENT (with RRULE and EXDATE for a series) and one override per changed occurrence."""
    appointment = entry.appointment
    tz = ZoneInfo(appointment.tz)
    duration = appointment.ends_at - appointment.starts_at
    master = _event(entry, redact=redact, status=appointment.status, reason=appointment.status_reason,
                    stamp=appointment.updated_at)  # fmt: skip
    master.add("dtstart", appointment.starts_at.astimezone(tz))
    master.add("dtend", appointment.ends_at.astimezone(tz))
    master.add("created", appointment.created_at)
    master.add("last-modified", appointment.updated_at)
    events = [master]
    if not appointment.rrule:
        return events
    master.add("rrule", vRecur.from_ical(appointment.rrule))
    removed = sorted(e.original_start for e in entry.exceptions if e.status == "entered-in-error")
    if removed:
        master.add("exdate", [moment.astimezone(tz) for moment in removed])
    for exception in sorted(entry.exceptions, key=lambda e: e.original_start):
        if exception.status == "entered-in-error":
            continue
        status = appointment.status if appointment.status == "cancelled" else exception.status
        override = _event(entry, redact=redact, status=status, reason=exception.status_reason,
                          stamp=max(exception.updated_at, appointment.updated_at))  # fmt: skip
        start = (exception.starts_at or exception.original_start).astimezone(tz)
        end = exception.ends_at.astimezone(tz) if exception.ends_at else start + duration
        override.add("recurrence-id", exception.original_start.astimezone(tz))
        override.add("dtstart", start)
        override.add("dtend", end)
        events.append(override)
    return events


def task_todo(entry: TaskEntry, zone: tzinfo, *, redact: bool = False) -> Todo:
    """A VTODO for a task: due date (or date and time in the user's zone), status, priority."""
    task = entry.task
    todo = Todo()
    todo.add("uid", _uid(task.uid))
    todo.add("dtstamp", task.updated_at)
    if redact:
        todo.add("summary", f"Task: {initials(entry.patient_name)}" if entry.patient_name else "Task")
    else:
        todo.add("summary", task.title + (f" ({entry.patient_name})" if entry.patient_name else ""))
        if task.notes:
            todo.add("description", task.notes)
    if task.due_on is not None:
        due: date | datetime = task.due_on
        if task.due_time is not None:
            due = datetime.combine(task.due_on, task.due_time, tzinfo=zone)
            if not getattr(zone, "key", None):  # a zone without an IANA name cannot be a TZID
                due = due.astimezone(UTC)
        todo.add("due", due)
    todo.add("status", TODO_STATUS.get(task.status, "NEEDS-ACTION"))
    todo.add("priority", TODO_PRIORITY.get(task.priority, 9))
    if task.completed_at is not None:
        todo.add("completed", task.completed_at)
    todo.add("last-modified", task.updated_at)
    return todo


def _add_timezones(calendar: Calendar, years: Sequence[int]) -> None:
    """VTIMEZONEs for every zone used, in name order, covering the years the data spans."""
    first = date(min(years) - 1, 1, 1) if years else Timezone.DEFAULT_FIRST_DATE
    last = date(max(years) + 2, 1, 1) if years else Timezone.DEFAULT_LAST_DATE
    for position, tzid in enumerate(sorted(calendar.get_missing_tzids())):
        calendar.subcomponents.insert(position, Timezone.from_tzid(tzid, first_date=first, last_date=last))


def calendar_bytes(
    appointments: Sequence[AppointmentEntry],
    tasks: Sequence[TaskEntry] = (),
    *,
    zone: tzinfo,
    name: str = "carecoord",
    redact: bool = False,
) -> bytes:
    """The whole calendar, deterministic for the same data."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    years: set[int] = set()
    ordered = sorted(appointments, key=lambda e: (e.appointment.starts_at, e.appointment.uid))
    for entry in ordered:
        for event in appointment_events(entry, redact=redact):
            calendar.add_component(event)
        years.add(entry.appointment.starts_at.year)
        years.add((entry.appointment.series_ends_at or entry.appointment.starts_at).year)
    for task_entry in sorted(tasks, key=lambda e: (e.task.due_on or date.max, e.task.id or 0)):
        calendar.add_component(task_todo(task_entry, zone, redact=redact))
    _add_timezones(calendar, sorted(years))
    return bytes(calendar.to_ical())
