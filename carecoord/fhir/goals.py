"""Goals <-> FHIR R4 Goal (https://hl7.org/fhir/R4/goal.html).

The goal's plan is named twice: by ``CarePlan.goal`` (the standard link, on the plan) and by
carecoord's ``care-plan`` extension on the Goal, so that a Goal read on its own finds its plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from carecoord.errors import ValidationError
from carecoord.fhir import Refs
from carecoord.fhir.elements import (
    codes,
    coding,
    compact,
    concept,
    day,
    extension,
    extension_value,
    meta,
    read_date,
    record_identifier,
)
from carecoord.fhir.parts import Resource, name

if TYPE_CHECKING:
    from carecoord.models import Goal

# Goal.lifecycleStatus: goal-status, https://hl7.org/fhir/R4/codesystem-goal-status.html (vocab.GoalLifecycle).
LIFECYCLE = frozenset(
    {"proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled", "entered-in-error", "rejected"}
)
# Goal.achievementStatus: https://terminology.hl7.org/CodeSystem-goal-achievement.html (R4:
# https://hl7.org/fhir/R4/codesystem-goal-achievement.html), codes and displays (vocab.GoalAchievement).
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
ACHIEVEMENT_DISPLAY = {
    "in-progress": "In Progress",
    "improving": "Improving",
    "worsening": "Worsening",
    "no-change": "No Change",
    "achieved": "Achieved",
    "sustaining": "Sustaining",
    "not-achieved": "Not Achieved",
    "no-progress": "No Progress",
    "not-attainable": "Not Attainable",
}
CARE_PLAN = "care-plan"  # carecoord extension: valueReference to the goal's CarePlan


def goal_to_fhir(goal: Goal, patient_uid: str, plan_uid: str, refs: Refs) -> Resource:
    """The Goal resource of a goal: status, achievement, description, target date and measure, plan."""
    target = compact({"measure": {"text": goal.measure} if goal.measure else None, "dueDate": day(goal.target_on)})
    achievement = goal.achievement_status
    return compact({
        "resourceType": "Goal",
        "id": goal.uid,
        "meta": meta(goal.updated_at),
        "identifier": [record_identifier(goal.uid)],
        "extension": [extension(CARE_PLAN, "Reference", refs.to("CarePlan", plan_uid))],
        "lifecycleStatus": goal.lifecycle_status,
        "achievementStatus": concept(None, coding(GOAL_ACHIEVEMENT, achievement, ACHIEVEMENT_DISPLAY.get(achievement)))
        if achievement else None,
        "description": {"text": goal.description},
        "subject": refs.to("Patient", patient_uid),
        "target": [target] if target else None,
    })  # fmt: skip


def goal_from_fhir(resource: Resource) -> dict[str, Any]:
    """The goal's fields from a Goal: description, lifecycle and achievement status, target date, measure."""
    owner = name(resource)
    description = str((resource.get("description") or {}).get("text") or "").strip()
    if not description:
        raise ValidationError(f"{owner}: no description text")
    lifecycle = resource.get("lifecycleStatus")
    if lifecycle not in LIFECYCLE:
        raise ValidationError(f"{owner}: lifecycleStatus '{lifecycle}' is not a FHIR goal status")
    achievement = next(iter(codes(resource.get("achievementStatus"), GOAL_ACHIEVEMENT)), None)
    target = (resource.get("target") or [{}])[0]
    measure = (target.get("measure") or {}).get("text")
    return {
        "description": description.splitlines()[0],
        "lifecycle_status": lifecycle,
        "achievement_status": achievement if achievement in ACHIEVEMENT_DISPLAY else None,
        "target_on": read_date(target.get("dueDate")),
        "measure": measure.strip() if isinstance(measure, str) and measure.strip() else None,
    }


def goal_plan(resource: Resource) -> Mapping[str, Any] | None:
    """The reference to the goal's CarePlan, if the Goal names it."""
    found = extension_value(resource, CARE_PLAN)
    return found if isinstance(found, Mapping) else None
