"""``carecoord log``: the communication log: calls, visits, messages, letters and their minutes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from carecoord.commands._common import (
    FormatOption,
    YesOption,
    close_met_followups,
    confirm_or_refuse,
    date_help,
    given,
    new_app,
    store,
    time_window,
)
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import Channel, Direction, Outcome, OutputFormat

if TYPE_CHECKING:
    from sqlmodel import Session

    from carecoord.models import Communication

app = new_app(
    "The communication log.\n\nExample: carecoord log add jane --channel phone --outcome reached --minutes 15"
)

LogArg = Annotated[str, typer.Argument(help="Log entry id (see 'carecoord log list').")]
ChannelOpt = Annotated[Channel | None, typer.Option("--channel", "-c", help="How.", case_sensitive=False)]
OutcomeOpt = Annotated[Outcome | None, typer.Option("--outcome", "-o", help="How it ended.", case_sensitive=False)]
DirectionOpt = Annotated[Direction | None, typer.Option("--direction", help="Who called whom.", case_sensitive=False)]
WithOpt = Annotated[
    str | None, typer.Option("--with", help="Who you spoke with: a contact's name (linked) or any text.")
]
MinutesOpt = Annotated[int | None, typer.Option("--minutes", "-m", help="Minutes spent (care-management time).")]
NoteOpt = Annotated[str | None, typer.Option("--note", "-n", help="What was said or done.")]

LOG_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("at", "When", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("channel", "How"),
    Column("outcome", "Outcome"),
    Column("minutes", "Min", no_wrap=True),
    Column("note", "Note", min_width=12),
)


@app.command("add")
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    when: Annotated[
        str | None,
        typer.Option("--when", "-w", help=date_help("When it happened (default now).", past=True, time=True)),
    ] = None,
    channel: ChannelOpt = None,
    direction: DirectionOpt = None,
    with_whom: WithOpt = None,
    outcome: OutcomeOpt = None,
    minutes: MinutesOpt = None,
    note: NoteOpt = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Log a call, visit, message or letter.

    Example: carecoord log add jane --channel phone --with 'Ann Doe' --outcome left-message --minutes 5
    """
    from carecoord.dates import now, parse_datetime
    from carecoord.records import communication_record
    from carecoord.services import communications, patients

    entry = communications.Entry(
        at=parse_datetime(when, past=True) if when else now(),
        channel=(channel or Channel.phone).value,
        direction=(direction or Direction.outbound).value,
        with_whom=with_whom,
        outcome=(outcome or Outcome.reached).value,
        minutes=minutes or 0,
        note=note,
    )
    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        logged = communications.add_entry(session, owner, entry)
        record = communication_record(logged, owner)
        assert owner.id is not None
        effects = met_followups(session, owner.id, logged)
    message = f"Logged {record['channel']} #{record['id']} with {patients.describe(owner)}: {record['outcome']}"
    confirm_change(message + (f", {record['minutes']} min." if record["minutes"] else ".") + effects, record, fmt)


def met_followups(session: Session, patient_id: int, logged: Communication) -> str:
    """A reached call, visit or video call meets open transition-of-care follow-ups."""
    from carecoord.clinical import FACE_TO_FACE_CHANNELS, INTERACTIVE_CHANNELS
    from carecoord.dates import local_zone

    reached = logged.outcome == "reached"
    return close_met_followups(
        session, patient_id, logged.at.astimezone(local_zone()).date(),
        contact=reached and logged.channel in INTERACTIVE_CHANNELS,
        visit=reached and logged.channel in FACE_TO_FACE_CHANNELS,
        why=f"met by log entry #{logged.id}",
    )  # fmt: skip


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
            limit=limit,
        )
        records = [communication_record(e, p) for e, p in communications.list_entries(session, wanted)]
    total = sum(r["minutes"] for r in records)
    title = f"Communication log ({len(records)} entries, {total} min)"
    render_list(records, LOG_COLUMNS, fmt, keys=COMMUNICATION_KEYS, title=title, empty="No log entries.")


@app.command("edit")
def edit(
    entry: LogArg,
    when: Annotated[
        str | None, typer.Option("--when", "-w", help=date_help("When it happened.", past=True, time=True))
    ] = None,
    channel: ChannelOpt = None,
    direction: DirectionOpt = None,
    with_whom: WithOpt = None,
    outcome: OutcomeOpt = None,
    minutes: MinutesOpt = None,
    note: NoteOpt = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Correct a log entry.

    Example: carecoord log edit 8 --minutes 25
    """
    from carecoord.dates import parse_datetime
    from carecoord.errors import UsageError
    from carecoord.models import Patient
    from carecoord.records import communication_record
    from carecoord.services import communications

    fields = given(at=parse_datetime(when, past=True) if when else None, channel=channel, direction=direction,
                   with_whom=with_whom, outcome=outcome, minutes=minutes, note=note)  # fmt: skip
    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord log edit --help')")
    with store(write=True) as session:
        found = communications.update_entry(session, communications.resolve(session, entry), fields)
        owner = session.get(Patient, found.patient_id)
        assert owner is not None
        record = communication_record(found, owner)
    confirm_change(f"Updated log entry #{record['id']}.", record, fmt)


@app.command("delete")
def delete(entry: LogArg, yes: YesOption = False) -> None:
    """Delete a log entry made by mistake (the audit trail keeps it).

    Example: carecoord log delete 8 --yes
    """
    from carecoord.services import communications

    with store(write=False) as session:
        found = communications.resolve(session, entry)
        target, name = f"{found.id}", communications.describe(found)
    confirm_or_refuse(f"Delete log entry {name}?", yes)
    with store(write=True) as session:
        communications.delete_entry(session, communications.resolve(session, target))
    print(f"Deleted log entry {name}.")
