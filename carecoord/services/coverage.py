"""Insurance coverage (FHIR Coverage): a patient's payers, in order of benefits, with their periods.

A patient has at most one *current* coverage in each order of benefits (primary, secondary,
tertiary): periods of two active coverages in the same order may not overlap. The patient's own
``payer`` and ``member_id`` are the current primary coverage's (``models.Patient``), and
``patient add/edit --payer/--member-id`` set that coverage (:func:`set_patient_insurance`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from carecoord.dates import today
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.fields import COVERAGE
from carecoord.models import Authorization, Coverage, Patient
from carecoord.services import text
from carecoord.services.lookup import as_id, require_ref
from carecoord.vocab import CoverageOrder, CoverageStatus, PatientStatus

ENDING_SOON_DAYS = 30  # the agenda lists coverage ending within this many days


def describe(coverage: Coverage) -> str:
    """``#3 Medicare (primary)``: how a coverage is named in messages."""
    payer = coverage.payer or "payer not recorded"
    number = f"#{coverage.id} " if coverage.id is not None else ""  # not stored yet (an import in progress)
    return f"{number}{payer} ({coverage.order})"


def is_current(coverage: Coverage, on: date | None = None) -> bool:
    """Whether the coverage is in force on ``on`` (default today)."""
    day = on or today()
    return (
        coverage.status == CoverageStatus.active.value
        and (coverage.start_on is None or coverage.start_on <= day)
        and (coverage.end_on is None or coverage.end_on >= day)
    )


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationError(f"the coverage ends ({end}) before it starts ({start})")


def _overlaps(one: Coverage, start: date | None, end: date | None) -> bool:
    return (one.end_on is None or start is None or one.end_on >= start) and (
        end is None or one.start_on is None or one.start_on <= end
    )


def _check_order_free(session: Session, coverage: Coverage) -> None:
    """Two active coverages of a patient in the same order of benefits may not run at once."""
    if coverage.status != CoverageStatus.active.value:
        return
    others = session.exec(
        select(Coverage).where(
            Coverage.patient_id == coverage.patient_id,
            Coverage.order == coverage.order,
            Coverage.status == CoverageStatus.active.value,
        )
    ).all()
    check_order_free_among(coverage, others)


def check_order_free_among(coverage: Coverage, others: Sequence[Coverage]) -> None:
    """The rule of :func:`_check_order_free` against coverages already read (the patient's)."""
    if coverage.status != CoverageStatus.active.value:
        return
    for other in others:
        if other is coverage or other.order != coverage.order or other.status != CoverageStatus.active.value:
            continue
        if (other.id is None or other.id != coverage.id) and _overlaps(other, coverage.start_on, coverage.end_on):
            until = f" until {other.end_on}" if other.end_on else ""
            how = f"end it first ('carecoord coverage end {other.id}')" if other.id is not None else "end one"
            raise ConflictError(
                f"the patient already has {coverage.order} coverage {describe(other)}{until}; {how} or give this "
                "one another --order"
            )


def validate_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Clean and check the fields a person set (see ``fields.COVERAGE``)."""
    return text.clean_fields(COVERAGE, fields)


def add_coverage(session: Session, patient: Patient, fields: Mapping[str, Any]) -> Coverage:
    """A new coverage for ``patient``; primary and active unless the fields say otherwise."""
    values = validate_fields({"payer": None, **fields})
    values["order"] = values.get("order") or CoverageOrder.primary.value
    values["status"] = values.get("status") or CoverageStatus.active.value
    _check_period(values.get("start_on"), values.get("end_on"))
    assert patient.id is not None
    coverage = Coverage(patient_id=patient.id, **values)
    _check_order_free(session, coverage)
    session.add(coverage)
    session.flush()
    return coverage


def update_coverage(session: Session, coverage: Coverage, fields: Mapping[str, Any]) -> Coverage:
    """Change any fields; empty text clears one (not the payer, nor the order or status)."""
    values = validate_fields(fields)
    for required in ("order", "status"):
        if required in values and values[required] is None:
            raise ValidationError(f"the {COVERAGE[required].what} cannot be cleared")
    start = values.get("start_on", coverage.start_on)
    end = values.get("end_on", coverage.end_on)
    _check_period(start, end)
    for key, value in values.items():
        setattr(coverage, key, value)
    _check_order_free(session, coverage)
    session.flush()
    return coverage


def end_coverage(session: Session, coverage: Coverage, on: date | None = None) -> Coverage:
    """The coverage's last day is ``on`` (default today); it stays on record."""
    day = on or today()
    if coverage.status != CoverageStatus.active.value:
        raise ConflictError(f"coverage {describe(coverage)} is {coverage.status}")
    if coverage.start_on is not None and day < coverage.start_on:
        raise ValidationError(f"the coverage ends ({day}) before it starts ({coverage.start_on})")
    if coverage.end_on is not None and coverage.end_on <= day:
        raise ConflictError(f"coverage {describe(coverage)} already ended on {coverage.end_on}")
    coverage.end_on = day
    session.flush()
    return coverage


def resolve(session: Session, ref: str) -> Coverage:
    """A coverage by its id (``3`` or ``#3``)."""
    cleaned = require_ref(ref, "coverage")
    coverage_id = as_id(cleaned)
    if coverage_id is None:
        raise ValidationError(f"give the coverage's id (see 'carecoord coverage list'), not '{cleaned}'")
    found = session.get(Coverage, coverage_id)
    if found is None:
        raise NotFoundError(f"no coverage #{coverage_id}")
    return found


def of_patient(session: Session, patient_id: int) -> list[Coverage]:
    """A patient's coverage: current first, by order of benefits, then the latest."""
    found = session.exec(select(Coverage).where(Coverage.patient_id == patient_id)).all()
    ranks = {order.value: n for n, order in enumerate(CoverageOrder)}
    return sorted(found, key=lambda c: (not is_current(c), ranks.get(c.order, 9), -(c.id or 0)))


@dataclass(frozen=True)
class CoverageRow:
    """A coverage with its patient's name, as listings show it."""

    coverage: Coverage
    patient_name: str


def list_coverages(
    session: Session, *, patient_id: int | None = None, current_only: bool = False, coordinator: str | None = None
) -> list[CoverageRow]:
    """Coverage, by patient and order of benefits: one query."""
    query = select(Coverage, Patient.name).join(Patient, col(Patient.id) == Coverage.patient_id)
    if patient_id is not None:
        query = query.where(Coverage.patient_id == patient_id)
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    if current_only:
        day = today()
        query = query.where(
            Coverage.status == CoverageStatus.active.value,
            or_(col(Coverage.start_on).is_(None), col(Coverage.start_on) <= day),
            or_(col(Coverage.end_on).is_(None), col(Coverage.end_on) >= day),
        )
    ranks = {order.value: n for n, order in enumerate(CoverageOrder)}
    rows = [CoverageRow(coverage, name) for coverage, name in session.exec(query).all()]
    return sorted(rows, key=lambda r: (r.patient_name.casefold(), r.coverage.patient_id,
                                      not is_current(r.coverage), ranks.get(r.coverage.order, 9),
                                      -(r.coverage.id or 0)))  # fmt: skip


def ending_soon(
    session: Session, first: date, last: date, *, within: int = ENDING_SOON_DAYS, coordinator: str | None = None,
    limit: int | None = None,
) -> list[CoverageRow]:  # fmt: skip
    """Active coverage ending from ``first`` to ``within`` days after ``last`` (non-discharged patients),
    by end date (the first ``limit``): one indexed query."""
    query = (
        select(Coverage, Patient.name)
        .join(Patient, col(Patient.id) == Coverage.patient_id)
        .where(
            col(Coverage.end_on) >= first,
            col(Coverage.end_on) <= last + timedelta(days=within),
            Coverage.status == CoverageStatus.active.value,
            Patient.status != PatientStatus.discharged.value,
        )
        .order_by(col(Coverage.end_on), col(Coverage.id))
    )
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    if limit is not None:
        query = query.limit(limit)
    return [CoverageRow(coverage, name) for coverage, name in session.exec(query).all()]


def count_ending_soon(
    session: Session, first: date, last: date, *, within: int = ENDING_SOON_DAYS, coordinator: str | None = None
) -> int:
    """How many :func:`ending_soon` lists without a limit."""
    query = (
        select(func.count())
        .select_from(Coverage)
        .join(Patient, col(Patient.id) == Coverage.patient_id)
        .where(
            col(Coverage.end_on) >= first,
            col(Coverage.end_on) <= last + timedelta(days=within),
            Coverage.status == CoverageStatus.active.value,
            Patient.status != PatientStatus.discharged.value,
        )
    )
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    return int(session.exec(query).one())


# --- the patient's payer, member id and authorization end (what were patient columns before 0011) ---

MOVED_SERVICE = "insurance authorization"  # the service of an authorization set through the patient
PATIENT_INSURANCE_KEYS = ("payer", "member_id", "auth_expires")


def primary_of(session: Session, patient: Patient) -> Coverage | None:
    """The patient's current primary coverage (the latest to start, if the periods allowed two)."""
    current = [c for c in of_patient(session, patient.id or 0)
               if c.order == CoverageOrder.primary.value and is_current(c)]  # fmt: skip
    return max(current, key=lambda c: (c.start_on or date.min, c.id or 0), default=None)


def _expiring_authorization(session: Session, patient: Patient) -> Authorization | None:
    """The approved authorization whose end the patient shows: the one ending last (else the latest)."""
    approved = session.exec(
        select(Authorization).where(Authorization.patient_id == patient.id, Authorization.status == "approved")
    ).all()
    return max(approved, key=lambda a: (a.end_on is not None, a.end_on or date.min, a.id or 0), default=None)


def set_patient_insurance(session: Session, patient: Patient, values: Mapping[str, Any]) -> list[str]:
    """``patient add/edit --payer/--member-id/--auth-expires``: set the current primary coverage (made
    if there is none) and the authorization the patient shows (made, approved, if there is none).
    Empty values clear; a coverage left with no payer and no member id and nothing else goes. Returns
    what was done, as sentences."""
    said: list[str] = []
    coverage_values = {key: values[key] for key in ("payer", "member_id") if key in values}
    coverage = primary_of(session, patient)
    if coverage_values:
        if coverage is None and any(v is not None for v in coverage_values.values()):
            assert patient.id is not None
            coverage = Coverage(patient_id=patient.id, order=CoverageOrder.primary.value, **coverage_values)
            _check_order_free(session, coverage)
            session.add(coverage)
            session.flush()
            said.append(f"Added primary coverage {describe(coverage)}.")
        elif coverage is not None:
            for key, value in coverage_values.items():
                setattr(coverage, key, value)
            if _empty(session, coverage):
                said.append(f"Removed primary coverage #{coverage.id}, left with no payer or member id.")
                session.delete(coverage)
                coverage = None
            session.flush()
    if "auth_expires" in values:
        end = values["auth_expires"]
        authorization = _expiring_authorization(session, patient)
        if authorization is None and end is not None:
            assert patient.id is not None
            authorization = Authorization(
                patient_id=patient.id, coverage_id=coverage.id if coverage else None, service=MOVED_SERVICE,
                status="approved", requested_on=None, decided_on=None, end_on=end,
            )  # fmt: skip
            session.add(authorization)
            session.flush()
            said.append(f"Added authorization #{authorization.id} ({MOVED_SERVICE}), approved through {end}.")
        elif authorization is not None:
            if authorization.start_on is not None and end is not None and end < authorization.start_on:
                raise ValidationError(f"authorization #{authorization.id} starts {authorization.start_on}, after {end}")
            authorization.end_on = end
            session.flush()
    return said


def _empty(session: Session, coverage: Coverage) -> bool:
    """Nothing recorded on the coverage but its order and status, and no authorization under it."""
    filled = (coverage.payer, coverage.member_id, coverage.plan, coverage.group_number, coverage.type,
              coverage.start_on, coverage.end_on, coverage.phone, coverage.notes)  # fmt: skip
    if any(value is not None for value in filled):
        return False
    under = session.exec(select(Authorization.id).where(Authorization.coverage_id == coverage.id).limit(1)).first()
    return under is None


def split_patient_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The patient's own fields, and the insurance ones that now live in coverage and authorizations."""
    own = {k: v for k, v in fields.items() if k not in PATIENT_INSURANCE_KEYS}
    insurance = {k: v for k, v in fields.items() if k in PATIENT_INSURANCE_KEYS}
    return own, insurance


def coverages_for(session: Session, patient_ids: Sequence[int]) -> dict[int, list[Coverage]]:
    """Coverage of many patients at once (by id)."""
    from carecoord.services.lookup import id_batches

    grouped: dict[int, list[Coverage]] = {}
    for batch in id_batches(patient_ids):
        for coverage in session.exec(select(Coverage).where(col(Coverage.patient_id).in_(batch))).all():
            grouped.setdefault(coverage.patient_id, []).append(coverage)
    return grouped


def refresh_patient(session: Session, patient: Patient) -> None:
    """Read the patient's insurance fields again (they come from coverage and authorizations)."""
    session.expire(patient, list(PATIENT_INSURANCE_KEYS))


def insure_new_patients(session: Session, patients: Sequence[tuple[Patient, Mapping[str, Any]]]) -> None:
    """New patients' payer, member id and authorization end (an import): a primary coverage and an
    approved authorization each, with no lookups (new patients have neither)."""
    covered: list[tuple[Patient, Coverage | None, Any]] = []
    for patient, values in patients:
        assert patient.id is not None
        coverage = None
        if values.get("payer") is not None or values.get("member_id") is not None:
            coverage = Coverage(patient_id=patient.id, payer=values.get("payer"), member_id=values.get("member_id"),
                                order=CoverageOrder.primary.value)  # fmt: skip
            session.add(coverage)
        covered.append((patient, coverage, values.get("auth_expires")))
    session.flush()
    for patient, coverage, end in covered:
        if end is not None:
            assert patient.id is not None
            session.add(Authorization(patient_id=patient.id, coverage_id=coverage.id if coverage else None,
                                      service=MOVED_SERVICE, status="approved", end_on=end))  # fmt: skip
    session.flush()


def load_insurance(session: Session, patients: Sequence[Patient]) -> None:
    """Fill the insurance fields of many patients at once (a listing): two queries over plain rows
    rather than three subqueries per patient, with the same rules as ``models.Patient``'s."""
    from sqlalchemy.orm.attributes import set_committed_value

    from carecoord.services.lookup import IN_LIST_SIZE, id_batches

    ids = [p.id for p in patients if p.id is not None]
    if not ids:
        return
    day = today()
    from sqlalchemy import select as columns_of  # five columns: beyond sqlmodel's typed overloads

    primary = columns_of(
        *(col(c) for c in (Coverage.patient_id, Coverage.payer, Coverage.member_id, Coverage.start_on, Coverage.id))
    ).where(
        col(Coverage.order) == CoverageOrder.primary.value,
        col(Coverage.status) == CoverageStatus.active.value,
        or_(col(Coverage.start_on).is_(None), col(Coverage.start_on) <= day),
        or_(col(Coverage.end_on).is_(None), col(Coverage.end_on) >= day),
    )
    ends = (
        select(col(Authorization.patient_id), func.max(Authorization.end_on))
        .where(Authorization.status == "approved")
        .group_by(col(Authorization.patient_id))
    )
    everyone = len(ids) > 4 * IN_LIST_SIZE  # most of the caseload: one pass over each table
    batches = [ids] if everyone else list(id_batches(ids))
    chosen: dict[int, tuple[Any, ...]] = {}
    last_end: dict[int, date | None] = {}
    for batch in batches:
        narrow_c = primary if everyone else primary.where(col(Coverage.patient_id).in_(batch))
        for patient_id, payer, member_id, start, coverage_id in session.execute(narrow_c).all():
            key = (start or date.min, coverage_id)
            if patient_id not in chosen or key > chosen[patient_id][0]:
                chosen[patient_id] = (key, payer, member_id)
        narrow_a = ends if everyone else ends.where(col(Authorization.patient_id).in_(batch))
        last_end.update(session.exec(narrow_a).all())
    for patient in patients:
        found = chosen.get(patient.id or 0)
        set_committed_value(patient, "payer", found[1] if found else None)
        set_committed_value(patient, "member_id", found[2] if found else None)
        set_committed_value(patient, "auth_expires", last_end.get(patient.id or 0))
