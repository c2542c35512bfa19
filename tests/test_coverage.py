"""Insurance coverage (issue 15, item 1): coverage records, the patient's payer, member id and
authorization end moved into coverage and authorizations by migration 0011, and access on a team store."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carecoord.cli import app
from tests.conftest import assert_one_line_error
from tests.test_team import team  # noqa: F401  (the fixture: two coordinators and a supervisor)


def _json(run):  # type: ignore[no-untyped-def]
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


# --- coverage commands --------------------------------------------------------------------------


def test_coverage_add_list_edit_end_and_patient_show_lists_them(jane, rows):
    cli = jane
    added = _json(cli("coverage", "add", "jane", "--payer", "Medicare", "--member-id", "1EG4-TE5-MK72", "--type",
                      "medicare", "--start", "2026-01-01", "--phone", "800-633-4227", "-f", "json"))  # fmt: skip
    assert (added["id"], added["payer"], added["order"], added["status"], added["current"]) == (
        1, "Medicare", "primary", "active", True
    )  # fmt: skip
    run = cli("coverage", "add", "jane", "--payer", "Medicaid", "--order", "secondary", "--type", "medicaid")
    assert run.stdout.strip() == "Added coverage #2 Medicaid (secondary) for #1 Jane Doe."
    listed = _json(cli("coverage", "list", "jane", "-f", "json"))
    assert [(c["id"], c["order"], c["patient_name"]) for c in listed] == [
        (1, "primary", "Jane Doe"), (2, "secondary", "Jane Doe")
    ]  # fmt: skip
    assert list(listed[0]) == [
        "id", "uid", "patient_id", "patient_name", "payer", "plan", "member_id", "group_number", "type", "order",
        "status", "start_on", "end_on", "current", "phone", "notes", "created_at", "updated_at",
    ]  # fmt: skip
    edited = _json(cli("coverage", "edit", "2", "--group", "G-77", "--plan", "Medicaid Managed Care", "-f", "json"))
    assert (edited["group_number"], edited["plan"]) == ("G-77", "Medicaid Managed Care")
    assert _json(cli("coverage", "edit", "2", "--group", "", "-f", "json"))["group_number"] is None
    # the patient's record reads its payer and member id from the current primary coverage
    shown = _json(cli("patient", "show", "jane", "-f", "json"))
    assert (shown["payer"], shown["member_id"]) == ("Medicare", "1EG4-TE5-MK72")
    assert [c["payer"] for c in shown["coverage"]] == ["Medicare", "Medicaid"]
    table = cli("patient", "show", "jane").stdout
    assert "Coverage" in table and "Medicaid" in table and "secondary" in table
    ended = cli("coverage", "end", "1", "--date", "2026-11-30")
    assert ended.stdout.strip() == "Coverage #1 Medicare (primary) of #1 Jane Doe ends 2026-11-30."
    assert rows("SELECT end_on FROM coverage WHERE id = 1") == [{"end_on": "2026-11-30"}]
    # text and markdown and csv
    assert "Medicare" in cli("coverage", "list").stdout
    assert "| Medicaid |" in cli("coverage", "list", "-f", "markdown").stdout.replace("  ", " ")
    header = next(csv.reader(io.StringIO(cli("coverage", "list", "-f", "csv").stdout)))
    assert header[:5] == ["id", "uid", "patient_id", "patient_name", "payer"]


def test_bad_coverage_is_one_line_exit_1_and_changes_nothing(jane, unchanged):
    cli = jane
    cli("coverage", "add", "jane", "--payer", "Medicare")
    with unchanged():
        assert_one_line_error(cli("coverage", "add", "jane", "--payer", "Aetna", "--start", "2026-12-01", "--end",
                                  "2026-11-01"), 1, "ends (2026-11-01) before it starts (2026-12-01)")  # fmt: skip
        assert_one_line_error(cli("coverage", "add", "jane", "--payer", "Aetna"), 1,
                              "already has primary coverage #1 Medicare", "coverage end 1")  # fmt: skip
        assert_one_line_error(cli("coverage", "add", "jane", "--type", "medicare"), 1, "payer must not be empty")
        assert_one_line_error(cli("coverage", "add", "jane", "--payer", "X", "--type", "gold"), 1,
                              "invalid coverage type 'gold'")  # fmt: skip
        assert_one_line_error(cli("coverage", "edit", "1", "--payer", ""), 1, "payer must not be empty")
        assert_one_line_error(cli("coverage", "edit", "1", "--start", "2027-01-01", "--end", "2026-01-01"), 1,
                              "before it starts")  # fmt: skip
        assert_one_line_error(cli("coverage", "edit", "9", "--plan", "x"), 1, "no coverage #9")
        assert_one_line_error(cli("coverage", "end", "jane"), 1, "give the coverage's id")
    cli("coverage", "edit", "1", "--start", "2026-01-01")
    with unchanged():
        assert_one_line_error(cli("coverage", "end", "1", "--date", "2025-12-31"), 1,
                              "ends (2025-12-31) before it starts (2026-01-01)")  # fmt: skip
    # the old primary ended, a new one may start the day after
    assert cli("coverage", "end", "1", "--date", "2026-12-31").exit_code == 0
    run = cli("coverage", "add", "jane", "--payer", "Aetna", "--start", "2027-01-01")
    assert run.exit_code == 0, run.stderr


def test_patient_payer_options_set_the_primary_coverage_and_an_authorization(cli, rows):
    added = _json(cli("patient", "add", "Jane Doe", "--payer", "Medicare", "--member-id", "M1", "--auth-expires",
                      "2026-12-31", "-f", "json"))  # fmt: skip
    assert (added["payer"], added["member_id"], added["auth_expires"]) == ("Medicare", "M1", "2026-12-31")
    assert rows('SELECT patient_id, payer, member_id, "order", status FROM coverage') == [
        {"patient_id": 1, "payer": "Medicare", "member_id": "M1", "order": "primary", "status": "active"}
    ]
    assert rows("SELECT patient_id, coverage_id, service, status, end_on FROM prior_authorization") == [
        {"patient_id": 1, "coverage_id": 1, "service": "insurance authorization", "status": "approved",
         "end_on": "2026-12-31"}
    ]  # fmt: skip
    edited = _json(cli("patient", "edit", "jane", "--payer", "Aetna", "--auth-expires", "2027-01-31", "-f", "json"))
    assert (edited["payer"], edited["member_id"], edited["auth_expires"]) == ("Aetna", "M1", "2027-01-31")
    assert len(rows("SELECT id FROM coverage")) == 1 and len(rows("SELECT id FROM prior_authorization")) == 1
    # searching by payer or member id still finds the patient
    assert [p["name"] for p in _json(cli("patient", "list", "--search", "aetna", "-f", "json"))] == ["Jane Doe"]
    assert [p["name"] for p in _json(cli("patient", "list", "--search", "m1", "-f", "json"))] == ["Jane Doe"]
    listed = _json(cli("patient", "list", "-f", "json"))
    assert (listed[0]["payer"], listed[0]["auth_expires"]) == ("Aetna", "2027-01-31")
    # clearing both leaves nothing behind on the coverage: it goes
    cleared = _json(cli("patient", "edit", "jane", "--payer", "", "--member-id", "", "--auth-expires", "", "-f",
                        "json"))  # fmt: skip
    assert (cleared["payer"], cleared["member_id"], cleared["auth_expires"]) == (None, None, None)
    # the authorization was under that coverage, so the coverage stays (with no payer) until it goes
    assert rows("SELECT end_on FROM prior_authorization") == [{"end_on": None}]
    audit = _json(cli("audit", "-f", "json"))
    assert {e["table"] for e in audit} >= {"coverage", "prior_authorization", "patient"}


def test_import_payer_columns_create_coverage_and_an_authorization(cli, tmp_path, rows):
    sheet = tmp_path / "caseload.csv"
    sheet.write_text(
        "Patient Name,DOB,MRN,Insurance,Member ID,Auth Expires\n"
        "Omar Haddad,1948-03-15,48215,Aetna,W123,12/31/2026\n"
        "Mei Chen,1950-01-02,48216,,,\n"
        "Ann Lee,1951-01-02,48217,,X9,\n",
        encoding="utf-8",
    )
    run = cli("import", "patients", str(sheet))
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT patient_id, payer, member_id FROM coverage ORDER BY patient_id") == [
        {"patient_id": 1, "payer": "Aetna", "member_id": "W123"},
        {"patient_id": 3, "payer": None, "member_id": "X9"},
    ]
    assert rows("SELECT patient_id, coverage_id, end_on FROM prior_authorization") == [
        {"patient_id": 1, "coverage_id": 1, "end_on": "2026-12-31"}
    ]
    # a patient list exported as CSV imports back with the same payer data
    exported = cli("patient", "list", "-f", "csv").stdout
    assert "Aetna,W123,2026-12-31" in exported
    again = tmp_path / "again.csv"
    again.write_text(exported, encoding="utf-8")
    assert cli("import", "patients", str(again), "--on-duplicate", "update").exit_code == 0
    assert len(rows("SELECT id FROM coverage")) == 2


# --- migration 0011 -----------------------------------------------------------------------------

OLD_PATIENTS = [
    # name, mrn, payer, member id, authorization end
    ("Payer Only", "P1", "Medicare", None, None),
    ("Member Only", "P2", None, "ZX-99", None),
    ("Everything", "P3", "Aetna Medicare Advantage", "W555", "2026-12-31"),
    ("Auth Only", "P4", None, None, "2024-02-29"),
    ("Nothing", "P5", None, None, None),
    ("Ünïcode Payer", "P6", "Blue Cross Blue Shield of Texas, Inc.", "Ñ-1", "2027-01-01"),
]


def _old_database(path: Path) -> None:
    from tests.test_store import _database_at

    _database_at(path, "0008")
    with closing(sqlite3.connect(path)) as conn:
        for n, (name, mrn, payer, member, end) in enumerate(OLD_PATIENTS, 1):
            conn.execute(
                "INSERT INTO patient (uid, created_at, updated_at, name, name_key, mrn, payer, member_id, auth_expires,"
                " status, enrolled_on, tags, coordinator) VALUES (?, '2025-01-01 10:00:00', '2025-01-01 10:00:00', ?, ?,"
                " ?, ?, ?, ?, 'active', '2025-01-01', '', 'nurse')",
                (f"u{n}", name, name.lower(), mrn, payer, member, end),
            )
        conn.commit()


def _downgrade(path: Path, revision: str) -> None:
    from tests.test_store import _migrate_file

    _migrate_file(path, revision, down=True)


def test_0011_moves_every_payer_member_id_and_authorization_end_and_downgrade_brings_them_back(tmp_path):
    old = tmp_path / "old.db"
    _old_database(old)
    result = CliRunner().invoke(app, ["--db", str(old), "patient", "list", "--sort", "id", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [(p["name"], p["mrn"], p["payer"], p["member_id"], p["auth_expires"]) for p in listed] == OLD_PATIENTS
    with closing(sqlite3.connect(old)) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(patient)")]
        assert not {"payer", "member_id", "auth_expires"} & set(columns)
        assert conn.execute('SELECT patient_id, payer, member_id, "order", status FROM coverage ORDER BY id').fetchall() == [
            (1, "Medicare", None, "primary", "active"),
            (2, None, "ZX-99", "primary", "active"),
            (3, "Aetna Medicare Advantage", "W555", "primary", "active"),
            (6, "Blue Cross Blue Shield of Texas, Inc.", "Ñ-1", "primary", "active"),
        ]  # fmt: skip
        assert conn.execute(
            "SELECT patient_id, coverage_id, service, status, end_on FROM prior_authorization ORDER BY id"
        ).fetchall() == [
            (3, 3, "insurance authorization", "approved", "2026-12-31"),
            (4, None, "insurance authorization", "approved", "2024-02-29"),
            (6, 4, "insurance authorization", "approved", "2027-01-01"),
        ]
        # the MRN still ignores case after the patient table was rebuilt
        assert conn.execute("SELECT name FROM patient WHERE mrn = 'p3'").fetchall() == [("Everything",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    shown = CliRunner().invoke(app, ["--db", str(old), "patient", "show", "p3", "-f", "json"])
    assert [c["payer"] for c in json.loads(shown.stdout)["coverage"]] == ["Aetna Medicare Advantage"]
    _downgrade(old, "0008")
    with closing(sqlite3.connect(old)) as conn:
        back = conn.execute("SELECT name, mrn, payer, member_id, auth_expires FROM patient ORDER BY id").fetchall()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert back == OLD_PATIENTS
    assert not {"coverage", "prior_authorization", "authorization_use"} & tables


@pytest.mark.postgresql
def test_0011_moves_payer_data_on_postgresql_and_steps_back(postgres, monkeypatch):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from carecoord.migrations import MIGRATIONS_DIR
    from carecoord.server import Server

    postgres.reset()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(Server(postgres.url).engine_url)

    def migrate(step, revision: str) -> None:  # type: ignore[no-untyped-def]
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    try:
        migrate(command.downgrade, "0008")
        for n, (name, mrn, payer, member, end) in enumerate(OLD_PATIENTS, 1):
            postgres.rows(
                "INSERT INTO patient (uid, created_at, updated_at, name, name_key, mrn, payer, member_id, auth_expires,"
                " status, enrolled_on, tags) VALUES (?, now(), now(), ?, ?, ?, ?, ?, ?, 'active', '2025-01-01', '')",
                (f"u{n}", name, name.lower(), mrn, payer, member, end),
            )
        migrate(command.upgrade, "head")
        monkeypatch.setenv("CARECOORD_DB", postgres.url)
        listed = json.loads(CliRunner().invoke(app, ["patient", "list", "--sort", "id", "-f", "json"]).stdout)
        assert [(p["name"], p["mrn"], p["payer"], p["member_id"], p["auth_expires"]) for p in listed] == OLD_PATIENTS
        migrate(command.downgrade, "0008")
        back = postgres.rows("SELECT name, mrn, payer, member_id, auth_expires FROM patient ORDER BY id", ())
        assert [tuple(row.values()) for row in back] == OLD_PATIENTS
        # stepping back to 0008 leaves 0008's audit trigger (the server names the role in each audit row)
        triggers = postgres.rows("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass", ())
        assert [t["tgname"] for t in triggers] == ["carecoord_audit_db_role"]
    finally:
        migrate(command.upgrade, "head")
        engine.dispose()
        postgres.reset()


# --- a team store: coordinators see only their own patients' coverage and authorizations ------------


@pytest.mark.postgresql
def test_a_coordinator_cannot_see_another_coordinators_coverage_authorizations_or_uses(team):  # noqa: F811
    from tests.test_team import _names

    for role, name, mrn in ((team.ann, "Ann Patient", "A1"), (team.bob, "Bob Patient", "B1")):
        for args in (("patient", "add", name, "--mrn", mrn),
                     ("coverage", "add", mrn, "--payer", "Medicare"),
                     ("auth", "add", mrn, "--service", "home health", "--status", "approved", "--units", "12",
                      "--unit", "visits"),
                     ("auth", "use", "#" + ("1" if role == team.ann else "2"), "--units", "2")):  # fmt: skip
            run = team.run(role, *args)
            assert run.exit_code == 0, (args, run.stderr)
    tables = ("coverage", "prior_authorization", "authorization_use")
    for role in (team.ann, team.bob):
        assert {table: team.count(role, table) for table in tables} == dict.fromkeys(tables, 1)
    assert {table: team.count(team.sue, table) for table in tables} == dict.fromkeys(tables, 2)
    assert _names(team, team.ann, "coverage", "list") == ["Ann Patient"]
    assert _names(team, team.bob, "auth", "list") == ["Bob Patient"]
    assert_one_line_error(team.run(team.ann, "auth", "show", "2"), 1, "no authorization #2")
    assert_one_line_error(team.run(team.ann, "auth", "use", "2"), 1, "no authorization #2")
    # nor by plain SQL: a use of Bob's authorization cannot be added by Ann
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        team.sql(team.ann, "INSERT INTO authorization_use (uid, created_at, updated_at, authorization_id, used_on, "
                           "units) VALUES ('x', now(), now(), 2, '2026-11-25', 1)")  # fmt: skip
