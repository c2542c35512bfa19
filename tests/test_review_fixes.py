"""Edge cases found by trying the tool hard: references, paths, zones, output, text."""

from __future__ import annotations

import csv
import io
import json
import os
import pwd
import subprocess
import sys

import pytest

from carecoord.records import (
    AUDIT_KEYS,
    CONTACT_KEYS,
    GOAL_KEYS,
    PATIENT_KEYS,
    PLAN_KEYS,
    REVIEW_KEYS,
    TASK_KEYS,
)
from tests.conftest import assert_one_line_error


@pytest.fixture
def three(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "48213")
    cli("patient", "add", "Baby Girl 1", "--mrn", "77001")
    cli("patient", "add", "Pat Ten", "--mrn", "1")
    return cli


def test_a_number_is_an_id_or_an_mrn_never_part_of_a_name(three, unchanged):
    assert json.loads(three("patient", "show", "#1", "-f", "json").stdout)["name"] == "Jane Doe"
    assert json.loads(three("patient", "show", "77001", "-f", "json").stdout)["name"] == "Baby Girl 1"
    with unchanged():
        assert_one_line_error(three("patient", "delete", "1", "--yes"), 1, "both patient #1's id and patient #3's MRN")
    assert three("patient", "delete", "#1", "--yes").exit_code == 0
    # #1 is gone: "1" is now only patient #3's MRN; "#1" is nobody; nothing falls back to "Baby Girl 1"
    assert json.loads(three("patient", "show", "1", "-f", "json").stdout)["name"] == "Pat Ten"
    assert_one_line_error(three("patient", "show", "#1"), 1, "no patient #1")
    assert three("patient", "delete", "1", "--yes").exit_code == 0
    assert_one_line_error(three("patient", "show", "1"), 1, "no patient #1")


def test_audit_of_a_deleted_patient_by_id(three):
    three("patient", "delete", "#1", "--yes")
    history = json.loads(three("audit", "--patient", "#1", "-f", "json").stdout)
    assert {e["patient_id"] for e in history} == {1}


def test_a_backup_onto_the_database_itself_is_refused(cli, db_file, unchanged):
    sneaky = db_file.parent / ".." / db_file.parent.name / db_file.name
    with unchanged():
        assert_one_line_error(cli("db", "backup", str(sneaky), "--force"), 1, "must not be the database itself")


def test_a_failure_after_the_commit_says_the_change_was_saved(db_file):
    env = {**os.environ, "CARECOORD_DB": str(db_file)}
    env.pop("CARECOORD_DEBUG", None)
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "carecoord", "patient", "add", "Zed"],
                                stdout=full, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert result.returncode == 1
    assert "the change itself was saved" in result.stderr and result.stderr.count("\n") == 1


def test_a_closed_pipe_is_not_an_error(cli, db_file):
    import sqlite3
    from contextlib import closing

    cli("patient", "add", "First")
    with closing(sqlite3.connect(db_file)) as conn:  # far more output than a pipe holds
        conn.execute("""
            INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags, notes)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
            SELECT 'u' || i, '2026-01-01', '2026-01-01', 'P' || i, 'p' || i, 'active', '2026-01-01', '',
                   printf('%.200c', 'x') FROM n
        """)
        conn.commit()
    env = {**os.environ, "CARECOORD_DB": str(db_file)}
    pipeline = f"{sys.executable} -m carecoord patient list -f json | head -1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "[\n" and result.stderr == ""


@pytest.mark.parametrize("tz", [":/etc/localtime", "EST+5", "Europe/Paris", ""])
def test_any_tz_value_works(cli, monkeypatch, tz):
    from carecoord.dates import local_zone

    monkeypatch.delenv("CARECOORD_TZ")
    monkeypatch.setenv("TZ", tz)
    local_zone.cache_clear()
    cli("patient", "add", "Jane Doe")
    assert cli("patient", "list", "-f", "json").exit_code == 0


def test_a_bad_carecoord_tz_names_the_variable(cli, monkeypatch):
    from carecoord.dates import local_zone

    monkeypatch.setenv("CARECOORD_TZ", "Mars/Olympus")
    local_zone.cache_clear()
    assert_one_line_error(cli("patient", "add", "X", "--dob", "1950-01-01"), 1, "CARECOORD_TZ", "Mars/Olympus")


@pytest.mark.parametrize(("option", "value"), [("--dob", "+9999y"), ("--enrolled", "-2100y"), ("--dob", "-9000y")])
def test_dates_outside_the_calendar(cli, unchanged, option, value):
    with unchanged():
        assert_one_line_error(cli("patient", "add", "X", option, value), 1)


def test_a_future_enrolment_is_refused(cli, unchanged):
    with unchanged():
        assert_one_line_error(cli("patient", "add", "X", "--enrolled", "+5y"), 1, "in the future")


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (("patient", "list", "--status", "on-hold"), PATIENT_KEYS),
        (("contact", "list"), CONTACT_KEYS),
        (("plan", "list"), PLAN_KEYS),
        (("goal", "list"), (*GOAL_KEYS, "patient_name")),
        (("task", "list"), TASK_KEYS),
        (("audit", "--since", "tomorrow"), AUDIT_KEYS),
    ],
)
def test_an_empty_csv_listing_still_has_its_header(cli, args, keys):
    run = cli(*args, "--format", "csv")
    assert run.stdout.splitlines() == [",".join(keys)]


def test_records_carry_exactly_the_documented_keys(cli):
    cli("patient", "add", "Jane Doe")
    cli("contact", "add", "1", "Ann")
    cli("plan", "add", "1", "Plan", "--status", "active")
    cli("goal", "add", "1", "Goal")
    cli("task", "add", "Task", "--goal", "1")
    review = json.loads(cli("plan", "review", "1", "-f", "json").stdout)
    assert tuple(review) == REVIEW_KEYS
    assert tuple(json.loads(cli("patient", "list", "-f", "json").stdout)[0]) == PATIENT_KEYS
    assert tuple(json.loads(cli("contact", "list", "-f", "json").stdout)[0]) == CONTACT_KEYS
    assert tuple(json.loads(cli("plan", "list", "-f", "json").stdout)[0]) == PLAN_KEYS
    assert tuple(json.loads(cli("goal", "list", "-f", "json").stdout)[0]) == (*GOAL_KEYS, "patient_name")
    assert tuple(json.loads(cli("task", "list", "-f", "json").stdout)[0]) == TASK_KEYS
    assert tuple(json.loads(cli("audit", "-f", "json").stdout)[0]) == AUDIT_KEYS
    with_contacts = cli("patient", "show", "1", "-f", "csv").stdout
    assert next(csv.reader(io.StringIO(with_contacts))) == list(PATIENT_KEYS)


def test_the_audit_user_is_the_account_not_the_environment(cli, monkeypatch):
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    cli("patient", "add", "Spoof")
    [entry] = json.loads(cli("audit", "-f", "json").stdout)
    assert entry["os_user"] == pwd.getpwuid(os.geteuid()).pw_name


@pytest.mark.parametrize(
    "args",
    [
        ("patient", "add", "Evil\x1b[31mRed"),
        ("patient", "add", "Line\nBreak"),
        ("patient", "add", "X", "--notes", "bell\x07"),
        ("task", "add", "a\rb"),
    ],
)
def test_control_characters_are_refused(cli, unchanged, args):
    with unchanged():
        assert_one_line_error(cli(*args), 1, "control characters")


def test_multi_line_notes_are_kept(cli, rows):
    assert cli("patient", "add", "X", "--notes", "line one\r\nline two").exit_code == 0
    assert rows("SELECT notes FROM patient") == [{"notes": "line one\nline two"}]


def test_risk_and_preferred_method_can_be_cleared(cli, rows):
    cli("patient", "add", "Jane Doe", "--risk", "high")
    cli("contact", "add", "jane", "Ann", "--prefers", "text")
    assert cli("patient", "edit", "jane", "--risk", "").exit_code == 0
    assert cli("contact", "edit", "ann", "--prefers", "").exit_code == 0
    assert rows("SELECT risk FROM patient") == [{"risk": None}]
    assert rows("SELECT preferred_method FROM contact") == [{"preferred_method": None}]
    assert_one_line_error(cli("patient", "edit", "jane", "--risk", "extreme"), 1, "use one of low, moderate, high")


def test_same_named_contacts_are_told_apart_and_can_be_narrowed(cli, rows):
    cli("patient", "add", "Jane Doe")
    cli("patient", "add", "Omar Haddad")
    cli("contact", "add", "jane", "Ann Smith", "--role", "daughter")
    cli("contact", "add", "omar", "Ann Smith", "--role", "neighbour")
    assert_one_line_error(cli("contact", "remove", "ann", "--yes"), 1, "of Jane Doe", "of Omar Haddad")
    assert cli("contact", "remove", "ann", "--patient", "omar", "--yes").exit_code == 0
    assert rows("SELECT role FROM contact") == [{"role": "daughter"}]
    assert_one_line_error(cli("contact", "add", "jane", "Bo", "--email", "a@"), 1, "invalid email")


def test_a_folder_given_as_the_database(cli, tmp_path):
    result = cli("--db", str(tmp_path), "patient", "add", "X")
    assert result.exit_code == 3 and "folder" in result.stderr
