"""export fhir: a valid R4 Bundle (or NDJSON) of the patients' records, references resolved inside it,
the same bytes for the same data, series exported occurrence by occurrence."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord.fhir import code_system, extension_url
from carecoord.jsonenc import compact_json
from tests.conftest import assert_one_line_error
from tests.fhir_validation import by_type, check_bundle, check_ndjson


@pytest.fixture
def jane(cli):
    """Jane Doe with contacts, coverage, a weekly series (one sitting cancelled, one moved) and a one-off."""
    steps = [
        ("patient", "add", "Jane Doe", "--dob", "1950-03-02", "--mrn", "48213", "--risk", "high", "--tag", "chf",
         "--phone", "617-555-0100", "--email", "jane@example.org", "--address", "12 Elm St, Boston MA",
         "--language", "Spanish", "--pcp", "Dr. Alvarez", "--payer", "Medicare", "--member-id", "1EG4-TE5-MK72"),
        ("patient", "add", "Omar Haddad", "--mrn", "48214"),
        ("contact", "add", "jane", "Ann Doe", "--role", "daughter", "--phone", "555-0101", "--prefers", "text",
         "--consent"),
        ("contact", "add", "jane", "Dr. Priya Nair", "--role", "cardiologist", "--org", "Heart Clinic"),
        ("appt", "add", "jane", "--yes", "--start", "2026-11-20 10:00", "--duration", "45m", "--type", "home-visit",
         "--every", "weekly", "--count", "6", "--location", "12 Elm St"),
        ("appt", "cancel", "1", "--occurrence", "2026-12-04", "--reason", "in hospital"),
        ("appt", "move", "1", "--occurrence", "2026-12-11", "--to", "2026-12-12 14:00"),
        ("appt", "add", "jane", "--yes", "--start", "2026-12-01 15:00", "--type", "pcp", "--with", "Dr. Alvarez"),
    ]  # fmt: skip
    for step in steps:
        run = cli(*step)
        assert run.exit_code == 0, (step, run.stderr)
    return cli


def export(cli, tmp_path, *args, name="out.json"):
    target = tmp_path / name
    run = cli("export", "fhir", *args, "--out", str(target))
    assert run.exit_code == 0, run.stderr
    return target, run


def test_a_patient_bundle_is_valid_r4_and_every_reference_resolves(jane, tmp_path):
    target, run = export(jane, tmp_path, "--patient", "jane")
    data = check_bundle(target)
    assert data["type"] == "collection"
    assert run.stdout.strip() == (
        f"Wrote 1 Patient, 2 RelatedPerson, 1 CareTeam, 1 Coverage, 7 Appointment (1 patient) to {target} "
        "as a FHIR R4 Bundle."
    )
    [patient] = by_type(data, "Patient")
    [mrn] = [i for i in patient["identifier"] if i.get("type")]
    assert mrn["value"] == "48213" and mrn["type"]["coding"][0]["code"] == "MR"
    assert mrn["type"]["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/v2-0203"
    assert patient["name"] == [{"text": "Jane Doe", "family": "Doe", "given": ["Jane"]}]
    assert patient["birthDate"] == "1950-03-02"
    assert {"system": "phone", "value": "+16175550100"} in patient["telecom"]
    assert patient["communication"][0]["language"] == {
        "coding": [{"system": "urn:ietf:bcp:47", "code": "es", "display": "Spanish"}],
        "text": "Spanish",
    }
    assert patient["generalPractitioner"] == [{"display": "Dr. Alvarez"}]
    assert {"url": extension_url("risk-level"), "valueCode": "high"} in patient["extension"]
    daughter = next(r for r in by_type(data, "RelatedPerson") if r["name"][0]["text"] == "Ann Doe")
    assert daughter["relationship"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
        "code": "DAUC",
        "display": "daughter",
    }
    assert {"url": extension_url("consent-to-share"), "valueBoolean": True} in daughter["extension"]
    [team] = by_type(data, "CareTeam")
    assert len(team["participant"]) == 2
    [coverage] = by_type(data, "Coverage")
    assert coverage["payor"] == [{"display": "Medicare"}] and coverage["subscriberId"] == "1EG4-TE5-MK72"
    assert coverage["order"] == 1 and coverage["status"] == "active"


def test_a_series_is_exported_occurrence_by_occurrence_with_its_rule(jane, tmp_path):
    target, _ = export(jane, tmp_path, "--patient", "48213")
    data = check_bundle(target)
    appointments = by_type(data, "Appointment")
    seen = sorted((a["start"], a["status"]) for a in appointments)
    assert seen == [
        ("2026-11-20T10:00:00-05:00", "booked"),
        ("2026-11-27T10:00:00-05:00", "booked"),
        ("2026-12-01T15:00:00-05:00", "booked"),
        ("2026-12-04T10:00:00-05:00", "cancelled"),
        ("2026-12-12T14:00:00-05:00", "booked"),
        ("2026-12-18T10:00:00-05:00", "booked"),
        ("2026-12-25T10:00:00-05:00", "booked"),
    ]
    cancelled = next(a for a in appointments if a["status"] == "cancelled")
    assert cancelled["cancelationReason"] == {"text": "in hospital"}
    series = next(e for e in cancelled["extension"] if e["url"] == extension_url("appointment-series"))
    parts = {p["url"]: next(v for k, v in p.items() if k.startswith("value")) for p in series["extension"]}
    assert parts["rrule"] == "FREQ=WEEKLY;COUNT=6"
    assert parts["original-start"] == "2026-12-04T10:00:00-05:00" and parts["exception-status"] == "cancelled"
    kinds = {a["appointmentType"]["coding"][0]["code"] for a in appointments}
    assert kinds == {"home-visit", "pcp"}
    assert all(a["appointmentType"]["coding"][0]["system"] == code_system("appointment-type") for a in appointments)
    assert len({a["id"] for a in appointments}) == 7


def test_the_same_data_gives_the_same_bytes(jane, tmp_path):
    first, _ = export(jane, tmp_path, "--all", name="a.json")
    second, _ = export(jane, tmp_path, "--all", name="b.json")

    def without_timestamp(path):
        data = json.loads(path.read_text())
        data.pop("timestamp")
        return data, path.read_bytes().split(b"\n", 1)[1]

    assert without_timestamp(first) == without_timestamp(second)
    one, _ = export(jane, tmp_path, "--all", "--ndjson", name="a.ndjson")
    two, _ = export(jane, tmp_path, "--all", "--ndjson", name="b.ndjson")
    assert one.read_bytes() == two.read_bytes()


def test_a_disk_that_fills_while_the_bundle_is_written_keeps_the_previous_file(jane, tmp_path, monkeypatch):
    """The Bundle is written by a second thread as it is made: a failed write still ends the export
    with one line, keeps the previous file and leaves no temporary file nor an account of disclosure."""
    target, _ = export(jane, tmp_path, "--all")
    before = target.read_bytes()
    jane("patient", "edit", "omar", "--phone", "617-555-0199")
    opened = os.fdopen

    class FullDisk:
        def __init__(self, fd, mode):
            self.file = opened(fd, mode)

        def write(self, chunk):
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    with monkeypatch.context() as patched:
        patched.setattr(os, "fdopen", FullDisk)
        run = jane("export", "fhir", "--all", "--out", str(target))
    assert_one_line_error(run, 3, "No space left on device", "previous file is intact")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    disclosures = json.loads(jane("audit", "disclosures", "--format", "json").stdout)
    assert len(disclosures) == 1  # the first export only


_TEXT = st.text(st.characters(codec="utf-8"), max_size=20)
_LEAVES = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | _TEXT
_TREES = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4))


@given(_TREES)
def test_the_export_writes_the_bytes_the_standard_library_would(tree):
    """The export's JSON (orjson, for speed) is byte for byte the standard library's compact JSON,
    UTF-8 kept, for what resources hold: control characters, quotes, any Unicode, 64-bit ints."""
    assert compact_json()(tree) == json.dumps(tree, separators=(",", ":"), ensure_ascii=False).encode()


def test_ndjson_has_one_resource_a_line_referring_by_type_and_id(jane, tmp_path):
    target, run = export(jane, tmp_path, "--all", "--ndjson", name="all.ndjson")
    resources = check_ndjson(target)
    assert [r["resourceType"] for r in resources].count("Patient") == 2
    assert "as NDJSON" in run.stdout
    coverage = next(r for r in resources if r["resourceType"] == "Coverage")
    assert coverage["beneficiary"]["reference"].startswith("Patient/")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "say whose records to export"),
        (("--patient", "jane", "--all"), "not both"),
    ],
)
def test_whose_records_must_be_said_once(jane, tmp_path, args, fragment):
    run = jane("export", "fhir", *args, "--out", str(tmp_path / "x.json"))
    assert_one_line_error(run, 2, fragment)
    assert not (tmp_path / "x.json").exists()


def test_an_unknown_patient_is_one_line_and_no_file(jane, tmp_path):
    run = jane("export", "fhir", "--patient", "nobody", "--out", str(tmp_path / "x.json"))
    assert_one_line_error(run, 1, "nobody")
    assert not (tmp_path / "x.json").exists()


def test_mine_and_another_coordinators(jane, tmp_path):
    target, run = export(jane, tmp_path, "--mine")
    assert len(by_type(check_bundle(target), "Patient")) == 2
    assert "(2 patients)" in run.stdout
    target, run = export(jane, tmp_path, "--coordinator", "someone-else", name="none.json")
    data = json.loads(target.read_text())
    assert "entry" not in data and data["resourceType"] == "Bundle"  # FHIR allows no empty arrays
    assert run.stdout.startswith("Wrote no resources (0 patients)")


def test_an_open_ended_series_goes_to_the_end_of_the_month_a_year_ahead(cli, tmp_path):
    cli("patient", "add", "Jane Doe")
    assert (
        cli("appt", "add", "jane", "--start", "2026-11-25 10:00", "--type", "phone", "--every", "weekly").exit_code == 0
    )
    target, _ = export(cli, tmp_path, "--all")
    starts = sorted(a["start"] for a in by_type(check_bundle(target), "Appointment"))
    assert starts[0] == "2026-11-25T10:00:00-05:00" and starts[-1] == "2027-11-24T10:00:00-05:00"
    assert len(starts) == 53
