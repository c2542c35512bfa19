"""What a printed patient summary shows (``patient summary``, issue 16), gathered in a few queries.

Two audiences. The patient and family get a plain-language care plan: the goals of their active
plans, what to do (their open tasks, not the coordinator's own follow-ups), the appointments to
come, and who to call (the care team members the patient agreed to share with). A provider taking
the patient over gets a handoff: the open plans with their needs and goals, the open tasks, the
appointments to come, the last 30 days' contacts and this month's minutes, the latest score of each
screening instrument, open referrals, current coverage, live authorizations, program enrolments with
their consent, and the whole care team.

Each part is one or two indexed queries on the patient's id, whatever the size of the store; the
parts a patient's copy does not show are not read for it. Returns models and plain values
(:class:`SummaryData`); ``carecoord.summary_records`` turns them into the record a template reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from carecoord.dates import day_start, local_zone, now, today
from carecoord.models import (
    CarePlan,
    Communication,
    Contact,
    Coverage,
    Goal,
    Patient,
    ProgramEnrolment,
    Referral,
    Screening,
    Task,
    Transition,
)
from carecoord.services import appointments, authorizations, coverage, programs, referrals, screenings
from carecoord.services.appointments import Occurrence
from carecoord.services.authorizations import AuthorizationRow
from carecoord.services.instruments import Instrument
from carecoord.vocab import GOAL_CLOSED, PLAN_CLOSED, TASK_OPEN, SummaryAudience, TaskStatus

# How far ahead each copy lists appointments: two months for the family (a weekly visit is eight
# lines), one for a provider who will book their own.
PATIENT_APPOINTMENT_DAYS = 60
PROVIDER_APPOINTMENT_DAYS = 30
RECENT_CONTACT_DAYS = 30
# Statuses of a sitting nobody will attend, that a summary leaves out (a cancelled one is shown as such).
HIDDEN_SITTINGS = frozenset({"entered-in-error", "noshow"})
ACTIVE_PLAN = "active"
PENDING_AUTHORIZATION = "requested"
APPROVED_AUTHORIZATION = "approved"


@dataclass(frozen=True)
class SummaryData:
    """Everything one summary shows. Lists a copy does not show stay empty."""

    audience: str
    patient: Patient
    prepared_at: datetime
    plans: Sequence[CarePlan]
    goals: Sequence[Goal]
    tasks: Sequence[Task]
    appointments: Sequence[Occurrence]
    contacts: Sequence[Contact]
    communications: Sequence[Communication] = ()
    month: date | None = None
    minutes: dict[str | None, int] = field(default_factory=dict)  # this month's, by program (None: no program)
    screenings: Sequence[tuple[Screening, bool]] = ()  # the latest of each instrument; whether its flag is open
    instruments: dict[str, Instrument] = field(default_factory=dict)
    referrals: Sequence[Referral] = ()
    coverage: Sequence[Coverage] = ()
    authorizations: Sequence[AuthorizationRow] = ()
    programs: Sequence[ProgramEnrolment] = ()  # the programs the patient is enrolled in now, with their consent

    @property
    def patient_ids(self) -> list[int]:
        """Whose information the summary carries (for the account of disclosures)."""
        return [self.patient.id or 0]


def gather(session: Session, patient: Patient, audience: str) -> SummaryData:
    """The summary of ``patient`` for ``audience`` (a :class:`SummaryAudience` code)."""
    for_patient = audience == SummaryAudience.patient.value
    assert patient.id is not None
    plans = _plans(session, patient.id, active_only=for_patient)
    goals = _goals(session, [plan.id for plan in plans if plan.id is not None], open_only=for_patient)
    days = PATIENT_APPOINTMENT_DAYS if for_patient else PROVIDER_APPOINTMENT_DAYS
    data = SummaryData(
        audience=audience,
        patient=patient,
        prepared_at=now(),
        plans=plans,
        goals=goals,
        tasks=_tasks(session, patient.id, plans if for_patient else None),
        appointments=_appointments(session, patient.id, days),
        contacts=_contacts(session, patient.id, consented_only=for_patient),
    )
    if for_patient:
        return data
    month = today().replace(day=1)
    open_referrals = referrals.ReferralFilter(patient.id, open_only=True)
    return replace(
        data,
        communications=_recent_communications(session, patient.id),
        month=month,
        minutes=_minutes(session, patient.id, month),
        screenings=_latest_screenings(session, patient.id),
        instruments={known.key: known for known in screenings.all_instruments(session)},
        referrals=[referral for referral, _ in referrals.list_referrals(session, open_referrals)],
        coverage=[c for c in coverage.of_patient(session, patient.id) if coverage.is_current(c)],
        authorizations=_live_authorizations(session, patient.id),
        programs=[enrolment for enrolment, _ in programs.list_enrolments(session, patient_id=patient.id, ended=False)],
    )


def _plans(session: Session, patient_id: int, *, active_only: bool) -> Sequence[CarePlan]:
    """The patient's open plans (draft, active, on hold), or for the family only the active ones
    (a draft is not agreed yet)."""
    query = select(CarePlan).where(CarePlan.patient_id == patient_id).order_by(col(CarePlan.id))
    if active_only:
        query = query.where(CarePlan.status == ACTIVE_PLAN)
    else:
        query = query.where(col(CarePlan.status).not_in(PLAN_CLOSED))
    return session.exec(query).all()


def _goals(session: Session, plan_ids: list[int], *, open_only: bool) -> Sequence[Goal]:
    """The goals of those plans; for the family only those still being worked on."""
    if not plan_ids:
        return []
    query = select(Goal).where(col(Goal.plan_id).in_(plan_ids)).order_by(col(Goal.plan_id), col(Goal.id))
    if open_only:
        query = query.where(col(Goal.lifecycle_status).not_in(GOAL_CLOSED))
    return session.exec(query).all()


def coordinator_followups(patient_id: int) -> list[Any]:
    """Tasks carecoord made for the coordinator's own follow-up of this patient, not for the patient
    to do: a screening's safety follow-up, a referral's follow-up, a discharge's contact and visit
    deadlines. Conditions on Task.id, each over the patient's own rows (found by their patient_id
    index); NULLs are left out of each list, or NOT IN would match nothing."""
    owned = (
        (Screening.patient_id, Screening.safety_task_id),
        (Referral.patient_id, Referral.followup_task_id),
        (Transition.patient_id, Transition.contact_task_id),
        (Transition.patient_id, Transition.visit_task_id),
    )
    return [
        col(Task.id).not_in(select(task_id).where(owner == patient_id, col(task_id).is_not(None)))
        for owner, task_id in owned
    ]


def _tasks(session: Session, patient_id: int, active_plans: Sequence[CarePlan] | None) -> Sequence[Task]:
    """Open tasks, undated last. For the family (``active_plans`` given): those in progress or to do
    (not on hold), outside a plan or under an active one, and none of the coordinator's follow-ups."""
    query = (
        select(Task)
        .where(Task.patient_id == patient_id, col(Task.status).in_(TASK_OPEN))
        .order_by(col(Task.due_on).is_(None), col(Task.due_on), col(Task.due_time), col(Task.id))
    )
    if active_plans is not None:
        plan_ids = [plan.id for plan in active_plans]
        query = query.where(
            Task.status != TaskStatus.on_hold.value,
            or_(col(Task.plan_id).is_(None), col(Task.plan_id).in_(plan_ids)),
            *coordinator_followups(patient_id),
        )
    return session.exec(query).all()


def _appointments(session: Session, patient_id: int, days: int) -> list[Occurrence]:
    """The sittings from now to ``days`` ahead (series expanded, moves and cancellations applied)."""
    start = now()
    wanted = appointments.AppointmentFilter(start=start, end=start + timedelta(days=days), patient_id=patient_id)
    return [
        sitting
        for sitting, _ in appointments.occurrences(session, wanted)
        if sitting.status not in HIDDEN_SITTINGS and sitting.start >= start
    ]


def _contacts(session: Session, patient_id: int, *, consented_only: bool) -> Sequence[Contact]:
    """The care team and family; for the family's copy only those the patient agreed to share with."""
    query = select(Contact).where(Contact.patient_id == patient_id).order_by(col(Contact.id))
    if consented_only:
        query = query.where(col(Contact.consent_to_share).is_(True))
    return session.exec(query).all()


def _recent_communications(session: Session, patient_id: int) -> Sequence[Communication]:
    """The log of the last RECENT_CONTACT_DAYS days, newest first."""
    since = day_start(today() - timedelta(days=RECENT_CONTACT_DAYS))
    query = (
        select(Communication)
        .where(Communication.patient_id == patient_id, col(Communication.at) >= since)
        .order_by(col(Communication.at).desc(), col(Communication.id).desc())
    )
    return session.exec(query).all()


def _minutes(session: Session, patient_id: int, month: date) -> dict[str | None, int]:
    """This calendar month's minutes (in the user's zone), by program."""
    zone = local_zone()
    following = (month + timedelta(days=32)).replace(day=1)
    query = (
        select(Communication.program, func.sum(Communication.minutes))
        .where(
            Communication.patient_id == patient_id,
            col(Communication.at) >= day_start(month, zone),
            col(Communication.at) < day_start(following, zone),
        )
        .group_by(col(Communication.program))
    )
    return {program: int(total or 0) for program, total in session.exec(query).all()}


def _latest_screenings(session: Session, patient_id: int) -> list[tuple[Screening, bool]]:
    """The latest screening of each instrument, newest first, with whether its safety flag is open."""
    latest: dict[str, tuple[Screening, bool]] = {}
    for screening, _, flag_open in screenings.list_screenings(session, screenings.ScreeningFilter(patient_id)):
        latest.setdefault(screening.instrument, (screening, flag_open))
    return list(latest.values())


def _live_authorizations(session: Session, patient_id: int) -> list[AuthorizationRow]:
    """Authorizations a provider needs to know of: approved and not ended, and requests awaiting a decision."""
    day = today()
    rows = authorizations.list_authorizations(session, authorizations.AuthorizationFilter(patient_id=patient_id))
    return [
        row
        for row in rows
        if row.authorization.status == PENDING_AUTHORIZATION
        or (row.authorization.status == APPROVED_AUTHORIZATION
            and (row.authorization.end_on is None or row.authorization.end_on >= day))
    ]  # fmt: skip
