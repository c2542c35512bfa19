"""Care plans <-> FHIR R4 CarePlan, their needs <-> Condition (health concerns), their reviews.

CarePlan: https://hl7.org/fhir/R4/careplan.html . A plan's needs go out as Condition resources
(category health-concern, the need's words in ``code.text``) that ``CarePlan.addresses`` refers to,
which is where an EHR (US Core CarePlan) looks for what a plan addresses; each reference also carries
the need's words as its ``display``, in the plan's order, so that reading the CarePlan alone gives the
needs back exactly (the Conditions are read only by ``import fhir --conditions``, which finds them on
the plan already). The review cycle and the recorded reviews are carecoord extensions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from carecoord.errors import ValidationError
from carecoord.fhir import Refs, named_uid, uid_for
from carecoord.fhir.elements import (
    coding,
    compact,
    complex_extension,
    concept,
    day,
    extension_value,
    extensions,
    instant,
    meta,
    read_date,
    record_identifier,
    words,
)
from carecoord.fhir.parts import Resource, all_parts, annotation, duration, duration_value, name, note_text

if TYPE_CHECKING:
    from carecoord.models import CarePlan, PlanReview

# CarePlan.status: request-status, https://hl7.org/fhir/R4/codesystem-request-status.html (carecoord's
# plan statuses are its codes: vocab.PlanStatus). Its "unknown" is read as draft.
PLAN_STATUSES = frozenset({"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"})
# CarePlan.category: US Core's "assess-plan" (https://hl7.org/fhir/us/core/CodeSystem-careplan-category.html,
# required by the US Core CarePlan profile) and, for readers outside the US, the root of R4's example
# value set care-plan-category, SNOMED CT 734163000 "Care plan" (https://hl7.org/fhir/R4/valueset-care-plan-category.html).
US_CORE_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
SNOMED = "http://snomed.info/sct"
# Condition.category "health-concern": US Core's code system
# (https://hl7.org/fhir/us/core/STU4/ValueSet-us-core-condition-category.html): "additional health
# concerns from other stakeholders which are outside the provider's problem list", as a coordinator's needs are.
US_CORE_CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
# Condition.clinicalStatus: https://terminology.hl7.org/CodeSystem-condition-clinical.html
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CLOSED_PLAN_STATUSES = frozenset({"completed", "revoked", "entered-in-error"})

# carecoord's extensions on CarePlan (carecoord.fhir.extension_url)
NEXT_REVIEW = "next-review"  # valueDate
REVIEW_INTERVAL = "review-interval"  # valueDuration in days (UCUM d)
PLAN_REVIEW = "plan-review"  # complex, repeated: id (valueUuid), date (valueDate), note (valueString), nextReview


def plan_needs(plan: CarePlan) -> list[str]:
    """The plan's needs, one per stored line (as services.plans.split_needs reads them)."""
    return [line for line in plan.needs.split("\n") if line]


def need_uid(plan_uid: str, need: str) -> str:
    """The stable uid of the Condition a plan's need becomes (the same need of the same plan, the same id)."""
    return named_uid("Condition", f"{plan_uid}/{need}")


def plan_to_fhir(
    plan: CarePlan,
    patient_uid: str,
    refs: Refs,
    *,
    goal_uids: Sequence[str] = (),
    task_uids: Sequence[str] = (),
    reviews: Sequence[PlanReview] = (),
) -> Resource:
    """The CarePlan resource of a plan: its goals (CarePlan.goal), tasks (activity), needs (addresses)."""
    cycle = extensions([
        (NEXT_REVIEW, "Date", day(plan.next_review)),
        (REVIEW_INTERVAL, "Duration", duration(plan.review_every_days, "d") if plan.review_every_days else None),
    ])  # fmt: skip
    return compact({
        "resourceType": "CarePlan",
        "id": plan.uid,
        "meta": meta(plan.updated_at),
        "identifier": [record_identifier(plan.uid)],
        "extension": cycle + [_review_extension(review) for review in reviews],
        "status": plan.status,
        "intent": "plan",
        "category": [
            concept(None, coding(US_CORE_CAREPLAN_CATEGORY, "assess-plan", "Assessment and Plan of Treatment")),
            concept(None, coding(SNOMED, "734163000", "Care plan")),
        ],
        "title": plan.title,
        "subject": refs.to("Patient", patient_uid),
        "period": compact({"start": day(plan.start_on), "end": day(plan.end_on)}),
        "created": instant(plan.created_at) if plan.created_at else None,
        "addresses": [refs.to("Condition", need_uid(plan.uid, need), need) for need in plan_needs(plan)],
        "goal": [refs.to("Goal", uid) for uid in goal_uids],
        "activity": [{"reference": refs.to("Task", uid)} for uid in task_uids],
        "note": annotation(plan.notes),
    })  # fmt: skip


def _review_extension(review: PlanReview) -> dict[str, Any]:
    return complex_extension(PLAN_REVIEW, [
        ("id", "Uuid", f"urn:uuid:{review.uid}"),
        ("date", "Date", day(review.reviewed_on)),
        ("note", "String", review.note or None),
        ("nextReview", "Date", day(review.next_review)),
    ])  # fmt: skip


def needs_to_fhir(plan: CarePlan, patient_uid: str, refs: Refs) -> list[Resource]:
    """A Condition (health concern) for each of the plan's needs: active while the plan is open."""
    clinical = "inactive" if plan.status in CLOSED_PLAN_STATUSES else "active"
    return [_need(plan, need, clinical, patient_uid, refs) for need in plan_needs(plan)]


def _need(plan: CarePlan, need: str, clinical: str, patient_uid: str, refs: Refs) -> Resource:
    uid = need_uid(plan.uid, need)
    return compact({
        "resourceType": "Condition",
        "id": uid,
        "meta": meta(plan.updated_at),
        "identifier": [record_identifier(uid)],
        "clinicalStatus": concept(None, coding(CONDITION_CLINICAL, clinical, clinical.capitalize())),
        "category": [concept(None, coding(US_CORE_CONDITION_CATEGORY, "health-concern", "Health Concern"))],
        "code": {"text": need},
        "subject": refs.to("Patient", patient_uid),
    })  # fmt: skip


def plan_from_fhir(resource: Resource) -> dict[str, Any]:
    """The plan's fields from a CarePlan: title, status, needs, period, review cycle, notes."""
    owner = name(resource)
    status = resource.get("status")
    period = resource.get("period") or {}
    needs = [str(ref["display"]).strip() for ref in resource.get("addresses") or () if ref.get("display")]
    return {
        "title": _title(resource),
        "status": status if status in PLAN_STATUSES else "draft",
        "needs": "\n".join(dict.fromkeys(need for need in needs if need)),
        "start_on": read_date(period.get("start")),
        "end_on": read_date(period.get("end")),
        "next_review": read_date(extension_value(resource, NEXT_REVIEW)),
        "review_every_days": duration_value(extension_value(resource, REVIEW_INTERVAL), "d", owner),
        "notes": note_text(resource),
    }


def _title(resource: Resource) -> str:
    """The plan's title; one with none is named by its description or category, else "Care plan"."""
    categories = [words(category) for category in resource.get("category") or ()]
    for text in (resource.get("title"), resource.get("description"), *categories):
        lines = str(text or "").strip().splitlines()
        if lines:
            return lines[0].strip()
    return "Care plan"


def reviews_from_fhir(resource: Resource) -> list[dict[str, Any]]:
    """The plan's recorded reviews: each one's uid, day, note and the next review it set."""
    owner = name(resource)
    found = []
    for parts in all_parts(resource, PLAN_REVIEW):
        reviewed_on = read_date(parts.get("date"))
        if reviewed_on is None:
            raise ValidationError(f"{owner}: a plan review without its date")
        found.append({
            "uid": _review_uid(str(parts.get("id") or ""), owner, reviewed_on),
            "reviewed_on": reviewed_on,
            "note": parts.get("note"),
            "next_review": read_date(parts.get("nextReview")),
        })  # fmt: skip
    return found


def _review_uid(raw_id: str, owner: str, reviewed_on: date) -> str:
    """The review's uid as exported, else one made from the plan and the day (stable across imports)."""
    try:
        return str(uuid.UUID(raw_id.removeprefix("urn:uuid:")))
    except ValueError:
        return uid_for("PlanReview", f"{owner}/{reviewed_on}")
