"""``carecoord audit``: who changed what, and when."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.commands._common import FormatOption, command_app, date_help, optional_datetime, store
from carecoord.output import Column, render_list
from carecoord.vocab import OutputFormat

AUDIT_COLUMNS = (
    Column("at", "When", no_wrap=True),
    Column("os_user", "User", no_wrap=True),
    Column("db_role", "DB role", no_wrap=True),
    Column("action", "Action"),
    Column("record", "Record", no_wrap=True),
    Column("summary", "Changes", min_width=30),
)


app = command_app()


@app.command("audit")
def show_audit(
    patient: Annotated[
        str | None, typer.Option("--patient", "-p", help="Only changes about this patient (id, MRN or name).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help=date_help("From this date or time on, e.g. -7d or 2026-11-01.", past=True, time=True)
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most this many, newest first.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The audit trail of every create, update and delete, newest first.

    Each row names the operating-system user and, on a team store, the database role (recorded by the
    server, not the client).

    Example: carecoord audit --patient 12 --since -30d --format json
    """
    from carecoord.errors import NotFoundError
    from carecoord.records import AUDIT_KEYS, audit_record
    from carecoord.services import audit, patients
    from carecoord.services.lookup import as_id

    with store(write=False) as session:
        patient_id = None
        if patient is not None:
            try:
                patient_id = patients.resolve(session, patient).id
            except NotFoundError:
                patient_id = as_id(patient)  # a deleted patient's history is still asked for by id
                if patient_id is None:
                    raise
        rows = audit.entries(session, patient_id=patient_id, since=optional_datetime(since, past=True), limit=limit)
        records = [audit_record(entry) for entry in rows]
    render_list(
        records,
        AUDIT_COLUMNS,
        fmt,
        keys=AUDIT_KEYS,
        title=f"Audit trail ({len(records)})",
        empty="No changes recorded.",
    )
