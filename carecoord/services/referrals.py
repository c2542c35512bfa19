"""Referrals with the loop closed (issue 14): the rules, in one place.

A referral (FHIR ServiceRequest with its Task, as in the Gravity Project's SDOH Clinical Care guide)
moves through the states of :data:`TRANSITIONS`; each move is kept in its history
(``referral_event``), may need consent (:data:`NEEDS_CONSENT`), an outcome (:data:`OUTCOME_REQUIRED`)
or a reason (:data:`REASON_REQUIRED`), and moves its follow-up task on (:data:`FOLLOW_UPS`). A
referral with no change for :func:`stalled_days` days is stalled. Every path that changes a
referral goes through this module.
"""

from __future__ import annotations

import os
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from carecoord.dates import add_business_days, day_start, local_zone, today
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.models import Patient, Referral, ReferralEvent, Resource, Task, utcnow
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.services.tasks import Placement, add_task, complete
from carecoord.services.tasks import change_status as change_task_status
from carecoord.vocab import (
    SDOH_DOMAINS,
    TASK_OPEN,
    ConsentMethod,
    PatientStatus,
    ReferralKind,
    ReferralOutcome,
    ReferralStatus,
    TaskPriority,
    TaskStatus,
)

S = ReferralStatus
# The moves a coordinator makes; anything else (completed back to sent, say) is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.draft: frozenset({S.sent, S.on_hold, S.cancelled}),
    S.sent: frozenset({S.received, S.accepted, S.rejected, S.scheduled, S.completed, S.failed, S.on_hold,
                       S.cancelled}),
    S.received: frozenset({S.accepted, S.rejected, S.scheduled, S.completed, S.failed, S.on_hold, S.cancelled}),
    S.accepted: frozenset({S.scheduled, S.completed, S.failed, S.on_hold, S.cancelled}),
    S.scheduled: frozenset({S.completed, S.failed, S.on_hold, S.cancelled}),
    S.completed: frozenset({S.closed}),
    S.rejected: frozenset({S.sent, S.closed, S.cancelled}),  # sent again (corrected), or the loop closes
    S.failed: frozenset({S.sent, S.closed, S.cancelled}),  # tried again, or the loop closes
    S.on_hold: frozenset({S.draft, S.sent, S.received, S.accepted, S.scheduled, S.closed, S.cancelled}),
    S.closed: frozenset(),
    S.cancelled: frozenset(),
}  # fmt: skip
FINISHED = frozenset({S.closed.value, S.cancelled.value})
OPEN = frozenset(s.value for s in S) - FINISHED
# Sharing the patient's information with the organization needs their consent on record.
NEEDS_CONSENT = frozenset({S.sent.value})
# The loop closes with what came of it; a cancellation says why.
OUTCOME_REQUIRED = frozenset({S.closed.value})
OUTCOME_ALLOWED = frozenset({S.completed.value, S.closed.value, S.rejected.value, S.failed.value, S.cancelled.value})
REASON_REQUIRED = frozenset({S.cancelled.value})
DEFAULT_FOLLOW_UP_DAYS = 3  # business days to the first follow-up (referral add --follow-up)
STALLED_DAYS = 14
STALLED_ENV_VAR = "CARECOORD_STALLED_DAYS"
REFERRAL_TAG = "referral"


@dataclass(frozen=True)
class FollowUp:
    """The follow-up task a status calls for: what to do, and when (business days or calendar days
    after the move; ``None`` business days means the referral's own --follow-up)."""

    title: str
    business_days: int | None = None
    days: int | None = None


# What the coordinator does next after each status (closed and cancelled: nothing, the loop is shut).
FOLLOW_UPS: dict[str, FollowUp] = {
    S.draft: FollowUp("check that {to} received it"),
    S.sent: FollowUp("check that {to} received it"),
    S.received: FollowUp("check whether {to} accepted it", business_days=3),
    S.accepted: FollowUp("confirm the first appointment with {to}", business_days=3),
    S.scheduled: FollowUp("check that the patient went to {to}", days=7),
    S.completed: FollowUp("ask the patient whether they got help from {to}", days=7),
    S.rejected: FollowUp("{to} turned it down: refer elsewhere or close it", business_days=2),
    S.failed: FollowUp("no response from {to}: try again or refer elsewhere", business_days=2),
    S.on_hold: FollowUp("review the referral on hold", days=14),
}


def stalled_days() -> int:
    """Days without a change after which an open referral is stalled: CARECOORD_STALLED_DAYS, else 14."""
    raw = os.environ.get(STALLED_ENV_VAR, "").strip()
    if not raw:
        return STALLED_DAYS
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError(f"{STALLED_ENV_VAR} must be a whole number of days (1 or more), not '{raw}'")
    return int(raw)


def parse_follow_up(value: str) -> int:
    """``--follow-up``: business days, as ``3``, ``3d`` or ``2w`` (a week is 5 business days)."""
    match = re.fullmatch(r"\s*(\d{1,3})\s*(d|bd|days?|w|wk|weeks?)?\s*", value.lower())
    if not match:
        raise ValidationError(f"cannot read --follow-up '{value}': give business days such as 3d, or weeks such as 1w")
    number, unit = int(match.group(1)), match.group(2) or "d"
    days = number * 5 if unit.startswith("w") else number
    if not 1 <= days <= 250:
        raise ValidationError("--follow-up must be between 1 business day and 50 weeks")
    return days


def need_code(value: str | None) -> str | None:
    """A --need: one of the SDOH domain codes (everyday words such as 'food' work too)."""
    from carecoord.vocab import RESOURCE_CATEGORY_SYNONYMS

    word = text.single_line(value, "need")
    if word is None:
        return None
    code = RESOURCE_CATEGORY_SYNONYMS.get(word.lower(), word.lower())
    if code not in SDOH_DOMAINS:
        raise ValidationError(
            f"invalid need '{word}': use an SDOH domain such as food-insecurity or housing-instability "
            "(see 'carecoord resource categories')"
        )
    return code


def _choice(value: str | None, allowed: type[Any], what: str) -> str | None:
    return text.choice(value, tuple(item.value for item in allowed), what)


# --- recording --------------------------------------------------------------------------------


def _who(session: Session) -> str:
    from carecoord.services.team import me

    return me(session) or "unknown"


def _event(session: Session, referral: Referral, action: str, on: date, **values: Any) -> ReferralEvent:
    assert referral.id is not None
    now = utcnow()
    event = ReferralEvent(referral_id=referral.id, at=now, happened_on=on, action=action,
                          recorded_by=_who(session), **values)  # fmt: skip
    referral.changed_at = now
    session.add(event)
    return event


@dataclass(frozen=True)
class Consent:
    """The patient's consent to share: how, who gave it (the patient or a representative), and when."""

    method: str
    by: str | None = None
    on: date | None = None


def _check_consent(consent: Consent) -> Consent:
    method = _choice(consent.method, ConsentMethod, "consent")
    assert method is not None
    on = consent.on or today()
    if on > today():
        raise ValidationError(f"consent cannot be dated in the future ({on})")
    return Consent(method, text.single_line(consent.by, "name of who consented"), on)


def _record_consent(session: Session, referral: Referral, patient_name: str, consent: Consent) -> None:
    checked = _check_consent(consent)
    referral.consent_method, referral.consent_on = checked.method, checked.on
    referral.consent_by = checked.by or patient_name
    referral.consent_recorded_by = _who(session)
    assert checked.on is not None
    _event(session, referral, "consent", checked.on,
           note=f"{checked.method} consent to share, given by {referral.consent_by}")  # fmt: skip


@dataclass(frozen=True)
class NewReferral:
    """What ``referral add`` was given."""

    resource: Resource | None = None
    to: str | None = None
    kind: str | None = None
    need: str | None = None
    reason: str | None = None
    priority: str = TaskPriority.routine.value
    follow_up_days: int = DEFAULT_FOLLOW_UP_DAYS
    consent: Consent | None = None
    notes: str | None = None
    screening_id: int | None = None  # the screening that found the need


_KIND_OF_CATEGORY = {"home-health": "home-health", "behavioral-health": "behavioral-health",
                     "specialist": "specialist"}  # fmt: skip


def add_referral(session: Session, patient: Patient, new: NewReferral) -> Referral:
    """A draft referral of ``patient`` to a resource (or a recipient named in words), its history's
    first step, and its first follow-up task."""
    if (new.resource is None) == (new.to is None):
        raise ValidationError("give the recipient: --resource R (from the directory) or --to NAME, one of them")
    if new.resource is not None and new.resource.status != "active":
        raise ConflictError(f"resource {new.resource.name} (#{new.resource.id}) is retired; "
                            "choose another, or 'carecoord resource restore' it")  # fmt: skip
    recipient = new.resource.name if new.resource is not None else text.required_line(new.to, "recipient")
    need = need_code(new.need)
    if new.screening_id is not None:
        need = _need_found_by(session, patient, new.screening_id, need, new.resource)
    if need is None and new.resource is not None and new.resource.category in SDOH_DOMAINS:
        need = new.resource.category
    kind = _choice(new.kind, ReferralKind, "referral kind")
    if kind is None:
        category = new.resource.category if new.resource is not None else None
        kind = _KIND_OF_CATEGORY.get(category or "", "community" if new.resource is not None else "other")
    priority = _choice(new.priority, TaskPriority, "priority") or TaskPriority.routine.value
    assert patient.id is not None
    referral = Referral(
        patient_id=patient.id, resource_id=new.resource.id if new.resource is not None else None,
        recipient=recipient, kind=kind, need=need, reason=text.free_text(new.reason, "reason"), priority=priority,
        status=S.draft.value, follow_up_days=new.follow_up_days, notes=text.free_text(new.notes, "notes"),
        screening_id=new.screening_id,
    )  # fmt: skip
    session.add(referral)
    session.flush()
    _event(session, referral, "created", today(), to_status=S.draft.value, note=f"to {recipient}")
    if new.consent is not None:
        _record_consent(session, referral, patient.name, new.consent)
    _move_follow_up(session, referral, S.draft.value, today())
    session.flush()
    return referral


def _need_found_by(
    session: Session, patient: Patient, screening_id: int, need: str | None, resource: Resource | None
) -> str | None:
    """The need a referral answers, checked against the screening that found it (--screening): the
    need given must be one the screening found; with none given, the resource's category when the
    screening found it, else the screening's only social need."""
    from carecoord.models import Screening
    from carecoord.services.screenings import positive_social_needs

    screening = session.get(Screening, screening_id)
    if screening is None:
        raise NotFoundError(f"no screening #{screening_id} (see 'carecoord screen list --patient ...')")
    if screening.patient_id != patient.id:
        raise ValidationError(f"screening #{screening_id} is another patient's, not {patient.name}'s")
    found = positive_social_needs(session, screening_id)
    if need is not None and need not in found:
        what = ", ".join(found) if found else "no social need"
        raise ValidationError(f"screening #{screening_id} did not find {need} (it found {what})")
    if need is None and resource is not None and resource.category in found:
        return resource.category
    return need if need is not None or len(found) != 1 else found[0]


def record_consent(session: Session, referral: Referral, consent: Consent) -> Referral:
    """Record (or record anew) the patient's consent to share with the recipient."""
    if referral.status in FINISHED:
        raise ConflictError(f"referral #{referral.id} is {referral.status}; consent no longer changes anything")
    patient = session.get(Patient, referral.patient_id)
    _record_consent(session, referral, patient.name if patient else "the patient", consent)
    session.flush()
    return referral


@dataclass(frozen=True)
class Move:
    """A status change, as ``referral status`` gives it."""

    status: str
    note: str | None = None
    outcome: str | None = None
    on: date | None = None


def consent_hint(referral: Referral) -> str:
    return (f"referral #{referral.id} cannot be sent without the patient's consent to share their information "
            f"with {referral.recipient}; record it with 'carecoord referral consent {referral.id} verbal' "
            "(or written), then send it")  # fmt: skip


def change_status(session: Session, referral: Referral, move: Move) -> Referral:
    """Move a referral on, if the move makes sense; record it in the history and move the follow-up on."""
    status = _choice(move.status, ReferralStatus, "referral status")
    assert status is not None
    if status == referral.status:
        raise ConflictError(f"referral #{referral.id} is already {status}")
    if status not in TRANSITIONS[referral.status]:
        allowed = ", ".join(sorted(TRANSITIONS[referral.status])) or "nothing: it is finished"
        raise ConflictError(f"referral #{referral.id} is {referral.status} and cannot become {status} "
                            f"(from {referral.status}: {allowed})")  # fmt: skip
    if status in NEEDS_CONSENT and referral.consent_method is None:
        raise ConflictError(consent_hint(referral))
    outcome = _choice(move.outcome, ReferralOutcome, "outcome")
    if outcome is not None and status not in OUTCOME_ALLOWED:
        raise ValidationError(f"an outcome is recorded when a referral completes, closes, fails, is rejected or "
                              f"cancelled, not when it becomes {status}")  # fmt: skip
    if status in OUTCOME_REQUIRED and outcome is None and referral.outcome is None:
        outcomes = ", ".join(o.value for o in ReferralOutcome)
        raise ValidationError(f"closing referral #{referral.id} needs what came of it: --outcome {outcomes}")
    note = text.single_line(move.note, "note")
    if status in REASON_REQUIRED and not note:
        raise ValidationError(f"cancelling referral #{referral.id} needs a reason: --note 'why'")
    on = move.on or today()
    if on > today():
        raise ValidationError(f"the move cannot be dated in the future ({on})")
    if referral.sent_on is not None and status != S.sent and on < referral.sent_on:
        raise ValidationError(f"referral #{referral.id} was sent on {referral.sent_on}; --date {on} is before that")
    previous = referral.status
    referral.status = status
    if outcome is not None:
        referral.outcome = outcome
    if status in REASON_REQUIRED or note:
        referral.status_reason = note
    if status == S.sent:
        referral.sent_on = on
        if previous in (S.rejected, S.failed):
            referral.outcome = None  # tried again: what came of the first try is in the history
    if status in FINISHED:
        referral.closed_on = on
    _event(session, referral, "status", on, from_status=previous, to_status=status, outcome=outcome, note=note)
    _move_follow_up(session, referral, status, on)
    session.flush()
    return referral


EDITABLE = ("need", "reason", "priority", "kind", "notes", "to", "follow_up_days")


def update_referral(
    session: Session, referral: Referral, fields: Mapping[str, Any], *, resource: Resource | None = None
) -> Referral:
    """Correct a referral: its need, reason, priority, kind, notes, recipient (a resource or a name).
    Every change goes into its history."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"unknown referral field(s): {', '.join(sorted(unknown))}")
    if referral.status in FINISHED and (set(fields) - {"notes"} or resource is not None):
        raise ConflictError(f"referral #{referral.id} is {referral.status}: only its notes may change")
    changed: list[str] = []

    def put(key: str, value: Any) -> None:
        if getattr(referral, key) != value:
            changed.append(f"{key.replace('_', ' ')}: {getattr(referral, key) or '(none)'} -> {value or '(none)'}")
            setattr(referral, key, value)

    if resource is not None and "to" in fields:
        raise ValidationError("give --resource or --to, not both")
    if resource is not None:
        if resource.status != "active":
            raise ConflictError(f"resource {resource.name} (#{resource.id}) is retired")
        put("resource_id", resource.id)
        put("recipient", resource.name)
    if "to" in fields:
        put("resource_id", None)
        put("recipient", text.required_line(fields["to"], "recipient"))
    if "need" in fields:
        put("need", need_code(fields["need"]) if fields["need"] else None)
    if "reason" in fields:
        put("reason", text.free_text(fields["reason"], "reason"))
    if "priority" in fields:
        put("priority", _choice(fields["priority"], TaskPriority, "priority") or TaskPriority.routine.value)
    if "kind" in fields:
        put("kind", _choice(fields["kind"], ReferralKind, "referral kind") or ReferralKind.other.value)
    if "notes" in fields:
        put("notes", text.free_text(fields["notes"], "notes"))
    if "follow_up_days" in fields:
        put("follow_up_days", fields["follow_up_days"])
    if not changed:
        raise ConflictError(f"nothing changed: referral #{referral.id} already has those values")
    _event(session, referral, "edited", today(), note="; ".join(changed))
    task = _open_follow_up(session, referral)
    if task is not None and ("recipient" in "".join(changed) or "priority" in "".join(changed)):
        task.title, task.priority = _follow_up_title(referral, referral.status), referral.priority
    session.flush()
    return referral


# --- the follow-up task -----------------------------------------------------------------------


def _follow_up_title(referral: Referral, status: str) -> str:
    return f"Referral #{referral.id}: " + FOLLOW_UPS[status].title.format(to=referral.recipient)


def _open_follow_up(session: Session, referral: Referral) -> Task | None:
    if referral.followup_task_id is None:
        return None
    task = session.get(Task, referral.followup_task_id)
    return task if task is not None and task.status in TASK_OPEN else None


def _due(rule: FollowUp, referral: Referral, on: date) -> date:
    if rule.days is not None:
        return on + timedelta(days=rule.days)
    return add_business_days(on, rule.business_days or referral.follow_up_days)


def _move_follow_up(session: Session, referral: Referral, status: str, on: date) -> None:
    """Finish the open follow-up (done, or cancelled with the referral) and create the next one."""
    current = _open_follow_up(session, referral)
    rule = FOLLOW_UPS.get(status)
    if current is not None and rule is not None and current.title == _follow_up_title(referral, status):
        # The same step still owed (a draft sent: check that it was received): counted from this move.
        current.due_on = _due(rule, referral, on)
        return
    if current is not None:
        if status == S.cancelled:
            change_task_status(session, current, TaskStatus.cancelled.value, f"referral #{referral.id} cancelled")
        else:
            complete(session, current, f"referral #{referral.id} is now {status}")
    if rule is None:
        referral.followup_task_id = None
        return
    task = add_task(session, _follow_up_title(referral, status), Placement(referral.patient_id, None, None),
                    due_on=_due(rule, referral, on), priority=referral.priority, tags=(REFERRAL_TAG,))  # fmt: skip
    referral.followup_task_id = task.id


# --- finding ----------------------------------------------------------------------------------


def describe(referral: Referral) -> str:
    """``#3 to Weekly Food Pantry (sent)``."""
    return f"#{referral.id} to {referral.recipient} ({referral.status})"


def resolve(session: Session, ref: str) -> Referral:
    """A referral by its id (``12`` or ``#12``)."""
    cleaned = require_ref(ref, "referral")
    referral_id = as_id(cleaned)
    if referral_id is None:
        raise ValidationError(f"give the referral's id (see 'carecoord referral list'), not '{cleaned}'")
    found = session.get(Referral, referral_id)
    if found is None:
        raise NotFoundError(f"no referral #{referral_id} (see 'carecoord referral list')")
    return pick_one(cleaned, "referral", [found], describe)


@dataclass(frozen=True)
class ReferralFilter:
    """What ``referral list`` narrows by."""

    patient_id: int | None = None
    statuses: frozenset[str] | None = None
    open_only: bool = False
    stalled: bool = False
    resource_id: int | None = None
    need: str | None = None
    coordinator: str | None = None
    active_patients_only: bool = False
    limit: int | None = None


def stalled_before() -> datetime:
    """The moment before which an open referral's last change makes it stalled: the start of the day
    (in the user's zone) stalled_days() - 1 days ago, so that a referral last changed 14 calendar
    days ago or more is stalled, at whatever hour."""
    return day_start(today() - timedelta(days=stalled_days() - 1))


def _filtered(query: Any, wanted: ReferralFilter) -> Any:
    for column, value in ((Referral.patient_id, wanted.patient_id), (Referral.resource_id, wanted.resource_id),
                          (Referral.need, wanted.need), (Patient.coordinator, wanted.coordinator)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if wanted.statuses is not None:
        query = query.where(col(Referral.status).in_(wanted.statuses))
    if wanted.open_only or wanted.stalled:
        query = query.where(col(Referral.status).in_(OPEN))
    if wanted.stalled:
        query = query.where(col(Referral.changed_at) < stalled_before())
    if wanted.active_patients_only:
        query = query.where(Patient.status != PatientStatus.discharged.value)
    return query


def list_referrals(session: Session, wanted: ReferralFilter) -> list[tuple[Referral, Patient]]:
    """Referrals with their patients: stalled ones longest-stalled first, others newest first."""
    query = _filtered(select(Referral, Patient).join(Patient, col(Patient.id) == Referral.patient_id), wanted)
    if wanted.stalled:
        query = query.order_by(col(Referral.changed_at), col(Referral.id))
    else:
        query = query.order_by(col(Referral.id).desc())
    if wanted.limit:
        query = query.limit(wanted.limit)
    return [(referral, patient) for referral, patient in session.exec(query).all()]


def count_referrals(session: Session, wanted: ReferralFilter) -> int:
    query = select(func.count()).select_from(Referral).join(Patient, col(Patient.id) == Referral.patient_id)
    return int(session.exec(_filtered(query, wanted)).one())


def history(session: Session, referral: Referral) -> Sequence[ReferralEvent]:
    """Every step of the referral's history, oldest first."""
    return session.exec(
        select(ReferralEvent).where(ReferralEvent.referral_id == referral.id).order_by(col(ReferralEvent.id))
    ).all()


# --- the report -------------------------------------------------------------------------------


@dataclass
class Tally:
    """Referrals of one group (all of them, a need, a resource) in the period."""

    name: str
    made: int = 0
    sent: int = 0
    closed: int = 0  # of those sent in the period, how many are closed now (the loop closed)
    got_help: int = 0

    @property
    def closure_rate(self) -> float | None:
        """Of the referrals sent in the period, the percentage whose loop is closed."""
        return round(100 * self.closed / self.sent, 1) if self.sent else None


@dataclass
class ReferralReport:
    """``report referrals``: made, sent and closed in a period, the loop-closure rate, how long
    closing took, what came of them, by need and by resource; and the referrals stalled now."""

    start: date
    end: date
    made: int
    sent: int
    closed_in_period: int
    loop_closed: int  # of those sent in the period, closed now
    median_days_to_close: float | None
    outcomes: dict[str, int]
    by_need: list[Tally]
    by_resource: list[Tally]
    stalled: list[tuple[Referral, Patient]] = field(default_factory=list)
    stalled_count: int = 0
    stalled_days: int = STALLED_DAYS

    @property
    def closure_rate(self) -> float | None:
        return round(100 * self.loop_closed / self.sent, 1) if self.sent else None


STALLED_LISTED = 100


def report(session: Session, start: date, end: date) -> ReferralReport:
    """The referral report for [start, end] (dates, inclusive): a handful of aggregate queries."""
    if end < start:
        raise ValidationError("the period ends before it starts")
    zone = local_zone()
    low, high = day_start(start, zone), day_start(end + timedelta(days=1), zone)
    made_in = (col(Referral.created_at) >= low) & (col(Referral.created_at) < high)
    sent_in = (col(Referral.sent_on) >= start) & (col(Referral.sent_on) <= end)
    closed_now = col(Referral.status) == S.closed.value
    got_help = closed_now & (col(Referral.outcome) == ReferralOutcome.got_help.value)
    made_n, sent_n = func.count().filter(made_in), func.count().filter(sent_in)
    closed_n, helped_n = func.count().filter(sent_in & closed_now), func.count().filter(sent_in & got_help)

    # One pass over the period's referrals, grouped by need and resource; the totals, the needs and
    # the resources are summed from it.
    label = func.coalesce(Resource.name, Referral.recipient)
    query: Any = (
        sql_select(col(Referral.need), label, made_n, sent_n, closed_n, helped_n)
        .select_from(Referral)
        .outerjoin(Resource, col(Resource.id) == Referral.resource_id)
        .where(made_in | sent_in)
        .group_by(col(Referral.need), label)
    )
    overall = Tally("all")
    needs: dict[str, Tally] = {}
    names: dict[str, Tally] = {}
    for need, name, *values in session.exec(query).all():
        counts = [int(v) for v in values]
        for tally in (overall, needs.setdefault(need or "(none)", Tally(need or "(none)")),
                      names.setdefault(str(name), Tally(str(name)))):  # fmt: skip
            tally.made, tally.sent, tally.closed, tally.got_help = (
                a + b for a, b in zip((tally.made, tally.sent, tally.closed, tally.got_help), counts, strict=True)
            )

    def ranked(tallies: dict[str, Tally]) -> list[Tally]:
        return sorted(tallies.values(), key=lambda t: (-t.made, -t.sent, t.name))

    made, sent, loop_closed = overall.made, overall.sent, overall.closed
    closed_rows = session.exec(
        select(col(Referral.sent_on), col(Referral.closed_on), col(Referral.outcome)).where(
            closed_now, col(Referral.closed_on) >= start, col(Referral.closed_on) <= end
        )
    ).all()
    spans = [(closed - sent_on).days for sent_on, closed, _ in closed_rows if sent_on is not None and closed]
    outcomes = dict.fromkeys((o.value for o in ReferralOutcome), 0)
    for _, _, outcome in closed_rows:
        if outcome in outcomes:
            outcomes[outcome] += 1
    stalled_filter = ReferralFilter(stalled=True, active_patients_only=True)
    stalled = list_referrals(session, replace(stalled_filter, limit=STALLED_LISTED))
    # counted only when the list is cut short: usually a handful, read from the index in one walk
    stalled_count = len(stalled) if len(stalled) < STALLED_LISTED else count_referrals(session, stalled_filter)
    return ReferralReport(
        start=start, end=end, made=made, sent=sent, closed_in_period=len(closed_rows), loop_closed=loop_closed,
        median_days_to_close=statistics.median(spans) if spans else None, outcomes=outcomes,
        by_need=ranked(needs), by_resource=ranked(names),
        stalled=stalled, stalled_count=stalled_count, stalled_days=stalled_days(),
    )  # fmt: skip
