"""``carecoord auth``: prior authorizations: add, edit, status, use, list, show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from carecoord.commands._common import (
    CoordinatorOption,
    FormatOption,
    MineOption,
    counted,
    date_help,
    new_app,
    optional_date,
    store,
    text_option,
)
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import AUTHORIZATION
from carecoord.output import Column, confirm_change, period, render_list
from carecoord.vocab import AuthorizationStatus, OutputFormat

app = new_app(
    "Prior authorizations: services approved by a payer, their dates and units.\n\n"
    "Example: carecoord auth add jane --service 'home health visits' --status approved --start today --end +60d "
    "--units 12 --unit visits"
)

AuthArg = Annotated[str, typer.Argument(metavar="AUTH", help="Authorization id (see 'carecoord auth list').")]


def _units(record: Mapping[str, Any]) -> str:
    """``9 of 12 visits used``, or how many were used when there is no limit."""
    unit = record["unit"] or "units"
    if record["units_approved"] is None:
        return f"{record['units_used']} used" if record["units_used"] else ""
    return f"{record['units_used']} of {record['units_approved']} {unit} used"


AUTHORIZATION_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("service", "Service", min_width=10),
    Column("payer", "Payer"),
    Column("status", "Status", no_wrap=True),
    Column("period", "Period", show=period),
    Column("units", "Units", show=_units),
)
AUTHORIZATION_FIELDS = shown_columns(AUTHORIZATION)
USE_COLUMNS = (
    Column("used_on", "Date", no_wrap=True),
    Column("units", "Units", no_wrap=True),
    Column("appointment_id", "Appointment", no_wrap=True),
    Column("note", "Note", first_line=True),
)


def _confirm(message: str, record: dict[str, Any], fmt: OutputFormat) -> None:
    confirm_change(message, record, fmt)


@app.command("add")
@field_options(AUTHORIZATION, edit=False)
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    fields: FieldValues = FIELDS,
    appt: Annotated[
        str | None,
        typer.Option("--appt", metavar="ID", help="Link this appointment (or series): each sitting done uses a unit."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --appt: link it even outside the dates or with too few units.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record a prior authorization: requested (today) unless --status says otherwise, under the
    patient's primary coverage unless --coverage names another.

    Example: carecoord auth add jane --service 'home health' --status approved --end +60d --units 12 --unit visits
    """
    from carecoord.records import authorization_record
    from carecoord.services import appointments, authorizations, patients

    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        linked = appointments.resolve(session, appt) if appt else None
        added = authorizations.add_authorization(session, owner, fields, appointment=linked, force=force)
        record = authorization_record(authorizations.row_of(session, added))
        also = f" Linked appointment #{linked.id}." if linked else ""
        also += authorizations.effects(session)
    _confirm(f"Added authorization {authorizations.describe(added)} for {patients.describe(owner)}.{also}", record, fmt)


@app.command("edit")
@field_options(AUTHORIZATION, edit=True, skip=("status",))
def edit(auth: AuthArg, fields: FieldValues = FIELDS, fmt: FormatOption = OutputFormat.table) -> None:
    """Change an authorization's service, number, coverage, dates or units; an empty value clears one
    ('carecoord auth status' changes its status).

    Example: carecoord auth edit 4 --end 2027-01-31 --units 16
    """
    from carecoord.errors import UsageError
    from carecoord.records import authorization_record
    from carecoord.services import authorizations

    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord auth edit --help')")
    with store(write=True) as session:
        found = authorizations.update_authorization(session, authorizations.resolve(session, auth), fields)
        record = authorization_record(authorizations.row_of(session, found))
    _confirm(f"Updated authorization {authorizations.describe(found)}.", record, fmt)


@app.command("status")
def status(
    auth: AuthArg,
    new_status: Annotated[
        AuthorizationStatus,
        typer.Argument(
            metavar="STATUS", help="requested, approved, denied, expired or cancelled.", case_sensitive=False
        ),
    ],
    date: Annotated[
        str | None, typer.Option("--date", help=date_help("When it was decided (default today).", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record the payer's decision (approved, denied), an expiry or cancellation, or a new request (an
    appeal or renewal).

    Example: carecoord auth status 4 approved --date yesterday
    """
    from carecoord.records import authorization_record
    from carecoord.services import authorizations

    with store(write=True) as session:
        found = authorizations.resolve(session, auth)
        before = found.status
        changed = authorizations.set_status(session, found, new_status.value, on=optional_date(date, past=True))
        record = authorization_record(authorizations.row_of(session, changed))
    _confirm(f"Authorization #{changed.id} ({changed.service}) is {changed.status} (was {before}).", record, fmt)


@app.command("use")
def use(
    auth: AuthArg,
    units: Annotated[int, typer.Option("--units", "-u", help="Units used (default 1).")] = 1,
    date: Annotated[
        str | None, typer.Option("--date", help=date_help("When they were used (default today).", past=True))
    ] = None,
    note: Annotated[str | None, text_option("--note", help="A note, e.g. 'oxygen concentrator delivered'.")] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Record it even past the units approved, outside the dates, or not approved."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record units of an authorization used (an appointment linked to it counts its own when marked done).

    Example: carecoord auth use 4 --units 2 --date yesterday --note 'two PT visits'
    """
    from carecoord.records import authorization_record
    from carecoord.services import authorizations

    with store(write=True) as session:
        found = authorizations.resolve(session, auth)
        recorded = authorizations.record_use(
            session, found, units=units, on=optional_date(date, past=True), note=note, force=force
        )
        row = authorizations.row_of(session, found)
        record = authorization_record(row)
    left = row.units_left
    word = authorizations.unit_word
    after = "" if left is None else (f"; {word(found, left)} left" if left >= 0
                                     else f"; {word(found, -left)} over what was approved")  # fmt: skip
    _confirm(f"Used {authorizations.unit_word(found, recorded.units)} of authorization #{found.id} on "
             f"{recorded.used_on}{after}.", record, fmt)  # fmt: skip


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's.")] = None,
    status_: Annotated[
        AuthorizationStatus | None, typer.Option("--status", help="Only this status.", case_sensitive=False)
    ] = None,
    expiring: Annotated[
        int | None,
        typer.Option(
            "--expiring",
            min=0,
            max=3660,
            metavar="DAYS",
            help="Only approved ones ending within DAYS days (not discharged patients').",
        ),
    ] = None,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List prior authorizations with their units used and left; --expiring: those ending soon, soonest first.

    Example: carecoord auth list --expiring 30
    """
    from carecoord.commands._common import whose
    from carecoord.records import AUTHORIZATION_KEYS, authorization_record
    from carecoord.services import authorizations, patients

    with store(write=False) as session:
        wanted = authorizations.AuthorizationFilter(
            patient_id=patients.resolve(session, patient).id if patient else None,
            status=status_.value if status_ else None,
            expiring=expiring,
            coordinator=whose(session, mine, coordinator),
        )
        records = [authorization_record(row) for row in authorizations.list_authorizations(session, wanted)]
    title = (f"Authorizations ending within {counted(expiring, 'day')} ({len(records)})" if expiring is not None
             else f"Authorizations ({len(records)})")  # fmt: skip
    render_list(records, AUTHORIZATION_COLUMNS, fmt, keys=AUTHORIZATION_KEYS, title=title,
                empty="No authorizations match.")  # fmt: skip


@app.command("show")
def show(auth: AuthArg, fmt: FormatOption = OutputFormat.table) -> None:
    """One authorization: its dates, units approved, used and left, and one line per use.

    Example: carecoord auth show 4
    """
    from carecoord.output import render_record
    from carecoord.records import AUTHORIZATION_KEYS, authorization_record, authorization_use_record
    from carecoord.services import authorizations

    with store(write=False) as session:
        found = authorizations.resolve(session, auth)
        record = authorization_record(authorizations.row_of(session, found))
        record["uses"] = [authorization_use_record(u) for u in authorizations.uses_of(session, found)]
        record["appointments"] = authorizations.linked_appointments(session, found)
    fields = (*AUTHORIZATION_FIELDS, Column("linked", "Appointments",
                                            show=lambda r: ", ".join(f"#{i}" for i in r["appointments"])))  # fmt: skip
    sections = (("Units used", "uses", USE_COLUMNS),)
    render_record(record, fields, fmt, keys=AUTHORIZATION_KEYS, title=f"Authorization #{found.id}", sections=sections)
