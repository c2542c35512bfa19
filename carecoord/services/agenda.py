"""The agenda: a coordinator's days, with appointments, tasks, plan reviews and goal targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from carecoord.clinical import CONTACT_DUE_DAYS
from carecoord.dates import day_start, local_zone
from carecoord.models import CarePlan, Goal, Patient, Task
from carecoord.services.appointments import AppointmentFilter, Occurrence, occurrences
from carecoord.services.reports import ContactGap, contact_gaps, count_contact_gaps
from carecoord.services.tasks import TaskFilter, count_tasks, list_tasks
from carecoord.services.transitions import TransitionStatus, judge, list_transitions
from carecoord.vocab import GOAL_CLOSED, PLAN_CLOSED, PatientStatus


@dataclass
class AgendaDay:
    """One day of the agenda. On the first day, overdue items are listed too."""

    day: date
    appointments: list[tuple[Occurrence, Patient]] = field(default_factory=list)
    tasks: list[tuple[Task, str | None]] = field(default_factory=list)
    reviews: list[tuple[CarePlan, Patient]] = field(default_factory=list)
    goals: list[tuple[Goal, Patient]] = field(default_factory=list)
    contacts_due: list[ContactGap] = field(default_factory=list)
    deadlines: list[tuple[TransitionStatus, str]] = field(default_factory=list)
    more_overdue: dict[str, int] = field(default_factory=dict)  # carried-over items left out, by kind


# Overdue items carried to the first day beyond this many per kind are counted, not listed:
# an agenda is read, and the full lists are in 'task list --due overdue' and 'report overdue'.
OVERDUE_SHOWN = 100


def build(session: Session, first: date, days: int) -> list[AgendaDay]:
    """``days`` days from ``first``: a handful of queries, however many days."""
    last = first + timedelta(days=days - 1)
    agenda = {first + timedelta(days=n): AgendaDay(first + timedelta(days=n)) for n in range(days)}
    zone = local_zone()

    def bucket(when: date | None) -> AgendaDay:
        return agenda[max(when or first, first)]

    window = AppointmentFilter(day_start(first, zone), day_start(last + timedelta(days=1), zone))
    for sitting, patient in occurrences(session, window):
        bucket(sitting.start.astimezone(zone).date()).appointments.append((sitting, patient))
    due_now = TaskFilter(due_from=first, due_to=last, due_filter=True, active_patients_only=True)
    for task, name in list_tasks(session, due_now):
        bucket(task.due_on).tasks.append((task, name))
    late = TaskFilter(due_to=first - timedelta(days=1), due_filter=True, active_patients_only=True)
    agenda[first].tasks[:0] = list_tasks(session, replace(late, limit=OVERDUE_SHOWN))
    if len(agenda[first].tasks) >= OVERDUE_SHOWN:
        hidden = count_tasks(session, late) - OVERDUE_SHOWN
        if hidden > 0:
            agenda[first].more_overdue["tasks"] = hidden
    for plan, patient in _due_reviews(session, last):
        bucket(plan.next_review).reviews.append((plan, patient))
    for goal, patient in _goal_targets(session, last):
        bucket(goal.target_on).goals.append((goal, patient))
    end_of_last = day_start(last + timedelta(days=1), zone)
    shown = contact_gaps(session, CONTACT_DUE_DAYS, as_of=end_of_last, limit=OVERDUE_SHOWN)
    for gap in shown:
        due = gap.last_reached.astimezone(zone).date() + timedelta(days=CONTACT_DUE_DAYS) if gap.last_reached else None
        bucket(due).contacts_due.append(gap)
    if len(shown) == OVERDUE_SHOWN:
        hidden = count_contact_gaps(session, CONTACT_DUE_DAYS, as_of=end_of_last) - OVERDUE_SHOWN
        if hidden > 0:
            agenda[first].more_overdue["contacts_due"] = hidden
    for status in judge(session, list_transitions(session, since=first - timedelta(days=30))):
        for which, deadline in (("contact", status.contact), ("visit", status.visit)):
            if deadline.state in ("open", "missed") and deadline.due <= last:
                bucket(deadline.due).deadlines.append((status, which))
    _trim_carried_over(agenda[first])
    return list(agenda.values())


def _trim_carried_over(day: AgendaDay) -> None:
    """Keep the first day readable: at most OVERDUE_SHOWN carried-over items of each kind."""
    overdue: dict[str, Callable[[Any], bool]] = {
        "reviews": lambda item: item[0].next_review is not None and item[0].next_review < day.day,
        "goals": lambda item: item[0].target_on is not None and item[0].target_on < day.day,
    }
    for kind, is_overdue in overdue.items():
        items = getattr(day, kind)
        late = [item for item in items if is_overdue(item)]
        if len(late) > OVERDUE_SHOWN:
            left_out = {id(item) for item in late[OVERDUE_SHOWN:]}
            setattr(day, kind, [item for item in items if id(item) not in left_out])
            day.more_overdue[kind] = len(left_out)


def _open_items_due(session: Session, model: Any, due: Any, status: Any, closed: frozenset[str], last: date) -> Any:
    """Rows of ``model`` (plans or goals) still open, dated by ``due`` on or before ``last``, with
    their patient (not discharged patients'), by date."""
    query = (
        select(model, Patient)
        .join(Patient, col(Patient.id) == model.patient_id)
        .where(col(due) <= last, col(status).not_in(closed))
        .where(Patient.status != PatientStatus.discharged.value)
        .order_by(col(due), col(model.id))
    )
    return session.exec(query).all()


def _due_reviews(session: Session, last: date) -> Sequence[tuple[CarePlan, Patient]]:
    rows = _open_items_due(session, CarePlan, CarePlan.next_review, CarePlan.status, PLAN_CLOSED, last)
    return [(plan, patient) for plan, patient in rows]


def _goal_targets(session: Session, last: date) -> Sequence[tuple[Goal, Patient]]:
    rows = _open_items_due(session, Goal, Goal.target_on, Goal.lifecycle_status, GOAL_CLOSED, last)
    return [(goal, patient) for goal, patient in rows]


def counts(days: Sequence[AgendaDay]) -> dict[str, int]:
    """How many of each kind of item the agenda holds."""
    totals: dict[str, int] = defaultdict(int)
    for day in days:
        totals["appointments"] += len(day.appointments)
        totals["tasks"] += len(day.tasks)
        totals["reviews"] += len(day.reviews)
        totals["goals"] += len(day.goals)
        totals["contacts_due"] += len(day.contacts_due)
        totals["deadlines"] += len(day.deadlines)
    return dict(totals)
