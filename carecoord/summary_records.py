"""A patient summary as the plain record its template reads (issue 16).

Each audience gets its own record, built from :class:`carecoord.services.summaries.SummaryData`,
and the patient's copy is built from a short list of fields: it carries no internal id, uid, MRN,
date of birth, risk level, payer, member id or billing code, so no template can print one by
mistake. Dates stay ``date``; moments are aware datetimes in the user's zone (``CARECOORD_TZ``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from carecoord.dates import local_zone
from carecoord.vocab import (
    APPOINTMENT_TYPE_LABELS,
    PROGRAM_NAMES,
    SDOH_DOMAIN_LABELS,
    TASK_STATUS_WORDS,
    SummaryAudience,
    category_label,
)

if TYPE_CHECKING:
    from carecoord.models import Communication, Contact, Coverage, Patient, Referral, Task
    from carecoord.services.appointments import Occurrence
    from carecoord.services.authorizations import AuthorizationRow
    from carecoord.services.summaries import SummaryData

# What an appointment is, in the words a family uses.
PLAIN_APPOINTMENT_LABELS = {
    "home-visit": "Home visit",
    "office": "Office visit",
    "phone": "Phone call",
    "telehealth": "Video visit",
    "pcp": "Visit with your primary care provider",
    "specialist": "Visit with a specialist",
    "other": "Appointment",
}
# How each contact likes to be reached (vocab.ContactMethod), as a sentence ends.
CONTACT_METHOD_WORDS = {
    "phone": "a phone call",
    "text": "a text message",
    "email": "email",
    "mail": "a letter",
    "in-person": "meeting in person",
    "portal": "the patient portal",
    "fax": "fax",
}


def summary_record(data: SummaryData, coordinator: Mapping[str, str | None]) -> dict[str, Any]:
    """The record of the summary for its audience; ``coordinator`` is who prepared it (carecoord.config)."""
    if data.audience == SummaryAudience.patient.value:
        return patient_copy(data, coordinator)
    return provider_copy(data, coordinator)


def _coordinator(values: Mapping[str, str | None]) -> dict[str, str | None]:
    return {key: values.get(key) for key in ("name", "phone", "organization", "email")}


WEEKDAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
                 "SA": "Saturday", "SU": "Sunday"}  # fmt: skip
_DAY_CODES = re.compile(r"\bon ((?:MO|TU|WE|TH|FR|SA|SU)(?:,(?:MO|TU|WE|TH|FR|SA|SU))*)\b")
_UNTIL = re.compile(r"\buntil (\d{4})(\d{2})(\d{2})\b")


def _repeat(rule: str | None, *, plain: bool = False) -> str | None:
    """How a task repeats (recurrence.describe); ``plain`` spells out weekdays and dates for a family
    ("every week on Monday and Thursday, until 31 December 2026" for "every week on MO,TH, until 20261231")."""
    if not rule:
        return None
    from carecoord.recurrence import describe

    text = describe(rule)
    if not plain:
        return text

    def days(found: re.Match[str]) -> str:
        names = [WEEKDAY_NAMES[code] for code in found.group(1).split(",")]
        return "on " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])

    def until(found: re.Match[str]) -> str:
        last = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
        return f"until {last.day} {last:%B %Y}"

    return _UNTIL.sub(until, _DAY_CODES.sub(days, text))


def _task(task: Task, as_of: date, *, plain: bool = False) -> dict[str, Any]:
    return {
        "title": task.title,
        "due_on": task.due_on,
        "due_time": task.due_time,
        "overdue": task.due_on is not None and task.due_on < as_of,
        "repeat": _repeat(task.rrule, plain=plain),
    }


def _sitting(sitting: Occurrence, labels: Mapping[str, str]) -> dict[str, Any]:
    zone = local_zone()
    appointment = sitting.appointment
    return {
        "start": sitting.start.astimezone(zone),
        "end": sitting.end.astimezone(zone),
        "what": labels.get(appointment.kind, labels["other"]),
        "where": appointment.location,
        "with": appointment.with_whom,
        "status": sitting.status,
        "cancelled": sitting.status == "cancelled",
        "moved": sitting.moved,
    }


def _contact(contact: Contact) -> dict[str, Any]:
    return {
        "name": contact.name,
        "role": contact.role,
        "organization": contact.organization,
        "phone": contact.phone,
        "email": contact.email,
        "preferred_method": contact.preferred_method,
        "prefers": CONTACT_METHOD_WORDS.get(contact.preferred_method or "", contact.preferred_method),
        "consent_to_share": contact.consent_to_share,
    }


def patient_copy(data: SummaryData, coordinator: Mapping[str, str | None]) -> dict[str, Any]:
    """The plain-language care plan for the patient and family."""
    as_of = data.prepared_at.date()
    patient = data.patient
    return {
        "audience": data.audience,
        "title": f"Care plan for {patient.name}",
        "prepared_at": data.prepared_at,
        "patient": {"name": patient.name, "pcp": patient.pcp},
        "goals": [{"text": goal.description, "target_on": goal.target_on} for goal in data.goals],
        "tasks": [_task(task, as_of, plain=True) for task in data.tasks],
        "appointments": [_sitting(sitting, PLAIN_APPOINTMENT_LABELS) for sitting in data.appointments],
        "coordinator": _coordinator(coordinator),
        "contacts": [
            {key: value for key, value in _contact(c).items() if key != "consent_to_share"} for c in data.contacts
        ],
    }


def provider_copy(data: SummaryData, coordinator: Mapping[str, str | None]) -> dict[str, Any]:
    """The handoff summary for a provider taking the patient over."""
    as_of = data.prepared_at.date()
    patient = data.patient
    return {
        "audience": data.audience,
        "title": f"Handoff summary: {patient.name}",
        "prepared_at": data.prepared_at,
        "patient": _identity(patient, as_of),
        "plans": _plans(data),
        "tasks": [
            {**_task(task, as_of), "priority": task.priority, "status": TASK_STATUS_WORDS.get(task.status, task.status)}
            for task in data.tasks
        ],
        "appointments": [_sitting(sitting, APPOINTMENT_TYPE_LABELS) for sitting in data.appointments],
        "communications": [_communication(entry) for entry in data.communications],
        "month": data.month,
        "minutes_total": sum(data.minutes.values()),
        "minutes": [
            {"program": PROGRAM_NAMES.get(program, program) if program else "no program", "minutes": total}
            for program, total in sorted(data.minutes.items(), key=lambda item: (item[0] is None, item[0] or ""))
            if total
        ],
        "screenings": _screenings(data),
        "referrals": [_referral(referral) for referral in data.referrals],
        "coverage": [_coverage(c) for c in data.coverage],
        "authorizations": [_authorization(row) for row in data.authorizations],
        "programs": [
            {
                "program": PROGRAM_NAMES.get(e.program, e.program),
                "consent": e.consent,
                "enrolled_on": e.enrolled_on,
                "consent_by": e.consent_by,
            }
            for e in data.programs
        ],
        "contacts": [_contact(c) for c in data.contacts],
        "coordinator": _coordinator(coordinator),
    }


def _identity(patient: Patient, as_of: date) -> dict[str, Any]:
    fields = "name birth_date mrn phone email address language pcp risk status enrolled_on coordinator".split()
    return {**{key: getattr(patient, key) for key in fields}, "age": _age(patient.birth_date, as_of)}


def _plans(data: SummaryData) -> list[dict[str, Any]]:
    """Each open plan with its needs and goals."""
    from carecoord.services.plans import split_needs

    goal_fields = ("description", "lifecycle_status", "achievement_status", "target_on", "measure")
    goals_of: dict[int, list[dict[str, Any]]] = {}
    for goal in data.goals:
        goals_of.setdefault(goal.plan_id, []).append({key: getattr(goal, key) for key in goal_fields})
    plan_fields = ("title", "status", "start_on", "end_on", "next_review")
    return [
        {
            **{key: getattr(plan, key) for key in plan_fields},
            "needs": split_needs(plan.needs),
            "goals": goals_of.get(plan.id or 0, []),
        }
        for plan in data.plans
    ]


def _communication(entry: Communication) -> dict[str, Any]:
    return {
        "at": entry.at.astimezone(local_zone()),
        "channel": entry.channel,
        "direction": entry.direction,
        "with": entry.with_whom,
        "outcome": entry.outcome.replace("-", " "),
        "minutes": entry.minutes,
        "note": entry.note,
    }


def _screenings(data: SummaryData) -> list[dict[str, Any]]:
    """The latest score of each instrument, its band as the instrument names it, and any safety flag."""
    from carecoord.screening_records import screening_record
    from carecoord.services.screenings import labels

    found = []
    for screening, flag_open in data.screenings:
        instrument = data.instruments.get(screening.instrument)
        record = screening_record(screening, data.patient, instrument, flag_open)
        found.append(
            {
                "name": instrument.name if instrument else screening.instrument,
                "title": record["title"],
                "taken_on": screening.taken_on,
                "score": screening.score,
                "band": record["band_display"],
                "positive_domains": labels(record["positive_domains"]),
                "safety_flag": screening.safety_flag,
                "safety_open": flag_open,
            }
        )
    return found


def _referral(referral: Referral) -> dict[str, Any]:
    need = referral.need
    return {
        "recipient": referral.recipient,
        "need": SDOH_DOMAIN_LABELS.get(need, category_label(need)) if need else None,
        "status": referral.status.replace("-", " "),
        "priority": referral.priority,
        "sent_on": referral.sent_on,
        "reason": referral.reason,
    }


def _coverage(coverage: Coverage) -> dict[str, Any]:
    fields = "payer plan type order member_id group_number start_on end_on phone".split()
    return {key: getattr(coverage, key) for key in fields}


def _authorization(row: AuthorizationRow) -> dict[str, Any]:
    fields = "service number status start_on end_on units_approved unit".split()
    return {
        **{key: getattr(row.authorization, key) for key in fields},
        "payer": row.payer,
        "units_used": row.units_used,
        "units_left": row.units_left,
    }


def _age(born: date | None, on: date) -> int | None:
    if born is None:
        return None
    return int(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))
