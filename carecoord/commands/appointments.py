"""``carecoord appt``: appointments and recurring visits, moves, cancellations and outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord.commands._common import (
    CoordinatorOption,
    FormatOption,
    MineOption,
    confirm_or_refuse,
    date_help,
    followup_effects,
    new_app,
    optional_date,
    store,
    time_window,
)
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import APPOINTMENT
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import AppointmentStatus, AppointmentType, NewAppointmentStatus, OutputFormat

if TYPE_CHECKING:
    from carecoord.models import Appointment, Patient
    from carecoord.services.appointments import Occurrence

app = new_app(
    "Appointments: visits, calls and series.\n\n"
    "Example: carecoord appt add jane --start 'thu 10am' --duration 45m --type home-visit --every weekly"
)

ApptArg = Annotated[str, typer.Argument(help="Appointment id (see 'carecoord appt list').")]
OCCURRENCE_HELP = "Only this date's occurrence of a series, e.g. 2026-12-03."
OccurrenceOpt = Annotated[str | None, typer.Option("--occurrence", help=date_help(OCCURRENCE_HELP, past=False))]
PastOccurrenceOpt = Annotated[str | None, typer.Option("--occurrence", help=date_help(OCCURRENCE_HELP, past=True))]
ForceOpt = Annotated[bool, typer.Option("--force", help="Book even if it overlaps another appointment.")]
TypeOpt = Annotated[AppointmentType | None, typer.Option("--type", help="Only this kind.", case_sensitive=False)]

AuthOpt = Annotated[
    str | None,
    typer.Option(
        "--auth",
        metavar="ID",
        help="The prior authorization it uses: each sitting marked done uses one unit (see 'carecoord auth list'). "
        "Outside the authorization's dates or with no units left it needs --force.",
    ),
]

# A start this little before now is not "in the past": the call that is starting as you book it.
PAST_GRACE = timedelta(minutes=5)


def _when_shown(record: Mapping[str, Any]) -> str:
    """The day and the times, for people."""
    return f"{record['start']:%a %Y-%m-%d %H:%M}-{record['end']:%H:%M}"


def _state_shown(record: Mapping[str, Any]) -> str:
    """The status, flagged when the occurrence was moved."""
    return f"{record['status']}, moved" if record["moved"] else record["status"]


OCCURRENCE_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("when", "When", no_wrap=True, show=_when_shown),
    Column("type", "Type", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("location", "Where", min_width=10),
    Column("with", "With", min_width=8),
    Column("state", "Status", show=_state_shown),
)


def _auth_id(ref: str | None) -> int | None:
    """The id --auth names ('#4' or '4')."""
    if ref is None:
        return None
    from carecoord.errors import ValidationError
    from carecoord.services.lookup import as_id

    found = as_id(ref)
    if found is None:
        raise ValidationError(f"give the authorization's id (see 'carecoord auth list'), not '{ref}'")
    return found


def _minutes(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    if not text.strip():
        return -1  # '' clears (see edit)
    from carecoord.dates import parse_duration

    span = parse_duration(text)
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        from carecoord.errors import ValidationError

        raise ValidationError(f"the {what} must be at least a minute")
    return minutes


def _occurrence_message(verb: str, sitting: Occurrence) -> str:
    from carecoord.dates import local_zone
    from carecoord.services.appointments import label

    original = sitting.original_start.astimezone(local_zone())
    return f"{label(sitting.appointment)} #{sitting.appointment.id} of {original:%Y-%m-%d %H:%M} {verb}."


def _result(verb: str, changed: Appointment | Occurrence, patient: Patient) -> tuple[str, dict[str, Any]]:
    """The confirmation line and record of a change (built inside the transaction)."""
    from carecoord.records import occurrence_record
    from carecoord.services.appointments import Occurrence, describe, first_occurrence

    if isinstance(changed, Occurrence):
        return _occurrence_message(verb, changed), occurrence_record(changed, patient)
    return f"Appointment {describe(changed)} {verb}.", occurrence_record(first_occurrence(changed), patient)


def _series_note(before: int | None, changed: Appointment | Occurrence) -> str:
    """When 'the whole series' became its own appointment from the next occurrence on, say so."""
    from carecoord.services.appointments import Occurrence

    if isinstance(changed, Occurrence) or before is None or changed.id == before:
        return ""
    return f" (from its next occurrence on, as #{changed.id}; #{before} keeps the past ones)"


@app.command("add")
@field_options(APPOINTMENT, edit=False, skip=("status",))
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    start: Annotated[
        str,
        typer.Option(
            "--start",
            "-s",
            help=date_help("When it starts, e.g. 'thu 10am', '2026-12-03 14:30'.", past=False, time=True),
        ),
    ],
    end: Annotated[
        str | None, typer.Option("--end", help=date_help("When it ends (or give --duration).", past=False, time=True))
    ] = None,
    duration: Annotated[str | None, typer.Option("--duration", "-d", help="How long, e.g. 45m or 1h30m.")] = None,
    fields: FieldValues = FIELDS,
    every: Annotated[
        str | None,
        typer.Option(
            "--every",
            help="Repeat: weekly, biweekly, monthly, weekdays, 'every mon,thu', or an RRULE such as "
            "FREQ=WEEKLY;BYDAY=MO,WE.",
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help=date_help("Last date of the series.", past=False))
    ] = None,
    count: Annotated[int | None, typer.Option("--count", help="Number of occurrences in the series.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="IANA zone it is booked in (default: yours).")] = None,
    status: Annotated[
        NewAppointmentStatus,
        typer.Option("--status", help="booked, or proposed (pencilled in).", case_sensitive=False),
    ] = NewAppointmentStatus.booked,
    auth: AuthOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Book even if it overlaps another appointment or its authorization.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Book it even if it starts in the past (a visit recorded after it).")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Book an appointment or a recurring series for a patient.

    A start in the past is asked about first (off a terminal, give --yes).

    Example: carecoord appt add jane --start 'thu 10am' --duration 45m --type home-visit --every weekly --count 6
    """
    from carecoord.dates import local_zone, now, parse_bound, parse_datetime, zone, zone_name
    from carecoord.errors import UsageError
    from carecoord.recurrence import parse_rule, with_end
    from carecoord.services import appointments, patients
    from carecoord.vocab import DEFAULT_APPOINTMENT_MINUTES, DEFAULT_MINUTES_OTHERWISE

    booked_in = zone(tz) if tz else local_zone()
    begins = parse_datetime(start, tz=booked_in, need_time=True)
    if end is not None and duration is not None:
        raise UsageError("give --end or --duration, not both")
    chosen = appointments.booking_fields(fields)
    kind_code = chosen.setdefault("kind", AppointmentType.other.value)
    minutes = _minutes(duration, "duration") or DEFAULT_APPOINTMENT_MINUTES.get(kind_code, DEFAULT_MINUTES_OTHERWISE)
    ends = parse_datetime(end, tz=booked_in, need_time=True) if end is not None else begins + timedelta(minutes=minutes)
    rule = None
    if every is not None:
        last = parse_bound(until, end=True, tz=booked_in) - timedelta(seconds=1) if until else None
        rule = with_end(parse_rule(every), until=last, count=count)
    elif until is not None or count is not None:
        raise UsageError("--until and --count end a series: give --every too")
    booking = appointments.Booking(
        start=begins, end=ends, tz=zone_name(booked_in), status=status.value, rrule=rule,
        authorization_id=_auth_id(auth), **chosen,
    )  # fmt: skip
    if begins < now() - PAST_GRACE:
        when = f"{begins:%a %Y-%m-%d %H:%M}"
        if rule is None:
            question = f"{when} is in the past. Book it anyway?"
            refusal = f"{when} is in the past; to record an appointment after it took place, add --yes"
        else:
            question = f"The series starts in the past ({when}). Book its past occurrences too?"
            refusal = f"the series starts in the past ({when}); add --yes to book its past occurrences too"
        confirm_or_refuse(question, yes, refusal=refusal)
    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        booked = appointments.add_appointment(session, owner, booking, force=force)
        message, record = _result("booked", booked, owner)
        linked = f", using authorization #{booked.authorization_id}" if booked.authorization_id else ""
    confirm_change(f"{message.removesuffix(' booked.')} booked for {patients.describe(owner)}{linked}.", record, fmt)


@app.command("list")
def list_(
    from_: Annotated[
        str | None,
        typer.Option("--from", help=date_help("Start of the window (default: today).", past=False, time=True)),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help=date_help("End of the window, inclusive (default: 7 days on).", past=False, time=True)
        ),
    ] = None,
    days: Annotated[int | None, typer.Option("--days", "-n", help="Window length in days (instead of --to).")] = None,
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's.")] = None,
    kind: TypeOpt = None,
    status: Annotated[
        AppointmentStatus | None, typer.Option("--status", help="Only this status.", case_sensitive=False)
    ] = None,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List appointments, series expanded into their occurrences, in start order.

    Example: carecoord appt list --from mon --to fri --patient jane
    """
    from carecoord.commands._common import whose
    from carecoord.records import APPOINTMENT_KEYS, occurrence_record
    from carecoord.services import appointments, patients

    low, high = time_window(from_, to, days if days or to else 7)
    with store(write=False) as session:
        wanted = appointments.AppointmentFilter(
            start=low,
            end=high,
            patient_id=patients.resolve(session, patient).id if patient else None,
            kind=kind.value if kind else None,
            status=status.value if status else None,
            coordinator=whose(session, mine, coordinator),
        )
        records = [occurrence_record(o, p) for o, p in appointments.occurrences(session, wanted)]
    title = f"Appointments {low:%Y-%m-%d} to {(high - timedelta(seconds=1)):%Y-%m-%d} ({len(records)})"
    render_list(records, OCCURRENCE_COLUMNS, fmt, keys=APPOINTMENT_KEYS, title=title, empty="No appointments.")


@app.command("show")
def show(appointment: ApptArg, fmt: FormatOption = OutputFormat.table) -> None:
    """One appointment or series: details, its exceptions and the next occurrences.

    Example: carecoord appt show 5
    """
    from carecoord.dates import local_zone, now
    from carecoord.output import render_record
    from carecoord.records import APPOINTMENT_KEYS, occurrence_record
    from carecoord.services import appointments

    with store(write=False) as session:
        found = appointments.resolve(session, appointment)
        person = appointments.patient_of(session, found)
        record = occurrence_record(appointments.first_occurrence(found), person)
        record["series_ends_at"] = found.series_ends_at and found.series_ends_at.astimezone(local_zone())
        record["exceptions"] = [
            occurrence_record(appointments.occurrence_of(session, found, e.original_start), person)
            for e in appointments.exceptions_of(session, found)
        ]
        upcoming = appointments.occurrences(
            session, appointments.AppointmentFilter(now(), now() + timedelta(days=366), patient_id=found.patient_id)
        )
        record["upcoming"] = [occurrence_record(o, person) for o, _ in upcoming if o.appointment.id == found.id][:8]
    columns = (Column("occurrence", "Occurrence"), Column("start", "Start"), Column("status", "Status"),
               Column("reason", "Reason"))  # fmt: skip
    sections = (("Changed occurrences", "exceptions", columns), ("Next occurrences", "upcoming", columns))
    render_record(
        record, shown_columns(APPOINTMENT), fmt, keys=APPOINTMENT_KEYS, title=f"Appointment #{found.id}",
        sections=sections,
    )  # fmt: skip


@app.command("edit")
@field_options(APPOINTMENT, edit=True)
def edit(
    appointment: ApptArg,
    fields: FieldValues = FIELDS,
    auth: Annotated[
        str | None,
        typer.Option(
            "--auth",
            metavar="ID",
            help="Link it to this prior authorization ('' unlinks): its sittings done use the units of that one.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="With --attending: keep it even if it overlaps another you attend; with --auth: link it even "
            "outside the authorization's dates or units.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change what, where, with whom, whether you attend, reminder, notes or status ('appt move': times).

    A new --type brings that type's default for attending, unless it was overridden.

    Example: carecoord appt edit 5 --location 'Clinic room 2' --remind 1h
    """
    from carecoord.errors import UsageError
    from carecoord.services import appointments

    if not fields and auth is None:
        raise UsageError("nothing to change: give at least one option (see 'carecoord appt edit --help')")
    from carecoord.services import authorizations

    with store(write=True) as session:
        found = appointments.resolve(session, appointment)
        if fields:
            found = appointments.update_appointment(session, found, fields, force=force)
        if auth is not None:
            linked = authorizations.resolve(session, auth) if auth.strip() else None
            authorizations.link(session, found, linked, force=force)
        message, record = _result("updated", found, appointments.patient_of(session, found))
        message += followup_effects(session) + authorizations.effects(session)
    confirm_change(message, record, fmt)


@app.command("move")
def move(
    appointment: ApptArg,
    to: Annotated[str, typer.Option("--to", help=date_help("The new start, e.g. 'fri 2pm'.", past=False, time=True))],
    occurrence: OccurrenceOpt = None,
    duration: Annotated[str | None, typer.Option("--duration", "-d", help="A new length, e.g. 1h.")] = None,
    force: ForceOpt = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Move an appointment, one occurrence of a series (--occurrence), or the whole series.

    For a whole series, --to is where its next occurrence goes; the others shift alike.

    Example: carecoord appt move 5 --occurrence 2026-12-03 --to '2026-12-04 10am'
    """
    from carecoord.dates import parse_datetime
    from carecoord.services import appointments

    minutes = _minutes(duration, "duration")
    new_start = parse_datetime(to, need_time=True)  # typed in your zone, like every time you type
    with store(write=True) as session:
        found = appointments.resolve(session, appointment)
        new_end = new_start + timedelta(minutes=minutes) if minutes and minutes > 0 else None
        changed = appointments.move(
            session, found, new_start, new_end=new_end, occurrence=optional_date(occurrence, past=False), force=force
        )
        message, record = _result(
            f"moved to {new_start:%Y-%m-%d %H:%M}", changed, appointments.patient_of(session, found)
        )
        message = message.removesuffix(".") + _series_note(found.id, changed) + "." + followup_effects(session)
    confirm_change(message, record, fmt)


def _outcome(appointment: str, status: AppointmentStatus, verb: str, occurrence: str | None,
             reason: str | None, fmt: OutputFormat, follow_up: bool = False) -> None:  # fmt: skip
    from carecoord.services import appointments

    with store(write=True) as session:
        found = appointments.resolve(session, appointment)
        past = status is not AppointmentStatus.cancelled  # done and no-show record what happened
        day = optional_date(occurrence, past=past) if occurrence else _today_if_series(session, found, status)
        changed = appointments.set_outcome(session, found, status.value, occurrence=day, reason=reason)
        person = appointments.patient_of(session, found)
        message, record = _result(verb, changed, person)
        message = message.removesuffix(".") + _series_note(found.id, changed) + "."
        from carecoord.services.authorizations import effects

        message += followup_effects(session) + effects(session)
        if follow_up:
            message += " " + _follow_up_task(session, changed, person)
    confirm_change(message, record, fmt)


def _today_if_series(session: Any, appointment: Appointment, status: AppointmentStatus) -> date | None:
    """For done/noshow on a series without --occurrence: today's occurrence, if there is one."""
    from carecoord.dates import today
    from carecoord.errors import NotFoundError
    from carecoord.services.appointments import find_occurrence

    if not appointment.rrule or status is AppointmentStatus.cancelled:
        return None
    day = today()
    try:
        find_occurrence(session, appointment, day)
    except NotFoundError:
        return None
    return day


def _follow_up_task(session: Any, changed: Appointment | Occurrence, person: Patient) -> str:
    from carecoord.dates import add_business_days, today
    from carecoord.services import tasks
    from carecoord.services.appointments import Occurrence, label

    appointment = changed.appointment if isinstance(changed, Occurrence) else changed
    when = changed.start if isinstance(changed, Occurrence) else appointment.starts_at
    task = tasks.add_task(
        session,
        f"Follow up: missed {label(appointment).lower()} on {when:%Y-%m-%d}",
        tasks.Placement(person.id, None, None),
        due_on=add_business_days(today(), 1),
        priority="urgent",
    )
    return f"Follow-up task #{task.id} added, due {task.due_on}."


@app.command("cancel")
def cancel(
    appointment: ApptArg,
    occurrence: OccurrenceOpt = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, e.g. 'patient in hospital'.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Cancel an appointment, one occurrence (--occurrence), or a whole series. It stays on record.

    Example: carecoord appt cancel 5 --occurrence 2026-12-03 --reason 'patient admitted'
    """
    _outcome(appointment, AppointmentStatus.cancelled, "cancelled", occurrence, reason, fmt)


@app.command("done")
def done(appointment: ApptArg, occurrence: PastOccurrenceOpt = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Mark an appointment (or today's/one occurrence of a series) as fulfilled.

    Example: carecoord appt done 5
    """
    _outcome(appointment, AppointmentStatus.fulfilled, "fulfilled", occurrence, None, fmt)


@app.command("noshow")
def noshow(
    appointment: ApptArg,
    occurrence: PastOccurrenceOpt = None,
    follow_up: Annotated[bool, typer.Option("--follow-up", help="Also add an urgent follow-up task.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record that the patient did not come (or was not reached), optionally with a follow-up task.

    Example: carecoord appt noshow 5 --occurrence 2026-12-03 --follow-up
    """
    _outcome(appointment, AppointmentStatus.noshow, "marked as no-show", occurrence, None, fmt, follow_up)
