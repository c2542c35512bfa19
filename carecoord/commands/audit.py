"""``carecoord audit``: who changed what, and when; ``audit disclosures``: what left carecoord, to
whom and why (the account of disclosures, issue 16)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Annotated, Any

import typer

from carecoord.commands._common import FormatOption, date_help, optional_datetime, store
from carecoord.errors import UsageError
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
UNSPECIFIED = "unspecified"


def _who(record: Mapping[str, Any]) -> str:
    role = record["db_role"]
    return record["os_user"] if role in (None, record["os_user"]) else f"{record['os_user']} ({role})"


DISCLOSURE_COLUMNS = (
    Column("at", "When", no_wrap=True),
    Column("os_user", "Who", no_wrap=True, show=_who),
    Column("kind", "Kind", no_wrap=True),
    Column("recipient", "To whom", min_width=11, show=lambda r: r["recipient"] or UNSPECIFIED),
    Column("purpose", "Purpose", no_wrap=True, show=lambda r: r["purpose"] or UNSPECIFIED),
    Column("patient_count", "Patients", no_wrap=True),
    Column("target", "File", show=lambda r: PurePath(r["target"]).name),  # the whole path in JSON and CSV
)
SUMMARY = "The audit trail of every create, update and delete, and the account of disclosures; newest first."


def _new_app() -> typer.Typer:
    from carecoord.commands._help import HelpGroup, HelpTyper

    return HelpTyper(help=f"{SUMMARY}\n\nExample: carecoord audit --patient 12 --since -30d", cls=HelpGroup,
                     rich_markup_mode=None, add_completion=False)  # fmt: skip


app = _new_app()
PatientOption = Annotated[
    str | None, typer.Option("--patient", "-p", help="Only about this patient (id, MRN or name; a deleted one by id).")
]


@app.callback(invoke_without_command=True)
def show_audit(
    ctx: typer.Context,
    patient: PatientOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help=date_help("From this date or time on, e.g. -7d or 2026-11-01.", past=True, time=True)
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most this many, newest first.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The audit trail of every create, update and delete, and the account of disclosures; newest first.

    Each row names the operating-system user and, on a team store, the database role (recorded by the
    server, not the client). 'carecoord audit disclosures' lists what left carecoord instead.

    Example: carecoord audit --patient 12 --since -30d --format json
    """
    if ctx.invoked_subcommand is not None:
        if (patient, since, limit) != (None, None, None) or fmt is not OutputFormat.table:
            raise UsageError(f"give the options after '{ctx.invoked_subcommand}', e.g. 'carecoord audit "
                             f"{ctx.invoked_subcommand} --patient 12'")  # fmt: skip
        return
    from carecoord.records import AUDIT_KEYS, audit_record
    from carecoord.services import audit

    with store(write=False) as session:
        patient_id = _patient_id(session, patient)
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


@app.command("disclosures")
def disclosures(
    patient: PatientOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help=date_help("From this date or time on, e.g. -30d or 2026-11-01.", past=True, time=True)
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The account of disclosures: every export of patients' information to a file, newest first.

    Each names when, who (the operating-system user; on a team store also the database role), the kind
    of export, to whom (--to) and why (--purpose), the patients it carried and the file. A
    coordinator on a team store sees the disclosures of their own patients (and those they made), a
    supervisor all. Disclosures stay when a patient is deleted: ask for one by id (#12).

    Example: carecoord audit disclosures --patient jane --since -6y --format csv
    """
    from carecoord.records import DISCLOSURE_CSV_KEYS, DISCLOSURE_KEYS, disclosure_record
    from carecoord.services import disclosures as accounts

    with store(write=False) as session:
        patient_id = _patient_id(session, patient)
        found = accounts.entries(session, patient_id=patient_id, since=optional_datetime(since, past=True))
        records = [disclosure_record(entry.disclosure, entry.patients) for entry in found]
    render_list(
        records,
        DISCLOSURE_COLUMNS,
        fmt,
        keys=DISCLOSURE_CSV_KEYS if fmt is OutputFormat.csv else DISCLOSURE_KEYS,
        title=f"Disclosures ({len(records)})",
        empty="No disclosures recorded.",
    )


def _patient_id(session: Any, patient: str | None) -> int | None:
    """The patient asked for: a stored one by id, MRN or name; a deleted one by its id."""
    if patient is None:
        return None
    from carecoord.errors import NotFoundError
    from carecoord.services import patients
    from carecoord.services.lookup import as_id

    try:
        return patients.resolve(session, patient).id
    except NotFoundError:
        patient_id = as_id(patient)  # a deleted patient's history is still asked for by id
        if patient_id is None:
            raise
        return patient_id
