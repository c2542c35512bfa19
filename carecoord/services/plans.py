"""Care plans: creation, status transitions, reviews, lookup, listing and the plan document."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from carecoord.dates import today
from carecoord.errors import ConflictError, ValidationError
from carecoord.fields import PLAN
from carecoord.models import CarePlan, Contact, Goal, Patient, PlanReview, Task
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.vocab import PLAN_CLOSED, PLAN_TRANSITIONS, PlanStatus

NEW_PLAN_STATUSES = frozenset({PlanStatus.draft.value, PlanStatus.active.value})


def split_needs(stored: str) -> list[str]:
    """The plan's problems and needs, one per stored line."""
    return [line for line in stored.split("\n") if line]


def _join_needs(needs: Iterable[str]) -> str:
    cleaned = [text.required_line(need, "need") for need in needs]
    return "\n".join(dict.fromkeys(cleaned))


def _check_period(plan: CarePlan) -> None:
    if plan.start_on and plan.end_on and plan.end_on < plan.start_on:
        raise ValidationError(f"the plan ends ({plan.end_on}) before it starts ({plan.start_on})")
    if plan.review_every_days is not None and plan.review_every_days < 1:
        raise ValidationError("the review interval must be at least one day")


def add_plan(
    session: Session,
    patient: Patient,
    title: str,
    *,
    status: str = PlanStatus.draft.value,
    needs: Iterable[str] = (),
    **fields: Any,
) -> CarePlan:
    """Start a care plan for ``patient`` (draft or active) with any settable fields of ``fields.PLAN``;
    it starts today unless told otherwise, and an interval without a date sets the first review."""
    values = text.clean_fields(PLAN, {**fields, "title": title})
    if status not in NEW_PLAN_STATUSES:
        raise ValidationError(f"a new plan is draft or active, not {status}")
    values["start_on"] = values.get("start_on") or today()
    every = values.get("review_every_days")
    if values.get("next_review") is None and every:
        values["next_review"] = values["start_on"] + timedelta(days=every)
    assert patient.id is not None
    plan = CarePlan(patient_id=patient.id, status=status, needs=_join_needs(needs), **values)
    _check_period(plan)
    session.add(plan)
    session.flush()
    return plan


def update_plan(
    session: Session,
    plan: CarePlan,
    fields: Mapping[str, Any],
    *,
    add_needs: Iterable[str] = (),
    remove_needs: Iterable[str] = (),
) -> CarePlan:
    """Change a plan's fields (``fields.PLAN``; empty clears) and its list of needs (remove by
    text or by number)."""
    for key, value in text.clean_fields(PLAN, fields).items():
        setattr(plan, key, value)
    needs = split_needs(plan.needs)
    for ref in remove_needs:
        needs = _without_need(needs, ref, plan)
    plan.needs = _join_needs([*needs, *add_needs])
    _check_period(plan)
    session.flush()
    return plan


def _without_need(needs: list[str], ref: str, plan: CarePlan) -> list[str]:
    if ref.strip().isdigit() and 1 <= int(ref) <= len(needs):
        return [need for n, need in enumerate(needs, 1) if n != int(ref)]
    matches = [need for need in needs if ref.strip().casefold() in need.casefold()]
    if len(matches) != 1:
        raise ValidationError(f"plan #{plan.id} has {len(matches) or 'no'} need(s) matching '{ref}'; use its number")
    return [need for need in needs if need != matches[0]]


def set_status(session: Session, plan: CarePlan, status: str) -> CarePlan:
    """Move a plan to ``status`` if the transition is one a coordinator makes."""
    allowed = PLAN_TRANSITIONS[plan.status]
    if status == plan.status:
        raise ConflictError(f"plan #{plan.id} is already {status}")
    if status not in allowed:
        options = ", ".join(sorted(allowed)) or "none: it is final"
        raise ConflictError(f"plan #{plan.id} is {plan.status} and cannot become {status} (allowed: {options})")
    if status == PlanStatus.completed.value and plan.end_on is None:
        plan.end_on = today()
    if status == PlanStatus.active.value and plan.status in PLAN_CLOSED:
        plan.end_on = None
    plan.status = status
    session.flush()
    return plan


def ensure_open(plan: CarePlan, what: str) -> None:
    """Refuse new goals or tasks on a completed, revoked or erroneous plan."""
    if plan.status in PLAN_CLOSED:
        raise ConflictError(
            f"plan #{plan.id} is {plan.status}: it takes no new {what} until reopened "
            f"(carecoord plan status {plan.id} active)"
        )


def record_review(
    session: Session,
    plan: CarePlan,
    *,
    on: date | None = None,
    note: str | None = None,
    next_review: date | None = None,
) -> PlanReview:
    """Record a review and set the next review date (given, or from the plan's review interval)."""
    reviewed = on or today()
    if next_review is None and plan.review_every_days:
        next_review = reviewed + timedelta(days=plan.review_every_days)
    if next_review is not None and next_review <= reviewed:
        raise ValidationError(f"the next review ({next_review}) must come after this one ({reviewed})")
    assert plan.id is not None
    review = PlanReview(
        plan_id=plan.id,
        patient_id=plan.patient_id,
        reviewed_on=reviewed,
        note=text.free_text(note, "review note"),
        next_review=next_review,
    )
    plan.next_review = next_review
    session.add(review)
    session.flush()
    return review


def describe(plan: CarePlan) -> str:
    """``#3 Heart failure self-management``."""
    return f"#{plan.id} {plan.title}"


def resolve(session: Session, ref: str, patient: Patient | None = None) -> CarePlan:
    """A plan from its id, or an unambiguous part of its title (within ``patient`` if given)."""
    cleaned = require_ref(ref, "plan")
    plan_id = as_id(cleaned)
    query = select(CarePlan).order_by(col(CarePlan.id)).limit(50)
    if plan_id is not None:
        query = query.where(CarePlan.id == plan_id)
    else:
        query = query.where(col(CarePlan.title).icontains(cleaned, autoescape=True))
    if patient is not None:
        query = query.where(CarePlan.patient_id == patient.id)
    return pick_one(cleaned, "plan", session.exec(query).all(), describe)


@dataclass(frozen=True)
class PlanFilter:
    """What ``plan list`` narrows by."""

    patient_id: int | None = None
    status: str | None = None
    review_due_within: int | None = None
    include_closed: bool = False


def list_plans(session: Session, wanted: PlanFilter) -> Sequence[tuple[CarePlan, Patient]]:
    """Plans with their patients, in one query; by next review date."""
    query = select(CarePlan, Patient).join(Patient, col(Patient.id) == CarePlan.patient_id)
    if wanted.patient_id is not None:
        query = query.where(CarePlan.patient_id == wanted.patient_id)
    if wanted.status:
        query = query.where(CarePlan.status == wanted.status)
    elif not wanted.include_closed:
        query = query.where(col(CarePlan.status).not_in(PLAN_CLOSED))
    if wanted.review_due_within is not None:
        horizon = today() + timedelta(days=wanted.review_due_within)
        query = query.where(col(CarePlan.next_review) <= horizon)
    query = query.order_by(col(CarePlan.next_review).is_(None), col(CarePlan.next_review), col(CarePlan.id))
    return [(plan, patient) for plan, patient in session.exec(query).all()]


@dataclass(frozen=True)
class PlanDocument:
    """Everything a plan document shows, loaded in a handful of queries."""

    plan: CarePlan
    patient: Patient
    goals: Sequence[Goal]
    tasks: Sequence[Task]
    contacts: Sequence[Contact]
    reviews: Sequence[PlanReview]


def document(session: Session, plan: CarePlan) -> PlanDocument:
    """The plan with its patient, goals, tasks, care team and reviews."""
    patient = session.get(Patient, plan.patient_id)
    assert patient is not None
    goals = session.exec(select(Goal).where(Goal.plan_id == plan.id).order_by(col(Goal.id))).all()
    tasks = session.exec(
        select(Task).where(Task.plan_id == plan.id).order_by(col(Task.due_on).is_(None), col(Task.due_on), col(Task.id))
    ).all()
    contacts = session.exec(select(Contact).where(Contact.patient_id == patient.id).order_by(col(Contact.id))).all()
    reviews = session.exec(
        select(PlanReview).where(PlanReview.plan_id == plan.id).order_by(col(PlanReview.reviewed_on).desc())
    ).all()
    return PlanDocument(plan, patient, goals, tasks, contacts, reviews)
