"""``carecoord task``: to-dos with priorities, due dates, tags and recurring series."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord.commands._common import (
    CoordinatorOption,
    FormatOption,
    MineOption,
    YesOption,
    confirm_or_refuse,
    date_help,
    new_app,
    store,
    text_option,
)
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import TASK
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import TASK_STATUS_WORDS, OutputFormat, TaskPriority, TaskStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from carecoord.models import Task

app = new_app("Tasks and follow-ups.\n\nExample: carecoord task add 'Call pharmacy' --patient jane --due 'fri 2pm'")

TaskArg = Annotated[str, typer.Argument(help="Task id, or an unambiguous part of an open task's title.")]
DueOpt = Annotated[str | None, typer.Option("--due", help=date_help(TASK["due_on"].help, past=False))]
EveryOpt = Annotated[
    str | None,
    typer.Option(
        "--every",
        help="Repeat: daily, weekdays, weekly, biweekly, monthly, 'every 3 days', 'every mon,thu', or an RRULE.",
    ),
]
PriorityOpt = Annotated[TaskPriority | None, typer.Option("--priority", help="Priority.", case_sensitive=False)]
NoteOpt = Annotated[str | None, text_option("--note", help="A note.")]
DUE_WINDOWS = "today, overdue, week (the next 7 days, overdue included) or FROM..TO"


def _due_shown(record: Mapping[str, Any]) -> Any:
    """Due date and time together, for people."""
    return f"{record['due_on']} {record['due_time']}" if record["due_time"] else record["due_on"]


def _state_shown(record: Mapping[str, Any]) -> str:
    """The status in words, with its flags, for people."""
    flags = [TASK_STATUS_WORDS.get(str(record["status"]), str(record["status"]))]
    flags += ["OVERDUE"] if record["overdue"] else []
    flags += ["repeats"] if record["repeat"] else []
    return ", ".join(flags)


TASK_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("due", "Due", no_wrap=True, show=_due_shown),
    Column("priority", "Priority", no_wrap=True),
    Column("title", "Task", min_width=20),
    Column("patient_name", "Patient", min_width=8),
    Column("state", "Status", show=_state_shown),
)


def _due(text: str | None) -> tuple[date | None, time | None]:
    if text is None:
        return None, None
    from carecoord.dates import parse_when

    return parse_when(text, past=False)


def _due_window(text: str) -> tuple[date | None, date | None]:
    from carecoord.dates import parse_date_range, today

    word = text.strip().lower()
    now = today()
    windows = {
        "today": (now, now),
        "overdue": (None, now - timedelta(days=1)),
        "week": (None, now + timedelta(days=6)),
    }
    if word in windows:
        return windows[word]
    if ".." in word:
        return parse_date_range(word)
    from carecoord.errors import ValidationError

    raise ValidationError(f"cannot read --due '{text}'; use {DUE_WINDOWS}")


def _confirmation(message: str, task: Task) -> tuple[str, dict[str, object]]:
    """The confirmation of a change, built inside the transaction and printed after it commits."""
    from carecoord.records import task_record

    return message, task_record(task)


@app.command("add")
@field_options(TASK, edit=False, skip=("title", "due_on", "due_time"))
def add(
    title: Annotated[str, typer.Argument(help="What needs doing.")],
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="The patient it is for.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="The care plan it belongs to.")] = None,
    goal: Annotated[str | None, typer.Option("--goal", help="The goal it serves (implies its plan).")] = None,
    due: DueOpt = None,
    fields: FieldValues = FIELDS,
    every: EveryOpt = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeatable.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a task, for a patient or not, maybe under a plan and goal, maybe repeating.

    Example: carecoord task add 'Weekly weight check call' --patient jane --due mon --every weekly
    """
    from carecoord.recurrence import parse_rule
    from carecoord.services import goals, patients, plans, tasks

    due_on, due_time = _due(due)
    rule = parse_rule(every) if every is not None else None
    with store(write=True) as session:
        placement = tasks.place(
            session,
            patients.resolve(session, patient) if patient else None,
            plans.resolve(session, plan) if plan else None,
            goals.resolve(session, goal) if goal else None,
        )
        task = tasks.add_task(
            session, title, placement, due_on=due_on, due_time=due_time, rrule=rule, tags=tag or (), **fields
        )
        when = f", due {task.due_on}" + (f" {task.due_time:%H:%M}" if task.due_time else "") if task.due_on else ""
        message, record = _confirmation(f"Added task {tasks.describe(task)}{when}.", task)
    confirm_change(message, record, fmt)


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's tasks.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan's tasks.")] = None,
    status: Annotated[
        list[TaskStatus] | None,
        typer.Option(
            "--status", help="Only these statuses (repeatable; default: the open ones).", case_sensitive=False
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every status, done and cancelled included.")] = False,
    priority: PriorityOpt = None,
    tag: Annotated[str | None, typer.Option("--tag", "-t", help="Only tasks with this tag.")] = None,
    due: Annotated[str | None, typer.Option("--due", help=f"Due: {DUE_WINDOWS}.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most this many.")] = None,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List tasks, most urgent first: overdue, then by priority, then by due date. With --mine or
    --coordinator, only tasks for that coordinator's patients.

    Example: carecoord task list --due overdue --format json
    """
    from dataclasses import replace

    from carecoord.commands._common import whose
    from carecoord.dates import today
    from carecoord.output import rows_shown
    from carecoord.records import TASK_KEYS, task_record
    from carecoord.services import patients, plans, tasks

    statuses = frozenset(s.value for s in TaskStatus) if all_ else frozenset(s.value for s in status or ())
    due_from, due_to = _due_window(due) if due else (None, None)
    with store(write=False) as session:
        wanted = tasks.TaskFilter(
            statuses=statuses or tasks.TaskFilter().statuses,
            patient_id=patients.resolve(session, patient).id if patient else None,
            plan_id=plans.resolve(session, plan).id if plan else None,
            priority=priority.value if priority else None,
            tag=tag,
            due_from=due_from,
            due_to=due_to,
            due_filter=due is not None,
            limit=limit,
            coordinator=whose(session, mine, coordinator),
        )
        total, shown = None, rows_shown(fmt)
        if shown is not None and limit is None:  # a table shows only its first rows: fetch only those
            total = tasks.count_tasks(session, wanted)
            wanted = replace(wanted, limit=shown)
        as_of = today()
        records = [task_record(task, name, as_of=as_of) for task, name in tasks.list_tasks(session, wanted)]
    render_list(records, TASK_COLUMNS, fmt, keys=TASK_KEYS, title=f"Tasks ({total or len(records)})",
                empty="No tasks match.", total=total)  # fmt: skip


@app.command("show")
def show(task: TaskArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Everything about one task, with its recurring series.

    Example: carecoord task show 12
    """
    from carecoord.output import render_record
    from carecoord.records import TASK_KEYS, task_record
    from carecoord.services import tasks

    with store(write=False) as session:
        found = tasks.resolve(session, task)
        name = _patient_name(session, found.patient_id)
        record = task_record(found, name)
        record["series"] = [task_record(t, name) for t in tasks.series(session, found)] if found.series_id else []
    series_columns = (Column("id", "ID"), Column("due_on", "Due"), Column("status", "Status"),
                      Column("status_reason", "Note"))  # fmt: skip
    render_record(
        record,
        shown_columns(TASK),
        fmt,
        keys=TASK_KEYS,
        title=f"Task #{record['id']}",
        sections=(("Series", "series", series_columns),),
    )


def _patient_name(session: Session, patient_id: int | None) -> str | None:
    from carecoord.models import Patient

    patient = session.get(Patient, patient_id) if patient_id is not None else None
    return patient.name if patient else None


@app.command("edit")
@field_options(TASK, edit=True, skip=("due_on", "due_time"))
def edit(
    task: TaskArg,
    fields: FieldValues = FIELDS,
    due: DueOpt = None,
    every: EveryOpt = None,
    add_tag: Annotated[list[str] | None, typer.Option("--add-tag", help="Add a tag; repeatable.")] = None,
    remove_tag: Annotated[list[str] | None, typer.Option("--remove-tag", help="Remove a tag; repeatable.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a task. A new --every restarts the series from the task's due date.

    Example: carecoord task edit 12 --due 'mon 10am' --priority urgent
    """
    from carecoord.errors import UsageError
    from carecoord.recurrence import parse_rule
    from carecoord.services import tasks

    fields = dict(fields)
    if due is not None:
        fields["due_on"], fields["due_time"] = _due(due) if due.strip() else (None, None)
    rule = parse_rule(every) if every is not None else None
    if not fields and rule is None and not add_tag and not remove_tag:
        raise UsageError("nothing to change: give at least one option (see 'carecoord task edit --help')")
    with store(write=True) as session:
        found = tasks.update_task(
            session, tasks.resolve(session, task), fields, rrule=rule, add_tags=add_tag or (),
            remove_tags=remove_tag or (),
        )  # fmt: skip
        message, record = _confirmation(f"Updated task {tasks.describe(found)}.", found)
    confirm_change(message, record, fmt)


def _change(task: str, status: TaskStatus, verb: str, fmt: OutputFormat, reason: str | None = None) -> None:
    from carecoord.services import tasks

    with store(write=True) as session:
        found = tasks.change_status(session, tasks.resolve(session, task), status.value, reason)
        message, record = _confirmation(f"Task {tasks.describe(found)} {verb}.", found)
    confirm_change(message, record, fmt)


@app.command("start")
def start(task: TaskArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Mark a task in progress.  Example: carecoord task start 12"""
    _change(task, TaskStatus.in_progress, "is in progress", fmt)


@app.command("hold")
def hold(task: TaskArg, note: NoteOpt = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Put a task on hold.  Example: carecoord task hold 12 --note 'waiting for PCP'"""
    _change(task, TaskStatus.on_hold, "is on hold", fmt, note)


@app.command("cancel")
def cancel(task: TaskArg, note: NoteOpt = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Cancel a task (it stays on record).  Example: carecoord task cancel 12 --note 'no longer needed'"""
    _change(task, TaskStatus.cancelled, "is cancelled", fmt, note)


@app.command("reopen")
def reopen(task: TaskArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Reopen a completed or cancelled task.  Example: carecoord task reopen 12"""
    _change(task, TaskStatus.requested, "is open again", fmt)


def _finish(task: str, note: str | None, fmt: OutputFormat, *, skipping: bool, when: str | None = None) -> None:
    from carecoord.commands._common import optional_datetime
    from carecoord.dates import local_zone
    from carecoord.services import tasks

    at = optional_datetime(when, past=True)
    with store(write=True) as session:
        found = tasks.resolve(session, task)
        following = tasks.skip(session, found, note) if skipping else tasks.complete(session, found, note, at=at)
        verb = "skipped" if skipping else "done"
        if at is not None:  # a date typed: say which day it was read as ("mon" is last Monday)
            local = at.astimezone(local_zone())
            verb += f" on {local:%a %Y-%m-%d}" + (f" {local:%H:%M}" if local.time() != time(0) else "")
        after = f" Next: #{following.id} due {following.due_on}." if following else ""
        if found.rrule and following is None:
            after = " The series has ended."
        message, record = _confirmation(f"Task {tasks.describe(found)} {verb}.{after}", found)
    confirm_change(message, record, fmt)


@app.command("done")
def done(
    task: TaskArg,
    note: NoteOpt = None,
    when: Annotated[
        str | None, typer.Option("--date", help=date_help("When it was done (default now).", past=True, time=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Complete a task; a repeating one gets its next occurrence.

    Example: carecoord task done 12 --note 'refill sent to pharmacy' --date mon
    """
    _finish(task, note, fmt, skipping=False, when=when)


@app.command("skip")
def skip(task: TaskArg, note: NoteOpt = None, fmt: FormatOption = OutputFormat.table) -> None:
    """Skip this occurrence of a repeating task and create the next one.

    Example: carecoord task skip 12 --note 'patient in hospital'
    """
    _finish(task, note, fmt, skipping=True)


@app.command("end-series")
def end_series(task: TaskArg) -> None:
    """Stop a repeating task from repeating (its open occurrence stays open).

    Example: carecoord task end-series 12
    """
    from carecoord.services import tasks

    with store(write=True) as session:
        found = tasks.resolve(session, task)
        tasks.end_series(session, found)
    print(f"Task {tasks.describe(found)} no longer repeats.")


@app.command("delete")
def delete(task: TaskArg, yes: YesOption = False) -> None:
    """Delete a task entered by mistake (cancel is the usual way).

    Example: carecoord task delete 12 --yes
    """
    from carecoord.services import tasks

    with store(write=False) as session:  # ask before taking the write lock
        found = tasks.resolve(session, task)
        target, name = f"{found.id}", tasks.describe(found)
    confirm_or_refuse(f"Delete task {name}?", yes)
    with store(write=True) as session:
        tasks.delete_task(session, tasks.resolve(session, target))
    print(f"Deleted task {name}.")
