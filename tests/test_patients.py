"""Patients through the CLI: enrol, list, show, edit, discharge, reactivate, delete."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import assert_one_line_error


@pytest.fixture
def caseload(cli):
    """Three patients, as a coordinator would enrol them."""
    assert (
        cli(
            "patient",
            "add",
            "Jane Doe",
            "--dob",
            "1950-03-02",
            "--mrn",
            "MRN-1",
            "--risk",
            "high",
            "--tag",
            "CHF",
            "--tag",
            "diabetes",
            "--phone",
            "555-0100",
            "--payer",
            "Medicare",
        ).exit_code
        == 0
    )
    assert (
        cli(
            "patient",
            "add",
            "John Doe",
            "--dob",
            "03/15/1948",
            "--mrn",
            "MRN-2",
            "--risk",
            "low",
            "--enrolled",
            "2026-01-05",
        ).exit_code
        == 0
    )
    assert (
        cli(
            "patient",
            "add",
            "Siobhán O'Connor",
            "--mrn",
            "MRN-3",
            "--risk",
            "moderate",
            "--language",
            "Irish",
            "--tag",
            "copd",
        ).exit_code
        == 0
    )
    return cli


def test_add_prints_one_confirmation_and_stores_the_patient(cli, rows):
    run = cli(
        "patient",
        "add",
        "Jane Doe",
        "--dob",
        "1950-03-02",
        "--mrn",
        "MRN-1",
        "--risk",
        "high",
        "--email",
        "jane@example.org",
        "--address",
        "1 Main St",
        "--member-id",
        "A1",
        "--pcp",
        "Dr Who",
        "--notes",
        "hard of hearing",
        "--tag",
        "CHF",
    )
    assert run.exit_code == 0
    assert run.stdout.strip() == "Added patient #1 Jane Doe (MRN MRN-1)."
    [stored] = rows("SELECT * FROM patient")
    assert stored["name"] == "Jane Doe"
    assert stored["birth_date"] == "1950-03-02"
    assert stored["risk"] == "high"
    assert stored["status"] == "active"
    assert stored["tags"] == "chf"
    assert stored["pcp"] == "Dr Who"


def test_add_with_json_prints_the_stored_record(cli):
    run = cli("patient", "add", "Jane Doe", "--dob", "1950-03-02", "--format", "json")
    record = json.loads(run.stdout)
    assert record["id"] == 1
    assert record["birth_date"] == "1950-03-02"
    assert record["status"] == "active"
    assert record["tags"] == []


def test_list_shows_active_patients_as_a_table(caseload):
    run = caseload("patient", "list")
    assert run.exit_code == 0
    for word in ("Jane Doe", "John Doe", "Siobhán", "O'Connor", "MRN-1", "MRN-2", "MRN-3", "chf, diabetes"):
        assert word in run.stdout
    assert all(len(line) <= 80 for line in run.stdout.splitlines())
    assert "\x1b[" not in run.stdout  # no color off a terminal


def test_list_json_is_a_stable_list_with_ids_and_iso_dates(caseload):
    records = json.loads(caseload("patient", "list", "--format", "json").stdout)
    assert [r["name"] for r in records] == ["Jane Doe", "John Doe", "Siobhán O'Connor"]
    assert all(isinstance(r["id"], int) for r in records)
    assert records[1]["birth_date"] == "1948-03-15"
    assert records[0]["tags"] == ["chf", "diabetes"]
    assert records[0]["created_at"].endswith(("-05:00", "-04:00"))


def test_list_csv_has_a_header_and_one_row_per_patient(caseload):
    reader = list(csv.DictReader(io.StringIO(caseload("patient", "list", "--format", "csv").stdout)))
    assert [r["mrn"] for r in reader] == ["MRN-1", "MRN-2", "MRN-3"]
    assert reader[0]["tags"] == "chf;diabetes"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--risk", "high"), ["Jane Doe"]),
        (("--tag", "copd"), ["Siobhán O'Connor"]),
        (("--tag", "diab"), []),
        (("--tag", "DIABETES"), ["Jane Doe"]),
        (("--search", "siobhan"), ["Siobhán O'Connor"]),
        (("--search", "medicare"), ["Jane Doe"]),
        (("--search", "555-0100"), ["Jane Doe"]),
        (("--sort", "risk"), ["Jane Doe", "Siobhán O'Connor", "John Doe"]),
        (("--sort", "dob"), ["John Doe", "Jane Doe", "Siobhán O'Connor"]),  # unknown dates of birth last
        (("--sort", "dob", "--desc"), ["Jane Doe", "John Doe", "Siobhán O'Connor"]),
        (("--sort", "name", "--desc"), ["Siobhán O'Connor", "John Doe", "Jane Doe"]),
        (("--limit", "1"), ["Jane Doe"]),
    ],
)
def test_list_filters_and_sorts(caseload, options, expected):
    records = json.loads(caseload("patient", "list", *options, "-f", "json").stdout)
    assert [r["name"] for r in records] == expected


def test_list_status_filters(caseload):
    assert caseload("patient", "discharge", "MRN-2").exit_code == 0
    active = json.loads(caseload("patient", "list", "-f", "json").stdout)
    assert "John Doe" not in [r["name"] for r in active]
    gone = json.loads(caseload("patient", "list", "--status", "discharged", "-f", "json").stdout)
    assert [r["name"] for r in gone] == ["John Doe"]
    everyone = json.loads(caseload("patient", "list", "--all", "-f", "json").stdout)
    assert len(everyone) == 3


def test_empty_list_says_so(cli):
    run = cli("patient", "list")
    assert run.exit_code == 0
    assert "No patients match." in run.stdout
    assert json.loads(cli("patient", "list", "-f", "json").stdout) == []


@pytest.mark.parametrize("ref", ["1", "#1", "MRN-1", "mrn-1", "jane", "JANE DOE", "doe jane"])
def test_a_patient_is_found_by_id_mrn_or_part_of_the_name(caseload, ref):
    run = caseload("patient", "show", ref, "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["mrn"] == "MRN-1"


def test_accents_do_not_matter_when_finding_a_patient(caseload):
    assert json.loads(caseload("patient", "show", "siobhan", "-f", "json").stdout)["mrn"] == "MRN-3"


def test_show_includes_everything_and_the_contacts(caseload):
    assert caseload("contact", "add", "jane", "Ann Doe", "--role", "daughter", "--consent").exit_code == 0
    table = caseload("patient", "show", "jane")
    assert "Medicare" in table.stdout and "Ann Doe" in table.stdout and "daughter" in table.stdout
    record = json.loads(caseload("patient", "show", "jane", "-f", "json").stdout)
    assert record["payer"] == "Medicare"
    assert [c["name"] for c in record["contacts"]] == ["Ann Doe"]
    assert record["contacts"][0]["consent_to_share"] is True


def test_edit_changes_fields_and_tags(caseload, rows):
    run = caseload(
        "patient",
        "edit",
        "jane",
        "--phone",
        "555-0199",
        "--risk",
        "moderate",
        "--add-tag",
        "fall-risk",
        "--remove-tag",
        "diabetes",
        "--name",
        "Jane Q. Doe",
    )
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == "Updated patient #1 Jane Q. Doe (MRN MRN-1)."
    [stored] = rows("SELECT * FROM patient WHERE id = 1")
    assert (stored["phone"], stored["risk"], stored["tags"]) == ("+15550199", "moderate", "chf,fall-risk")
    assert json.loads(caseload("patient", "show", "Q. Doe", "-f", "json").stdout)["id"] == 1


def test_edit_with_an_empty_value_clears_the_field(caseload, rows):
    assert caseload("patient", "edit", "1", "--phone", "", "--dob", "").exit_code == 0
    [stored] = rows("SELECT phone, birth_date FROM patient WHERE id = 1")
    assert stored == {"phone": None, "birth_date": None}


def test_edit_without_changes_is_a_usage_error(caseload, unchanged):
    with unchanged():
        assert_one_line_error(caseload("patient", "edit", "1"), 2, "nothing to change")


def test_discharge_and_reactivate(caseload, rows):
    run = caseload("patient", "discharge", "john", "--date", "2026-11-20", "--reason", "moved away")
    assert run.exit_code == 0
    assert "Discharged patient #2 John Doe" in run.stdout
    [stored] = rows("SELECT status, discharged_on, discharge_reason FROM patient WHERE id = 2")
    assert stored == {"status": "discharged", "discharged_on": "2026-11-20", "discharge_reason": "moved away"}
    assert_one_line_error(caseload("patient", "discharge", "john"), 1, "already discharged")
    assert caseload("patient", "reactivate", "john").exit_code == 0
    [stored] = rows("SELECT status, discharged_on FROM patient WHERE id = 2")
    assert stored == {"status": "active", "discharged_on": None}
    assert_one_line_error(caseload("patient", "reactivate", "john"), 1, "already active")


def test_hold_and_reactivate(caseload, rows):
    assert caseload("patient", "hold", "jane").exit_code == 0
    assert rows("SELECT status FROM patient WHERE id = 1") == [{"status": "on-hold"}]
    assert caseload("patient", "reactivate", "jane").exit_code == 0
    assert rows("SELECT status FROM patient WHERE id = 1") == [{"status": "active"}]


def test_delete_needs_yes_off_a_terminal_and_says_what_it_removes(caseload, rows, unchanged):
    assert caseload("contact", "add", "jane", "Ann Doe").exit_code == 0
    with unchanged():
        assert_one_line_error(caseload("patient", "delete", "jane"), 2, "--yes")
    run = caseload("patient", "delete", "jane", "--yes")
    assert run.exit_code == 0
    assert "Deleted patient #1 Jane Doe (MRN MRN-1) and 1 coverage, 1 contact." in run.stdout  # the payer's
    assert rows("SELECT id FROM patient WHERE id = 1") == []
    assert rows("SELECT id FROM contact") == []


def test_delete_names_what_it_removes_in_plain_english(caseload):
    for minute in ("10:00", "11:00"):
        assert caseload("log", "add", "jane", "--when", f"2026-11-23 {minute}", "--minutes", "5").exit_code == 0
    run = caseload("patient", "delete", "jane", "--yes")
    assert run.exit_code == 0
    assert "2 log entries" in run.stdout


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("patient", "show", "nobody"), 1, "no patient matches 'nobody'"),
        (("patient", "show", "doe"), 1, "'doe' matches 2 patients: #1 Jane Doe (b. 1950-03-02, MRN MRN-1), #2"),
        (("patient", "add", "X", "--dob", "2026-02-30"), 1, "day is out of range for month"),
        (("patient", "add", "X", "--dob", "2090-01-01"), 1, "not plausible"),
        (("patient", "add", "X", "--risk", "extreme"), 1, "invalid risk level 'extreme'"),
        (("patient", "add", ""), 1, "name must not be empty"),
        (("patient", "add", "   "), 1, "name must not be empty"),
        (("patient", "add", "X", "--mrn", "mrn-1"), 1, "MRN mrn-1 already belongs to patient #1"),
        (("patient", "add", "X", "--email", "not-an-email"), 1, "invalid email"),
        (("patient", "add", "X", "--tag", "a,b"), 1, "invalid tag"),
        (("patient", "edit", "jane", "--remove-tag", "nope"), 1, "has no tag nope"),
        (("patient", "edit", "jane", "--mrn", "MRN-2"), 1, "already belongs"),
        (("patient", "discharge", "jane", "--date", "next blursday"), 1, "cannot read 'next blursday'"),
        (("patient", "add"), 2, "Missing argument"),
        (("patient", "list", "--bogus"), 2, "No such option"),
        (("patient", "frobnicate"), 2, "No such command"),
    ],
)
def test_bad_input_is_one_line_with_the_right_code_and_changes_nothing(caseload, unchanged, args, code, fragment):
    with unchanged():
        assert_one_line_error(caseload(*args), code, fragment)


def test_ambiguous_name_lists_the_candidates(caseload):
    run = caseload("patient", "show", "doe")
    assert (
        "#1 Jane Doe (b. 1950-03-02, MRN MRN-1)" in run.stderr
        and "#2 John Doe (b. 1948-03-15, MRN MRN-2)" in run.stderr
    )


def test_hostile_text_is_stored_and_shown_literally(cli, rows):
    name = "Zoë [bold]O'Brien[/bold]; DROP TABLE patient; -- \u05e9\u05dc\u05d5\u05dd 🙂"
    assert cli("patient", "add", name, "--notes", 'line one\nline "two"').exit_code == 0
    assert rows("SELECT name FROM patient") == [{"name": name}]
    assert "[bold]O'Brien[/bold]" in cli("patient", "show", "1").stdout
    record = json.loads(cli("patient", "show", "1", "-f", "json").stdout)
    assert record["notes"] == 'line one\nline "two"'
    [row] = list(csv.DictReader(io.StringIO(cli("patient", "list", "-f", "csv").stdout)))
    assert row["name"] == name


def test_an_ambiguous_name_lists_each_candidate_with_id_and_date_of_birth(cli, unchanged):
    assert cli("patient", "add", "John Smith", "--dob", "1948-02-01").exit_code == 0
    assert cli("patient", "add", "John Smith", "--dob", "1961-09-30").exit_code == 0
    assert cli("patient", "add", "Johnny Smithers").exit_code == 0
    with unchanged():
        run = cli("log", "add", "smith", "--minutes", "5")
    assert_one_line_error(run, 1)
    assert run.stderr.strip() == (
        "carecoord: error: 'smith' matches 3 patients: #1 John Smith (b. 1948-02-01), "
        "#2 John Smith (b. 1961-09-30), #3 Johnny Smithers (no date of birth); use the id"
    )
    assert_one_line_error(cli("patient", "show", "john smith"), 1, "'john smith' matches 2 patients")
    assert cli("patient", "show", "johnny").exit_code == 0


def test_medium_risk_means_moderate_everywhere_as_in_import(cli, rows, tmp_path):
    assert cli("patient", "add", "Ann Medium", "--risk", "medium").exit_code == 0
    assert cli("patient", "add", "Bob Med", "--risk", "MED").exit_code == 0
    assert cli("patient", "add", "Cy Low", "--risk", "low").exit_code == 0
    assert cli("patient", "edit", "cy", "--risk", "Medium").exit_code == 0
    sheet = tmp_path / "in.csv"
    sheet.write_text("Name,Risk\nDi Imported,medium\n", encoding="utf-8")
    assert cli("import", "patients", str(sheet)).exit_code == 0
    assert {r["risk"] for r in rows("SELECT risk FROM patient")} == {"moderate"}
    listed = json.loads(cli("patient", "list", "--risk", "medium", "-f", "json").stdout)
    assert [p["name"] for p in listed] == ["Ann Medium", "Bob Med", "Cy Low", "Di Imported"]
    assert "--risk low|moderate|high" in cli("patient", "add", "--help").stdout


def test_a_number_is_an_id_or_an_mrn_never_part_of_a_name(three_patients, unchanged):
    assert json.loads(three_patients("patient", "show", "#1", "-f", "json").stdout)["name"] == "Jane Doe"
    assert json.loads(three_patients("patient", "show", "77001", "-f", "json").stdout)["name"] == "Baby Girl 1"
    with unchanged():
        assert_one_line_error(
            three_patients("patient", "delete", "1", "--yes"), 1, "both patient #1's id and patient #3's MRN"
        )
    assert three_patients("patient", "delete", "#1", "--yes").exit_code == 0
    # #1 is gone: "1" is now only patient #3's MRN; "#1" is nobody; nothing falls back to "Baby Girl 1"
    assert json.loads(three_patients("patient", "show", "1", "-f", "json").stdout)["name"] == "Pat Ten"
    assert_one_line_error(three_patients("patient", "show", "#1"), 1, "no patient #1")
    assert three_patients("patient", "delete", "1", "--yes").exit_code == 0
    assert_one_line_error(three_patients("patient", "show", "1"), 1, "no patient #1")


def test_a_future_enrolment_is_refused(cli, unchanged):
    with unchanged():
        assert_one_line_error(cli("patient", "add", "X", "--enrolled", "+5y"), 1, "in the future")


# Every command that takes a patient, with what else it needs to get as far as finding the patient.
# A new command that takes PATIENT (or --patient) must be added here: the test below finds them all.
PATIENT_COMMANDS: dict[str, tuple[str, ...]] = {
    "patient assign": ("smith", "coordinator"), "patient delete": ("smith", "--yes"),
    "patient discharge": ("smith",), "patient edit": ("smith", "--phone", "555-0100"),
    "patient hold": ("smith",), "patient reactivate": ("smith",), "patient show": ("smith",),
    "patient summary": ("smith",), "patient timeline": ("smith",),
    "contact add": ("smith", "Rosa"), "contact edit": ("1", "--patient", "smith", "--phone", "555-0100"),
    "contact list": ("smith",), "contact remove": ("1", "--patient", "smith", "--yes"),
    "plan add": ("smith", "CHF"), "plan list": ("--patient", "smith"), "goal list": ("--patient", "smith"),
    "task add": ("Call", "--patient", "smith"), "task list": ("--patient", "smith"),
    "appt add": ("smith", "--start", "tomorrow 10am"), "appt list": ("--patient", "smith"),
    "log add": ("smith", "--minutes", "5"), "log list": ("--patient", "smith"), "timer start": ("smith",),
    "transition add": ("smith", "--discharged", "-1d", "--from", "Mercy"),
    "transition list": ("--patient", "smith"),
    "screen add": ("smith", "phq2", "--answers", "0,0"), "screen history": ("smith", "phq2"),
    "screen list": ("--patient", "smith"), "referral add": ("smith", "--to", "Food bank"),
    "referral list": ("--patient", "smith"), "coverage add": ("smith", "--payer", "Medicare"),
    "coverage list": ("smith",), "auth add": ("smith", "--service", "oxygen"),
    "auth list": ("--patient", "smith"), "report minutes": ("--patient", "smith"),
    "report transitions": ("--patient", "smith"), "export fhir": ("--patient", "smith", "--out", "-"),
    "export ics": ("--patient", "smith", "--out", "-"), "audit": ("--patient", "smith"),
    "audit disclosures": ("--patient", "smith"), "program end": ("smith", "ccm"),
    "program enroll": ("smith", "ccm", "--consent", "verbal"), "program list": ("--patient", "smith"),
}  # fmt: skip


def commands_taking_a_patient() -> set[str]:
    import typer

    from carecoord.cli import COMMANDS, sub_app

    found: set[str] = set()

    def walk(command: typer.main.TyperGroup, words: list[str]) -> None:
        for param in command.params:
            if param.name == "patient" and (param.param_type_name == "argument" or "--patient" in param.opts):
                found.add(" ".join(words))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*words, name])

    for noun in COMMANDS:
        walk(typer.main.get_command(sub_app(noun)), [noun])
    return found


def test_every_command_taking_a_patient_is_tried_below():
    assert commands_taking_a_patient() == set(PATIENT_COMMANDS)


@pytest.mark.parametrize("command", sorted(PATIENT_COMMANDS))
def test_every_command_taking_a_patient_lists_the_candidates_of_an_ambiguous_name(cli, unchanged, command):
    assert cli("patient", "add", "John Smith", "--dob", "1948-02-01", "--mrn", "A1").exit_code == 0
    assert cli("patient", "add", "John Smith", "--dob", "1961-09-30").exit_code == 0
    assert cli("contact", "add", "#1", "Rosa").exit_code == 0
    with unchanged():
        run = cli(*command.split(), *PATIENT_COMMANDS[command])
    assert_one_line_error(run, 1)
    assert run.stderr.strip() == (
        "carecoord: error: 'smith' matches 2 patients: #1 John Smith (b. 1948-02-01, MRN A1), "
        "#2 John Smith (b. 1961-09-30); use the id"
    )


@pytest.mark.parametrize("command", sorted(c for c, args in PATIENT_COMMANDS.items() if "--patient" in args))
def test_an_empty_patient_option_is_refused_not_read_as_every_patient(cli, unchanged, command):
    """'--patient "$P"' with P unset must not list, report or export every patient's records."""
    assert cli("patient", "add", "John Smith", "--dob", "1948-02-01", "--mrn", "A1").exit_code == 0
    assert cli("contact", "add", "#1", "Rosa").exit_code == 0
    args = ["" if arg == "smith" else arg for arg in PATIENT_COMMANDS[command]]
    with unchanged():
        run = cli(*command.split(), *args)
    assert_one_line_error(run, 1, "--patient", "give a patient: an id, an MRN or part of the name")
    assert run.stdout == ""


def test_a_second_patient_with_the_same_name_and_birth_date_is_asked_about(cli, rows, unchanged):
    """'patient add' of someone already stored (same name and date of birth, words in any order and
    case) asks first, as an import refuses the row; off a terminal it needs --yes. Two different MRNs
    are two people."""
    assert cli("patient", "add", "Dmitri Smith-Jones", "--dob", "1955-11-02").exit_code == 0
    with unchanged():
        assert_one_line_error(
            cli("patient", "add", "smith-jones dmitri", "--dob", "11/02/1955"), 2,
            "#1 Dmitri Smith-Jones has the same name and date of birth: if this is another person, add --yes",
        )  # fmt: skip
    assert cli("patient", "add", "Dmitri Smith-Jones", "--dob", "1955-11-02", "--yes").exit_code == 0
    cli("patient", "add", "Ann Lee", "--dob", "1960-01-01", "--mrn", "A1")
    assert cli("patient", "add", "Ann Lee", "--dob", "1960-01-01", "--mrn", "B2").exit_code == 0
    assert cli("patient", "add", "Ann Lee", "--dob", "1961-01-01").exit_code == 0  # another birth date
    assert len(rows("SELECT id FROM patient")) == 5


def test_patient_show_is_the_whole_picture_on_one_page(cli):
    """The README's 'everything about Jane on one page': her open tasks, appointments ahead, open
    plans and a discharge in its 30-day period are on it (people and scripts)."""
    cli("patient", "add", "Jane Doe", "--mrn", "1")
    cli("transition", "add", "jane", "--discharged", "2026-11-20", "--from", "Mercy General Hospital")
    cli("task", "add", "Call cardiology", "--patient", "jane", "--due", "tomorrow")
    cli("appt", "add", "jane", "--start", "fri 10am", "--type", "home-visit")
    cli("plan", "add", "jane", "CHF self-management", "--status", "active")
    shown = " ".join(cli("patient", "show", "jane").stdout.split())
    for text in ("Open tasks", "Call cardiology", "Appointments, next 30 days", "Fri 2026-11-27 10:00-11:00",
                 "Care plans", "CHF self-management", "Transitions of care", "Mercy General Hospital"):  # fmt: skip
        assert text in shown, text
    record = json.loads(cli("patient", "show", "jane", "-f", "json").stdout)
    assert record["open_tasks"][0]["title"] == "TCM: interactive contact after discharge from Mercy General Hospital"
    assert [a["type"] for a in record["appointments"]] == ["home-visit"]
    assert [p["title"] for p in record["plans"]] == ["CHF self-management"]
    assert [t["facility"] for t in record["transitions"]] == ["Mercy General Hospital"]
