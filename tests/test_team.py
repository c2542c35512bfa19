"""People and roles: every patient has a coordinator; on a team store (PostgreSQL) each person signs in
as their own role and the server's row-level security decides what they see and change (issue 12,
items 3 and 4)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from carecoord.cli import app
from carecoord.services.audit import os_user
from tests import stores
from tests.conftest import Run, assert_one_line_error


def execute(engine: str, db_url: str, request: pytest.FixtureRequest, sql: str) -> None:
    """Change the test database directly, as the administrator (committed)."""
    if engine == "postgresql":
        request.getfixturevalue("postgres").rows(sql, ())
        return
    with closing(sqlite3.connect(db_url)) as conn:
        conn.execute(sql)
        conn.commit()


def signed_in(engine: str) -> str:
    """Who the suite's own commands run as: the OS user on SQLite, the admin URL's role on PostgreSQL."""
    if engine == "sqlite":
        return os_user()
    from sqlalchemy.engine import make_url

    admin = stores.postgres_admin_url()
    assert admin is not None
    return make_url(admin).username or os_user()


# --- every patient has a coordinator (both engines) ---------------------------------------------


def test_a_new_patient_is_assigned_to_the_person_adding_and_show_says_so(cli, engine, rows):
    added = json.loads(cli("patient", "add", "Jane Doe", "-f", "json").stdout)
    me = signed_in(engine)
    assert added["coordinator"] == me
    assert rows("SELECT coordinator FROM patient") == [{"coordinator": me}]
    shown = cli("patient", "show", "jane").stdout
    assert any(line.split() == ["Coordinator", me] for line in shown.splitlines()), shown
    listed = json.loads(cli("patient", "list", "-f", "json").stdout)
    assert [p["coordinator"] for p in listed] == [me]


def test_the_audit_names_the_database_role_on_a_server_and_nothing_on_a_file(cli, engine, rows):
    cli("patient", "add", "Jane Doe")
    [entry] = json.loads(cli("audit", "-f", "json").stdout)
    assert entry["os_user"] == os_user()
    assert entry["db_role"] == (signed_in(engine) if engine == "postgresql" else None)
    assert entry["changes"]["coordinator"] == [None, signed_in(engine)]
    assert rows("SELECT db_role FROM audit_log") == [{"db_role": entry["db_role"]}]
    table = cli("audit").stdout
    assert "DB role" in table
    if engine == "postgresql":
        assert f" {signed_in(engine)} " in table


def test_patient_assign_on_a_file_hands_the_patient_over_and_is_audited(cli, db_file, rows, unchanged):
    cli("patient", "add", "Jane Doe", "--mrn", "A1")
    cli("task", "add", "Call Jane", "--patient", "jane")
    run = cli("patient", "assign", "jane", "dana")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == f"Patient #1 Jane Doe (MRN A1) handed over from {os_user()} to dana."
    assert rows("SELECT coordinator FROM patient") == [{"coordinator": "dana"}]
    [latest, *_] = json.loads(cli("audit", "-f", "json").stdout)
    assert (latest["action"], latest["record"], latest["changes"]) == (
        "update", "patient #1", {"coordinator": [os_user(), "dana"]}
    )  # fmt: skip
    with unchanged():
        assert_one_line_error(cli("patient", "assign", "jane", "dana"), 1, "already assigned to dana")
        assert_one_line_error(cli("patient", "assign", "nobody", "dana"), 1, "no patient matches 'nobody'")
        assert_one_line_error(cli("patient", "assign", "jane", "  "), 1, "must not be empty")


def test_team_commands_say_a_team_lives_on_a_server(cli, db_file, unchanged):
    with unchanged():
        for args in (("team", "add", "dana", "--coordinator"), ("team", "remove", "dana"), ("team", "list")):
            assert_one_line_error(cli(*args), 2, "a team store is a PostgreSQL server")


def test_team_add_takes_exactly_one_group(cli, db_file):
    assert_one_line_error(cli("team", "add", "dana"), 2, "--coordinator or --supervisor")
    assert_one_line_error(cli("team", "add", "dana", "--coordinator", "--supervisor"), 2, "--coordinator or")


@pytest.fixture
def two_caseloads(
    cli: Callable[..., Run], engine: str, db_url: str, request: pytest.FixtureRequest
) -> Callable[..., Run]:
    """Jane Doe (#1) is the signed-in person's; Omar Haddad (#2) is dana's. Each has a task due today,
    an appointment tomorrow and 20 minutes logged this month; one task has no patient."""
    for name, mrn in (("Jane Doe", "A1"), ("Omar Haddad", "B1")):
        cli("patient", "add", name, "--mrn", mrn)
        cli("task", "add", f"Call {name}", "--patient", mrn, "--due", "today")
        cli("appt", "add", mrn, "--start", "tomorrow 10:00", "--type", "office")
        cli("log", "add", mrn, "--minutes", "20", "--when", "today 8am")
    cli("task", "add", "Team meeting notes", "--due", "today")
    execute(engine, db_url, request, "UPDATE patient SET coordinator = 'dana' WHERE id = 2")
    return cli


def test_mine_and_coordinator_narrow_lists_and_the_agenda(two_caseloads, engine):
    cli = two_caseloads

    def names(*args: str) -> list[str]:
        run = cli(*args, "-f", "json")
        assert run.exit_code == 0, run.stderr
        return sorted(r.get("patient_name") or r.get("name") for r in json.loads(run.stdout))

    assert names("patient", "list") == ["Jane Doe", "Omar Haddad"]
    assert names("patient", "list", "--mine") == ["Jane Doe"]
    assert names("patient", "list", "--coordinator", "dana") == ["Omar Haddad"]
    assert names("patient", "list", "--coordinator", "nobody") == []
    assert names("task", "list", "--mine") == ["Jane Doe"]  # the team's task has no coordinator
    assert names("task", "list", "--coordinator", "dana") == ["Omar Haddad"]
    assert len(json.loads(cli("task", "list", "-f", "json").stdout)) == 3
    assert names("appt", "list", "--coordinator", "dana") == ["Omar Haddad"]
    assert names("appt", "list", "--mine") == ["Jane Doe"]
    agenda = json.loads(cli("agenda", "--days", "2", "--coordinator", "dana", "-f", "json").stdout)
    seen = {item["patient_name"] for day in agenda["days"] for kind in ("appointments", "tasks")
            for item in day[kind]}  # fmt: skip
    assert seen == {"Omar Haddad"}
    mine = json.loads(cli("agenda", "--days", "2", "--mine", "-f", "json").stdout)
    assert {item["patient_name"] for day in mine["days"] for item in day["appointments"] + day["tasks"]} == {"Jane Doe"}
    assert_one_line_error(cli("patient", "list", "--mine", "--coordinator", "dana"), 2, "not both")


def _summaries(run: Run) -> list[str]:
    """The SUMMARY of every event and to-do in a calendar written to stdout."""
    assert run.exit_code == 0, run.stderr
    return sorted(line.removeprefix("SUMMARY:") for line in run.stdout.splitlines() if line.startswith("SUMMARY:"))


def test_export_ics_takes_mine_and_coordinator_like_the_listings(two_caseloads, engine):
    cli = two_caseloads
    week = ("export", "ics", "--days", "7", "--tasks", "--out", "-")
    assert _summaries(cli(*week)) == ["Call Jane Doe (Jane Doe)", "Call Omar Haddad (Omar Haddad)",
                                      "Office visit: Jane Doe", "Office visit: Omar Haddad",
                                      "Team meeting notes"]  # fmt: skip
    assert _summaries(cli(*week, "--coordinator", "dana")) == ["Call Omar Haddad (Omar Haddad)",
                                                               "Office visit: Omar Haddad"]  # fmt: skip
    assert _summaries(cli(*week, "--mine")) == ["Call Jane Doe (Jane Doe)", "Office visit: Jane Doe"]
    assert _summaries(cli(*week, "--coordinator", "nobody")) == []
    assert_one_line_error(cli(*week, "--mine", "--coordinator", "dana"), 2, "not both")


def test_report_caseload_by_coordinator_compares_caseloads(two_caseloads, engine):
    cli = two_caseloads
    cli("task", "add", "Late call", "--patient", "B1", "--due", "2026-11-20")
    cli("log", "add", "B1", "--minutes", "25", "--when", "2026-11-02 9am")
    cli("log", "add", "B1", "--minutes", "90", "--when", "2026-10-30 9am")  # last month: not counted
    run = cli("report", "caseload", "--by", "coordinator", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout) == [
        {"coordinator": "dana", "patients": 1, "open_tasks": 2, "overdue_tasks": 1, "minutes": 45},
        {"coordinator": signed_in(engine), "patients": 1, "open_tasks": 1, "overdue_tasks": 0, "minutes": 20},
    ]
    table = cli("report", "caseload", "--by", "coordinator").stdout
    assert "Caseload by coordinator, 2026-11-01 to 2026-11-25" in table and "dana" in table
    csv_text = cli("report", "caseload", "--by", "coordinator", "-f", "csv").stdout
    assert csv_text.splitlines()[0] == "coordinator,patients,open_tasks,overdue_tasks,minutes"
    assert "| dana |" in cli("report", "caseload", "--by", "coordinator", "-f", "markdown").stdout.replace("  ", " ")


def test_migration_0008_assigns_existing_patients_to_the_os_user(tmp_path):
    from tests.test_store import _database_at

    old = tmp_path / "old.db"
    _database_at(old, "0007")
    with closing(sqlite3.connect(old)) as conn:
        conn.execute(
            "INSERT INTO patient (uid, created_at, updated_at, name, name_key, mrn, status, enrolled_on, tags) "
            "VALUES ('u1', '2025-01-01 10:00:00', '2025-01-01 10:00:00', 'Old Patient', 'old patient', 'MRN-OLD', "
            "'active', '2025-01-01', '')"
        )
        conn.commit()
    result = CliRunner().invoke(app, ["--db", str(old), "patient", "show", "mrn-old", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["coordinator"] == os_user()  # and the MRN still ignores case
    with closing(sqlite3.connect(old)) as conn:
        assert conn.execute("SELECT db_role FROM audit_log").fetchall() == []
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            conn.execute(
                "INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags) "
                "VALUES ('u2', '2025-01-01', '2025-01-01', 'X', 'x', 'active', '2025-01-01', '')"
            )


# --- a team on one PostgreSQL server ------------------------------------------------------------


@dataclass
class Team:
    """The worker's PostgreSQL database and three people signed in as their own roles."""

    store: stores.PostgresStore
    ann: str  # coordinator
    bob: str  # coordinator
    sue: str  # supervisor

    def url(self, role: str | None = None) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.store.url)
        return (url.set(username=role) if role else url).render_as_string(hide_password=False)

    def run(self, role: str | None, *args: str) -> Run:
        """``carecoord --db postgresql://ROLE@host/db ARGS`` (the administrator when ``role`` is None)."""
        result = CliRunner().invoke(app, ["--db", self.url(role), *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    def sql(self, role: str, statement: str) -> list[tuple[Any, ...]]:
        """Plain SQL as ``role`` (psql's view of the database), committed."""
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.store.url)
        with psycopg.connect(host=url.host, port=url.port, user=role, dbname=url.database) as conn:
            cursor = conn.execute(statement)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def members(self) -> set[tuple[str, str | None, int]]:
        """This test's people as 'team list' shows them (roles are the server's: other tests' people
        may be on the list too)."""
        listed = json.loads(self.run(None, "team", "list", "-f", "json").stdout)
        ours = (self.ann, self.bob, self.sue)
        return {(m["role"], m["group"], m["patients"]) for m in listed if m["role"] in ours}

    def count(self, role: str, table: str) -> int:
        return int(self.sql(role, f"SELECT count(*) FROM {table}")[0][0])


@pytest.fixture
def team(postgres: stores.PostgresStore, worker_id: str) -> Iterator[Team]:
    """Two coordinators and a supervisor, each a login role with a name unique to this test run,
    put on the team by the administrator with 'team add'; the roles are dropped afterwards."""
    postgres.reset()
    prefix = f"cc_{worker_id}_{os.getpid()}".lower()
    people = Team(postgres, f"{prefix}_ann", f"{prefix}_bob", f"{prefix}_sue")
    try:
        for role, group in ((people.ann, "--coordinator"), (people.bob, "--coordinator"), (people.sue, "--supervisor")):
            run = people.run(None, "team", "add", role, group)
            assert run.exit_code == 0, run.stderr
            assert "without a password" in run.stdout
        yield people
    finally:
        with postgres._connect(postgres.admin_url, autocommit=True) as conn:
            for role in (people.ann, people.bob, people.sue):
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _enrol(team: Team, role: str, name: str, mrn: str) -> None:
    for args in (
        ("patient", "add", name, "--mrn", mrn),
        ("contact", "add", mrn, f"{name} Junior", "--role", "son"),
        ("plan", "add", mrn, f"Plan for {name}"),
        ("task", "add", f"Call {name}", "--patient", mrn, "--due", "today"),
        ("appt", "add", mrn, "--start", "tomorrow 10:00", "--type", "home-visit"),
        ("log", "add", mrn, "--minutes", "20", "--when", "today 8am"),
    ):
        run = team.run(role, *args)
        assert run.exit_code == 0, (args, run.stderr)


def _names(team: Team, role: str, *args: str) -> list[str]:
    run = team.run(role, *args, "-f", "json")
    assert run.exit_code == 0, run.stderr
    return sorted(str(r.get("patient_name") or r.get("name")) for r in json.loads(run.stdout))


GROUPS = "('carecoord_coordinator', 'carecoord_supervisor')"
CHILD_TABLES = ("contact", "care_plan", "task", "appointment", "communication")


@pytest.mark.postgresql
def test_a_team_each_sees_their_own_the_supervisor_all_and_reassigns_with_the_whole_history(team):
    """The issue's 'Done when', on one server: two coordinators, a supervisor, a handover."""
    _enrol(team, team.ann, "Ann Patient", "A1")
    _enrol(team, team.bob, "Bob Patient", "B1")
    # neither sees the other's: through carecoord ...
    assert _names(team, team.ann, "patient", "list") == ["Ann Patient"]
    assert _names(team, team.bob, "patient", "list") == ["Bob Patient"]
    assert _names(team, team.ann, "task", "list") == ["Ann Patient"]
    assert _names(team, team.bob, "appt", "list") == ["Bob Patient"]
    assert_one_line_error(team.run(team.ann, "patient", "show", "B1"), 1, "no patient matches 'B1'")
    # ... and through plain SQL, as psql would run it
    for role in (team.ann, team.bob):
        assert [n for (n,) in team.sql(role, "SELECT name FROM patient")] == [
            "Ann Patient" if role == team.ann else "Bob Patient"
        ]
        assert {table: team.count(role, table) for table in CHILD_TABLES} == dict.fromkeys(CHILD_TABLES, 1)
    # the supervisor sees both
    assert _names(team, team.sue, "patient", "list") == ["Ann Patient", "Bob Patient"]
    assert {table: team.count(team.sue, table) for table in CHILD_TABLES} == dict.fromkeys(CHILD_TABLES, 2)
    caseloads = json.loads(team.run(team.sue, "report", "caseload", "--by", "coordinator", "-f", "json").stdout)
    assert [(c["coordinator"], c["patients"], c["minutes"]) for c in caseloads] == [
        (team.ann, 1, 20),
        (team.bob, 1, 20),
    ]
    assert _names(team, team.sue, "patient", "list", "--coordinator", team.bob) == ["Bob Patient"]
    assert _names(team, team.sue, "patient", "list", "--mine") == []
    # the supervisor hands Bob's patient to Ann
    run = team.run(team.sue, "patient", "assign", "B1", team.ann)
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == f"Patient #2 Bob Patient (MRN B1) handed over from {team.bob} to {team.ann}."
    # Ann now has it with its whole history; Bob no longer does
    assert _names(team, team.ann, "patient", "list") == ["Ann Patient", "Bob Patient"]
    assert _names(team, team.ann, "task", "list") == ["Ann Patient", "Bob Patient"]
    assert _names(team, team.ann, "appt", "list") == ["Ann Patient", "Bob Patient"]
    assert len(json.loads(team.run(team.ann, "log", "list", "-p", "B1", "-f", "json").stdout)) == 1
    history = json.loads(team.run(team.ann, "audit", "--patient", "B1", "-f", "json").stdout)
    assert {(e["table"], e["action"], e["db_role"]) for e in history} >= {
        ("patient", "create", team.bob), ("task", "create", team.bob), ("appointment", "create", team.bob),
        ("communication", "create", team.bob), ("patient", "update", team.sue),
    }  # fmt: skip
    handover = next(e for e in history if e["action"] == "update" and e["table"] == "patient")
    assert handover["changes"] == {"coordinator": [team.bob, team.ann]}
    assert _names(team, team.bob, "patient", "list") == []
    assert {table: team.count(team.bob, table) for table in CHILD_TABLES} == dict.fromkeys(CHILD_TABLES, 0)
    assert_one_line_error(team.run(team.bob, "patient", "show", "B1"), 1, "no patient matches 'B1'")
    # the team list counts what each holds
    assert team.members() == {(team.ann, "coordinator", 2), (team.bob, "coordinator", 0),
                              (team.sue, "supervisor", 0)}  # fmt: skip


@pytest.mark.postgresql
def test_a_supervisor_exports_one_coordinators_calendar(team):
    _enrol(team, team.ann, "Ann Patient", "A1")
    _enrol(team, team.bob, "Bob Patient", "B1")
    week = ("export", "ics", "--days", "7", "--tasks", "--out", "-")
    assert _summaries(team.run(team.sue, *week, "--coordinator", team.ann)) == [
        "Call Ann Patient (Ann Patient)", "Home visit: Ann Patient",
    ]  # fmt: skip
    assert len(_summaries(team.run(team.sue, *week))) == 4  # everyone's
    assert _summaries(team.run(team.sue, *week, "--mine")) == []  # a supervisor has no caseload of their own
    assert _summaries(team.run(team.bob, *week, "--mine")) == ["Call Bob Patient (Bob Patient)",
                                                               "Home visit: Bob Patient"]  # fmt: skip
    # a coordinator naming a colleague sees no more than the server lets them: nothing
    assert _summaries(team.run(team.bob, *week, "--coordinator", team.ann)) == []


@pytest.mark.postgresql
def test_a_coordinator_cannot_reassign_a_patient_and_nothing_changes(team):
    _enrol(team, team.ann, "Ann Patient", "A1")
    before = team.store.dump()
    refused = team.run(team.ann, "patient", "assign", "A1", team.bob)
    assert_one_line_error(refused, 1, "refused", "only a supervisor")
    assert team.store.dump() == before
    # nor through plain SQL: the server's policy refuses a patient given away
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        team.sql(team.ann, f"UPDATE patient SET coordinator = '{team.bob}'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        team.sql(
            team.bob,
            "INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags, coordinator) "
            f"VALUES ('x', now(), now(), 'X', 'x', 'active', now(), '', '{team.ann}')",
        )
    assert team.store.dump() == before
    # a handover to someone not on the team is refused, even by a supervisor
    assert_one_line_error(team.run(team.sue, "patient", "assign", "A1", "nobody_here"), 1, "not on this team")
    assert team.store.dump() == before


@pytest.mark.postgresql
def test_nobody_changes_or_deletes_the_audit_trail_and_the_server_names_the_role(team):
    import psycopg

    _enrol(team, team.ann, "Ann Patient", "A1")
    before = team.store.dump()
    for role in (team.ann, team.sue):
        for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log",
                          "TRUNCATE audit_log"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                team.sql(role, statement)
    assert team.store.dump() == before
    # a client that writes another name into the audit trail gets its own
    [(mine,)] = team.sql(team.ann, "SELECT id FROM patient")
    team.sql(team.ann, "INSERT INTO audit_log (at, os_user, table_name, record_id, patient_id, action, changes, "
                       f"db_role) VALUES (now(), 'x', 'patient', {mine}, {mine}, 'update', '{{}}', '{team.sue}')")  # fmt: skip
    assert team.sql(team.sue, "SELECT db_role FROM audit_log WHERE os_user = 'x'") == [(team.ann,)]
    # coordinators read their patients' audit rows and their own; supervisors all
    assert team.count(team.bob, "audit_log") == 0
    assert team.count(team.sue, "audit_log") == team.count(team.ann, "audit_log") > 0


@pytest.mark.postgresql
def test_tasks_without_a_patient_are_the_whole_teams(team):
    assert team.run(team.ann, "task", "add", "Team meeting agenda").exit_code == 0
    for role in (team.ann, team.bob, team.sue):
        assert [t["title"] for t in json.loads(team.run(role, "task", "list", "-f", "json").stdout)] == [
            "Team meeting agenda"
        ]


@pytest.mark.postgresql
def test_team_membership_is_managed_by_an_administrator(team):
    # a coordinator cannot put anyone on the team: the server refuses
    assert_one_line_error(team.run(team.ann, "team", "add", "someone_new", "--supervisor"), 1, "refused")
    # a coordinator made supervisor leaves the coordinators
    run = team.run(None, "team", "add", team.bob, "--supervisor")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == f"{team.bob} is now a supervisor on this team (no longer a coordinator)."
    assert_one_line_error(team.run(None, "team", "add", team.bob, "--supervisor"), 1, "already a supervisor")
    _enrol(team, team.ann, "Ann Patient", "A1")
    assert _names(team, team.bob, "patient", "list") == ["Ann Patient"]  # supervisors see all
    removed = team.run(None, "team", "remove", team.ann)
    assert removed.exit_code == 0, removed.stderr
    assert removed.stdout.splitlines() == [
        f"{team.ann} is no longer a coordinator on this team.",
        f"1 patient still assigned to {team.ann}: a supervisor hands them over with "
        "'carecoord patient assign PATIENT ROLE'.",
    ]
    assert_one_line_error(team.run(team.ann, "patient", "list"), 1, "refused")  # no privileges left
    assert team.members() == {(team.ann, None, 1), (team.bob, "supervisor", 0), (team.sue, "supervisor", 0)}
    table = team.run(None, "team", "list").stdout
    assert "(not on the team)" in table
    assert_one_line_error(team.run(None, "team", "remove", team.ann), 1, "not on this team")
    assert_one_line_error(team.run(None, "team", "add", "carecoord_supervisor", "--coordinator"), 1, "group")


# --- the migration on PostgreSQL ----------------------------------------------------------------


@pytest.mark.postgresql
def test_migrations_build_exactly_the_models_schema_on_postgresql(postgres):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import carecoord.models  # noqa: F401
    from carecoord.server import Server

    engine = create_engine(Server(postgres.url).engine_url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.postgresql
def test_0008_steps_down_and_up_on_postgresql_with_rows_intact_and_the_policies_back(postgres, monkeypatch):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from carecoord.migrations import MIGRATIONS_DIR, head_revision
    from carecoord.server import Server

    postgres.reset()
    monkeypatch.setenv("CARECOORD_DB", postgres.url)
    runner = CliRunner()
    for step in (("patient", "add", "Kept Patient"), ("log", "add", "kept", "--minutes", "15"),
                 ("task", "add", "Kept task", "--patient", "kept")):  # fmt: skip
        assert runner.invoke(app, list(step)).exit_code == 0
    before = postgres.dump()

    def policies() -> list[dict[str, Any]]:
        return postgres.rows("SELECT tablename, policyname FROM pg_policies ORDER BY 1, 2", ())

    def grants() -> list[dict[str, Any]]:
        return postgres.rows(
            "SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants "
            f"WHERE grantee IN {GROUPS} ORDER BY 1, 2, 3",
            (),
        )

    policies_before, grants_before = policies(), grants()
    # a policy on each of 11 tables at 0008 and two on the audit trail; 0009's two screening tables,
    # 0010's referral and referral_event, 0011's three insurance tables, 0012's enrolments; 0014's two
    # on each of the account of disclosures' tables (read, add)
    assert len(policies_before) == 13 + 2 + 2 + 3 + 1 + 4
    audit_grants = {(g["grantee"], g["privilege_type"]) for g in grants_before if g["table_name"] == "audit_log"}
    assert audit_grants == {(group, p) for group in ("carecoord_coordinator", "carecoord_supervisor")
                            for p in ("SELECT", "INSERT")}  # fmt: skip
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(Server(postgres.url).engine_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")
        assert (policies(), grants()) == ([], [])
        # the group roles stay: other databases on the server may use them
        assert len(postgres.rows(f"SELECT 1 FROM pg_roles WHERE rolname IN {GROUPS}", ())) == 2
    finally:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        engine.dispose()
    assert postgres.rows("SELECT version_num FROM alembic_version", ()) == [{"version_num": head_revision()}]
    # every row as it was: the patient goes back to the role running the migration (the same one), and
    # the audit rows lose the role that wrote them (the column was dropped on the way down)
    after, was = dict(postgres.dump()), dict(before)
    assert [row[-1] for row in was["audit_log"]] == [signed_in("postgresql")] * 3
    assert after.pop("audit_log") == [(*row[:-1], None) for row in was.pop("audit_log")]
    assert after == was
    assert (policies(), grants()) == (policies_before, grants_before)
