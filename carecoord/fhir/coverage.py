"""Coverage <-> FHIR R4 Coverage (https://hl7.org/fhir/R4/coverage.html).

status: carecoord's statuses are R4's financial resource status codes (active, cancelled,
entered-in-error; https://hl7.org/fhir/R4/valueset-fm-status.html); a draft coverage is not taken.
order: R4 Coverage.order is a positiveInt, primary 1, secondary 2, tertiary 3. The payer is carecoord's
words, so payor is a Reference by name (display). The member id is subscriberId and an identifier of
type MB (Member Number, https://terminology.hl7.org/CodeSystem-v2-0203.html); plan and group number
are Coverage.class entries of type plan and group (https://terminology.hl7.org/CodeSystem-coverage-class.html).

type: carecoord's own code (code_system("coverage-type")), so that it comes back as it was, with the
Source of Payment Typology category where one fits: 1 Medicare, 2 Medicaid, 5 Private health
insurance (system https://nahdo.org/sopt, the URI HL7 Terminology endorses for it,
https://terminology.hl7.org/CodeSystem-SOPT.html; US Core binds Coverage.type to it), and the
self-pay code ``pay`` of https://terminology.hl7.org/CodeSystem-coverage-selfpay.html.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carecoord.fhir import IDENTIFIER_TYPE_SYSTEM, Refs, code_system
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
    words,
)

TYPE_SYSTEM = code_system("coverage-type")
SOPT = "https://nahdo.org/sopt"
SELF_PAY = "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
CLASS_SYSTEM = "http://terminology.hl7.org/CodeSystem/coverage-class"
DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"  # https://hl7.org/fhir/R4/extension-data-absent-reason.html
ORDERS = {"primary": 1, "secondary": 2, "tertiary": 3}
STATUSES = ("active", "cancelled", "entered-in-error")
_SOPT = {
    "medicare": ("1", "MEDICARE"),
    "medicare-advantage": ("1", "MEDICARE"),
    "medicaid": ("2", "MEDICAID"),
    "commercial": ("5", "PRIVATE HEALTH INSURANCE"),
    "marketplace": ("5", "PRIVATE HEALTH INSURANCE"),
}

# Another system's SOPT code, by its top-level category (the first digit): 1 Medicare, 2 Medicaid, 5 private.
_FROM_SOPT = {"1": "medicare", "2": "medicaid", "5": "commercial"}


def _type(kind: str | None) -> dict[str, Any] | None:
    if not kind:
        return None
    extra = None
    if kind in _SOPT:
        extra = coding(SOPT, *_SOPT[kind])
    elif kind == "self-pay":
        extra = coding(SELF_PAY, "pay", "Pay")
    return concept(kind, coding(TYPE_SYSTEM, kind), extra)


def to_fhir(coverage: Any, patient_uid: str, patient_name: str, refs: Refs) -> dict[str, Any]:
    """The Coverage resource of a stored coverage (a Coverage row or a snapshot of one)."""
    identifiers = [record_identifier(coverage.uid)]
    if coverage.member_id:
        identifiers.append({"type": {"coding": [coding(IDENTIFIER_TYPE_SYSTEM, "MB", "Member Number")]},
                            "value": coverage.member_id})  # fmt: skip
    classes = [
        {"type": {"coding": [coding(CLASS_SYSTEM, kind)]}, "value": value, "name": value}
        for kind, value in (("plan", coverage.plan), ("group", coverage.group_number))
        if value
    ]
    payor = (
        {"display": coverage.payer} if coverage.payer else {"extension": [{"url": DATA_ABSENT, "valueCode": "unknown"}]}
    )
    return compact(
        {
            "resourceType": "Coverage",
            "id": coverage.uid,
            "meta": meta(coverage.updated_at),
            "extension": extensions([("payer-phone", "String", coverage.phone), ("notes", "String", coverage.notes)]),
            "identifier": identifiers,
            "status": coverage.status,
            "type": _type(coverage.type),
            "subscriberId": coverage.member_id,
            "beneficiary": refs.to("Patient", patient_uid, patient_name),
            "period": compact({"start": day(coverage.start_on), "end": day(coverage.end_on)}) or None,
            "payor": [payor],
            "class": classes,
            "order": ORDERS.get(coverage.order),
        }
    )


def from_fhir(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A coverage's fields from a Coverage resource (``status`` as given; the caller checks it)."""
    payer = None
    for payor in resource.get("payor") or ():
        if isinstance(payor, Mapping) and isinstance(payor.get("display"), str) and payor["display"].strip():
            payer = payor["display"].strip()
            break
    member = resource.get("subscriberId") if isinstance(resource.get("subscriberId"), str) else None
    if member is None:
        for identifier in resource.get("identifier") or ():
            if "MB" in codes(identifier.get("type"), IDENTIFIER_TYPE_SYSTEM) and isinstance(
                identifier.get("value"), str
            ):
                member = identifier["value"]
    classes: dict[str, Any] = {}
    for entry in resource.get("class") or ():
        for kind in codes(entry.get("type"), CLASS_SYSTEM):
            classes.setdefault(kind, entry.get("name") or entry.get("value"))
    kind_codes = codes(resource.get("type"), TYPE_SYSTEM) or [
        *(_FROM_SOPT[c[0]] for c in codes(resource.get("type"), SOPT) if c[:1] in _FROM_SOPT),
        *("self-pay" for c in codes(resource.get("type"), SELF_PAY) if c == "pay"),
    ]
    order = resource.get("order")
    period = resource.get("period") or {}
    return {
        "payer": payer or words(resource.get("type")),
        "plan": classes.get("plan"),
        "member_id": member,
        "group_number": classes.get("group"),
        "type": kind_codes[0] if kind_codes else None,
        "order": next((name for name, n in ORDERS.items() if n == order), "primary"),
        "status": resource.get("status") or "active",
        "start_on": read_date(period.get("start")),
        "end_on": read_date(period.get("end")),
        "phone": extension_value(resource, "payer-phone"),
        "notes": extension_value(resource, "notes"),
    }
