"""Tasks: to-dos with priority, due dates, tags, status changes and recurring series."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import case, or_
from sqlmodel import Session, col, func, select

from carecoord.dates import today
from carecoord.errors import ConflictError, ValidationError
from carecoord.fields import TASK
from carecoord.models import CarePlan, Goal, Patient, Task, utcnow
from carecoord.recurrence import next_date
from carecoord.services import snapshots, text
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.services.plans import ensure_open
from carecoord.services.tags import has_tag, join_tags, retag
from carecoord.vocab import (
    PRIORITY_RANK,
    TASK_OPEN,
    TASK_STATUS_WORDS,
    TASK_TRANSITIONS,
    PatientStatus,
    TaskPriority,
    TaskStatus,
)

SKIPPED = "skipped"


@dataclass(frozen=True)
class Placement:
    """Where a task belongs: a patient, and maybe a plan and one of its goals."""

    patient_id: int | None
    plan_id: int | None
    goal_id: int | None


def place(session: Session, patient: Patient | None, plan: CarePlan | None, goal: Goal | None) -> Placement:
    """Work out a task's patient, plan and goal from what was given; they must agree."""
    if goal is not None:
        if plan is not None and plan.id != goal.plan_id:
            raise ValidationError(f"goal #{goal.id} belongs to plan #{goal.plan_id}, not plan #{plan.id}")
        plan = session.get(CarePlan, goal.plan_id)
    if plan is not None:
        ensure_open(plan, "tasks")
        if patient is not None and patient.id != plan.patient_id:
            raise ValidationError(f"plan #{plan.id} belongs to patient #{plan.patient_id}, not #{patient.id}")
        return Placement(plan.patient_id, plan.id, goal.id if goal else None)
    return Placement(patient.id if patient else None, None, None)


def add_task(
    session: Session,
    title: str,
    placement: Placement,
    *,
    rrule: str | None = None,
    tags: Iterable[str] = (),
    **fields: Any,
) -> Task:
    """Create an open task with any settable fields of ``fields.TASK`` (routine unless given a
    priority); a recurring one without a due date starts today."""
    values = text.clean_fields(TASK, {**fields, "title": title})
    values["priority"] = values.get("priority") or TaskPriority.routine.value
    if rrule and values.get("due_on") is None:
        values["due_on"] = today()
    task = Task(
        patient_id=placement.patient_id,
        plan_id=placement.plan_id,
        goal_id=placement.goal_id,
        rrule=rrule,
        repeat_from=values["due_on"] if rrule else None,
        tags=join_tags(tags),
        **values,
    )
    session.add(task)
    session.flush()
    if rrule:
        task.series_id = task.id
        session.flush()
    return task


def update_task(
    session: Session,
    task: Task,
    fields: Mapping[str, Any],
    *,
    rrule: str | None = None,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
) -> Task:
    """Change a task; a new repeat rule restarts the series from the task's due date."""
    for key, value in text.clean_fields(TASK, fields).items():
        setattr(task, key, value)
    if rrule is not None:
        task.due_on = task.due_on or today()
        task.rrule, task.repeat_from = rrule, task.due_on
        task.series_id = task.series_id or task.id
    if task.rrule and task.due_on is None:
        raise ValidationError(f"task #{task.id} repeats, so it needs a due date")
    task.tags = retag(task.tags, add_tags, remove_tags, f"task #{task.id}")
    session.flush()
    return task


def _move(task: Task, status: str, reason: str | None = None) -> None:
    if status == task.status:
        raise ConflictError(f"task #{task.id} is already {TASK_STATUS_WORDS.get(status, status)}")
    if status not in TASK_TRANSITIONS[task.status]:
        hint = " (reopen it first)" if task.status not in TASK_OPEN else ""
        raise ConflictError(f"task #{task.id} is {task.status} and cannot become {status}{hint}")
    task.status = status
    task.status_reason = text.single_line(reason, "note")


def change_status(session: Session, task: Task, status: str, reason: str | None = None) -> Task:
    """Start, hold, cancel or reopen a task (completion and skipping have their own functions).
    A transition's follow-up that a call or visit still meets is not reopened (the rule is in
    services/transitions.py)."""
    if status == TaskStatus.requested.value and task.status == TaskStatus.completed.value:
        from carecoord.services.transitions import refuse_reopening  # it imports this module: imported late

        refuse_reopening(session, task)
    _move(task, status, reason)
    if status == TaskStatus.requested.value:
        task.completed_at = None
    session.flush()
    return task


def complete(session: Session, task: Task, note: str | None = None, *, at: datetime | None = None) -> Task | None:
    """Mark a task done (``at``: when it was done, default now, never later than now); for a
    recurring task, create and return the next occurrence."""
    current = utcnow()
    if at is not None and at > current:
        raise ValidationError(
            f"task #{task.id} cannot be done in the future ({at:%Y-%m-%d %H:%M}); give when it was done"
        )
    _move(task, TaskStatus.completed.value, note)
    task.completed_at = at or current
    session.flush()
    return _next_occurrence(session, task)


def skip(session: Session, task: Task, note: str | None = None) -> Task | None:
    """Skip this occurrence of a recurring task and create the next one."""
    if not task.rrule:
        raise ConflictError(f"task #{task.id} does not repeat; cancel it instead")
    _move(task, TaskStatus.cancelled.value, note or SKIPPED)
    session.flush()
    return _next_occurrence(session, task)


def _next_occurrence(session: Session, task: Task) -> Task | None:
    if not task.rrule or task.due_on is None:
        return None
    due = next_date(task.rrule, task.repeat_from or task.due_on, task.due_on)
    if due is None:
        return None
    already = session.exec(select(Task).where(Task.series_id == task.series_id, Task.due_on == due)).first()
    if already is not None:  # reopened and finished again: the next one exists (or was already done)
        return already if already.status in TASK_OPEN else None
    following = Task(
        title=task.title,
        patient_id=task.patient_id,
        plan_id=task.plan_id,
        goal_id=task.goal_id,
        priority=task.priority,
        due_on=due,
        due_time=task.due_time,
        rrule=task.rrule,
        repeat_from=task.repeat_from,
        series_id=task.series_id,
        tags=task.tags,
        notes=task.notes,
    )
    session.add(following)
    session.flush()
    return following


def end_series(session: Session, task: Task) -> int:
    """Stop a recurring series for good: no occurrence repeats any more, even if reopened.
    Returns how many changed; the chain stays visible in 'task show'."""
    if not task.rrule:
        raise ConflictError(f"task #{task.id} does not repeat")
    repeating = session.exec(select(Task).where(Task.series_id == task.series_id, col(Task.rrule).is_not(None))).all()
    for occurrence in repeating:
        occurrence.rrule = None
    session.flush()
    return len(repeating)


def delete_task(session: Session, task: Task) -> None:
    """Remove a task (the audit trail keeps what it was)."""
    session.delete(task)
    session.flush()


def series(session: Session, task: Task) -> Sequence[Task]:
    """Every occurrence in the task's series, by due date."""
    if task.series_id is None:
        return [task]
    return session.exec(
        select(Task).where(Task.series_id == task.series_id).order_by(col(Task.due_on), col(Task.id))
    ).all()


def describe(task: Task) -> str:
    """``#12 Call pharmacy about refills``."""
    return f"#{task.id} {task.title}"


def resolve(session: Session, ref: str) -> Task:
    """A task from its id, or an unambiguous part of an open task's title."""
    cleaned = require_ref(ref, "task")
    task_id = as_id(cleaned)
    if task_id is not None:
        query = select(Task).where(Task.id == task_id)
    else:
        query = select(Task).where(col(Task.title).icontains(cleaned, autoescape=True), col(Task.status).in_(TASK_OPEN))
    return pick_one(cleaned, "task", session.exec(query.order_by(col(Task.id)).limit(50)).all(), describe, limit=50)


@dataclass(frozen=True)
class TaskFilter:
    """What ``task list`` narrows by. Due bounds are inclusive; None is open-ended."""

    statuses: frozenset[str] = field(default_factory=lambda: TASK_OPEN)
    patient_id: int | None = None
    plan_id: int | None = None
    goal_id: int | None = None
    priority: str | None = None
    tag: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    due_filter: bool = False
    active_patients_only: bool = False
    limit: int | None = None
    coordinator: str | None = None  # only tasks of this coordinator's patients


def _filtered(query: Any, wanted: TaskFilter) -> Any:
    """``query`` (tasks outer-joined to their patients) narrowed by ``wanted``."""
    query = query.where(col(Task.status).in_(wanted.statuses))
    for column, value in ((Task.patient_id, wanted.patient_id), (Task.plan_id, wanted.plan_id),
                          (Task.goal_id, wanted.goal_id), (Task.priority, wanted.priority)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if wanted.tag:
        query = query.where(has_tag(col(Task.tags), wanted.tag))
    if wanted.coordinator is not None:
        query = query.where(Patient.coordinator == wanted.coordinator)
    if wanted.active_patients_only:
        query = query.where(or_(col(Task.patient_id).is_(None), col(Patient.status) != PatientStatus.discharged.value))
    if wanted.due_filter:
        query = query.where(col(Task.due_on).is_not(None))
    if wanted.due_from is not None:
        query = query.where(col(Task.due_on) >= wanted.due_from)
    if wanted.due_to is not None:
        query = query.where(col(Task.due_on) <= wanted.due_to)
    return query


def count_tasks(session: Session, wanted: TaskFilter) -> int:
    """How many tasks match ``wanted``."""
    query = select(func.count()).select_from(Task).outerjoin(Patient, col(Patient.id) == Task.patient_id)
    return int(session.exec(_filtered(query, wanted)).one())


def list_tasks(session: Session, wanted: TaskFilter) -> Sequence[tuple[Task, str | None]]:
    """Tasks with their patient's name, most urgent first: overdue, then priority, then due.

    Read-only snapshots (services/snapshots.py), for listing: a week of an agency's tasks is
    10,000 rows. Sorted here unless only the first ``limit`` are wanted (PostgreSQL spent more time
    sorting them on the order's expressions than finding them)."""
    query = _filtered(
        snapshots.query(Task, Patient.name).outerjoin(Patient, col(Patient.id) == Task.patient_id), wanted
    )
    as_of = today()
    if wanted.limit:
        overdue_first = case((col(Task.due_on) < as_of, 0), else_=1)
        priority_rank = case(PRIORITY_RANK, value=Task.priority, else_=len(PRIORITY_RANK))
        query = query.order_by(
            overdue_first,
            priority_rank,
            col(Task.due_on).is_(None),
            col(Task.due_on),
            col(Task.due_time).is_(None),
            col(Task.due_time),
            col(Task.id),
        ).limit(wanted.limit)
    found = [(snapshots.snapshot(Task, row[:-1]), row[-1]) for row in session.exec(query)]
    if not wanted.limit:
        found.sort(key=lambda pair: _urgency(pair[0], as_of))
    return found


def _urgency(task: Task, as_of: date) -> tuple[Any, ...]:
    """The order of :func:`list_tasks` (as its SQL has it, where NULL is neither before nor after a date)."""
    return (
        0 if task.due_on is not None and task.due_on < as_of else 1,
        PRIORITY_RANK.get(task.priority, len(PRIORITY_RANK)),
        task.due_on is None,
        task.due_on or date.min,
        task.due_time is None,
        task.due_time or time.min,
        task.id,
    )
