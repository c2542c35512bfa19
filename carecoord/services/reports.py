"""Reports a coordinator's month is measured by: minutes, contacts, overdue work, the caseload."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from carecoord.clinical import LONG_ENTRY_MINUTES
from carecoord.dates import day_start, local_zone, now, today
from carecoord.errors import ValidationError
from carecoord.models import CarePlan, Communication, Goal, Patient, ProgramEnrolment, Task
from carecoord.services import programs
from carecoord.services.appointments import AppointmentFilter, occurrences
from carecoord.services.lookup import id_batches
from carecoord.vocab import GOAL_CLOSED, PLAN_CLOSED, TASK_OPEN, PatientStatus


def parse_month(text: str) -> date:
    """``2026-11`` as the first day of that month (years 1900 to 2100)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1900 <= int(match.group(1)) <= 2100 or not 1 <= int(match.group(2)) <= 12:
        raise ValidationError(f"cannot read '{text}' as a month; use YYYY-MM, e.g. 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


# --- care-management minutes --------------------------------------------------------------------


@dataclass
class MinutesRow:
    """A patient's logged minutes in a month: in all, and by the program they count toward (None:
    no program named), each with the moment of its first entry (consent must come before it)."""

    patient_id: int
    patient_name: str
    minutes: int = 0
    entries: int = 0
    by_program: dict[str | None, tuple[int, datetime]] = field(default_factory=dict)


@dataclass(frozen=True)
class LongEntry:
    """A log entry of more than LONG_ENTRY_MINUTES: worth a look before the month is billed."""

    id: int
    patient_id: int
    at: datetime
    minutes: int


@dataclass
class MinutesReport:
    """Minutes per patient in a calendar month, per week for the chart, and the month's long entries."""

    month: date
    days_left: int
    rows: list[MinutesRow]
    weeks: dict[date, int] = field(default_factory=dict)
    long_entries: list[LongEntry] = field(default_factory=list)
    enrolments: dict[int, list[ProgramEnrolment]] = field(default_factory=dict)  # in force during the month


def days_left_in(month: date, on: date) -> int:
    """Days of ``month`` from ``on`` to its end, ``on`` included (0 once it is over)."""
    end = month + relativedelta(months=1)
    if on >= end:
        return 0
    return (end - max(on, month)).days


def minutes_report(session: Session, month: date, *, patient_id: int | None = None) -> MinutesReport:
    """Every active patient (and anyone with minutes that month), with their minutes, and the entries
    over LONG_ENTRY_MINUTES, and the program enrolments in force that month: five queries."""
    zone = local_zone()
    start, end = day_start(month, zone), day_start(month + relativedelta(months=1), zone)
    in_month = [col(Communication.at) >= start, col(Communication.at) < end]
    if patient_id is not None:
        in_month.append(col(Communication.patient_id) == patient_id)
    totals = (
        select(  # type: ignore[call-overload]
            Communication.patient_id,
            Communication.program,
            func.sum(Communication.minutes),
            func.count(),
            func.min(Communication.at),
        )
        .where(*in_month)
        .group_by(col(Communication.patient_id), col(Communication.program))
    )
    by_patient: dict[int, tuple[int, int]] = {}
    by_program: dict[int, dict[str | None, tuple[int, datetime]]] = {}
    for pid, program, total, count, first_at in session.exec(totals).all():
        minutes, entries = by_patient.get(pid, (0, 0))
        by_patient[pid] = (minutes + int(total or 0), entries + int(count))
        if total:
            by_program.setdefault(pid, {})[program] = (int(total), _aware(first_at) or start)
    people = select(Patient.id, Patient.name, Patient.name_key)
    if patient_id is not None:
        people = people.where(Patient.id == patient_id)
    else:
        people = people.where(or_(col(Patient.status) == PatientStatus.active.value, col(Patient.id).in_(by_patient)))
    sort_names: dict[int, str] = {}
    rows = []
    for pid, name, key in session.exec(people).all():
        sort_names[pid or 0] = key
        rows.append(MinutesRow(pid or 0, name, *by_patient.get(pid or 0, (0, 0)), by_program.get(pid or 0, {})))
    rows.sort(key=lambda row: (-row.minutes, sort_names[row.patient_id]))
    long = select(Communication.id, Communication.patient_id, Communication.at, Communication.minutes).where(
        *in_month, col(Communication.minutes) > LONG_ENTRY_MINUTES
    )
    long_entries = [
        LongEntry(eid or 0, pid, at, n) for eid, pid, at, n in session.exec(long.order_by(col(Communication.at)))
    ]
    last_day = month + relativedelta(months=1) - timedelta(days=1)
    if patient_id is not None:
        enrolled = programs.overlapping(session, [patient_id], month, last_day)
    else:
        enrolled = programs.overlapping_all(session, month, last_day)
    return MinutesReport(
        month, days_left_in(month, today()), rows, _minutes_by_week(session, month, in_month), long_entries, enrolled
    )


def _minutes_by_week(session: Session, month: date, in_month: list[Any]) -> dict[date, int]:
    """Minutes per week (from Monday, local time) of the month's log entries, summed by SQLite."""
    zone = local_zone()
    first_monday = month - timedelta(days=month.weekday())
    mondays = [first_monday + timedelta(weeks=n) for n in range(1, 6)]
    week = case(*((col(Communication.at) < day_start(monday, zone), n) for n, monday in enumerate(mondays)), else_=5)
    query = select(week, func.sum(Communication.minutes)).where(*in_month).group_by(week).order_by(week)
    return {first_monday + timedelta(weeks=int(n)): int(total or 0) for n, total in session.exec(query).all()}


# --- patients not reached -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactGap:
    """An active patient not reached lately: the last success and the last attempt."""

    patient: Patient
    last_reached: datetime | None
    last_attempt: datetime | None
    last_outcome: str | None
    last_channel: str | None


def contact_gaps(
    session: Session,
    days: int,
    *,
    as_of: datetime | None = None,
    limit: int | None = None,
    coordinator: str | None = None,
) -> list[ContactGap]:
    """Active patients with no successful contact in the ``days`` days before ``as_of`` (default now),
    longest gap first (never reached before all); the first ``limit`` of them if given."""
    if days < 1:
        raise ValidationError("--days must be at least 1")
    cutoff = (as_of or now()) - timedelta(days=days)
    last_reached = select(func.max(Communication.at)).where(_reached_patient()).scalar_subquery()
    query = (
        select(Patient, last_reached)
        .where(Patient.status == PatientStatus.active.value, ~_reached_since(cutoff))
        .order_by(last_reached.is_not(None), last_reached, col(Patient.name_key))
    )
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    if limit is not None:
        query = query.limit(limit)
    rows = session.exec(query).all()
    last_attempts = _last_attempts(session, [patient.id for patient, _ in rows if patient.id is not None])
    gaps = []
    for patient, last_reached in rows:
        attempt = last_attempts.get(patient.id or 0)
        gaps.append(ContactGap(patient, _aware(last_reached), attempt[0] if attempt else None,
                               attempt[1] if attempt else None, attempt[2] if attempt else None))  # fmt: skip
    gaps.sort(key=lambda gap: (gap.last_reached is not None, gap.last_reached or datetime.min, gap.patient.name_key))
    return gaps


def count_contact_gaps(
    session: Session, days: int, *, as_of: datetime | None = None, coordinator: str | None = None
) -> int:
    """How many active patients :func:`contact_gaps` would list."""
    cutoff = (as_of or now()) - timedelta(days=days)
    query = (
        select(func.count())
        .select_from(Patient)
        .where(Patient.status == PatientStatus.active.value, ~_reached_since(cutoff))
    )
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    return int(session.exec(query).one())


def _reached_patient() -> Any:
    """SQL: a successful contact of the patient in the outer query."""
    return and_(col(Communication.outcome) == "reached", col(Communication.patient_id) == col(Patient.id))


def _reached_since(cutoff: datetime) -> Any:
    """SQL: the outer query's patient was reached at or after ``cutoff``: one seek per patient in
    the (outcome, patient, at) index, where grouping the whole log took 50 ms at agency size."""
    return select(Communication.id).where(_reached_patient(), col(Communication.at) >= cutoff).exists()


def _last_attempts(session: Session, patient_ids: list[int]) -> dict[int, tuple[datetime | None, str, str]]:
    """Each patient's latest log entry (when, outcome, channel), a few queries for all of them."""
    found: dict[int, tuple[datetime | None, str, str]] = {}
    for batch in id_batches(patient_ids):
        latest = (
            select(Communication.patient_id, func.max(Communication.at).label("at"))
            .where(col(Communication.patient_id).in_(batch))
            .group_by(col(Communication.patient_id))
            .subquery()
        )
        rows = session.exec(
            select(Communication.patient_id, Communication.at, Communication.outcome, Communication.channel)
            .join(latest, (latest.c.patient_id == Communication.patient_id) & (latest.c.at == Communication.at))
            .where(col(Communication.patient_id).in_(batch))  # implied by the join; PostgreSQL then reads the index
        ).all()  # fmt: skip
        for pid, at, outcome, channel in rows:
            found[pid] = (_aware(at), outcome, channel)
    return found


def _aware(moment: datetime | None) -> datetime | None:
    """Moments read through an aggregate come back without the column type's zone."""
    from datetime import UTC

    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


# --- overdue work -------------------------------------------------------------------------------


@dataclass
class OverdueItem:
    """One overdue task, plan review or goal target."""

    patient: Patient | None
    kind: str
    item_id: int
    title: str
    due: date


def overdue(session: Session) -> list[OverdueItem]:
    """Open tasks, plan reviews and goal targets whose date has passed: three queries."""
    now_day = today()
    items: list[OverdueItem] = []
    tasks = session.exec(
        select(Task, Patient).outerjoin(Patient, col(Patient.id) == Task.patient_id)
        .where(col(Task.status).in_(TASK_OPEN), col(Task.due_on) < now_day)
        .where(or_(col(Task.patient_id).is_(None), col(Patient.status) != PatientStatus.discharged.value))
    ).all()  # fmt: skip
    items += [OverdueItem(patient, "task", task.id or 0, task.title, task.due_on) for task, patient in tasks
              if task.due_on is not None]  # fmt: skip
    reviews = session.exec(
        select(CarePlan, Patient).join(Patient, col(Patient.id) == CarePlan.patient_id)
        .where(col(CarePlan.next_review) < now_day, col(CarePlan.status).not_in(PLAN_CLOSED))
        .where(col(Patient.status) != PatientStatus.discharged.value)
    ).all()  # fmt: skip
    items += [OverdueItem(patient, "plan review", plan.id or 0, plan.title, plan.next_review)
              for plan, patient in reviews if plan.next_review is not None]  # fmt: skip
    targets = session.exec(
        select(Goal, Patient).join(Patient, col(Patient.id) == Goal.patient_id)
        .where(col(Goal.target_on) < now_day, col(Goal.lifecycle_status).not_in(GOAL_CLOSED))
        .where(col(Patient.status) != PatientStatus.discharged.value)
    ).all()  # fmt: skip
    items += [OverdueItem(patient, "goal", goal.id or 0, goal.description, goal.target_on) for goal, patient in targets
              if goal.target_on is not None]  # fmt: skip
    items.sort(key=lambda i: (i.patient.name_key if i.patient else "~", i.due, i.kind, i.item_id))
    return items


# --- the caseload -------------------------------------------------------------------------------


@dataclass
class Caseload:
    """The caseload now, and what happened in a period."""

    start: date
    end: date
    by_risk: dict[str, int]
    by_status: dict[str, int]
    enrolled: int
    discharged: int
    open_tasks: int
    overdue_tasks: int
    appointments: dict[str, int]


def caseload(session: Session, start: date, end: date) -> Caseload:
    """Counts by risk and status, enrolments and discharges in [start, end], open tasks, visit outcomes."""
    if end < start:
        raise ValidationError("the period ends before it starts")
    zone = local_zone()
    by_status = dict(session.exec(select(Patient.status, func.count()).group_by(col(Patient.status))).all())
    by_risk = {
        (risk or "unrated"): count
        for risk, count in session.exec(
            select(Patient.risk, func.count()).where(Patient.status == PatientStatus.active.value)
            .group_by(col(Patient.risk))
        ).all()
    }  # fmt: skip
    enrolled = session.exec(
        select(func.count()).select_from(Patient)
        .where(col(Patient.enrolled_on) >= start, col(Patient.enrolled_on) <= end)
    ).one()  # fmt: skip
    discharged = session.exec(
        select(func.count()).select_from(Patient)
        .where(col(Patient.discharged_on) >= start, col(Patient.discharged_on) <= end)
    ).one()  # fmt: skip
    open_work = (
        select(func.count()).select_from(Task).outerjoin(Patient, col(Patient.id) == Task.patient_id)
        .where(col(Task.status).in_(TASK_OPEN))
        .where(or_(col(Task.patient_id).is_(None), col(Patient.status) != PatientStatus.discharged.value))
    )  # fmt: skip
    open_tasks = session.exec(open_work).one()
    overdue_tasks = session.exec(open_work.where(col(Task.due_on) < today())).one()
    window = AppointmentFilter(day_start(start, zone), day_start(end + timedelta(days=1), zone))
    outcomes = Counter(sitting.status for sitting, _ in occurrences(session, window))
    return Caseload(start, end, by_risk, by_status, enrolled, discharged, open_tasks, overdue_tasks, dict(outcomes))


@dataclass(frozen=True)
class CoordinatorLoad:
    """One coordinator's share of the caseload: active patients, their open and overdue tasks, and
    the minutes logged for their patients in the period."""

    coordinator: str
    patients: int
    open_tasks: int
    overdue_tasks: int
    minutes: int


def caseload_by_coordinator(session: Session, start: date, end: date) -> list[CoordinatorLoad]:
    """Caseloads side by side, one per coordinator of the patients the signed-in person may see (a
    supervisor: the whole team): three grouped queries."""
    if end < start:
        raise ValidationError("the period ends before it starts")
    zone = local_zone()
    active = dict(
        session.exec(
            select(Patient.coordinator, func.count().filter(col(Patient.status) == PatientStatus.active.value))
            .group_by(col(Patient.coordinator))
        ).all()
    )  # fmt: skip
    tasks = {
        coordinator: (int(open_), int(late))
        for coordinator, open_, late in session.exec(
            select(Patient.coordinator, func.count(), func.count().filter(col(Task.due_on) < today()))
            .select_from(Task).join(Patient, col(Patient.id) == Task.patient_id)
            .where(col(Task.status).in_(TASK_OPEN), Patient.status != PatientStatus.discharged.value)
            .group_by(col(Patient.coordinator))
        ).all()
    }  # fmt: skip
    minutes = dict(
        session.exec(
            select(Patient.coordinator, func.coalesce(func.sum(Communication.minutes), 0))
            .select_from(Communication).join(Patient, col(Patient.id) == Communication.patient_id)
            .where(col(Communication.at) >= day_start(start, zone),
                   col(Communication.at) < day_start(end + timedelta(days=1), zone))
            .group_by(col(Patient.coordinator))
        ).all()
    )  # fmt: skip
    return [
        CoordinatorLoad(str(who), int(active.get(who, 0)), *tasks.get(who, (0, 0)), int(minutes.get(who, 0)))
        for who in sorted({str(w) for w in (*active, *tasks, *minutes)})
    ]
