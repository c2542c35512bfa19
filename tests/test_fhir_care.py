"""The care-planning records through `export fhir` and `import fhir`: a demo patient's plans, goals,
tasks, log and transitions go out with the right codes and every reference resolving, come back into
an empty database, and a second import changes nothing."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from carecoord.fhir import extension_url
from carecoord.fhir.transitions import is_transition
from tests.conftest import assert_one_line_error
from tests.fhir_validation import by_type, check_bundle, check_ndjson

CARE_TYPES = {"CarePlan", "Condition", "Goal", "Task", "Communication", "EpisodeOfCare"}
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
CPT = "http://www.ama-assn.org/go/cpt"


@pytest.fixture
def demo_bundle(cli, tmp_path: Path) -> Path:
    """The demo caseload's Margaret (a plan with a review, goals, a weekly task done once, calls) and
    Walter (a transition) exported as a Bundle, from a demo database of its own."""
    demo, out = tmp_path / "demo.db", tmp_path / "bundle.json"
    assert cli("demo", "--path", str(demo)).exit_code == 0
    for change in (("plan", "review", "Heart failure", "--note", "Weight stable", "--date", "2026-11-20"),
                   ("goal", "status", "Weigh daily", "--achievement", "improving"),
                   ("task", "done", "Weekly weight check call")):  # fmt: skip
        assert cli("--db", str(demo), *change).exit_code == 0, change
    run = cli(
        "--db", str(demo), "export", "fhir", "--patient", "DEMO-1001", "--patient", "DEMO-1004", "--out", str(out)
    )
    assert run.exit_code == 0, run.stderr
    return out


def outcomes(stdout: str) -> dict[str, set[str]]:
    """What `import fhir` says it did, by resource type: ``{"Task": {"1 updated", "unchanged"}}``
    (how many were unchanged left out: other mappings' Tasks and EpisodeOfCares count there too)."""
    found = re.findall(r"(\w+) \d+ \(([^)]*)\)", stdout.split("; skipped:")[0])
    return {kind: {part if "unchanged" not in part else "unchanged" for part in how.split(", ")} for kind, how in found}


def of_type(path: Path, kind: str) -> list[dict[str, Any]]:
    return by_type(json.loads(path.read_text()), kind)


def test_the_export_carries_each_care_record_with_its_codes_and_every_reference_resolves(demo_bundle):
    bundle = check_bundle(demo_bundle)  # valid R4, and every reference resolves inside it
    found = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
    assert set(found) >= CARE_TYPES, found
    [plan] = of_type(demo_bundle, "CarePlan")
    assert (plan["title"], plan["status"], plan["intent"]) == ("Heart failure self-management", "active", "plan")
    assert [a["display"] for a in plan["addresses"]] == ["Two CHF admissions this year",
                                                         "Lives alone; daughter visits weekly"]  # fmt: skip
    assert {g["description"]["text"] for g in of_type(demo_bundle, "Goal")} == {
        "Weigh daily and report a gain over 2 lb in a day",
        "Attend cardiology follow-up",
    }
    achieved = [c for g in of_type(demo_bundle, "Goal") for c in g.get("achievementStatus", {}).get("coding", [])]
    assert achieved == [{"system": "http://terminology.hl7.org/CodeSystem/goal-achievement", "code": "improving",
                         "display": "Improving"}]  # fmt: skip
    weekly = next(t for t in of_type(demo_bundle, "Task") if t["description"] == "Weekly weight check call")
    assert weekly["basedOn"] == [{"reference": f"urn:uuid:{plan['id']}"}]
    assert {"url": "rule", "valueString": "FREQ=WEEKLY"} in weekly["extension"][0]["extension"]
    assert weekly["extension"][0]["url"] == extension_url("task-series")
    mediums = {c["code"] for r in of_type(demo_bundle, "Communication") for m in r["medium"] for c in m["coding"]
               if c["system"] == PARTICIPATION_MODE}  # fmt: skip
    assert {"PHONE", "FACE"} <= mediums
    [episode] = [e for e in of_type(demo_bundle, "EpisodeOfCare") if is_transition(e)]  # (and program enrolments)
    assert [c["code"] for c in episode["type"][0]["coding"] if c["system"] == CPT] == ["99496"]


def test_an_import_into_an_empty_database_recreates_them_and_a_second_changes_nothing(cli, demo_bundle, rows,
                                                                                       unchanged):  # fmt: skip
    run = cli("import", "fhir", str(demo_bundle))
    assert run.exit_code == 0, run.stderr
    plans = rows("SELECT title, status, needs, review_every_days FROM care_plan")
    assert plans == [{"title": "Heart failure self-management", "status": "active",
                      "needs": "Two CHF admissions this year\nLives alone; daughter visits weekly",
                      "review_every_days": 90}]  # fmt: skip
    assert len(rows("SELECT id FROM goal")) == 2
    [review] = rows("SELECT reviewed_on, note, next_review FROM plan_review")
    assert (str(review["reviewed_on"]), review["note"], str(review["next_review"])) == (
        "2026-11-20",
        "Weight stable",
        "2027-02-18",
    )
    assert [g["achievement_status"] for g in rows("SELECT achievement_status FROM goal ORDER BY id")] == [
        "improving",
        None,
    ]
    weekly = rows("SELECT id, status, series_id, rrule, due_on, due_time, completed_at FROM task "
                  "WHERE title = 'Weekly weight check call' ORDER BY due_on")  # fmt: skip
    first = weekly[0]["id"]
    assert [(t["status"], t["series_id"], str(t["due_on"]), str(t["due_time"])[:5]) for t in weekly] == [
        ("completed", first, "2026-11-25", "10:00"),
        ("requested", first, "2026-12-02", "10:00"),
    ]
    assert weekly[0]["completed_at"] is not None and weekly[1]["completed_at"] is None
    [transition] = rows("SELECT facility, complexity, contact_task_id, visit_task_id FROM transition")
    assert transition["facility"] == "St. Luke's Hospital" and transition["complexity"] == "high"
    followups = rows(
        "SELECT id FROM task WHERE id IN (?, ?)", transition["contact_task_id"], transition["visit_task_id"]
    )
    assert len(followups) == 2
    assert len(rows("SELECT id FROM communication")) == len(of_type(demo_bundle, "Communication"))
    with unchanged():
        again = cli("import", "fhir", str(demo_bundle))
    assert again.exit_code == 0, again.stderr
    took = outcomes(again.stdout)
    assert all(took[kind] == {"unchanged"} for kind in CARE_TYPES - {"Condition"}), took


def test_an_import_brings_back_what_was_changed_since(cli, demo_bundle, rows):
    assert cli("import", "fhir", str(demo_bundle)).exit_code == 0
    assert cli("task", "edit", "Refill diuretic", "--title", "Refill furosemide", "--priority", "stat").exit_code == 0
    assert cli("log", "edit", "1", "--minutes", "99").exit_code == 0
    run = cli("import", "fhir", str(demo_bundle))
    assert run.exit_code == 0, run.stderr
    took = outcomes(run.stdout)
    assert (took["Task"], took["Communication"], took["CarePlan"]) == (
        {"1 updated", "unchanged"},
        {"1 updated", "unchanged"},
        {"unchanged"},
    ), took
    assert rows("SELECT priority FROM task WHERE title = 'Refill diuretic prescription'") == [{"priority": "urgent"}]
    assert rows("SELECT id FROM communication WHERE minutes = 99") == []


def test_a_task_for_no_patient_in_the_file_is_one_line_and_changes_nothing(cli, demo_bundle, tmp_path, unchanged):
    bundle = json.loads(demo_bundle.read_text())
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    task["for"] = {"reference": f"urn:uuid:{uuid.uuid4()}"}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(bundle))
    with unchanged():
        run = cli("import", "fhir", str(broken))
    assert_one_line_error(run, 1, f"Task/{task['id']}")


def test_ndjson_carries_the_same_records_and_imports_the_same(cli, tmp_path, rows):
    demo, out = tmp_path / "demo.db", tmp_path / "care.ndjson"
    assert cli("demo", "--path", str(demo)).exit_code == 0
    assert cli("--db", str(demo), "export", "fhir", "--all", "--ndjson", "--out", str(out)).exit_code == 0
    resources = check_ndjson(out)  # valid R4, and every Type/id reference resolves in the file
    found = Counter(r["resourceType"] for r in resources if r["resourceType"] != "EpisodeOfCare" or is_transition(r))
    assert set(found) >= CARE_TYPES, found
    task = next(r for r in resources if r["resourceType"] == "Task" and "basedOn" in r)
    assert task["basedOn"][0]["reference"].startswith("CarePlan/")
    run = cli("import", "fhir", str(out))
    assert run.exit_code == 0, run.stderr
    for table, kind in (("care_plan", "CarePlan"), ("goal", "Goal"), ("communication", "Communication"),
                        ("transition", "EpisodeOfCare")):  # fmt: skip
        assert len(rows(f"SELECT id FROM {table}")) == found[kind], table


def test_care_records_carecoord_did_not_make_are_skipped(cli, demo_bundle, tmp_path, rows):
    bundle = json.loads(demo_bundle.read_text())
    kept = {"Patient", "RelatedPerson", "CareTeam", "Coverage", "Appointment"} | CARE_TYPES

    def care(resource: dict[str, Any]) -> bool:  # this mapping's (not a referral's Task, a program's episode)
        kind = resource["resourceType"]
        return (
            kind in kept
            and not (kind == "Task" and "code" in resource)
            and (kind != "EpisodeOfCare" or is_transition(resource))
        )

    bundle["entry"] = [entry for entry in bundle["entry"] if care(entry["resource"])]
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] in CARE_TYPES - {"Condition"}:
            del entry["resource"]["identifier"]  # as an EHR's own CarePlans, Goals, Tasks... come
    foreign = tmp_path / "ehr.json"
    foreign.write_text(json.dumps(bundle))
    run = cli("import", "fhir", str(foreign))
    assert run.exit_code == 0, run.stderr
    skipped = run.stdout.split("skipped:")[1]
    assert all(f"{kind} " in skipped for kind in CARE_TYPES), skipped
    assert rows("SELECT count(*) AS n FROM task") == [{"n": 0}] and rows("SELECT count(*) AS n FROM care_plan") == [
        {"n": 0}
    ]
