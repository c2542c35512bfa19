"""Tasks <-> FHIR R4 Task (https://hl7.org/fhir/R4/task.html).

The title is ``Task.description``; the patient ``for``; the plan ``basedOn``; the goal ``focus``. The
due date (and time, in the coordinator's zone) is ``restriction.period.end``, "the time by which the
task should be done"; when it was done, ``executionPeriod.end``. Tags are ``meta.tag`` codings in
carecoord's ``task-tag`` code system. A recurring task's rule (RFC 5545 RRULE), its first due date and
the series it belongs to are carecoord's ``task-series`` extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, tzinfo
from typing import TYPE_CHECKING, Any

from carecoord.errors import ValidationError
from carecoord.fhir import Refs, code_system, uid_for
from carecoord.fhir.elements import (
    coding,
    compact,
    complex_extension,
    day,
    instant,
    meta,
    parts_of,
    read_date,
    read_moment,
    record_identifier,
)
from carecoord.fhir.parts import Resource, annotation, name, note_text

if TYPE_CHECKING:
    from carecoord.models import Task

# Task.status: https://hl7.org/fhir/R4/codesystem-task-status.html. carecoord keeps the everyday subset
# (vocab.TaskStatus); the other codes are read as the nearest of it.
TASK_STATUS_FROM_FHIR = {
    "draft": "requested", "requested": "requested", "received": "requested", "accepted": "requested",
    "ready": "requested", "in-progress": "in-progress", "on-hold": "on-hold", "completed": "completed",
    "cancelled": "cancelled", "rejected": "cancelled", "failed": "cancelled", "entered-in-error": "cancelled",
}  # fmt: skip
# Task.priority: request-priority, https://hl7.org/fhir/R4/codesystem-request-priority.html (vocab.TaskPriority).
PRIORITIES = frozenset({"routine", "urgent", "asap", "stat"})
# Task.intent (task-intent, https://hl7.org/fhir/R4/valueset-task-intent.html): a coordinator's to-do is
# "plan", an intention without authorizing others to act.
INTENT = "plan"
TAG_SYSTEM = code_system("task-tag")
SERIES = "task-series"  # complex: rule (valueString RRULE), start (valueDate), series (valueUuid)


@dataclass(frozen=True)
class TaskLinks:
    """What a Task points at: its patient, the references that may be its plan or goal, its series' uid."""

    patient: dict[str, Any] | None
    based_on: list[dict[str, Any]]
    focus: dict[str, Any] | None
    series: str | None


def task_to_fhir(
    task: Task,
    refs: Refs,
    *,
    patient_uid: str,
    zone: tzinfo,
    plan_uid: str | None = None,
    goal_uid: str | None = None,
    series_uid: str | None = None,
) -> Resource:
    """The Task resource of a task. ``series_uid``: the uid that names its series (its first task's);
    ``zone``: the coordinator's, in which a due time is a wall-clock time."""
    tags = [tag for tag in task.tags.split(",") if tag]  # the stored form (services.tags)
    return compact({
        "resourceType": "Task",
        "id": task.uid,
        "meta": meta(task.updated_at) | ({"tag": [coding(TAG_SYSTEM, tag) for tag in tags]} if tags else {}),
        "extension": [_series_extension(task, series_uid)] if task.rrule or task.series_id is not None else None,
        "identifier": [record_identifier(task.uid)],
        "basedOn": [refs.to("CarePlan", plan_uid)] if plan_uid else None,
        "status": task.status,
        "statusReason": {"text": task.status_reason} if task.status_reason else None,
        "intent": INTENT,
        "priority": task.priority,
        "description": task.title,
        "focus": refs.to("Goal", goal_uid) if goal_uid else None,
        "for": refs.to("Patient", patient_uid),
        "executionPeriod": {"end": instant(task.completed_at)} if task.completed_at else None,
        "authoredOn": instant(task.created_at) if task.created_at else None,
        "note": annotation(task.notes),
        "restriction": {"period": {"end": due(task.due_on, task.due_time, zone)}} if task.due_on else None,
    })  # fmt: skip


def due(day: date, clock: time | None, zone: tzinfo) -> str:
    """A due date as a FHIR date, or with its time as a dateTime with the zone's offset on that day."""
    if clock is None:
        return day.isoformat()
    from carecoord.dates import localize

    return localize(day, clock, zone).isoformat(timespec="seconds")


def _series_extension(task: Task, series_uid: str | None) -> dict[str, Any]:
    return complex_extension(SERIES, [
        ("rule", "String", task.rrule or None),
        ("start", "Date", day(task.repeat_from)),
        ("series", "Uuid", f"urn:uuid:{series_uid}" if series_uid else None),
    ])  # fmt: skip


def task_from_fhir(resource: Resource, zone: tzinfo) -> dict[str, Any]:
    """The task's fields from a Task (the links to patient, plan, goal and series: :func:`task_links`).
    ``tags`` comes back in the stored form, to be checked by the caller."""
    owner = name(resource)
    title = (resource.get("description") or (resource.get("code") or {}).get("text") or "").strip()
    if not title:
        raise ValidationError(f"{owner}: no description (the task's title)")
    status = TASK_STATUS_FROM_FHIR.get(resource.get("status") or "")
    if status is None:
        raise ValidationError(f"{owner}: status '{resource.get('status')}' is not a FHIR task status")
    priority = resource.get("priority") or "routine"
    if priority not in PRIORITIES:
        raise ValidationError(f"{owner}: priority '{priority}' is not a FHIR request priority")
    due_on, due_time = _due(((resource.get("restriction") or {}).get("period") or {}).get("end"), zone)
    series = parts_of(resource, SERIES) or {}
    rule = series.get("rule")
    tags = sorted({t["code"] for t in (resource.get("meta") or {}).get("tag") or ()
                   if t.get("system") == TAG_SYSTEM and t.get("code")})  # fmt: skip
    done = read_moment((resource.get("executionPeriod") or {}).get("end")) if status == "completed" else None
    return {
        "title": title.splitlines()[0],
        "status": status,
        "status_reason": (resource.get("statusReason") or {}).get("text") or None,
        "priority": priority,
        "due_on": due_on,
        "due_time": due_time,
        "rrule": rule or None,
        "repeat_from": read_date(series.get("start")),
        "tags": ",".join(tags),
        "notes": note_text(resource),
        "completed_at": done,
    }


def _due(value: Any, zone: tzinfo) -> tuple[date | None, time | None]:
    """A due date, and the wall-clock time in ``zone`` when the dateTime has one."""
    moment = read_moment(value)
    if moment is None:
        return read_date(value), None
    local = moment.astimezone(zone)
    return local.date(), local.time().replace(microsecond=0)


def task_links(resource: Resource) -> TaskLinks:
    """What the Task points at: ``for``, ``basedOn``, ``focus``, and the uid of its series."""
    key = str((parts_of(resource, SERIES) or {}).get("series") or "").removeprefix("urn:uuid:")
    return TaskLinks(
        patient=resource.get("for"),
        based_on=list(resource.get("basedOn") or ()),
        focus=resource.get("focus"),
        series=uid_for("Task", key) if key else None,
    )
