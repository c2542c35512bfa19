"""People and roles: who is signed in, the team on a PostgreSQL server, and handing a patient over.

On a team store each person signs in as their own database role, a member of one of the two group
roles the migrations create (``carecoord_coordinator``, ``carecoord_supervisor``); the server's
row-level security decides what each sees and changes. Nothing here filters access: these functions
manage the roles and ask the server.

On SQLite (one person's file) the signed-in person is the operating-system user, and there is no team.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc, text
from sqlmodel import Session, col, func, select

from carecoord import dialects
from carecoord.errors import ConflictError, NotFoundError, RefusedError, UsageError, ValidationError
from carecoord.models import Patient
from carecoord.services.text import required_line
from carecoord.vocab import PatientStatus

GROUP_WORDS = {dialects.COORDINATOR_GROUP: "coordinator", dialects.SUPERVISOR_GROUP: "supervisor"}
MAX_ROLE_LENGTH = 63  # PostgreSQL's identifier limit (NAMEDATALEN - 1)
INSUFFICIENT_PRIVILEGE = "42501"


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def is_team_store(session: Session) -> bool:
    return _dialect(session) == dialects.POSTGRESQL


def me(session: Session) -> str:
    """Who is signed in: the database role on a team store, the operating-system user on a file."""
    sql = dialects.signed_in_sql(_dialect(session))
    if sql is None:
        return dialects.default_coordinator(_dialect(session)) or ""
    return str(session.connection().execute(text(sql)).scalar_one())


def role_name(value: str) -> str:
    """A role name as typed, checked: one line, at most 63 characters, not a group role or pg_ name."""
    name = required_line(value, "role name")
    if len(name.encode()) > MAX_ROLE_LENGTH:
        raise ValidationError(f"a role name has at most {MAX_ROLE_LENGTH} characters; '{name[:20]}...' is longer")
    if name in dialects.TEAM_GROUPS or name.lower().startswith("pg_"):
        raise ValidationError(f"'{name}' is a group or system role, not a person's role")
    return name


def _require_team_store(session: Session) -> None:
    if not is_team_store(session):
        raise UsageError("a team store is a PostgreSQL server (--db postgresql://host/dbname); this is a database file")


def groups_of(session: Session, role: str) -> list[str]:
    """The team groups ``role`` was added to (none when it is not on the team, or does not exist)."""
    rows = session.connection().execute(text(dialects.MEMBER_GROUPS_SQL), {"role": role}).scalars().all()
    return sorted(str(group) for group in rows)


# --- the team, as an administrator manages it ---------------------------------------------------


@dataclass(frozen=True)
class Added:
    role: str
    group: str
    created: bool  # a new login role, without a password yet
    left: str | None  # the other group, left (a coordinator made supervisor, or back)


def add_member(session: Session, role: str, group: str) -> Added:
    """Put ``role`` on the team in ``group``, creating it as a login role when it does not exist.
    Run by an administrator (a role that may create roles and grant the groups): the server refuses
    anyone else."""
    _require_team_store(session)
    name = role_name(role)
    if group not in dialects.TEAM_GROUPS:
        raise ValidationError(f"the group is {' or '.join(dialects.TEAM_GROUPS)}, not '{group}'")
    connection = session.connection()
    exists = connection.execute(text(dialects.ROLE_EXISTS_SQL), {"role": name}).first()
    current = groups_of(session, name)
    if group in current:
        raise ConflictError(f"{name} is already a {GROUP_WORDS[group]} on this team")
    if exists is None:
        connection.execute(text(dialects.create_login_role_sql(name)))
    left = None
    for other in current:
        connection.execute(text(dialects.revoke_group_sql(other, name)))
        left = other
    connection.execute(text(dialects.grant_group_sql(group, name)))
    return Added(name, group, exists is None, left)


@dataclass(frozen=True)
class Removed:
    role: str
    groups: list[str]
    patients: int  # still assigned to the role: a supervisor hands them over


def remove_member(session: Session, role: str) -> Removed:
    """Take ``role`` off the team (both groups). The login role itself stays (it may be used for other
    things on the server); the patients assigned to it stay assigned until a supervisor hands them over."""
    _require_team_store(session)
    name = role_name(role)
    current = groups_of(session, name)
    if not current:
        raise NotFoundError(f"{name} is not on this team (see 'carecoord team list')")
    for group in current:
        session.connection().execute(text(dialects.revoke_group_sql(group, name)))
    assigned = session.exec(select(func.count()).select_from(Patient).where(Patient.coordinator == name)).one()
    return Removed(name, current, int(assigned))


@dataclass(frozen=True)
class Member:
    role: str
    group: str | None  # None: patients are assigned to a role no longer on the team
    patients: int  # assigned, whatever their status
    active: int  # assigned and active


def members(session: Session) -> list[Member]:
    """The team: each member's group and patients (those the signed-in role may see), and roles that
    still hold patients without being on the team."""
    _require_team_store(session)
    found = session.connection().execute(text(dialects.TEAM_MEMBERS_SQL)).all()
    counts = {
        coordinator: (int(total), int(active or 0))
        for coordinator, total, active in session.exec(
            select(
                Patient.coordinator,
                func.count(),
                func.count().filter(col(Patient.status) == PatientStatus.active.value),
            ).group_by(col(Patient.coordinator))
        ).all()
    }
    team: dict[str, list[str]] = {}
    for role, group in found:
        team.setdefault(str(role), []).append(str(group))
    listed = [
        Member(role, group, *counts.get(role, (0, 0))) for role, groups in sorted(team.items()) for group in groups
    ]
    listed += [Member(str(role), None, *n) for role, n in sorted(counts.items()) if role not in team]
    return listed


# --- handing a patient over ---------------------------------------------------------------------


def assign(session: Session, patient: Patient, role: str) -> Patient:
    """Hand ``patient`` over to ``role``, with everything recorded under them (their contacts, plans,
    tasks, appointments and log follow the patient). On a team store only a supervisor may: the server
    refuses anyone else, and ``role`` must be on the team."""
    name = role_name(role) if is_team_store(session) else required_line(role, "coordinator")
    if patient.coordinator == name:
        raise ConflictError(f"patient #{patient.id} is already assigned to {name}")
    if is_team_store(session) and not groups_of(session, name):
        raise ValidationError(
            f"{name} is not on this team (a member of {dialects.COORDINATOR_GROUP} or {dialects.SUPERVISOR_GROUP}); "
            "an administrator adds them with 'carecoord team add'"
        )
    patient_id = patient.id  # read now: after a refused flush the session cannot load anything
    patient.coordinator = name
    try:
        session.flush()
    except exc.DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
            raise RefusedError(
                f"the server refused to hand patient #{patient_id} over: only a supervisor "
                f"({dialects.SUPERVISOR_GROUP}) reassigns patients"
            ) from None
        raise
    return patient


# --- narrowing listings to one coordinator's patients (for supervisors, who see everyone's) ------


def of_coordinator(patient_id: Any, coordinator: str) -> Any:
    """SQL: the row's patient (``patient_id``) is assigned to ``coordinator``: one index search on
    the patients, whatever the listing."""
    return col(patient_id).in_(select(Patient.id).where(Patient.coordinator == coordinator))
