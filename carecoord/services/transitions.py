"""Transitions of care: a discharge, its follow-up tasks, and whether the deadlines were met.

The rule "which contact or visit meets which follow-up" lives here, once: :func:`evidence` finds,
for each transition, the first reached interactive contact and the first face-to-face visit in its
service period; :func:`judge` reads the deadlines from it and :func:`sync_followups` makes the
follow-up tasks agree with it. Every service that records, edits or deletes such a fact (a log
entry, an appointment outcome, a transition) calls :func:`sync_followups` for the patient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from carecoord.clinical import (
    FACE_TO_FACE_APPOINTMENTS,
    FACE_TO_FACE_CHANNELS,
    INTERACTIVE_CHANNELS,
    TCM_ATTEMPT_OUTCOMES,
    TCM_ATTEMPTS_NEEDED,
    TCM_CODES,
    TCM_CONTACT_BUSINESS_DAYS,
    TCM_PERIOD_DAYS,
    TCM_VISIT_DAYS,
)
from carecoord.dates import add_business_days, day_start, local_zone, today
from carecoord.errors import ConflictError, ValidationError
from carecoord.fields import TRANSITION
from carecoord.models import Communication, Patient, Task, Transition
from carecoord.services import text
from carecoord.services.appointments import AppointmentFilter, occurrences
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.services.tasks import Placement, add_task, change_status, complete, delete_task, update_task
from carecoord.vocab import TASK_OPEN, Complexity, TaskStatus

TCM_TAG = "tcm"
# Another discharge of the same patient this many days apart is probably the same one typed twice.
NEAR_DUPLICATE_DAYS = 2
# How a follow-up task completed by sync_followups is marked (its completion note starts so), and
# the notes an earlier version wrote, so that those are reopened too when their evidence goes.
AUTO_COMPLETED = "completed automatically: "
_AUTO_NOTE = re.compile(rf"^(?:{re.escape(AUTO_COMPLETED)})?met by (?:log entry|appointment) #\d+")
REOPENED = "reopened automatically: nothing in the service period meets it any more"
_CHANGES_KEY = "carecoord.followup_changes"


# --- recording and correcting a discharge -------------------------------------------------------


def _contact_title(facility: str) -> str:
    return f"TCM: interactive contact after discharge from {facility}"


def _visit_title(facility: str, complexity: str) -> str:
    return f"TCM: face-to-face visit after discharge from {facility} ({TCM_CODES[complexity]})"


def deadlines(discharged_on: date, complexity: str) -> tuple[date, date]:
    """The contact and visit due dates of a discharge."""
    return (
        add_business_days(discharged_on, TCM_CONTACT_BUSINESS_DAYS),
        discharged_on + timedelta(days=TCM_VISIT_DAYS[complexity]),
    )


def _check(discharged_on: date, complexity: str | None = None) -> None:
    if discharged_on > today():
        raise ValidationError(f"the discharge date {discharged_on} is in the future")
    if complexity is not None and complexity not in TCM_VISIT_DAYS:
        raise ValidationError(f"complexity is one of {', '.join(TCM_VISIT_DAYS)}, not {complexity}")


def _refuse_same(
    session: Session, patient_id: int, discharged_on: date, facility: str, *, other_than: int | None
) -> None:
    """The same discharge (day and facility, whatever the case) may be recorded once."""
    query = select(Transition).where(
        Transition.patient_id == patient_id, Transition.discharged_on == discharged_on,
        col(Transition.facility).ilike(facility),
    )  # fmt: skip
    if other_than is not None:
        query = query.where(Transition.id != other_than)
    same = session.exec(query).first()
    if same is not None:
        raise ConflictError(f"this discharge is already recorded as transition #{same.id}")


def near_duplicates(session: Session, patient: Patient, discharged_on: date, facility: str) -> list[Transition]:
    """The patient's other discharges within NEAR_DUPLICATE_DAYS of ``discharged_on`` (not the very
    same one, which :func:`add_transition` refuses): probably the same discharge typed differently,
    so recording another should be confirmed first. Checks the date and facility as
    :func:`add_transition` does, and refuses the very same discharge, so that what would be refused
    anyway is refused before anyone is asked."""
    facility = text.required_line(facility, "facility")
    _check(discharged_on)
    assert patient.id is not None
    _refuse_same(session, patient.id, discharged_on, facility, other_than=None)
    found = session.exec(
        select(Transition)
        .where(
            Transition.patient_id == patient.id,
            col(Transition.discharged_on) >= discharged_on - timedelta(days=NEAR_DUPLICATE_DAYS),
            col(Transition.discharged_on) <= discharged_on + timedelta(days=NEAR_DUPLICATE_DAYS),
        )
        .order_by(col(Transition.discharged_on), col(Transition.id))
    ).all()
    return [t for t in found if not (t.discharged_on == discharged_on and t.facility.casefold() == facility.casefold())]


def add_transition(session: Session, patient: Patient, **fields: Any) -> Transition:
    """Record a discharge (the settable fields of ``fields.TRANSITION``: its date and facility are
    needed, complexity is moderate unless given) and create its two follow-up tasks with their
    deadlines; contacts and visits already logged meet them at once."""
    values = text.clean_fields(TRANSITION, {"facility": None, **fields})
    facility, discharged_on = values["facility"], values.get("discharged_on")
    if discharged_on is None:
        raise ValidationError("give the discharge date")
    complexity = values.get("complexity") or Complexity.moderate.value
    _check(discharged_on, complexity)
    assert patient.id is not None
    _refuse_same(session, patient.id, discharged_on, facility, other_than=None)
    contact_due, visit_due = deadlines(discharged_on, complexity)
    here = Placement(patient.id, None, None)
    contact_task = add_task(
        session, _contact_title(facility), here, due_on=contact_due, priority="urgent", tags=(TCM_TAG,)
    )
    visit_task = add_task(
        session, _visit_title(facility, complexity), here, due_on=visit_due, priority="urgent", tags=(TCM_TAG,)
    )
    transition = Transition(
        patient_id=patient.id, facility=facility, discharged_on=discharged_on, complexity=complexity,
        contact_due=contact_due, visit_due=visit_due, contact_task_id=contact_task.id, visit_task_id=visit_task.id,
        notes=values.get("notes"),
    )  # fmt: skip
    session.add(transition)
    session.flush()
    sync_followups(session, patient.id)
    return transition


def update_transition(session: Session, transition: Transition, fields: Mapping[str, Any]) -> Transition:
    """Correct a discharge: its date, facility, complexity or notes. The deadlines are worked out
    again, and the follow-up tasks' due dates and titles move with them (not those the coordinator
    closed by hand); then the follow-ups are judged again, as the evidence may count no more."""
    values = text.clean_fields(TRANSITION, fields)
    facility = values.get("facility", transition.facility)
    discharged_on = values.get("discharged_on", transition.discharged_on)
    complexity = values.get("complexity", transition.complexity)
    _check(discharged_on, complexity)
    _refuse_same(session, transition.patient_id, discharged_on, facility, other_than=transition.id)
    transition.facility, transition.discharged_on, transition.complexity = facility, discharged_on, complexity
    if "notes" in values:
        transition.notes = values["notes"]
    transition.contact_due, transition.visit_due = deadlines(discharged_on, complexity)
    for task_id, title, due in (
        (transition.contact_task_id, _contact_title(facility), transition.contact_due),
        (transition.visit_task_id, _visit_title(facility, complexity), transition.visit_due),
    ):
        task = session.get(Task, task_id) if task_id is not None else None
        if task is not None and (task.status in TASK_OPEN or completed_automatically(task)):
            update_task(session, task, {"title": title, "due_on": due})  # the sync below may reopen it
    session.flush()
    sync_followups(session, transition.patient_id)
    return transition


@dataclass(frozen=True)
class Deleted:
    """What deleting a transition removed, the follow-up tasks it kept (done or cancelled by hand),
    and the log entries and appointments that had met its follow-ups (kept: they happened)."""

    transition: Transition
    deleted_tasks: list[Task]
    kept_tasks: list[Task]
    evidence: list[str]


def delete_transition(session: Session, transition: Transition) -> Deleted:
    """Remove a discharge entered in error, with its follow-up tasks still open or completed
    automatically (they only stood for the discharge; the audit trail keeps them all); tasks the
    coordinator completed or cancelled by hand stay, as a record of work done."""
    followups = _followup_tasks(session, transition)
    doomed = followups_to_delete(session, transition)
    found = evidence(session, [transition])[transition.id or 0]
    met = [proof.source for proof in (found.contact, found.visit) if proof is not None]
    session.delete(transition)
    session.flush()
    for task in doomed:
        delete_task(session, task)
    kept = [task for task in followups if task not in doomed]
    return Deleted(transition, doomed, kept, list(dict.fromkeys(met)))


def _followup_tasks(session: Session, transition: Transition) -> list[Task]:
    ids = [i for i in (transition.contact_task_id, transition.visit_task_id) if i is not None]
    return list(session.exec(select(Task).where(col(Task.id).in_(ids)).order_by(col(Task.id))).all()) if ids else []


def followups_to_delete(session: Session, transition: Transition) -> list[Task]:
    """The transition's follow-up tasks that deleting it deletes too: those still open and those
    completed automatically (not the ones the coordinator closed by hand)."""
    return [task for task in _followup_tasks(session, transition)
            if task.status in TASK_OPEN or completed_automatically(task)]  # fmt: skip


def describe(transition: Transition) -> str:
    """``#3 discharged 2026-11-20 from Mercy General Hospital``."""
    return f"#{transition.id} discharged {transition.discharged_on} from {transition.facility}"


def resolve(session: Session, ref: str) -> Transition:
    """A transition by its id."""
    cleaned = require_ref(ref, "transition")
    transition_id = as_id(cleaned)
    if transition_id is None:
        raise ValidationError(f"give the transition's id (see 'carecoord transition list'), not '{cleaned}'")
    found = session.exec(select(Transition).where(Transition.id == transition_id)).all()
    return pick_one(cleaned, "transition", found, describe)


def list_transitions(
    session: Session, *, patient_id: int | None = None, since: date | None = None, coordinator: str | None = None
) -> Sequence[tuple[Transition, Patient]]:
    """Transitions with their patients (only ``coordinator``'s if given), newest discharge first."""
    query = select(Transition, Patient).join(Patient, col(Patient.id) == Transition.patient_id)
    if patient_id is not None:
        query = query.where(Transition.patient_id == patient_id)
    if since is not None:
        query = query.where(col(Transition.discharged_on) >= since)
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    query = query.order_by(col(Transition.discharged_on).desc(), col(Transition.id).desc())
    return [(transition, patient) for transition, patient in session.exec(query).all()]


# --- the rule: which contact or visit meets which follow-up --------------------------------------


@dataclass(frozen=True)
class Evidence:
    """A reached contact or a fulfilled appointment that meets a follow-up: when, and which."""

    on: date
    at: datetime
    source: str  # "log entry #5", "appointment #3"


@dataclass(frozen=True)
class Met:
    """What meets a transition's two follow-ups (None: nothing yet), and the separate documented
    attempts at the contact that reached no one, from the discharge day to the contact's due date."""

    contact: Evidence | None
    visit: Evidence | None
    attempts: tuple[Evidence, ...] = ()


def in_period(session: Session, patient_id: int) -> list[TransitionStatus]:
    """The patient's discharges still in their TCM service period, judged (newest first)."""
    since = today() - timedelta(days=TCM_PERIOD_DAYS - 1)
    return judge(session, list_transitions(session, patient_id=patient_id, since=since))


def period_end(discharged_on: date) -> date:
    """The last day of the TCM service period: the discharge day and the 29 days after it."""
    return discharged_on + timedelta(days=TCM_PERIOD_DAYS - 1)


def evidence(session: Session, transitions: Sequence[Transition]) -> dict[int, Met]:
    """For each transition (by id), the first reached interactive contact (a phone call, visit or
    video call in the log, or any fulfilled appointment) and the first face-to-face visit (a
    logged visit, or a fulfilled in-person appointment) in its service period; and the unanswered
    attempts at the contact (TCM_ATTEMPT_OUTCOMES, by phone, video or visit) up to its due date.

    A handful of queries for all the transitions together, not a loop of queries.
    """
    if not transitions:
        return {}
    zone = local_zone()
    first = min(t.discharged_on for t in transitions)
    end = day_start(max(period_end(t.discharged_on) for t in transitions) + timedelta(days=1), zone)
    patient_ids = {t.patient_id for t in transitions}
    only = next(iter(patient_ids)) if len(patient_ids) == 1 else None
    logged = session.exec(
        select(Communication).where(
            col(Communication.patient_id).in_(patient_ids),
            col(Communication.outcome).in_({"reached", *TCM_ATTEMPT_OUTCOMES}),
            col(Communication.at) >= day_start(first, zone), col(Communication.at) < end,
        )
    ).all()  # fmt: skip
    reached = [c for c in logged if c.outcome == "reached"]
    # (patient, evidence) of each unanswered attempt at an interactive contact
    tried = sorted(
        ((c.patient_id, Evidence(c.at.astimezone(zone).date(), c.at, f"log entry #{c.id}"))
         for c in logged if c.outcome != "reached" and c.channel in INTERACTIVE_CHANNELS),
        key=lambda item: (item[1].at, item[1].source),
    )  # fmt: skip
    # (patient, evidence, counts as a contact, counts as a visit)
    found: list[tuple[int, Evidence, bool, bool]] = [
        (c.patient_id, Evidence(c.at.astimezone(zone).date(), c.at, f"log entry #{c.id}"),
         c.channel in INTERACTIVE_CHANNELS, c.channel in FACE_TO_FACE_CHANNELS)
        for c in reached
    ]  # fmt: skip
    for sitting, _ in occurrences(session, AppointmentFilter(day_start(first, zone), end, patient_id=only)):
        appointment = sitting.appointment
        if sitting.status == "fulfilled" and appointment.patient_id in patient_ids:
            on = sitting.start.astimezone(zone).date()
            source = f"appointment #{appointment.id}"  # an occurrence of a series: told by the date, said with it
            found.append((appointment.patient_id, Evidence(on, sitting.start, source), True,
                          appointment.kind in FACE_TO_FACE_APPOINTMENTS))  # fmt: skip
    found.sort(key=lambda item: (item[1].at, item[1].source))
    result = {}
    for transition in transitions:
        since, until = transition.discharged_on, period_end(transition.discharged_on)
        mine = [item for item in found if item[0] == transition.patient_id and since <= item[1].on <= until]
        result[transition.id or 0] = Met(
            contact=next((ev for _, ev, contact, _ in mine if contact), None),
            visit=next((ev for _, ev, _, visit in mine if visit), None),
            attempts=tuple(ev for pid, ev in tried
                           if pid == transition.patient_id and since <= ev.on <= transition.contact_due),
        )  # fmt: skip
    return result


def completed_automatically(task: Task) -> bool:
    """Whether :func:`sync_followups` (not the coordinator) completed the task."""
    return task.status == TaskStatus.completed.value and bool(_AUTO_NOTE.match(task.status_reason or ""))


@dataclass(frozen=True)
class FollowUpChange:
    """A follow-up task the sync completed or reopened, and why."""

    task: Task
    action: str  # completed | reopened
    why: str


def sync_followups(session: Session, patient_id: int, *, restate: bool = True) -> list[FollowUpChange]:
    """Make the patient's follow-up tasks agree with the rule: an open one that a contact or visit
    meets is completed (marked as done automatically); one completed automatically whose evidence
    has gone (entry deleted, edited to 'no answer', visit no longer fulfilled) is reopened. Tasks
    the coordinator completed or cancelled by hand are left alone. ``restate=False`` keeps the note
    of a task completed automatically when other evidence meets it now (an import keeps the file's
    notes, so that importing the file again changes nothing).

    The changes are also kept on the session, for the command to report (:func:`followup_changes`).
    """
    transitions = session.exec(select(Transition).where(Transition.patient_id == patient_id)).all()
    if not transitions:
        return []
    met = evidence(session, transitions)
    ids = [i for t in transitions for i in (t.contact_task_id, t.visit_task_id) if i is not None]
    tasks = {task.id: task for task in session.exec(select(Task).where(col(Task.id).in_(ids))).all()}
    changes: list[FollowUpChange] = []
    for transition in sorted(transitions, key=lambda t: (t.discharged_on, t.id or 0)):
        found = met[transition.id or 0]
        for task_id, proof, due in ((transition.contact_task_id, found.contact, transition.contact_due),
                                    (transition.visit_task_id, found.visit, transition.visit_due)):  # fmt: skip
            task = tasks.get(task_id)
            if task is None:
                continue
            if proof is not None:
                note = f"{AUTO_COMPLETED}met by {proof.source} on {proof.on}"
                if task.status in TASK_OPEN:
                    complete(session, task, note)
                    changes.append(FollowUpChange(task, "completed", _done_by(proof, due)))
                elif restate and completed_automatically(task) and task.status_reason != note:
                    task.status_reason = note  # other evidence meets it now: say which
            elif completed_automatically(task):
                change_status(session, task, TaskStatus.requested.value, REOPENED)
                changes.append(FollowUpChange(task, "reopened", "nothing in the service period meets it any more"))
    session.flush()
    session.info.setdefault(_CHANGES_KEY, []).extend(changes)
    return changes


def _done_by(proof: Evidence, due: date) -> str:
    """Why a follow-up task was completed, as people read it: met on time, or done but late (the
    deadline stays late, as 'transition list' says)."""
    if proof.on <= due:
        return f"met by {proof.source} on {proof.on}"
    return f"done by {proof.source} on {proof.on}, late (due {due})"


def refuse_reopening(session: Session, task: Task) -> None:
    """A follow-up task that a contact or visit in the service period still meets stays completed:
    reopened, it would be open and overdue while the deadline reads met (and the next sync would
    complete it again). What should not count is corrected at its source, and the task follows."""
    query = select(Transition).where(
        or_(col(Transition.contact_task_id) == task.id, col(Transition.visit_task_id) == task.id)
    )
    transition = session.exec(query).first()
    if transition is None:
        return
    met = evidence(session, [transition])[transition.id or 0]
    proof = met.contact if transition.contact_task_id == task.id else met.visit
    if proof is not None:
        fix = (f"edit or delete {proof.source}" if proof.source.startswith("log entry")
               else f"correct {proof.source} ('appt noshow', or 'appt edit --type')")  # fmt: skip
        raise ConflictError(
            f"follow-up task #{task.id} is met by {proof.source} on {proof.on}: "
            f"{fix} if it should not count, and the task reopens by itself"
        )


def followup_changes(session: Session) -> list[FollowUpChange]:
    """Every follow-up task :func:`sync_followups` changed in this session so far."""
    return list(session.info.get(_CHANGES_KEY, []))


# --- judging the deadlines ------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """One transitional-care deadline and what happened."""

    due: date
    done_on: date | None
    state: str  # met | attempted | late | missed | open
    attempts: int = 0  # separate unanswered attempts by the due date (the contact deadline only)

    @classmethod
    def judge(cls, due: date, done_on: date | None, now: date, attempts: int = 0) -> Deadline:
        """Met on or before the due date; else 'attempted' when TCM_ATTEMPTS_NEEDED separate
        documented attempts by then reached no one (CMS TCM FAQ: the requirement is satisfied for
        billing, though attempts go on: a later contact is still recorded as done); else late,
        missed, or still open."""
        if done_on is not None and done_on <= due:
            return cls(due, done_on, "met", attempts)
        if attempts >= TCM_ATTEMPTS_NEEDED:
            return cls(due, done_on, "attempted", attempts)
        if done_on is not None:
            return cls(due, done_on, "late", attempts)
        return cls(due, None, "missed" if due < now else "open", attempts)


@dataclass(frozen=True)
class TransitionStatus:
    """A transition with its patient and both deadlines judged."""

    transition: Transition
    patient: Patient
    contact: Deadline
    visit: Deadline


def judge(session: Session, rows: Sequence[tuple[Transition, Patient]]) -> list[TransitionStatus]:
    """Whether each deadline was met: by the :func:`evidence`, or by a follow-up task the
    coordinator completed by hand within the service period (a task completed automatically
    only repeats its evidence)."""
    if not rows:
        return []
    zone = local_zone()
    met = evidence(session, [t for t, _ in rows])
    task_ids = {i for t, _ in rows for i in (t.contact_task_id, t.visit_task_id) if i is not None}
    by_hand = {
        task.id: task.completed_at.astimezone(zone).date()
        for task in session.exec(select(Task).where(col(Task.id).in_(task_ids))).all()
        if task.completed_at is not None and task.status == "completed" and not completed_automatically(task)
    }
    now = today()
    result = []
    for transition, patient in rows:
        found, since = met[transition.id or 0], transition.discharged_on
        contact_done = _first_done(found.contact, by_hand.get(transition.contact_task_id), since)
        visit_done = _first_done(found.visit, by_hand.get(transition.visit_task_id), since)
        result.append(
            TransitionStatus(
                transition, patient,
                # separate attempts: the same moment logged twice is one attempt
                Deadline.judge(transition.contact_due, contact_done, now, len({a.at for a in found.attempts})),
                Deadline.judge(transition.visit_due, visit_done, now),
            )
        )  # fmt: skip
    return result


def _first_done(proof: Evidence | None, by_hand: date | None, since: date) -> date | None:
    """The earlier of the evidence and a completion by hand within the service period."""
    dates = [proof.on] if proof is not None else []
    if by_hand is not None and since <= by_hand <= period_end(since):
        dates.append(by_hand)
    return min(dates, default=None)
