"""Reports: care-management minutes, transitions of care, contacts, overdue work, the caseload."""

from __future__ import annotations

import csv
import io
import json

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from carecoord.clinical import CCM, COMPLEX_CCM
from tests.conftest import assert_one_line_error

# minutes -> (CCM codes, minutes to the next CCM unit, complex CCM codes)
LEVELS = {
    19: (None, 1, None),
    20: ("99490", 20, None),
    39: ("99490", 1, None),
    40: ("99490 + 99439 x1", 20, None),
    60: ("99490 + 99439 x2", None, "99487"),
}


@pytest.fixture
def month(cli):
    """Five patients logged 19, 20, 39, 40 and 60 minutes in November 2026, in several entries."""
    for name, minutes in zip(("Ann", "Bob", "Cy", "Di", "Ed"), LEVELS, strict=True):
        cli("patient", "add", f"{name} Test")
        first = minutes // 2
        cli("log", "add", name, "--when", "2026-11-02 10:00", "--minutes", str(first))
        cli(
            "log",
            "add",
            name,
            "--when",
            "2026-11-20 15:30",
            "--minutes",
            str(minutes - first),
            "--outcome",
            "no-answer",
        )
    cli("log", "add", "Ann", "--when", "2026-10-31 23:30", "--minutes", "30")  # October: not counted
    cli("patient", "add", "Fay Test")  # active, no minutes
    return cli


def test_minutes_land_on_the_right_code_level(month):
    rows = {
        r["patient_name"]: r for r in json.loads(month("report", "minutes", "--month", "2026-11", "-f", "json").stdout)
    }
    for name, (minutes, (ccm, to_next, complex_codes)) in zip(
        ("Ann", "Bob", "Cy", "Di", "Ed"), LEVELS.items(), strict=True
    ):
        row = rows[f"{name} Test"]
        assert row["minutes"] == minutes, name
        assert row["ccm_codes"] == ccm, name
        assert row["ccm_minutes_to_next"] == to_next, name
        assert row["complex_ccm_codes"] == complex_codes, name
    assert rows["Fay Test"]["minutes"] == 0 and rows["Fay Test"]["ccm_minutes_to_next"] == 20
    assert rows["Ed Test"]["complex_ccm_minutes_to_next"] == 30


def test_minutes_match_a_hand_count_and_the_month_boundary(month, rows):
    by_hand = rows(
        "SELECT p.name, SUM(c.minutes) AS total FROM communication c JOIN patient p ON p.id = c.patient_id "
        "WHERE c.at >= '2026-11-01 04:00:00' AND c.at < '2026-12-01 05:00:00' GROUP BY p.name"
    )  # New York's November, in UTC
    report = json.loads(month("report", "minutes", "--month", "2026-11", "-f", "json").stdout)
    assert {r["patient_name"]: r["minutes"] for r in report if r["minutes"]} == {r["name"]: r["total"] for r in by_hand}
    october = json.loads(month("report", "minutes", "--month", "2026-10", "-f", "json").stdout)
    assert [(r["patient_name"], r["minutes"]) for r in october if r["minutes"]] == [("Ann Test", 30)]


def test_days_left_in_the_month(month):
    # conftest's today is 2026-11-25: 25..30 November is 6 days
    [row] = json.loads(month("report", "minutes", "--month", "2026-11", "--patient", "Bob", "-f", "json").stdout)
    assert row["days_left"] == 6
    assert json.loads(month("report", "minutes", "--month", "2026-10", "-f", "json").stdout)[0]["days_left"] == 0


def test_minutes_table_and_chart(month):
    out = month("report", "minutes", "--month", "2026-11").stdout
    assert "99490 + 99439 x2" in out and "Minutes per week" in out and "week of Nov 02" in out
    data = list(csv.DictReader(io.StringIO(month("report", "minutes", "--month", "2026-11", "-f", "csv").stdout)))
    assert data[0]["patient_name"] == "Ed Test" and data[0]["ccm_codes"] == "99490 + 99439 x2"
    assert "| Ed Test | 60 |" in month("report", "minutes", "--month", "2026-11", "-f", "markdown").stdout


def test_minutes_per_week_split_at_local_midnight_on_mondays_across_the_dst_change(cli):
    cli("patient", "add", "Wk Test")
    for when, minutes in (("2026-02-28 23:59", 1),  # February: not counted
                          ("2026-03-01 00:00", 2),  # Sunday the 1st: week of Feb 23
                          ("2026-03-08 23:30", 4),  # Sunday, the day clocks went forward: week of Mar 02
                          ("2026-03-09 00:00", 8),  # Monday: week of Mar 09
                          ("2026-03-30 00:00", 16),  # Monday: week of Mar 30
                          ("2026-03-31 23:59", 32),  # the last minute of March: week of Mar 30
                          ("2026-04-01 00:00", 64)):  # April: not counted  # fmt: skip
        assert cli("log", "add", "wk", "--when", when, "--minutes", str(minutes)).exit_code == 0
    chart = cli("report", "minutes", "--month", "2026-03").stdout.split("Minutes per week")[1]
    weeks = [(" ".join(line.split()[:4]), line.split()[-2]) for line in chart.splitlines() if "week of" in line]
    assert weeks == [
        ("week of Feb 23", "2"),
        ("week of Mar 02", "4"),
        ("week of Mar 09", "8"),
        ("week of Mar 30", "48"),
    ]


@pytest.mark.parametrize("bad", ["2026-13", "2026", "november", "2026-00"])
def test_a_bad_month(month, bad):
    assert_one_line_error(month("report", "minutes", "--month", bad), 1, "as a month")


@given(st.integers(min_value=0, max_value=300))
def test_code_levels_for_any_minutes(minutes):
    base, addons = CCM.level(minutes)
    assert base == (minutes >= 20) and addons == (min((minutes - 20) // 20, 2) if minutes >= 20 else 0)
    complex_base, complex_addons = COMPLEX_CCM.level(minutes)
    assert complex_base == (minutes >= 60)
    assert complex_addons == ((minutes - 60) // 30 if minutes >= 60 else 0)
    following = CCM.minutes_to_next(minutes)
    if following is not None:
        assert sum(CCM.level(minutes + following)) == base + addons + 1
        assert sum(CCM.level(minutes + following - 1)) == base + addons


@pytest.fixture
def discharged(cli):
    cli("patient", "add", "Jane Doe")
    run = cli(
        "transition", "add", "jane", "--discharged", "2026-11-20", "--from", "Mercy Hospital", "--complexity", "high"
    )
    assert run.exit_code == 0, run.stderr
    return cli


def test_a_friday_discharge_has_its_contact_deadline_on_tuesday(discharged, rows):
    [transition] = rows("SELECT discharged_on, contact_due, visit_due FROM transition")
    assert transition == {"discharged_on": "2026-11-20", "contact_due": "2026-11-24", "visit_due": "2026-11-27"}
    tasks = rows("SELECT title, due_on, priority, tags FROM task ORDER BY id")
    assert [(t["due_on"], t["priority"], t["tags"]) for t in tasks] == [
        ("2026-11-24", "urgent", "tcm"), ("2026-11-27", "urgent", "tcm"),
    ]  # fmt: skip
    assert "99496" in tasks[1]["title"]


def test_moderate_complexity_gives_fourteen_days(cli, rows):
    cli("patient", "add", "Jane Doe")
    cli("transition", "add", "jane", "--discharged", "2026-11-18", "--from", "Rehab")
    assert rows("SELECT contact_due, visit_due FROM transition") == [
        {"contact_due": "2026-11-20", "visit_due": "2026-12-02"}
    ]


def test_deadlines_met_missed_and_open(discharged):
    # no contact by Tuesday 24th (today is the 25th): missed; the visit (due the 27th) still open
    [row] = json.loads(discharged("report", "transitions", "-f", "json").stdout)
    assert (row["contact_state"], row["visit_state"]) == ("missed", "open")
    discharged("log", "add", "jane", "--when", "2026-11-23 10:00", "--outcome", "reached", "--channel", "phone")
    discharged("log", "add", "jane", "--when", "2026-11-24 10:00", "--outcome", "reached", "--channel", "visit")
    [row] = json.loads(discharged("transition", "list", "-f", "json").stdout)
    assert (row["contact_state"], row["contact_done"], row["visit_state"], row["visit_done"]) == (
        "met", "2026-11-23", "met", "2026-11-24",
    )  # fmt: skip
    assert "met 2026-11-23" in discharged("report", "transitions").stdout


def test_a_late_contact_and_a_fulfilled_visit(discharged):
    discharged("log", "add", "jane", "--when", "2026-11-25 08:00", "--outcome", "reached")
    discharged("appt", "add", "jane", "--yes", "--start", "2026-11-25 09:00", "--type", "home-visit")
    discharged("appt", "done", "1")
    [row] = json.loads(discharged("report", "transitions", "-f", "json").stdout)
    assert (row["contact_state"], row["visit_state"], row["visit_done"]) == ("late", "met", "2026-11-25")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("transition", "add", "jane", "--discharged", "tomorrow", "--from", "X"), "in the future"),
        (("transition", "add", "jane", "--discharged", "next blursday", "--from", "X"), "cannot read"),
        (("transition", "add", "jane", "--discharged", "-1d", "--from", ""), "facility must not be empty"),
        (
            ("transition", "add", "jane", "--discharged", "-1d", "--from", "X", "--complexity", "low"),
            "invalid complexity 'low': use one of moderate, high",
        ),
    ],
)
def test_bad_transition_input(discharged, unchanged, args, fragment):
    with unchanged():
        assert_one_line_error(discharged(*args), 1, fragment)


def test_the_contacts_report_lists_exactly_those_not_reached(cli):
    for name in ("Ann Reached", "Bob Tried", "Cy Never", "Di Old", "Ed Gone"):
        cli("patient", "add", name)
    for step in (
        ("log", "add", "Ann Reached", "--when", "-3d 10am", "--outcome", "reached"),
        ("log", "add", "Bob Tried", "--when", "-2d 10am", "--outcome", "no-answer"),
        ("log", "add", "Bob Tried", "--when", "-60d 10am", "--outcome", "reached"),
        ("log", "add", "Di Old", "--when", "-45d 10am", "--outcome", "reached"),
        ("log", "add", "Ed Gone", "--when", "-45d 10am", "--outcome", "left-message"),
        ("patient", "discharge", "Ed Gone"),
    ):
        assert cli(*step).exit_code == 0, step
    gaps = json.loads(cli("report", "contacts", "--days", "30", "-f", "json").stdout)
    assert sorted(g["patient_name"] for g in gaps) == ["Bob Tried", "Cy Never", "Di Old"]
    bob = next(g for g in gaps if g["patient_name"] == "Bob Tried")
    assert (bob["last_outcome"], bob["days_since_reached"]) == ("no-answer", 60)
    assert next(g for g in gaps if g["patient_name"] == "Cy Never")["last_reached"] is None
    assert [g["patient_name"] for g in json.loads(cli("report", "contacts", "--days", "50", "-f", "json").stdout)] == [
        "Cy Never", "Bob Tried",
    ]  # fmt: skip


def test_overdue_report(cli):
    cli("patient", "add", "Jane Doe")
    cli("task", "add", "Late task", "--patient", "jane", "--due", "-3d")
    cli("plan", "add", "jane", "CHF", "--status", "active", "--review", "-1d")
    cli("goal", "add", "1", "Late goal", "--target", "-2d")
    cli("task", "add", "Future task", "--patient", "jane", "--due", "+3d")
    items = json.loads(cli("report", "overdue", "-f", "json").stdout)
    assert [(i["kind"], i["title"], i["days_overdue"]) for i in items] == [
        ("task", "Late task", 3), ("goal", "Late goal", 2), ("plan review", "CHF", 1),
    ]  # fmt: skip


def test_caseload_report(cli):
    cli("patient", "add", "A", "--risk", "high", "--enrolled", "2026-11-03")
    cli("patient", "add", "B", "--risk", "high")
    cli("patient", "add", "C", "--risk", "low", "--enrolled", "2026-01-01")
    cli("patient", "add", "D", "--enrolled", "2026-01-01")
    cli("patient", "discharge", "D", "--date", "2026-11-10")
    cli("appt", "add", "A", "--yes", "--start", "2026-11-10 10:00")
    cli("appt", "done", "1")
    cli("appt", "add", "B", "--yes", "--start", "2026-11-11 10:00")
    cli("appt", "noshow", "2")
    cli("appt", "add", "C", "--yes", "--start", "2026-11-12 10:00")
    cli("appt", "cancel", "3")
    report = json.loads(cli("report", "caseload", "--from", "2026-11-01", "--to", "2026-11-30", "-f", "json").stdout)
    assert report["active_by_risk"] == {"high": 2, "low": 1}
    assert report["patients_by_status"] == {"active": 3, "discharged": 1}
    assert (report["enrolled"], report["discharged"]) == (2, 1)
    assert report["appointments"] == {"kept": 1, "cancelled": 1, "missed": 1, "booked": 0}
    table = cli("report", "caseload", "--from", "2026-11-01", "--to", "2026-11-30").stdout
    assert "Active patients by risk" in table and "appointments kept" in table


def test_agenda_shows_contacts_due_and_transition_deadlines(discharged):
    day = json.loads(discharged("agenda", "--days", "3", "-f", "json").stdout)["days"]
    assert [c["patient_name"] for c in day[0]["contacts_due"]] == ["Jane Doe"]
    # each deadline once: as its follow-up task, or as the deadline when that task was deleted
    assert [(t["id"], t["overdue"]) for t in day[0]["tasks"]] == [(1, True)]
    assert all(d["transition_deadlines"] == [] for d in day)
    discharged("task", "delete", "1", "--yes")
    day = json.loads(discharged("agenda", "--days", "3", "-f", "json").stdout)["days"]
    assert day[0]["tasks"] == []
    assert [(t["deadline"], t["contact_state"]) for t in day[0]["transition_deadlines"]] == [("contact", "missed")]
    assert [t["id"] for t in day[2]["tasks"]] == [2] and day[2]["transition_deadlines"] == []


def test_minutes_report_points_at_entries_over_two_hours(cli):
    for name in ("Ann Test", "Bob Test"):
        cli("patient", "add", name)
    cli("log", "add", "Ann", "--when", "2026-11-03 10:00", "--minutes", "150")  # #1: worth a look
    cli("log", "add", "Ann", "--when", "2026-11-04 10:00", "--minutes", "120")  # #2: the limit itself is fine
    cli("log", "add", "Bob", "--when", "2026-11-05 10:00", "--minutes", "4h", "--force")  # #3
    cli("log", "add", "Bob", "--when", "2026-10-30 10:00", "--minutes", "200")  # #4: October
    report = {
        r["patient_name"]: r for r in json.loads(cli("report", "minutes", "--month", "2026-11", "-f", "json").stdout)
    }
    assert report["Ann Test"]["long_entries"] == [1] and report["Bob Test"]["long_entries"] == [3]
    data = {r["patient_name"]: r for r in csv.DictReader(io.StringIO(cli("report", "minutes", "-f", "csv").stdout))}
    assert data["Ann Test"]["long_entries"] == "1" and data["Bob Test"]["long_entries"] == "3"
    table = cli("report", "minutes").stdout
    # log entry ids, said so: the table's ID column is the patient's
    assert ("Over 120 min in one entry, check before billing: log entry #1 (Ann Test, 2026-11-03, 150 min), "
            "log entry #3 (Bob Test, 2026-11-05, 240 min).") in " ".join(table.split())  # fmt: skip
    note = table[table.index("Over 120") :].split("\n\n")[0]
    assert max(len(line) for line in note.splitlines()) < 80  # wrapped to the terminal
    assert "log entry #3 (Bob Test" in cli("report", "minutes", "-f", "markdown").stdout
    october_table = " ".join(cli("report", "minutes", "--month", "2026-10").stdout.split())
    assert "check before billing: log entry #4 (Bob Test, 2026-10-30, 200 min)." in october_table
    assert "check before billing" not in cli("report", "minutes", "--month", "2026-09").stdout
    october = json.loads(cli("report", "minutes", "--month", "2026-10", "-f", "json").stdout)
    assert {r["patient_name"]: r["long_entries"] for r in october} == {"Ann Test": [], "Bob Test": [4]}


def test_report_titles_count_one_day_and_one_patient(cli):
    cli("patient", "add", "Ann Test")
    with time_machine.travel("2026-11-30T15:00:00Z", tick=False):
        title = " ".join(cli("report", "minutes").stdout.split("\n\n")[0].split())  # the title wraps at 80
    assert "0 of 1 patient at 99490 or more, 1 day left" in title
    assert cli("report", "contacts", "--days", "1").stdout.startswith("Not reached in 1 day (1)")


@pytest.fixture
def two_smiths(cli):
    """Two patients of the same name, told apart by id and phone; one logged 25 minutes."""
    for step in (
        ("patient", "add", "John Smith", "--dob", "1948-02-01", "--phone", "555-0100"),
        ("patient", "add", "John Smith", "--dob", "1961-09-30", "--phone", "555-0199"),
        ("log", "add", "#2", "--when", "2026-11-20 10:00", "--minutes", "25", "--outcome", "no-answer"),
    ):
        assert cli(*step).exit_code == 0, step
    return cli


def test_the_contacts_report_says_who_and_how_to_reach_them(two_smiths):
    table = two_smiths("report", "contacts").stdout.splitlines()
    assert table[2].split() == ["ID", "Patient", "Phone", "Risk", "Last", "reached", "Days", "Last", "attempt"]
    assert table[4].split()[:4] == ["1", "John", "Smith", "555-0100"]
    assert table[5].split()[:4] == ["2", "John", "Smith", "555-0199"]
    markdown = two_smiths("report", "contacts", "-f", "markdown").stdout
    assert "| ID | Patient | Phone |" in markdown and "| 1 | John Smith | 555-0100 |" in markdown
    assert "| 2 | John Smith | 555-0199 |" in markdown
    data = json.loads(two_smiths("report", "contacts", "-f", "json").stdout)
    # scripts get the stored form, E.164 (issue 15); people read it in national format above
    assert [(g["patient_id"], g["phone"]) for g in data] == [(1, "+15550100"), (2, "+15550199")]
    sheet = list(csv.DictReader(io.StringIO(two_smiths("report", "contacts", "-f", "csv").stdout)))
    assert [(r["patient_id"], r["phone"]) for r in sheet] == [("1", "+15550100"), ("2", "+15550199")]


def test_the_minutes_report_shows_the_patient_id(two_smiths):
    table = two_smiths("report", "minutes").stdout.split("\n\n")[1].splitlines()  # after the title
    assert table[0].split()[:3] == ["ID", "Patient", "Min"]
    rows = [line.split()[:4] for line in table if line[:1].isdigit()]  # the header may take two lines at 80 columns
    assert rows == [["2", "John", "Smith", "25"], ["1", "John", "Smith", "0"]]
    markdown = two_smiths("report", "minutes", "-f", "markdown").stdout
    assert "| 2 | John Smith | 25 |" in markdown and "| 1 | John Smith | 0 |" in markdown
    data = json.loads(two_smiths("report", "minutes", "-f", "json").stdout)
    assert [(r["patient_id"], r["minutes"]) for r in data] == [(2, 25), (1, 0)]
    sheet = list(csv.DictReader(io.StringIO(two_smiths("report", "minutes", "-f", "csv").stdout)))
    assert [(r["patient_id"], r["minutes"]) for r in sheet] == [("2", "25"), ("1", "0")]


def test_the_agenda_says_who_is_due_for_contact_and_their_phone(two_smiths):
    markdown = two_smiths("agenda", "-f", "markdown").stdout
    assert "- #1 John Smith · never reached · 555-0100\n" in markdown
    assert "- #2 John Smith · never reached · 555-0199\n" in markdown
    assert "- #1 John Smith · never reached · 555-0100\n" in two_smiths("agenda").stdout
    [day] = json.loads(two_smiths("agenda", "-f", "json").stdout)["days"]
    assert [(c["patient_id"], c["phone"]) for c in day["contacts_due"]] == [(1, "+15550100"), (2, "+15550199")]
    sheet = list(csv.DictReader(io.StringIO(two_smiths("agenda", "-f", "csv").stdout)))
    assert [(r["kind"], r["patient"], r["patient_id"], r["phone"]) for r in sheet] == [
        ("contact due", "John Smith", "1", "+15550100"), ("contact due", "John Smith", "2", "+15550199"),
    ]  # fmt: skip


def test_who_and_phone_cost_no_query_per_patient(two_smiths):
    """The id and phone come with the rows already read: the same statements for 2 patients as for 6."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def counts() -> list[int]:
        found = []
        for args in (("report", "contacts"), ("report", "minutes"), ("agenda", "-f", "csv")):
            statements.clear()
            assert two_smiths(*args).exit_code == 0
            found.append(len(statements))
        return found

    event.listen(Engine, "before_cursor_execute", count)
    try:
        few = counts()
        assert all(few), few
        for n in range(4):
            two_smiths("patient", "add", f"Extra Patient {n}", "--phone", f"555-010{n}")
        assert counts() == few
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_markdown_reports_carry_the_derived_columns(eve):
    eve("log", "add", "eve", "--minutes", "25")
    eve("transition", "add", "gus", "--discharged", "2026-11-20", "--from", "General")
    assert "| Eve Adams | 25 | 99490 | 15 min more |" in eve("report", "minutes", "-f", "markdown").stdout
    assert "MISSED (due 2026-11-24)" in eve("report", "transitions", "-f", "markdown").stdout
    assert "| never |" in eve("report", "contacts", "-f", "markdown").stdout


def test_discharged_patients_leave_the_work_lists(eve):
    eve("task", "add", "Old task", "--patient", "gus", "--due", "-3d")
    eve("plan", "add", "gus", "Plan", "--status", "active", "--review", "-2d")
    assert len(json.loads(eve("report", "overdue", "-f", "json").stdout)) == 2
    eve("patient", "discharge", "gus")
    assert json.loads(eve("report", "overdue", "-f", "json").stdout) == []
    assert json.loads(eve("agenda", "-f", "json").stdout)["days"][0]["tasks"] == []
    assert json.loads(eve("report", "caseload", "-f", "json").stdout)["open_tasks"] == 0


@pytest.mark.parametrize("month", ["26-11", "0001-01", "9999-12", "2026-1", "2026-11-01"])
def test_months_out_of_reach_are_refused(eve, month):
    assert_one_line_error(eve("report", "minutes", "--month", month), 1, "as a month")


def test_a_huge_contact_window_is_refused(eve):
    assert_one_line_error(eve("report", "contacts", "--days", "99999999"), 1, "--days")


def test_a_code_level_not_reached_is_null_for_scripts_and_a_dash_for_people(month):
    """Empty fields are null in JSON (README): a month short of a code says null, the table '-'."""
    [ann] = [r for r in json.loads(month("report", "minutes", "--month", "2026-11", "-f", "json").stdout)
             if r["patient_name"] == "Ann Test"]  # fmt: skip
    assert (ann["ccm_codes"], ann["complex_ccm_codes"], ann["chi_codes"]) == (None, None, None)
    table = month("report", "minutes", "--month", "2026-11").stdout
    assert next(line for line in table.splitlines() if "Ann Test" in line).split()[4] == "-"
