"""The assessment and navigation records in a FHIR export and import: screenings, the team's
directory, referrals, prior authorizations and program enrolments (issue 16).

``EXPORT_SECTIONS``: for one batch of patients, a few ``IN`` queries per kind of record, yielding the
resources the ``carecoord.fhir`` mapping modules make. ``IMPORT_HANDLERS``: resource type -> handler,
run in ``IMPORT_ORDER``; each finds its record again by uid (the resource id) and reports
created / updated / unchanged / skipped.

The directory is the team's, not a patient's: each HealthcareService a batch refers to is exported
once per export, and an import matches an existing entry (its uid, HSDS id, or name and phone) before
creating one.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from carecoord.errors import ValidationError
from carecoord.fhir import RECORD_ID_SYSTEM, Refs, uid_for
from carecoord.fhir import authorizations as fhir_auth
from carecoord.fhir import programs as fhir_programs
from carecoord.fhir import referrals as fhir_referrals
from carecoord.fhir import screenings as fhir_screenings
from carecoord.fhir.nav_codes import label
from carecoord.models import (
    Appointment,
    Authorization,
    AuthorizationUse,
    CarePlan,
    Coverage,
    Patient,
    ProgramEnrolment,
    Referral,
    ReferralEvent,
    Resource,
    Screening,
    ScreeningAnswer,
    Task,
)
from carecoord.services import snapshots
from carecoord.services.fhir_import import Handler, ImportContext, Outcome
from carecoord.services.lookup import id_batches

# --- small helpers -----------------------------------------------------------------------------------


def _rows(session: Session, model: Any, column: Any, ids: Iterable[int | None], *order: Any) -> list[Any]:
    """``SELECT model WHERE column IN ids``, in batches short enough for one IN each, as read-only
    snapshots (an export only reads: loading each row through the ORM cost most of its time)."""
    found: list[Any] = []
    query = snapshots.query(model)
    for batch in id_batches(ids):
        found += snapshots.read(session, model, query.where(col(column).in_(batch)).order_by(*order))
    return found


def _some(
    session: Session, model: Any, names: Sequence[str], column: Any, ids: Iterable[int | None], *order: Any
) -> list[Any]:
    """Like :func:`_rows`, but only the columns ``names`` (rows read by attribute): for the many rows
    under a record, whose timestamps an export does not use and would only convert."""
    found: list[Any] = []
    query: Any = sql_select(*(getattr(model, name) for name in names))
    for batch in id_batches(ids):
        found += snapshots.rows(session, query.where(col(column).in_(batch)).order_by(*order))
    return found


def _uids(session: Session, model: Any, ids: Iterable[int | None]) -> dict[int, str]:
    """id -> uid of the records of ``model`` with these ids (one IN query per batch)."""
    found: dict[int, str] = {}
    for batch in id_batches(ids):
        found.update(session.exec(select(model.id, model.uid).where(col(model.id).in_(batch))).all())
    return found


def _group(rows: Iterable[Any], key: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(row)
    return grouped


# The directory entries already written in this export: one set per Refs object (one per export).
_SENT: dict[int, tuple[weakref.ref[Refs], set[int]]] = {}


def _first_time(refs: Refs, resource_ids: Iterable[int]) -> list[int]:
    """The directory entries of ``resource_ids`` not yet written in the export ``refs`` belongs to."""
    held = _SENT.get(id(refs))
    if held is None or held[0]() is not refs:
        held = (weakref.ref(refs), set())
        _SENT[id(refs)] = held
    new = [i for i in dict.fromkeys(resource_ids) if i not in held[1]]
    held[1].update(new)
    return new


# --- export --------------------------------------------------------------------------------------------


EVENT_COLUMNS = ("uid", "referral_id", "at", "happened_on", "action", "from_status", "to_status", "outcome", "note",
                 "recorded_by")  # fmt: skip
APPOINTMENT_COLUMNS = ("id", "uid", "rrule", "starts_at", "authorization_id")
USE_COLUMNS = ("uid", "authorization_id", "used_on", "units", "appointment_id", "occurrence", "note")


def screening_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """Each patient's screenings: a QuestionnaireResponse and its Observations."""
    from carecoord.services.screenings import all_instruments, split_domains
    from carecoord.vocab import SDOH_DOMAINS

    by_id = {p.id: p for p in patients}
    found = _rows(session, Screening, Screening.patient_id, by_id, col(Screening.patient_id), col(Screening.id))
    if not found:
        return
    answered = _rows(session, ScreeningAnswer, ScreeningAnswer.screening_id, [s.id for s in found],
                     col(ScreeningAnswer.screening_id), col(ScreeningAnswer.position))  # fmt: skip
    answers = _group(answered, "screening_id")
    plans = _uids(session, CarePlan, [s.plan_id for s in found])
    tasks = _uids(session, Task, [s.safety_task_id for s in found])
    known = {i.key: i for i in all_instruments(session)}
    for screening in found:
        patient = by_id[screening.patient_id]
        instrument = known.get(screening.instrument)
        if instrument is None:
            continue  # an instrument no longer loaded: nothing to read the answers with
        links = fhir_screenings.Links(patient.uid, patient.name, plans.get(screening.plan_id or 0),
                                      tasks.get(screening.safety_task_id or 0))  # fmt: skip
        social = [c for c in split_domains(screening.positive_domains) if c in SDOH_DOMAINS]
        yield from fhir_screenings.screening_to_fhir(screening, answers.get(screening.id or 0, []), instrument,
                                                     links, refs, social)  # fmt: skip


def referral_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """The directory entries referred to (once per export), then each referral's ServiceRequest, Task
    and Consent."""
    from carecoord.services.screenings import split_domains

    by_id = {p.id: p for p in patients}
    found = _rows(session, Referral, Referral.patient_id, by_id, col(Referral.patient_id), col(Referral.id))
    if not found:
        return
    resource_ids = [r.resource_id for r in found if r.resource_id is not None]
    directory = {r.id: r for r in _rows(session, Resource, Resource.id, resource_ids, col(Resource.id))}
    for resource_id in _first_time(refs, resource_ids):
        yield fhir_referrals.resource_to_fhir(directory[resource_id])
    events = _group(_some(session, ReferralEvent, EVENT_COLUMNS, ReferralEvent.referral_id, [r.id for r in found],
                          col(ReferralEvent.referral_id), col(ReferralEvent.id)), "referral_id")  # fmt: skip
    screenings = {s.id: s for s in _rows(session, Screening, Screening.id, [r.screening_id for r in found],
                                         col(Screening.id))}  # fmt: skip
    tasks = _uids(session, Task, [r.followup_task_id for r in found])
    for referral in found:
        patient = by_id[referral.patient_id]
        screening = screenings.get(referral.screening_id or 0)
        resource = directory.get(referral.resource_id or 0)
        links = fhir_referrals.Links(
            patient.uid, patient.name, resource.uid if resource else None, screening.uid if screening else None,
            bool(screening and referral.need in split_domains(screening.positive_domains)),
            tasks.get(referral.followup_task_id or 0),
        )  # fmt: skip
        yield from fhir_referrals.referral_to_fhir(referral, events.get(referral.id or 0, []), links, refs)


def authorization_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """Each patient's prior authorizations, as ClaimResponses with their uses."""
    by_id = {p.id: p for p in patients}
    found = _rows(session, Authorization, Authorization.patient_id, by_id, col(Authorization.patient_id),
                  col(Authorization.id))  # fmt: skip
    if not found:
        return
    used = _some(session, AuthorizationUse, USE_COLUMNS, AuthorizationUse.authorization_id, [a.id for a in found],
                 col(AuthorizationUse.authorization_id), col(AuthorizationUse.id))  # fmt: skip
    uses = _group(used, "authorization_id")
    covered = _rows(session, Coverage, Coverage.id, [a.coverage_id for a in found], col(Coverage.id))
    coverages = {c.id: c for c in covered}
    referrals = _uids(session, Referral, [a.referral_id for a in found])
    sittings = {a.id: a for a in _some(session, Appointment, APPOINTMENT_COLUMNS, Appointment.id,
                                       [u.appointment_id for u in used], col(Appointment.id))}  # fmt: skip
    # The patients' appointments booked under an authorization: found by patient (an IN list of
    # authorization ids made SQLite scan the whole appointment table), the link checked here.
    theirs = _some(session, Appointment, APPOINTMENT_COLUMNS, Appointment.patient_id, by_id, col(Appointment.id))
    booked = _group([a for a in theirs if a.authorization_id is not None], "authorization_id")
    for authorization in found:
        patient = by_id[authorization.patient_id]
        coverage = coverages.get(authorization.coverage_id or 0)
        mine = uses.get(authorization.id or 0, [])
        links = fhir_auth.Links(
            patient.uid, patient.name, coverage.uid if coverage else None, coverage.payer if coverage else None,
            referrals.get(authorization.referral_id or 0),
            {u.uid: _appointment_id(sittings[u.appointment_id], u.occurrence) for u in mine
             if u.appointment_id in sittings},
            [_appointment_id(a, None) for a in booked.get(authorization.id or 0, [])],
        )  # fmt: skip
        yield fhir_auth.authorization_to_fhir(authorization, mine, links, refs)


def _appointment_id(appointment: Appointment, occurrence: datetime | None) -> str:
    """The id of the Appointment resource for an appointment: a one-off's uid; for a series, the
    occurrence's (its first when none is named), as the appointment mapping names them."""
    from carecoord.fhir.appointments import occurrence_uid

    if appointment.rrule is None:
        return appointment.uid
    return occurrence_uid(appointment.uid, occurrence or appointment.starts_at)


def program_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """Each patient's program enrolments: an EpisodeOfCare and a Consent each."""
    by_id = {p.id: p for p in patients}
    found = _rows(session, ProgramEnrolment, ProgramEnrolment.patient_id, by_id, col(ProgramEnrolment.patient_id),
                  col(ProgramEnrolment.id))  # fmt: skip
    for enrolment in found:
        patient = by_id[enrolment.patient_id]
        yield from fhir_programs.enrolment_to_fhir(enrolment, fhir_programs.Links(patient.uid, patient.name), refs)


EXPORT_SECTIONS: list[Callable[[Session, Sequence[Patient], Refs], Iterator[dict[str, Any]]]] = [
    screening_section,
    program_section,
    referral_section,
    authorization_section,
]


# --- import --------------------------------------------------------------------------------------------


def _read(reader: Callable[[Mapping[str, Any]], dict[str, Any]], resource: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping module's reading of a resource; its ValueError becomes the import's one-line error."""
    try:
        return reader(resource)
    except (ValueError, KeyError, TypeError) as error:
        message = str(error) if isinstance(error, ValueError) else f"cannot read it ({error})"
        raise ValidationError(
            message if message.startswith(label(resource)) else f"{label(resource)}: {message}"
        ) from None


def _uid(resource: Mapping[str, Any], ctx: ImportContext) -> str:
    """The uid of the record a resource maps to (the carecoord identifier it carries, else its id).
    QuestionnaireResponse.identifier is a single Identifier, not a list: read here."""
    single = resource.get("identifier")
    if isinstance(single, Mapping):
        value = single.get("value")
        if single.get("system") == RECORD_ID_SYSTEM and isinstance(value, str) and value.startswith("urn:uuid:"):
            return value.removeprefix("urn:uuid:")
        return uid_for(str(resource.get("resourceType")), str(resource.get("id") or ""))
    return str(ctx.uid(resource))


def _patient(ctx: ImportContext, resource: Mapping[str, Any], ref: str | None) -> Patient:
    patient = ctx.patient(ref) if ref else None
    if patient is None:
        raise ValidationError(f"{label(resource)}: its patient ({ref or 'none'}) is not in the file or stored")
    return patient


def _linked_id(ctx: ImportContext, resource: Mapping[str, Any], ref: str | None, model: Any, what: str) -> int | None:
    """The id of the record a reference names (None for no reference); one it cannot find is an error."""
    if not ref:
        return None
    found = ctx.record(ref, model)
    if found is None:
        raise ValidationError(f"{label(resource)}: its {what} ({ref}) is not in the file or stored")
    return found.id  # type: ignore[no-any-return]


def _store(session: Session, model: Any, uid: str, fields: Mapping[str, Any]) -> tuple[Any, Outcome]:
    """Create the record ``uid`` with ``fields``, or bring the stored one up to them."""
    record = session.exec(select(model).where(model.uid == uid)).first()
    if record is None:
        record = model(uid=uid, **fields)
        session.add(record)
        session.flush()
        return record, "created"
    changed = False
    for key, value in fields.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    if changed:
        session.flush()
    return record, "updated" if changed else "unchanged"


def import_service(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A directory entry: the one with this uid, HSDS id, or name and phone, else a new one. An entry
    found by HSDS id or name and phone is the team's: it is used as it is."""
    fields = _read(fhir_referrals.resource_from_fhir, resource)
    fields.update(_checked_entry(resource, fields))
    uid = _uid(resource, ctx)
    existing = session.exec(select(Resource).where(Resource.uid == uid)).first()
    if existing is None and fields["hsds_id"]:
        existing = session.exec(select(Resource).where(Resource.hsds_id == fields["hsds_id"])).first()
    if existing is None:
        same_name = session.exec(select(Resource).where(Resource.name == fields["name"])).all()
        existing = next((r for r in same_name if (r.phone or None) == (fields["phone"] or None)), None)
    if existing is not None and existing.uid != uid:
        ctx.remember(resource, existing)
        return "unchanged"
    record, outcome = _store(session, Resource, uid, fields)
    ctx.remember(resource, record)
    return outcome


def _checked_entry(resource: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields 'resource add' checks, checked the same way (another system's phone number is
    stored as E.164, its category read as 'resource add' reads one)."""
    from carecoord.fields import RESOURCE
    from carecoord.services.resources import validate_fields

    editable = {spec.key for spec in RESOURCE.editable}
    try:
        return validate_fields({k: v for k, v in fields.items() if k in editable})
    except ValidationError as error:
        raise ValidationError(f"{label(resource)}: {error.message}") from None


def import_screening(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A screening from its QuestionnaireResponse, scored by the instrument as 'screen add' scores it."""
    from carecoord.services import instruments, screenings

    if not fhir_screenings.is_carecoord_response(resource):
        return "skipped"  # another system's questionnaire: carecoord cannot score it
    read = _read(fhir_screenings.screening_from_fhir, resource)
    where = label(resource)
    patient = _patient(ctx, resource, read["patient_ref"])
    try:
        given = screenings.instrument(session, read["instrument"])
    except Exception:
        raise ValidationError(f"{where}: instrument '{read['instrument']}' is not known here "
                              "(load it with 'carecoord screen instruments --add FILE')") from None  # fmt: skip
    answers = []
    for item in given.items:
        codings = read["answers"].get(item.id, [])
        try:
            codes = fhir_screenings.answer_codes(item, codings, given.key)
            answers.append(instruments.check_answer(item, "+".join(codes), f"item {item.id}"))
        except (ValueError, ValidationError) as error:
            raise ValidationError(f"{where}: {getattr(error, 'message', str(error))}") from None
    try:
        result = instruments.score(given, answers)
    except ValidationError as error:
        raise ValidationError(f"{where}: {error.message}") from None
    fields = {
        "patient_id": patient.id, "instrument": given.key,
        "instrument_version": read["instrument_version"] or given.version, "loinc": given.loinc,
        "taken_on": read["taken_on"], "answered_by": read["answered_by"], "note": read["note"],
        "score": result.score, "band": instruments.band_code(result), "positive": result.positive,
        "positive_domains": screenings.DOMAIN_SEPARATOR.join(result.domain_codes), "safety_flag": result.safety,
        "plan_id": _linked_id(ctx, resource, read["plan_ref"], CarePlan, "care plan"),
        "safety_task_id": _linked_id(ctx, resource, read["safety_task_ref"], Task, "safety task"),
    }  # fmt: skip
    record, outcome = _store(session, Screening, _uid(resource, ctx), fields)
    wanted = [
        (n, a.item.id, a.item.loinc, a.code,
         instruments.MULTI_SEPARATOR.join(o.loinc for o in a.options if o.loinc) or None, a.score)
        for n, a in enumerate(answers, 1)
    ]  # fmt: skip
    # A new screening has no answers yet: they are added, and written with the next flush (one per
    # record cost most of an import's time).
    stored = [] if outcome == "created" else session.exec(
        select(ScreeningAnswer).where(ScreeningAnswer.screening_id == record.id).order_by(col(ScreeningAnswer.position))
    ).all()  # fmt: skip
    have = [(a.position, a.item_id, a.loinc, a.answer, a.answer_loinc, a.score) for a in stored]
    if have != wanted:
        for row in stored:
            session.delete(row)
        if stored:
            session.flush()
        for position, item_id, loinc, answer, answer_loinc, score in wanted:
            session.add(ScreeningAnswer(screening_id=record.id, position=position, item_id=item_id, loinc=loinc,
                                        answer=answer, answer_loinc=answer_loinc, score=score))  # fmt: skip
        outcome = "updated" if outcome == "unchanged" else outcome
    ctx.remember(resource, record)
    return outcome


def import_observation(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A screening's Observation says nothing its QuestionnaireResponse did not: taken with it.
    Any other Observation (vital signs, labs) is not carecoord's."""
    source = _carecoord_response(ctx, fhir_screenings.derived_from(resource))
    screening = ctx.record(source, Screening) if source else None
    return ctx.came_with(screening) if screening is not None else "skipped"


def _carecoord_response(ctx: ImportContext, ref: str | None) -> str | None:
    """The reference, if it names one of carecoord's QuestionnaireResponses in the file or stored
    (another system's is not a screening: left alone, never looked up by its identifier)."""
    if not ref:
        return None
    target = ctx.target(ref)
    if target is None:
        return ref if ref.startswith(("urn:uuid:", "QuestionnaireResponse/")) else None
    return ref if fhir_screenings.is_carecoord_response(target) else None


def _pending(ctx: ImportContext) -> dict[str, dict[str, Any]]:
    """Referral Tasks met before their ServiceRequest in this import (the Tasks are handled with the
    care-plan Tasks, before the ServiceRequests), by the referral's uid."""
    return ctx.state.setdefault("fhir-nav referral tasks", {})  # type: ignore[no-any-return]


def import_referral(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A referral from its ServiceRequest (where the loop stands comes from its Task)."""
    read = _read(fhir_referrals.referral_from_fhir, resource)
    patient = _patient(ctx, resource, read.pop("patient_ref"))
    fields = {
        **{k: read[k] for k in ("recipient", "kind", "need", "reason", "priority", "notes", "follow_up_days")},
        "patient_id": patient.id,
        "resource_id": _linked_id(ctx, resource, read["resource_ref"], Resource, "resource"),
        "screening_id": _linked_id(
            ctx, resource, _carecoord_response(ctx, read["screening_ref"]), Screening, "screening"
        ),
        "followup_task_id": _linked_id(ctx, resource, read["followup_task_ref"], Task, "follow-up task"),
    }
    record, outcome = _store(session, Referral, _uid(resource, ctx), fields)
    ctx.remember(resource, record)
    waiting = _pending(ctx).pop(record.uid, None)
    if waiting is not None:
        _apply_loop(session, record, waiting, fresh=outcome == "created")
    return outcome


def _apply_loop(session: Session, referral: Referral, loop: Mapping[str, Any], *, fresh: bool = False) -> bool:
    """Where the loop stands and its history, from the referral's Task; True when anything changed.
    ``fresh``: the referral was created in this import (it has no history to read; the new rows are
    written with the next flush)."""
    changed = False
    for key in ("status", "outcome", "status_reason", "sent_on", "closed_on", "changed_at"):
        value = loop[key]
        if key == "changed_at" and value is None:
            continue
        if getattr(referral, key) != value:
            setattr(referral, key, value)
            changed = True
    stored = (
        {}
        if fresh
        else {e.uid: e for e in session.exec(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id))}
    )
    for event in loop["events"]:
        values = {k: v for k, v in event.items() if k != "uid"}
        uid = uid_for("ReferralEvent", event["uid"]) if event["uid"] else None
        row = stored.get(uid) if uid else None
        if row is None:
            made = ReferralEvent(referral_id=referral.id, **values)  # type: ignore[arg-type]
            if uid:
                made.uid = uid
            session.add(made)
            changed = True
            continue
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed = True
    if changed and not fresh:
        session.flush()
    return changed


def import_referral_task(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A referral's Task: its status, outcome and history, onto the referral (now, or when its
    ServiceRequest comes). Any other Task is not this module's: skipped."""
    if not fhir_referrals.is_referral_task(resource):
        return "skipped"
    loop = _read(fhir_referrals.referral_task_from_fhir, resource)
    referral = ctx.record(loop["referral_ref"], Referral)
    if referral is None:
        request = ctx.target(loop["referral_ref"])
        if request is None:
            raise ValidationError(f"{label(resource)}: its ServiceRequest ({loop['referral_ref']}) is not in the file")
        _pending(ctx)[_uid(request, ctx)] = loop
        return "created"
    existed = session.exec(select(ReferralEvent.id).where(ReferralEvent.referral_id == referral.id)).first()
    changed = _apply_loop(session, referral, loop)
    return ("updated" if existed else "created") if changed else "unchanged"


def import_consent(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A referral's consent to share, or a program's consent, onto its record."""
    subject = fhir_referrals.consent_subject(resource)
    if not subject:
        return "skipped"
    referral = ctx.record(subject, Referral)
    if referral is not None:
        fields = _read(fhir_referrals.referral_consent_from_fhir, resource)
        before = referral.consent_method
        changed = _assign(referral, fields)
        session.flush()
        return ("created" if before is None else "updated") if changed else ctx.came_with(referral)
    enrolment = ctx.record(subject, ProgramEnrolment)
    if enrolment is not None and enrolment.id in ctx.state.get("fhir-nav enrolments used as they are", ()):
        return "unchanged"  # the enrolment recorded here already, with its own consent
    if enrolment is not None:
        changed = _assign(enrolment, _read(fhir_programs.program_consent_from_fhir, resource))
        session.flush()
        return "updated" if changed else ctx.came_with(enrolment)
    return "skipped"


def _assign(record: Any, fields: Mapping[str, Any]) -> bool:
    changed = False
    for key, value in fields.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    return changed


def import_enrolment(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A program enrolment from its EpisodeOfCare (one without a carecoord program is skipped)."""
    from carecoord.fhir.nav_codes import own_code

    if own_code(resource.get("type") or [], "program") is None:
        return "skipped"
    read = _read(fhir_programs.enrolment_from_fhir, resource)
    patient = _patient(ctx, resource, read.pop("patient_ref"))
    uid = _uid(resource, ctx)
    if session.exec(select(ProgramEnrolment.id).where(ProgramEnrolment.uid == uid)).first() is None:
        # The patient's own enrolment in the program, recorded here already: the same one when it began
        # the same day; another one still open is refused, as 'program enroll' refuses it.
        from carecoord.services.programs import current, describe

        same = session.exec(select(ProgramEnrolment).where(
            ProgramEnrolment.patient_id == patient.id, ProgramEnrolment.program == read["program"],
            ProgramEnrolment.enrolled_on == read["enrolled_on"])).first()  # fmt: skip
        if same is not None:
            ctx.remember(resource, same)
            ctx.state.setdefault("fhir-nav enrolments used as they are", set()).add(same.id)
            return "unchanged"
        already = current(session, patient, read["program"])
        if already is not None and read["ended_on"] is None:
            raise ValidationError(f"{label(resource)}: #{patient.id} {patient.name} is already enrolled in "
                                  f"{describe(already)}")  # fmt: skip
    record, outcome = _store(session, ProgramEnrolment, uid, {**read, "patient_id": patient.id})
    ctx.remember(resource, record)
    return outcome


def import_authorization(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A prior authorization from its ClaimResponse, with its uses (a claim's response is skipped)."""
    if not fhir_auth.is_prior_authorization(resource):
        return "skipped"
    read = _read(fhir_auth.authorization_from_fhir, resource)
    patient = _patient(ctx, resource, read.pop("patient_ref"))
    uses, booked = read.pop("uses"), read.pop("booked_refs")
    coverage_ref, referral_ref = read.pop("coverage_ref"), read.pop("referral_ref")
    fields = {
        **read, "patient_id": patient.id,
        "coverage_id": _linked_id(ctx, resource, coverage_ref, Coverage, "coverage"),
        "referral_id": _linked_id(ctx, resource, referral_ref, Referral, "referral"),
    }  # fmt: skip
    record, outcome = _store(session, Authorization, _uid(resource, ctx), fields)
    stored = (
        {}
        if outcome == "created"
        else {
            u.uid: u
            for u in session.exec(select(AuthorizationUse).where(AuthorizationUse.authorization_id == record.id))
        }
    )
    changed = False
    for use in uses:
        values = {
            "used_on": use["used_on"], "units": use["units"], "occurrence": use["occurrence"], "note": use["note"],
            "appointment_id": _appointment(session, ctx, resource, use["appointment_ref"]),
        }  # fmt: skip
        uid = uid_for("AuthorizationUse", use["uid"]) if use["uid"] else None
        row = stored.get(uid) if uid else None
        if row is None:
            use_row = AuthorizationUse(authorization_id=record.id, **values)
            if uid:
                use_row.uid = uid
            session.add(use_row)
            changed = True
        else:
            changed = _assign(row, values) or changed
    for ref in booked:
        appointment = session.get(Appointment, _appointment(session, ctx, resource, ref))
        if appointment is not None and appointment.authorization_id != record.id:
            appointment.authorization_id, changed = record.id, True
    if changed:  # written with the next flush
        outcome = "updated" if outcome == "unchanged" else outcome
    ctx.remember(resource, record)
    return outcome


def _appointment(session: Session, ctx: ImportContext, resource: Mapping[str, Any], ref: str | None) -> int | None:
    """The id of the appointment an Appointment reference names: a one-off, or the series an
    occurrence belongs to (its ``appointment-series`` extension names the series' uid)."""
    from carecoord.fhir.nav_codes import ext_value, extensions_named

    if not ref:
        return None
    found = ctx.record(ref, Appointment)
    target = ctx.target(ref) if found is None else None
    series = next((ext_value(e, "uid", "String") for e in extensions_named(target or {}, "appointment-series")), None)
    if series:
        found = session.exec(select(Appointment).where(Appointment.uid == series)).first()
    if found is None:
        raise ValidationError(f"{label(resource)}: its appointment ({ref}) is not in the file or stored")
    return found.id


IMPORT_HANDLERS: dict[str, Handler] = {
    "HealthcareService": import_service,
    "EpisodeOfCare": import_enrolment,
    "QuestionnaireResponse": import_screening,
    "Observation": import_observation,
    "ServiceRequest": import_referral,
    "Task": import_referral_task,
    "Consent": import_consent,
    "ClaimResponse": import_authorization,
}
# After the patients, coverage, appointments, plans and tasks (a screening names its plan and safety
# task; a referral its follow-up task; an authorization its coverage and appointments), in this order.
# "Task" and "EpisodeOfCare" are shared with the care-plan mapping (services/fhir_care.py): see
# import_handlers.
IMPORT_ORDER = ("HealthcareService", "EpisodeOfCare", "QuestionnaireResponse", "Observation", "ServiceRequest",
                "Task", "Consent", "ClaimResponse")  # fmt: skip


def chain(first: Handler, then: Handler) -> Handler:
    """One handler for a type two mappings share: ``first``, and ``then`` for what it skips."""

    def handle(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
        outcome = first(session, resource, ctx)
        return then(session, resource, ctx) if outcome == "skipped" else outcome

    return handle


def import_handlers() -> dict[str, Handler]:
    """The handlers to merge after the care-plan ones (``{**care, **these}``): for a type both map
    (a referral's Task and a care-plan Task; a program's EpisodeOfCare and a transition's), this
    module's handler, then the care-plan one for what it skips; a shared type keeps its earlier place
    in the order (the referral Tasks wait for their ServiceRequest: :func:`_pending`)."""
    from carecoord.services import fhir_care

    others: Mapping[str, Any] = fhir_care.IMPORT_HANDLERS
    return {kind: chain(IMPORT_HANDLERS[kind], others[kind]) if kind in others else IMPORT_HANDLERS[kind]
            for kind in IMPORT_ORDER}  # fmt: skip


# Every table these sections and handlers fill, for the round-trip comparison.
ROUND_TRIP_TABLES = ("screening", "screening_answer", "resource", "referral", "referral_event",
                     "prior_authorization", "authorization_use", "program_enrolment")  # fmt: skip
