"""Referrals and the team's directory <-> FHIR R4, as the Gravity SDOH Clinical Care IG models a
closed-loop referral (https://hl7.org/fhir/us/sdoh-clinicalcare/): a ServiceRequest (what is asked
for, of whom, why), the Task that follows it (where the loop stands, every move, what came of it) and
a Consent (the patient's consent to share with the recipient).

- ServiceRequest (https://hl7.org/fhir/R4/servicerequest.html): ``status`` from the referral's status
  (request-status: draft, active, on-hold, revoked, completed), ``category`` the need as a Gravity SDOH
  category, ``code`` the referral's kind, ``priority`` as stored (request-priority has the same four
  codes), ``performer`` the directory resource (a HealthcareService in the Bundle) or the recipient's
  name as a display, ``reasonReference`` the screening's Observation of that need, ``supportingInfo``
  the screening's QuestionnaireResponse and the Consent.
- Task (SDOHCC Task For Referral Management): ``focus`` the ServiceRequest, ``code`` fulfill,
  ``status`` from the referral's status (task-status), ``businessStatus`` the referral's own status,
  ``output`` the outcome, ``executionPeriod`` sent to closed, every move in the ``referral-event``
  extension.
- Consent (SDOHCC Consent): scope patient-privacy, category IDSCL (information disclosure) and LOINC
  64292-6 (Release of information consent), provision permitting the recipient (IRCP) for the
  ServiceRequest.
- HealthcareService (https://hl7.org/fhir/R4/healthcareservice.html): a directory entry, with its
  HSDS id as an identifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecoord.fhir import Refs, code_system, extension_url
from carecoord.fhir.nav_codes import (
    ACT_CODE,
    CONSENT_SCOPE,
    LOINC,
    PARTICIPATION_TYPE,
    SDOH_CATEGORY,
    TASK_CODE,
    code_in,
    compact,
    concept,
    day,
    derived_uid,
    ext_value,
    extensions_named,
    label,
    meta,
    moment,
    optional_extension,
    own_code,
    own_concept,
    own_url,
    read_day,
    read_moment,
    record_identifier,
    ref_of,
)

if TYPE_CHECKING:
    from carecoord.models import Referral, ReferralEvent, Resource

HSDS_ID_SYSTEM = own_url("NamingSystem", "hsds-service-id")  # the Open Referral (HSDS) service id

# The referral's status as a ServiceRequest status (request-status,
# https://hl7.org/fhir/R4/valueset-request-status.html): sent until closed the request stands (active);
# a rejection or a failure may be sent again, so it stays active too.
REQUEST_STATUS = {
    "draft": "draft", "sent": "active", "received": "active", "accepted": "active", "scheduled": "active",
    "rejected": "active", "failed": "active", "on-hold": "on-hold", "completed": "completed", "closed": "completed",
    "cancelled": "revoked",
}  # fmt: skip
# ... and as a Task status (https://hl7.org/fhir/R4/valueset-task-status.html; the SDOHCC referral Task's
# state machine): scheduled is in-progress (an appointment is booked), closed is completed (the loop is).
TASK_STATUS = {
    "draft": "draft", "sent": "requested", "received": "received", "accepted": "accepted",
    "scheduled": "in-progress", "completed": "completed", "closed": "completed", "rejected": "rejected",
    "failed": "failed", "on-hold": "on-hold", "cancelled": "cancelled",
}  # fmt: skip


# request-priority (https://hl7.org/fhir/R4/valueset-request-priority.html): the same four codes as a
# referral's priority (vocab.TaskPriority).
PRIORITIES = ("routine", "urgent", "asap", "stat")


def task_id(referral_uid: str) -> str:
    return derived_uid(referral_uid, "task")


def consent_id(referral_uid: str) -> str:
    return derived_uid(referral_uid, "consent")


def _need(code: str) -> dict[str, Any]:
    from carecoord.vocab import SDOH_DOMAIN_LABELS, SDOH_DOMAINS, category_label

    text = SDOH_DOMAIN_LABELS.get(code, category_label(code))
    if code in SDOH_DOMAINS:
        return concept(SDOH_CATEGORY, code, text)
    return own_concept("resource-category", code, text)


# --- the directory ---------------------------------------------------------------------------------


def resource_to_fhir(resource: Resource) -> dict[str, Any]:
    """A directory entry as a HealthcareService."""
    telecom = [{"system": system, "value": value, "use": "work"} if system == "phone" else
               {"system": system, "value": value}
               for system, value in (("phone", resource.phone), ("email", resource.email), ("url", resource.url))
               if value]  # fmt: skip
    identifiers = [record_identifier(resource.uid)]
    if resource.hsds_id:
        identifiers.append({"system": HSDS_ID_SYSTEM, "value": resource.hsds_id})
    return compact({
        "resourceType": "HealthcareService",
        "meta": meta(resource.updated_at),
        "id": resource.uid,
        "identifier": identifiers,
        "extension": [e for e in (
            optional_extension("address", "String", resource.address),
            optional_extension("fees", "String", resource.fees),
            optional_extension("retired-on", "Date", day(resource.retired_on)),
        ) if e],
        "active": resource.status == "active",
        "providedBy": {"display": resource.organization} if resource.organization else None,
        "category": [_need(resource.category)],
        "type": [own_concept("hsds-taxonomy", term.strip()) for term in (resource.taxonomy or "").split(",")
                 if term.strip()],
        "name": resource.name,
        "comment": resource.notes,
        "telecom": telecom,
        "eligibility": [{"code": {"text": "eligibility"}, "comment": resource.eligibility}]
        if resource.eligibility else None,
        "communication": [{"text": resource.languages}] if resource.languages else None,
        "availabilityExceptions": resource.hours,
    })  # fmt: skip


def resource_from_fhir(service: Mapping[str, Any]) -> dict[str, Any]:
    """A HealthcareService as the fields of a directory entry (``models.Resource``)."""
    where = label(service)
    if not service.get("name"):
        raise ValueError(f"{where}: no name")
    telecom = {t.get("system"): t.get("value") for t in reversed(service.get("telecom") or ()) if t.get("value")}
    category = code_in(service.get("category") or [], SDOH_CATEGORY) or own_code(
        service.get("category") or [], "resource-category"
    )
    hsds = next((i.get("value") for i in service.get("identifier") or () if i.get("system") == HSDS_ID_SYSTEM), None)
    taxonomy = [c.get("code") for t in service.get("type") or () for c in t.get("coding") or ()
                if c.get("system") == code_system("hsds-taxonomy") and c.get("code")]  # fmt: skip
    eligibility = next((e.get("comment") for e in service.get("eligibility") or () if e.get("comment")), None)
    languages = next((c.get("text") for c in service.get("communication") or () if c.get("text")), None)
    retired = read_day(ext_value(service, "retired-on", "Date"), f"{where}: retired-on")
    return {
        "name": str(service["name"]),
        "category": category or "other",
        "organization": (service.get("providedBy") or {}).get("display"),
        "phone": telecom.get("phone"),
        "email": telecom.get("email"),
        "url": telecom.get("url"),
        "address": ext_value(service, "address", "String"),
        "hours": service.get("availabilityExceptions"),
        "eligibility": eligibility,
        "languages": languages,
        "fees": ext_value(service, "fees", "String"),
        "notes": service.get("comment"),
        "status": "active" if service.get("active", True) else "retired",
        "retired_on": retired,
        "hsds_id": hsds,
        "taxonomy": ",".join(taxonomy) or None,
    }


# --- the referral ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """The records a referral points at, by uid."""

    patient_uid: str
    patient_name: str
    resource_uid: str | None = None
    screening_uid: str | None = None
    screening_found_need: bool = False  # the screening's Observation of this need exists
    followup_task_uid: str | None = None


def referral_to_fhir(
    referral: Referral, events: Sequence[ReferralEvent], links: Links, refs: Refs
) -> list[dict[str, Any]]:
    """The ServiceRequest, its Task and (when consent is on record) its Consent."""
    found = [_service_request(referral, links, refs), _task(referral, events, links, refs)]
    if referral.consent_method is not None:
        found.append(_consent(referral, links, refs))
    return found


def _performer(referral: Referral, links: Links, refs: Refs) -> dict[str, Any]:
    if links.resource_uid is not None:
        return refs.to("HealthcareService", links.resource_uid, referral.recipient)
    return {"display": referral.recipient}


def _service_request(referral: Referral, links: Links, refs: Refs) -> dict[str, Any]:
    from carecoord.vocab import category_label

    reasons = []
    if links.screening_uid and links.screening_found_need and referral.need:
        reasons.append(refs.to("Observation", derived_uid(links.screening_uid, f"domain/{referral.need}")))
    supporting = [refs.to("QuestionnaireResponse", links.screening_uid)] if links.screening_uid else []
    if referral.consent_method is not None:
        supporting.append(refs.to("Consent", consent_id(referral.uid)))
    return compact({
        "resourceType": "ServiceRequest",
        "meta": meta(referral.updated_at),
        "id": referral.uid,
        "identifier": [record_identifier(referral.uid)],
        "extension": [e for e in (
            optional_extension("follow-up-days", "Integer", referral.follow_up_days),
            optional_extension("follow-up-task", "Reference",
                      refs.to("Task", links.followup_task_uid) if links.followup_task_uid else None),
        ) if e],
        "status": REQUEST_STATUS.get(referral.status, "unknown"),
        "intent": "order",
        "category": [_need(referral.need)] if referral.need else None,
        "code": own_concept("referral-kind", referral.kind, f"{category_label(referral.kind)} referral"),
        "priority": referral.priority,
        "subject": refs.to("Patient", links.patient_uid, links.patient_name),
        "authoredOn": moment(referral.created_at),
        "performer": [_performer(referral, links, refs)],
        "reasonCode": [{"text": referral.reason}] if referral.reason else None,
        "reasonReference": reasons,
        "supportingInfo": supporting,
        "note": [{"text": referral.notes}] if referral.notes else None,
    })  # fmt: skip


def _task(referral: Referral, events: Sequence[ReferralEvent], links: Links, refs: Refs) -> dict[str, Any]:
    uid = task_id(referral.uid)
    history = [_event(event) for event in events]
    output = []
    if referral.outcome:
        output.append({"type": {"text": "outcome"}, "valueCodeableConcept": own_concept("referral-outcome",
                                                                                        referral.outcome)})  # fmt: skip
    period = {"start": day(referral.sent_on), "end": day(referral.closed_on)}
    return compact({
        "resourceType": "Task",
        "meta": meta(referral.updated_at),
        "id": uid,
        "identifier": [record_identifier(uid)],
        "extension": history,
        "basedOn": [refs.to("ServiceRequest", referral.uid)],
        "status": TASK_STATUS.get(referral.status, "requested"),
        "statusReason": {"text": referral.status_reason} if referral.status_reason else None,
        "businessStatus": own_concept("referral-status", referral.status),
        "intent": "order",
        "priority": referral.priority,
        "code": concept(TASK_CODE, "fulfill", "Fulfill the focal request"),
        "focus": refs.to("ServiceRequest", referral.uid),
        "for": refs.to("Patient", links.patient_uid, links.patient_name),
        "executionPeriod": compact(period) or None,
        "authoredOn": moment(referral.created_at),
        "lastModified": moment(referral.changed_at),
        "owner": _performer(referral, links, refs),
        "output": output,
    })  # fmt: skip


EVENT_URL = extension_url("referral-event")
_EVENT_CODES = (("from", "from_status"), ("to", "to_status"), ("outcome", "outcome"))


def _event(event: ReferralEvent) -> dict[str, Any]:
    """One move of the referral, as a ``referral-event`` extension (built directly: a referral has
    several, an agency's export some hundreds of thousands)."""
    parts: list[dict[str, Any]] = [
        {"url": "uid", "valueString": event.uid},
        {"url": "at", "valueDateTime": event.at.isoformat()},
        {"url": "happened-on", "valueDate": event.happened_on.isoformat()},
        {"url": "action", "valueCode": event.action},
    ]
    for name, key in _EVENT_CODES:
        value = getattr(event, key)
        if value:
            parts.append({"url": name, "valueCode": value})
    if event.note:
        parts.append({"url": "note", "valueString": event.note})
    parts.append({"url": "recorded-by", "valueString": event.recorded_by})
    return {"url": EVENT_URL, "extension": parts}


def _consent(referral: Referral, links: Links, refs: Refs) -> dict[str, Any]:
    uid = consent_id(referral.uid)
    return compact({
        "resourceType": "Consent",
        "meta": meta(referral.updated_at),
        "id": uid,
        "identifier": [record_identifier(uid)],
        "extension": [e for e in (
            optional_extension("consent-method", "Code", referral.consent_method),
            optional_extension("consent-recorded-by", "String", referral.consent_recorded_by),
        ) if e],
        "status": "active",
        "scope": concept(CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
        "category": [concept(ACT_CODE, "IDSCL", "information disclosure"),
                     concept(LOINC, "64292-6", "Release of information consent")],
        "patient": refs.to("Patient", links.patient_uid, links.patient_name),
        "dateTime": day(referral.consent_on),
        "performer": [{"display": referral.consent_by}] if referral.consent_by else None,
        "policyRule": {"text": f"{referral.consent_method} consent to share information with {referral.recipient}"},
        "provision": {
            "type": "permit",
            "actor": [{"role": concept(PARTICIPATION_TYPE, "IRCP", "information recipient"),
                       "reference": {"display": referral.recipient}}],
            "data": [{"meaning": "related", "reference": refs.to("ServiceRequest", referral.uid)}],
        },
    })  # fmt: skip


# --- import ----------------------------------------------------------------------------------------


def referral_from_fhir(request: Mapping[str, Any]) -> dict[str, Any]:
    """What a ServiceRequest says of a referral: its fields, and its references as written
    (``patient_ref``, ``resource_ref``, ``screening_ref``, ``followup_task_ref``)."""
    where = label(request)
    performer: dict[str, Any] = next(iter(request.get("performer") or ()), {}) or {}
    recipient = performer.get("display")
    if not recipient:
        raise ValueError(f"{where}: no performer (whom the referral goes to)")
    from carecoord.vocab import SDOH_DOMAINS

    need = code_in(request.get("category") or [], SDOH_CATEGORY)
    need = need if need in SDOH_DOMAINS else None  # a referral's need is a social-need domain
    screening = next((ref_of(r) for r in request.get("supportingInfo") or ()
                      if "Consent" not in (ref_of(r) or "") and ref_of(r) != _consent_ref(request)), None)  # fmt: skip
    follow_up = ext_value(request, "follow-up-days", "Integer")
    return {
        "recipient": str(recipient),
        "kind": own_code(request.get("code"), "referral-kind") or "other",
        "need": need,
        "reason": next((r.get("text") for r in request.get("reasonCode") or () if r.get("text")), None),
        "priority": request.get("priority") if request.get("priority") in PRIORITIES else "routine",
        "notes": next((n.get("text") for n in request.get("note") or () if n.get("text")), None),
        "follow_up_days": int(follow_up) if follow_up is not None else 3,
        "patient_ref": ref_of(request.get("subject")),
        "resource_ref": ref_of(performer),
        "screening_ref": screening,
        "followup_task_ref": ref_of(ext_value(request, "follow-up-task", "Reference")),
    }


def _consent_ref(request: Mapping[str, Any]) -> str:
    return f"urn:uuid:{consent_id(str(request.get('id')))}"


def is_referral_task(task: Mapping[str, Any]) -> bool:
    """A Task that follows a referral (its focus is a ServiceRequest, its code 'fulfill')."""
    return code_in(task.get("code"), TASK_CODE) == "fulfill" and bool(ref_of(task.get("focus")))


def referral_task_from_fhir(task: Mapping[str, Any]) -> dict[str, Any]:
    """Where the loop stands (status, outcome, dates) and its history, from the referral's Task."""
    where = label(task)
    status = own_code(task.get("businessStatus"), "referral-status")
    if status is None:
        raise ValueError(f"{where}: no businessStatus from {code_system('referral-status')}")
    outcome = next((own_code(o.get("valueCodeableConcept"), "referral-outcome") for o in task.get("output") or ()),
                   None)  # fmt: skip
    period = task.get("executionPeriod") or {}
    events = []
    for found in extensions_named(task, "referral-event"):
        at = read_moment(ext_value(found, "at", "DateTime"), f"{where}: referral-event at")
        happened = read_day(ext_value(found, "happened-on", "Date"), f"{where}: referral-event happened-on")
        if at is None or happened is None or not ext_value(found, "action", "Code"):
            raise ValueError(f"{where}: a referral-event needs at, happened-on and action")
        events.append({
            "uid": ext_value(found, "uid", "String"), "at": at, "happened_on": happened,
            "action": ext_value(found, "action", "Code"), "from_status": ext_value(found, "from", "Code"),
            "to_status": ext_value(found, "to", "Code"), "outcome": ext_value(found, "outcome", "Code"),
            "note": ext_value(found, "note", "String"),
            "recorded_by": ext_value(found, "recorded-by", "String") or "unknown",
        })  # fmt: skip
    return {
        "referral_ref": ref_of(task.get("focus")),
        "status": status,
        "outcome": outcome,
        "status_reason": (task.get("statusReason") or {}).get("text"),
        "sent_on": read_day(period.get("start"), f"{where}: executionPeriod.start"),
        "closed_on": read_day(period.get("end"), f"{where}: executionPeriod.end"),
        "changed_at": read_moment(task.get("lastModified"), f"{where}: lastModified"),
        "events": events,
    }


def consent_subject(consent: Mapping[str, Any]) -> str | None:
    """The reference of the record a Consent is about (a ServiceRequest or an EpisodeOfCare)."""
    for data in (consent.get("provision") or {}).get("data") or ():
        found = ref_of(data.get("reference"))
        if found:
            return found
    return None


def referral_consent_from_fhir(consent: Mapping[str, Any]) -> dict[str, Any]:
    """The consent-to-share fields of a referral, from its Consent."""
    where = label(consent)
    method = ext_value(consent, "consent-method", "Code")
    if method not in ("verbal", "written"):
        raise ValueError(f"{where}: consent-method must be verbal or written")
    return {
        "consent_method": method,
        "consent_by": next((p.get("display") for p in consent.get("performer") or () if p.get("display")), None),
        "consent_on": read_day(consent.get("dateTime"), f"{where}: dateTime"),
        "consent_recorded_by": ext_value(consent, "consent-recorded-by", "String"),
    }
