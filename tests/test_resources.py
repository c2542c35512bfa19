"""The directory of community resources and its import (issue 14, items 1 and 2): resources added,
corrected, retired and found; an Open Referral HSDS 3.0 folder or a spreadsheet imported all or
nothing, and imported again without duplicates."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from carecoord.services.resource_import import day_span, describe_schedules
from carecoord.vocab import CLINICAL_RESOURCE_KINDS, RESOURCE_CATEGORIES, SDOH_DOMAINS
from tests.conftest import assert_one_line_error

SAMPLE = Path(__file__).parent / "data" / "resources-hsds"


@pytest.fixture
def hsds(tmp_path: Path) -> Path:
    """A copy of the sample county's HSDS folder (18 services), to change."""
    folder = tmp_path / "hsds"
    shutil.copytree(SAMPLE, folder)
    return folder


def _rewrite(path: Path, change) -> None:
    """Rewrite a CSV file row by row (``change`` edits each row dict in place; False drops it)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    kept = [row for row in rows if change(row) is not False]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(kept)


# --- the categories -----------------------------------------------------------------------------


def test_social_need_categories_are_the_gravity_sdoh_category_value_set_codes():
    # SDOH Clinical Care IG STU 2.3.0, ValueSet SDOHCC-ValueSetSDOHCategory (codes of
    # http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes), in its
    # order, without 'sdoh-category-unspecified'. Checked against the published value set 2026-11-25.
    assert SDOH_DOMAINS == (
        "food-insecurity", "housing-instability", "homelessness", "inadequate-housing", "transportation-insecurity",
        "financial-insecurity", "material-hardship", "educational-attainment", "employment-status", "veteran-status",
        "stress", "social-connection", "intimate-partner-violence", "elder-abuse", "personal-health-literacy",
        "health-insurance-coverage-status", "medical-cost-burden", "digital-literacy", "digital-access",
        "utility-insecurity", "incarceration-status", "language-access",
    )  # fmt: skip
    assert set(SDOH_DOMAINS).isdisjoint(CLINICAL_RESOURCE_KINDS)
    assert RESOURCE_CATEGORIES == SDOH_DOMAINS + CLINICAL_RESOURCE_KINDS


def test_resource_categories_lists_every_code_with_its_count(cli):
    cli("resource", "add", "Weekly Food Pantry", "--category", "food")
    listed = json.loads(cli("resource", "categories", "-f", "json").stdout)
    assert [c["code"] for c in listed] == list(RESOURCE_CATEGORIES)
    food = next(c for c in listed if c["code"] == "food-insecurity")
    assert food == {"code": "food-insecurity", "label": "Food insecurity", "kind": "social need", "resources": 1}
    assert next(c for c in listed if c["code"] == "pharmacy")["kind"] == "clinical"


# --- adding, correcting, retiring, finding ------------------------------------------------------


def test_a_resource_is_added_shown_edited_and_found(cli, rows):
    run = cli(
        "resource", "add", "Weekly Food Pantry", "--category", "Food", "--org", "Second Harvest", "--phone",
        "555-0142", "--hours", "Tue, Thu 9:00-13:00", "--languages", "English, Spanish", "--eligibility",
        "County residents", "--fees", "Free", "--url", "https://food.example.org", "--address", "12 Elm St",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == "Added resource #1 Weekly Food Pantry (Second Harvest) (food-insecurity)."
    [stored] = rows("SELECT name, category, organization, phone, hours, languages, status, hsds_id FROM resource")
    assert stored == {"name": "Weekly Food Pantry", "category": "food-insecurity", "organization": "Second Harvest",
                      "phone": "+15550142", "hours": "Tue, Thu 9:00-13:00", "languages": "English, Spanish",
                      "status": "active", "hsds_id": None}  # fmt: skip
    shown = cli("resource", "show", "pantry").stdout
    assert "Hours         Tue, Thu 9:00-13:00" in shown and "Referrals     0" in shown
    assert "Phone         555-0142" in shown  # stored as E.164 (issue 15), read as typed
    edited = json.loads(
        cli("resource", "edit", "1", "--hours", "Mon-Fri 8:00-16:00", "--fees", "", "-f", "json").stdout
    )
    assert (edited["hours"], edited["fees"]) == ("Mon-Fri 8:00-16:00", None)
    cli("resource", "add", "Dial-a-Ride", "--category", "transportation", "--languages", "English")
    names = lambda *args: [r["name"] for r in json.loads(cli("resource", "list", *args, "-f", "json").stdout)]  # noqa: E731
    assert names() == ["Weekly Food Pantry", "Dial-a-Ride"]  # by category, then name
    assert names("--category", "food-insecurity") == ["Weekly Food Pantry"]
    assert names("--language", "spanish") == ["Weekly Food Pantry"]
    assert names("--search", "county") == ["Weekly Food Pantry"]  # the eligibility
    assert names("--search", "ride") == ["Dial-a-Ride"]
    assert names("--search", "(555) 0142") == names("--search", "555.0142") == ["Weekly Food Pantry"]  # the phone


def test_bad_resource_values_are_refused_with_one_line_and_nothing_changes(cli, unchanged):
    cli("resource", "add", "Weekly Food Pantry", "--category", "food-insecurity")
    with unchanged():
        assert_one_line_error(cli("resource", "add", "X", "--category", "snacks"), 1, "invalid category 'snacks'")
        assert_one_line_error(cli("resource", "add", "X"), 1, "give the resource 'X' a category")
        assert_one_line_error(cli("resource", "add", "  ", "--category", "food"), 1, "must not be empty")
        assert_one_line_error(cli("resource", "edit", "1", "--category", ""), 1, "a category")
        assert_one_line_error(cli("resource", "edit", "1", "--email", "nope"), 1, "invalid email address")
        assert_one_line_error(cli("resource", "show", "shelter"), 1, "no resource matches 'shelter'")
        assert_one_line_error(cli("resource", "show", "99"), 1, "no resource #99")
        assert_one_line_error(cli("resource", "list", "--category", "snacks"), 1, "not a category")
        assert_one_line_error(cli("resource", "edit", "1"), 2, "nothing to change")


def test_a_retired_resource_leaves_the_list_keeps_its_record_and_comes_back(cli, rows, unchanged):
    cli("resource", "add", "Mobile Pantry", "--category", "food")
    run = cli("resource", "retire", "mobile")
    assert run.exit_code == 0, run.stderr
    assert "takes no new referrals" in run.stdout
    assert rows("SELECT status, retired_on FROM resource") == [{"status": "retired", "retired_on": "2026-11-25"}]
    assert json.loads(cli("resource", "list", "-f", "json").stdout) == []
    assert [r["status"] for r in json.loads(cli("resource", "list", "--retired", "-f", "json").stdout)] == ["retired"]
    with unchanged():
        assert_one_line_error(cli("resource", "retire", "1"), 1, "already retired")
    assert cli("resource", "restore", "1").exit_code == 0
    assert rows("SELECT status, retired_on FROM resource") == [{"status": "active", "retired_on": None}]


def test_resources_are_audited(cli):
    cli("resource", "add", "Mobile Pantry", "--category", "food")
    cli("resource", "edit", "1", "--phone", "555-0100")
    entries = json.loads(cli("audit", "-f", "json").stdout)
    assert [(e["table"], e["action"]) for e in entries] == [("resource", "update"), ("resource", "create")]
    assert entries[0]["changes"] == {"phone": [None, "+15550100"]}


# --- the HSDS import ----------------------------------------------------------------------------


def test_the_sample_county_imports_with_hours_people_read_and_again_changes_nothing(cli, hsds, rows, unchanged):
    run = cli("import", "resources", str(hsds))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[0] == f"Imported 18 new resources from {hsds} (18 services)."
    assert run.stderr == ""
    stored = {r["name"]: r for r in rows("SELECT * FROM resource")}
    assert len(stored) == 18
    pantry = stored["Weekly Food Pantry"]
    assert (pantry["category"], pantry["organization"], pantry["hours"], pantry["languages"], pantry["taxonomy"]) == (
        "food-insecurity", "Second Harvest of Lake County", "Tue, Thu 9:00-13:00", "English, Spanish", "BD-1800"
    )  # fmt: skip
    assert pantry["address"] == "2742 Washington St, Waukegan, IL 60091"
    assert pantry["hsds_id"] == "4fbd68bb-79f0-568e-82bd-0643fdbae03a"
    assert stored["Mobile Pantry"]["phone"] == "+15550142200;ext=4"  # stored as E.164 (issue 15)
    assert stored["Home Delivered Meals for Seniors"]["hours"] == "Mon-Fri 8:00-16:00"
    assert stored["24-Hour Domestic Violence Hotline"]["hours"] == "Every day 24 hours"
    assert stored["24-Hour Domestic Violence Hotline"]["address"] is None  # a hotline has no location
    assert stored["24-Hour Domestic Violence Hotline"]["category"] == "intimate-partner-violence"
    assert stored["Emergency Overnight Shelter"]["hours"] == "Every day 19:00-7:00"
    assert stored["Skilled Home Health Nursing"]["category"] == "home-health"
    assert stored["Benefits Navigation in Vietnamese"]["organization"] == "Hội Người Việt Lake County"
    # each added in bulk, each audited as any other change
    audited = json.loads(cli("audit", "--limit", "100", "-f", "json").stdout)
    creates = [e for e in audited if (e["table"], e["action"]) == ("resource", "create")]
    assert sorted(e["record_id"] for e in creates) == sorted(r["id"] for r in stored.values())
    first = next(e for e in creates if e["record_id"] == pantry["id"])
    assert first["changes"]["name"] == [None, "Weekly Food Pantry"] and "uid" not in first["changes"]
    with unchanged():
        again = cli("import", "resources", str(hsds))
        assert again.exit_code == 0, again.stderr
        assert again.stdout.strip() == f"Imported 0 new resources, 18 unchanged from {hsds} (18 services)."


def test_a_re_import_updates_by_hsds_id_and_retires_a_defunct_service(cli, hsds, rows):
    cli("import", "resources", str(hsds))
    ids = {r["name"]: r["id"] for r in rows("SELECT id, name FROM resource")}

    def change(row):
        if row["name"] == "Weekly Food Pantry":
            row["name"] = "Weekly Food Pantry (Waukegan)"
        if row["name"] == "Mobile Pantry":
            row["status"] = "defunct"

    _rewrite(hsds / "services.csv", change)
    run = cli("import", "resources", str(hsds))
    assert run.exit_code == 0, run.stderr
    assert (
        run.stdout.strip()
        == f"Imported 0 new resources, updated 2 (1 retired), 16 unchanged from {hsds} (18 services)."
    )
    after = {r["id"]: r for r in rows("SELECT id, name, status FROM resource")}
    assert len(after) == 18
    assert after[ids["Weekly Food Pantry"]]["name"] == "Weekly Food Pantry (Waukegan)"
    assert after[ids["Mobile Pantry"]]["status"] == "retired"


def test_a_dry_run_says_what_would_happen_and_writes_nothing(cli, hsds, unchanged):
    with unchanged():
        run = cli("import", "resources", str(hsds), "--dry-run")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == f"Would import 18 new resources from {hsds} (18 services). Nothing was written."


def test_map_taxonomy_files_a_code_and_its_children_under_a_category(cli, hsds, rows):
    run = cli("import", "resources", str(hsds), "--map-taxonomy", "PH=elder-abuse", "-t", "BD-5000=material-hardship")
    assert run.exit_code == 0, run.stderr
    got = {r["name"]: r["category"] for r in rows("SELECT name, category FROM resource")}
    assert got["Senior Center Activities and Lunch"] == "elder-abuse"  # PH-8000 is a child of PH
    assert got["Home Delivered Meals for Seniors"] == "material-hardship"
    assert got["Weekly Food Pantry"] == "food-insecurity"  # not mapped: its term's name says food


def test_services_without_a_category_are_filed_as_other_and_the_summary_says_how_to_map_them(cli, hsds, rows):
    _rewrite(hsds / "taxonomy_terms.csv", lambda row: row.update(name=f"Term {row['code']}"))
    run = cli("import", "resources", str(hsds))
    assert run.exit_code == 0, run.stderr
    assert "18 services had no taxonomy term that gives a category and were filed as 'other'" in run.stdout
    assert "--map-taxonomy BD-1800=CATEGORY" in run.stdout
    again = cli("import", "resources", str(hsds), "--map-taxonomy", "BD=food-insecurity")
    assert again.exit_code == 0, again.stderr
    assert "updated 5" in again.stdout  # the five food services under BD (Basic Needs)
    assert {r["category"] for r in rows("SELECT category FROM resource WHERE substr(taxonomy, 1, 2) = 'BD'")} == {
        "food-insecurity"
    }


def test_a_folder_without_services_csv_is_refused(cli, hsds, unchanged):
    (hsds / "services.csv").unlink()
    with unchanged():
        run = cli("import", "resources", str(hsds))
    assert_one_line_error(run, 1, "has no services.csv", "an HSDS folder needs services.csv")


def test_a_service_naming_a_missing_organization_is_refused_with_its_file_and_line(cli, hsds, unchanged):
    _rewrite(hsds / "services.csv",
             lambda row: row.update(organization_id="no-such-org") if row["name"] == "Water Bill Help" else None)  # fmt: skip
    with unchanged():
        run = cli("import", "resources", str(hsds))
    assert_one_line_error(run, 1, "services.csv line 9: organization no-such-org is not in organizations.csv",
                          "nothing was imported")  # fmt: skip


def test_several_problems_are_each_listed_by_line_and_nothing_is_imported(cli, hsds, unchanged):
    def break_two(row):
        if row["name"] in ("Water Bill Help", "Mobile Pantry"):
            row["organization_id"] = "gone"

    _rewrite(hsds / "services.csv", break_two)
    with unchanged():
        run = cli("import", "resources", str(hsds))
    assert run.exit_code == 1
    assert run.stderr.splitlines() == [
        "carecoord: error: services.csv line 3: organization gone is not in organizations.csv",
        "carecoord: error: services.csv line 9: organization gone is not in organizations.csv",
        "carecoord: error: 2 problems; nothing was imported",
    ]


def test_an_unknown_taxonomy_category_or_a_path_that_is_not_there_is_refused(cli, hsds, tmp_path, unchanged):
    with unchanged():
        assert_one_line_error(cli("import", "resources", str(hsds), "--map-taxonomy", "BD=snacks"), 1,
                              "'snacks' is not a category")  # fmt: skip
        assert_one_line_error(cli("import", "resources", str(hsds), "--map-taxonomy", "BD"), 1, "CODE=CATEGORY")
        assert_one_line_error(cli("import", "resources", str(tmp_path / "nowhere")), 1, "does not exist")


# --- a flat spreadsheet -------------------------------------------------------------------------

SHEET = """Resource Name,Type,Agency,Phone #,Website,Hours of Operation,Languages Spoken,Cost
Eastside Food Shelf,Food,Eastside Church,555-0190,https://eastside.example.org,Sat 9:00-12:00,English,Free
Cardiology Associates,specialist,Mercy Health,555-0191,,Mon-Fri 8:00-17:00,"English, Arabic",Insurance
"""


def test_a_spreadsheet_imports_with_headers_matched_and_again_adds_nothing(cli, tmp_path, rows, unchanged):
    sheet = tmp_path / "directory.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    run = cli("import", "resources", str(sheet))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == f"Imported 2 new resources from {sheet} (2 rows)."
    assert rows("SELECT name, category, organization, url, hours, languages, fees FROM resource ORDER BY id") == [
        {"name": "Eastside Food Shelf", "category": "food-insecurity", "organization": "Eastside Church",
         "url": "https://eastside.example.org", "hours": "Sat 9:00-12:00", "languages": "English", "fees": "Free"},
        {"name": "Cardiology Associates", "category": "specialist", "organization": "Mercy Health", "url": None,
         "hours": "Mon-Fri 8:00-17:00", "languages": "English, Arabic", "fees": "Insurance"},
    ]  # fmt: skip
    with unchanged():
        again = cli("import", "resources", str(sheet))
    assert again.stdout.strip() == f"Imported 0 new resources, 2 unchanged from {sheet} (2 rows)."
    # the directory's own CSV imports back unchanged
    exported = tmp_path / "export.csv"
    exported.write_text(cli("resource", "list", "-f", "csv").stdout, encoding="utf-8")
    with unchanged():
        back = cli("import", "resources", str(exported))
    assert back.exit_code == 0, back.stderr
    assert "2 unchanged" in back.stdout


def test_a_spreadsheet_with_a_bad_row_or_an_unknown_column_imports_nothing(cli, tmp_path, unchanged):
    sheet = tmp_path / "directory.csv"
    sheet.write_text(SHEET + "Bingo Night,fun,,,,,,\n", encoding="utf-8")
    with unchanged():
        run = cli("import", "resources", str(sheet))
        assert_one_line_error(run, 1, "directory.csv line 4", "'fun' is not a category", "nothing was imported")
        sheet.write_text("Name,Category,Favourite Colour\nX,food,blue\n", encoding="utf-8")
        assert_one_line_error(cli("import", "resources", str(sheet)), 1, "unknown column 'Favourite Colour'")
    ok = cli("import", "resources", str(sheet), "--map", "Favourite Colour=-")
    assert ok.exit_code == 0, ok.stderr


# --- schedules as people read them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("MO,TU,WE,TH,FR", "Mon-Fri"),
        ("TU,TH", "Tue, Thu"),
        ("MO,WE,FR", "Mon, Wed, Fri"),
        ("SA,SU", "Sat, Sun"),
        ("FR,SA,SU,MO", "Mon, Fri-Sun"),
        ("SU,MO,TU,WE,TH,FR,SA", "Every day"),
    ],
)
def test_days_read_as_people_write_them(days, expected):
    assert day_span(days.split(",")) == expected


def test_schedules_combine_days_with_the_same_hours_and_spell_out_other_rules():
    weekly = {"freq": "WEEKLY", "interval": "1"}
    assert describe_schedules([
        {**weekly, "byday": "MO,TU", "opens_at": "09:00", "closes_at": "17:00"},
        {**weekly, "byday": "WE,TH,FR", "opens_at": "09:00:00", "closes_at": "17:00:00"},
        {**weekly, "byday": "SA", "opens_at": "10:00", "closes_at": "12:00"},
    ]) == "Mon-Fri 9:00-17:00; Sat 10:00-12:00"  # fmt: skip
    assert describe_schedules([{"freq": "MONTHLY", "byday": "1TU,3TU", "opens_at": "18:00", "closes_at": "20:00"}]) == (
        "1st Tue and 3rd Tue of the month 18:00-20:00"
    )
    assert describe_schedules([{"freq": "MONTHLY", "byday": "-1FR", "opens_at": "10:00", "closes_at": "14:00"}]) == (
        "Last Fri of the month 10:00-14:00"
    )
    assert describe_schedules(
        [{**weekly, "interval": "2", "byday": "WE", "opens_at": "13:00", "closes_at": "15:00"}]
    ) == ("Every other week, Wed 13:00-15:00")
    assert describe_schedules([{"description": "By appointment only"}]) == "By appointment only"
    assert describe_schedules([]) is None
