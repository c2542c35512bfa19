"""Phone numbers: read however they are typed, stored as E.164, shown in national format, found by
any typing; an unreadable number refused with the reason or kept as typed with --raw-phone; the
0012 migration normalises what is stored (issue 15, item 6). Also: program enrolments are private to
a coordinator on a team store, like every patient's record."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest
from typer.testing import CliRunner

from carecoord.cli import app
from tests.conftest import assert_one_line_error
from tests.test_team import team  # noqa: F401  (the fixture: two coordinators and a supervisor)

# typed -> stored, national display (US region)
READABLE = [
    ("(617) 555-0123", "+16175550123", "(617) 555-0123"),
    ("617.555.0123", "+16175550123", "(617) 555-0123"),
    ("617-555-0123", "+16175550123", "(617) 555-0123"),
    ("6175550123", "+16175550123", "(617) 555-0123"),
    ("1-617-555-0123", "+16175550123", "(617) 555-0123"),
    ("+1 617 555 0123", "+16175550123", "(617) 555-0123"),
    ("011 44 20 7946 0958", "+442079460958", "+44 20 7946 0958"),  # dialled from the US (IDD 011)
    ("617 555 0123 x12", "+16175550123;ext=12", "(617) 555-0123 ext. 12"),
    ("617-555-0123 ext. 7", "+16175550123;ext=7", "(617) 555-0123 ext. 7"),
    ("555-0101", "+15550101", "555-0101"),  # the demo's and the tests' fictional numbers, no area code
    ("555-366-5283", "+15553665283", "(555) 366-5283"),  # Synthea's: area code 555, possible, never assigned
    ("+44 20 7946 0958", "+442079460958", "+44 20 7946 0958"),  # another country: international format
    ("+52 55 1234 5678", "+525512345678", "+52 55 1234 5678"),
]


def stored(rows, table="patient"):
    return [r["phone"] for r in rows(f"SELECT phone FROM {table} ORDER BY id")]


@pytest.mark.parametrize(("typed", "e164", "shown"), READABLE, ids=[t for t, *_ in READABLE])
def test_a_number_typed_any_way_is_stored_as_e164_and_shown_nationally(cli, rows, typed, e164, shown):
    run = cli("patient", "add", "Jane Doe", "--phone", typed, "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["phone"] == e164  # scripts get the stored form
    assert stored(rows) == [e164]
    assert f"Phone         {shown}\n" in cli("patient", "show", "jane").stdout
    assert f"| {shown} |" in cli("patient", "list", "-f", "markdown").stdout


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("call the daughter", "cannot read 'call the daughter' as a phone number: type it like (617) 555-0123"),
        ("1", "cannot read '1' as a phone number"),
        ("911", "(it is too short for a US phone number)"),
        ("617-555-012", "(it is too short for a US phone number)"),
        ("617-555-01234567", "(it is too long for a US phone number)"),
        ("+999 123 4567", "(its country code is missing or unknown)"),
        ("555-0101\n555-0102", "one line of text"),
    ],
)
def test_an_unreadable_number_is_refused_with_the_reason_and_changes_nothing(jane, unchanged, typed, why):
    with unchanged():
        for args in (("patient", "add", "Omar", "--phone", typed), ("patient", "edit", "jane", "--phone", typed),
                     ("contact", "add", "jane", "Ann Doe", "--phone", typed)):  # fmt: skip
            assert_one_line_error(jane(*args), 1, why)


def test_raw_phone_keeps_a_number_as_typed(jane, rows, unchanged):
    assert jane("patient", "edit", "jane", "--phone", "ask for Rosa, 555-0102", "--raw-phone").exit_code == 0
    assert jane("contact", "add", "jane", "Ann Doe", "--phone", "911", "--raw-phone").exit_code == 0
    assert stored(rows) == ["ask for Rosa, 555-0102"] and stored(rows, "contact") == ["911"]
    assert "Phone         ask for Rosa, 555-0102\n" in jane("patient", "show", "jane").stdout
    with unchanged():
        run = jane("patient", "edit", "jane", "--raw-phone", "--risk", "high")
        assert_one_line_error(run, 2, "--raw-phone keeps the number given with --phone as typed")
    assert jane("patient", "edit", "jane", "--phone", "617 555 0123").exit_code == 0
    assert jane("patient", "edit", "jane", "--phone", "").exit_code == 0  # cleared
    assert stored(rows) == [None]


def test_a_number_is_found_however_it_is_typed(cli):
    cli("patient", "add", "Jane Doe", "--phone", "(617) 555-0123 x12")
    cli("patient", "add", "Omar Haddad", "--phone", "+44 20 7946 0958")
    cli("patient", "add", "Zoe Local", "--phone", "555-0123")
    cli("contact", "add", "omar", "Layla Haddad", "--phone", "617.555.0199")

    def found(*args):
        return [r["name"] for r in json.loads(cli(*args, "-f", "json").stdout)]

    for typed in ("617-555-0123", "6175550123", "+1 (617) 555 0123", "1.617.555.0123", "(617) 555-0123 ext 12"):
        assert found("patient", "list", "--search", typed) == ["Jane Doe"], typed
    assert found("patient", "list", "--search", "555-0123") == ["Jane Doe", "Zoe Local"]  # the last 7 digits
    for typed in ("+44 20 7946 0958", "442079460958", "20 7946 0958"):
        assert found("patient", "list", "--search", typed) == ["Omar Haddad"], typed
    assert found("patient", "list", "--search", "haddad") == ["Omar Haddad"]  # text still searches text
    for typed in ("617-555-0199", "(617) 5550199", "+16175550199"):
        assert found("contact", "list", "--search", typed) == ["Layla Haddad"], typed
    assert found("contact", "list", "--search", "layla") == ["Layla Haddad"]
    assert found("contact", "list", "--search", "617-555-0123") == []


def test_carecoord_region_reads_numbers_of_another_country(cli, rows, monkeypatch):
    monkeypatch.setenv("CARECOORD_REGION", "GB")
    assert cli("patient", "add", "Jane Doe", "--phone", "020 7946 0958").exit_code == 0
    assert cli("patient", "add", "Omar Haddad", "--phone", "+1 617 555 0123").exit_code == 0
    assert stored(rows) == ["+442079460958", "+16175550123"]
    table = cli("patient", "list", "-f", "markdown").stdout
    assert "| 020 7946 0958 |" in table and "| +1 617-555-0123 |" in table
    monkeypatch.setenv("CARECOORD_REGION", "XX")
    assert_one_line_error(cli("patient", "add", "Ann", "--phone", "0123"), 1, "CARECOORD_REGION: 'XX' is not a region")


def test_imports_store_numbers_in_one_form_and_raw_phone_keeps_the_unreadable(cli, rows, tmp_path, unchanged):
    sheet = tmp_path / "in.csv"
    sheet.write_text("Name,Phone\nJane Doe,617.555.0123\nOmar Haddad,ask the son\n")
    with unchanged():
        run = cli("import", "patients", str(sheet))
    assert run.exit_code == 1 and "line 3: cannot read 'ask the son' as a phone number" in run.stderr
    assert cli("import", "patients", str(sheet), "--raw-phone").exit_code == 0
    assert stored(rows) == ["+16175550123", "ask the son"]
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Patient,Contact Name,Phone\nJane Doe,Ann Doe,+44 20 7946 0958\n")
    assert cli("import", "contacts", str(contacts)).exit_code == 0
    assert stored(rows, "contact") == ["+442079460958"]


def test_migration_0012_normalises_stored_numbers_and_keeps_the_unreadable(tmp_path):
    from tests.test_store import _database_at

    old = tmp_path / "old.db"
    _database_at(old, "0008")
    typed = ["(617) 555-0123", "555-0101", "call the daughter", None, "617.555.0123 x9", "+44 20 7946 0958", "911"]
    with closing(sqlite3.connect(old)) as conn:
        for n, phone in enumerate(typed, 1):
            conn.execute(
                "INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags, "
                "coordinator, phone) VALUES (?, '2025-01-01', '2025-01-01', ?, ?, 'active', '2025-01-01', '', "
                "'me', ?)",
                (f"u{n}", f"P{n}", f"p{n}", phone),
            )
        conn.execute(
            "INSERT INTO contact (uid, created_at, updated_at, patient_id, name, consent_to_share, phone) "
            "VALUES ('c1', '2025-01-01', '2025-01-01', 1, 'Ann', 0, '617 555 0199')"
        )
        conn.commit()
    result = CliRunner().invoke(app, ["--db", str(old), "patient", "list", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    with closing(sqlite3.connect(old)) as conn:
        assert [r[0] for r in conn.execute("SELECT phone FROM patient ORDER BY id")] == [
            "+16175550123", "+15550101", "call the daughter", None, "+16175550123;ext=9", "+442079460958", "911",
        ]  # fmt: skip
        assert conn.execute("SELECT phone FROM contact").fetchall() == [("+16175550199",)]


@pytest.mark.postgresql
def test_migration_0012_on_postgresql_normalises_and_steps_down_leaving_numbers_as_e164(postgres, monkeypatch):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from carecoord.migrations import MIGRATIONS_DIR
    from carecoord.server import Server

    postgres.reset()
    monkeypatch.setenv("CARECOORD_DB", postgres.url)
    runner = CliRunner()
    assert runner.invoke(app, ["patient", "add", "Kept Patient"]).exit_code == 0
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(Server(postgres.url).engine_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
        assert "program_enrolment" not in {r["tablename"] for r in postgres.rows("SELECT tablename FROM pg_tables", ())}
        postgres.rows("UPDATE patient SET phone = '(617) 555-0123 x4'", ())
        postgres.rows(
            "INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags, phone) "
            "VALUES ('u9', now(), now(), 'Junk Phone', 'junk phone', 'active', '2025-01-01', '', 'n/a')",
            (),
        )
    finally:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        engine.dispose()
    assert postgres.rows("SELECT phone FROM patient ORDER BY id", ()) == [
        {"phone": "+16175550123;ext=4"}, {"phone": "n/a"}]  # fmt: skip
    run = runner.invoke(app, ["program", "enroll", "kept", "ccm", "--consent", "verbal"])
    assert run.exit_code == 0, run.stderr


# --- program enrolments are private to the coordinator, like the rest of a patient's record ----------


@pytest.mark.postgresql
def test_a_coordinator_cannot_see_anothers_program_enrolments(team):  # noqa: F811
    from tests.test_team import _enrol

    _enrol(team, team.ann, "Ann Patient", "A1")
    _enrol(team, team.bob, "Bob Patient", "B1")
    for role, mrn in ((team.ann, "A1"), (team.bob, "B1")):
        run = team.run(role, "program", "enroll", mrn, "ccm", "--consent", "verbal")
        assert run.exit_code == 0, run.stderr
        logged = team.run(role, "log", "add", mrn, "--minutes", "5", "--program", "chi")
        assert logged.exit_code == 0, logged.stderr
    listed = json.loads(team.run(team.ann, "program", "list", "-f", "json").stdout)
    assert [r["patient_name"] for r in listed] == ["Ann Patient"]
    assert team.count(team.bob, "program_enrolment") == 1 and team.count(team.sue, "program_enrolment") == 2
    assert [n for (n,) in team.sql(team.ann, "SELECT program FROM program_enrolment")] == ["ccm"]
    # nor can one be added under another's patient, through plain SQL
    with pytest.raises(Exception, match="row-level security"):
        team.sql(team.ann, "INSERT INTO program_enrolment (uid, created_at, updated_at, patient_id, program, consent, "
                           "enrolled_on) VALUES ('x', now(), now(), 2, 'chi', 'verbal', current_date)")  # fmt: skip
    minutes = json.loads(team.run(team.sue, "report", "minutes", "-f", "json").stdout)
    assert sorted((r["patient_name"], r["chi_minutes"]) for r in minutes) == [("Ann Patient", 5), ("Bob Patient", 5)]
