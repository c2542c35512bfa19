"""The account of disclosures (issue 16): every export of patients' information to a file is recorded
with its patients, kind, recipient and purpose, if and only if the file was written; nobody changes
or deletes one; a coordinator on a team server sees only their patients'."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

import tests.test_team
from carecoord.records import DISCLOSURE_CSV_KEYS, DISCLOSURE_KEYS
from tests.conftest import assert_one_line_error
from tests.test_team import Team, _enrol

team = tests.test_team.team  # the fixture: two coordinators and a supervisor, each a login role


@pytest.fixture
def caseload(cli):
    """Jane Doe (#1, MRN 48213) with a home visit tomorrow and a task due tomorrow; Omar Haddad (#2)
    with a phone call tomorrow; Zoë Ça Va (#3, discharged) with nothing."""
    for step in (
        ("patient", "add", "Jane Doe", "--mrn", "48213", "--phone", "555-0100"),
        ("patient", "add", "Omar Haddad"),
        ("patient", "add", "Zoë Ça Va"),
        ("patient", "discharge", "zoë"),
        ("appt", "add", "jane", "--start", "tomorrow 10:00", "--type", "home-visit", "--location", "12 Elm St"),
        ("task", "add", "Refill for Jane", "--patient", "jane", "--due", "tomorrow"),
        ("appt", "add", "omar", "--start", "tomorrow 14:00", "--type", "phone"),
    ):
        run = cli(*step)
        assert run.exit_code == 0, (step, run.stderr)
    return cli


def accounts(cli, *args: str) -> list[dict]:
    run = cli("audit", "disclosures", *args, "-f", "json")
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


def ok(cli, *args: str) -> str:
    run = cli(*args)
    assert run.exit_code == 0, (args, run.stderr)
    return run.stdout


def test_each_export_to_a_file_records_one_disclosure_with_its_patients(caseload, tmp_path, rows):
    cli = caseload
    calendar, agenda = tmp_path / "week.ics", tmp_path / "tomorrow.md"
    people, jane = tmp_path / "patients.csv", tmp_path / "jane.json"
    assert ok(cli, "export", "ics", "--days", "7", "--tasks", "--out", str(calendar), "--recipient",
              "covering nurse", "--purpose", "operations") == f"Wrote 2 appointments and 1 task to {calendar}.\n"  # fmt: skip
    assert ok(cli, "agenda", "tomorrow", "-f", "markdown", "--out", str(agenda)) == ""
    ok(cli, "patient", "list", "--all", "-f", "csv", "--out", str(people), "--to", "Dr. Lee, cardiology",
       "--purpose", "TREATMENT")  # fmt: skip
    ok(cli, "patient", "show", "jane", "-f", "json", "--recipient", "Jane Doe", "--purpose", "patient-request",
       "--out", str(jane))  # fmt: skip
    # the files are what the screen would show
    assert people.read_text(encoding="utf-8") == ok(cli, "patient", "list", "--all", "-f", "csv")
    assert json.loads(jane.read_text(encoding="utf-8")) == json.loads(ok(cli, "patient", "show", "jane", "-f", "json"))
    assert "Home visit: Jane Doe" in agenda.read_text(encoding="utf-8")

    found = accounts(cli)
    assert [tuple(d) for d in found] == [DISCLOSURE_KEYS] * 4
    assert [(d["kind"], d["recipient"], d["purpose"], d["target"], d["patient_ids"]) for d in found] == [
        ("patients-json", "Jane Doe", "patient-request", str(jane), [1]),
        ("patients-csv", "Dr. Lee, cardiology", "treatment", str(people), [1, 2, 3]),
        ("agenda", None, None, str(agenda), [1, 2]),
        ("calendar", "covering nurse", "operations", str(calendar), [1, 2]),
    ]  # newest first
    assert found[1]["patients"] == [{"id": 1, "name": "Jane Doe", "mrn": "48213"},
                                    {"id": 2, "name": "Omar Haddad", "mrn": None},
                                    {"id": 3, "name": "Zoë Ça Va", "mrn": None}]  # fmt: skip
    assert found[1]["patient_count"] == 3 and found[1]["patient_names"] == ["Jane Doe", "Omar Haddad", "Zoë Ça Va"]
    assert all(d["os_user"] and d["at"].startswith("2026-11-25T") and d["description"] for d in found)
    assert found[3]["description"].startswith("calendar 2026-11-25 to 2026-12-01: appointments and tasks")
    assert len(rows("SELECT * FROM disclosure")) == 4 and len(rows("SELECT * FROM disclosure_patient")) == 8
    # one patient's disclosures; a table says 'unspecified' where nobody said
    assert [d["kind"] for d in accounts(cli, "--patient", "omar")] == ["patients-csv", "agenda", "calendar"]
    table = ok(cli, "audit", "disclosures", "--patient", "jane")
    assert "Disclosures (4)" in table and "unspecified" in table and "patient-request" in table
    assert "week.ics" in table and str(tmp_path) not in table  # the file's name; the whole path in JSON


def test_a_printed_summary_written_to_a_file_is_a_disclosure_of_its_patient(caseload, tmp_path):
    cli = caseload
    family, handoff = tmp_path / "jane.html", tmp_path / "jane-handoff.md"
    assert "Wrote the care plan of #1 Jane Doe" in ok(cli, "patient", "summary", "jane", "--out", str(family),
                                                       "--to", "Jane's daughter", "--purpose", "patient-request")  # fmt: skip
    ok(cli, "patient", "summary", "jane", "--for", "provider", "-f", "markdown", "--out", str(handoff),
       "--recipient", "Dr. Lee", "--purpose", "treatment")  # fmt: skip
    assert "Jane Doe" in ok(cli, "patient", "summary", "jane")  # on the screen: not recorded
    found = accounts(cli)
    assert [(d["kind"], d["recipient"], d["purpose"], d["target"], d["patient_ids"]) for d in found] == [
        ("summary-provider", "Dr. Lee", "treatment", str(handoff), [1]),
        ("summary-patient", "Jane's daughter", "patient-request", str(family), [1]),
    ]
    assert found[0]["description"] == "handoff summary for a provider (markdown)"


def test_a_fhir_export_is_a_disclosure_of_every_patient_it_carries(caseload, tmp_path):
    cli = caseload
    bundle, everyone = tmp_path / "jane.json", tmp_path / "all.ndjson"
    ok(cli, "export", "fhir", "--patient", "jane", "--out", str(bundle), "--to", "Sunrise Home Health",
       "--purpose", "treatment")  # fmt: skip
    ok(cli, "export", "fhir", "--all", "--ndjson", "--out", str(everyone))
    assert '"resourceType":"Bundle"' in ok(cli, "export", "fhir", "--patient", "omar", "--out", "-")  # not recorded
    found = accounts(cli)
    assert [(d["kind"], d["recipient"], d["purpose"], d["target"], d["patient_ids"]) for d in found] == [
        ("fhir-ndjson", None, None, str(everyone), [1, 2, 3]),
        ("fhir", "Sunrise Home Health", "treatment", str(bundle), [1]),
    ]
    assert_one_line_error(cli("export", "fhir", "--all", "--out", "-", "--to", "X"), 2, "only a file")


def test_a_redacted_calendar_and_the_screen_record_nothing(caseload, tmp_path, rows):
    cli = caseload
    redacted = tmp_path / "phone.ics"
    assert ok(cli, "export", "ics", "--days", "2", "--redact", "--out", str(redacted)).startswith("Wrote 2")
    assert b"SUMMARY:Home visit: J.D." in redacted.read_bytes()
    assert "BEGIN:VCALENDAR" in ok(cli, "export", "ics", "--days", "2", "--out", "-")
    assert "Jane Doe" in ok(cli, "agenda", "tomorrow", "-f", "json", "--out", "-")
    assert "Jane Doe" in ok(cli, "patient", "list", "--out", "-")
    ok(cli, "patient", "show", "jane", "-f", "csv")
    assert rows("SELECT * FROM disclosure") == []
    # the same calendar unredacted is a disclosure of both patients
    ok(cli, "export", "ics", "--days", "2", "--out", str(tmp_path / "full.ics"))
    [full] = accounts(cli)
    assert (full["kind"], full["patient_ids"], full["recipient"], full["purpose"]) == ("calendar", [1, 2], None, None)
    # a file that carries nobody discloses nothing
    ok(cli, "export", "ics", "--from", "2027-01-01", "--out", str(tmp_path / "empty.ics"))
    ok(cli, "patient", "list", "--tag", "nobody", "-f", "json", "--out", str(tmp_path / "nobody.json"))
    assert len(accounts(cli)) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("export", "ics", "--days", "2", "--redact", "--recipient", "cloud"), "a redacted calendar"),
        (("patient", "list", "--to", "Dr. Lee"), "only a file"),
        (("agenda", "--purpose", "treatment", "--out", "-"), "only a file"),
    ],
)
def test_a_recipient_or_purpose_where_nothing_is_recorded_is_refused(caseload, tmp_path, unchanged, args, fragment):
    with unchanged():
        run = caseload(*args, *(("--out", str(tmp_path / "x")) if args[0] == "export" else ()))
    assert_one_line_error(run, 2, fragment)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("export", "ics", "--days", "2", "--recipient", "Dr. Lee"),
        ("agenda", "tomorrow"),
        ("patient", "list", "-f", "json"),
        ("patient", "show", "jane"),
        ("patient", "summary", "jane"),
        ("export", "fhir", "--all"),
    ],
)
def test_an_unknown_purpose_is_one_line_exit_1_and_nothing_written_or_recorded(caseload, tmp_path, unchanged, args):
    target = tmp_path / "out.file"
    with unchanged():
        run = caseload(*args, "--out", str(target), "--purpose", "research")
    assert_one_line_error(run, 1, "'research' is not one of", "patient-request")
    assert not target.exists()


def test_a_failed_export_records_nothing_and_leaves_no_file(caseload, tmp_path, unchanged):
    missing = tmp_path / "no-such-folder" / "week.ics"
    for args in (("export", "ics", "--days", "7"), ("agenda",), ("patient", "list", "-f", "csv")):
        with unchanged():
            run = caseload(*args, "--out", str(missing), "--to" if args[0] != "export" else "--recipient", "Dr. Lee")
        assert_one_line_error(run, 3, "does not exist")
        assert not missing.parent.exists()
    with unchanged():
        assert_one_line_error(caseload("patient", "show", "jane", "--out", str(tmp_path)), 3, "it is a folder")


def test_when_recording_fails_the_previous_file_stays_and_nothing_is_recorded(caseload, tmp_path, unchanged,
                                                                               monkeypatch):  # fmt: skip
    from carecoord.errors import StorageError
    from carecoord.services import disclosures

    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "week.ics"
    target.write_text("the previous calendar")

    def failing(*args, **kwargs):
        raise StorageError("the store refused the disclosure")

    monkeypatch.setattr(disclosures, "record", failing)
    with unchanged():
        assert_one_line_error(caseload("export", "ics", "--days", "7", "--out", str(target)), 3, "refused")
    assert target.read_text() == "the previous calendar"
    assert [p.name for p in folder.iterdir()] == ["week.ics"]  # no temporary file left


def test_when_the_commit_fails_the_new_file_is_removed_and_nothing_is_recorded(caseload, tmp_path, unchanged,
                                                                                monkeypatch):  # fmt: skip
    from sqlmodel import Session

    from carecoord.errors import StorageError

    def failing(self):
        raise StorageError("the disk is full")

    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(Session, "commit", failing)
    with unchanged():
        run = caseload("patient", "show", "jane", "-f", "json", "--out", str(folder / "jane.json"))
    assert_one_line_error(run, 3, "disk is full")
    assert list(folder.iterdir()) == []


def test_deleting_a_patient_keeps_their_disclosures(caseload, tmp_path):
    cli = caseload
    ok(cli, "patient", "show", "omar", "-f", "json", "--out", str(tmp_path / "omar.json"), "--to", "Dr. Lee")
    ok(cli, "patient", "delete", "omar", "--yes")
    [kept] = accounts(cli, "--patient", "#2")
    assert (kept["patients"], kept["recipient"]) == ([{"id": 2, "name": "Omar Haddad", "mrn": None}], "Dr. Lee")
    assert accounts(cli) == [kept]
    assert_one_line_error(cli("audit", "disclosures", "--patient", "omar"), 1, "no patient matches")


def test_audit_disclosures_since_and_formats(caseload, tmp_path):
    cli = caseload
    ok(cli, "agenda", "tomorrow", "-f", "csv", "--out", str(tmp_path / "a.csv"), "--to", "team huddle")
    assert accounts(cli, "--since", "tomorrow") == []
    assert len(accounts(cli, "--since", "today")) == 1
    table = csv.reader(io.StringIO(ok(cli, "audit", "disclosures", "-f", "csv")))
    header, row = list(table)
    assert tuple(header) == DISCLOSURE_CSV_KEYS
    assert row[header.index("patient_names")] == "Jane Doe;Omar Haddad"
    assert ok(cli, "audit", "disclosures", "--since", "tomorrow", "-f", "csv").splitlines() == [",".join(
        DISCLOSURE_CSV_KEYS)]  # fmt: skip
    assert "| team huddle |" in ok(cli, "audit", "disclosures", "-f", "markdown")
    assert_one_line_error(cli("audit", "disclosures", "--since", "soonish"), 1, "soonish")
    # a table written to a file is its Markdown (a file has no terminal width), and says so in its kind
    listing = tmp_path / "patients.md"
    ok(cli, "patient", "list", "--out", str(listing))
    assert listing.read_text(encoding="utf-8") == ok(cli, "patient", "list", "-f", "markdown")
    assert listing.read_text(encoding="utf-8").startswith("## Active patients (2)")
    assert accounts(cli)[0]["kind"] == "patients-markdown"
    # the audit trail's own options stay on 'audit'; given before the sub-command they are refused
    assert_one_line_error(cli("audit", "--patient", "jane", "disclosures"), 2, "after 'disclosures'")
    assert json.loads(ok(cli, "audit", "--patient", "jane", "-f", "json"))


def test_disclosures_are_never_changed_or_deleted_on_a_file(caseload, db_file, tmp_path):
    ok(caseload, "patient", "list", "-f", "json", "--out", str(tmp_path / "p.json"))
    with sqlite3.connect(db_file) as conn:
        for statement in ("UPDATE disclosure SET recipient = 'x'", "DELETE FROM disclosure",
                          "UPDATE disclosure_patient SET patient_name = 'x'", "DELETE FROM disclosure_patient"):  # fmt: skip
            with pytest.raises(sqlite3.IntegrityError, match="never changed or deleted"):
                conn.execute(statement)
    assert len(accounts(caseload)[0]["patients"]) == 2
    assert caseload("db", "check").exit_code == 0


# --- a team on one PostgreSQL server ------------------------------------------------------------


@pytest.mark.postgresql
def test_a_coordinator_sees_only_their_patients_disclosures_and_nobody_changes_one(team: Team, tmp_path: Path):
    import psycopg

    _enrol(team, team.ann, "Ann Patient", "A1")
    _enrol(team, team.bob, "Bob Patient", "B1")
    run = team.run(team.ann, "patient", "show", "A1", "-f", "json", "--out", str(tmp_path / "a1.json"), "--to",
                   "Dr. Lee", "--purpose", "treatment")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    everyone = team.run(team.sue, "export", "ics", "--days", "7", "--out", str(tmp_path / "all.ics"))
    assert everyone.exit_code == 0, everyone.stderr

    def listed(role: str) -> list[tuple[str, str | None, list[str]]]:
        run = team.run(role, "audit", "disclosures", "-f", "json")
        assert run.exit_code == 0, run.stderr
        return [(d["kind"], d["db_role"], d["patient_names"]) for d in json.loads(run.stdout)]

    assert listed(team.sue) == [("calendar", team.sue, ["Ann Patient", "Bob Patient"]),
                                ("patients-json", team.ann, ["Ann Patient"])]  # fmt: skip
    # a coordinator sees their patients' disclosures, and of the supervisor's export only their patient
    assert listed(team.ann) == [("calendar", team.sue, ["Ann Patient"]), ("patients-json", team.ann, ["Ann Patient"])]
    assert listed(team.bob) == [("calendar", team.sue, ["Bob Patient"])]
    assert team.count(team.bob, "disclosure_patient") == 1
    # nobody, not even a supervisor, changes or deletes a disclosure
    before = team.store.dump()
    for role in (team.ann, team.sue):
        for statement in ("UPDATE disclosure SET recipient = 'nobody'", "DELETE FROM disclosure",
                          "TRUNCATE disclosure CASCADE", "UPDATE disclosure_patient SET patient_name = 'x'",
                          "DELETE FROM disclosure_patient"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                team.sql(role, statement)
    assert team.store.dump() == before
    # the server names the role, whatever a client writes
    team.sql(team.ann, "INSERT INTO disclosure (at, os_user, db_role, kind, target, description) VALUES "
                       f"(now(), 'x', '{team.sue}', 'agenda', 'f', 'd')")  # fmt: skip
    assert team.sql(team.sue, "SELECT db_role FROM disclosure WHERE os_user = 'x'") == [(team.ann,)]
