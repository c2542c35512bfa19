"""The agenda: a coordinator's days, with appointments, tasks, plan reviews and goal targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session, col, func

from carecoord.clinical import CONTACT_DUE_DAYS
from carecoord.dates import day_start, local_zone
from carecoord.models import CarePlan, Goal, Patient, Referral, Screening, Task
from carecoord.services import snapshots
from carecoord.services.appointments import AppointmentFilter, Occurrence, occurrences
from carecoord.services.authorizations import AuthorizationRow, needing_attention
from carecoord.services.coverage import CoverageRow, count_ending_soon, ending_soon
from carecoord.services.reports import ContactGap, contact_gaps, count_contact_gaps
from carecoord.services.screenings import Due, due, open_safety_flags
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
    screenings_due: list[Due] = field(default_factory=list)  # rescreening due that day (issue 13)
    safety_flags: list[tuple[Screening, Patient]] = field(default_factory=list)  # open, on the first day
    stalled_referrals: list[tuple[Referral, Patient]] = field(default_factory=list)  # on the first day (issue 14)
    # issue 15: authorizations ending soon, nearly used up or undecided; coverage ending soon
    authorizations: list[tuple[date, AuthorizationRow]] = field(default_factory=list)
    coverage_ending: list[CoverageRow] = field(default_factory=list)


# Overdue items carried to the first day beyond this many per kind are counted, not listed:
# an agenda is read, and the full lists are in 'task list --due overdue' and 'report overdue'.
OVERDUE_SHOWN = 100


def build(session: Session, first: date, days: int, *, coordinator: str | None = None) -> list[AgendaDay]:
    """``days`` days from ``first``: a handful of queries, however many days. ``coordinator``: only
    that coordinator's patients (and no tasks without a patient)."""
    last = first + timedelta(days=days - 1)
    agenda = {first + timedelta(days=n): AgendaDay(first + timedelta(days=n)) for n in range(days)}
    zone = local_zone()

    def bucket(when: date | None) -> AgendaDay:
        return agenda[max(when or first, first)]

    end = day_start(last + timedelta(days=1), zone)
    window = AppointmentFilter(day_start(first, zone), end, coordinator=coordinator)
    for sitting, patient in occurrences(session, window):
        bucket(sitting.start.astimezone(zone).date()).appointments.append((sitting, patient))
    due_now = TaskFilter(
        due_from=first, due_to=last, due_filter=True, active_patients_only=True, coordinator=coordinator
    )
    for task, name in list_tasks(session, due_now):
        bucket(task.due_on).tasks.append((task, name))
    late = replace(due_now, due_from=None, due_to=first - timedelta(days=1))
    carried = list_tasks(session, replace(late, limit=OVERDUE_SHOWN))
    agenda[first].tasks[:0] = carried
    _count_left_out(agenda[first], "tasks", len(carried), partial(count_tasks, session, late))
    reviews = _open_by_date(CarePlan, CarePlan.next_review, CarePlan.status, PLAN_CLOSED, coordinator)
    for plan, patient in _due_by(session, agenda[first], "reviews", reviews, CarePlan.next_review, last):
        bucket(plan.next_review).reviews.append((plan, patient))
    targets = _open_by_date(Goal, Goal.target_on, Goal.lifecycle_status, GOAL_CLOSED, coordinator)
    for goal, patient in _due_by(session, agenda[first], "goals", targets, Goal.target_on, last):
        bucket(goal.target_on).goals.append((goal, patient))
    end_of_last = day_start(last + timedelta(days=1), zone)
    shown = contact_gaps(session, CONTACT_DUE_DAYS, as_of=end_of_last, limit=OVERDUE_SHOWN, coordinator=coordinator)
    for gap in shown:
        due = gap.last_reached.astimezone(zone).date() + timedelta(days=CONTACT_DUE_DAYS) if gap.last_reached else None
        bucket(due).contacts_due.append(gap)
    gaps = partial(count_contact_gaps, session, CONTACT_DUE_DAYS, as_of=end_of_last, coordinator=coordinator)
    _count_left_out(agenda[first], "contacts_due", len(shown), gaps)
    # A deadline owed shows once: as its follow-up task while there is one (above); listed as a
    # deadline only when that task was deleted. Discharged patients leave the agenda, as their tasks do.
    for status in judge(session, list_transitions(session, since=first - timedelta(days=30), coordinator=coordinator)):
        if status.patient.status == PatientStatus.discharged.value:
            continue
        transition = status.transition
        for which, deadline, task_id in (("contact", status.contact, transition.contact_task_id),
                                         ("visit", status.visit, transition.visit_task_id)):  # fmt: skip
            owed = task_id is None and deadline.state in ("open", "missed", "attempted")
            # Two unanswered attempts satisfy CMS's contact requirement but the calls go on: said
            # here even while the follow-up task is listed (the task alone would not tell).
            trying = deadline.state == "attempted" and deadline.done_on is None
            if (owed or trying) and deadline.due <= last:
                bucket(deadline.due).deadlines.append((status, which))
    _screenings(session, agenda, first, last, coordinator)
    _stalled_referrals(session, agenda[first], coordinator)
    _insurance(session, agenda, first, last, coordinator)
    return list(agenda.values())


def _screenings(
    session: Session, agenda: dict[date, AgendaDay], first: date, last: date, coordinator: str | None
) -> None:
    """Rescreening due on each day (those overdue on the first day, the first OVERDUE_SHOWN of them
    listed), and every open safety flag on the first day. Patients never screened are left to
    'screen due': listing every one of them every day would bury the day's work."""
    carried = 0
    for item in due(session, by=last, coordinator=coordinator, never=False):
        assert item.due_on is not None
        if item.due_on >= first:
            agenda[item.due_on].screenings_due.append(item)
        elif carried < OVERDUE_SHOWN:
            agenda[first].screenings_due.append(item)
            carried += 1
        else:
            agenda[first].more_overdue["screenings_due"] = agenda[first].more_overdue.get("screenings_due", 0) + 1
    agenda[first].safety_flags = open_safety_flags(session, coordinator=coordinator)


def _stalled_referrals(session: Session, first: AgendaDay, coordinator: str | None) -> None:
    """Open referrals with no change for referrals.stalled_days() days, on the first day: longest
    stalled first, the OVERDUE_SHOWN first listed and the others counted (issue 14)."""
    from carecoord.services.referrals import ReferralFilter, count_referrals, list_referrals

    stalled = ReferralFilter(stalled=True, active_patients_only=True, coordinator=coordinator)
    first.stalled_referrals = list_referrals(session, replace(stalled, limit=OVERDUE_SHOWN))
    _count_left_out(first, "stalled_referrals", len(first.stalled_referrals),
                    partial(count_referrals, session, stalled))  # fmt: skip


def _insurance(
    session: Session, agenda: dict[date, AgendaDay], first: date, last: date, coordinator: str | None
) -> None:
    """Authorizations that need a look (on the day they start to) and coverage ending within 30 days
    (on the day it enters that window): issue 15."""
    from carecoord.services.coverage import ENDING_SOON_DAYS

    attention = needing_attention(session, first, last, coordinator=coordinator, limit=OVERDUE_SHOWN)
    for when, row in attention.rows:
        agenda[max(min(when, last), first)].authorizations.append((when, row))
    if attention.total > len(attention.rows):
        agenda[first].more_overdue["authorizations"] = attention.total - len(attention.rows)
    ending = ending_soon(session, first, last, coordinator=coordinator, limit=OVERDUE_SHOWN + 1)
    for covered in ending[:OVERDUE_SHOWN]:
        assert covered.coverage.end_on is not None
        when = covered.coverage.end_on - timedelta(days=ENDING_SOON_DAYS)
        agenda[max(min(when, last), first)].coverage_ending.append(covered)
    if len(ending) > OVERDUE_SHOWN:
        counted = count_ending_soon(session, first, last, coordinator=coordinator)
        agenda[first].more_overdue["coverage_ending"] = counted - OVERDUE_SHOWN


def _open_by_date(model: Any, due: Any, status: Any, closed: frozenset[str], coordinator: str | None) -> Any:
    """Rows of ``model`` (plans or goals) still open and dated by ``due``, with their patient's
    columns after them (not discharged patients'; only ``coordinator``'s if given), by date."""
    query = (
        snapshots.query(model, *snapshots.columns(Patient))
        .join(Patient, col(Patient.id) == model.patient_id)
        .where(col(status).not_in(closed), Patient.status != PatientStatus.discharged.value)
        .order_by(col(due), col(model.id))
    )
    return query if coordinator is None else query.where(Patient.coordinator == coordinator)


def _due_by(session: Session, first: AgendaDay, kind: str, query: Any, due: Any, last: date) -> list[Any]:
    """``query``'s rows dated up to ``last``: every one from ``first.day`` on, and the OVERDUE_SHOWN
    oldest of those before it, the others counted in ``first.more_overdue``; as read-only snapshots
    (services/snapshots.py) of the model and its patient."""
    late = query.where(col(due) < first.day)
    model = due.class_
    width = len(snapshots.columns(model))

    def pairs(rows: Any) -> list[Any]:
        return [(snapshots.snapshot(model, row[:width]), snapshots.snapshot(Patient, row[width:])) for row in rows]

    carried = pairs(session.exec(late.limit(OVERDUE_SHOWN)))
    count = late.with_only_columns(func.count()).order_by(None)
    _count_left_out(first, kind, len(carried), lambda: int(session.scalar(count) or 0))
    return carried + pairs(session.exec(query.where(col(due) >= first.day, col(due) <= last)))


def _count_left_out(first: AgendaDay, kind: str, shown: int, count: Callable[[], int]) -> None:
    """When OVERDUE_SHOWN carried-over items of ``kind`` are listed, note how many more there are."""
    if shown >= OVERDUE_SHOWN and (hidden := count() - OVERDUE_SHOWN) > 0:
        first.more_overdue[kind] = hidden


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
        totals["screenings_due"] += len(day.screenings_due)
        totals["safety_flags"] += len(day.safety_flags)
        totals["stalled_referrals"] += len(day.stalled_referrals)
        totals["authorizations"] += len(day.authorizations)
        totals["coverage_ending"] += len(day.coverage_ending)
    return dict(totals)
