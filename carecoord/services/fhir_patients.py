"""The patient-level FHIR resources: export sections and import handlers for Patient, its contacts
(RelatedPerson, CareTeam, Patient.contact), Coverage, and (with ``--conditions``) Condition.

Registered in :func:`carecoord.services.fhir_export.sections` and
:func:`carecoord.services.fhir_import.handlers`. Each export section reads its records for a batch
of patients with one ``IN`` query; each import handler finds the record a resource is (by the
carecoord uid it carries, else by what identifies it to people) and creates, updates or leaves it.

Conditions (``import fhir --conditions``): an active Condition (clinicalStatus active, recurrence or
relapse: https://terminology.hl7.org/CodeSystem-condition-clinical.html; not refuted or entered in
error) becomes a need of the patient's care plan, in words (code.text, else the code's display):
appended to the active plan (the latest started), or, when the patient has none, to a draft plan
"Needs from the EHR" (made once, and found again by its title), for the coordinator to review
rather than silently changing a plan in force. A need already on the plan is left alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from carecoord.dates import today
from carecoord.errors import CarecoordError, ConflictError, ValidationError
from carecoord.fhir import Refs
from carecoord.fhir import contacts as contact_fhir
from carecoord.fhir import coverage as coverage_fhir
from carecoord.fhir import patient as patient_fhir
from carecoord.fhir.elements import codes, read_name, record_uid, words
from carecoord.models import CarePlan, Contact, Coverage, Patient
from carecoord.phones import lenient
from carecoord.services import contacts as contact_service
from carecoord.services import coverage as coverage_service
from carecoord.services import patients as patient_service
from carecoord.services import plans as plan_service
from carecoord.services import snapshots
from carecoord.services.fhir_export import Section
from carecoord.services.fhir_import import Handler, ImportContext, Outcome, reference_text, referenced_type
from carecoord.services.lookup import IN_LIST_SIZE, search_key
from carecoord.services.tags import join_tags
from carecoord.vocab import PLAN_CLOSED, ContactMethod, PatientStatus

# --- export ---------------------------------------------------------------------------------------


def patient_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """The Patient resources of a batch."""
    for patient in patients:
        yield patient_fhir.to_fhir(patient, refs)


def _rows_of(session: Session, model: Any, patients: Sequence[Patient]) -> list[Any]:
    """A batch's rows of a table with a patient_id, as read-only snapshots, by patient then id."""
    ids = [patient.id for patient in patients]
    query = snapshots.query(model).where(col(model.patient_id).in_(ids)).order_by(col(model.patient_id), col(model.id))
    return snapshots.read(session, model, query)


def contact_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """A RelatedPerson per contact, then a CareTeam per patient who has contacts."""
    by_id = {patient.id: patient for patient in patients}
    grouped: dict[int, list[Any]] = defaultdict(list)
    for contact in _rows_of(session, Contact, patients):
        owner = by_id[contact.patient_id]
        grouped[contact.patient_id].append(contact)
        yield contact_fhir.related_person(contact, owner.uid, owner.name, refs)
    for patient_id, team in grouped.items():
        yield contact_fhir.care_team(by_id[patient_id], team, refs)


def coverage_section(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[dict[str, Any]]:
    """A Coverage per coverage record."""
    by_id = {patient.id: patient for patient in patients}
    for coverage in _rows_of(session, Coverage, patients):
        owner = by_id[coverage.patient_id]
        yield coverage_fhir.to_fhir(coverage, owner.uid, owner.name, refs)


# --- import ---------------------------------------------------------------------------------------

# What the status, dates and reason of a patient come from: carecoord's own extensions, not editable fields.
_PROGRAM_FIELDS = ("status", "enrolled_on", "discharged_on", "discharge_reason")


def _checked(key: str, check: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Values checked by a service's ``validate_fields``; a problem names the resource."""
    try:
        return dict(check(values))
    except CarecoordError as error:
        raise ValidationError(f"{key}: {error.message}") from None


def read_patient(resource: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, Any], list[str] | None]:
    """A Patient resource as checked fields, program fields (status, dates) and tags (None: not said)."""
    values = patient_fhir.from_fhir(resource)
    if not values.get("name"):
        raise ValidationError(f"{key}: the patient has no name")
    tags = values.pop("tags", None)
    program = {name: values.pop(name) for name in _PROGRAM_FIELDS if name in values}
    if "status" in program and program["status"] not in {s.value for s in PatientStatus}:
        raise ValidationError(f"{key}: status '{program['status']}' is not active, on-hold or discharged")
    if values.get("phone"):
        values["phone"] = lenient(values["phone"])  # an EHR's number is kept even when it cannot be read
    fields = _checked(key, patient_service.validate_fields, values)
    if tags is not None:
        try:
            join_tags(tags)
        except CarecoordError as error:
            raise ValidationError(f"{key}: {error.message}") from None
    return fields, program, tags


@dataclass
class _StoredPatients:
    """The stored patients a file's Patients may be, read in a few IN queries: by MRN (casefolded),
    by uid, and by name and date of birth. Patients created by the import are added as they come."""

    by_mrn: dict[str, Patient] = field(default_factory=dict)
    by_uid: dict[str, Patient] = field(default_factory=dict)
    by_name: dict[tuple[str, Any], list[Patient]] = field(default_factory=lambda: defaultdict(list))

    def add(self, patient: Patient) -> None:
        if patient.mrn:
            self.by_mrn.setdefault(patient.mrn.casefold(), patient)
        self.by_uid.setdefault(patient.uid, patient)
        self.by_name[(patient.name_key, patient.birth_date)].append(patient)


def _stored_patients(session: Session, ctx: ImportContext) -> _StoredPatients:
    found: _StoredPatients | None = ctx.state.get("stored-patients")
    if found is not None:
        return found
    found = _StoredPatients()
    resources = ctx.resources("Patient")
    mrns = {mrn for mrn in (patient_fhir.mrn_of(r) for r in resources) if mrn}
    uids = {ctx.uid(r) for r in resources}
    names = {search_key(name) for name in (read_name(r.get("name")) for r in resources) if name}
    for column, wanted in ((Patient.mrn, mrns), (Patient.uid, uids), (Patient.name_key, names)):
        values = sorted(wanted)
        for start in range(0, len(values), IN_LIST_SIZE):
            query = select(Patient).where(col(column).in_(values[start : start + IN_LIST_SIZE]))
            for patient in session.exec(query).all():
                if patient.uid not in found.by_uid:
                    found.add(patient)
    ctx.state["stored-patients"] = found
    return found


def find_patient(
    session: Session, ctx: ImportContext, resource: dict[str, Any], fields: dict[str, Any]
) -> Patient | None:
    """The stored patient a Patient resource is: the one with its MRN, else the one with its carecoord
    uid, else the one with its name and date of birth (unless both have MRNs and they differ)."""
    stored = _stored_patients(session, ctx)
    mrn = fields.get("mrn")
    if mrn and mrn.casefold() in stored.by_mrn:
        return stored.by_mrn[mrn.casefold()]
    if ctx.uid(resource) in stored.by_uid:
        return stored.by_uid[ctx.uid(resource)]
    born = fields.get("birth_date")
    if born is None:
        return None
    for candidate in stored.by_name.get((search_key(fields["name"]), born), ()):
        if not (mrn and candidate.mrn and candidate.mrn.casefold() != mrn.casefold()):
            return candidate
    return None


def import_patient(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """Create or update the patient a Patient resource describes (and its Patient.contact entries)."""
    key = ctx.key(resource)
    fields, program, tags = read_patient(resource, key)
    stored = find_patient(session, ctx, resource, fields)
    if stored is None:
        patient = _create(session, ctx, resource, fields, program, tags)
        outcome: Outcome = "created"
    else:
        patient = stored
        outcome = "updated" if _update(session, key, stored, fields, program, tags) else "unchanged"
    ctx.remember(resource, patient)
    changed = [
        _upsert_contact(session, ctx, patient, None, contact_fhir.from_patient_contact(entry), f"{key} contact")
        for entry in resource.get("contact") or ()
        if isinstance(entry, Mapping) and contact_fhir.from_patient_contact(entry).get("name")
    ]
    if outcome == "unchanged" and any(found != "unchanged" for found in changed):
        outcome = "updated"
    return outcome


def _create(
    session: Session,
    ctx: ImportContext,
    resource: dict[str, Any],
    fields: dict[str, Any],
    program: dict[str, Any],
    tags: list[str] | None,
) -> Patient:
    patient = Patient(
        name=fields["name"],
        name_key=search_key(fields["name"]),
        enrolled_on=program.get("enrolled_on") or today(),
        status=program.get("status", PatientStatus.active.value),
        discharged_on=program.get("discharged_on"),
        discharge_reason=program.get("discharge_reason"),
        tags=join_tags(tags or ()),
        **{k: v for k, v in fields.items() if k != "name"},
    )
    stored = _stored_patients(session, ctx)
    uid = ctx.uid(resource)
    if uid not in stored.by_uid:
        patient.uid = uid  # the sender's id survives the trip, so the next import finds it again
    session.add(patient)
    stored.add(patient)
    ctx.state.setdefault("contacts", {})[id(patient)] = []  # a new patient has no contacts stored
    ctx.state.setdefault("new-patients", set()).add(id(patient))
    return patient


def _update(
    session: Session,
    key: str,
    patient: Patient,
    fields: dict[str, Any],
    program: dict[str, Any],
    tags: list[str] | None,
) -> bool:
    """Apply what differs; whether anything did."""
    wanted = {**fields, **program}
    if tags is not None:
        wanted["tags"] = join_tags(tags)
    changes = {name: value for name, value in wanted.items() if getattr(patient, name) != value}
    if not changes:
        return False
    if changes.get("mrn"):
        holder = session.exec(
            select(Patient).where(col(Patient.mrn) == changes["mrn"], Patient.id != patient.id)
        ).first()
        if holder is not None:
            raise ConflictError(f"{key}: MRN {changes['mrn']} already belongs to patient #{holder.id}")
    for name, value in changes.items():
        setattr(patient, name, value)
    if "name" in changes:
        patient.name_key = search_key(patient.name)
    session.flush()
    return True


# --- contacts -------------------------------------------------------------------------------------


def _contacts_of(session: Session, ctx: ImportContext, patient: Patient) -> list[Contact]:
    """The patient's stored contacts, read once per import."""
    cache: dict[int, list[Contact]] = ctx.state.setdefault("contacts", {})
    if id(patient) not in cache:
        cache[id(patient)] = list(session.exec(select(Contact).where(Contact.patient_id == patient.id)).all())
    return cache[id(patient)]


def _upsert_contact(
    session: Session, ctx: ImportContext, patient: Patient, uid: str | None, values: dict[str, Any], key: str
) -> Outcome:
    """Create or update one contact of ``patient``: found by ``uid``, else by name (any case)."""
    if values.get("phone"):
        values["phone"] = lenient(values["phone"])
    if values.get("preferred_method") not in {m.value for m in ContactMethod}:
        values.pop("preferred_method", None)
    fields = _checked(key, contact_service.validate_fields, values)
    known = _contacts_of(session, ctx, patient)
    stored = next((c for c in known if uid and c.uid == uid), None) or next(
        (c for c in known if c.name.casefold() == fields["name"].casefold()), None
    )
    if stored is None:
        contact = Contact(**fields)
        if uid and session.exec(select(Contact.id).where(Contact.uid == uid)).first() is None:
            contact.uid = uid
        patient.contacts.append(contact)  # its patient id is set when the session flushes
        known.append(contact)
        return "created"
    changes = {name: value for name, value in fields.items() if getattr(stored, name) != value}
    if not changes:
        return "unchanged"
    for name, value in changes.items():
        setattr(stored, name, value)
    session.flush()
    return "updated"


def _patient_of(ctx: ImportContext, resource: dict[str, Any], element: str) -> Patient:
    """The patient a resource's ``element`` refers to; one that points at nothing is an error."""
    patient = ctx.patient(resource.get(element))
    if patient is None:
        target = reference_text(resource.get(element)) or "(none)"
        raise ValidationError(f"{ctx.key(resource)}: its {element} {target} points at no patient in the file")
    return patient


def import_related_person(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A RelatedPerson is a contact of its patient."""
    key = ctx.key(resource)
    patient = _patient_of(ctx, resource, "patient")
    values = contact_fhir.from_related_person(resource)
    if not values.get("name"):
        raise ValidationError(f"{key}: the contact has no name")
    outcome = _upsert_contact(session, ctx, patient, ctx.uid(resource), values, key)
    return outcome


_NOT_CONTACTS = ("RelatedPerson", "Patient", "Organization", "CareTeam", "Group", "HealthcareService")


def import_care_team(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """An active CareTeam's practitioners (named by display) become contacts, with their role and
    organization; its RelatedPersons are contacts already, and organizations are not people."""
    if resource.get("status") not in (None, "active"):
        return "skipped"
    patient = ctx.patient(resource.get("subject"))
    if patient is None:
        return "skipped"
    outcomes = []
    for participant in resource.get("participant") or ():
        member = participant.get("member") or {}
        target = ctx.target(member)
        kind = target["resourceType"] if target is not None else referenced_type(member)
        name = member.get("display") if isinstance(member.get("display"), str) else None
        if kind in _NOT_CONTACTS or not name or not name.strip():
            continue
        role = next((w for w in (words(r) for r in participant.get("role") or ()) if w), None)
        organization = (participant.get("onBehalfOf") or {}).get("display")
        values = {"name": name, "role": role, "organization": organization if isinstance(organization, str) else None}
        outcomes.append(_upsert_contact(session, ctx, patient, None, values, ctx.key(resource)))
    for outcome in ("created", "updated", "unchanged"):
        if outcome in outcomes:
            return outcome
    return "skipped"


# --- coverage -------------------------------------------------------------------------------------


def import_coverage(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """A Coverage of its beneficiary: found by uid, else by payer and member id; a draft is skipped."""
    key = ctx.key(resource)
    patient = _patient_of(ctx, resource, "beneficiary")
    values = coverage_fhir.from_fhir(resource)
    if values["status"] not in coverage_fhir.STATUSES:
        return "skipped"
    if values.get("phone"):
        values["phone"] = lenient(values["phone"])
    fields = _checked(key, coverage_service.validate_fields, values)
    uid = ctx.uid(resource)
    known = _coverages_of(session, ctx, patient)
    stored = next((c for c in known if c.uid == uid), None) or next(
        (c for c in known if (c.payer or "").casefold() == (fields.get("payer") or "").casefold()
         and (c.member_id or "") == (fields.get("member_id") or "")), None)  # fmt: skip
    try:
        if stored is None:
            assert patient.id is not None
            coverage = Coverage(patient_id=patient.id, **fields)
            coverage_service.check_order_free_among(coverage, known)
            if uid not in _stored_coverage_uids(session, ctx):
                coverage.uid = uid
            session.add(coverage)
            known.append(coverage)
            return "created"
        changes = {name: value for name, value in fields.items() if getattr(stored, name) != value}
        if not changes:
            return "unchanged"
        coverage_service.update_coverage(session, stored, changes)
        return "updated"
    except CarecoordError as error:
        raise ValidationError(f"{key}: {error.message}") from None


def _coverages_of(session: Session, ctx: ImportContext, patient: Patient) -> list[Coverage]:
    """The patient's coverages, read once per import (a patient new in this import has none stored)."""
    cache: dict[int, list[Coverage]] = ctx.state.setdefault("coverages", {})
    if id(patient) not in cache:
        new = id(patient) in ctx.state.get("new-patients", set())
        cache[id(patient)] = (
            [] if new else list(session.exec(select(Coverage).where(Coverage.patient_id == patient.id)))
        )
    return cache[id(patient)]


def _stored_coverage_uids(session: Session, ctx: ImportContext) -> set[str]:
    """The uids the file's Coverages would take that a stored coverage has already (a few IN queries)."""
    taken: set[str] | None = ctx.state.get("coverage-uids")
    if taken is None:
        uids = sorted({ctx.uid(resource) for resource in ctx.resources("Coverage")})
        taken = set()
        for start in range(0, len(uids), IN_LIST_SIZE):
            batch = uids[start : start + IN_LIST_SIZE]
            taken.update(session.exec(select(Coverage.uid).where(col(Coverage.uid).in_(batch))).all())
        ctx.state["coverage-uids"] = taken
    return taken


# --- conditions as needs --------------------------------------------------------------------------

CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACTIVE_CLINICAL = frozenset({"active", "recurrence", "relapse"})
NOT_TRUE = frozenset({"refuted", "entered-in-error"})
EHR_PLAN_TITLE = "Needs from the EHR"


def _plan_for_needs(session: Session, ctx: ImportContext, patient: Patient) -> CarePlan:
    """The plan a patient's needs from the EHR go on (see the module's docstring)."""
    cache: dict[int, CarePlan] = ctx.state.setdefault("need-plans", {})
    assert patient.id is not None
    if patient.id in cache:
        return cache[patient.id]
    stored = session.exec(select(CarePlan).where(CarePlan.patient_id == patient.id)).all()
    active = sorted(
        (p for p in stored if p.status == "active"), key=lambda p: (p.start_on or patient.enrolled_on, p.id or 0)
    )
    ehr = [p for p in stored if p.title == EHR_PLAN_TITLE and p.status not in PLAN_CLOSED]
    plan = active[-1] if active else ehr[0] if ehr else plan_service.add_plan(session, patient, EHR_PLAN_TITLE)
    cache[patient.id] = plan
    return plan


def _addressed_by_a_plan(ctx: ImportContext, condition: dict[str, Any]) -> bool:
    """Whether a carecoord CarePlan of the file (one that carries carecoord's record identifier)
    addresses the Condition: such a need comes back with its plan, not from the EHR's problem list."""
    addressed: set[int] | None = ctx.state.get("addressed-conditions")
    if addressed is None:
        addressed = set()
        for plan in ctx.resources("CarePlan"):
            if record_uid(plan) is None:
                continue
            for ref in plan.get("addresses") or ():
                target = ctx.target(ref)
                if target is not None:
                    addressed.add(id(target))
        ctx.state["addressed-conditions"] = addressed
    return id(condition) in addressed


def import_condition(session: Session, resource: dict[str, Any], ctx: ImportContext) -> Outcome:
    """With ``--conditions``, an active Condition becomes a need of its patient's plan."""
    if not ctx.options.get("conditions"):
        return "skipped"
    if not set(codes(resource.get("clinicalStatus"), CLINICAL_STATUS)) & ACTIVE_CLINICAL:
        return "skipped"
    if set(codes(resource.get("verificationStatus"), VERIFICATION_STATUS)) & NOT_TRUE:
        return "skipped"
    need = words(resource.get("code"))
    patient = ctx.patient(resource.get("subject"))
    if not need or patient is None or _addressed_by_a_plan(ctx, resource):
        return "skipped"
    plan = _plan_for_needs(session, ctx, patient)
    if need.casefold() in {n.casefold() for n in plan_service.split_needs(plan.needs)}:
        return "unchanged"
    try:
        plan_service.update_plan(session, plan, {}, add_needs=[need])
    except CarecoordError as error:
        raise ValidationError(f"{ctx.key(resource)}: {error.message}") from None
    return "created"


EXPORT_SECTIONS: list[Section] = [patient_section, contact_section, coverage_section]
IMPORT_HANDLERS: dict[str, Handler] = {
    "Patient": import_patient,
    "RelatedPerson": import_related_person,
    "CareTeam": import_care_team,
    "Coverage": import_coverage,
}
LAST_IMPORT_HANDLERS: dict[str, Handler] = {"Condition": import_condition}
