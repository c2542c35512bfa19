"""What differs between the two engines, in one place: SQLite (a coordinator's file) and
PostgreSQL (a team's server).

Models and migrations take their engine-specific types and index options from here, and the two
stores (``db.py``, ``server.py``) their transaction settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, String, Table, insert, text
from sqlalchemy.dialects.postgresql import CITEXT
from sqlalchemy.types import TypeEngine

from carecoord.vocab import TeamGroup

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def case_insensitive_text() -> TypeEngine[str]:
    """Text compared without regard to case (an MRN typed 'ab12' finds 'AB12', and both cannot be
    stored): SQLite's NOCASE collation; PostgreSQL's citext (created by migration 0001)."""
    return String(collation="NOCASE").with_variant(CITEXT(), POSTGRESQL)


def partial_index(condition: str) -> dict[str, Any]:
    """Keyword arguments of an ``Index`` that covers only rows meeting ``condition`` (both engines)."""
    clause = text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


def sqlite_begin(*, write: bool) -> str:
    """How a command's transaction starts on SQLite: a writer takes the write lock up front (BEGIN
    IMMEDIATE) and waits for it (busy timeout), instead of failing half-way when a read turns into
    a write."""
    return "BEGIN IMMEDIATE" if write else "BEGIN"


# Each command's connection turns off PostgreSQL's just-in-time compilation. A command's queries
# take milliseconds; JIT pays off only for long analytic ones, and it starts whenever the planner's
# cost estimate passes jit_above_cost. Row-level security inflates those estimates: a coordinator's
# agenda at agency size spent 2.7 s compiling one 0.35 s query ("patients without recent contact").
SESSION_SETTINGS_SQL = "SET jit = off"


def postgresql_options(*, write: bool) -> dict[str, Any]:
    """How a command's transaction runs on PostgreSQL: in one snapshot (REPEATABLE READ), read-only
    unless it writes. A write that meets a concurrent one fails with a serialization error, and the
    command is run again (see ``server.RetryableConflict``)."""
    return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": not write}


def allocate_ids(connection: Connection, table: Table, count: int, *, above: int = 0) -> list[int]:
    """``count`` new ids for rows about to be added to ``table`` with their ids given (``db copy``),
    ascending, none of them used or to be used by anybody else. PostgreSQL draws them from the table's
    sequence (in this transaction or not, nobody else gets them, and it never hands out an id twice);
    SQLite gives the largest stored id (or ``above``, an id the store still names, such as a deleted
    record's in the audit trail) plus one onwards (the copy holds the write lock)."""
    if count == 0:
        return []
    if connection.dialect.name == POSTGRESQL:
        draw = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)")
        return sorted(connection.execute(draw, {"table": f'"{table.name}"', "count": count}).scalars())
    largest = max(connection.execute(text(f'SELECT max(id) FROM "{table.name}"')).scalar_one() or 0, above)
    return list(range(largest + 1, largest + count + 1))


def _row_security_active(connection: Connection, table: Table) -> bool:
    """Whether row-level security applies to the signed-in role on ``table`` (a coordinator on the
    team store): PostgreSQL then refuses COPY FROM, and the rows go in as INSERTs, each checked
    against the access policies."""
    found = connection.execute(text("SELECT row_security_active(:table)"), {"table": f'"{table.name}"'})
    return bool(found.scalar_one())


def insert_rows(connection: Connection, table: Table, columns: Sequence[Column[Any]], rows: Sequence[Any]) -> None:
    """Insert a batch of rows (tuples in the order of ``columns``) as they are, ids included.
    PostgreSQL takes them through COPY, many times faster than row-by-row INSERTs at agency size
    (values first go through the columns' own types, as an INSERT would send them); SQLite through
    one executemany; PostgreSQL where row-level security applies to the signed-in role (COPY is
    refused then) through INSERTs of many rows each."""
    names = [column.name for column in columns]
    if connection.dialect.name != POSTGRESQL:
        connection.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    if _row_security_active(connection, table):
        # Many rows per INSERT (SQLAlchemy's "insertmanyvalues", which RETURNING turns on): the access
        # policy's subquery is then planned once per statement, not once per row.
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        connection.execute(returning, [dict(zip(names, row, strict=True)) for row in rows]).all()
        return
    processors = [column.type._cached_bind_processor(connection.dialect) for column in columns]
    listed = ", ".join(f'"{column.name}"' for column in columns)
    import psycopg
    from sqlalchemy import exc

    statement = f'COPY "{table.name}" ({listed}) FROM STDIN'
    driver: Any = connection.connection.driver_connection  # the psycopg connection, in this transaction
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                pairs = zip(processors, row, strict=True)
                copy.write_row([value if process is None else process(value) for process, value in pairs])
    except psycopg.Error as error:  # as SQLAlchemy reports a failed statement (an IntegrityError, say)
        raise exc.DBAPIError.instance(statement, None, error, psycopg.Error, dialect=connection.dialect) from None


# --- people and roles (migration 0008): who is signed in, the team's group roles, access policies --

COORDINATOR_GROUP = TeamGroup.coordinator.value
SUPERVISOR_GROUP = TeamGroup.supervisor.value
TEAM_GROUPS = (COORDINATOR_GROUP, SUPERVISOR_GROUP)


def default_coordinator(dialect: str) -> str | None:
    """Who a new patient is assigned to when nobody says: on SQLite the operating-system user (one
    person's file); on PostgreSQL None, so the server's ``DEFAULT current_user`` fills it in (the
    signed-in role, as the server knows it, never a name the client sends)."""
    if dialect == POSTGRESQL:
        return None
    from carecoord.services.audit import os_user

    return os_user()


def signed_in_sql(dialect: str) -> str | None:
    """SQL for the role this session is signed in as (PostgreSQL); None on SQLite (no roles)."""
    return "SELECT current_user" if dialect == POSTGRESQL else None


def quote_role(name: str) -> str:
    """A role name as a quoted SQL identifier (roles cannot be bound as parameters)."""
    return '"' + name.replace('"', '""') + '"'


def _is_supervisor() -> str:
    # Evaluated once per statement (an InitPlan), not once per row.
    return f"(SELECT pg_has_role(current_user, '{SUPERVISOR_GROUP}', 'MEMBER'))"


def create_group_roles_sql() -> str:
    """Create the two group roles if missing. Roles belong to the whole server (every database on it
    shares them), so they are created once and never dropped by a migration; two databases migrated
    at the same moment may both try, and the second one's attempt is quietly skipped."""
    creates = "\n".join(
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{group}') THEN\n"
        f"    BEGIN CREATE ROLE {group} NOLOGIN;\n"
        f"    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;\n"
        f"  END IF;"
        for group in TEAM_GROUPS
    )
    return f"DO $$\nBEGIN\n{creates}\nEND\n$$"


def grant_team_sql(tables: tuple[str, ...], append_only: tuple[str, ...]) -> list[str]:
    """The team's privileges: read and change ``tables``; only read and add to ``append_only`` (the
    audit trail); draw ids from their sequences; read the schema revision."""
    groups = ", ".join(TEAM_GROUPS)
    statements = [f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{t}" TO {groups}' for t in tables]
    statements += [f'GRANT SELECT, INSERT ON "{t}" TO {groups}' for t in append_only]
    statements += [f'GRANT USAGE ON SEQUENCE "{t}_id_seq" TO {groups}' for t in (*tables, *append_only)]
    statements.append(f"GRANT SELECT ON alembic_version TO {groups}")
    return statements


def revoke_team_sql(tables: tuple[str, ...]) -> list[str]:
    """Take back what :func:`grant_team_sql` gave, in this database only (the roles stay: other
    databases on the server may use them)."""
    groups = ", ".join(TEAM_GROUPS)
    statements = [f'REVOKE ALL ON "{t}" FROM {groups}' for t in tables]
    statements += [f'REVOKE ALL ON SEQUENCE "{t}_id_seq" FROM {groups}' for t in tables]
    statements.append(f"REVOKE ALL ON alembic_version FROM {groups}")
    return statements


def patient_policy_sql() -> list[str]:
    """Row-level security on patients: a coordinator sees and changes only the patients assigned to
    them, and cannot assign one to anybody else (WITH CHECK); a supervisor sees and changes all."""
    mine = f"coordinator = current_user OR {_is_supervisor()}"
    return [
        'ALTER TABLE "patient" ENABLE ROW LEVEL SECURITY',
        f'CREATE POLICY carecoord_team ON "patient" USING ({mine}) WITH CHECK ({mine})',
    ]


def child_policy_sql(table: str, *, patient_optional: bool = False) -> list[str]:
    """Row-level security on a table whose rows belong to a patient: a row is visible and changeable
    when its patient is (the patient policy decides). Rows with no patient (tasks for the whole team)
    are everyone's on the team."""
    visible = "patient_id IN (SELECT id FROM patient)"
    if patient_optional:
        visible = f"patient_id IS NULL OR {visible}"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'CREATE POLICY carecoord_team ON "{table}" USING ({visible}) WITH CHECK ({visible})',
    ]


def parent_policy_sql(table: str, column: str, parent: str) -> list[str]:
    """Row-level security on a table whose rows hang off another table rather than a patient (a
    screening's answers): a row is visible and changeable when its parent row is (the parent's own
    policy decides, through its patient)."""
    visible = f'{column} IN (SELECT id FROM "{parent}")'
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'CREATE POLICY carecoord_team ON "{table}" USING ({visible}) WITH CHECK ({visible})',
    ]


def grant_directory_sql(tables: tuple[str, ...]) -> list[str]:
    """The team's privileges on a directory that belongs to everyone (community resources): everyone
    reads, adds and corrects entries; nobody deletes one (an entry is retired, so that the referrals
    made to it keep their history). No row-level security: there is no patient to hide."""
    groups = ", ".join(TEAM_GROUPS)
    statements = [f'GRANT SELECT, INSERT, UPDATE ON "{t}" TO {groups}' for t in tables]
    statements += [f'GRANT USAGE ON SEQUENCE "{t}_id_seq" TO {groups}' for t in tables]
    return statements


AUDIT_ROLE_FUNCTION = "carecoord_audit_db_role"


def audit_policy_sql() -> list[str]:
    """The audit trail on a team store: each row names the database role that wrote it, set by the
    server whatever the client sent (a trigger); coordinators read their patients' rows and their own,
    supervisors all; nobody updates or deletes a row (no privilege and no policy allows it)."""
    readable = f"{_is_supervisor()} OR db_role = current_user OR patient_id IN (SELECT id FROM patient)"
    return [
        "ALTER TABLE audit_log ALTER COLUMN db_role SET DEFAULT current_user",
        f"CREATE FUNCTION {AUDIT_ROLE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n  NEW.db_role := current_user;\n  RETURN NEW;\nEND\n$$",
        f"CREATE TRIGGER {AUDIT_ROLE_FUNCTION} BEFORE INSERT ON audit_log "
        f"FOR EACH ROW EXECUTE FUNCTION {AUDIT_ROLE_FUNCTION}()",
        "ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY carecoord_read ON audit_log FOR SELECT USING ({readable})",
        "CREATE POLICY carecoord_add ON audit_log FOR INSERT WITH CHECK (db_role = current_user)",
    ]


DISCLOSURE_TABLES = ("disclosure", "disclosure_patient")


def disclosure_policy_sql() -> list[str]:
    """The account of disclosures on a team store (migration 0014): each row names the role that
    wrote it, set by the server (the audit trail's trigger function); a coordinator reads the
    disclosures of their patients and those they made, a supervisor all; a disclosure's patients
    are read by whoever sees the patient (or made the disclosure), so a coordinator never learns
    another's patients from a supervisor's export. Nobody updates or deletes a row (no privilege,
    no policy). The disclosure's policy looks at its patients, never the other way (PostgreSQL
    refuses policies that refer to each other)."""
    statements: list[str] = []
    for table in DISCLOSURE_TABLES:
        statements += [
            f'ALTER TABLE "{table}" ALTER COLUMN db_role SET DEFAULT current_user',
            f'CREATE TRIGGER {AUDIT_ROLE_FUNCTION} BEFORE INSERT ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {AUDIT_ROLE_FUNCTION}()",
            f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
            f'CREATE POLICY carecoord_add ON "{table}" FOR INSERT WITH CHECK (db_role = current_user)',
        ]
    mine = f"{_is_supervisor()} OR db_role = current_user"
    statements += [
        f"CREATE POLICY carecoord_read ON disclosure FOR SELECT USING ({mine} "
        "OR id IN (SELECT disclosure_id FROM disclosure_patient))",
        f"CREATE POLICY carecoord_read ON disclosure_patient FOR SELECT USING ({mine} "
        "OR patient_id IN (SELECT id FROM patient))",
    ]
    return statements


def sqlite_append_only_sql(table: str) -> list[str]:
    """On a database file, triggers that refuse to change or delete a row of ``table`` (the account
    of disclosures): carecoord never does, and another program (the sqlite3 shell) is stopped too."""
    refuse = f"SELECT RAISE(ABORT, '{table} rows are never changed or deleted: the account of disclosures')"
    return [
        f'CREATE TRIGGER "{table}_append_only_{action.lower()}" BEFORE {action} ON "{table}" BEGIN {refuse}; END'
        for action in ("UPDATE", "DELETE")
    ]


def drop_audit_trigger_sql() -> list[str]:
    """Undo the trigger that names the role in each audit row (only 0008 made it: a later migration's
    downgrade must leave it, or the audit trail takes whatever role a client writes)."""
    return [
        f"DROP TRIGGER IF EXISTS {AUDIT_ROLE_FUNCTION} ON audit_log",
        f"DROP FUNCTION IF EXISTS {AUDIT_ROLE_FUNCTION}()",
    ]


def drop_policies_sql(tables: tuple[str, ...]) -> list[str]:
    """Undo the policies and row-level security on ``tables``."""
    statements: list[str] = []
    for table in tables:
        statements += [f'DROP POLICY IF EXISTS {name} ON "{table}"' for name in ("carecoord_team", "carecoord_read",
                                                                                 "carecoord_add")]  # fmt: skip
        statements.append(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    return statements


# --- the team's members, as an administrator manages them -----------------------------------------

ROLE_EXISTS_SQL = "SELECT rolcanlogin FROM pg_roles WHERE rolname = :role"
# Direct members of the two groups (what 'team add' grants). A superuser is implicitly a member of
# every role, so pg_has_role would count the administrator in: the catalogue says who was added.
TEAM_MEMBERS_SQL = (
    "SELECT m.rolname AS role, g.rolname AS team_group FROM pg_auth_members a "
    "JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
    f"WHERE g.rolname IN ('{COORDINATOR_GROUP}', '{SUPERVISOR_GROUP}') ORDER BY m.rolname, g.rolname"
)
MEMBER_GROUPS_SQL = (
    "SELECT g.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
    f"JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = :role "
    f"AND g.rolname IN ('{COORDINATOR_GROUP}', '{SUPERVISOR_GROUP}')"
)
IS_SUPERVISOR_SQL = f"SELECT {_is_supervisor()}"


def create_login_role_sql(role: str) -> str:
    """A new login role without a password: the administrator sets one (or the server's
    authentication method, such as peer, cert or LDAP, signs the person in)."""
    return f"CREATE ROLE {quote_role(role)} LOGIN"


def grant_group_sql(group: str, role: str) -> str:
    return f"GRANT {group} TO {quote_role(role)}"


def revoke_group_sql(group: str, role: str) -> str:
    return f"REVOKE {group} FROM {quote_role(role)}"
