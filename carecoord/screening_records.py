"""Screenings as plain records: the stable keys of their JSON and CSV output (README, Screening).

Kept beside ``records.py`` (same conventions: dates as ``date``, moments in the user's zone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from carecoord.dates import local_zone

if TYPE_CHECKING:
    from carecoord.models import Patient, Screening, ScreeningAnswer
    from carecoord.services.instruments import Instrument
    from carecoord.services.screenings import Cadence, Due, HistoryPoint, ScreeningReport

SCREENING_KEYS = tuple(
    "id uid patient_id patient_name instrument instrument_version title loinc score_loinc taken_on answered_by "
    "score band band_display positive positive_domains social_needs safety_flag safety_open safety_task_id "
    "plan_id note created_at updated_at".split()
)
ITEM_KEYS = tuple("id loinc question answer answer_loinc answer_text score".split())
INSTRUMENT_KEYS = tuple("key version title loinc items total_loinc bands domains rescreen_days shipped".split())
HISTORY_KEYS = tuple(
    "id taken_on score band band_display positive_domains change response remission safety_flag".split()
)
DUE_KEYS = tuple("patient_id patient_name phone instrument last_on last_instrument due_on overdue_days why".split())
CADENCE_KEYS = tuple("instrument every_days sooner_days changed".split())
REPORT_KEYS = tuple("kind name screenings positive positive_rate".split())


def screening_record(
    screening: Screening, patient: Patient | None, instrument: Instrument | None, safety_open: bool
) -> dict[str, Any]:
    """One screening: the instrument and its codes, the score and band, the positive domains (codes),
    those that are social needs (Gravity SDOH codes), and whether its safety flag is still open."""
    from carecoord.services.screenings import split_domains
    from carecoord.vocab import SDOH_DOMAINS

    domains = split_domains(screening.positive_domains)
    band_display = None
    if instrument is not None and screening.band is not None:
        band = next((b for b in instrument.bands if b.code == screening.band), None)
        band_display = band.display if band else screening.band.replace("-", " ").capitalize()
    zone = local_zone()
    return {
        "id": screening.id,
        "uid": screening.uid,
        "patient_id": screening.patient_id,
        "patient_name": patient.name if patient else None,
        "instrument": screening.instrument,
        "instrument_version": screening.instrument_version,
        "title": instrument.title if instrument else screening.instrument,
        "loinc": screening.loinc,
        "score_loinc": instrument.total_loinc if instrument else None,
        "taken_on": screening.taken_on,
        "answered_by": screening.answered_by,
        "score": screening.score,
        "band": screening.band,
        "band_display": band_display,
        "positive": screening.positive,
        "positive_domains": domains,
        "social_needs": [code for code in domains if code in SDOH_DOMAINS],
        "safety_flag": screening.safety_flag,
        "safety_open": safety_open,
        "safety_task_id": screening.safety_task_id,
        "plan_id": screening.plan_id,
        "note": screening.note,
        "created_at": screening.created_at.astimezone(zone),
        "updated_at": screening.updated_at.astimezone(zone),
    }


def item_records(answers: Sequence[ScreeningAnswer], instrument: Instrument | None) -> list[dict[str, Any]]:
    """Each question with the answer given: its code(s), LOINC answer code(s), text and score."""
    rows = []
    for answer in answers:
        item = next((i for i in instrument.items if i.id == answer.item_id), None) if instrument else None
        chosen = [item.option(code) for code in answer.answer.split("+") if code] if item else []
        rows.append({
            "id": answer.item_id,
            "loinc": answer.loinc,
            "question": item.text if item else None,
            "answer": answer.answer or None,
            "answer_loinc": answer.answer_loinc,
            "answer_text": "; ".join(o.display for o in chosen if o) if answer.answer else "(skipped)",
            "score": answer.score,
        })  # fmt: skip
    return rows


def instrument_record(instrument: Instrument, rescreen_days: int | None) -> dict[str, Any]:
    return {
        "key": instrument.key,
        "version": instrument.version,
        "title": instrument.title,
        "loinc": instrument.loinc,
        "items": len(instrument.items),
        "total_loinc": instrument.total_loinc,
        "bands": [f"{b.low}-{b.high} {b.display}" for b in instrument.bands],
        "domains": [d.code for d in instrument.domains],
        "rescreen_days": rescreen_days,
        "shipped": instrument.builtin,
    }


def question_records(instrument: Instrument) -> list[dict[str, Any]]:
    """An instrument's questions with their answer codes, for ``screen instruments --show``."""
    return [
        {
            "id": item.id,
            "loinc": item.loinc,
            "question": item.text,
            "required": item.required,
            "choose_all": item.repeats,
            "answers": [
                {"code": o.code, "display": o.display, "loinc": o.loinc, "score": o.score} for o in item.options
            ],
        }
        for item in instrument.items
    ]


def history_record(point: HistoryPoint, instrument: Instrument) -> dict[str, Any]:
    from carecoord.services.screenings import split_domains

    s = point.screening
    band = next((b.display for b in instrument.bands if b.code == s.band), s.band)
    return {
        "id": s.id,
        "taken_on": s.taken_on,
        "score": s.score,
        "band": s.band,
        "band_display": band,
        "positive_domains": split_domains(s.positive_domains),
        "change": point.change,
        "response": point.response,
        "remission": point.remission,
        "safety_flag": s.safety_flag,
    }


def due_record(item: Due, as_of: Any) -> dict[str, Any]:
    return {
        "patient_id": item.patient_id,
        "patient_name": item.patient_name,
        "phone": item.phone,
        "instrument": item.instrument,
        "last_on": item.last_on,
        "last_instrument": item.last_instrument,
        "due_on": item.due_on,
        "overdue_days": (as_of - item.due_on).days if item.due_on is not None else None,
        "why": item.why,
    }


def cadence_record(cadence: Cadence) -> dict[str, Any]:
    return {
        "instrument": cadence.instrument,
        "every_days": cadence.every_days,
        "sooner_days": cadence.sooner_days,
        "changed": cadence.changed,
    }


def report_record(result: ScreeningReport, instruments: Mapping[str, Instrument]) -> dict[str, Any]:
    """The screening report as one record: per instrument and per social-need domain, and the open
    safety flags."""
    return {
        "from": result.start,
        "to": result.end,
        "instruments": [
            {"instrument": r.name, "screenings": r.screenings, "positive": r.positive, "positive_rate": r.rate}
            for r in result.instruments
        ],
        "domains": [
            {"domain": r.name, "screenings": r.screenings, "positive": r.positive, "positive_rate": r.rate}
            for r in result.domains
        ],
        "open_safety_flags": [
            {**screening_record(s, p, instruments.get(s.instrument), True), "phone": p.phone}
            for s, p in result.open_flags
        ],
    }
