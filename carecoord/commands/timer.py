"""``carecoord timer``: time a call as it happens, then log it with its minutes."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.clinical import ENTRY_MINUTES_LIMIT
from carecoord.commands._common import FormatOption, followup_effects, new_app, optional_minutes, store, text_option
from carecoord.output import confirm_change
from carecoord.vocab import Channel, Outcome, OutputFormat

app = new_app("A call timer: start it when you dial, stop it when you hang up.\n\nExample: carecoord timer start jane")


@app.command("start")
def start(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    note: Annotated[str | None, text_option("--note", "-n", help="What the call is about.")] = None,
) -> None:
    """Start timing a call (one timer at a time).

    Example: carecoord timer start jane --note 'med review'
    """
    from carecoord.services import communications, patients

    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        timer = communications.start_timer(session, owner, note)
        started, name = timer.started_at, patients.describe(owner)
    from carecoord.dates import local_zone

    print(f"Timer started for {name} at {started.astimezone(local_zone()):%H:%M}. Stop it with: carecoord timer stop")


@app.command("stop")
def stop(
    outcome: Annotated[Outcome, typer.Option("--outcome", "-o", help="How the call ended.", case_sensitive=False)] = (
        Outcome.reached
    ),
    channel: Annotated[Channel, typer.Option("--channel", "-c", help="How.", case_sensitive=False)] = Channel.phone,
    note: Annotated[str | None, text_option("--note", "-n", help="What was said or done.")] = None,
    minutes: Annotated[
        str | None,
        typer.Option(
            "--minutes",
            "-m",
            metavar="MINUTES",
            help="The call's real length, for a timer left running: 15, 45m or 1h30m.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help=f"Accept more than {ENTRY_MINUTES_LIMIT // 60} hours for one call.")
    ] = False,
    program: Annotated[
        str | None,
        typer.Option(
            "--program",
            "-P",
            metavar="PROGRAM",
            help="The program its minutes count toward, e.g. chi (default: the patient's one "
            "enrolled time-based program).",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Stop the timer and log the call with the minutes it took (rounded up).

    Example: carecoord timer stop --outcome reached --note 'refill arranged'
    """
    from carecoord.records import communication_record
    from carecoord.services import communications, patients

    with store(write=True) as session:
        logged, owner = communications.stop_timer(
            session,
            outcome=outcome.value,
            channel=channel.value,
            note=note,
            minutes=optional_minutes(minutes),
            force=force,
            program=program,
        )
        record = communication_record(logged, owner)
        name = patients.describe(owner)
        effects = followup_effects(session)
    message = f"Logged {record['minutes']} min {record['channel']} #{record['id']} with {name}.{effects}"
    confirm_change(message, record, fmt)


@app.command("cancel")
def cancel() -> None:
    """Throw the running timer away without logging anything.

    Example: carecoord timer cancel
    """
    from carecoord.services import communications, patients

    with store(write=True) as session:
        name = patients.describe(communications.cancel_timer(session))
    print(f"Timer for {name} discarded; nothing was logged.")


@app.command("status")
def status() -> None:
    """Show the running timer, if any.

    Example: carecoord timer status
    """
    from carecoord.dates import local_zone, today
    from carecoord.services import communications, patients

    with store(write=False) as session:
        running = communications.running_timer(session)
        if running is None:
            print("No timer is running.")
            return
        timer, owner = running
        minutes = communications.elapsed_minutes(timer)
        since = timer.started_at.astimezone(local_zone())
        when = f"{since:%H:%M}" if since.date() == today() else f"{since:%Y-%m-%d %H:%M}"
        print(f"Timing a call with {patients.describe(owner)} since {when} ({minutes} min so far).")
