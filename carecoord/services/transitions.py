"""Transitions of care: a discharge, its follow-up tasks, and whether the deadlines were met."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from carecoord.clinical import (
    FACE_TO_FACE_APPOINTMENTS,
    FACE_TO_FACE_CHANNELS,
    INTERACTIVE_CHANNELS,
    TCM_CODES,
    TCM_CONTACT_BUSINESS_DAYS,
    TCM_PERIOD_DAYS,
    TCM_VISIT_DAYS,
)
from carecoord.dates import add_business_days, day_start, local_zone, today
from carecoord.errors import ConflictError, ValidationError
from carecoord.models import Communication, Patient, Task, Transition
from carecoord.services import text
from carecoord.services.appointments import AppointmentFilter, occurrences
from carecoord.services.tasks import Placement, add_task, complete
from carecoord.vocab import TASK_OPEN

TCM_TAG = "tcm"


def add_transition(
    session: Session, patient: Patient, *, discharged_on: date, facility: str, complexity: str, notes: str | None = None
) -> Transition:
    """Record a discharge and create its two follow-up tasks with their deadlines."""
    facility = text.required_line(facility, "facility")
    if discharged_on > today():
        raise ValidationError(f"the discharge date {discharged_on} is in the future")
    if complexity not in TCM_VISIT_DAYS:
        raise ValidationError(f"complexity is one of {', '.join(TCM_VISIT_DAYS)}, not {complexity}")
    same = session.exec(
        select(Transition).where(
            Transition.patient_id == patient.id, Transition.discharged_on == discharged_on,
            col(Transition.facility).ilike(facility),
        )
    ).first()  # fmt: skip
    if same is not None:
        raise ConflictError(f"this discharge is already recorded as transition #{same.id}")
    contact_due = add_business_days(discharged_on, TCM_CONTACT_BUSINESS_DAYS)
    visit_due = discharged_on + timedelta(days=TCM_VISIT_DAYS[complexity])
    here = Placement(patient.id, None, None)
    contact_task = add_task(
        session, f"TCM: interactive contact after discharge from {facility}", here,
        due_on=contact_due, priority="urgent", tags=(TCM_TAG,),
    )  # fmt: skip
    visit_task = add_task(
        session, f"TCM: face-to-face visit after discharge from {facility} ({TCM_CODES[complexity]})", here,
        due_on=visit_due, priority="urgent", tags=(TCM_TAG,),
    )  # fmt: skip
    assert patient.id is not None
    transition = Transition(
        patient_id=patient.id, facility=facility, discharged_on=discharged_on, complexity=complexity,
        contact_due=contact_due, visit_due=visit_due, contact_task_id=contact_task.id, visit_task_id=visit_task.id,
        notes=text.free_text(notes, "notes"),
    )  # fmt: skip
    session.add(transition)
    session.flush()
    return transition


def _earliest(since: date, dates: list[date]) -> date | None:
    """The first of ``dates`` within the TCM period that starts at ``since``."""
    end = since + timedelta(days=TCM_PERIOD_DAYS)
    return min((d for d in dates if since <= d <= end), default=None)


@dataclass(frozen=True)
class Deadline:
    """One transitional-care deadline and what happened."""

    due: date
    done_on: date | None
    state: str  # met | late | missed | open

    @classmethod
    def judge(cls, due: date, done_on: date | None, now: date) -> Deadline:
        if done_on is not None:
            return cls(due, done_on, "met" if done_on <= due else "late")
        return cls(due, None, "missed" if due < now else "open")


@dataclass(frozen=True)
class TransitionStatus:
    """A transition with its patient and both deadlines judged."""

    transition: Transition
    patient: Patient
    contact: Deadline
    visit: Deadline


def list_transitions(
    session: Session, *, patient_id: int | None = None, since: date | None = None
) -> Sequence[tuple[Transition, Patient]]:
    """Transitions with their patients, newest discharge first."""
    query = select(Transition, Patient).join(Patient, col(Patient.id) == Transition.patient_id)
    if patient_id is not None:
        query = query.where(Transition.patient_id == patient_id)
    if since is not None:
        query = query.where(col(Transition.discharged_on) >= since)
    query = query.order_by(col(Transition.discharged_on).desc(), col(Transition.id).desc())
    return [(transition, patient) for transition, patient in session.exec(query).all()]


def judge(session: Session, rows: Sequence[tuple[Transition, Patient]]) -> list[TransitionStatus]:
    """Whether each deadline was met, from the log, fulfilled visits and completed follow-up tasks.

    A handful of queries for all the transitions together, not a loop of queries.
    """
    if not rows:
        return []
    zone = local_zone()
    first = min(t.discharged_on for t, _ in rows)
    patient_ids = {t.patient_id for t, _ in rows}
    reached = session.exec(
        select(Communication).where(
            col(Communication.patient_id).in_(patient_ids), Communication.outcome == "reached",
            col(Communication.at) >= day_start(first, zone),
        )
    ).all()  # fmt: skip
    task_ids = {i for t, _ in rows for i in (t.contact_task_id, t.visit_task_id) if i is not None}
    done_tasks = {
        task.id: task.completed_at.astimezone(zone).date()
        for task in session.exec(select(Task).where(col(Task.id).in_(task_ids))).all()
        if task.completed_at is not None and task.status == "completed"
    }
    last = max(t.discharged_on for t, _ in rows) + timedelta(days=TCM_PERIOD_DAYS + 1)
    fulfilled = [
        (sitting.appointment.patient_id, sitting.start.astimezone(zone).date(), sitting.appointment.kind)
        for sitting, _ in occurrences(session, AppointmentFilter(day_start(first, zone), day_start(last, zone)))
        if sitting.status == "fulfilled" and sitting.appointment.patient_id in patient_ids
    ]
    now = today()
    result = []
    for transition, patient in rows:
        since = transition.discharged_on
        logged = [(c.channel, c.at.astimezone(zone).date()) for c in reached if c.patient_id == patient.id]
        visits = [(d, kind) for who, d, kind in fulfilled if who == patient.id]
        contact_done = _earliest(
            since,
            [d for channel, d in logged if channel in INTERACTIVE_CHANNELS]
            + [d for d, _kind in visits]
            + [done_tasks[i] for i in (transition.contact_task_id,) if i in done_tasks],
        )
        visit_done = _earliest(
            since,
            [d for channel, d in logged if channel in FACE_TO_FACE_CHANNELS]
            + [d for d, kind in visits if kind in FACE_TO_FACE_APPOINTMENTS]
            + [done_tasks[i] for i in (transition.visit_task_id,) if i in done_tasks],
        )
        result.append(
            TransitionStatus(
                transition, patient,
                Deadline.judge(transition.contact_due, contact_done, now),
                Deadline.judge(transition.visit_due, visit_done, now),
            )
        )  # fmt: skip
    return result


def close_met_tasks(session: Session, patient_id: int, on: date, *, contact: bool, visit: bool, why: str) -> list[Task]:
    """Complete the open TCM follow-up tasks that a contact or visit on ``on`` has just met."""
    rows = session.exec(
        select(Transition).where(
            Transition.patient_id == patient_id,
            col(Transition.discharged_on) <= on,
            col(Transition.discharged_on) >= on - timedelta(days=TCM_PERIOD_DAYS),
        )
    ).all()
    ids = [t.contact_task_id for t in rows if contact] + [t.visit_task_id for t in rows if visit]
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return []
    closed = []
    for task in session.exec(select(Task).where(col(Task.id).in_(wanted), col(Task.status).in_(TASK_OPEN))).all():
        complete(session, task, why)
        closed.append(task)
    return closed
