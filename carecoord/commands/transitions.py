"""``carecoord transition``: hospital and facility discharges and their follow-up deadlines."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.commands._common import FormatOption, date_help, new_app, optional_date, store
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import Complexity, OutputFormat

app = new_app(
    "Transitions of care: discharges and their follow-up deadlines.\n\n"
    "Example: carecoord transition add jane --discharged 2026-11-20 --from 'Mercy Hospital' --complexity high"
)

TRANSITION_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("discharged_on", "Discharged", no_wrap=True),
    Column("facility", "From", min_width=8),
    Column("contact", "Contact (2 bus. days)"),
    Column("visit", "Visit"),
)


def table_rows(records: list[dict[str, object]]) -> list[dict[str, object]]:
    """Deadline columns for people: 'met 11-21 (by 11-24)', 'OPEN by 12-01', 'MISSED (11-24)'."""
    for record in records:
        for which in ("contact", "visit"):
            due, done, state = record[f"{which}_due"], record[f"{which}_done"], record[f"{which}_state"]
            if state in ("met", "late"):
                record[which] = f"{state} {done} (due {due})"
            else:
                record[which] = f"{str(state).upper()} (due {due})"
    return records


@app.command("add")
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    discharged: Annotated[
        str, typer.Option("--discharged", "-d", help=date_help("Discharge date, e.g. 2026-11-20 or -2d.", past=True))
    ],
    facility: Annotated[str, typer.Option("--from", help="Hospital or facility discharged from.")],
    complexity: Annotated[
        Complexity, typer.Option("--complexity", help="Decision-making complexity (visit within 14 or 7 days).")
    ] = Complexity.moderate,
    note: Annotated[str | None, typer.Option("--note", "-n", help="Notes.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record a discharge: creates the follow-up tasks, an interactive contact within 2 business days
    and a face-to-face visit within 14 days (moderate) or 7 days (high).

    Example: carecoord transition add jane --discharged fri --from 'Mercy Hospital' --complexity high
    """
    from carecoord.errors import ValidationError
    from carecoord.records import transition_record
    from carecoord.services import patients, transitions

    day = optional_date(discharged, past=True)
    if day is None:
        raise ValidationError("give the discharge date")
    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        added = transitions.add_transition(session, owner, discharged_on=day, facility=facility,
                                           complexity=complexity.value, notes=note)  # fmt: skip
        [status] = transitions.judge(session, [(added, owner)])
        record = transition_record(status)
    confirm_change(
        f"Recorded the discharge of {patients.describe(owner)} from {record['facility']} on {record['discharged_on']}: "
        f"contact by {record['contact_due']} (task #{record['contact_task_id']}), "
        f"face-to-face visit by {record['visit_due']} (task #{record['visit_task_id']}).",
        record,
        fmt,
    )


def show_transitions(patient: str | None, since: str | None, fmt: OutputFormat, title: str) -> None:
    """The transitions, each deadline judged met, late, missed or open (shared with 'report transitions')."""
    from carecoord.records import TRANSITION_KEYS, transition_record
    from carecoord.services import patients, transitions

    with store(write=False) as session:
        owner = patients.resolve(session, patient) if patient else None
        rows = transitions.list_transitions(session, patient_id=owner.id if owner else None,
                                            since=optional_date(since, past=True))  # fmt: skip
        records = [transition_record(status) for status in transitions.judge(session, rows)]
    if fmt in (OutputFormat.table, OutputFormat.markdown):
        records = table_rows(records)
    render_list(records, TRANSITION_COLUMNS, fmt, keys=TRANSITION_KEYS, title=f"{title} ({len(records)})",
                empty="No transitions of care.")  # fmt: skip


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help=date_help("Discharged on or after this date.", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List transitions of care with their deadlines: met, late, missed or still open.

    Example: carecoord transition list --since -30d
    """
    show_transitions(patient, since, fmt, "Transitions of care")
