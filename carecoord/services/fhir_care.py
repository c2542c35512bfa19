"""The care-planning records in FHIR exports and imports: care plans (with their needs and reviews),
goals, tasks, the communication log and transitions of care.

Export: :data:`EXPORT_SECTIONS`, each a few ``IN`` queries for a batch of patients, yielding resources
(the mappings are in ``carecoord.fhir``). Import: :data:`IMPORT_HANDLERS`, one per resource type, run
in :data:`IMPORT_ORDER` (a plan before its goals, goals before the tasks that focus on them, tasks
before the transitions that name them). A record is found again by its uid: importing the same file
twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, select

from carecoord.errors import ValidationError
from carecoord.fhir import Refs
from carecoord.fhir.communications import communication_from_fhir, communication_party, communication_to_fhir
from carecoord.fhir.elements import record_uid
from carecoord.fhir.goals import goal_from_fhir, goal_plan, goal_to_fhir
from carecoord.fhir.parts import name
from carecoord.fhir.plans import needs_to_fhir, plan_from_fhir, plan_to_fhir, reviews_from_fhir
from carecoord.fhir.tasks import task_from_fhir, task_links, task_to_fhir
from carecoord.fhir.transitions import is_transition, transition_from_fhir, transition_tasks, transition_to_fhir
from carecoord.models import CarePlan, Communication, Contact, Goal, Patient, PlanReview, Task, Transition
from carecoord.services import snapshots
from carecoord.services.fhir_export import Section
from carecoord.services.fhir_import import Handler, ImportContext, Outcome

Resource = dict[str, Any]
M = TypeVar("M", bound=SQLModel)

# The resource type a contact is exported as (carecoord.fhir.contacts: every contact is a RelatedPerson).
CONTACT_RESOURCE = "RelatedPerson"


# --- export ---------------------------------------------------------------------------------------


def _by_patients(session: Session, model: type[M], patient_ids: Sequence[int | None]) -> list[M]:
    """The patients' rows of ``model`` in id order, as read-only snapshots (services.snapshots)."""
    column, key = model.patient_id, model.id  # type: ignore[attr-defined]
    query = snapshots.query(model).where(col(column).in_(patient_ids)).order_by(col(key))
    return snapshots.read(session, model, query)


def _grouped(records: Sequence[Any], key: str) -> dict[Any, list[Any]]:
    """Records by the value of one of their columns, in their order."""
    found: dict[Any, list[Any]] = defaultdict(list)
    for record in records:
        found[getattr(record, key)].append(record)
    return found


def _uids(session: Session, model: type[SQLModel], ids: set[int]) -> dict[int, str]:
    """The uid of each record by id (one query)."""
    if not ids:
        return {}
    id_column, uid_column = model.id, model.uid  # type: ignore[attr-defined]
    return dict(session.exec(select(id_column, uid_column).where(col(id_column).in_(ids))).all())


def export_plans(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[Resource]:
    """Each patient's care plans with their needs (Condition) and reviews, goals and tasks."""
    from carecoord.dates import local_zone

    patient_uid = {p.id: p.uid for p in patients}
    ids = list(patient_uid)
    plans = _by_patients(session, CarePlan, ids)
    goals = _by_patients(session, Goal, ids)
    tasks = _by_patients(session, Task, ids)
    reviews = _grouped(sorted(_by_patients(session, PlanReview, ids), key=lambda r: (r.reviewed_on, r.id)), "plan_id")
    plan_uid = {plan.id: plan.uid for plan in plans}
    goal_uid = {goal.id: goal.uid for goal in goals}
    plan_goals, plan_tasks = _grouped(goals, "plan_id"), _grouped(tasks, "plan_id")
    for plan in plans:
        owner = patient_uid[plan.patient_id]
        yield plan_to_fhir(
            plan, owner, refs,
            goal_uids=[goal.uid for goal in plan_goals.get(plan.id, ())],
            task_uids=[task.uid for task in plan_tasks.get(plan.id, ())],
            reviews=reviews.get(plan.id, ()),
        )  # fmt: skip
        yield from needs_to_fhir(plan, owner, refs)
    for goal in goals:
        yield goal_to_fhir(goal, patient_uid[goal.patient_id], plan_uid[goal.plan_id], refs)
    series_uid = _series_uids(tasks)
    zone = local_zone()
    for task in tasks:
        assert task.patient_id is not None
        yield task_to_fhir(
            task, refs, patient_uid=patient_uid[task.patient_id], zone=zone,
            plan_uid=plan_uid.get(task.plan_id), goal_uid=goal_uid.get(task.goal_id),
            series_uid=series_uid.get(task.series_id) if task.series_id is not None else None,
        )  # fmt: skip


def _series_uids(tasks: Sequence[Task]) -> dict[int, str]:
    """Each series' name: the uid of its first task still there (a series is one patient's: all here)."""
    first: dict[int, Task] = {}
    for task in sorted(tasks, key=lambda t: t.id or 0, reverse=True):
        if task.series_id is not None:
            first[task.series_id] = task  # the lowest id is seen last
    return {series: task.uid for series, task in first.items()}


def export_log(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[Resource]:
    """Each patient's communication log, oldest first, each entry with the contact it was with."""
    patient_uid = {p.id: p.uid for p in patients}
    query = snapshots.query(Communication).where(col(Communication.patient_id).in_(list(patient_uid)))
    order = (col(Communication.patient_id), col(Communication.at), col(Communication.id))
    entries = snapshots.read(session, Communication, query.order_by(*order))
    contact_uid = _uids(session, Contact, {e.contact_id for e in entries if e.contact_id is not None})
    for entry in entries:
        found = contact_uid.get(entry.contact_id) if entry.contact_id is not None else None
        contact = (CONTACT_RESOURCE, found) if found else None
        yield communication_to_fhir(entry, patient_uid[entry.patient_id], refs, contact=contact)


def export_transitions(session: Session, patients: Sequence[Patient], refs: Refs) -> Iterator[Resource]:
    """Each patient's transitions of care, naming their follow-up tasks."""
    from carecoord.dates import today

    patient_uid = {p.id: p.uid for p in patients}
    transitions = _by_patients(session, Transition, list(patient_uid))
    task_ids = {i for t in transitions for i in (t.contact_task_id, t.visit_task_id) if i is not None}
    task_uid = _uids(session, Task, task_ids)
    as_of = today()
    for transition in transitions:
        yield transition_to_fhir(
            transition, patient_uid[transition.patient_id], refs, today=as_of,
            contact_task_uid=task_uid.get(transition.contact_task_id or 0),
            visit_task_uid=task_uid.get(transition.visit_task_id or 0),
        )  # fmt: skip


EXPORT_SECTIONS: list[Section] = [export_plans, export_log, export_transitions]


# --- import ---------------------------------------------------------------------------------------


@contextmanager
def _named(resource: Resource) -> Iterator[None]:
    """A validation error about a field, reported with the resource it came from."""
    try:
        yield
    except ValidationError as error:
        prefix = f"{name(resource)}: "
        raise ValidationError(error.message if error.message.startswith(prefix) else prefix + error.message) from None


def _stored(session: Session, ctx: ImportContext, model: type[M], resource_type: str) -> dict[str, M]:
    """The stored ``model`` rows that the file's resources of ``resource_type`` may be, by uid: read once
    per import in a few IN queries (then kept up to date by :func:`upsert`), not once per resource."""
    key = f"fhir-care:{resource_type}"
    if key not in ctx.type_state:
        uids = [ctx.uid(resource) for resource in ctx.resources(resource_type)]
        found: dict[str, M] = {}
        for start in range(0, len(uids), IN_BATCH):
            query = select(model).where(col(model.uid).in_(uids[start : start + IN_BATCH]))  # type: ignore[attr-defined]
            found.update({record.uid: record for record in session.exec(query)})  # type: ignore[attr-defined]
        ctx.type_state[key] = found
    return ctx.type_state[key]  # type: ignore[no-any-return]


IN_BATCH = 500  # uids per IN list


def upsert(
    model: type[M], stored: dict[str, M], uid: str, fields: Mapping[str, Any], session: Session
) -> tuple[M, Outcome]:
    """The record with ``uid`` (among ``stored``) made to hold ``fields``: created, updated or unchanged.
    A new record is added, not flushed: the import flushes each type's records together (the caller
    flushes when it needs the id at once)."""
    found = stored.get(uid)
    if found is None:
        record = model(uid=uid, **fields)
        session.add(record)
        stored[uid] = record
        return record, "created"
    changed = {key: value for key, value in fields.items() if getattr(found, key) != value}
    for key, value in changed.items():
        setattr(found, key, value)
    return found, "updated" if changed else "unchanged"


def _patient(resource: Resource, key: str, ctx: ImportContext) -> Patient:
    """The patient a resource is about; one that names none carecoord can find is an error."""
    patient = ctx.patient(resource.get(key))
    if patient is None:
        raise ValidationError(f"{name(resource)}: {key} points at no Patient in the file")
    return patient


def _merge(*outcomes: Outcome) -> Outcome:
    """A record with its parts: created if it was, else updated if anything changed."""
    first = outcomes[0]
    if first != "unchanged":
        return first
    return "updated" if any(o in ("created", "updated") for o in outcomes[1:]) else "unchanged"


def import_plan(session: Session, resource: Resource, ctx: ImportContext) -> Outcome:
    """A CarePlan: the plan (needs from ``addresses``) and its recorded reviews."""
    from carecoord.services import text

    patient = _patient(resource, "subject", ctx)
    with _named(resource):
        fields = plan_from_fhir(resource)
        fields["title"] = text.required_line(fields["title"], "plan's title")
        fields["needs"] = "\n".join(text.required_line(n, "need") for n in fields["needs"].split("\n") if n)
        fields["notes"] = text.free_text(fields["notes"], "notes")
        reviews = reviews_from_fhir(resource)
    stored = _stored(session, ctx, CarePlan, "CarePlan")
    plan, outcome = upsert(CarePlan, stored, ctx.uid(resource), {**fields, "patient_id": patient.id}, session)
    outcomes = [outcome]
    if reviews and plan.id is None:
        session.flush()  # the reviews need the plan's id
    for review in reviews:
        uid = review.pop("uid")
        with _named(resource):
            review["note"] = text.free_text(review["note"], "review note")
        known = {r.uid: r for r in session.exec(select(PlanReview).where(PlanReview.uid == uid))}
        fields = {**review, "plan_id": plan.id, "patient_id": patient.id}
        outcomes.append(upsert(PlanReview, known, uid, fields, session)[1])
    ctx.remember(resource, plan)
    return _merge(*outcomes)


def import_goal(session: Session, resource: Resource, ctx: ImportContext) -> Outcome:
    """A Goal of a care plan in the file (a Goal that names no plan has nowhere to go: skipped)."""
    from carecoord.services import text

    ref = goal_plan(resource)
    plan = ctx.record(ref, CarePlan) if ref is not None else None
    if plan is None:
        return "skipped"
    patient = _patient(resource, "subject", ctx)
    if patient.id != plan.patient_id:
        raise ValidationError(f"{name(resource)}: its CarePlan is another patient's")
    with _named(resource):
        fields = goal_from_fhir(resource)
        fields["description"] = text.required_line(fields["description"], "goal's description")
        fields["measure"] = text.single_line(fields["measure"], "measure")
    stored = _stored(session, ctx, Goal, "Goal")
    goal, outcome = upsert(Goal, stored, ctx.uid(resource), {**fields, "plan_id": plan.id, "patient_id": patient.id},
                           session)  # fmt: skip
    ctx.remember(resource, goal)
    return outcome


# The referral's closed-loop Task (services.fhir_navigation exports and imports it): task-code "fulfill",
# https://hl7.org/fhir/R4/codesystem-task-code.html
TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"


def _is_referral_task(resource: Resource) -> bool:
    codes = (resource.get("code") or {}).get("coding") or []
    focus = str((resource.get("focus") or {}).get("reference") or "")
    return any(c.get("system") == TASK_CODE and c.get("code") == "fulfill" for c in codes) or focus.startswith(
        "ServiceRequest/"
    )


def import_task(session: Session, resource: Resource, ctx: ImportContext) -> Outcome:
    """A Task for a patient: with its plan, goal and series (a referral's own Task is not one of these)."""
    from carecoord.dates import local_zone
    from carecoord.services import tags, text

    if _is_referral_task(resource):
        return "skipped"
    links = task_links(resource)
    if links.patient is None:
        return "skipped"  # carecoord's exports carry a patient's tasks only
    patient = _patient(resource, "for", ctx)
    plan = next((p for ref in links.based_on if (p := ctx.record(ref, CarePlan)) is not None), None)
    goal = ctx.record(links.focus, Goal) if links.focus else None
    for parent, what in ((plan, "CarePlan"), (goal, "Goal")):
        if parent is not None and parent.patient_id != patient.id:
            raise ValidationError(f"{name(resource)}: its {what} is another patient's")
    with _named(resource):
        fields = task_from_fhir(resource, local_zone())
        fields["title"] = text.required_line(fields["title"], "task's title")
        fields["notes"] = text.free_text(fields["notes"], "notes")
        fields["status_reason"] = text.single_line(fields["status_reason"], "status reason")
        fields["tags"] = tags.join_tags(tags.split_tags(fields["tags"]))
    uid = ctx.uid(resource)
    fields |= {"patient_id": patient.id, "plan_id": plan.id if plan else (goal.plan_id if goal else None),
               "goal_id": goal.id if goal else None}  # fmt: skip
    series = links.series or (uid if fields["rrule"] else None)  # a repeating task from elsewhere starts one
    stored = _stored(session, ctx, Task, "Task")
    fields["series_id"] = _series_id(session, stored, series, uid)
    task, outcome = upsert(Task, stored, uid, fields, session)
    if series is not None and task.series_id is None:  # the first of its series: its own id, once it has one
        if task.id is None:
            session.flush()
        task.series_id = task.id
    ctx.remember(resource, task)
    return outcome


def _series_id(session: Session, stored: dict[str, Task], series: str | None, uid: str) -> int | None:
    """The series_id of a task whose series is named ``series`` (the uid of the series' first task): the
    first task's series when that is stored, else the task's own id (None while the task is not stored)."""
    if series is None:
        return None
    first = stored.get(series) if series != uid else None
    if first is None and series != uid:
        first = session.exec(select(Task).where(Task.uid == series)).first()
    if first is not None:
        if first.id is None:
            session.flush()
        return first.series_id or first.id
    own = stored.get(uid)
    return own.id if own is not None else None


def import_communication(session: Session, resource: Resource, ctx: ImportContext) -> Outcome:
    """A Communication: one log entry, with the contact it was with when the file has it."""
    from carecoord.dates import local_zone
    from carecoord.services import text
    from carecoord.services.communications import MAX_MINUTES
    from carecoord.vocab import PROGRAM_NAMES

    patient = _patient(resource, "subject", ctx)
    with _named(resource):
        fields = communication_from_fhir(resource, local_zone())
        fields["with_whom"] = text.single_line(fields["with_whom"], "'with'")
        fields["note"] = text.free_text(fields["note"], "note")
        if not 0 <= fields["minutes"] <= MAX_MINUTES:
            raise ValidationError(f"{fields['minutes']} minutes is not a length for one entry")
        if fields["program"] not in PROGRAM_NAMES:
            fields["program"] = None
    party = communication_party(resource)
    contact = ctx.record(party, Contact) if party else None
    fields["contact_id"] = contact.id if contact is not None and contact.patient_id == patient.id else None
    stored = _stored(session, ctx, Communication, "Communication")
    entry, outcome = upsert(Communication, stored, ctx.uid(resource), {**fields, "patient_id": patient.id}, session)
    ctx.remember(resource, entry)
    return outcome


def import_transition(session: Session, resource: Resource, ctx: ImportContext) -> Outcome:
    """An EpisodeOfCare that is a transition of care, with its follow-up tasks (other episodes: skipped)."""
    from carecoord.services import text
    from carecoord.services.transitions import deadlines

    if not is_transition(resource):
        return "skipped"
    patient = _patient(resource, "patient", ctx)
    with _named(resource):
        fields = transition_from_fhir(resource)
        fields["facility"] = text.required_line(fields["facility"], "facility")
        fields["notes"] = text.free_text(fields["notes"], "notes")
    contact_due, visit_due = deadlines(fields["discharged_on"], fields["complexity"])
    fields["contact_due"] = fields["contact_due"] or contact_due
    fields["visit_due"] = fields["visit_due"] or visit_due
    for key, ref in zip(("contact_task_id", "visit_task_id"), transition_tasks(resource), strict=True):
        task = ctx.record(ref, Task) if ref else None
        fields[key] = task.id if task is not None and task.patient_id == patient.id else None
    stored = _stored(session, ctx, Transition, "EpisodeOfCare")
    transition, outcome = upsert(Transition, stored, ctx.uid(resource), {**fields, "patient_id": patient.id}, session)
    ctx.remember(resource, transition)
    return outcome


IMPORT_ORDER: tuple[str, ...] = ("CarePlan", "Goal", "Task", "Communication", "EpisodeOfCare")


def carecoord_made(handler: Handler) -> Handler:
    """The handler, for resources carecoord exported (they carry its record identifier); others are
    skipped: an EHR's or Synthea's CarePlans, Goals, Tasks and Communications are its own record of its
    care (years of them, with no title a coordinator gave), not a coordinator's plan; their patients,
    contacts, coverage, appointments and (with --conditions) conditions are what an import takes."""

    def handle(session: Session, resource: Resource, ctx: ImportContext) -> Outcome:
        return handler(session, resource, ctx) if record_uid(resource) is not None else "skipped"

    handle.__doc__ = handler.__doc__
    return handle


IMPORT_HANDLERS: dict[str, Handler] = {
    "CarePlan": carecoord_made(import_plan),
    "Goal": carecoord_made(import_goal),
    "Task": carecoord_made(import_task),
    "Communication": carecoord_made(import_communication),
    "EpisodeOfCare": carecoord_made(import_transition),
}
