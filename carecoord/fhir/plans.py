"""Care plans <-> FHIR R4 CarePlan, their needs <-> Condition (health concerns), their reviews.

CarePlan: https://hl7.org/fhir/R4/careplan.html . A plan's needs go out as Condition resources
(category health-concern, the need's words in ``code.text``) that ``CarePlan.addresses`` refers to,
which is where an EHR (US Core CarePlan) looks for what a plan addresses; each reference also carries
the need's words as its ``display``, in the plan's order, so that reading the CarePlan alone gives the
needs back exactly. The review cycle and the recorded reviews are carecoord extensions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from carecoord.errors import ValidationError
from carecoord.fhir import Refs, uid_for
from carecoord.fhir.parts import (
    Resource,
    annotation,
    concept,
    drop_empty,
    duration,
    duration_value,
    extension,
    extension_value,
    extensions,
    fhir_date,
    fhir_instant,
    find_extensions,
    name,
    parse_date,
    record_identifier,
    single_annotation,
)

if TYPE_CHECKING:
    from carecoord.models import CarePlan, PlanReview

# CarePlan.status: request-status, https://hl7.org/fhir/R4/codesystem-request-status.html (carecoord's
# plan statuses are its codes: vocab.PlanStatus). Unknown there ("unknown") is read as draft.
PLAN_STATUSES = frozenset({"draft", "active", "on-hold", "revoked", "completed", "entered-in-error"})
# CarePlan.category: US Core's "assess-plan" (https://hl7.org/fhir/us/core/CodeSystem-careplan-category.html,
# required by the US Core CarePlan profile) and, for readers outside the US, the root of R4's example
# value set care-plan-category, SNOMED CT 734163000 "Care plan" (https://hl7.org/fhir/R4/valueset-care-plan-category.html).
US_CORE_CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
SNOMED = "http://snomed.info/sct"
# Condition.category "health-concern": US Core's code system
# (https://hl7.org/fhir/us/core/STU4/ValueSet-us-core-condition-category.html): a concern outside the
# provider's problem list, which is what a coordinator's needs are.
US_CORE_CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
# Condition.clinicalStatus: https://terminology.hl7.org/CodeSystem-condition-clinical.html
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CLOSED_PLAN_STATUSES = frozenset({"completed", "revoked", "entered-in-error"})

# carecoord's extensions on CarePlan (carecoord.fhir.extension_url)
NEXT_REVIEW = "next-review"  # valueDate
REVIEW_INTERVAL = "review-interval"  # valueDuration in days (UCUM d)
PLAN_REVIEW = "plan-review"  # complex: id (valueUuid), date (valueDate), note (valueString), nextReview (valueDate)


def plan_needs(plan: CarePlan) -> list[str]:
    """The plan's needs, one per stored line (as services.plans.split_needs reads them)."""
    return [line for line in plan.needs.split("\n") if line]


def need_uid(plan_uid: str, need: str) -> str:
    """The stable uid of the Condition a plan's need becomes (the same need of the same plan, the same id)."""
    return uid_for("Condition", f"{plan_uid}/{need}")


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
    needs = plan_needs(plan)
    period = drop_empty({"start": fhir_date(plan.start_on), "end": fhir_date(plan.end_on)})
    return drop_empty({
        "resourceType": "CarePlan",
        "id": plan.uid,
        "identifier": record_identifier(plan.uid),
        "extension": extensions(
            extension(NEXT_REVIEW, valueDate=fhir_date(plan.next_review)) if plan.next_review else None,
            extension(REVIEW_INTERVAL, valueDuration=duration(plan.review_every_days, "d"))
            if plan.review_every_days else None,
            *(_review_extension(review) for review in reviews),
        ),
        "status": plan.status,
        "intent": "plan",
        "category": [
            concept(US_CORE_CAREPLAN_CATEGORY, "assess-plan", "Assessment and Plan of Treatment"),
            concept(SNOMED, "734163000", "Care plan"),
        ],
        "title": plan.title,
        "subject": refs.to("Patient", patient_uid),
        "period": period or None,
        "created": fhir_instant(plan.created_at),
        "addresses": [refs.to("Condition", need_uid(plan.uid, need), need) for need in needs],
        "goal": [refs.to("Goal", uid) for uid in goal_uids],
        "activity": [{"reference": refs.to("Task", uid)} for uid in task_uids],
        "note": annotation(plan.notes),
    })  # fmt: skip


def _review_extension(review: PlanReview) -> dict[str, Any]:
    parts = [
        {"url": "id", "valueUuid": f"urn:uuid:{review.uid}"},
        {"url": "date", "valueDate": fhir_date(review.reviewed_on)},
        {"url": "note", "valueString": review.note} if review.note else None,
        {"url": "nextReview", "valueDate": fhir_date(review.next_review)} if review.next_review else None,
    ]
    return extension(PLAN_REVIEW, extension=[part for part in parts if part])


def needs_to_fhir(plan: CarePlan, patient_uid: str, refs: Refs) -> list[Resource]:
    """A Condition (health concern) for each of the plan's needs: active while the plan is open."""
    clinical = "inactive" if plan.status in CLOSED_PLAN_STATUSES else "active"
    return [
        {
            "resourceType": "Condition",
            "id": need_uid(plan.uid, need),
            "identifier": record_identifier(need_uid(plan.uid, need)),
            "clinicalStatus": concept(CONDITION_CLINICAL, clinical, clinical.capitalize()),
            "category": [concept(US_CORE_CONDITION_CATEGORY, "health-concern", "Health Concern")],
            "code": {"text": need},
            "subject": refs.to("Patient", patient_uid),
        }
        for need in plan_needs(plan)
    ]


def plan_from_fhir(resource: Resource) -> dict[str, Any]:
    """The plan's fields from a CarePlan: title, status, needs, period, review cycle, notes."""
    owner = name(resource)
    status = resource.get("status") or "draft"
    if status not in PLAN_STATUSES:
        status = "draft"
    period = resource.get("period") or {}
    needs = [str(ref.get("display")).strip() for ref in resource.get("addresses") or [] if ref.get("display")]
    title = (resource.get("title") or resource.get("description") or "").strip().splitlines()
    if not title:
        raise ValidationError(f"{owner}: no title")
    return {
        "title": title[0],
        "status": status,
        "needs": "\n".join(dict.fromkeys(need for need in needs if need)),
        "start_on": parse_date(period.get("start"), owner),
        "end_on": parse_date(period.get("end"), owner),
        "next_review": parse_date(extension_value(resource, NEXT_REVIEW, "Date"), owner),
        "review_every_days": duration_value(extension_value(resource, REVIEW_INTERVAL, "Duration"), "d", owner),
        "notes": single_annotation(resource),
    }


def reviews_from_fhir(resource: Resource) -> list[dict[str, Any]]:
    """The plan's recorded reviews: each one's uid, day, note and the next review it set."""
    owner = name(resource)
    found = []
    for review in find_extensions(resource, PLAN_REVIEW):
        parts = {part.get("url"): part for part in review.get("extension") or []}
        day = parse_date((parts.get("date") or {}).get("valueDate"), owner)
        if day is None:
            raise ValidationError(f"{owner}: a plan review without its date")
        raw_id = str((parts.get("id") or {}).get("valueUuid") or "").removeprefix("urn:uuid:")
        found.append({
            "uid": _review_uid(raw_id, owner, day),
            "reviewed_on": day,
            "note": (parts.get("note") or {}).get("valueString"),
            "next_review": parse_date((parts.get("nextReview") or {}).get("valueDate"), owner),
        })  # fmt: skip
    return found


def _review_uid(raw_id: str, owner: str, day: date) -> str:
    """The review's uid as exported, else one made from the plan and the day (stable across imports)."""
    try:
        return str(uuid.UUID(raw_id))
    except ValueError:
        return uid_for("PlanReview", f"{owner}/{day}")
