"""``carecoord log``: the communication log: calls, visits, messages, letters and their minutes."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.clinical import ENTRY_MINUTES_LIMIT
from carecoord.commands._common import (
    FormatOption,
    YesOption,
    confirm_or_refuse,
    counted,
    date_help,
    followup_effects,
    new_app,
    store,
    time_window,
)
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import COMMUNICATION
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import Channel, Outcome, OutputFormat

app = new_app(
    "The communication log.\n\nExample: carecoord log add jane --channel phone --outcome reached --minutes 15"
)

LogArg = Annotated[str, typer.Argument(help="Log entry id (see 'carecoord log list').")]
ChannelOpt = Annotated[Channel | None, typer.Option("--channel", "-c", help="Only this channel.", case_sensitive=False)]
OutcomeOpt = Annotated[Outcome | None, typer.Option("--outcome", "-o", help="Only this outcome.", case_sensitive=False)]
ForceOpt = Annotated[
    bool, typer.Option("--force", help=f"Accept more than {ENTRY_MINUTES_LIMIT // 60} hours in one entry.")
]

LOG_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("at", "When", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("channel", "How"),
    Column("outcome", "Outcome"),
    Column("minutes", "Min", no_wrap=True),
    Column("note", "Note", min_width=12, first_line=True),
)


@app.command("add")
@field_options(COMMUNICATION, edit=False)
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    fields: FieldValues = FIELDS,
    force: ForceOpt = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Log a call, visit, message or letter.

    Example: carecoord log add jane --channel phone --with 'Ann Doe' --outcome left-message --minutes 5
    Example: carecoord log add jane --minutes 45 --program chi --note 'Food pantry and SNAP application'
    """
    from carecoord.records import communication_record
    from carecoord.services import communications, patients

    entry = communications.entry_from(fields)
    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        logged = communications.add_entry(session, owner, entry, force=force)
        record = communication_record(logged, owner)
        effects = followup_effects(session)
    # the moment as it was read ('11/26' is the last 26 November, 'mon' last Monday): said back in full
    message = (
        f"Logged {record['channel']} #{record['id']} with {patients.describe(owner)} on "
        f"{record['at']:%a %Y-%m-%d %H:%M}: {record['outcome']}"
    )
    confirm_change(message + (f", {record['minutes']} min." if record["minutes"] else ".") + effects, record, fmt)


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's.")] = None,
    from_: Annotated[
        str | None,
        typer.Option("--from", help=date_help("From this date or time (default: 30 days ago).", past=True, time=True)),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help=date_help("Up to this date or time, inclusive (default: now).", past=True, time=True)
        ),
    ] = None,
    channel: ChannelOpt = None,
    outcome: OutcomeOpt = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Only entries whose note contains this text (any case).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many, newest first.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List log entries, newest first.

    Example: carecoord log list --patient jane --from -90d --outcome reached
    """
    from carecoord.records import COMMUNICATION_KEYS, communication_record
    from carecoord.services import communications, patients

    low, high = time_window(from_ or "-30d", to or "today", None, past=True)
    with store(write=False) as session:
        wanted = communications.LogFilter(
            patient_id=patients.resolve(session, patient).id if patient else None,
            start=low,
            end=high,
            channel=channel.value if channel else None,
            outcome=outcome.value if outcome else None,
            search=search,
            limit=limit,
        )
        records = [communication_record(e, p) for e, p in communications.list_entries(session, wanted)]
    total = sum(r["minutes"] for r in records)
    title = f"Communication log ({counted(len(records), 'entry')}, {total} min)"
    render_list(records, LOG_COLUMNS, fmt, keys=COMMUNICATION_KEYS, title=title, empty="No log entries.")


@app.command("show")
def show(entry: LogArg, fmt: FormatOption = OutputFormat.table) -> None:
    """One log entry whole: when, how, with whom, its outcome, minutes and program, and its full note.

    Example: carecoord log show 8
    """
    from carecoord.models import Patient
    from carecoord.output import render_record
    from carecoord.records import COMMUNICATION_KEYS, communication_record
    from carecoord.services import communications

    with store(write=False) as session:
        found = communications.resolve(session, entry)
        owner = session.get(Patient, found.patient_id)
        assert owner is not None
        record = communication_record(found, owner)
    render_record(
        record, shown_columns(COMMUNICATION), fmt, keys=COMMUNICATION_KEYS, title=f"Log entry #{record['id']}"
    )


@app.command("edit")
@field_options(COMMUNICATION, edit=True)
def edit(
    entry: LogArg, fields: FieldValues = FIELDS, force: ForceOpt = False, fmt: FormatOption = OutputFormat.table
) -> None:
    """Correct a log entry.

    Example: carecoord log edit 8 --minutes 25

    Example: carecoord log edit 8 --program pin
    """
    from carecoord.errors import UsageError
    from carecoord.models import Patient
    from carecoord.records import communication_record
    from carecoord.services import communications

    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord log edit --help')")
    with store(write=True) as session:
        found = communications.update_entry(session, communications.resolve(session, entry), fields, force=force)
        owner = session.get(Patient, found.patient_id)
        assert owner is not None
        record = communication_record(found, owner)
        effects = followup_effects(session)
    confirm_change(f"Updated log entry #{record['id']}.{effects}", record, fmt)


@app.command("delete")
def delete(entry: LogArg, yes: YesOption = False) -> None:
    """Delete a log entry made by mistake (the audit trail keeps it).

    Example: carecoord log delete 8 --yes
    """
    from carecoord.dates import local_zone
    from carecoord.services import communications, patients

    with store(write=False) as session:
        found = communications.resolve(session, entry)
        # Whose call, when and how long: enough to be sure it is the one made by mistake.
        who = patients.describe(patients.resolve(session, f"#{found.patient_id}"))
        parts = [f"{found.channel} with {who}", f"{found.at.astimezone(local_zone()):%Y-%m-%d %H:%M}"]
        parts += [f"{found.minutes} min"] if found.minutes else []
        parts += [found.outcome] if found.outcome and found.outcome != "reached" else []
        target, name = f"{found.id}", f"#{found.id}: {', '.join(parts)}"
    confirm_or_refuse(f"Delete log entry {name}?", yes)
    with store(write=True) as session:
        communications.delete_entry(session, communications.resolve(session, target))
        effects = followup_effects(session)
    print(f"Deleted log entry {name}.{effects}")
