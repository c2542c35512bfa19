"""Screenings: giving an instrument to a patient, what the answers mean, safety flags, history,
rescreening cadences and who is due, and the screening report.

The meaning of answers (totals, bands, positive domains, safety) comes from the instrument's data
file, through services/instruments.py; this module records it, acts on it (a stat task for a safety
flag, needs on a care plan) and reads it back.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from carecoord.dates import today
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.models import (
    CarePlan,
    Patient,
    Referral,
    Screening,
    ScreeningAnswer,
    ScreeningCadence,
    ScreeningInstrument,
    Task,
)
from carecoord.services import instruments, plans, tasks, text
from carecoord.services.instruments import Answer, Instrument, Result
from carecoord.services.lookup import as_id, require_ref
from carecoord.vocab import SDOH_DOMAIN_LABELS, SDOH_DOMAINS, TASK_OPEN, AnsweredBy, PatientStatus, TaskPriority

SAFETY_TASK_TITLE = "Safety follow-up"
# The US national Suicide & Crisis Lifeline (call or text 988), since July 2022: https://988lifeline.org
CRISIS_LINE = "988 Suicide & Crisis Lifeline: call or text 988 (chat at 988lifeline.org); in danger now, call 911"
DOMAIN_SEPARATOR = ","


# --- instruments: the shipped ones and the team's own -------------------------------------------


def all_instruments(session: Session) -> list[Instrument]:
    """Every instrument this store can give: the shipped ones, then those users loaded."""
    found = list(instruments.builtins().values())
    for row in session.exec(select(ScreeningInstrument).order_by(col(ScreeningInstrument.key))).all():
        found.append(_loaded(row))
    return found


def _loaded(row: ScreeningInstrument) -> Instrument:
    return instruments.parse(json.loads(row.definition), origin=f"instrument '{row.key}'", builtin=False)


def instrument(session: Session, key: str) -> Instrument:
    """The instrument with this key (shipped or loaded); an unknown key names the known ones."""
    wanted = key.strip().casefold()
    shipped = instruments.builtins()
    if wanted in shipped:
        return shipped[wanted]
    row = session.exec(select(ScreeningInstrument).where(ScreeningInstrument.key == wanted)).first()
    if row is not None:
        return _loaded(row)
    known = ", ".join(i.key for i in all_instruments(session))
    raise NotFoundError(f"no screening instrument '{key}' (known: {known}; see 'carecoord screen instruments')")


def add_instrument(session: Session, definition: str, origin: str) -> ScreeningInstrument:
    """Load a user's instrument (checked whole first); a shipped key or one already loaded is refused."""
    checked = instruments.read_file_text(definition, origin)
    if checked.key in instruments.builtins():
        raise ConflictError(f"{origin}: id '{checked.key}' is a shipped instrument; give yours another id")
    if session.exec(select(ScreeningInstrument).where(ScreeningInstrument.key == checked.key)).first():
        raise ConflictError(f"an instrument '{checked.key}' is already loaded; remove it first to replace it")
    row = ScreeningInstrument(key=checked.key, version=checked.version, title=checked.title,
                              definition=json.dumps(checked.document, ensure_ascii=False))  # fmt: skip
    session.add(row)
    session.flush()
    return row


def remove_instrument(session: Session, key: str) -> ScreeningInstrument:
    """Remove a loaded instrument that no screening uses (shipped ones stay)."""
    wanted = key.strip().casefold()
    if wanted in instruments.builtins():
        raise ConflictError(f"'{wanted}' is shipped with carecoord and cannot be removed")
    row = session.exec(select(ScreeningInstrument).where(ScreeningInstrument.key == wanted)).first()
    if row is None:
        raise NotFoundError(f"no loaded instrument '{key}'")
    used = session.scalar(select(func.count()).select_from(Screening).where(Screening.instrument == wanted)) or 0
    if used:
        raise ConflictError(f"'{wanted}' was given in {used} screening(s); it stays so they can be read")
    session.delete(row)
    session.flush()
    return row


# --- giving one ------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """A stored screening and what followed from it."""

    screening: Screening
    result: Result
    answers: list[Answer]
    safety_task: Task | None = None
    needs_added: list[str] = field(default_factory=list)


def record(
    session: Session,
    patient: Patient,
    given: Instrument,
    answers: Sequence[Answer],
    *,
    taken_on: date | None = None,
    answered_by: str = AnsweredBy.coordinator.value,
    note: str | None = None,
    plan: CarePlan | None = None,
) -> Recorded:
    """Store a screening with its answers and scores; a safety flag gets a stat task due today; with
    ``plan``, each positive social-need domain is added to the plan's needs."""
    taken = taken_on or today()
    if taken > today():
        raise ValidationError(f"a screening cannot be dated in the future ({taken})")
    if answered_by not in {a.value for a in AnsweredBy}:
        raise ValidationError(f"answered by is self, coordinator or proxy, not '{answered_by}'")
    if plan is not None:
        if plan.patient_id != patient.id:
            raise ValidationError(f"plan #{plan.id} belongs to patient #{plan.patient_id}, not #{patient.id}")
        plans.ensure_open(plan, "needs")
    result = instruments.score(given, answers)
    assert patient.id is not None
    screening = Screening(
        patient_id=patient.id,
        instrument=given.key,
        instrument_version=given.version,
        loinc=given.loinc,
        taken_on=taken,
        answered_by=answered_by,
        note=text.free_text(note, "note"),
        score=result.score,
        band=instruments.band_code(result),
        positive=result.positive,
        positive_domains=DOMAIN_SEPARATOR.join(result.domain_codes),
        safety_flag=result.safety,
        plan_id=plan.id if plan else None,
    )
    session.add(screening)
    session.flush()
    assert screening.id is not None
    for position, answer in enumerate(answers, 1):
        session.add(ScreeningAnswer(
            screening_id=screening.id, position=position, item_id=answer.item.id, loinc=answer.item.loinc,
            answer=answer.code, answer_loinc=instruments.MULTI_SEPARATOR.join(o.loinc for o in answer.options
                                                                              if o.loinc) or None,
            score=answer.score,
        ))  # fmt: skip
    done = Recorded(screening, result, list(answers))
    if result.safety:
        done.safety_task = _safety_task(session, patient, given, screening)
        screening.safety_task_id = done.safety_task.id
    if plan is not None:
        done.needs_added = _add_needs(session, plan, given, result)
    session.flush()
    return done


def _safety_task(session: Session, patient: Patient, given: Instrument, screening: Screening) -> Task:
    """The stat task "Safety follow-up" due today: the patient's open one if there is one (a second
    flag the same week is one follow-up, not two), else a new one."""
    line = f"{given.name} on {screening.taken_on} (screening #{screening.id}) raised a safety flag."
    task = session.exec(
        select(Task).where(Task.patient_id == patient.id, Task.title == SAFETY_TASK_TITLE,
                           col(Task.status).in_(TASK_OPEN)).order_by(col(Task.id))
    ).first()  # fmt: skip
    if task is not None:
        task.notes = f"{task.notes or ''}\n{line}".strip()
        task.priority, task.due_on = TaskPriority.stat.value, min(task.due_on or today(), today())
        return task
    return tasks.add_task(
        session, SAFETY_TASK_TITLE, tasks.Placement(patient.id, None, None), due_on=today(),
        priority=TaskPriority.stat.value, notes=f"{line} Reach the patient today and assess safety. {CRISIS_LINE}.",
    )  # fmt: skip


def _add_needs(session: Session, plan: CarePlan, given: Instrument, result: Result) -> list[str]:
    """The plan's new needs: one per positive social-need domain it does not already list."""
    have = [need.casefold() for need in plans.split_needs(plan.needs)]
    new = []
    for domain in result.domains:
        if not domain.social_need:
            continue
        label = SDOH_DOMAIN_LABELS.get(domain.code, domain.code)
        if any(label.casefold() in need for need in have):
            continue
        new.append(f"{label} (positive {given.name} screen)")
    if new:
        plans.update_plan(session, plan, {}, add_needs=new)
    return new


def positive_social_needs(session: Session, screening_id: int) -> tuple[str, ...]:
    """The positive social-need domains of a screening, as Gravity SDOH category codes
    (``vocab.SDOH_DOMAINS``), in the instrument's order: what a referral is matched on."""
    screening = session.get(Screening, screening_id)
    if screening is None:
        raise NotFoundError(f"no screening #{screening_id}")
    return tuple(code for code in split_domains(screening.positive_domains) if code in SDOH_DOMAINS)


def split_domains(stored: str) -> list[str]:
    return [code for code in stored.split(DOMAIN_SEPARATOR) if code]


# --- reading them back -----------------------------------------------------------------------------


def resolve(session: Session, ref: str) -> Screening:
    """A screening from its id (``12`` or ``#12``)."""
    cleaned = require_ref(ref, "screening")
    screening_id = as_id(cleaned)
    found = session.get(Screening, screening_id) if screening_id is not None else None
    if found is None:
        raise NotFoundError(f"no screening matches '{ref}' (give its id: see 'carecoord screen list')")
    return found


def answers_of(session: Session, screening: Screening) -> list[ScreeningAnswer]:
    return list(session.exec(select(ScreeningAnswer).where(ScreeningAnswer.screening_id == screening.id)
                             .order_by(col(ScreeningAnswer.position))).all())  # fmt: skip


def delete(session: Session, screening: Screening) -> Task | None:
    """Remove a screening entered in error (audited), with its answers; its safety task, if still
    open and untouched, is cancelled with the reason, and the referrals it led to keep going without
    the link. Returns that task."""
    task = session.get(Task, screening.safety_task_id) if screening.safety_task_id else None
    if task is not None and task.status in TASK_OPEN:
        tasks.change_status(session, task, "cancelled", f"screening #{screening.id} was entered in error")
    else:
        task = None
    for referral in session.exec(select(Referral).where(Referral.screening_id == screening.id)).all():
        referral.screening_id = None  # here rather than by ON DELETE SET NULL, so the audit trail has it
    session.delete(screening)  # its answers go with it (ON DELETE CASCADE)
    session.flush()
    return task


@dataclass(frozen=True)
class ScreeningFilter:
    patient_id: int | None = None
    instrument: str | None = None
    positive: bool = False
    since: date | None = None
    limit: int | None = None


def list_screenings(session: Session, wanted: ScreeningFilter) -> list[tuple[Screening, Patient, bool]]:
    """Screenings, newest first, with their patient and whether the safety flag is still open."""
    query = (
        select(Screening, Patient, Task.status)
        .join(Patient, col(Patient.id) == Screening.patient_id)
        .outerjoin(Task, col(Task.id) == Screening.safety_task_id)
    )
    if wanted.patient_id is not None:
        query = query.where(Screening.patient_id == wanted.patient_id)
    if wanted.instrument is not None:
        query = query.where(Screening.instrument == wanted.instrument)
    if wanted.positive:
        query = query.where(col(Screening.positive).is_(True))
    if wanted.since is not None:
        query = query.where(col(Screening.taken_on) >= wanted.since)
    query = query.order_by(col(Screening.taken_on).desc(), col(Screening.id).desc())
    if wanted.limit:
        query = query.limit(wanted.limit)
    return [(s, p, safety_open(s, status)) for s, p, status in session.exec(query).all()]


def count_screenings(session: Session, wanted: ScreeningFilter) -> int:
    query = select(func.count()).select_from(Screening)
    for column, value in ((Screening.patient_id, wanted.patient_id), (Screening.instrument, wanted.instrument)):
        if value is not None:
            query = query.where(column == value)
    if wanted.positive:
        query = query.where(col(Screening.positive).is_(True))
    if wanted.since is not None:
        query = query.where(col(Screening.taken_on) >= wanted.since)
    return int(session.scalar(query) or 0)


def safety_open(screening: Screening, task_status: str | None) -> bool:
    """A safety flag stays open until its follow-up task is done (completed or cancelled); a flag
    whose task was deleted stays open: nobody recorded the follow-up."""
    return screening.safety_flag and (task_status is None or task_status in TASK_OPEN)


def open_safety_flags(
    session: Session, *, patient_id: int | None = None, coordinator: str | None = None
) -> list[tuple[Screening, Patient]]:
    """Screenings whose safety flag is open, oldest first (one indexed query)."""
    query = (
        select(Screening, Patient)
        .join(Patient, col(Patient.id) == Screening.patient_id)
        .outerjoin(Task, col(Task.id) == Screening.safety_task_id)
        .where(col(Screening.safety_flag).is_(True), or_(col(Task.id).is_(None), col(Task.status).in_(TASK_OPEN)))
        .order_by(col(Screening.taken_on), col(Screening.id))
    )
    if patient_id is not None:
        query = query.where(Screening.patient_id == patient_id)
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    return [(s, p) for s, p in session.exec(query).all()]


@dataclass(frozen=True)
class HistoryPoint:
    screening: Screening
    change: int | None  # since the previous one
    response: bool | None  # a 50% drop from the first (PHQ-9); None where the instrument says nothing
    remission: bool | None  # under the remission score (PHQ-9: under 5)


def history(session: Session, patient: Patient, given: Instrument) -> list[HistoryPoint]:
    """A patient's screenings with one instrument, oldest first, each with the change since the one
    before and, where the instrument defines them (PHQ-9), response and remission."""
    rows = session.exec(
        select(Screening).where(Screening.patient_id == patient.id, Screening.instrument == given.key)
        .order_by(col(Screening.taken_on), col(Screening.id))
    ).all()  # fmt: skip
    points: list[HistoryPoint] = []
    baseline = next((s.score for s in rows if s.score is not None), None)
    previous: int | None = None
    for screening in rows:
        change = screening.score - previous if screening.score is not None and previous is not None else None
        response = remission = None
        if given.change and screening.score is not None and baseline:
            drop = int(given.change.get("response_drop_percent", 50))
            response = screening.score * 100 <= baseline * (100 - drop) and screening is not rows[0]
            remission = screening.score < int(given.change.get("remission_below", 5))
        points.append(HistoryPoint(screening, change, response, remission))
        previous = screening.score if screening.score is not None else previous
    return points


# --- rescreening -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    instrument: str
    every_days: int | None
    sooner_days: int | None
    changed: bool  # the team changed the instrument's default


def cadences(session: Session, known: Sequence[Instrument] | None = None) -> dict[str, Cadence]:
    """Every instrument's rescreening interval: the team's where set, else the instrument's default."""
    known = known if known is not None else all_instruments(session)
    overrides = {row.instrument: row for row in session.exec(select(ScreeningCadence)).all()}
    found = {}
    for item in known:
        default = item.rescreen
        row = overrides.get(item.key)
        if row is not None:
            found[item.key] = Cadence(item.key, row.every_days, row.sooner_days, True)
        else:
            found[item.key] = Cadence(item.key, default.every_days if default else None,
                                      default.sooner_days if default else None, False)  # fmt: skip
    return found


def set_cadence(session: Session, given: Instrument, every_days: int | None, sooner_days: int | None) -> Cadence:
    """Change how often ``given`` is repeated (None: never); ``sooner_days`` after a positive result."""
    if every_days is not None and every_days < 1:
        raise ValidationError("an interval is at least one day")
    if sooner_days is not None and (every_days is None or not 1 <= sooner_days <= every_days):
        raise ValidationError("the interval after a positive result must be shorter than the usual one")
    row = session.exec(select(ScreeningCadence).where(ScreeningCadence.instrument == given.key)).first()
    if row is None:
        row = ScreeningCadence(instrument=given.key)
        session.add(row)
    row.every_days, row.sooner_days = every_days, sooner_days
    session.flush()
    return cadences(session, [given])[given.key]


def reset_cadence(session: Session, given: Instrument) -> Cadence:
    """Back to the instrument's own default interval."""
    row = session.exec(select(ScreeningCadence).where(ScreeningCadence.instrument == given.key)).first()
    if row is None:
        raise ConflictError(f"{given.key} already follows its default interval")
    session.delete(row)
    session.flush()
    return cadences(session, [given])[given.key]


class Due(NamedTuple):
    """A patient due (or never screened) for an instrument (a tuple: thousands at agency size)."""

    patient_id: int
    patient_name: str
    phone: str | None
    instrument: str
    last_on: date | None  # the last screening that counts (this instrument or one that stands for it)
    last_instrument: str | None
    due_on: date | None  # None: never screened, due now
    why: str


@dataclass(frozen=True)
class _Rule:
    """How one rescreened instrument falls due: what counts as having given it, and how often."""

    key: str
    cadence: Cadence
    counted: tuple[str, ...]  # this instrument, and those that stand for it (a PHQ-9 for a PHQ-2)


def due(
    session: Session,
    *,
    by: date | None = None,
    instrument_key: str | None = None,
    coordinator: str | None = None,
    never: bool = True,
) -> list[Due]:
    """Active patients due for rescreening by ``by`` (default today), and (``never``) those never
    screened, per instrument with an interval: most overdue first. Two queries, whatever the caseload."""
    by = by or today()
    known = all_instruments(session)
    plan = {key: c for key, c in cadences(session, known).items() if c.every_days is not None}
    if instrument_key is not None:
        if instrument_key not in plan:
            raise ValidationError(f"{instrument_key} is not rescreened (set one: carecoord screen cadence "
                                  f"{instrument_key} 1y)")  # fmt: skip
        plan = {instrument_key: plan[instrument_key]}
    if not plan:
        return []
    standing_for: dict[str, set[str]] = {key: {key} for key in plan}
    follow_ups: dict[str, Instrument] = {}
    for item in known:
        for target in item.satisfies:
            if target in standing_for and item.key != target:
                standing_for[target].add(item.key)
                follow_ups[item.key] = item
    rules = [_Rule(key, cadence, tuple(sorted(standing_for[key]))) for key, cadence in plan.items()]
    latest = _latest(session, sorted({key for keys in standing_for.values() for key in keys}), coordinator)
    people = select(Patient.id, Patient.name, Patient.phone).where(Patient.status == PatientStatus.active.value)
    if coordinator is not None:
        people = people.where(Patient.coordinator == coordinator)
    found: list[Due] = []
    for pid, name, phone in session.exec(people.order_by(col(Patient.name_key), col(Patient.id))).all():
        assert pid is not None
        screened = latest.get(pid)
        if screened is None:
            if never:
                found.extend(Due(pid, name, phone, rule.key, None, None, None, "never screened") for rule in rules)
            continue
        for rule in rules:
            last = _last_counted(screened, rule)
            if last is None:
                if never:
                    found.append(Due(pid, name, phone, rule.key, None, None, None, "never screened"))
                continue
            last_key, last_on, positive = last
            when, why = _next_due(rule, last_key, last_on, positive, follow_ups.get(last_key))
            if when <= by:
                found.append(Due(pid, name, phone, rule.key, last_on, last_key, when, why))
    found.sort(key=lambda d: (d.due_on is not None, d.due_on or date.min))
    return found


def _last_counted(screened: dict[str, tuple[date, bool]], rule: _Rule) -> tuple[str, date, bool] | None:
    """The latest screening that counts for ``rule`` (on a tie, the instrument itself)."""
    if len(rule.counted) == 1:  # most instruments: nothing else stands for them
        hit = screened.get(rule.key)
        return None if hit is None else (rule.key, hit[0], hit[1])
    best: tuple[str, date, bool] | None = None
    for key in rule.counted:
        hit = screened.get(key)
        if hit is not None and (best is None or (hit[0], key == rule.key) > (best[1], best[0] == rule.key)):
            best = (key, hit[0], hit[1])
    return best


def _next_due(rule: _Rule, last_key: str, last_on: date, positive: bool, follow: Instrument | None) -> tuple[date, str]:
    """When ``rule``'s instrument is next due after the screening that counts, and why."""
    cadence = rule.cadence
    if last_key != rule.key and follow is not None and follow.follow_up and positive:
        return last_on, f"{last_key} on {last_on} was positive: give the {rule.key}"
    if last_key == rule.key and cadence.sooner_days and positive:
        return last_on + timedelta(days=cadence.sooner_days), f"every {cadence.sooner_days} days while positive"
    assert cadence.every_days is not None
    return last_on + timedelta(days=cadence.every_days), f"every {cadence.every_days} days"


def _latest(session: Session, keys: Sequence[str], coordinator: str | None) -> dict[int, dict[str, tuple[date, bool]]]:
    """Each patient's latest screening date with each of ``keys`` and whether it was positive, by
    patient and instrument: one grouped query read from the (patient, instrument, taken_on, positive)
    index alone."""
    latest_positive = func.max(case((col(Screening.positive).is_(True), col(Screening.taken_on)), else_=None))
    query = sql_select(
        col(Screening.patient_id), col(Screening.instrument), func.max(Screening.taken_on), latest_positive
    ).where(col(Screening.instrument).in_(keys))
    query = query.group_by(col(Screening.patient_id), col(Screening.instrument))
    if coordinator is not None:
        query = query.join(Patient, col(Patient.id) == Screening.patient_id).where(
            col(Patient.coordinator) == coordinator
        )
    found: dict[int, dict[str, tuple[date, bool]]] = defaultdict(dict)
    # An aggregate comes back as SQLite stores a date (ISO text), a date on PostgreSQL: read it once here,
    # at C speed, rather than through a per-row type processor (30,000 rows at agency size).
    for pid, key, last, positive in session.execute(query).all():
        found[pid][key] = (last if isinstance(last, date) else date.fromisoformat(last), last == positive)
    return found


# --- the report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    name: str
    screenings: int
    positive: int

    @property
    def rate(self) -> float:
        return round(100 * self.positive / self.screenings, 1) if self.screenings else 0.0


@dataclass
class ScreeningReport:
    start: date
    end: date
    instruments: list[Rate]
    domains: list[Rate]
    open_flags: list[tuple[Screening, Patient]]


def report(session: Session, start: date, end: date) -> ScreeningReport:
    """Screenings given in [start, end]: how many per instrument and how many positive; per
    social-need domain, how many of the screenings that ask about it found it; and every open safety
    flag (whenever raised). Three grouped queries."""
    if end < start:
        raise ValidationError("the period ends before it starts")
    in_window = and_(col(Screening.taken_on) >= start, col(Screening.taken_on) <= end)
    grouped = session.exec(
        select(Screening.instrument, Screening.positive_domains, func.count())
        .where(in_window).group_by(col(Screening.instrument), col(Screening.positive_domains))
    ).all()  # fmt: skip
    given: Counter[str] = Counter()
    positive: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for key, stored, count in grouped:
        given[key] += count
        codes = split_domains(stored)
        if codes:
            positive[key] += count
        for code in codes:
            found[code] += count
    asked: dict[str, int] = defaultdict(int)
    known = {i.key: i for i in all_instruments(session)}
    for key, count in given.items():
        item = known.get(key)
        for code in {d.code for d in item.domains if d.social_need} if item else ():
            asked[code] += count
    rates = [Rate(key, given[key], positive[key]) for key in sorted(given)]
    order = {code: n for n, code in enumerate(SDOH_DOMAINS)}
    domains = [Rate(code, asked[code], found[code]) for code in sorted(asked, key=lambda c: (order.get(c, 99), c))]
    return ScreeningReport(start, end, rates, domains, open_safety_flags(session))


def domain_label(code: str) -> str:
    return SDOH_DOMAIN_LABELS.get(code, code)


def labels(codes: Iterable[str]) -> list[str]:
    return [domain_label(code) for code in codes]


def safety_reasons(given: Instrument, answers: Sequence[Answer], result: Result) -> list[str]:
    """Why a screening raised its safety flag, in words a coordinator can act on."""
    by_id = {a.item.id: a for a in answers}
    reasons = []
    for rule in given.safety:
        if "domain" in rule:
            if rule["domain"] in result.domain_codes:
                totals = "; ".join(f"{name} score {value}" for name, value in result.subscores.items())
                reasons.append(f"positive for {domain_label(str(rule['domain']))}" + (f" ({totals})" if totals else ""))
            continue
        answer = by_id.get(str(rule["item"]))
        if answer is not None and instruments.meets(rule, by_id):
            chosen = "; ".join(o.display for o in answer.options)
            reasons.append(f"question {answer.item.id} ({answer.item.text}) answered '{chosen}'")
    return reasons


_INTERVAL_UNITS = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_interval(text: str) -> int:
    """A rescreening interval as whole days: ``28d``, ``4w``, ``6m`` (30 days each), ``1y`` (365 days)."""
    import re

    match = re.fullmatch(r"(\d{1,4})\s*([dwmy])", text.strip().lower())
    if not match or int(match.group(1)) < 1:
        raise ValidationError(f"cannot read '{text}' as an interval; use days, weeks, months or years: 28d, 4w, 6m, 1y")
    return int(match.group(1)) * _INTERVAL_UNITS[match.group(2)]
