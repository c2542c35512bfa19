"""``carecoord transition``: hospital and facility discharges and their follow-up deadlines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord.commands._common import (
    FormatOption,
    YesOption,
    confirm_or_refuse,
    date_help,
    followup_effects,
    new_app,
    optional_date,
    store,
)
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import TRANSITION
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import OutputFormat

if TYPE_CHECKING:
    from carecoord.models import Task

app = new_app(
    "Transitions of care: discharges and their follow-up deadlines.\n\n"
    "Example: carecoord transition add jane --discharged 2026-11-20 --from 'Mercy Hospital' --complexity high"
)


def _deadline(which: str) -> Callable[[Mapping[str, Any]], str]:
    """A deadline column for people: 'met 11-21 (due 11-24)', 'OPEN (due 12-01)', 'MISSED (due 11-24)'."""

    def show(record: Mapping[str, Any]) -> str:
        due, done, state = record[f"{which}_due"], record[f"{which}_done"], record[f"{which}_state"]
        if state == "attempted":  # CMS counts 2 documented attempts; keep trying until reached
            reached = f", reached {done}" if done else ", keep trying"
            return f"attempted x{record[f'{which}_attempts']} (due {due}){reached}"
        return f"{state} {done} (due {due})" if state in ("met", "late") else f"{str(state).upper()} (due {due})"

    return show


TRANSITION_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("discharged_on", "Discharged", no_wrap=True),
    Column("facility", "From", min_width=8),
    Column("contact", "Contact (2 bus. days)", show=_deadline("contact")),
    Column("visit", "Visit", show=_deadline("visit")),
)


TransitionArg = Annotated[str, typer.Argument(help="Transition id (see 'carecoord transition list').")]
_DISCHARGED, _FACILITY = TRANSITION["discharged_on"], TRANSITION["facility"]


@app.command("add")
@field_options(TRANSITION, edit=False, skip=("discharged_on", "facility"))
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    discharged: Annotated[
        str,
        typer.Option(*_DISCHARGED.option_names, metavar="DATE", help=date_help(_DISCHARGED.help, past=True)),
    ],
    facility: Annotated[str, typer.Option(*_FACILITY.option_names, metavar=_FACILITY.word, help=_FACILITY.help)],
    fields: FieldValues = FIELDS,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Record it even if another discharge is within 2 days (no question).")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record a discharge: creates the follow-up tasks, an interactive contact within 2 business days
    and a face-to-face visit within 14 days (moderate) or 7 days (high). Calls and visits already
    logged in the service period complete them at once.

    Another discharge of the same patient within 2 days is probably this one typed differently:
    you are asked first (off a terminal, it is refused unless --yes).

    Example: carecoord transition add jane --discharged fri --from 'Mercy Hospital' --complexity high
    """
    from carecoord.errors import UsageError, ValidationError
    from carecoord.records import transition_record
    from carecoord.services import patients, transitions

    day = optional_date(discharged, past=True)
    if day is None:
        raise ValidationError("give the discharge date")
    with store(write=False) as session:
        owner = patients.resolve(session, patient)
        near = transitions.near_duplicates(session, owner, day, facility)
        who, ref = patients.describe(owner), f"{owner.id}"
    if near:
        already = ("transition " if len(near) == 1 else "transitions ") + "; ".join(map(transitions.describe, near))
        try:
            confirm_or_refuse(f"{who} already has {already}. Record this discharge as well?", yes)
        except UsageError:
            raise UsageError(f"{who} already has {already}: if this is another discharge, add --yes") from None
    with store(write=True) as session:
        owner = patients.resolve(session, ref)
        added = transitions.add_transition(session, owner, discharged_on=day, facility=facility, **fields)
        [status] = transitions.judge(session, [(added, owner)])
        record = transition_record(status)
        effects = followup_effects(session)
    confirm_change(
        f"Recorded the discharge of {who} from {record['facility']} on {record['discharged_on']}: "
        f"contact by {record['contact_due']} (task #{record['contact_task_id']}), "
        f"face-to-face visit by {record['visit_due']} (task #{record['visit_task_id']}).{effects}",
        record,
        fmt,
    )


@app.command("show")
def show(transition: TransitionArg, fmt: FormatOption = OutputFormat.table) -> None:
    """One discharge whole: its facility, complexity and TCM code, both deadlines with what met
    them, the follow-up tasks and its notes.

    Example: carecoord transition show 3
    """
    from carecoord.models import Patient
    from carecoord.output import render_record
    from carecoord.records import TRANSITION_KEYS, transition_record
    from carecoord.services import transitions

    with store(write=False) as session:
        found = transitions.resolve(session, transition)
        owner = session.get(Patient, found.patient_id)
        assert owner is not None
        [status] = transitions.judge(session, [(found, owner)])
        record = transition_record(status)
    render_record(record, shown_columns(TRANSITION), fmt, keys=TRANSITION_KEYS, title=f"Transition #{record['id']}")


@app.command("edit")
@field_options(TRANSITION, edit=True)
def edit(transition: TransitionArg, fields: FieldValues = FIELDS, fmt: FormatOption = OutputFormat.table) -> None:
    """Correct a discharge: its date, facility, complexity or notes. The deadlines are worked out
    again and the follow-up tasks' due dates and titles move with them.

    Example: carecoord transition edit 3 --discharged 2026-11-19 --complexity high
    """
    from carecoord.errors import UsageError
    from carecoord.models import Patient
    from carecoord.records import transition_record
    from carecoord.services import transitions

    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord transition edit --help')")
    with store(write=True) as session:
        changed = transitions.update_transition(session, transitions.resolve(session, transition), fields)
        owner = session.get(Patient, changed.patient_id)
        assert owner is not None
        [status] = transitions.judge(session, [(changed, owner)])
        record = transition_record(status)
        effects = followup_effects(session)
    confirm_change(
        f"Updated transition #{record['id']}: discharged {record['discharged_on']} from {record['facility']}, "
        f"contact by {record['contact_due']}, face-to-face visit by {record['visit_due']}.{effects}",
        record,
        fmt,
    )


@app.command("delete")
def delete(transition: TransitionArg, yes: YesOption = False) -> None:
    """Delete a discharge entered in error, with its follow-up tasks still open or completed
    automatically (the audit trail keeps them); follow-up tasks you completed or cancelled by hand
    are kept, and so are the calls and visits that met them.

    Example: carecoord transition delete 3 --yes
    """
    from carecoord.services import transitions

    with store(write=False) as session:
        found = transitions.resolve(session, transition)
        target, name = f"{found.id}", transitions.describe(found)
        going = _tasks(transitions.followups_to_delete(session, found))
    confirm_or_refuse(f"Delete transition {name}" + (f" and its follow-up {going}?" if going else "?"), yes)
    with store(write=True) as session:
        deleted = transitions.delete_transition(session, transitions.resolve(session, target))
    message = f"Deleted transition {name}"
    if deleted.deleted_tasks:
        message += f", with its follow-up {_tasks(deleted.deleted_tasks)}"
    if deleted.evidence:
        message += f" ({' and '.join(deleted.evidence)} {'is' if len(deleted.evidence) == 1 else 'are'} kept)"
    if deleted.kept_tasks:
        kept = ", ".join(f"#{task.id} ({task.status})" for task in deleted.kept_tasks)
        message += f"; kept follow-up {'task' if len(deleted.kept_tasks) == 1 else 'tasks'} {kept}"
    print(message + ".")


def _tasks(tasks: list[Task]) -> str:
    """``task #3``, ``tasks #3, #4`` (empty for none)."""
    if not tasks:
        return ""
    return ("task " if len(tasks) == 1 else "tasks ") + ", ".join(f"#{task.id}" for task in tasks)


def show_transitions(patient: str | None, since: str | None, fmt: OutputFormat, title: str) -> None:
    """The transitions, each deadline judged met, late, missed or open (shared with 'report transitions')."""
    from carecoord.records import TRANSITION_KEYS, transition_record
    from carecoord.services import patients, transitions

    with store(write=False) as session:
        owner = patients.resolve(session, patient) if patient else None
        rows = transitions.list_transitions(session, patient_id=owner.id if owner else None,
                                            since=optional_date(since, past=True))  # fmt: skip
        records = [transition_record(status) for status in transitions.judge(session, rows)]
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
