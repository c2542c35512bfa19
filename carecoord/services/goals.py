"""Goals within care plans (FHIR Goal): lifecycle and achievement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, select

from carecoord.errors import ConflictError
from carecoord.fields import GOAL
from carecoord.models import CarePlan, Goal, Patient
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.services.plans import ensure_open
from carecoord.vocab import GOAL_CLOSED, GoalLifecycle


def add_goal(
    session: Session,
    plan: CarePlan,
    description: str,
    *,
    lifecycle_status: str = GoalLifecycle.active.value,
    **fields: Any,
) -> Goal:
    """Add a goal to an open plan, with any settable fields of ``fields.GOAL``."""
    ensure_open(plan, "goals")
    values = text.clean_fields(GOAL, {**fields, "description": description})
    assert plan.id is not None
    goal = Goal(plan_id=plan.id, patient_id=plan.patient_id, lifecycle_status=lifecycle_status, **values)
    session.add(goal)
    session.flush()
    return goal


def update_goal(session: Session, goal: Goal, fields: Mapping[str, Any]) -> Goal:
    """Change a goal's settable fields (``fields.GOAL``: description, target date, measure; empty clears)."""
    for key, value in text.clean_fields(GOAL, fields).items():
        setattr(goal, key, value)
    session.flush()
    return goal


def set_status(session: Session, goal: Goal, lifecycle: str | None, achievement: str | None) -> Goal:
    """Change the lifecycle and/or achievement status; entered-in-error is final."""
    if goal.lifecycle_status == GoalLifecycle.entered_in_error.value:
        raise ConflictError(f"goal #{goal.id} was entered in error; it cannot change")
    if lifecycle is not None:
        if lifecycle == goal.lifecycle_status and achievement is None:
            raise ConflictError(f"goal #{goal.id} is already {lifecycle}")
        if goal.lifecycle_status in GOAL_CLOSED and lifecycle in GOAL_CLOSED and lifecycle != goal.lifecycle_status:
            raise ConflictError(
                f"goal #{goal.id} is {goal.lifecycle_status}; reopen it (active) before marking it {lifecycle}"
            )
        goal.lifecycle_status = lifecycle
    if achievement is not None:
        goal.achievement_status = achievement
    session.flush()
    return goal


def describe(goal: Goal) -> str:
    """``#7 Walk 20 minutes a day``."""
    return f"#{goal.id} {goal.description}"


def resolve(session: Session, ref: str) -> Goal:
    """A goal from its id or an unambiguous part of its description."""
    cleaned = require_ref(ref, "goal")
    goal_id = as_id(cleaned)
    query = select(Goal).order_by(col(Goal.id)).limit(50)
    if goal_id is not None:
        query = query.where(Goal.id == goal_id)
    else:
        query = query.where(col(Goal.description).icontains(cleaned, autoescape=True))
    return pick_one(cleaned, "goal", session.exec(query).all(), describe)


def list_goals(
    session: Session, *, plan_id: int | None = None, patient_id: int | None = None, status: str | None = None
) -> Sequence[tuple[Goal, CarePlan, Patient]]:
    """Goals with their plan and patient, in one query; by target date."""
    query = (
        select(Goal, CarePlan, Patient)
        .join(CarePlan, col(CarePlan.id) == Goal.plan_id)
        .join(Patient, col(Patient.id) == Goal.patient_id)
    )
    if plan_id is not None:
        query = query.where(Goal.plan_id == plan_id)
    if patient_id is not None:
        query = query.where(Goal.patient_id == patient_id)
    if status is not None:
        query = query.where(Goal.lifecycle_status == status)
    query = query.order_by(col(Goal.target_on).is_(None), col(Goal.target_on), col(Goal.id))
    return [(goal, plan, patient) for goal, plan, patient in session.exec(query).all()]
