"""What the navigation mappings (screenings, referrals, authorizations, programs) share: the code
systems they use, each with the page it was checked against, and small helpers for codings,
extensions and the ids of resources derived from one record. The building blocks every mapping
shares (identifiers, codings, dates, ``compact``, ``meta``) come from ``carecoord.fhir.elements``; the
readers here are strict (a malformed date in carecoord's own extension is an error, not a None).

Plain dicts only: no CLI, no database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from carecoord.fhir import BASE, code_system, extension_url, name_based_uuid
from carecoord.fhir.elements import coding, compact, day, meta, record_identifier

__all__ = ["coding", "compact", "day", "meta", "record_identifier"]  # the shared building blocks, re-exported

# --- published code systems ------------------------------------------------------------------------

# LOINC in FHIR: https://loinc.org/fhir/ and https://terminology.hl7.org/CodeSystem-v3-loinc.html
LOINC = "http://loinc.org"
# The Gravity Project's SDOH categories (food-insecurity, housing-instability, ...): SDOH Clinical Care
# IG STU 2.3, https://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem-SDOHCC-CodeSystemTemporaryCodes.html
SDOH_CATEGORY = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
# US Core category 'sdoh' ("Social Determinants of Health category"), the category SDOHCC Observation
# Screening Response inherits from US Core's screening and assessment profile:
# https://hl7.org/fhir/us/core/STU6.1/CodeSystem-us-core-category.html
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
# Observation category 'survey': https://hl7.org/fhir/R4/codesystem-observation-category.html
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# POS / NEG: https://terminology.hl7.org/CodeSystem-v3-ObservationInterpretation.html
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
# A score carried on an answer's Coding (R4 core extension): https://hl7.org/fhir/R4/extension-ordinalvalue.html
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
# Task.code 'fulfill' ("Fulfill the focal request"): https://hl7.org/fhir/R4/codesystem-task-code.html
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
# Consent.scope: https://hl7.org/fhir/R4/valueset-consent-scope.html (adr, research, patient-privacy, treatment)
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
# v3 ActCode IDSCL (information disclosure), the category SDOHCC Consent requires:
# https://hl7.org/fhir/us/sdoh-clinicalcare/STU2.1/StructureDefinition-SDOHCC-Consent.html
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# v3 ParticipationType IRCP (information recipient): https://terminology.hl7.org/CodeSystem-v3-ParticipationType.html
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
# Claim type 'professional', as Da Vinci PAS's ClaimResponse examples use:
# https://terminology.hl7.org/CodeSystem-claim-type.html
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
# CPT (AMA) and HCPCS Level II (CMS), as HL7 Terminology names them:
# https://terminology.hl7.org/CodeSystem-CPT.html ; https://terminology.hl7.org/CodeSystem-hcpcs-Level-II.html
# (THO's official URL for HCPCS is http://www.cms.gov/..., not https.)
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"

# Names carecoord's derived resources (the Observations of a screening, a referral's Task and
# Consent, a program's Consent) get their ids from: stable, so a second export is the same file.
_DERIVED = uuid.UUID("4f9b1d1a-3c55-5e0b-8a7f-6e0a1c2d3b4e")
_DERIVED_BYTES = _DERIVED.bytes


def derived_uid(uid: str, part: str) -> str:
    """The id of the resource ``part`` made from the record ``uid`` (the same every time): the
    RFC 4122 name-based UUID (version 5, SHA-1) of ``uid/part``."""
    return name_based_uuid(_DERIVED_BYTES, f"{uid}/{part}")


def own_url(kind: str, name: str) -> str:
    """A canonical of carecoord's own (``Questionnaire``, ``NamingSystem``...)."""
    return f"{BASE}/{kind}/{name}"


# --- building --------------------------------------------------------------------------------------


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept with one coding."""
    found: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        found["text"] = text
    return found


def own_concept(name: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept in one of carecoord's code systems."""
    return concept(code_system(name), code, display)


def moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def optional_extension(name: str, kind: str, value: Any) -> dict[str, Any] | None:
    """``{"url": ..., "value<Kind>": value}`` for one of carecoord's extensions; None for no value."""
    if value is None or value == "":
        return None
    return {"url": extension_url(name), f"value{kind}": value}


def nested_extension(name: str, parts: Iterable[dict[str, Any] | None]) -> dict[str, Any]:
    """An extension made of sub-extensions (their urls are the part names)."""
    return {"url": extension_url(name), "extension": [p for p in parts if p is not None]}


def part(name: str, kind: str, value: Any) -> dict[str, Any] | None:
    """A sub-extension of a complex one (relative url)."""
    if value is None or value == "":
        return None
    return {"url": name, f"value{kind}": value}


# --- reading ---------------------------------------------------------------------------------------


def extensions_named(element: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """Every carecoord extension ``name`` on an element (a resource or a complex extension)."""
    url = extension_url(name)
    return [e for e in element.get("extension") or () if isinstance(e, dict) and e.get("url") in (url, name)]


def ext_value(element: Mapping[str, Any], name: str, kind: str) -> Any:
    """The value of the first extension ``name`` (carecoord's, or a sub-extension by its name)."""
    for found in extensions_named(element, name):
        return found.get(f"value{kind}")
    return None


def code_in(concepts: Any, system: str) -> str | None:
    """The first code from ``system`` in a CodeableConcept or a list of them."""
    for item in concepts if isinstance(concepts, list) else [concepts]:
        for c in (item or {}).get("coding") or ():
            if c.get("system") == system and c.get("code"):
                return str(c["code"])
    return None


def own_code(concepts: Any, name: str) -> str | None:
    return code_in(concepts, code_system(name))


def ref_of(reference: Any) -> str | None:
    """The ``reference`` string of a Reference (None for none, or a display-only one)."""
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        return str(reference["reference"])
    return None


def read_day(value: Any, where: str) -> date | None:
    """A FHIR date (or the date part of a dateTime); a ValueError names ``where``."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{where}: '{text}' is not a date") from None


def read_moment(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}: '{value}' is not a date and time") from None
    if found.tzinfo is None:
        raise ValueError(f"{where}: '{value}' has no time zone")
    return found


def label(resource: Mapping[str, Any]) -> str:
    """``ServiceRequest/abc``: how an error names a resource."""
    return f"{resource.get('resourceType', 'Resource')}/{resource.get('id', '?')}"
