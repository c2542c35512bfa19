"""Contacts (care team and family) <-> FHIR R4 RelatedPerson and CareTeam; Patient.contact on import.

Every contact is a RelatedPerson (https://hl7.org/fhir/R4/relatedperson.html) of its patient: name,
telecom, and the role or relationship as written (relationship.text) with its v3 RoleCode where the
words name a personal relationship (the "PatientRelationshipType" binding; the codes below are those
of the v3 PersonalRelationshipRoleType value set, https://terminology.hl7.org/ValueSet-v3-PersonalRelationshipRoleType.html,
system http://terminology.hl7.org/CodeSystem/v3-RoleCode). A patient's contacts together are also one
CareTeam (https://hl7.org/fhir/R4/careteam.html) whose participants are those RelatedPersons, their
organization as onBehalfOf, so a reader of the Bundle finds the team in one place.

Organization, preferred contact method, notes and the consent to share information are carecoord's
extensions on the RelatedPerson. The consent is an extension, not a Consent resource: carecoord keeps
only that the patient agreed to share with this person, not when, by which document, under which
policy or for which purposes, and an R4 Consent needs those (scope, category, and a policy or policy
rule, invariant ppc-1), which would have to be made up; Consent resources in the Bundle stay those of
program enrolments and referrals, whose consent carecoord does record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from carecoord.fhir import Refs, named_uid
from carecoord.fhir.elements import (
    codes,
    coding,
    compact,
    concept,
    extension_value,
    extensions,
    has_extension,
    meta,
    read_name,
    read_telecom,
    record_identifier,
    telecom,
    words,
)

ROLE_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
# Words a coordinator types -> v3 RoleCode (PersonalRelationshipRoleType), with the code's display.
RELATIONSHIPS: dict[str, tuple[str, str]] = {
    "daughter": ("DAUC", "daughter"),
    "son": ("SONC", "son"),
    "child": ("CHILD", "child"),
    "wife": ("WIFE", "wife"),
    "husband": ("HUSB", "husband"),
    "spouse": ("SPS", "spouse"),
    "partner": ("DOMPART", "domestic partner"),
    "domestic partner": ("DOMPART", "domestic partner"),
    "significant other": ("SIGOTHR", "significant other"),
    "mother": ("MTH", "mother"),
    "father": ("FTH", "father"),
    "parent": ("PRN", "parent"),
    "sister": ("SIS", "sister"),
    "brother": ("BRO", "brother"),
    "sibling": ("SIB", "sibling"),
    "grandmother": ("GRMTH", "grandmother"),
    "grandfather": ("GRFTH", "grandfather"),
    "grandparent": ("GRPRN", "grandparent"),
    "granddaughter": ("GRNDDAU", "granddaughter"),
    "grandson": ("GRNDSON", "grandson"),
    "grandchild": ("GRNDCHILD", "grandchild"),
    "aunt": ("AUNT", "aunt"),
    "uncle": ("UNCLE", "uncle"),
    "niece": ("NIECE", "niece"),
    "nephew": ("NEPHEW", "nephew"),
    "cousin": ("COUSN", "cousin"),
    "daughter-in-law": ("DAUINLAW", "daughter in-law"),
    "son-in-law": ("SONINLAW", "son in-law"),
    "mother-in-law": ("MTHINLAW", "mother-in-law"),
    "father-in-law": ("FTHINLAW", "father-in-law"),
    "stepdaughter": ("STPDAU", "stepdaughter"),
    "stepson": ("STPSON", "stepson"),
    "friend": ("FRND", "unrelated friend"),
    "neighbor": ("NBOR", "neighbor"),
    "neighbour": ("NBOR", "neighbor"),
    "roommate": ("ROOM", "Roommate"),
    "family member": ("FAMMEMB", "family member"),
}
_WORD_OF_CODE: dict[str, str] = {}
for _word, (_code, _display) in RELATIONSHIPS.items():
    _WORD_OF_CODE.setdefault(_code, _word)


def relationship(role: str | None) -> dict[str, Any] | None:
    """The relationship CodeableConcept for a stored role: the words, and the v3 RoleCode they name."""
    if not role:
        return None
    known = RELATIONSHIPS.get(" ".join(role.split()).casefold())
    return concept(role, coding(ROLE_CODE_SYSTEM, *known) if known else None)


def role_words(element: Any) -> str | None:
    """The role to store for a relationship CodeableConcept: its text, else the word for its v3 code,
    else its display or code."""
    if isinstance(element, Mapping) and isinstance(element.get("text"), str) and element["text"].strip():
        return " ".join(element["text"].split())
    for code in codes(element, ROLE_CODE_SYSTEM):
        if code in _WORD_OF_CODE:
            return _WORD_OF_CODE[code]
    return words(element)


def related_person(contact: Any, patient_uid: str, patient_name: str, refs: Refs) -> dict[str, Any]:
    """The RelatedPerson of a stored contact (a Contact row or a snapshot of one)."""
    return compact(
        {
            "resourceType": "RelatedPerson",
            "id": contact.uid,
            "meta": meta(contact.updated_at),
            "extension": extensions(
                [
                    ("organization", "String", contact.organization),
                    ("preferred-contact-method", "Code", contact.preferred_method),
                    ("consent-to-share", "Boolean", bool(contact.consent_to_share)),
                    ("notes", "String", contact.notes),
                ]
            ),
            "identifier": [record_identifier(contact.uid)],
            "active": True,
            "patient": refs.to("Patient", patient_uid, patient_name),
            "relationship": [relationship(contact.role)] if contact.role else None,
            "name": [{"text": contact.name}],
            "telecom": telecom(contact.phone, contact.email, preferred=contact.preferred_method),
        }
    )


def care_team_uid(patient_uid: str) -> str:
    """The id of a patient's CareTeam: made from the patient's (carecoord keeps no team row)."""
    return named_uid("CareTeam", f"care-team-of-{patient_uid}")


def care_team(patient: Any, contacts: Iterable[Any], refs: Refs) -> dict[str, Any]:
    """A patient's CareTeam: every contact a participant, with its role and organization."""
    uid = care_team_uid(patient.uid)
    participants = []
    for contact in contacts:
        participants.append(
            compact(
                {
                    "role": [{"text": contact.role}] if contact.role else None,
                    "member": refs.to("RelatedPerson", contact.uid, contact.name),
                    "onBehalfOf": {"display": contact.organization} if contact.organization else None,
                }
            )
        )
    return {
        "resourceType": "CareTeam",
        "id": uid,
        "identifier": [record_identifier(uid)],
        "status": "active",
        "name": f"Care team of {patient.name}",
        "subject": refs.to("Patient", patient.uid, patient.name),
        "participant": participants,
    }


def _contact_values(name: str | None, element: Mapping[str, Any], role: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"name": name, "role": role}
    for system in ("phone", "email"):
        found = read_telecom(element.get("telecom"), system)
        if found is not None:
            values[system] = found
    return values


def from_related_person(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A contact's fields from a RelatedPerson (the extensions only when present)."""
    relations = resource.get("relationship") or []
    role = next((r for r in (role_words(rel) for rel in relations) if r), None)
    values = _contact_values(read_name(resource.get("name")), resource, role)
    for field, name in (("organization", "organization"), ("preferred_method", "preferred-contact-method"),
                        ("notes", "notes")):  # fmt: skip
        found = extension_value(resource, name)
        if found is not None:
            values[field] = found
    if has_extension(resource, "consent-to-share"):
        values["consent_to_share"] = extension_value(resource, "consent-to-share") is True
    return values


def from_patient_contact(contact: Mapping[str, Any]) -> dict[str, Any]:
    """A contact's fields from an entry of Patient.contact (name, relationship, telecom, organization)."""
    relations = contact.get("relationship") or []
    role = next((r for r in (role_words(rel) for rel in relations) if r), None)
    values = _contact_values(read_name(contact.get("name")), contact, role)
    organization = contact.get("organization")
    if isinstance(organization, Mapping) and isinstance(organization.get("display"), str):
        values["organization"] = organization["display"]
    return values
