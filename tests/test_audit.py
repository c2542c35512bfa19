"""The audit trail: every create, update and delete, with who and when."""

from __future__ import annotations

import getpass
import json
import os
import pwd


def test_every_change_is_audited_in_order(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1", "--phone", "555-0100")
    cli("contact", "add", "jane", "Ann Doe", "--role", "daughter")
    cli("patient", "edit", "jane", "--phone", "555-0199")
    cli("patient", "discharge", "jane", "--reason", "moved")
    cli("patient", "reactivate", "jane")
    cli("contact", "remove", "1", "--yes")
    entries = json.loads(cli("audit", "-f", "json").stdout)
    assert [(e["action"], e["table"], e["record_id"]) for e in reversed(entries)] == [
        ("create", "patient", 1),
        ("create", "contact", 1),
        ("update", "patient", 1),
        ("update", "patient", 1),
        ("update", "patient", 1),
        ("delete", "contact", 1),
    ]
    phone_change = entries[3]
    assert phone_change["changes"] == {"phone": ["+15550100", "+15550199"]}  # as stored (E.164)
    assert entries[2]["changes"]["status"] == ["active", "discharged"]
    assert entries[1]["changes"]["status"] == ["discharged", "active"]
    assert entries[0]["changes"]["name"] == ["Ann Doe", None]  # a deletion keeps what was removed
    assert all(e["os_user"] == getpass.getuser() for e in entries)
    assert all(e["patient_id"] == 1 for e in entries)


def test_audit_table_summarises_changes(cli):
    cli("patient", "add", "Jane Doe", "--phone", "555-0100")
    cli("patient", "edit", "jane", "--phone", "555-0199")
    table = cli("audit").stdout
    assert "phone: +15550100 → +15550199" in table


def test_audit_filters_by_patient_and_since(cli):
    cli("patient", "add", "Jane Doe")
    cli("patient", "add", "Omar Haddad")
    cli("patient", "edit", "omar", "--phone", "555-0101")
    omar = json.loads(cli("audit", "--patient", "omar", "-f", "json").stdout)
    assert {e["patient_id"] for e in omar} == {2} and len(omar) == 2
    assert json.loads(cli("audit", "--since", "tomorrow", "-f", "json").stdout) == []
    assert len(json.loads(cli("audit", "--since", "today", "-f", "json").stdout)) == 3


def test_a_deleted_patients_history_stays(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    cli("contact", "add", "jane", "Ann Doe")
    cli("patient", "delete", "1", "--yes")
    history = json.loads(cli("audit", "--patient", "1", "-f", "json").stdout)
    assert {(e["action"], e["table"]) for e in history[:2]} == {("delete", "contact"), ("delete", "patient")}
    [deleted] = [e for e in history if e["table"] == "patient" and e["action"] == "delete"]
    assert deleted["changes"]["mrn"] == ["MRN-1", None]


def test_a_failed_command_writes_no_audit_row(cli, rows):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    assert cli("patient", "add", "Other", "--mrn", "MRN-1").exit_code == 1
    assert len(rows("SELECT * FROM audit_log")) == 1


def test_the_audit_of_a_deleted_patient_is_found_by_its_id(three_patients):
    three_patients("patient", "delete", "#1", "--yes")
    history = json.loads(three_patients("audit", "--patient", "#1", "-f", "json").stdout)
    assert {e["patient_id"] for e in history} == {1}


def test_the_audit_user_is_the_account_not_the_environment(cli, monkeypatch):
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    cli("patient", "add", "Spoof")
    [entry] = json.loads(cli("audit", "-f", "json").stdout)
    assert entry["os_user"] == pwd.getpwuid(os.geteuid()).pw_name


def test_a_changed_moment_reads_in_the_users_zone_as_the_when_column_does(cli):
    """A task completed at 16:44 in New York shows '2026-11-24 16:44' among the changes, whatever
    offset the stored moment carries (the JSON keeps what is stored)."""
    cli("task", "add", "Call pharmacy")
    assert cli("task", "done", "1", "--date", "yesterday 4:44pm").exit_code == 0
    [entry] = [e for e in json.loads(cli("audit", "-f", "json").stdout) if e["action"] == "update"]
    assert entry["changes"]["completed_at"][1].startswith("2026-11-2")
    assert "completed_at: (empty) → 2026-11-24 16:44" in entry["summary"]
    with_utc = {"completed_at": [None, "2026-11-24T21:44:00+00:00"]}
    from carecoord.records import change_summary

    assert change_summary("update", with_utc) == "completed_at: (empty) → 2026-11-24 16:44"
