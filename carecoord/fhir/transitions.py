"""Transitions of care <-> FHIR R4 EpisodeOfCare (https://hl7.org/fhir/R4/episodeofcare.html).

A transition is the transitional-care-management episode that a discharge opens: its period is the
TCM service period (the discharge day and the 29 days after it, clinical.TCM_PERIOD_DAYS), its type
the CPT code the complexity calls for (99495 moderate, 99496 high: clinical.TCM_CODES). The facility,
the complexity, the two deadlines, the follow-up Tasks that carry them and the notes are carecoord
extensions. An EpisodeOfCare, not an Encounter: an Encounter is the hospital's record of the stay,
and an EHR's export carries many of them that are not transitions carecoord manages.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from carecoord.clinical import TCM_CODES, TCM_PERIOD_DAYS
from carecoord.errors import ValidationError
from carecoord.fhir import Refs
from carecoord.fhir.parts import (
    Resource,
    codes_in,
    concept,
    drop_empty,
    extension,
    extension_value,
    extensions,
    fhir_date,
    name,
    parse_date,
    record_identifier,
)

if TYPE_CHECKING:
    from carecoord.models import Transition

# CPT, the AMA's code system URI for FHIR: http://www.ama-assn.org/go/cpt
# (https://terminology.hl7.org/CodeSystem-CPT.html). 99495/99496: transitional care management
# (CMS MLN908628); the displays are carecoord's own words, not the AMA's descriptors.
CPT = "http://www.ama-assn.org/go/cpt"
CPT_DISPLAY = {
    "99495": "Transitional care management, moderate complexity (visit within 14 days)",
    "99496": "Transitional care management, high complexity (visit within 7 days)",
}
COMPLEXITY_FROM_CPT = {code: complexity for complexity, code in TCM_CODES.items()}
# EpisodeOfCare.status: https://hl7.org/fhir/R4/codesystem-episode-of-care-status.html
ACTIVE, FINISHED = "active", "finished"

FACILITY = "discharge-facility"  # valueString: the hospital or facility the patient left
COMPLEXITY = "tcm-complexity"  # valueCode: moderate | high (vocab.Complexity)
CONTACT_DUE = "tcm-contact-due"  # valueDate: interactive contact within 2 business days
VISIT_DUE = "tcm-visit-due"  # valueDate: face-to-face visit within 7 or 14 days
CONTACT_TASK = "tcm-contact-task"  # valueReference: the Task that carries the contact
VISIT_TASK = "tcm-visit-task"  # valueReference: the Task that carries the visit
NOTES = "note"  # valueString: the coordinator's notes (EpisodeOfCare has no note element)


def service_period_end(discharged_on: date) -> date:
    """The last day of the TCM service period (services.transitions.period_end, without the database)."""
    return discharged_on + timedelta(days=TCM_PERIOD_DAYS - 1)


def transition_to_fhir(
    transition: Transition,
    patient_uid: str,
    refs: Refs,
    *,
    today: date,
    contact_task_uid: str | None = None,
    visit_task_uid: str | None = None,
) -> Resource:
    """The EpisodeOfCare of a transition: active until its service period is over (as of ``today``)."""
    code = TCM_CODES.get(transition.complexity)
    end = service_period_end(transition.discharged_on)
    return drop_empty({
        "resourceType": "EpisodeOfCare",
        "id": transition.uid,
        "identifier": record_identifier(transition.uid),
        "extension": extensions(
            extension(FACILITY, valueString=transition.facility),
            extension(COMPLEXITY, valueCode=transition.complexity),
            extension(CONTACT_DUE, valueDate=fhir_date(transition.contact_due)),
            extension(VISIT_DUE, valueDate=fhir_date(transition.visit_due)),
            extension(CONTACT_TASK, valueReference=refs.to("Task", contact_task_uid)) if contact_task_uid else None,
            extension(VISIT_TASK, valueReference=refs.to("Task", visit_task_uid)) if visit_task_uid else None,
            extension(NOTES, valueString=transition.notes) if transition.notes else None,
        ),
        "status": FINISHED if end < today else ACTIVE,
        "type": [concept(CPT, code, CPT_DISPLAY[code], f"Transitional care management after discharge from "
                         f"{transition.facility}")] if code else None,
        "patient": refs.to("Patient", patient_uid),
        "period": {"start": fhir_date(transition.discharged_on), "end": fhir_date(end)},
    })  # fmt: skip


def is_transition(resource: Resource) -> bool:
    """Whether an EpisodeOfCare is a transition of care (TCM by its CPT code, or carecoord's own)."""
    return bool(codes_in(resource.get("type"), CPT) in COMPLEXITY_FROM_CPT or extension_value(
        resource, FACILITY, "String"))  # fmt: skip


def transition_from_fhir(resource: Resource) -> dict[str, Any]:
    """The transition's fields from an EpisodeOfCare: facility, discharge day, complexity, deadlines,
    notes (the follow-up tasks: :func:`transition_tasks`). Deadlines missing are left None, for the
    caller to work out as carecoord does."""
    owner = name(resource)
    discharged_on = parse_date((resource.get("period") or {}).get("start"), owner)
    if discharged_on is None:
        raise ValidationError(f"{owner}: no period start (the discharge day)")
    facility = (extension_value(resource, FACILITY, "String") or "").strip()
    if not facility:
        raise ValidationError(f"{owner}: no discharge facility")
    complexity = extension_value(resource, COMPLEXITY, "Code") or COMPLEXITY_FROM_CPT.get(
        codes_in(resource.get("type"), CPT) or ""
    )
    if complexity not in TCM_CODES:
        raise ValidationError(f"{owner}: no TCM complexity (a tcm-complexity extension or CPT 99495/99496)")
    return {
        "facility": facility,
        "discharged_on": discharged_on,
        "complexity": complexity,
        "contact_due": parse_date(extension_value(resource, CONTACT_DUE, "Date"), owner),
        "visit_due": parse_date(extension_value(resource, VISIT_DUE, "Date"), owner),
        "notes": extension_value(resource, NOTES, "String"),
    }


def transition_tasks(resource: Resource) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The references to the contact and the visit follow-up Tasks, when the EpisodeOfCare names them."""
    return extension_value(resource, CONTACT_TASK, "Reference"), extension_value(resource, VISIT_TASK, "Reference")
