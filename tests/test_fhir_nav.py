"""Screenings, referrals, authorizations and program enrolments through `export fhir` and `import fhir`
(issue 16): the demo's patients come out with the codes other systems read (LOINC for the
instrument, Gravity SDOH categories for the need, CPT/HCPCS for the program), every reference
resolves, and an empty database takes them back whole, once."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from carecoord.fhir.nav_codes import CPT, LOINC, SDOH_CATEGORY
from tests import stores
from tests.conftest import Run, assert_one_line_error

DEMO_PATIENTS = ("DEMO-1001", "DEMO-1002", "DEMO-1003", "DEMO-1007")  # Margaret, Luis, Aisha, Dolores


@pytest.fixture
def exported(cli: Callable[..., Run], tmp_path: Path) -> tuple[Path, Path]:
    """The demo caseload, and a Bundle of four of its patients (screened, referred, authorized, enrolled)."""
    demo = tmp_path / "demo.db"
    assert cli("demo", "--path", str(demo)).exit_code == 0
    out = tmp_path / "handover.json"
    args = [a for mrn in DEMO_PATIENTS for a in ("--patient", mrn)]
    run = cli("--db", str(demo), "export", "fhir", *args, "--out", str(out))
    assert run.exit_code == 0, run.stderr
    return demo, out


def entries(path: Path) -> list[dict[str, Any]]:
    return [e["resource"] for e in json.loads(path.read_text())["entry"]]


def references(element: Any) -> Iterator[str]:
    if isinstance(element, dict):
        if isinstance(element.get("reference"), str):
            yield element["reference"]
        for value in element.values():
            yield from references(value)
    elif isinstance(element, list):
        for item in element:
            yield from references(item)


def codes(resource: dict[str, Any], key: str) -> set[tuple[str, str]]:
    found = resource.get(key) or []
    return {(c.get("system"), c.get("code")) for item in (found if isinstance(found, list) else [found])
            for c in item.get("coding") or ()}  # fmt: skip


def test_export_fhir_carries_screenings_referrals_authorizations_and_programs(exported: tuple[Path, Path]) -> None:
    from fhir.resources.R4B import get_fhir_model_class

    bundle = json.loads(exported[1].read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    kinds = {r["resourceType"] for r in resources}
    assert {"QuestionnaireResponse", "Observation", "ServiceRequest", "Task", "Consent", "HealthcareService",
            "ClaimResponse", "EpisodeOfCare"} <= kinds  # fmt: skip
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    for resource in resources:
        model: Any = get_fhir_model_class(resource["resourceType"])
        (getattr(model, "model_validate", None) or model.parse_obj)(resource)
        for ref in references(resource):
            assert ref in full_urls, (resource["resourceType"], ref)

    by_kind = lambda kind: [r for r in resources if r["resourceType"] == kind]  # noqa: E731
    hrsn = next(r for r in by_kind("QuestionnaireResponse") if "/ahc-hrsn|" in r["questionnaire"])
    assert any(a["valueCoding"]["system"] == LOINC for i in hrsn["item"] for a in i.get("answer", []))
    phq9 = [o for o in by_kind("Observation") if (LOINC, "44261-6") in codes(o, "code")]
    assert sorted(o["valueInteger"] for o in phq9) == [6, 7, 13]  # Margaret's two, Aisha's one
    needs = {c for o in by_kind("Observation") for c in codes(o, "category") if c[0] == SDOH_CATEGORY}
    assert needs == {(SDOH_CATEGORY, "food-insecurity"), (SDOH_CATEGORY, "transportation-insecurity")}
    food = next(r for r in by_kind("ServiceRequest") if (SDOH_CATEGORY, "food-insecurity") in codes(r, "category"))
    assert food["status"] == "completed" and food["performer"][0]["display"] == "Weekly Food Pantry"
    names = [s["name"] for s in by_kind("HealthcareService")]
    assert sorted(names) == ["Emergency Rental Assistance", "Mercy Home Health", "Weekly Food Pantry"]
    assert (CPT, "99490") in {c for e in by_kind("EpisodeOfCare") for c in codes(e, "type")}
    claims = {c.get("preAuthRef"): c["outcome"] for c in by_kind("ClaimResponse")}
    assert claims == {"PA-88231": "complete", None: "queued"}


LISTINGS = (("screen", "list"), ("referral", "list"), ("auth", "list"), ("program", "list"), ("resource", "list"))
SKIP = {"id", "patient_id", "screening_id", "referral_id", "resource_id", "coverage_id", "safety_task_id",
        "plan_id", "followup_task_id", "created_at", "updated_at", "stalled", "changed_at"}  # fmt: skip


def listing(cli: Callable[..., Run], *args: str) -> list[dict[str, Any]]:
    run = cli(*args, "-f", "json")
    assert run.exit_code == 0, run.stderr
    rows = [{k: v for k, v in row.items() if k not in SKIP} for row in json.loads(run.stdout)]
    return sorted(rows, key=json.dumps)


# The rows under a screening, a referral and an authorization (no patient_id of their own: compared
# here, by their parent's uid, rather than in test_fhir_roundtrip's tables).
CHILDREN = {
    "screening_answer": ("screening_id", "screening"),
    "referral_event": ("referral_id", "referral"),
    "authorization_use": ("authorization_id", "prior_authorization"),
}


def children(
    query: Callable[[str], list[dict[str, Any]]], table: str, column: str, parent: str
) -> list[dict[str, Any]]:
    """A child table's rows with the parent's uid for its id (ids and timestamps left out)."""
    uids = {row["id"]: row["uid"] for row in query(f"SELECT id, uid FROM {parent}")}
    found = []
    for row in query(f"SELECT * FROM {table}"):
        kept = {k: v for k, v in row.items() if k not in {"id", "created_at", "updated_at", "appointment_id"}}
        kept[column] = uids[row[column]]
        found.append(kept)
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def test_import_fhir_into_an_empty_database_recreates_them_and_a_second_import_changes_nothing(
    cli: Callable[..., Run], exported: tuple[Path, Path], unchanged: Any, rows: Callable[..., list[dict[str, Any]]]
) -> None:
    demo, path = exported
    run = cli("import", "fhir", str(path))
    assert run.exit_code == 0, run.stderr
    for kind in ("QuestionnaireResponse", "ServiceRequest", "ClaimResponse", "EpisodeOfCare", "HealthcareService"):
        assert f"{kind} " in run.stdout, kind
    # a screening's Observations and a referral's or program's Consent came with their records: created
    # into an empty database, not 'unchanged'
    for kind in ("Observation", "Consent"):
        counted = re.search(rf"{kind} (\d+) \(([^)]*)\)", run.stdout)
        assert counted is not None and counted.group(2) == f"{counted.group(1)} created", run.stdout
    mine = {" ".join(args): listing(cli, *args) for args in LISTINGS}
    wanted = {" ".join(args): listing(cli, "--db", str(demo), *args) for args in LISTINGS}
    names = {"Margaret O'Neill", "Luis Hernández", "Aisha Rahman", "Dolores Ruiz"}
    for key, listed in wanted.items():
        kept = [r for r in listed if r.get("patient_name", next(iter(names))) in names]
        if key == "resource list":  # the directory entries the four were referred to
            kept = [r for r in listed if r["name"] in {"Weekly Food Pantry", "Emergency Rental Assistance",
                                                     "Mercy Home Health"}]  # fmt: skip
        assert mine[key] == kept, key
    for table, (column, parent) in CHILDREN.items():
        theirs = children(lambda sql: stores.sqlite_rows(demo, sql, ()), table, column, parent)
        ours = children(lambda sql: rows(sql), table, column, parent)
        assert ours, table
        assert ours == [r for r in theirs if r[column] in {o[column] for o in ours}], table
    with unchanged():
        again = cli("import", "fhir", str(path))
    assert again.exit_code == 0, again.stderr
    assert "created" not in again.stdout and "updated" not in again.stdout, again.stdout


def test_a_directory_entry_already_there_is_used_not_copied(
    cli: Callable[..., Run], exported: tuple[Path, Path]
) -> None:
    cli("resource", "add", "Weekly Food Pantry", "--category", "food", "--phone", "555-0141")
    assert cli("import", "fhir", str(exported[1])).exit_code == 0
    pantries = [
        r for r in json.loads(cli("resource", "list", "-f", "json").stdout) if r["name"] == "Weekly Food Pantry"
    ]
    assert len(pantries) == 1
    referred = json.loads(cli("referral", "list", "-f", "json").stdout)
    assert any(r.get("resource_id") == pantries[0]["id"] for r in referred)


@pytest.mark.parametrize("subject", ["Patient/nobody", "urn:uuid:5b0c7c55-0f3e-4d39-9a55-2f4b1c0d9e77"])
def test_a_service_request_for_a_patient_not_in_the_file_is_refused(
    cli: Callable[..., Run], tmp_path: Path, unchanged: Any, subject: str
) -> None:
    request = {"resourceType": "ServiceRequest", "id": "sr1", "status": "active", "intent": "order",
               "subject": {"reference": subject}, "performer": [{"display": "Food bank"}]}  # fmt: skip
    path = tmp_path / "orphan.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"fullUrl": "urn:uuid:0c6f7e1a-7d0f-4a36-9b1e-2b8d5f0e9a11",
                                           "resource": request}]}))  # fmt: skip
    with unchanged():
        run = cli("import", "fhir", str(path))
    assert_one_line_error(run, 1, "ServiceRequest/sr1", subject)


def test_an_authorization_used_by_a_series_comes_across_with_its_sittings(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    """Units used by the visits of a series point at those visits (each occurrence is an Appointment of
    its own in the file); the series stays booked under the authorization in the other database."""
    cli("patient", "add", "Jane Doe", "--mrn", "48213")
    cli("coverage", "add", "jane", "--payer", "Medicare", "--type", "medicare")
    cli("auth", "add", "jane", "--service", "home health visits", "--status", "approved", "--start", "2026-11-01",
        "--end", "2026-12-31", "--units", "12", "--unit", "visits", "--number", "PA-88231")  # fmt: skip
    cli("appt", "add", "jane", "--start", "2026-11-02 10am", "--type", "home-visit", "--every", "weekly", "--count",
        "8", "--auth", "1", "--yes")  # fmt: skip
    for day in ("2026-11-02", "2026-11-16"):
        assert cli("appt", "done", "1", "--occurrence", day).exit_code == 0
    cli("auth", "use", "1", "--units", "2", "--note", "PT visits by the agency")
    out, other = tmp_path / "jane.json", tmp_path / "other" / "carecoord.db"
    assert cli("export", "fhir", "--patient", "48213", "--out", str(out)).exit_code == 0
    bundle = json.loads(out.read_text())
    urls = {e["fullUrl"] for e in bundle["entry"]}
    claim = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ClaimResponse")
    assert all(ref in urls for ref in references(claim))
    assert len([e for e in claim["extension"] if e["url"].endswith("/authorization-use")]) == 3
    run = cli("--db", str(other), "import", "fhir", str(out))
    assert run.exit_code == 0, run.stderr
    shown = json.loads(cli("--db", str(other), "auth", "show", "1", "-f", "json").stdout)
    assert (shown["units_used"], shown["units_left"], shown["number"]) == (4, 8, "PA-88231")
    original = json.loads(cli("auth", "show", "1", "-f", "json").stdout)
    assert untimed(shown) == untimed(original)


def untimed(value: Any) -> Any:
    """A record as JSON without its created and updated times (at every level)."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in {"created_at", "updated_at"}}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"text": "Ann Lee"}], "birthDate": "1950-01-02"}


def bundle_of(path: Path, *resources: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": r} for r in (PATIENT, *resources)]}))  # fmt: skip
    return path


def test_another_systems_observations_questionnaires_claims_and_episodes_are_skipped(
    cli: Callable[..., Run], tmp_path: Path, rows: Callable[..., list[dict[str, Any]]]
) -> None:
    subject = {"reference": "Patient/p1"}
    path = bundle_of(
        tmp_path / "ehr.json",
        {"resourceType": "Observation", "id": "o1", "status": "final", "subject": subject,
         "code": {"coding": [{"system": LOINC, "code": "8867-4"}]}, "valueQuantity": {"value": 72}},
        {"resourceType": "QuestionnaireResponse", "id": "q1", "status": "completed", "subject": subject,
         "questionnaire": "http://loinc.org/q/44249-1", "authored": "2026-11-01"},
        {"resourceType": "ClaimResponse", "id": "c1", "status": "active", "use": "claim", "patient": subject,
         "type": {"text": "x"}, "created": "2026-11-01", "insurer": {"display": "X"}, "outcome": "complete"},
        {"resourceType": "EpisodeOfCare", "id": "e1", "status": "active", "patient": subject},
    )  # fmt: skip
    run = cli("import", "fhir", str(path))
    assert run.exit_code == 0, run.stderr
    assert "skipped: ClaimResponse 1, EpisodeOfCare 1, Observation 1, QuestionnaireResponse 1" in run.stdout
    for table in ("screening", "prior_authorization", "program_enrolment"):
        assert rows(f"SELECT count(*) AS n FROM {table}") == [{"n": 0}], table


def test_a_screening_with_an_instrument_not_known_here_is_refused(
    cli: Callable[..., Run], tmp_path: Path, unchanged: Any
) -> None:
    from carecoord.fhir.screenings import questionnaire_url

    response = {"resourceType": "QuestionnaireResponse", "id": "q1", "status": "completed",
                "subject": {"reference": "Patient/p1"}, "questionnaire": questionnaire_url("prapare", "1"),
                "authored": "2026-11-01"}  # fmt: skip
    with unchanged():
        run = cli("import", "fhir", str(bundle_of(tmp_path / "q.json", response)))
    assert_one_line_error(run, 1, "QuestionnaireResponse/q1", "instrument 'prapare' is not known here")


def test_a_directory_entry_is_matched_by_its_hsds_id(cli: Callable[..., Run], tmp_path: Path) -> None:
    from carecoord.fhir.referrals import HSDS_ID_SYSTEM

    cli("resource", "add", "Food Bank of the North", "--category", "food")  # another entry: not matched
    service = {"resourceType": "HealthcareService", "id": "h1", "name": "North Food Bank",
               "identifier": [{"system": HSDS_ID_SYSTEM, "value": "svc-42"}]}  # fmt: skip
    request = {"resourceType": "ServiceRequest", "id": "s1", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/p1"},
               "performer": [{"reference": "HealthcareService/h1", "display": "North Food Bank"}]}  # fmt: skip
    assert cli("import", "fhir", str(bundle_of(tmp_path / "a.json", service, request))).exit_code == 0
    again = bundle_of(tmp_path / "b.json", {**service, "id": "h2"}, {**request, "id": "s2", "performer": [
        {"reference": "HealthcareService/h2", "display": "North Food Bank"}]})  # fmt: skip
    assert cli("import", "fhir", str(again)).exit_code == 0
    names = sorted(r["name"] for r in json.loads(cli("resource", "list", "-f", "json").stdout))
    assert names == ["Food Bank of the North", "North Food Bank"]  # h2 found h1's entry by its HSDS id
    referred = json.loads(cli("referral", "list", "-f", "json").stdout)
    assert len({r["resource_id"] for r in referred}) == 1 and len(referred) == 2


def test_ndjson_comes_across_too(cli: Callable[..., Run], tmp_path: Path) -> None:
    """In NDJSON the resources refer to each other as Type/id: the referral's Task still finds its
    ServiceRequest, the screening's Observations their QuestionnaireResponse."""
    demo, out = tmp_path / "demo.db", tmp_path / "all.ndjson"
    assert cli("demo", "--path", str(demo)).exit_code == 0
    assert cli("--db", str(demo), "export", "fhir", "--all", "--ndjson", "--out", str(out)).exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum(r["resourceType"] == "HealthcareService" for r in lines) == 4  # each once, however many batches
    run = cli("import", "fhir", str(out))
    assert run.exit_code == 0, run.stderr
    for args in LISTINGS[:4]:
        assert listing(cli, *args) == listing(cli, "--db", str(demo), *args), args
    again = cli("import", "fhir", str(out))
    assert "created" not in again.stdout and "updated" not in again.stdout, again.stdout


def test_a_referral_made_from_a_screening_gives_the_need_found_as_its_reason(
    cli: Callable[..., Run], tmp_path: Path, rows: Callable[..., list[dict[str, Any]]]
) -> None:
    """ServiceRequest.reasonReference: the screening's Observation of that need (Gravity style);
    supportingInfo: its QuestionnaireResponse. The link survives the import. A safety flag is an
    Observation of its own."""
    demo, out = tmp_path / "demo.db", tmp_path / "luis.json"
    assert cli("demo", "--path", str(demo)).exit_code == 0
    screened = json.loads(cli("--db", str(demo), "screen", "list", "--patient", "DEMO-1002", "-f", "json").stdout)
    run = cli("--db", str(demo), "referral", "add", "DEMO-1002", "--resource", "Dial-a-Ride", "--screening",
              str(screened[0]["id"]), "--consent", "verbal")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    args = ("export", "fhir", "--patient", "DEMO-1002", "--patient", "DEMO-1003", "--out", str(out))
    assert cli("--db", str(demo), *args).exit_code == 0
    resources = entries(out)
    rides = next(r for r in resources if r["resourceType"] == "ServiceRequest"
                 and (SDOH_CATEGORY, "transportation-insecurity") in codes(r, "category"))  # fmt: skip
    reason = next(r for r in resources if f"urn:uuid:{r['id']}" == rides["reasonReference"][0]["reference"])
    assert reason["resourceType"] == "Observation"
    assert (SDOH_CATEGORY, "transportation-insecurity") in codes(reason, "code")
    assert rides["supportingInfo"][0]["reference"] == f"urn:uuid:{screened[0]['uid']}"
    flags = [
        r for r in resources if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "safety-flag"
    ]
    assert len(flags) == 1 and flags[0]["subject"]["display"] == "Aisha Rahman"
    assert cli("import", "fhir", str(out)).exit_code == 0
    linked = rows("SELECT s.uid FROM referral r JOIN screening s ON s.id = r.screening_id")
    assert linked == [{"uid": screened[0]["uid"]}]


def test_an_enrolment_already_recorded_here_is_not_doubled(cli: Callable[..., Run], tmp_path: Path) -> None:
    """Handing a patient over to a colleague who enrolled them too: the same enrolment (same program,
    same day) is used as it is; another open one in the same program is refused, as 'program enroll'
    refuses it."""
    source = tmp_path / "source.db"
    cli("--db", str(source), "patient", "add", "Jane Doe", "--mrn", "48213")
    cli("--db", str(source), "program", "enroll", "jane", "ccm", "--consent", "verbal", "--date", "2026-11-02")
    out = tmp_path / "jane.json"
    assert cli("--db", str(source), "export", "fhir", "--patient", "48213", "--out", str(out)).exit_code == 0
    cli("patient", "add", "Jane Doe", "--mrn", "48213")
    cli("program", "enroll", "jane", "ccm", "--consent", "written", "--date", "2026-11-02")
    run = cli("import", "fhir", str(out))
    assert run.exit_code == 0, run.stderr
    listed = json.loads(cli("program", "list", "-f", "json").stdout)
    assert [(e["program"], e["consent"]) for e in listed] == [("ccm", "written")]  # the colleague's, as it was
    other = tmp_path / "other.db"
    cli("--db", str(other), "patient", "add", "Jane Doe", "--mrn", "48213")
    cli("--db", str(other), "program", "enroll", "jane", "ccm", "--consent", "written", "--date", "2026-11-10")
    run = cli("--db", str(other), "import", "fhir", str(out))
    assert_one_line_error(run, 1, "EpisodeOfCare/", "already enrolled in ccm")


def test_an_observation_derived_from_another_systems_questionnaire_is_skipped(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    subject = {"reference": "Patient/p1"}
    path = bundle_of(
        tmp_path / "ehr.json",
        {"resourceType": "QuestionnaireResponse", "id": "q1", "status": "completed", "subject": subject,
         "identifier": {"system": "urn:oid:1.2.3", "value": "77"}, "questionnaire": "http://loinc.org/q/44249-1"},
        {"resourceType": "Observation", "id": "o1", "status": "final", "subject": subject, "valueInteger": 4,
         "code": {"coding": [{"system": LOINC, "code": "44261-6"}]}, "derivedFrom": [{"reference": "QuestionnaireResponse/q1"}]},
        {"resourceType": "ServiceRequest", "id": "s1", "status": "active", "intent": "order", "subject": subject,
         "performer": [{"display": "Food bank"}], "supportingInfo": [{"reference": "QuestionnaireResponse/q1"}]},
    )  # fmt: skip
    run = cli("import", "fhir", str(path))
    assert run.exit_code == 0, run.stderr
    assert "ServiceRequest 1 (1 created)" in run.stdout
    assert "Observation 1, QuestionnaireResponse 1" in run.stdout


def test_another_systems_healthcare_service_is_stored_as_resource_add_stores_one(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    service = {"resourceType": "HealthcareService", "id": "h1", "name": "Meals on Wheels",
               "telecom": [{"system": "phone", "value": "(617) 555-0123"}]}  # fmt: skip
    request = {"resourceType": "ServiceRequest", "id": "s1", "status": "active", "intent": "order",
               "subject": {"reference": "Patient/p1"},
               "performer": [{"reference": "HealthcareService/h1", "display": "Meals on Wheels"}]}  # fmt: skip
    assert cli("import", "fhir", str(bundle_of(tmp_path / "a.json", service, request))).exit_code == 0
    [entry] = json.loads(cli("resource", "list", "-f", "json").stdout)
    assert (entry["phone"], entry["category"]) == ("+16175550123", "other")
