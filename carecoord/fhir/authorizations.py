"""Prior authorizations <-> FHIR R4 ClaimResponse.

FHIR R4 has no Authorization resource. A payer's answer to a prior-authorization request is a
ClaimResponse with ``use`` = preauthorization, its number in ``preAuthRef`` and its dates in
``preAuthPeriod`` (https://hl7.org/fhir/R4/claimresponse.html), which is how the Da Vinci Prior
Authorization Support IG carries it (PAS Claim Response:
https://hl7.org/fhir/us/davinci-pas/StructureDefinition-profile-claimresponse.html; ``type``
professional as in its examples). A ClaimResponse was chosen over an extension on Coverage because an
authorization has its own status, dates and units, several per coverage, and is referred to by
appointments. carecoord sends no Claim, so ``request`` is absent and the request date, the service,
the units approved and used, and the referral it authorizes are carecoord extensions; ``insurer`` is the
coverage's payer by name, ``insurance`` the Coverage. Each use of units is a ``authorization-use``
extension (date, units, the appointment whose sitting used it).

ClaimResponse.status (financial resource status) is active except for a cancelled authorization;
``outcome`` is queued while requested, complete once decided; carecoord's own status (requested,
approved, denied, expired, cancelled) is the ``authorization-status`` extension.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carecoord.fhir import Refs
from carecoord.fhir.nav_codes import (
    CLAIM_TYPE,
    compact,
    concept,
    day,
    ext_value,
    extensions_named,
    label,
    meta,
    moment,
    nested_extension,
    optional_extension,
    part,
    read_day,
    read_moment,
    record_identifier,
    ref_of,
)

if TYPE_CHECKING:
    from carecoord.models import Authorization, AuthorizationUse

STATUSES = ("requested", "approved", "denied", "expired", "cancelled")


@dataclass(frozen=True)
class Links:
    patient_uid: str
    patient_name: str
    coverage_uid: str | None = None
    payer: str | None = None
    referral_uid: str | None = None
    # The Appointment resources: of each use made by a sitting (by the use's uid), and of the
    # appointments booked under the authorization (a series by its first occurrence).
    use_appointments: Mapping[str, str] = field(default_factory=dict)
    booked: Sequence[str] = ()


def authorization_to_fhir(
    authorization: Authorization, uses: Sequence[AuthorizationUse], links: Links, refs: Refs
) -> dict[str, Any]:
    """The ClaimResponse of one authorization, with its uses."""
    used = sum(u.units for u in uses)
    unit = authorization.unit or "units"
    booked = [
        optional_extension("booked-appointment", "Reference", refs.to("Appointment", uid)) for uid in links.booked
    ]
    use_extensions = [nested_extension("authorization-use", (
        part("uid", "String", use.uid), part("used-on", "Date", day(use.used_on)),
        part("units", "Integer", use.units),
        part("appointment", "Reference", refs.to("Appointment", links.use_appointments[use.uid])
             if use.uid in links.use_appointments else None),
        part("occurrence", "DateTime", moment(use.occurrence)), part("note", "String", use.note),
    )) for use in uses]  # fmt: skip
    approved = ({"value": authorization.units_approved, "unit": unit}
                if authorization.units_approved is not None else None)  # fmt: skip
    return compact({
        "resourceType": "ClaimResponse",
        "meta": meta(authorization.updated_at),
        "id": authorization.uid,
        "identifier": [record_identifier(authorization.uid)],
        "extension": [e for e in (
            optional_extension("authorization-status", "Code", authorization.status),
            optional_extension("service", "String", authorization.service),
            optional_extension("requested-on", "Date", day(authorization.requested_on)),
            optional_extension("decided-on", "Date", day(authorization.decided_on)),
            optional_extension("units-approved", "Quantity", approved),
            optional_extension("units-used", "Quantity", {"value": used, "unit": unit}),
            optional_extension("unit", "Code", authorization.unit),
            optional_extension("referral", "Reference",
                      refs.to("ServiceRequest", links.referral_uid) if links.referral_uid else None),
        ) if e] + use_extensions + [e for e in booked if e],
        "status": "cancelled" if authorization.status == "cancelled" else "active",
        "type": concept(CLAIM_TYPE, "professional", "Professional"),
        "use": "preauthorization",
        "patient": refs.to("Patient", links.patient_uid, links.patient_name),
        "created": day(authorization.requested_on) or moment(authorization.created_at),
        "insurer": {"display": links.payer or "payer not recorded"},
        "outcome": "queued" if authorization.status == "requested" else "complete",
        "disposition": f"{authorization.service}: {authorization.status}",
        "preAuthRef": authorization.number,
        "preAuthPeriod": compact({"start": day(authorization.start_on), "end": day(authorization.end_on)}) or None,
        "insurance": [{"sequence": 1, "focal": True, "coverage": refs.to("Coverage", links.coverage_uid)}]
        if links.coverage_uid else None,
        "processNote": [{"text": authorization.notes}] if authorization.notes else None,
    })  # fmt: skip


def is_prior_authorization(resource: Mapping[str, Any]) -> bool:
    return resource.get("use") == "preauthorization"


def authorization_from_fhir(response: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an authorization, its uses, and its references as written."""
    where = label(response)
    status = ext_value(response, "authorization-status", "Code")
    if status is None:  # a payer's own ClaimResponse: what its status and outcome say
        outcome = response.get("outcome")
        status = (
            "cancelled"
            if response.get("status") == "cancelled"
            else ("requested" if outcome in ("queued", None) else "approved" if outcome == "complete" else "denied")
        )
    if status not in STATUSES:
        raise ValueError(f"{where}: authorization-status '{status}' is not one of {', '.join(STATUSES)}")
    service = ext_value(response, "service", "String") or response.get("disposition")
    if not service:
        raise ValueError(f"{where}: no service")
    period = response.get("preAuthPeriod") or {}
    approved = ext_value(response, "units-approved", "Quantity") or {}
    uses = []
    for found in extensions_named(response, "authorization-use"):
        used_on = read_day(ext_value(found, "used-on", "Date"), f"{where}: authorization-use used-on")
        if used_on is None:
            raise ValueError(f"{where}: an authorization-use needs used-on")
        uses.append({
            "uid": ext_value(found, "uid", "String"), "used_on": used_on,
            "units": int(ext_value(found, "units", "Integer") or 1),
            "appointment_ref": ref_of(ext_value(found, "appointment", "Reference")),
            "occurrence": read_moment(ext_value(found, "occurrence", "DateTime"), f"{where}: occurrence"),
            "note": ext_value(found, "note", "String"),
        })  # fmt: skip
    coverage = next((ref_of(i.get("coverage")) for i in response.get("insurance") or ()), None)
    return {
        "service": str(service),
        "number": response.get("preAuthRef"),
        "status": status,
        "requested_on": read_day(ext_value(response, "requested-on", "Date"), f"{where}: requested-on"),
        "decided_on": read_day(ext_value(response, "decided-on", "Date"), f"{where}: decided-on"),
        "start_on": read_day(period.get("start"), f"{where}: preAuthPeriod.start"),
        "end_on": read_day(period.get("end"), f"{where}: preAuthPeriod.end"),
        "units_approved": int(approved["value"]) if approved.get("value") is not None else None,
        "unit": ext_value(response, "unit", "Code"),
        "notes": next((n.get("text") for n in response.get("processNote") or () if n.get("text")), None),
        "patient_ref": ref_of(response.get("patient")),
        "coverage_ref": coverage,
        "referral_ref": ref_of(ext_value(response, "referral", "Reference")),
        "booked_refs": [ref_of(e.get("valueReference")) for e in extensions_named(response, "booked-appointment")],
        "uses": uses,
    }
