"""`carecoord db copy --to TARGET`: a coordinator's file into the team's PostgreSQL store and back,
record by record, all or nothing; and the refusals, which change nothing."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from carecoord.cli import app
from tests import stores
from tests.conftest import Run, assert_one_line_error

pytestmark = pytest.mark.postgresql
TABLES = sorted("patient contact care_plan plan_review goal task appointment appointment_exception communication "
                "call_timer transition program_enrolment resource referral referral_event audit_log screening "
                "screening_answer screening_cadence coverage prior_authorization authorization_use "
                "screening_instrument disclosure disclosure_patient".split())  # fmt: skip
# The team's settings (issue 13): one row per instrument, so a caseload built here holds none of them
# (a second file with the same setting keeps the target's: test_copy_into.py).
TEAM_SETTINGS = ("screening_cadence", "screening_instrument")


def carecoord(db: str | Path, *args: str, input: str | None = None) -> Run:
    result = CliRunner().invoke(app, ["--db", str(db), *args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def ok(db: str | Path, *args: str) -> Run:
    run = carecoord(db, *args)
    assert run.exit_code == 0, (args, run.stderr)
    return run


def build_caseload(path: Path, template_db: Path, mrn: str = "48") -> Path:
    """A coordinator's SQLite file with a bit of everything, built through the CLI (MRNs start with
    ``mrn``, so two coordinators' files can hold patients of the same names and different MRNs)."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    shutil.copy2(template_db, path)
    ok(path, "patient", "add", "Jane Doe", "--dob", "1950-03-02", "--mrn", f"{mrn}213", "--risk", "high", "--tag",
       "chf", "--phone", "555-0100", "--notes", "lives alone\nson helps")  # fmt: skip
    ok(path, "patient", "add", "Omar Haddad", "--mrn", f"{mrn}215", "--risk", "moderate")
    ok(path, "patient", "add", "Zoë Ça Va", "--dob", "1961-09-30")
    ok(path, "contact", "add", "jane", "Ann Doe", "--role", "daughter", "--phone", "555-0101", "--consent")
    ok(path, "contact", "add", "omar", "Layla Haddad", "--role", "daughter")
    ok(path, "plan", "add", "jane", "Heart failure self-management", "--status", "active", "--review-every", "90d",
       "--need", "Two CHF admissions this year")  # fmt: skip
    ok(path, "plan", "review", "1", "--note", "going well")
    ok(path, "goal", "add", "1", "Weigh daily", "--target", "+8w", "--measure", "weight log")
    ok(path, "task", "add", "Weekly weight check call", "--goal", "1", "--due", "mon 10am", "--every", "weekly")
    ok(path, "task", "done", "weight", "--note", "done on time")
    ok(path, "task", "add", "Call cardiology", "--patient", "jane", "--due", "tomorrow 9am", "--priority", "urgent")
    ok(path, "task", "add", "Order supplies")
    ok(path, "appt", "add", "jane", "--start", "fri 10am", "--type", "home-visit", "--location", "12 Elm St",
       "--every", "weekly", "--count", "6")  # fmt: skip
    ok(path, "appt", "cancel", "1", "--occurrence", "2026-12-04", "--reason", "holiday")
    ok(path, "appt", "move", "1", "--occurrence", "2026-12-11", "--to", "2026-12-11 14:00")
    ok(path, "appt", "add", "omar", "--start", "2026-12-01 09:00", "--type", "pcp", "--tz", "America/Chicago")
    ok(path, "log", "add", "jane", "--minutes", "12", "--note", "Weight up 3 lb", "--with", "Ann Doe")
    ok(path, "log", "add", "omar", "--minutes", "5", "--outcome", "no-answer")
    ok(path, "transition", "add", "jane", "--discharged", "yesterday", "--from", "Mercy General Hospital")
    ok(path, "resource", "add", f"Food Pantry {mrn}", "--category", "food-insecurity", "--phone", "555-0142")
    ok(path, "referral", "add", "jane", "--resource", "pantry", "--consent", "verbal", "--reason", "Out of food")
    ok(path, "referral", "status", "1", "sent")
    ok(path, "timer", "start", "zoë")
    ok(path, "program", "enroll", "jane", "ccm", "--consent", "verbal", "--date", "2026-11-02", "--by", "K. Lee")
    ok(path, "patient", "edit", "omar", "--phone", "555-0199")
    ok(path, "screen", "add", "jane", "phq9", "--answers", "1,1,2,1,0,0,0,0,1,1", "--plan", "1")
    ok(path, "screen", "add", "omar", "ahc-hrsn", "--answers", "2,1+7,1,3,1,2,1,1,1,1")
    # issue 15: coverage, an authorization linked to a visit done (a use naming the appointment), one by hand
    ok(path, "coverage", "add", "omar", "--payer", "Aetna", "--member-id", "W1")
    ok(path, "auth", "add", "omar", "--service", "home health", "--status", "approved", "--units", "12", "--unit",
       "visits")  # fmt: skip
    ok(path, "appt", "add", "omar", "--start", "2026-11-24 10:00", "--type", "home-visit", "--auth", "1", "--yes")
    ok(path, "appt", "done", "3")
    ok(path, "auth", "use", "1", "--units", "2")
    ok(path, "patient", "add", "Mistake Entry")
    # issue 16: the account of disclosures, one of them of a patient deleted since
    ok(path, "patient", "show", "mistake", "-f", "json", "--out", str(path.parent / "mistake.json"), "--to", "Dr. Lee")
    ok(path, "agenda", "-f", "csv", "--out", str(path.parent / "agenda.csv"), "--purpose", "operations")
    ok(path, "patient", "delete", "mistake", "--yes")
    return path


@pytest.fixture
def caseload(tmp_path: Path, template_db: Path) -> Path:
    """A coordinator's SQLite file with a bit of everything, built through the CLI."""
    return build_caseload(tmp_path / "mine" / "carecoord.db", template_db)


# Every column that holds another row's id, and the table it points to (the audit trail's record_id
# points to the table its table_name names).
REFERENCES = {
    "contact": {"patient_id": "patient"},
    "care_plan": {"patient_id": "patient"},
    "plan_review": {"plan_id": "care_plan", "patient_id": "patient"},
    "goal": {"plan_id": "care_plan", "patient_id": "patient"},
    "task": {"patient_id": "patient", "plan_id": "care_plan", "goal_id": "goal", "series_id": "task"},
    "appointment": {"patient_id": "patient", "authorization_id": "prior_authorization"},
    "appointment_exception": {"appointment_id": "appointment", "patient_id": "patient"},
    "communication": {"patient_id": "patient", "contact_id": "contact"},
    "call_timer": {"patient_id": "patient"},
    "transition": {"patient_id": "patient", "contact_task_id": "task", "visit_task_id": "task"},
    "program_enrolment": {"patient_id": "patient"},
    "referral": {"patient_id": "patient", "resource_id": "resource", "followup_task_id": "task"},
    "referral_event": {"referral_id": "referral"},
    "audit_log": {"patient_id": "patient"},
    "screening": {"patient_id": "patient", "safety_task_id": "task", "plan_id": "care_plan"},
    "screening_answer": {"screening_id": "screening"},
    "coverage": {"patient_id": "patient"},
    "prior_authorization": {"patient_id": "patient", "coverage_id": "coverage"},
    "authorization_use": {"authorization_id": "prior_authorization", "appointment_id": "appointment"},
    "disclosure_patient": {"disclosure_id": "disclosure", "patient_id": "patient"},
}


def _identity(row: dict[str, Any]) -> str:
    """What tells a row without a uid apart (a disclosure): its values, but for its id and the role a
    server fills in."""
    return json.dumps({k: v for k, v in row.items() if k not in ("id", "db_role")}, sort_keys=True, default=str)


def resolved(tables: dict[str, list[dict[str, Any]]], **replace: Any) -> dict[str, list[str]]:
    """A store's rows with ids left out and every reference replaced by the uid of the row it points
    to (including those in an audit row's record_id and changes), so stores that gave the same records
    different ids compare equal; 'gone TABLE' for a record no longer stored (the audit trail's deleted
    ones). ``replace`` sets columns to one value everywhere (the coordinator a copy assigns, say)."""
    uids = {table: {row["id"]: row.get("uid") or _identity(row) for row in rows} for table, rows in tables.items()
            if table != "audit_log"}  # fmt: skip

    def uid(table: str, value: Any) -> Any:
        return None if value is None else uids[table].get(value, f"gone {table}")

    found: dict[str, list[str]] = {}
    for table, rows in tables.items():
        listed = []
        for row in rows:
            row = {key: value for key, value in row.items() if key != "id"}
            row.update({key: value for key, value in replace.items() if key in row})
            for column, target in REFERENCES.get(table, {}).items():
                row[column] = uid(target, row[column])
            if table == "audit_log":
                row["record_id"] = uid(row["table_name"], row["record_id"])
                changes = json.loads(row["changes"])
                for field, target in REFERENCES.get(row["table_name"], {}).items():
                    if field in changes:
                        changes[field] = [uid(target, value) for value in changes[field]]
                row["changes"] = changes
            listed.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
        found[table] = sorted(listed)
    return found


def file_tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    return {table: stores.sqlite_rows(path, f'SELECT * FROM "{table}" ORDER BY id', ()) for table in TABLES}


def server_tables(url: str) -> dict[str, list[dict[str, Any]]]:
    store = stores.PostgresStore(stores.postgres_admin_url() or "", _database(url))
    return {table: store.rows(f'SELECT * FROM "{table}" ORDER BY id', ()) for table in TABLES}


def _database(url: str) -> str:
    return str(make_url(url).database)


@pytest.fixture
def team(postgres: stores.PostgresStore) -> str:
    """The team store: this worker's PostgreSQL database, emptied."""
    postgres.reset()
    return postgres.url


@pytest.fixture
def other_server(postgres: stores.PostgresStore, worker_id: str) -> Iterator[stores.PostgresStore]:
    """A second PostgreSQL database on the server, with no schema (a test may create it)."""
    extra = stores.PostgresStore(postgres.admin_url, f"carecoord_copy_{worker_id}_{os.getpid()}")
    with extra._connect(extra.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{extra.name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{extra.name}"')
    try:
        yield extra
    finally:
        extra.drop()


def test_a_caseload_copied_into_the_team_store_and_back_is_the_same_record_by_record(caseload, team, tmp_path):
    mine = file_tables(caseload)
    assert all(mine[table] for table in TABLES if table not in TEAM_SETTINGS), [t for t in TABLES if not mine[t]]

    run = ok(caseload, "db", "copy", "--to", team, "--format", "json")
    report = json.loads(run.stdout)
    assert report["counts"] == {table: len(mine[table]) for table in report["counts"]}
    assert sorted(report["counts"]) == TABLES and report["rows"] == sum(len(rows) for rows in mine.values())
    assert list(report["counts"]).index("patient") < list(report["counts"]).index("contact")  # parents first
    # Copied into the team store, the caseload is assigned to the role that copied it, and the server
    # names that role in the audit rows it stores; everything else is as it was in the file.
    role = str(make_url(team).username)
    expected = {table: [dict(row) for row in rows] for table, rows in mine.items()}
    for row in expected["patient"]:
        row["coordinator"] = role
    for table in ("audit_log", "disclosure", "disclosure_patient"):  # the server names the role
        for row in expected[table]:
            row["db_role"] = role
    assert {row["coordinator"] for row in mine["patient"]} != {role}  # the file's own user was someone else
    assert server_tables(team) == expected

    # The copied ids were drawn from the server's id sequences: new records get the next ones. Patient
    # #4 (added and deleted in the file) keeps its id in the audit trail, so nobody else gets it.
    ok(team, "patient", "add", "New On The Server")
    ok(team, "log", "add", "new on", "--minutes", "3")
    assert sorted(p["id"] for p in json.loads(ok(team, "patient", "list", "-f", "json").stdout)) == [1, 2, 3, 5]
    assert max(row["id"] for row in server_tables(team)["communication"]) == len(mine["communication"]) + 1
    assert ok(team, "db", "check").exit_code == 0

    # A coordinator leaving with the caseload: the team store into a new file.
    back = tmp_path / "leaving.db"
    run = ok(team, "db", "copy", "--to", str(back))
    assert "Rows copied" in run.stdout and "communication" in run.stdout
    theirs = file_tables(back)
    assert theirs == server_tables(team)
    for table in TABLES:
        if table not in ("patient", "communication", "audit_log", "disclosure", "disclosure_patient"):
            assert theirs[table] == mine[table], table
    assert oct(back.stat().st_mode & 0o777) == "0o600"
    assert ok(back, "db", "check").exit_code == 0
    assert "New On The Server" in [p["name"] for p in json.loads(ok(back, "patient", "list", "-f", "json").stdout)]


def test_a_copy_from_one_server_database_into_another(caseload, team, other_server):
    from carecoord.server import Server, initialise

    ok(caseload, "db", "copy", "--to", team)
    initialise(Server(other_server.url))
    ok(team, "db", "copy", "--to", other_server.url)
    assert server_tables(other_server.url) == server_tables(team)  # between servers, assignments are kept


def test_a_caseload_copied_twice_is_refused_and_a_patient_with_the_same_mrn_is_named(caseload, team, tmp_path):
    ok(caseload, "db", "copy", "--to", team)
    before = server_tables(team)
    assert_one_line_error(carecoord(caseload, "db", "copy", "--to", team), 1, "already holds Jane Doe (MRN 48213)",
                          "the same record", "nothing was copied")  # fmt: skip
    assert server_tables(team) == before

    other = tmp_path / "other.db"
    ok(other, "patient", "add", "Somebody Else", "--mrn", "48215")
    before = file_tables(other)
    assert_one_line_error(carecoord(caseload, "db", "copy", "--to", str(other)), 1,
                          "already holds a patient with MRN 48215 (Somebody Else)", "Omar Haddad")  # fmt: skip
    assert file_tables(other) == before
    # Once those patients are gone from the team store, the caseload may be copied in again: new ids,
    # since the deleted ones keep theirs in the audit trail.
    for name in ("jane", "omar", "zoë"):
        ok(team, "patient", "delete", name, "--yes")
    # ...but not while the team's task without a patient is still there: its uid is unique too. (The
    # directory's resource, the team's already, is merged rather than refused.)
    first = before
    before = server_tables(team)
    assert_one_line_error(carecoord(caseload, "db", "copy", "--to", team), 1, "already holds a task record with (uid)=",
                          "nothing was copied")  # fmt: skip
    assert server_tables(team) == before
    ok(team, "task", "delete", "order supplies", "--yes")
    ok(caseload, "db", "copy", "--to", team)
    stored = server_tables(team)
    assert min(row["id"] for row in stored["patient"]) > max(row["id"] for row in first["patient"])
    role = str(make_url(team).username)
    mine = resolved(file_tables(caseload), coordinator=role, db_role=role)
    again = resolved(stored)
    for table in TABLES:
        if table not in ("audit_log", "disclosure", "disclosure_patient"):
            assert again[table] == mine[table], table
    for table in ("audit_log", "disclosure", "disclosure_patient"):  # the accounts stay, and come again
        assert set(mine[table]) <= set(again[table]), table


def test_a_server_database_without_the_schema_is_refused(caseload, other_server):
    before = stores.sqlite_dump(caseload)
    assert_one_line_error(carecoord(caseload, "db", "copy", "--to", other_server.url), 3, "has no carecoord schema",
                          "db init")  # fmt: skip
    assert other_server.rows("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'", ()) == [{"n": 0}]
    assert stores.sqlite_dump(caseload) == before


@pytest.mark.parametrize(
    "target, code, message",
    [
        ("postgresql://127.0.0.1:1/carecoord", 3, "cannot reach the PostgreSQL server"),
        ("postgresql://someone:secret@127.0.0.1/carecoord", 2, "holds a password"),
        ("{folder}/nowhere/new.db", 3, "does not exist"),
        ("{folder}/mine/carecoord.db", 1, "is the store being copied"),
        ("{folder}/mine/../mine/carecoord.db", 1, "is the store being copied"),
        ("{folder}/not-carecoord.db", 3, "no carecoord schema"),
        ("", 2, "--to is empty"),
    ],
)
def test_refusals_give_one_line_and_change_nothing(caseload, tmp_path, target, code, message):
    (tmp_path / "not-carecoord.db").write_bytes(b"")
    before = stores.sqlite_dump(caseload)
    listing = sorted(p.name for p in tmp_path.rglob("*"))
    assert_one_line_error(carecoord(caseload, "db", "copy", "--to", target.format(folder=tmp_path)), code, message)
    assert stores.sqlite_dump(caseload) == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == listing
    assert "secret" not in carecoord(caseload, "db", "copy", "--to", target.format(folder=tmp_path)).stderr


def test_a_copy_into_the_same_server_database_is_refused(team):
    ok(team, "patient", "add", "Jane Doe")
    before = server_tables(team)
    assert_one_line_error(carecoord(team, "db", "copy", "--to", team), 1, "is the store being copied")
    assert server_tables(team) == before


@pytest.mark.parametrize("into", ["server", "new file"])
def test_a_copy_that_fails_half_way_leaves_nothing_behind(caseload, team, tmp_path, monkeypatch, into):
    from carecoord import transfer
    from carecoord.errors import StorageError

    real = transfer._batches

    def failing(reader: Any, query: Any, source: Any) -> Any:
        if "communication" in str(query):
            raise StorageError("the disk went away")
        return real(reader, query, source)

    monkeypatch.setattr(transfer, "_batches", failing)
    target = team if into == "server" else str(tmp_path / "new.db")
    before = os.listdir(tmp_path)
    assert_one_line_error(carecoord(caseload, "db", "copy", "--to", target), 3, "the disk went away")
    assert os.listdir(tmp_path) == before  # no file, no temporary one
    if into == "server":
        assert all(rows == [] for rows in server_tables(team).values())
    monkeypatch.setattr(transfer, "_batches", real)
    ok(caseload, "db", "copy", "--to", target)  # nothing half-done stands in the way
    copied = server_tables(team) if into == "server" else file_tables(Path(target))
    assert [len(copied[table]) for table in TABLES] == [len(rows) for rows in file_tables(caseload).values()]
    # The ids the failed attempt drew from the server's sequences are not handed out again (new ones).
    role = str(make_url(team).username) if into == "server" else None
    expected = resolved(file_tables(caseload), **({"coordinator": role, "db_role": role} if role else {}))
    assert resolved(copied) == expected
