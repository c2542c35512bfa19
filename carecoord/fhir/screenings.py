"""Screenings <-> FHIR R4: a QuestionnaireResponse with the answers given, and Observations of what
they came to (the total with its band, one per positive social-need domain, the safety flag).

- QuestionnaireResponse (https://hl7.org/fhir/R4/questionnaireresponse.html): ``questionnaire`` is the
  instrument's canonical (``.../Questionnaire/phq9|1``), each item's answers are Codings with the
  instrument's LOINC answer code where it has one (LA6568-5...), else the instrument's own answer code;
  the answer's score rides on the Coding as the R4 ``ordinalValue`` extension; ``source`` is who
  answered (the Patient when they answered themselves).
- The total: an Observation coded with the instrument's total LOINC (PHQ-9 44261-6), valueInteger,
  ``interpretation`` the band and POS/NEG, category ``survey``, derivedFrom the QuestionnaireResponse.
- Social needs, in the style of the Gravity SDOH Clinical Care IG's Observation Screening Response
  (https://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition-SDOHCC-ObservationScreeningResponse.html):
  one Observation per positive domain, category ``survey`` + US Core ``sdoh`` + the Gravity category.
- The safety flag: an Observation (carecoord's code ``safety-flag``), interpretation POS.

Importing reads the QuestionnaireResponse; the Observations are derived from it and say nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecoord.fhir import Refs, code_system
from carecoord.fhir.nav_codes import (
    INTERPRETATION,
    LOINC,
    OBSERVATION_CATEGORY,
    ORDINAL_VALUE,
    SDOH_CATEGORY,
    US_CORE_CATEGORY,
    coding,
    compact,
    concept,
    day,
    derived_uid,
    ext_value,
    label,
    meta,
    optional_extension,
    own_url,
    read_day,
    record_identifier,
    ref_of,
)

if TYPE_CHECKING:
    from carecoord.models import Screening, ScreeningAnswer
    from carecoord.services.instruments import Instrument, Item

QUESTIONNAIRE_PREFIX = own_url("Questionnaire", "")
SURVEY = concept(OBSERVATION_CATEGORY, "survey", "Survey")
SDOH = concept(US_CORE_CATEGORY, "sdoh", "SDOH")
POSITIVE = concept(INTERPRETATION, "POS", "Positive")
NEGATIVE = concept(INTERPRETATION, "NEG", "Negative")
ANSWERED_BY = "screening-answered-by"  # carecoord's code system and extension: self, coordinator, proxy


def answer_system(instrument_key: str) -> str:
    """The code system of an instrument's own answer codes (``0``, ``1``...), one per instrument."""
    return code_system(f"screening-answer-{instrument_key}")


def questionnaire_url(key: str, version: str) -> str:
    return f"{QUESTIONNAIRE_PREFIX}{key}|{version}"


def observation_ids(uid: str, domains: Sequence[str]) -> dict[str, str]:
    """The ids of a screening's Observations: ``total``, ``safety``, and one per social-need domain."""
    ids = {"total": derived_uid(uid, "total"), "safety": derived_uid(uid, "safety")}
    ids.update({f"domain/{code}": derived_uid(uid, f"domain/{code}") for code in domains})
    return ids


@dataclass(frozen=True)
class Links:
    """The records a screening points at, by uid."""

    patient_uid: str
    patient_name: str
    plan_uid: str | None = None
    safety_task_uid: str | None = None


# --- export ----------------------------------------------------------------------------------------


def screening_to_fhir(
    screening: Screening,
    answers: Sequence[ScreeningAnswer],
    instrument: Instrument,
    links: Links,
    refs: Refs,
    social_domains: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The QuestionnaireResponse and its Observations. ``social_domains``: the positive domains that
    are social needs (Gravity codes), in the instrument's order."""
    response = _questionnaire_response(screening, answers, instrument, links, refs)
    observations = [_total(screening, instrument, links, refs)]
    observations += [_domain(screening, code, links, refs) for code in social_domains]
    if screening.safety_flag:
        observations.append(_safety(screening, instrument, links, refs))
    return [response, *(o for o in observations if o is not None)]


def _questionnaire_response(
    screening: Screening, answers: Sequence[ScreeningAnswer], instrument: Instrument, links: Links, refs: Refs
) -> dict[str, Any]:
    patient = refs.to("Patient", links.patient_uid, links.patient_name)
    source = patient if screening.answered_by == "self" else {"display": screening.answered_by}
    items = []
    for answer in answers:
        item = next((i for i in instrument.items if i.id == answer.item_id), None)
        entry: dict[str, Any] = {"linkId": answer.item_id}
        if item is not None:
            entry["text"] = item.text
        codes = [code for code in answer.answer.split("+") if code]
        if codes:
            entry["answer"] = [{"valueCoding": _answer_coding(instrument, item, code)} for code in codes]
        items.append(entry)
    return compact({
        "resourceType": "QuestionnaireResponse",
        "meta": meta(screening.updated_at),
        "id": screening.uid,
        "identifier": record_identifier(screening.uid),
        "extension": [e for e in (
            optional_extension(ANSWERED_BY, "Code", screening.answered_by),
            optional_extension("note", "String", screening.note),
            optional_extension("safety-task", "Reference",
                      refs.to("Task", links.safety_task_uid) if links.safety_task_uid else None),
        ) if e],
        "questionnaire": questionnaire_url(screening.instrument, screening.instrument_version),
        "basedOn": [refs.to("CarePlan", links.plan_uid)] if links.plan_uid else None,
        "status": "completed",
        "subject": patient,
        "authored": day(screening.taken_on),
        "source": source,
        "item": items,
    })  # fmt: skip


def _answer_coding(instrument: Instrument, item: Item | None, code: str) -> dict[str, Any]:
    option = item.option(code) if item is not None else None
    found: dict[str, Any]
    if option is not None and option.loinc:
        found = coding(LOINC, option.loinc, option.display)
    else:
        found = coding(answer_system(instrument.key), code, option.display if option else None)
    if option is not None and option.score is not None:
        found["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": option.score}]
    return found


def _base(screening: Screening, part: str, links: Links, refs: Refs) -> dict[str, Any]:
    uid = derived_uid(screening.uid, part)
    return {
        "resourceType": "Observation",
        "meta": meta(screening.updated_at),
        "id": uid,
        "identifier": [record_identifier(uid)],
        "status": "final",
        "subject": refs.to("Patient", links.patient_uid, links.patient_name),
        "effectiveDateTime": day(screening.taken_on),
        "derivedFrom": [refs.to("QuestionnaireResponse", screening.uid)],
    }


def _total(screening: Screening, instrument: Instrument, links: Links, refs: Refs) -> dict[str, Any] | None:
    """The score (or, for an instrument without one, the result word) with its band."""
    band = next((b for b in instrument.bands if b.code == screening.band), None)
    interpretation = [POSITIVE if screening.positive else NEGATIVE]
    if screening.band is not None:
        display = band.display if band else screening.band
        interpretation.insert(0, concept(code_system(f"screening-band-{instrument.key}"), screening.band, display))
    observation = _base(screening, "total", links, refs)
    observation["category"] = [SURVEY]
    observation["interpretation"] = interpretation
    if screening.score is not None:
        code = (
            concept(LOINC, instrument.total_loinc, f"{instrument.name} total score")
            if instrument.total_loinc
            else concept(code_system("screening-total"), instrument.key, f"{instrument.name} total score")
        )
        observation["code"], observation["valueInteger"] = code, screening.score
        return observation  # fmt: skip
    result = instrument.result or {}
    if not result.get("loinc"):
        return None
    outcome = result["positive" if screening.positive else "negative"]
    observation["code"] = concept(LOINC, str(result["loinc"]), f"{instrument.name} result")
    observation["valueCodeableConcept"] = concept(LOINC, str(outcome["code"]), str(outcome["display"]))
    return observation


def _domain(screening: Screening, code: str, links: Links, refs: Refs) -> dict[str, Any]:
    from carecoord.vocab import SDOH_DOMAIN_LABELS

    text = SDOH_DOMAIN_LABELS.get(code, code.replace("-", " ").capitalize())
    observation = _base(screening, f"domain/{code}", links, refs)
    observation["category"] = [SURVEY, SDOH, concept(SDOH_CATEGORY, code, text)]
    observation["code"] = concept(SDOH_CATEGORY, code, text, f"{text}: positive screen")
    observation["valueBoolean"] = True
    observation["interpretation"] = [POSITIVE]
    return observation


def _safety(screening: Screening, instrument: Instrument, links: Links, refs: Refs) -> dict[str, Any]:
    observation = _base(screening, "safety", links, refs)
    observation["category"] = [SURVEY]
    observation["code"] = concept(code_system("screening-flag"), "safety-flag", "Safety flag",
                                  f"Safety flag raised by the {instrument.name}")  # fmt: skip
    observation["valueBoolean"] = True
    observation["interpretation"] = [POSITIVE]
    return observation


# --- import ----------------------------------------------------------------------------------------


def is_carecoord_response(resource: Mapping[str, Any]) -> bool:
    """Whether a QuestionnaireResponse answers one of carecoord's instruments."""
    return str(resource.get("questionnaire") or "").startswith(QUESTIONNAIRE_PREFIX)


def screening_from_fhir(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What a QuestionnaireResponse says: the instrument, when, who answered, and each item's answer
    Codings (``answers``: linkId -> [(system, code)]); references as they are written. A ValueError
    names what is wrong."""
    where = label(resource)
    key, _, version = str(resource.get("questionnaire") or "")[len(QUESTIONNAIRE_PREFIX) :].partition("|")
    if not key:
        raise ValueError(f"{where}: no questionnaire")
    taken = read_day(resource.get("authored"), f"{where}: authored")
    if taken is None:
        raise ValueError(f"{where}: no authored date")
    answers: dict[str, list[tuple[str, str]]] = {}
    for item in resource.get("item") or ():
        codes = [(str(a["valueCoding"].get("system")), str(a["valueCoding"].get("code")))
                 for a in item.get("answer") or () if isinstance(a.get("valueCoding"), dict)]  # fmt: skip
        answers[str(item.get("linkId"))] = codes
    return {
        "instrument": key,
        "instrument_version": version or None,
        "taken_on": taken,
        "answered_by": _answered_by(resource),
        "note": ext_value(resource, "note", "String"),
        "answers": answers,
        "patient_ref": ref_of(resource.get("subject")),
        "plan_ref": next((ref_of(r) for r in resource.get("basedOn") or () if ref_of(r)), None),
        "safety_task_ref": ref_of(ext_value(resource, "safety-task", "Reference")),
    }


def _answered_by(resource: Mapping[str, Any]) -> str:
    """Who answered: carecoord's own word when it is one, else what ``source`` says (the patient
    themselves, a RelatedPerson, anyone else being the coordinator)."""
    said = ext_value(resource, ANSWERED_BY, "Code")
    if said in ("self", "coordinator", "proxy"):
        return str(said)
    source = ref_of(resource.get("source")) or ""
    if source and source == ref_of(resource.get("subject")):
        return "self"
    return "proxy" if "RelatedPerson" in source else "coordinator"


def answer_codes(item: Item, codings: Sequence[tuple[str, str]], instrument_key: str) -> list[str]:
    """The instrument's answer codes for an item's answer Codings (LOINC or the instrument's own)."""
    found = []
    for system, code in codings:
        option = None
        if system == LOINC:
            option = next((o for o in item.options if o.loinc == code), None)
        elif system == answer_system(instrument_key):
            option = item.option(code)
        if option is None:
            raise ValueError(f"item {item.id}: {system}|{code} is not one of its answers")
        found.append(option.code)
    return found


def derived_from(resource: Mapping[str, Any]) -> str | None:
    """The QuestionnaireResponse an Observation was derived from (its reference), if any."""
    for reference in resource.get("derivedFrom") or ():
        found = ref_of(reference)
        if found and ("QuestionnaireResponse/" in found or found.startswith("urn:uuid:")):
            return found
    return None
