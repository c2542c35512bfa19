"""A patient's timeline: calls, visits, completed tasks, reviews, discharges and status changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from carecoord.dates import day_start, local_zone, now
from carecoord.models import AuditEntry, CarePlan, Communication, Patient, PlanReview, Task, Transition
from carecoord.services.appointments import AppointmentFilter, label, occurrences

# Status changes worth a line, from the audit trail: table -> what it is called.
STATUS_TABLES = {"patient": "patient", "care_plan": "plan", "goal": "goal"}
DEFAULT_SPAN = timedelta(days=365)


@dataclass(frozen=True)
class Event:
    """Something that happened to or for the patient."""

    at: datetime
    kind: str
    record_id: int
    summary: str


def _local_day(day: date) -> datetime:
    return day_start(day, local_zone())


def timeline(session: Session, patient: Patient, since: datetime | None = None) -> list[Event]:
    """Everything recorded about ``patient`` since ``since`` (default: a year ago), newest first."""
    start = since or now() - DEFAULT_SPAN
    end = now()
    events: list[Event] = []
    for entry in session.exec(
        select(Communication).where(Communication.patient_id == patient.id, col(Communication.at) >= start)
    ).all():
        who = f" with {entry.with_whom}" if entry.with_whom else ""
        minutes = f", {entry.minutes} min" if entry.minutes else ""
        note = f": {entry.note}" if entry.note else ""
        events.append(Event(entry.at, "log", entry.id or 0,
                            f"{entry.direction} {entry.channel}{who} ({entry.outcome}{minutes}){note}"))  # fmt: skip
    for sitting, _ in occurrences(session, AppointmentFilter(start, end, patient_id=patient.id)):
        reason = f" ({sitting.reason})" if sitting.reason else ""
        events.append(Event(sitting.start, "appointment", sitting.appointment.id or 0,
                            f"{label(sitting.appointment)} {sitting.status}{reason}"))  # fmt: skip
    for task in session.exec(
        select(Task).where(Task.patient_id == patient.id, col(Task.completed_at) >= start, Task.status == "completed")
    ).all():
        assert task.completed_at is not None
        note = f": {task.status_reason}" if task.status_reason else ""
        events.append(Event(task.completed_at, "task done", task.id or 0, f"{task.title}{note}"))
    first_day = start.astimezone(local_zone()).date()
    reviews = session.exec(
        select(PlanReview, CarePlan).join(CarePlan, col(CarePlan.id) == PlanReview.plan_id)
        .where(PlanReview.patient_id == patient.id, col(PlanReview.reviewed_on) >= first_day)
    ).all()  # fmt: skip
    for review, plan in reviews:
        note = f": {review.note}" if review.note else ""
        events.append(Event(_local_day(review.reviewed_on), "plan review", plan.id or 0, f"{plan.title}{note}"))
    for transition in session.exec(
        select(Transition).where(Transition.patient_id == patient.id, col(Transition.discharged_on) >= first_day)
    ).all():
        events.append(Event(_local_day(transition.discharged_on), "discharge", transition.id or 0,
                            f"discharged from {transition.facility} ({transition.complexity} complexity)"))  # fmt: skip
    events += _status_changes(session, patient, start)
    events.sort(key=lambda e: (e.at.astimezone(UTC), e.kind, e.record_id), reverse=True)
    return events


def _status_changes(session: Session, patient: Patient, start: datetime) -> list[Event]:
    changes = session.exec(
        select(AuditEntry).where(
            AuditEntry.patient_id == patient.id,
            col(AuditEntry.table_name).in_(STATUS_TABLES),
            col(AuditEntry.at) >= start,
        )
    ).all()
    events = []
    for change in changes:
        fields = json.loads(change.changes)
        key = "lifecycle_status" if change.table_name == "goal" else "status"
        if change.action == "update" and key in fields:
            old, new = fields[key]
            noun = STATUS_TABLES[change.table_name]
            events.append(Event(change.at, "status", change.record_id, f"{noun} #{change.record_id}: {old} -> {new}"))
    return events
