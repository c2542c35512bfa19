"""Program enrolments <-> FHIR R4: an EpisodeOfCare for the enrolment and a Consent for the consent on
file that Medicare requires before care management.

- EpisodeOfCare (https://hl7.org/fhir/R4/episodeofcare.html): ``status`` active, or finished once the
  enrolment ended; ``type`` the program in carecoord's ``program`` code system and, where one code
  names the program, its CPT or HCPCS code (``clinical.py`` holds them with their CMS sources): CCM
  99490, complex CCM 99487, PCM 99426, CHI G0019, PIN G0023, APCM G0556/G0557/G0558 by the level the
  enrolment records. TCM has two codes (99495, 99496) chosen per discharge, so none names the program;
  ``period`` the enrolment's dates.
- Consent (https://hl7.org/fhir/R4/consent.html): scope treatment, category LOINC 59284-0 (Patient
  Consent; R4 consent-category value set), ``dateTime`` the day consent was given, the patient as
  performer, ``provision`` permitting the program for the enrolment's period, data the EpisodeOfCare;
  how it was given (verbal, written) and who obtained it are carecoord extensions, and sit on the
  EpisodeOfCare too (the enrolment is not stored without them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecoord.fhir import Refs
from carecoord.fhir.nav_codes import (
    CONSENT_SCOPE,
    CPT,
    HCPCS,
    LOINC,
    coding,
    compact,
    concept,
    day,
    derived_uid,
    ext_value,
    label,
    meta,
    optional_extension,
    own_code,
    own_concept,
    read_day,
    record_identifier,
    ref_of,
)

if TYPE_CHECKING:
    from carecoord.models import ProgramEnrolment


def consent_id(enrolment_uid: str) -> str:
    return derived_uid(enrolment_uid, "consent")


def billing_code(enrolment: ProgramEnrolment) -> dict[str, str] | None:
    """The CPT or HCPCS code that names the program (None for TCM, or APCM at an unknown level)."""
    from carecoord import clinical

    cpt = {"ccm": clinical.CCM, "complex-ccm": clinical.COMPLEX_CCM, "pcm": clinical.PCM}
    hcpcs = {"chi": clinical.CHI, "pin": clinical.PIN}
    if enrolment.program in cpt:
        program = cpt[enrolment.program]
        return coding(CPT, program.base_code, program.name)
    if enrolment.program in hcpcs:
        program = hcpcs[enrolment.program]
        return coding(HCPCS, program.base_code, program.name)
    if enrolment.program == "apcm":
        code, _why = clinical.apcm_level(enrolment.chronic_conditions, enrolment.qmb)
        return coding(HCPCS, code, "Advanced primary care management") if code else None
    return None


@dataclass(frozen=True)
class Links:
    patient_uid: str
    patient_name: str


def enrolment_to_fhir(enrolment: ProgramEnrolment, links: Links, refs: Refs) -> list[dict[str, Any]]:
    """The EpisodeOfCare and the Consent of one enrolment."""
    from carecoord.vocab import PROGRAM_NAMES

    name = PROGRAM_NAMES.get(enrolment.program, enrolment.program)
    types = [own_concept("program", enrolment.program, name)]
    billed = billing_code(enrolment)
    if billed is not None:
        types.append({"coding": [billed]})
    patient = refs.to("Patient", links.patient_uid, links.patient_name)
    period = compact({"start": day(enrolment.enrolled_on), "end": day(enrolment.ended_on)})
    consent_extensions = [e for e in (
        optional_extension("consent-method", "Code", enrolment.consent),
        optional_extension("consent-obtained-by", "String", enrolment.consent_by),
    ) if e]  # fmt: skip
    episode = compact({
        "resourceType": "EpisodeOfCare",
        "meta": meta(enrolment.updated_at),
        "id": enrolment.uid,
        "identifier": [record_identifier(enrolment.uid)],
        "extension": consent_extensions + [e for e in (
            optional_extension("note", "String", enrolment.note),
            optional_extension("end-reason", "String", enrolment.end_reason),
            optional_extension("chronic-conditions", "Integer", enrolment.chronic_conditions),
            optional_extension("qmb", "Boolean", enrolment.qmb),
        ) if e],
        "status": "finished" if enrolment.ended_on else "active",
        "type": types,
        "patient": patient,
        "period": period,
    })  # fmt: skip
    uid = consent_id(enrolment.uid)
    consent = compact({
        "resourceType": "Consent",
        "meta": meta(enrolment.updated_at),
        "id": uid,
        "identifier": [record_identifier(uid)],
        "extension": consent_extensions,
        "status": "inactive" if enrolment.ended_on else "active",
        "scope": concept(CONSENT_SCOPE, "treatment", "Treatment"),
        "category": [concept(LOINC, "59284-0", "Patient Consent")],
        "patient": patient,
        "dateTime": day(enrolment.enrolled_on),
        "performer": [patient],
        "policyRule": {"text": f"Medicare requires the patient's consent before {name.lower()} services"},
        "provision": {
            "type": "permit",
            "period": period,
            "code": [own_concept("program", enrolment.program, name)],
            "data": [{"meaning": "related", "reference": refs.to("EpisodeOfCare", enrolment.uid)}],
        },
    })  # fmt: skip
    return [episode, consent]


def enrolment_from_fhir(episode: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a program enrolment from its EpisodeOfCare; a ValueError names what is wrong."""
    from carecoord.vocab import PROGRAM_NAMES

    where = label(episode)
    program = own_code(episode.get("type") or [], "program")
    if program not in PROGRAM_NAMES:
        raise ValueError(f"{where}: no carecoord program in type")
    period = episode.get("period") or {}
    enrolled = read_day(period.get("start"), f"{where}: period.start")
    if enrolled is None:
        raise ValueError(f"{where}: no period.start (the day consent was given)")
    consent = ext_value(episode, "consent-method", "Code")
    if consent not in ("verbal", "written"):
        raise ValueError(f"{where}: consent-method must be verbal or written")
    conditions = ext_value(episode, "chronic-conditions", "Integer")
    return {
        "program": program,
        "consent": consent,
        "enrolled_on": enrolled,
        "consent_by": ext_value(episode, "consent-obtained-by", "String"),
        "note": ext_value(episode, "note", "String"),
        "chronic_conditions": int(conditions) if conditions is not None else None,
        "qmb": ext_value(episode, "qmb", "Boolean"),
        "ended_on": read_day(period.get("end"), f"{where}: period.end"),
        "end_reason": ext_value(episode, "end-reason", "String"),
        "patient_ref": ref_of(episode.get("patient")),
    }


def program_consent_from_fhir(consent: Mapping[str, Any]) -> dict[str, Any]:
    """How the patient consented and who obtained it, from a program's Consent."""
    method = ext_value(consent, "consent-method", "Code")
    if method not in ("verbal", "written"):
        raise ValueError(f"{label(consent)}: consent-method must be verbal or written")
    return {"consent": method, "consent_by": ext_value(consent, "consent-obtained-by", "String")}
