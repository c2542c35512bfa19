"""Prior authorizations: a service a payer approved (or is asked to), its dates, and its units.

Units used are the sum of the authorization's uses: recorded by hand (``auth use``) or by an
appointment linked to it, one unit for each sitting marked done (:func:`sync_appointment`, called
from every path that records an appointment's outcome or its link). Using more units than approved,
outside the authorization's dates or of one not approved is refused unless forced; booking a linked
appointment outside its dates or with no units left is refused unless forced (:func:`check_booking`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from carecoord.dates import local_zone, today
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.fields import AUTHORIZATION
from carecoord.models import Appointment, AppointmentException, Authorization, AuthorizationUse, Coverage, Patient
from carecoord.services import text
from carecoord.services.lookup import as_id, id_batches, require_ref
from carecoord.vocab import AUTHORIZATION_TRANSITIONS, AppointmentStatus, AuthorizationStatus, PatientStatus

ENDING_SOON_DAYS = 14  # the agenda lists authorizations ending within this many days
FEW_UNITS_LEFT = 1  # ... or with this many units left, or fewer
UNDECIDED_DAYS = 7  # ... and requests with no decision after this many days
APPROVED = AuthorizationStatus.approved.value
REQUESTED = AuthorizationStatus.requested.value
DECIDED = frozenset({APPROVED, AuthorizationStatus.denied.value})
FULFILLED = AppointmentStatus.fulfilled.value


def describe(authorization: Authorization) -> str:
    """``#4 home health visits (approved)``: how an authorization is named in messages."""
    return f"#{authorization.id} {authorization.service} ({authorization.status})"


def unit_word(authorization: Authorization, n: int) -> str:
    """``1 visit``, ``3 visits``, ``2 units`` (no unit recorded)."""
    unit = authorization.unit or "units"
    return f"{n} {unit[:-1] if n == 1 and unit.endswith('s') else unit}"


@dataclass(frozen=True)
class AuthorizationRow:
    """An authorization with what listings show beside it."""

    authorization: Authorization
    patient_name: str
    payer: str | None
    units_used: int
    reasons: tuple[str, ...] = ()  # why the agenda lists it

    @property
    def units_left(self) -> int | None:
        approved = self.authorization.units_approved
        return None if approved is None else approved - self.units_used


# --- checks -------------------------------------------------------------------------------------


def _resolve_links(session: Session, values: dict[str, Any], patient_id: int) -> None:
    """The coverage and the referral an authorization names (--coverage, --referral), as ids of the
    same patient's records; an empty value unlinks."""
    from carecoord.services import coverage, referrals

    for key, module in (("coverage_id", coverage), ("referral_id", referrals)):
        if key not in values:
            continue
        value = values[key]
        if value is None or (isinstance(value, str) and not value.strip()):
            values[key] = None
            continue
        found = module.resolve(session, str(value))
        if found.patient_id != patient_id:
            raise ValidationError(f"{key.removesuffix('_id')} {module.describe(found)} is another patient's")
        values[key] = found.id


def _check(authorization: Authorization, used: int) -> None:
    start, end = authorization.start_on, authorization.end_on
    if start is not None and end is not None and end < start:
        raise ValidationError(f"the authorization ends ({end}) before it starts ({start})")
    if authorization.requested_on is not None and authorization.requested_on > today():
        raise ValidationError(f"the request date {authorization.requested_on} is in the future")
    if authorization.units_approved is not None and authorization.unit is None:
        raise ValidationError("say what the units count: --unit visits, days, hours or items")
    if authorization.units_approved is not None and authorization.units_approved < used:
        raise ValidationError(
            f"{unit_word(authorization, used)} of authorization #{authorization.id} are already used: "
            f"it cannot approve fewer ({authorization.units_approved})"
        )


def validate_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Clean and check the fields a person set (see ``fields.AUTHORIZATION``)."""
    return text.clean_fields(AUTHORIZATION, fields)


# --- changes ------------------------------------------------------------------------------------


def add_authorization(
    session: Session, patient: Patient, fields: Mapping[str, Any], *, appointment: Appointment | None = None,
    force: bool = False,
) -> Authorization:  # fmt: skip
    """A new authorization for ``patient``: requested (today) unless the fields say otherwise, under the
    given coverage or the current primary one; ``appointment`` is linked to it."""
    from carecoord.services import coverage

    assert patient.id is not None
    values = validate_fields({"service": None, **fields})
    status = values.pop("status", None) or REQUESTED
    _resolve_links(session, values, patient.id)
    if "coverage_id" not in values:
        primary = coverage.primary_of(session, patient)
        values["coverage_id"] = primary.id if primary else None
    if values.get("requested_on") is None and status == REQUESTED:
        values["requested_on"] = today()
    authorization = Authorization(patient_id=patient.id, status=status, **values)
    if status in DECIDED:
        authorization.decided_on = today()
    _check(authorization, 0)
    session.add(authorization)
    session.flush()
    if appointment is not None:
        link(session, appointment, authorization, force=force)
    return authorization


def update_authorization(session: Session, authorization: Authorization, fields: Mapping[str, Any]) -> Authorization:
    """Change any fields but the status (``set_status``); empty text clears one."""
    values = validate_fields(fields)
    if "status" in values:
        raise ValidationError("change the status with 'carecoord auth status'")
    _resolve_links(session, values, authorization.patient_id)
    for key, value in values.items():
        setattr(authorization, key, value)
    _check(authorization, used_of(session, authorization))
    session.flush()
    return authorization


def set_status(session: Session, authorization: Authorization, status: str, *, on: date | None = None) -> Authorization:
    """Move the authorization to ``status``: approved and denied record the decision date (default today);
    requested again (an appeal, a renewal) records the new request date."""
    if status == authorization.status:
        raise ConflictError(f"authorization {describe(authorization)} is already {status}")
    allowed = AUTHORIZATION_TRANSITIONS.get(authorization.status, frozenset())
    if status not in allowed:
        raise ConflictError(
            f"authorization {describe(authorization)} cannot become {status} "
            f"(it may become {', '.join(sorted(allowed))})"
        )
    day = on or today()
    if day > today():
        raise ValidationError(f"the date {day} is in the future")
    authorization.status = status
    if status in DECIDED:
        authorization.decided_on = day
    elif status == REQUESTED:
        authorization.requested_on, authorization.decided_on = day, None
    session.flush()
    return authorization


def record_use(
    session: Session, authorization: Authorization, *, units: int = 1, on: date | None = None,
    note: str | None = None, force: bool = False,
) -> AuthorizationUse:  # fmt: skip
    """Units used on a day (default today). Refused unless ``force``: more than are left, a day outside
    the authorization's dates, an authorization that is not approved."""
    if units < 1:
        raise ValidationError(f"units used must be 1 or more, not {units}")
    day = on or today()
    if day > today():
        raise ValidationError(f"{day} is in the future: record units once they are used")
    if not force:
        _check_usable(session, authorization, day, units)
    assert authorization.id is not None
    use = AuthorizationUse(authorization_id=authorization.id, used_on=day, units=units,
                           note=text.free_text(note, "note"))  # fmt: skip
    session.add(use)
    session.flush()
    return use


def _check_usable(session: Session, authorization: Authorization, day: date, units: int) -> None:
    if authorization.status != APPROVED:
        raise ConflictError(f"authorization {describe(authorization)} is not approved; add --force to record it anyway")
    outside = _outside(authorization, day)
    if outside:
        raise ConflictError(f"{day} is {outside}; add --force to record it anyway")
    left = left_of(session, authorization)
    if left is not None and units > left:
        raise ConflictError(
            f"authorization #{authorization.id} has {unit_word(authorization, left)} left of "
            f"{authorization.units_approved}; using {units} would go over: add --force to record it anyway"
        )


def _outside(authorization: Authorization, day: date) -> str:
    """Why ``day`` is outside the authorization's dates ('' when it is inside)."""
    if authorization.start_on is not None and day < authorization.start_on:
        return f"before authorization #{authorization.id} starts ({authorization.start_on})"
    if authorization.end_on is not None and day > authorization.end_on:
        return f"after authorization #{authorization.id} ends ({authorization.end_on})"
    return ""


def remove_use(session: Session, use: AuthorizationUse) -> None:
    """Take back a use recorded by mistake (a linked appointment's use goes with its outcome)."""
    if use.appointment_id is not None:
        raise ConflictError(
            f"use #{use.id} is appointment #{use.appointment_id} marked done: change that appointment's outcome instead"
        )
    session.delete(use)
    session.flush()


def delete_uses_of_patient(session: Session, patient: Patient) -> None:
    """Before a patient's hard delete: their authorizations' uses, each audited."""
    owned = select(Authorization.id).where(Authorization.patient_id == patient.id)
    for use in session.exec(select(AuthorizationUse).where(col(AuthorizationUse.authorization_id).in_(owned))).all():
        session.delete(use)
    session.flush()


# --- appointments -------------------------------------------------------------------------------


def link(session: Session, appointment: Appointment, authorization: Authorization | None, *, force: bool) -> None:
    """Link ``appointment`` to ``authorization`` (None unlinks): checked like a booking unless ``force``;
    the units its sittings done use follow the link."""
    if authorization is not None:
        if authorization.patient_id != appointment.patient_id:
            raise ValidationError(f"authorization {describe(authorization)} is another patient's")
        if not force:
            check_booking(session, authorization, appointment)
        appointment.authorization_id = authorization.id
    else:
        appointment.authorization_id = None
    session.flush()
    sync_appointment(session, appointment)


def check_booking(session: Session, authorization: Authorization, appointment: Appointment) -> None:
    """Refuse (unless forced) a linked appointment outside the authorization's dates, one linked to an
    authorization that is not approved or requested, or with no units left (a series: fewer left than
    its sittings to come)."""
    if authorization.status not in (APPROVED, REQUESTED):
        raise ConflictError(
            f"authorization {describe(authorization)} is {authorization.status}; add --force to link it"
        )
    zone = local_zone()
    first = appointment.starts_at.astimezone(zone).date()
    last = (appointment.series_ends_at or appointment.ends_at).astimezone(zone).date()
    for day in (first, last):
        outside = _outside(authorization, day)
        if outside:
            raise ConflictError(f"the appointment on {day} is {outside}; add --force to book it anyway")
    if appointment.rrule and appointment.series_ends_at is None and authorization.end_on is not None:
        raise ConflictError(
            f"the series has no end, and authorization #{authorization.id} ends {authorization.end_on}; "
            "give the series --until or --count, or add --force"
        )
    left = left_of(session, authorization)
    if left is None:
        return
    needed = _sittings_to_come(session, appointment)
    if left <= 0 or needed > left:
        wanted = f"; the appointment has {needed} sittings to come" if needed > 1 else ""
        raise ConflictError(
            f"authorization #{authorization.id} has {unit_word(authorization, max(left, 0))} left of "
            f"{authorization.units_approved}{wanted}; add --force to book it anyway"
        )


def _sittings_to_come(session: Session, appointment: Appointment) -> int:
    """How many sittings of the appointment are still to be done (1 for a one-off)."""
    if not appointment.rrule:
        return 1
    from carecoord.services.appointments import exceptions_of, expand

    end = appointment.series_ends_at
    if end is None:
        return 1
    low = max(appointment.starts_at, datetime.now(UTC) - timedelta(days=366 * 5))
    sittings = expand(appointment, exceptions_of(session, appointment), low, end + timedelta(seconds=1))
    return sum(1 for s in sittings if s.status not in (FULFILLED, "cancelled", "noshow", "entered-in-error"))


def sync_appointment(session: Session, appointment: Appointment) -> list[str]:
    """The rule: a linked appointment uses one unit of its authorization for each sitting marked done
    (fulfilled), and no other. Brings the uses in line after an outcome or a link changes; returns
    what changed, as sentences."""
    if appointment.id is None:
        return []
    wanted: dict[datetime, date] = {}
    if appointment.authorization_id is not None:
        zone = local_zone()
        if appointment.rrule:
            exceptions = session.exec(
                select(AppointmentException).where(
                    AppointmentException.appointment_id == appointment.id, AppointmentException.status == FULFILLED
                )
            ).all()
            if appointment.status not in ("cancelled", "entered-in-error"):
                for exception in exceptions:
                    start = exception.starts_at or exception.original_start
                    wanted[exception.original_start] = start.astimezone(zone).date()
        elif appointment.status == FULFILLED:
            wanted[appointment.starts_at] = appointment.starts_at.astimezone(zone).date()
    existing = session.exec(select(AuthorizationUse).where(AuthorizationUse.appointment_id == appointment.id)).all()
    said: list[str] = []
    for use in existing:
        keep = (use.authorization_id == appointment.authorization_id and use.occurrence is not None
                and wanted.pop(use.occurrence, None) is not None)  # fmt: skip
        if not keep:
            session.delete(use)
            said.append(f"Gave back 1 unit of authorization #{use.authorization_id}.")
    if wanted and appointment.authorization_id is not None:
        authorization = session.get(Authorization, appointment.authorization_id)
        assert authorization is not None
        for occurrence, day in sorted(wanted.items()):
            session.add(AuthorizationUse(authorization_id=authorization.id or 0, used_on=day, units=1,
                                         appointment_id=appointment.id, occurrence=occurrence))  # fmt: skip
        session.flush()
        left = left_of(session, authorization)
        remaining = "" if left is None else (
            f", {unit_word(authorization, left)} left" if left >= 0 else f", {unit_word(authorization, -left)} over"
        )  # fmt: skip
        said.append(f"Used {unit_word(authorization, len(wanted))} of authorization #{authorization.id}{remaining}.")
    session.flush()
    session.info.setdefault(EFFECTS, []).extend(said)
    return said


EFFECTS = "authorization_effects"


def effects(session: Session) -> str:
    """What :func:`sync_appointment` did to authorizations in this command, as sentences (then forgotten)."""
    said = session.info.pop(EFFECTS, [])
    return "".join(f" {sentence}" for sentence in said)


# --- reading ------------------------------------------------------------------------------------


def resolve(session: Session, ref: str) -> Authorization:
    """An authorization by its id (``4`` or ``#4``)."""
    cleaned = require_ref(ref, "authorization")
    authorization_id = as_id(cleaned)
    if authorization_id is None:
        raise ValidationError(f"give the authorization's id (see 'carecoord auth list'), not '{cleaned}'")
    found = session.get(Authorization, authorization_id)
    if found is None:
        raise NotFoundError(f"no authorization #{authorization_id}")
    return found


def used_of(session: Session, authorization: Authorization) -> int:
    """Units of the authorization used so far."""
    return used_by(session, [authorization.id]).get(authorization.id or 0, 0)


def left_of(session: Session, authorization: Authorization) -> int | None:
    """Units left (None: the authorization has no unit limit); negative when over."""
    if authorization.units_approved is None:
        return None
    return authorization.units_approved - used_of(session, authorization)


def used_by(session: Session, ids: Sequence[int | None]) -> dict[int, int]:
    """Units used of many authorizations, in a few grouped queries."""
    used: dict[int, int] = {}
    for batch in id_batches(ids):
        query = (
            select(AuthorizationUse.authorization_id, func.sum(AuthorizationUse.units))
            .where(col(AuthorizationUse.authorization_id).in_(batch))
            .group_by(col(AuthorizationUse.authorization_id))
        )
        used.update((key, int(total or 0)) for key, total in session.exec(query).all())
    return used


def uses_of(session: Session, authorization: Authorization) -> list[AuthorizationUse]:
    """The authorization's uses, by date."""
    query = select(AuthorizationUse).where(AuthorizationUse.authorization_id == authorization.id)
    return sorted(session.exec(query).all(), key=lambda u: (u.used_on, u.id or 0))


def row_of(session: Session, authorization: Authorization) -> AuthorizationRow:
    """One authorization as listings show it."""
    patient = session.get(Patient, authorization.patient_id)
    payer = session.get(Coverage, authorization.coverage_id) if authorization.coverage_id else None
    return AuthorizationRow(authorization, patient.name if patient else "", payer.payer if payer else None,
                            used_of(session, authorization))  # fmt: skip


@dataclass(frozen=True)
class AuthorizationFilter:
    """What ``auth list`` and ``report authorizations`` narrow by."""

    patient_id: int | None = None
    status: str | None = None
    expiring: int | None = None  # approved ones ending within this many days from today (not discharged patients')
    coordinator: str | None = None
    limit: int | None = None


def _rows(session: Session, query: Any) -> list[AuthorizationRow]:
    found = session.exec(query).all()
    used = used_by(session, [a.id for a, _, _ in found])
    return [AuthorizationRow(a, name, payer, used.get(a.id or 0, 0)) for a, name, payer in found]


def _base() -> Any:
    return (
        select(Authorization, Patient.name, Coverage.payer)
        .join(Patient, col(Patient.id) == Authorization.patient_id)
        .outerjoin(Coverage, col(Coverage.id) == Authorization.coverage_id)
    )


def list_authorizations(session: Session, wanted: AuthorizationFilter) -> list[AuthorizationRow]:
    """Authorizations matching ``wanted``: with --expiring, by end date; else by patient and latest first."""
    query = _base()
    if wanted.patient_id is not None:
        query = query.where(Authorization.patient_id == wanted.patient_id)
    if wanted.coordinator is not None:
        query = query.where(Patient.coordinator == wanted.coordinator)
    if wanted.status is not None:
        query = query.where(Authorization.status == wanted.status)
    if wanted.expiring is not None:
        day = today()
        query = query.where(
            Authorization.status == APPROVED,
            Patient.status != PatientStatus.discharged.value,  # as on the agenda
            col(Authorization.end_on) >= day,
            col(Authorization.end_on) <= day + timedelta(days=wanted.expiring),
        ).order_by(col(Authorization.end_on), col(Authorization.id))
    else:
        query = query.order_by(col(Patient.name_key), col(Authorization.patient_id), col(Authorization.id).desc())
    if wanted.limit is not None:
        query = query.limit(wanted.limit)
    return _rows(session, query)


FEW = "few units left"


@dataclass(frozen=True)
class Attention:
    """What needs a look: the first rows (each with the day it is due for a look) and how many in all."""

    rows: list[tuple[date, AuthorizationRow]]
    total: int


def needing_attention(
    session: Session, first: date, last: date, *, coordinator: str | None = None, limit: int | None = None
) -> Attention:
    """For the agenda (days ``first`` to ``last``), with the day each is due for a look: approved ones
    ending within ENDING_SOON_DAYS (listed from that many days before their end), approved ones with
    FEW_UNITS_LEFT units or fewer (from the first day), requests with no decision after UNDECIDED_DAYS
    (from that day on). Not discharged patients'. The ``limit`` soonest are loaded whole; the others
    only counted. A few indexed queries over ids and dates, then one for the rows shown."""
    live = [Patient.status != PatientStatus.discharged.value]
    if coordinator is not None:
        live.append(Patient.coordinator == coordinator)
    light = (
        select(col(Authorization.id), col(Authorization.end_on), col(Authorization.requested_on))
        .join(Patient, col(Patient.id) == Authorization.patient_id)
        .where(*live)
    )
    reasons: dict[int, list[str]] = {}
    dates: dict[int, date] = {}
    ends: dict[int, date | None] = {}

    def note(query: Any, day: Any, why: Any) -> None:
        for key, end, requested in session.exec(query).all():
            ends[key] = end
            reasons.setdefault(key, []).append(why(end, requested))
            dates[key] = min(dates.get(key, last), max(day(end, requested), first))

    ending = light.where(
        Authorization.status == APPROVED,
        col(Authorization.end_on) >= first,
        col(Authorization.end_on) <= last + timedelta(days=ENDING_SOON_DAYS),
    )
    note(ending, lambda end, _: end - timedelta(days=ENDING_SOON_DAYS), lambda end, _: f"ends {end}")
    used = (
        select(func.coalesce(func.sum(AuthorizationUse.units), 0))
        .where(AuthorizationUse.authorization_id == Authorization.id)
        .correlate(Authorization)
        .scalar_subquery()
    )
    for running in (col(Authorization.end_on) >= first, col(Authorization.end_on).is_(None)):
        few = light.where(
            Authorization.status == APPROVED,
            running,
            col(Authorization.units_approved).is_not(None),
            col(Authorization.units_approved) - used <= FEW_UNITS_LEFT,
            or_(col(Authorization.start_on).is_(None), col(Authorization.start_on) <= last),
        )
        note(few, lambda *_: first, lambda *_: FEW)
    waiting = light.where(
        Authorization.status == REQUESTED,
        and_(col(Authorization.requested_on).is_not(None),
             col(Authorization.requested_on) <= last - timedelta(days=UNDECIDED_DAYS)),
    )  # fmt: skip
    note(waiting, lambda _, requested: requested + timedelta(days=UNDECIDED_DAYS),
         lambda _, requested: f"requested {requested}, no decision")  # fmt: skip
    order = sorted(dates, key=lambda key: (dates[key], ends[key] or date.max, key))
    shown = order if limit is None else order[:limit]
    loaded: dict[int, tuple[Authorization, str, str | None]] = {}
    for batch in id_batches(shown):
        for authorization, name, payer in session.exec(_base().where(col(Authorization.id).in_(batch))).all():
            loaded[authorization.id or 0] = (authorization, name, payer)
    used_units = used_by(session, shown)
    rows = []
    for key in shown:
        authorization, name, payer = loaded[key]
        row = AuthorizationRow(authorization, name, payer, used_units.get(key, 0))
        left = row.units_left or 0
        words = [(f"{unit_word(authorization, left)} left" if left >= 0 else f"{unit_word(authorization, -left)} over")
                 if why == FEW else why for why in dict.fromkeys(reasons[key])]  # fmt: skip
        rows.append((dates[key], AuthorizationRow(authorization, name, payer, row.units_used, tuple(words))))
    return Attention(rows, len(order))


def linked_appointments(session: Session, authorization: Authorization) -> list[int]:
    """Ids of the appointments linked to the authorization."""
    query = select(Appointment.id).where(Appointment.authorization_id == authorization.id).order_by(col(Appointment.id))
    return [i for i in session.exec(query).all() if i is not None]
