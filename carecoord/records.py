"""Models as plain records: the stable keys of JSON and CSV output (see README, Scripting).

Dates are ``date`` objects and moments aware datetimes in the user's zone; the renderer
writes them as ISO 8601.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from carecoord.clinical import (
    APCM_BUNDLES,
    CARE_MANAGEMENT_PROGRAMS,
    CONTACT_DUE_DAYS,
    NAVIGATION_PROGRAMS,
    PROGRAMS,
    TCM_CODES,
    apcm_level,
)
from carecoord.dates import local_zone, now, today
from carecoord.fields import (
    APPOINTMENT,
    AUTHORIZATION,
    COMMUNICATION,
    CONTACT,
    COVERAGE,
    GOAL,
    PATIENT,
    PLAN,
    RESOURCE,
    TASK,
    TRANSITION,
    Kind,
    RecordSpec,
)
from carecoord.services.tags import split_tags
from carecoord.vocab import TASK_OPEN

if TYPE_CHECKING:  # only for annotations: a listing must not load every service
    from carecoord.models import (
        AuditEntry,
        AuthorizationUse,
        CarePlan,
        Communication,
        Contact,
        Coverage,
        Disclosure,
        DisclosurePatient,
        Goal,
        Patient,
        PlanReview,
        ProgramEnrolment,
        Referral,
        ReferralEvent,
        Resource,
        Task,
    )
    from carecoord.services.agenda import AgendaDay
    from carecoord.services.appointments import Occurrence
    from carecoord.services.authorizations import AuthorizationRow
    from carecoord.services.plans import PlanDocument
    from carecoord.services.reports import ContactGap, MinutesReport, OverdueItem
    from carecoord.services.timeline import Event
    from carecoord.services.transitions import TransitionStatus

# The stable keys of each record, in order: the JSON and CSV contract (README, Scripting).
# tests/test_output.py checks that every record carries exactly these.
PATIENT_KEYS = PATIENT.keys
CONTACT_KEYS = CONTACT.keys
AUDIT_KEYS = tuple("id at os_user db_role action table record_id record patient_id fields summary changes".split())
DISCLOSURE_KEYS = tuple(
    "id at os_user db_role kind recipient purpose target description patient_count patient_ids patient_names "
    "patients".split()
)
DISCLOSURE_CSV_KEYS = DISCLOSURE_KEYS[:-1]  # each patient's id, name and MRN: JSON only
PLAN_KEYS = PLAN.keys
GOAL_KEYS = GOAL.keys
TASK_KEYS = TASK.keys
APPOINTMENT_KEYS = APPOINTMENT.keys
COMMUNICATION_KEYS = COMMUNICATION.keys
TRANSITION_KEYS = TRANSITION.keys
REVIEW_KEYS = tuple("id plan_id reviewed_on note next_review created_at".split())


def _describe_rule(rule: str) -> str:
    from carecoord.recurrence import describe

    return describe(rule)


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(local_zone())


def _hh_mm(value: Any) -> str | None:
    return value.isoformat(timespec="minutes") if value is not None else None


def _lines(value: str | None) -> list[str]:
    return [line for line in (value or "").split("\n") if line]


# How a field of each kind is shown in records (kinds not listed are kept as they are).
_SHOWN_AS: dict[Kind, Callable[[Any], Any]] = {
    Kind.tags: lambda value: split_tags(value or ""),
    Kind.time: _hh_mm,
    Kind.lines: _lines,
    Kind.moment: _local,
}
_Readers = list[tuple[str, str, Callable[[Any], Any] | None]]
_READERS: dict[int, tuple[RecordSpec, _Readers]] = {}  # by id(): a declaration's fields hold dicts


def field_values(record: RecordSpec, obj: object) -> dict[str, Any]:
    """The declared fields of ``obj`` in their declared order, each shown as its kind says (listings
    build thousands of records: how to read each field is worked out once per declaration)."""
    known = _READERS.get(id(record))
    if known is None or known[0] is not record:
        known = _READERS[id(record)] = (record, [(f.key, f.source, _SHOWN_AS.get(f.kind)) for f in record.fields])
    readers = known[1]
    values: dict[str, Any] = {}
    for key, source, shown in readers:
        value = getattr(obj, source, None)
        values[key] = value if shown is None else shown(value)
    return values


def patient_record(patient: Patient) -> dict[str, Any]:
    """Every patient field, in a fixed order."""
    return field_values(PATIENT, patient)


def contact_record(contact: Contact, patient: Patient | None = None) -> dict[str, Any]:
    """Every contact field, with the patient's id and name."""
    owner = patient or contact.patient
    return {**field_values(CONTACT, contact), "patient_name": owner.name if owner else None}


def patient_with_contacts(patient: Patient) -> dict[str, Any]:
    """A patient record with its contacts nested under ``contacts``."""
    record = patient_record(patient)
    record["contacts"] = [contact_record(c, patient) for c in patient.contacts]
    return record


_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)$")


def _short(value: Any, width: int = 40) -> str:
    """A changed value as people read it: a moment (stored as UTC) in the user's zone, long text cut."""
    text = "(empty)" if value in (None, "") else str(value)
    if _INSTANT.match(text):
        text = f"{datetime.fromisoformat(text).astimezone(local_zone()):%Y-%m-%d %H:%M}"
    return text if len(text) <= width else text[: width - 1] + "…"


def change_summary(action: str, changes: dict[str, list[Any]]) -> str:
    """``phone: 555-0100 → 555-0199`` for updates; the fields set or removed otherwise."""
    if action == "update":
        return "; ".join(f"{key}: {_short(old)} → {_short(new)}" for key, (old, new) in sorted(changes.items()))
    return ", ".join(sorted(changes))


def audit_record(entry: AuditEntry) -> dict[str, Any]:
    """One audit row; ``changes`` maps each field to ``[old, new]``."""
    changes = json.loads(entry.changes)
    return {
        "id": entry.id,
        "at": _local(entry.at),
        "os_user": entry.os_user,
        "db_role": entry.db_role,
        "action": entry.action,
        "table": entry.table_name,
        "record_id": entry.record_id,
        "record": f"{entry.table_name} #{entry.record_id}",
        "patient_id": entry.patient_id,
        "fields": sorted(changes),
        "summary": change_summary(entry.action, changes),
        "changes": changes,
    }


def disclosure_record(disclosure: Disclosure, patients: Sequence[DisclosurePatient]) -> dict[str, Any]:
    """One disclosure (the account of disclosures); ``recipient`` and ``purpose`` None when unspecified;
    ``patients`` each ``id name mrn`` as they were at the time (the ones the signed-in person may see)."""
    return {
        "id": disclosure.id,
        "at": _local(disclosure.at),
        "os_user": disclosure.os_user,
        "db_role": disclosure.db_role,
        "kind": disclosure.kind,
        "recipient": disclosure.recipient,
        "purpose": disclosure.purpose,
        "target": disclosure.target,
        "description": disclosure.description,
        "patient_count": len(patients),
        "patient_ids": [p.patient_id for p in patients],
        "patient_names": [p.patient_name for p in patients],
        "patients": [{"id": p.patient_id, "name": p.patient_name, "mrn": p.patient_mrn} for p in patients],
    }


def plan_record(plan: CarePlan, patient: Patient | None = None) -> dict[str, Any]:
    """Every plan field, with the patient's name; ``review_due`` when the date has come."""
    owner = patient or plan.patient
    return {
        **field_values(PLAN, plan),
        "patient_name": owner.name if owner else None,
        "review_due": plan.next_review is not None and plan.next_review <= today(),
    }


def goal_record(goal: Goal) -> dict[str, Any]:
    """Every goal field (FHIR lifecycle and achievement status codes)."""
    return field_values(GOAL, goal)


def task_record(task: Task, patient_name: str | None = None, *, as_of: date | None = None) -> dict[str, Any]:
    """Every task field; ``overdue`` for an open task whose due date has passed (before ``as_of``,
    default today: a long listing passes it, asking the clock once)."""
    as_of = as_of or today()
    return {
        **field_values(TASK, task),
        "overdue": task.status in TASK_OPEN and task.due_on is not None and task.due_on < as_of,
        "patient_name": patient_name,
        "repeat_text": _describe_rule(task.rrule) if task.rrule else None,
    }


def review_record(review: PlanReview) -> dict[str, Any]:
    """One recorded plan review."""
    return {
        "id": review.id,
        "plan_id": review.plan_id,
        "reviewed_on": review.reviewed_on,
        "note": review.note,
        "next_review": review.next_review,
        "created_at": _local(review.created_at),
    }


def plan_document_record(doc: PlanDocument) -> dict[str, Any]:
    """A whole plan: patient, needs, goals each with their tasks, other tasks, care team, reviews."""
    name = doc.patient.name
    record = plan_record(doc.plan, doc.patient)
    record["patient"] = patient_record(doc.patient)
    record["goals"] = [
        {**goal_record(goal), "tasks": [task_record(t, name) for t in doc.tasks if t.goal_id == goal.id]}
        for goal in doc.goals
    ]
    record["other_tasks"] = [task_record(t, name) for t in doc.tasks if t.goal_id is None]
    record["care_team"] = [contact_record(c, doc.patient) for c in doc.contacts]
    record["reviews"] = [review_record(r) for r in doc.reviews]
    return record


def occurrence_record(sitting: Occurrence, patient: Patient) -> dict[str, Any]:
    """One occurrence: times in the user's zone, ``tz`` the zone it was booked in,
    ``occurrence`` its original start (the iCalendar RECURRENCE-ID) in that zone."""
    appointment = sitting.appointment
    zone = local_zone()
    return {
        **field_values(APPOINTMENT, appointment),
        "patient_name": patient.name,
        "status": sitting.status,
        "start": sitting.start.astimezone(zone),
        "end": sitting.end.astimezone(zone),
        "recurring": appointment.rrule is not None,
        "occurrence": sitting.original_start.astimezone(sitting.start.tzinfo),
        "moved": sitting.moved,
        "reason": sitting.reason,
    }


def agenda_record(days: list[AgendaDay]) -> dict[str, Any]:
    """The agenda: ``days``, each with its appointments, tasks, plan reviews and goal targets; a task
    is overdue as of its day (one due today is overdue on tomorrow's agenda), never before today."""
    as_of = today()
    return {
        "from": days[0].day,
        "to": days[-1].day,
        "days": [
            {
                "date": day.day,
                "appointments": [occurrence_record(sitting, patient) for sitting, patient in day.appointments],
                "tasks": [task_record(task, name, as_of=max(as_of, day.day)) for task, name in day.tasks],
                "reviews": [plan_record(plan, patient) for plan, patient in day.reviews],
                "goals": [{**goal_record(goal), "patient_name": patient.name} for goal, patient in day.goals],
                "contacts_due": [_contact_due_record(gap) for gap in day.contacts_due],
                "transition_deadlines": [
                    {**transition_record(status), "deadline": which} for status, which in day.deadlines
                ],
                "stalled_referrals": _stalled_records(day.stalled_referrals),
                "more_overdue": day.more_overdue,
                **_agenda_screenings(day),
                "authorizations": [
                    {**authorization_record(row), "reasons": list(row.reasons)} for _, row in day.authorizations
                ],
                "coverage_ending": [coverage_record(row.coverage, row.patient_name) for row in day.coverage_ending],
            }
            for day in days
        ],
    }


def communication_record(entry: Communication, patient: Patient) -> dict[str, Any]:
    """One log entry; ``at`` in the user's zone."""
    return {**field_values(COMMUNICATION, entry), "patient_name": patient.name}


def transition_record(status: TransitionStatus) -> dict[str, Any]:
    """A transition of care with both deadlines: due date, when done, and met/late/missed/open."""
    transition = status.transition
    return {
        **field_values(TRANSITION, transition),
        "patient_name": status.patient.name,
        "code": TCM_CODES.get(transition.complexity),
        "contact_due": status.contact.due,
        "contact_done": status.contact.done_on,
        "contact_state": status.contact.state,
        "contact_attempts": status.contact.attempts,
        "visit_due": status.visit.due,
        "visit_done": status.visit.done_on,
        "visit_state": status.visit.state,
    }


def minutes_records(report: MinutesReport) -> list[dict[str, Any]]:
    """One row per patient: minutes, the ids of entries over LONG_ENTRY_MINUTES (to check before billing),
    and for each program the level reached and minutes to the next.

    A minute counts toward one program only: the care-management views (CCM, complex CCM, physician
    CCM, PCM) count the minutes logged to ccm, complex-ccm or pcm and those naming no program; CHI and
    PIN count their own. ``consent_missing`` names each program with minutes counted toward it and no
    enrolment with consent on file from before its first entry of the month (minutes naming no
    program are care management: they need a ccm, complex-ccm or pcm enrolment); ``notes`` says what
    the rules leave to the coordinator (APCM facts not recorded, APCM with care-management minutes)."""
    long_entries: dict[int, list[int]] = {}
    for entry in report.long_entries:
        long_entries.setdefault(entry.patient_id, []).append(entry.id)
    rows = []
    for row in report.rows:
        enrolled = report.enrolments.get(row.patient_id, [])
        spent = {program: minutes for program, (minutes, _first) in row.by_program.items()}
        care = sum(
            minutes for program, minutes in spent.items() if program is None or program in CARE_MANAGEMENT_PROGRAMS
        )
        record: dict[str, Any] = {
            "patient_id": row.patient_id,
            "patient_name": row.patient_name,
            "month": f"{report.month:%Y-%m}",
            "minutes": row.minutes,
            "entries": row.entries,
            "long_entries": long_entries.get(row.patient_id, []),
            "days_left": report.days_left,
            "care_management_minutes": care,
            "unassigned_minutes": spent.get(None, 0),
        }
        for program in PROGRAMS:
            record[f"{program.key}_codes"] = program.describe(care)
            record[f"{program.key}_units"] = sum(program.level(care))
            record[f"{program.key}_minutes_to_next"] = program.minutes_to_next(care)
        for key, codes in NAVIGATION_PROGRAMS.items():
            record[f"{key}_minutes"] = spent.get(key, 0)
            for code in codes:
                record[f"{code.key}_codes"] = code.describe(spent.get(key, 0))
                record[f"{code.key}_units"] = sum(code.level(spent.get(key, 0)))
                record[f"{code.key}_minutes_to_next"] = code.minutes_to_next(spent.get(key, 0))
        record["tcm_minutes"] = spent.get("tcm", 0)
        record["apcm_minutes"] = spent.get("apcm", 0)
        notes: list[str] = []
        apcm = next((e for e in reversed(enrolled) if e.program == "apcm"), None)
        apcm_code, unclear = apcm_level(apcm.chronic_conditions, apcm.qmb) if apcm else (None, None)
        record["apcm_code"] = apcm_code
        notes += [unclear] if unclear else []
        bundled = sorted(p for p in {e.program for e in enrolled} | {p for p in spent if p} if p in APCM_BUNDLES)
        if apcm and (bundled or care):
            notes.append(f"APCM includes {', '.join(bundled) or 'care management'}: the practitioner billing APCM "
                         "does not bill them this month")  # fmt: skip
        record["programs"] = sorted({e.program for e in enrolled})
        record["consent_missing"] = _consent_missing(row.by_program, enrolled)
        record["notes"] = notes
        rows.append(record)
    return rows


def _consent_missing(by_program: dict[str | None, tuple[int, datetime]], enrolled: list[ProgramEnrolment]) -> list[str]:
    """The programs with minutes this month and no enrolment with consent on file by their first entry."""
    missing = set()
    for program, (_minutes, first_at) in by_program.items():
        day = first_at.astimezone(local_zone()).date()
        allowed = CARE_MANAGEMENT_PROGRAMS if program is None else {program}
        if not any(e.program in allowed and e.enrolled_on <= day for e in enrolled):
            missing.add(program or "ccm")
    return sorted(missing)


ENROLMENT_KEYS = tuple(
    "id uid patient_id patient_name program program_name consent enrolled_on consent_by note chronic_conditions "
    "qmb apcm_code active ended_on end_reason created_at updated_at".split()
)


def enrolment_record(enrolment: ProgramEnrolment, patient: Patient) -> dict[str, Any]:
    """A program enrolment with its consent; ``apcm_code`` the APCM level its facts give (apcm only)."""
    from carecoord.vocab import PROGRAM_NAMES

    code = apcm_level(enrolment.chronic_conditions, enrolment.qmb)[0] if enrolment.program == "apcm" else None
    return {
        "id": enrolment.id,
        "uid": enrolment.uid,
        "patient_id": enrolment.patient_id,
        "patient_name": patient.name,
        "program": enrolment.program,
        "program_name": PROGRAM_NAMES.get(enrolment.program, enrolment.program),
        "consent": enrolment.consent,
        "enrolled_on": enrolment.enrolled_on,
        "consent_by": enrolment.consent_by,
        "note": enrolment.note,
        "chronic_conditions": enrolment.chronic_conditions,
        "qmb": enrolment.qmb,
        "apcm_code": code,
        "active": enrolment.ended_on is None,
        "ended_on": enrolment.ended_on,
        "end_reason": enrolment.end_reason,
        "created_at": _local(enrolment.created_at),
        "updated_at": _local(enrolment.updated_at),
    }


def contact_gap_record(gap: ContactGap) -> dict[str, Any]:
    """An active patient not reached lately."""
    days = (now() - gap.last_reached).days if gap.last_reached else None
    return {
        "patient_id": gap.patient.id,
        "patient_name": gap.patient.name,
        "risk": gap.patient.risk,
        "phone": gap.patient.phone,
        "last_reached": _local(gap.last_reached),
        "days_since_reached": days,
        "last_attempt": _local(gap.last_attempt),
        "last_outcome": gap.last_outcome,
        "last_channel": gap.last_channel,
    }


def overdue_record(item: OverdueItem) -> dict[str, Any]:
    """One overdue task, plan review or goal target."""
    return {
        "patient_id": item.patient.id if item.patient else None,
        "patient_name": item.patient.name if item.patient else None,
        "kind": item.kind,
        "id": item.item_id,
        "title": item.title,
        "due": item.due,
        "days_overdue": (today() - item.due).days,
    }


def event_record(event: Event) -> dict[str, Any]:
    """One timeline event."""
    return {"at": _local(event.at), "kind": event.kind, "id": event.record_id, "summary": event.summary}


def _contact_due_record(gap: ContactGap) -> dict[str, Any]:
    """A patient due for contact on the agenda: ``due_on`` is when the gap reaches its limit."""
    due = (
        gap.last_reached.astimezone(local_zone()).date() + timedelta(days=CONTACT_DUE_DAYS)
        if gap.last_reached
        else None
    )
    return {**contact_gap_record(gap), "due_on": due}


def _agenda_screenings(day: AgendaDay) -> dict[str, Any]:
    """An agenda day's screenings (issue 13): rescreening due, and the open safety flags."""
    from carecoord.screening_records import due_record, screening_record

    return {
        "screenings_due": [due_record(item, day.day) for item in day.screenings_due],
        "safety_flags": [{**screening_record(s, p, None, True), "phone": p.phone} for s, p in day.safety_flags],
    }


# --- community resources and referrals (issue 14) -------------------------------------------------

RESOURCE_KEYS = RESOURCE.keys
REFERRAL_KEYS = tuple(
    "id uid patient_id patient_name resource_id recipient kind need reason priority status outcome status_reason "
    "consent_method consent_by consent_on consent_recorded_by sent_on closed_on changed_at days_since_change "
    "stalled follow_up_days followup_task_id screening_id notes created_at updated_at".split()
)
REFERRAL_EVENT_KEYS = tuple("id at happened_on action from_status to_status outcome note recorded_by".split())


def resource_record(resource: Resource) -> dict[str, Any]:
    """Every resource field, in the declared order (fields.RESOURCE)."""
    return field_values(RESOURCE, resource)


def referral_record(referral: Referral, patient_name: str | None, *, stalled_after: int) -> dict[str, Any]:
    """Every referral field; ``stalled`` for an open one with no change in ``stalled_after`` days."""
    from carecoord.services.referrals import OPEN

    days = (today() - referral.changed_at.astimezone(local_zone()).date()).days  # calendar days, in the user's zone
    return {
        "id": referral.id,
        "uid": referral.uid,
        "patient_id": referral.patient_id,
        "patient_name": patient_name,
        "resource_id": referral.resource_id,
        "recipient": referral.recipient,
        "kind": referral.kind,
        "need": referral.need,
        "reason": referral.reason,
        "priority": referral.priority,
        "status": referral.status,
        "outcome": referral.outcome,
        "status_reason": referral.status_reason,
        "consent_method": referral.consent_method,
        "consent_by": referral.consent_by,
        "consent_on": referral.consent_on,
        "consent_recorded_by": referral.consent_recorded_by,
        "sent_on": referral.sent_on,
        "closed_on": referral.closed_on,
        "changed_at": _local(referral.changed_at),
        "days_since_change": days,
        "stalled": referral.status in OPEN and days >= stalled_after,
        "follow_up_days": referral.follow_up_days,
        "followup_task_id": referral.followup_task_id,
        "screening_id": referral.screening_id,
        "notes": referral.notes,
        "created_at": _local(referral.created_at),
        "updated_at": _local(referral.updated_at),
    }


def referral_event_record(event: ReferralEvent) -> dict[str, Any]:
    """One step of a referral's history."""
    return {
        "id": event.id,
        "at": _local(event.at),
        "happened_on": event.happened_on,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "outcome": event.outcome,
        "note": event.note,
        "recorded_by": event.recorded_by,
    }


def _stalled_records(stalled: list[tuple[Referral, Patient]]) -> list[dict[str, Any]]:
    """The agenda's stalled referrals (issue 14)."""
    if not stalled:
        return []
    from carecoord.services.referrals import stalled_days

    days = stalled_days()
    return [referral_record(referral, patient.name, stalled_after=days) for referral, patient in stalled]


# --- insurance coverage and prior authorizations (issue 15) ----------------------------------------

COVERAGE_KEYS = COVERAGE.keys
AUTHORIZATION_KEYS = AUTHORIZATION.keys
AUTHORIZATION_USE_KEYS = tuple("id authorization_id used_on units appointment_id occurrence note created_at".split())


def coverage_record(coverage: Coverage, patient_name: str | None) -> dict[str, Any]:
    """Every coverage field, with the patient's name and whether it is in force today."""
    from carecoord.services.coverage import is_current

    return {**field_values(COVERAGE, coverage), "patient_name": patient_name, "current": is_current(coverage)}


def authorization_record(row: AuthorizationRow) -> dict[str, Any]:
    """Every authorization field, with the patient's name, the coverage's payer and the units used and left."""
    return {
        **field_values(AUTHORIZATION, row.authorization),
        "patient_name": row.patient_name,
        "payer": row.payer,
        "units_used": row.units_used,
        "units_left": row.units_left,
    }


def authorization_use_record(use: AuthorizationUse) -> dict[str, Any]:
    """One use of an authorization: the day, the units, and the appointment sitting if one used it."""
    return {
        "id": use.id,
        "authorization_id": use.authorization_id,
        "used_on": use.used_on,
        "units": use.units,
        "appointment_id": use.appointment_id,
        "occurrence": _local(use.occurrence),
        "note": use.note,
        "created_at": _local(use.created_at),
    }
