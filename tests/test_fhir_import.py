"""import fhir: a Synthea patient, an EHR's Bundle, carecoord's own export; the same file twice
changes nothing; a file it cannot take is one line, exit 1, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error

SYNTHEA = Path(__file__).parent / "data" / "synthea" / "Lindsay928_Gerlach374.json"


def write(tmp_path, data, name="in.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return str(path)


def bundle(*resources, kind="collection"):
    return {"resourceType": "Bundle", "type": kind,
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}  # fmt: skip


PATIENT = {
    "resourceType": "Patient", "id": "0f7a1c52-4e38-4c3a-9f0e-5b2d1e7a9c01",
    "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                    "system": "urn:oid:1.2.3.4", "value": "EHR-77"}],
    "name": [{"use": "official", "family": "Rivera", "given": ["Ana", "Lucía"]}],
    "birthDate": "1948-05-17",
    "telecom": [{"system": "phone", "value": "(617) 555-0199", "use": "home"}, {"system": "email", "value": "ana@example.org"}],
    "address": [{"use": "home", "line": ["4 Oak Ave", "Apt 2"], "city": "Boston", "state": "MA", "postalCode": "02118"}],
    "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX"}]}, "preferred": True}],
    "contact": [{"relationship": [{"text": "son"}], "name": {"text": "Luis Rivera"},
                 "telecom": [{"system": "phone", "value": "617-555-0142"}]}],
}  # fmt: skip
COVERAGE = {
    "resourceType": "Coverage", "id": "cov-1", "status": "active",
    "beneficiary": {"reference": "urn:uuid:0f7a1c52-4e38-4c3a-9f0e-5b2d1e7a9c01"},
    "payor": [{"reference": "Organization?identifier=urn:oid:9|42", "display": "Aetna"}],
    "subscriberId": "W123", "period": {"start": "2026-01-01"}, "order": 1,
}  # fmt: skip
UPCOMING = {
    "resourceType": "Appointment", "id": "appt-1", "status": "booked",
    "start": "2026-12-02T14:00:00-05:00", "end": "2026-12-02T14:30:00-05:00",
    "participant": [{"actor": {"reference": "urn:uuid:0f7a1c52-4e38-4c3a-9f0e-5b2d1e7a9c01"}, "status": "accepted"},
                    {"actor": {"reference": "Practitioner/9", "display": "Dr. Osei"}, "status": "accepted"}],
}  # fmt: skip
PAST = {**UPCOMING, "id": "appt-0", "status": "fulfilled", "start": "2026-10-02T14:00:00-04:00",
        "end": "2026-10-02T14:30:00-04:00"}  # fmt: skip


def test_a_synthea_patient_imports_with_its_details_and_a_second_import_changes_nothing(cli, tmp_path, rows, unchanged):
    run = cli("import", "fhir", str(SYNTHEA))
    assert run.exit_code == 0, run.stderr
    assert "Patient 1 (1 created)" in run.stdout
    assert "skipped: " in run.stdout and "Encounter 2" in run.stdout and "Condition 2" in run.stdout
    [patient] = rows("SELECT name, birth_date, mrn, address, phone, language FROM patient")
    assert patient == {
        "name": "Lindsay928 Gerlach374", "birth_date": "1950-10-24", "mrn": "d5582579-7193-4866-5560-a01e723b6552",
        "address": "690 Raynor Overpass, Randolph, MA", "phone": "+15554505873", "language": "English",
    }  # fmt: skip
    # the care team's practitioner (named by a conditional reference) is a contact; the organization is not
    assert rows("SELECT name, role FROM contact") == [
        {"name": "Dr. Alphonso102 Nienow652", "role": "Healthcare professional (occupation)"}
    ]
    with unchanged():
        again = cli("import", "fhir", str(SYNTHEA))
    assert again.exit_code == 0, again.stderr
    assert "Patient 1 (1 unchanged)" in again.stdout and "created" not in again.stdout


def test_conditions_become_needs_of_a_draft_plan_once(cli, tmp_path, rows, unchanged):
    run = cli("import", "fhir", str(SYNTHEA), "--conditions")
    assert run.exit_code == 0, run.stderr
    assert "Condition 2 (2 created)" in run.stdout
    assert rows("SELECT title, status, needs FROM care_plan") == [
        {"title": "Needs from the EHR", "status": "draft", "needs": "Prediabetes\nAnemia (disorder)"}
    ]
    with unchanged():
        assert "Condition 2 (2 unchanged)" in cli("import", "fhir", str(SYNTHEA), "--conditions").stdout


def test_conditions_join_the_active_plan(cli, tmp_path, rows):
    cli("import", "fhir", str(SYNTHEA))
    cli("plan", "add", "lindsay", "Diabetes care", "--status", "active", "--need", "Prediabetes")
    run = cli("import", "fhir", str(SYNTHEA), "--conditions")
    assert "Condition 2 (1 created, 1 unchanged)" in run.stdout, run.stdout
    assert rows("SELECT needs FROM care_plan") == [{"needs": "Prediabetes\nAnemia (disorder)"}]


def test_an_ehr_bundle_brings_the_patient_contacts_coverage_and_upcoming_appointments(cli, tmp_path, rows, unchanged):
    path = write(tmp_path, bundle(PATIENT, COVERAGE, UPCOMING, PAST, kind="searchset"))
    run = cli("import", "fhir", path)
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == (
        f"Imported from {path} (4 resources): Appointment 1 (1 created), Coverage 1 (1 created), "
        "Patient 1 (1 created); skipped: Appointment 1."
    )
    [patient] = rows("SELECT name, mrn, phone, email, address, language FROM patient")
    assert patient == {"name": "Ana Lucía Rivera", "mrn": "EHR-77", "phone": "+16175550199",
                       "email": "ana@example.org", "address": "4 Oak Ave, Apt 2, Boston, MA 02118",
                       "language": "Spanish"}  # fmt: skip
    assert rows("SELECT name, role, phone FROM contact") == [
        {"name": "Luis Rivera", "role": "son", "phone": "+16175550142"}
    ]
    assert rows('SELECT payer, member_id, "order", start_on FROM coverage') == [
        {"payer": "Aetna", "member_id": "W123", "order": "primary", "start_on": "2026-01-01"}
    ]
    assert rows("SELECT kind, status, with_whom, tz FROM appointment") == [
        {"kind": "other", "status": "booked", "with_whom": "Dr. Osei", "tz": "America/New_York"}
    ]
    with unchanged():
        again = cli("import", "fhir", path)
    assert "Patient 1 (1 unchanged)" in again.stdout and "created" not in again.stdout


def test_ndjson_imports_too(cli, tmp_path, rows):
    patient = {**PATIENT, "id": "p1"}
    coverage = {**COVERAGE, "beneficiary": {"reference": "Patient/p1"}}
    path = write(tmp_path, json.dumps(patient) + "\n" + json.dumps(coverage) + "\n", name="in.ndjson")
    run = cli("import", "fhir", path)
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT payer FROM coverage") == [{"payer": "Aetna"}]


def test_a_dry_run_writes_nothing(cli, tmp_path, unchanged):
    cli("patient", "add", "Someone Else")
    with unchanged():
        run = cli("import", "fhir", str(SYNTHEA), "--dry-run")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("Would import") and "Nothing was written." in run.stdout


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("this is not json {", "is not JSON"),
        (
            bundle({**PATIENT, "name": [{"use": "official"}]}),
            "Patient/0f7a1c52-4e38-4c3a-9f0e-5b2d1e7a9c01: the patient has no name",
        ),
        (
            bundle(
                PATIENT, {**UPCOMING, "participant": [{"actor": {"reference": "Patient/nobody"}, "status": "accepted"}]}
            ),
            "Appointment/appt-1: its reference Patient/nobody points at nothing in the file",
        ),
        (
            bundle(
                PATIENT, {**COVERAGE, "beneficiary": {"reference": "urn:uuid:6c5b0a3e-0000-4000-8000-000000000000"}}
            ),
            "Coverage/cov-1: its beneficiary urn:uuid:6c5b0a3e-0000-4000-8000-000000000000 points at no patient",
        ),
        ({"resourceType": "Bundle", "type": "message", "entry": []}, "a Bundle of type 'message' is not imported"),
        (
            bundle(
                PATIENT, COVERAGE, {**COVERAGE, "id": "cov-2", "subscriberId": "W9", "payor": [{"display": "Cigna"}]}
            ),
            "Coverage/cov-2: the patient already has primary coverage Aetna (primary); end one or give this one",
        ),
    ],
)
def test_a_file_it_cannot_take_is_one_line_and_nothing_changes(cli, tmp_path, unchanged, content, fragment):
    cli("patient", "add", "Someone Else")
    path = write(tmp_path, content)
    with unchanged():
        run = cli("import", "fhir", path)
    assert_one_line_error(run, 1, fragment)


def test_references_to_what_carecoord_does_not_import_are_fine(cli, tmp_path, rows):
    appointment = {**UPCOMING, "participant": [
        *UPCOMING["participant"], {"actor": {"reference": "Location/nowhere", "display": "Eastside Clinic"}, "status": "accepted"}
    ]}  # fmt: skip
    run = cli("import", "fhir", write(tmp_path, bundle(PATIENT, appointment, COVERAGE)))
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT location FROM appointment") == [{"location": "Eastside Clinic"}]


def test_a_dry_run_without_a_database_creates_none(cli, tmp_path, db_file):
    db_file.unlink()
    run = cli("import", "fhir", str(SYNTHEA), "--dry-run")
    assert run.exit_code == 0, run.stderr
    assert "Would import" in run.stdout and "There is no database" in run.stdout
    assert not db_file.exists()


def test_a_patient_is_found_by_name_and_birth_date_when_the_mrn_is_new(cli, tmp_path, rows):
    cli("patient", "add", "Ana Lucía Rivera", "--dob", "1948-05-17", "--risk", "high")
    cli("patient", "add", "Ana Lucía Rivera", "--dob", "1950-01-01")  # another person of that name
    run = cli("import", "fhir", write(tmp_path, bundle(PATIENT)))
    assert "Patient 1 (1 updated)" in run.stdout, run.stdout
    assert rows("SELECT id, mrn, risk, phone FROM patient ORDER BY id") == [
        {"id": 1, "mrn": "EHR-77", "risk": "high", "phone": "+16175550199"},  # what the file does not say is kept
        {"id": 2, "mrn": None, "risk": None, "phone": None},
    ]
    assert rows("SELECT name FROM contact") == [{"name": "Luis Rivera"}]


def test_a_condition_a_carecoord_plan_addresses_is_not_added_again(cli, tmp_path, rows):
    condition = {"resourceType": "Condition", "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", "subject": {"reference": "urn:uuid:0f7a1c52-4e38-4c3a-9f0e-5b2d1e7a9c01"},
                 "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                 "code": {"text": "Lives alone"}}  # fmt: skip
    plan = {"resourceType": "CarePlan", "id": "7d0e5f8a-1b2c-4d3e-8f9a-0b1c2d3e4f5a", "status": "active", "intent": "plan",
            "title": "Living at home safely",
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:7d0e5f8a-1b2c-4d3e-8f9a-0b1c2d3e4f5a"}],
            "subject": {"reference": "urn:uuid:0f7a1c52-4e38-4c3a-9f0e-5b2d1e7a9c01"},
            "addresses": [{"reference": "urn:uuid:5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", "display": "Lives alone"}]}  # fmt: skip
    entries = bundle(PATIENT, plan)
    entries["entry"].append({"fullUrl": "urn:uuid:5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", "resource": condition})
    run = cli("import", "fhir", write(tmp_path, entries), "--conditions")
    assert run.exit_code == 0, run.stderr
    assert "Condition 1" in run.stdout.split("skipped:")[1]


def test_a_conditional_reference_to_a_patient_in_the_file_finds_it(cli, tmp_path, rows):
    appointment = {**UPCOMING, "participant": [
        {"actor": {"reference": "Patient?identifier=urn:oid:1.2.3.4|EHR-77"}, "status": "accepted"}
    ]}  # fmt: skip
    run = cli("import", "fhir", write(tmp_path, bundle(PATIENT, appointment, kind="transaction")))
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT p.mrn FROM appointment a JOIN patient p ON p.id = a.patient_id") == [{"mrn": "EHR-77"}]
    nowhere = {
        **appointment,
        "participant": [{"actor": {"reference": "Patient?identifier=urn:oid:9|nobody"}, "status": "accepted"}],
    }
    assert_one_line_error(cli("import", "fhir", write(tmp_path, bundle(PATIENT, nowhere), name="b.json")), 1,
                          "Appointment/appt-1: its patient Patient?identifier=urn:oid:9|nobody points at nothing in the file")  # fmt: skip


def test_a_record_identifier_is_read_whether_one_or_a_list():
    """QuestionnaireResponse.identifier is a single Identifier (0..1), most resources' a list."""
    from carecoord.fhir import RECORD_ID_SYSTEM
    from carecoord.fhir.elements import record_uid

    uid = "0b3f3a0e-8a43-4c1e-9a5e-2f0d2d7d9a11"
    one = {"system": RECORD_ID_SYSTEM, "value": f"urn:uuid:{uid}"}
    assert record_uid({"resourceType": "QuestionnaireResponse", "identifier": one}) == uid
    assert record_uid({"resourceType": "Patient", "identifier": [{"value": "x"}, one]}) == uid
    assert record_uid({"resourceType": "Patient", "identifier": ["not an identifier"]}) is None


def test_an_ehrs_records_carecoord_skips_may_point_at_what_the_file_leaves_out(cli, tmp_path, rows):
    """A Goal of the EHR's own (skipped) naming a Condition the file does not carry is no error."""
    goal = {"resourceType": "Goal", "id": "goal-9", "lifecycleStatus": "active", "description": {"text": "A1c < 7"},
            "subject": {"reference": "urn:uuid:0f7a1c52-4e38-4c3a-9f0e-5b2d1e7a9c01"},
            "addresses": [{"reference": "Condition/not-in-file"}]}  # fmt: skip
    run = cli("import", "fhir", write(tmp_path, bundle(PATIENT, goal)))
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT name FROM patient") == [{"name": "Ana Lucía Rivera"}] and rows("SELECT id FROM goal") == []


def test_an_imported_call_meets_a_discharge_follow_up_as_a_logged_one_does(cli, tmp_path, rows):
    """The rule of which call meets which follow-up runs on an import too: a reached call in the
    file completes the open contact task of a discharge recorded here, and says so; importing the
    file again changes nothing."""
    other, calls = str(tmp_path / "colleague.db"), str(tmp_path / "calls.json")
    cli("--db", other, "patient", "add", "Jane Doe", "--mrn", "1")
    cli("--db", other, "log", "add", "jane", "--when", "2026-11-23 10:00", "--minutes", "10")
    assert cli("--db", other, "export", "fhir", "--all", "--out", calls).exit_code == 0
    cli("patient", "add", "Jane Doe", "--mrn", "1")
    cli("transition", "add", "jane", "--discharged", "2026-11-20", "--from", "Mercy General Hospital")
    assert "Overdue (1)" in cli("report", "overdue").stdout
    run = cli("import", "fhir", calls)
    assert run.exit_code == 0, run.stderr
    assert "Completed follow-up task #1 (TCM: interactive contact" in run.stdout
    assert rows("SELECT status FROM task WHERE id = 1") == [{"status": "completed"}]
    assert cli("report", "overdue").stdout.strip() == "Nothing overdue."
    again = cli("import", "fhir", calls)
    assert "Communication 1 (1 unchanged)" in again.stdout and "follow-up" not in again.stdout
