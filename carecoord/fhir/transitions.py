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
from carecoord.fhir import Refs, code_system
from carecoord.fhir.elements import (
    codes,
    coding,
    compact,
    concept,
    day,
    extension_value,
    extensions,
    meta,
    read_date,
    record_identifier,
)
from carecoord.fhir.parts import Resource, name

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
PROGRAM_SYSTEM = code_system("program")  # a program enrolment's EpisodeOfCare.type (not a transition)
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
    return compact({
        "resourceType": "EpisodeOfCare",
        "id": transition.uid,
        "meta": meta(transition.updated_at),
        "identifier": [record_identifier(transition.uid)],
        "extension": extensions([
            (FACILITY, "String", transition.facility),
            (COMPLEXITY, "Code", transition.complexity),
            (CONTACT_DUE, "Date", day(transition.contact_due)),
            (VISIT_DUE, "Date", day(transition.visit_due)),
            (CONTACT_TASK, "Reference", refs.to("Task", contact_task_uid) if contact_task_uid else None),
            (VISIT_TASK, "Reference", refs.to("Task", visit_task_uid) if visit_task_uid else None),
            (NOTES, "String", transition.notes),
        ]),
        "status": FINISHED if end < today else ACTIVE,
        "type": [concept(f"Transitional care management after discharge from {transition.facility}",
                         coding(CPT, code, CPT_DISPLAY[code]))] if code else None,
        "patient": refs.to("Patient", patient_uid),
        "period": {"start": day(transition.discharged_on), "end": day(end)},
    })  # fmt: skip


def _cpt(resource: Resource) -> str | None:
    """The first CPT code among the EpisodeOfCare's types."""
    return next((code for kind in resource.get("type") or () for code in codes(kind, CPT)), None)


def is_transition(resource: Resource) -> bool:
    """Whether an EpisodeOfCare is a transition of care (TCM by its CPT code, or carecoord's own); a
    program enrolment's (typed in carecoord's program code system: services.fhir_navigation) is not."""
    if any(codes(kind, PROGRAM_SYSTEM) for kind in resource.get("type") or ()):
        return False
    return _cpt(resource) in COMPLEXITY_FROM_CPT or bool(extension_value(resource, FACILITY))


def transition_from_fhir(resource: Resource) -> dict[str, Any]:
    """The transition's fields from an EpisodeOfCare: facility, discharge day, complexity, deadlines,
    notes (the follow-up tasks: :func:`transition_tasks`). Deadlines missing are left None, for the
    caller to work out as carecoord does."""
    owner = name(resource)
    discharged_on = read_date((resource.get("period") or {}).get("start"))
    if discharged_on is None:
        raise ValidationError(f"{owner}: no period start (the discharge day)")
    facility = str(extension_value(resource, FACILITY) or "").strip()
    if not facility:
        raise ValidationError(f"{owner}: no discharge facility")
    complexity = extension_value(resource, COMPLEXITY) or COMPLEXITY_FROM_CPT.get(_cpt(resource) or "")
    if complexity not in TCM_CODES:
        raise ValidationError(f"{owner}: no TCM complexity (a tcm-complexity extension or CPT 99495/99496)")
    return {
        "facility": facility,
        "discharged_on": discharged_on,
        "complexity": complexity,
        "contact_due": read_date(extension_value(resource, CONTACT_DUE)),
        "visit_due": read_date(extension_value(resource, VISIT_DUE)),
        "notes": extension_value(resource, NOTES),
    }


def transition_tasks(resource: Resource) -> tuple[Any, Any]:
    """The references to the contact and the visit follow-up Tasks, when the EpisodeOfCare names them."""
    return extension_value(resource, CONTACT_TASK), extension_value(resource, VISIT_TASK)
