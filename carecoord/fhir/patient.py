"""Patient <-> FHIR R4 Patient (https://hl7.org/fhir/R4/patient.html).

Mapped onto Patient's own elements: the MRN (an identifier of type MR), the name (carecoord keeps one
string: HumanName.text, with a best-effort family/given split), birth date, phone and email
(telecom), address (text), preferred language (communication.language, BCP-47), the primary care
provider (generalPractitioner, by name). What FHIR has no element for is carried in carecoord's
extensions: the program status (Patient.active says only whether the record is in use: false once
discharged), risk level, tags, enrolment and discharge dates, discharge reason, notes and the
coordinator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carecoord.fhir import BASE, IDENTIFIER_TYPE_SYSTEM, MRN_TYPE, Refs
from carecoord.fhir.elements import (
    codes,
    coding,
    compact,
    day,
    extension_value,
    extension_values,
    extensions,
    has_extension,
    human_name,
    meta,
    read_address,
    read_date,
    read_name,
    read_telecom,
    record_identifier,
    telecom,
)
from carecoord.fhir.languages import language_concept, language_words

# carecoord has no namespace of its own for MRNs (they are the clinic's): an export names this one.
MRN_SYSTEM = f"{BASE}/NamingSystem/mrn"
# v2-0203 "MR" Medical record number: https://terminology.hl7.org/CodeSystem-v2-0203.html
MRN_TYPE_CODING = coding(IDENTIFIER_TYPE_SYSTEM, MRN_TYPE, "Medical record number")
DISCHARGED = "discharged"


def to_fhir(patient: Any, refs: Refs) -> dict[str, Any]:
    """The Patient resource of a stored patient (a Patient row or a snapshot of one)."""
    identifiers = [record_identifier(patient.uid)]
    if patient.mrn:
        identifiers.append({"use": "usual", "type": {"coding": [MRN_TYPE_CODING], "text": "MRN"},
                            "system": MRN_SYSTEM, "value": patient.mrn})  # fmt: skip
    tags = [tag for tag in (patient.tags or "").split(",") if tag]
    return compact(
        {
            "resourceType": "Patient",
            "id": patient.uid,
            "meta": meta(patient.updated_at),
            "extension": extensions(
                [
                    ("care-status", "Code", patient.status),
                    ("risk-level", "Code", patient.risk),
                    *(("tag", "String", tag) for tag in tags),
                    ("enrolled", "Date", day(patient.enrolled_on)),
                    ("discharged", "Date", day(patient.discharged_on)),
                    ("discharge-reason", "String", patient.discharge_reason),
                    ("notes", "String", patient.notes),
                    ("coordinator", "String", patient.coordinator),
                ]
            ),
            "identifier": identifiers,
            "active": patient.status != DISCHARGED,
            "name": [human_name(patient.name)],
            "telecom": telecom(patient.phone, patient.email),
            "birthDate": day(patient.birth_date),
            "address": [{"text": patient.address}] if patient.address else None,
            "communication": [{"language": language_concept(patient.language), "preferred": True}]
            if patient.language
            else None,
            "generalPractitioner": [{"display": patient.pcp}] if patient.pcp else None,
        }
    )


def mrn_of(resource: Mapping[str, Any]) -> str | None:
    """The value of the patient's MRN identifier (type MR, whatever its system)."""
    for identifier in resource.get("identifier") or ():
        if not isinstance(identifier, Mapping) or not isinstance(identifier.get("value"), str):
            continue
        if MRN_TYPE in codes(identifier.get("type"), IDENTIFIER_TYPE_SYSTEM) or any(
            c.get("code") == MRN_TYPE and str(c.get("system", "")).endswith("0203")
            for c in (identifier.get("type") or {}).get("coding") or ()
        ):
            value = str(identifier["value"]).strip()
            if value:
                return value
    return None


def from_fhir(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The patient's fields a Patient resource gives (a field it says nothing about is left out, so
    an import does not clear what the sender does not keep). ``tags`` is a list; the status, dates
    and reason come from carecoord's extensions only."""
    values: dict[str, Any] = {"name": read_name(resource.get("name"))}
    found = {
        "birth_date": read_date(resource.get("birthDate")),
        "mrn": mrn_of(resource),
        "phone": read_telecom(resource.get("telecom"), "phone"),
        "email": read_telecom(resource.get("telecom"), "email"),
        "address": read_address(resource.get("address")),
        "language": _language(resource.get("communication")),
        "pcp": _practitioner(resource.get("generalPractitioner")),
        "risk": extension_value(resource, "risk-level"),
        "notes": extension_value(resource, "notes"),
        "status": extension_value(resource, "care-status"),
        "enrolled_on": read_date(extension_value(resource, "enrolled")),
        "discharged_on": read_date(extension_value(resource, "discharged")),
        "discharge_reason": extension_value(resource, "discharge-reason"),
    }
    values.update({key: value for key, value in found.items() if value is not None})
    if has_extension(resource, "tag"):
        values["tags"] = [str(tag) for tag in extension_values(resource, "tag")]
    return values


def _language(communication: Any) -> str | None:
    if not isinstance(communication, list) or not communication:
        return None
    chosen = next((c for c in communication if isinstance(c, Mapping) and c.get("preferred") is True), communication[0])
    return language_words(chosen.get("language")) if isinstance(chosen, Mapping) else None


def _practitioner(references: Any) -> str | None:
    for reference in references or ():
        if (
            isinstance(reference, Mapping)
            and isinstance(reference.get("display"), str)
            and reference["display"].strip()
        ):
            return str(reference["display"]).strip()
    return None
