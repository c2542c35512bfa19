"""The agenda and the demo caseload."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing

import pytest

from tests.conftest import assert_one_line_error


@pytest.fixture
def day(cli):
    """Wednesday 2026-11-25 in New York (conftest's clock)."""
    steps = [
        ("patient", "add", "Jane Doe"),
        ("patient", "add", "Omar Haddad"),
        ("appt", "add", "jane", "--start", "2026-11-25 10:00", "--type", "home-visit", "--every", "weekly",
         "--location", "12 Elm St"),
        ("appt", "add", "omar", "--start", "2026-11-25 14:00", "--type", "phone", "--with", "son"),
        ("appt", "add", "omar", "--start", "2026-11-26 09:00", "--type", "pcp"),
        ("task", "add", "Refill", "--patient", "jane", "--due", "2026-11-23", "--priority", "urgent"),
        ("task", "add", "Forms", "--patient", "omar", "--due", "2026-11-25"),
        ("task", "add", "Call back", "--patient", "omar", "--due", "2026-11-26 11:00"),
        ("task", "add", "Done already", "--due", "2026-11-25"),
        ("task", "done", "4"),
        ("plan", "add", "jane", "CHF", "--status", "active", "--review", "2026-11-20"),
        ("plan", "add", "omar", "Diabetes", "--status", "active", "--review", "2026-11-26"),
        ("goal", "add", "1", "Weigh daily", "--target", "2026-11-25"),
        ("goal", "add", "2", "A1c below 8", "--target", "2027-03-01"),
    ]  # fmt: skip
    for step in steps:
        assert cli(*step).exit_code == 0, step
    return cli


def test_todays_agenda_as_json(day):
    agenda = json.loads(day("agenda", "-f", "json").stdout)
    assert (agenda["from"], agenda["to"]) == ("2026-11-25", "2026-11-25")
    [today] = agenda["days"]
    assert [(a["start"][11:16], a["patient_name"]) for a in today["appointments"]] == [
        ("10:00", "Jane Doe"), ("14:00", "Omar Haddad"),
    ]  # fmt: skip
    assert [(t["title"], t["overdue"]) for t in today["tasks"]] == [("Refill", True), ("Forms", False)]
    assert [p["title"] for p in today["reviews"]] == ["CHF"]
    assert [g["description"] for g in today["goals"]] == ["Weigh daily"]


def test_several_days(day):
    agenda = json.loads(day("agenda", "today", "--days", "3", "-f", "json").stdout)
    tomorrow = agenda["days"][1]
    assert tomorrow["date"] == "2026-11-26"
    assert [a["type"] for a in tomorrow["appointments"]] == ["pcp"]
    assert [t["title"] for t in tomorrow["tasks"]] == ["Call back"]
    assert [p["title"] for p in tomorrow["reviews"]] == ["Diabetes"]
    assert agenda["days"][2]["appointments"] == []


def test_a_later_first_day_carries_what_is_overdue(day):
    agenda = json.loads(day("agenda", "2026-11-27", "-f", "json").stdout)
    [first] = agenda["days"]
    assert {t["title"] for t in first["tasks"]} == {"Refill", "Forms", "Call back"}
    assert {p["title"] for p in first["reviews"]} == {"CHF", "Diabetes"}


def test_agenda_on_screen_and_as_markdown(day, tmp_path):
    screen = day("agenda").stdout
    for text in ("Agenda: Wednesday 25 November 2026", "10:00-11:00 Home visit: Jane Doe, 12 Elm St",
                 "Phone call: Omar Haddad", "Refill", "CHF", "Weigh daily"):  # fmt: skip
        assert text in screen, text
    markdown = day("agenda", "--format", "markdown").stdout
    assert markdown.startswith("# Agenda: Wednesday 25 November 2026\n")
    assert "- 14:00-14:30 Phone call: Omar Haddad, with son" in markdown
    assert "- [ ] #1 Refill (due 2026-11-23 · urgent · **overdue**) · Jane Doe" in markdown
    target = tmp_path / "agenda.md"
    assert day("agenda", "-f", "markdown", "--out", str(target)).stdout == ""
    assert target.read_text(encoding="utf-8") == markdown


def test_agenda_csv(day):
    rows = list(csv.DictReader(io.StringIO(day("agenda", "-f", "csv").stdout)))
    assert [(r["kind"], r["summary"]) for r in rows] == [
        ("appointment", "home-visit"), ("appointment", "phone"), ("task", "Refill"), ("task", "Forms"),
        ("review", "CHF"), ("contact due", "no successful contact"), ("contact due", "no successful contact"),
        ("goal", "Weigh daily"),
    ]  # fmt: skip
    # Booleans as every other CSV spells them (task list's included), not Python's True/False.
    assert [(r["summary"], r["overdue"]) for r in rows if r["kind"] in ("appointment", "task")] == [
        ("home-visit", "false"), ("phone", "false"), ("Refill", "true"), ("Forms", "false"),
    ]  # fmt: skip
    assert {r["overdue"] for r in rows} <= {"true", "false"}
    tasks = {r["title"]: r["overdue"] for r in csv.DictReader(io.StringIO(day("task", "list", "-f", "csv").stdout))}
    assert (tasks["Refill"], tasks["Forms"]) == ("true", "false")


def test_an_empty_day(cli):
    assert "Nothing scheduled." in cli("agenda").stdout


def test_bad_agenda_input(day):
    assert_one_line_error(day("agenda", "next blursday"), 1, "cannot read 'next blursday'")
    assert_one_line_error(day("agenda", "--days", "0"), 1, "--days")


def test_demo_builds_a_separate_caseload_and_shows_today(cli, db_file, tmp_path):
    before = db_file.read_bytes()
    run = cli("demo")
    assert run.exit_code == 0, run.stderr
    demo = tmp_path / "xdg" / "carecoord" / "demo.db"
    assert f"Demo caseload written to {demo}" in run.stdout
    assert "Agenda: Wednesday 25 November 2026" in run.stdout and "Home visit: Margaret O'Neill" in run.stdout
    assert db_file.read_bytes() == before  # the user's own database is untouched
    with closing(sqlite3.connect(demo)) as conn:
        assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 8
        assert conn.execute("SELECT count(*) FROM appointment WHERE rrule IS NOT NULL").fetchone()[0] == 2
    assert cli("demo").exit_code == 0  # rebuilt, not doubled
    with closing(sqlite3.connect(demo)) as conn:
        assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 8


def test_demo_has_calls_minutes_and_transitions_to_report(cli, tmp_path, monkeypatch):
    assert cli("demo").exit_code == 0
    monkeypatch.setenv("CARECOORD_DB", str(tmp_path / "xdg" / "carecoord" / "demo.db"))
    minutes = {r["patient_name"]: r["minutes"] for r in json.loads(cli("report", "minutes", "-f", "json").stdout)}
    assert len(minutes) == 8
    assert sum(m >= 20 for m in minutes.values()) >= 2
    assert sum(0 < m < 20 for m in minutes.values()) >= 2
    assert sum(m == 0 for m in minutes.values()) >= 1
    gaps = json.loads(cli("report", "contacts", "-f", "json").stdout)
    assert 1 <= len(gaps) < 8
    transitions = json.loads(cli("transition", "list", "-f", "json").stdout)
    assert sorted((t["contact_state"], t["visit_state"]) for t in transitions) == [("met", "met"), ("open", "open")]
    assert json.loads(cli("log", "list", "-f", "json").stdout)
    # program enrolments with consent (issue 15): CHI minutes reach G0019, minutes without consent are flagged
    enrolments = json.loads(cli("program", "list", "-f", "json").stdout)
    assert {(e["patient_name"], e["program"], e["consent"]) for e in enrolments} >= {
        ("Aisha Rahman", "chi", "verbal"),
        ("Margaret O'Neill", "ccm", "verbal"),
        ("Mei Chen", "apcm", "written"),
    }
    report = {r["patient_name"]: r for r in json.loads(cli("report", "minutes", "-f", "json").stdout)}
    assert report["Aisha Rahman"]["chi_codes"] == "G0019" and report["Mei Chen"]["apcm_code"] == "G0558"
    assert [name for name, r in report.items() if r["consent_missing"]] == ["Frank Kowalski"]


def test_demo_refuses_a_database_that_is_not_a_demo(cli, db_file):
    cli("patient", "add", "Real Person")
    assert_one_line_error(cli("demo", "--path", str(db_file)), 1, "your own database")


def test_a_long_overdue_list_is_counted_not_listed(cli, db_file):
    cli("patient", "add", "Jane Doe")
    with closing(sqlite3.connect(db_file)) as conn:
        conn.executemany(
            "INSERT INTO task (uid, created_at, updated_at, patient_id, title, status, priority, due_on, tags) "
            "VALUES (?, '2026-01-01', '2026-01-01', 1, ?, 'requested', 'routine', '2026-11-01', '')",
            [(f"u{n}", f"Old task {n}") for n in range(130)],
        )
        conn.commit()
    cli("task", "add", "Today's task", "--patient", "jane", "--due", "today")
    [day] = json.loads(cli("agenda", "-f", "json").stdout)["days"]
    assert len(day["tasks"]) == 101 and day["more_overdue"] == {"tasks": 30}
    assert "Today's task" in [t["title"] for t in day["tasks"]]
    assert "... and 30 more overdue tasks" in cli("agenda", "-f", "markdown").stdout


def test_long_overdue_reviews_and_targets_are_counted_and_this_weeks_still_listed(cli, db_file):
    cli("patient", "add", "Jane Doe")
    cli("patient", "add", "Gone Away")
    with closing(sqlite3.connect(db_file)) as conn:
        plans = [(f"p{n}", 1, f"Plan {n}", "active", f"2026-10-{1 + n % 28:02d}") for n in range(120)]
        plans += [("p-week", 1, "Plan due Friday", "active", "2026-11-27"), ("p-late", 1, "Plan next month", "active",
                  "2026-12-20"), ("p-gone", 2, "Discharged patient's plan", "active", "2026-10-01"),
                  ("p-done", 1, "Closed plan", "completed", "2026-10-01")]  # fmt: skip
        conn.executemany(
            "INSERT INTO care_plan (uid, created_at, updated_at, patient_id, title, status, needs, next_review) "
            "VALUES (?, '2026-01-01', '2026-01-01', ?, ?, ?, '', ?)",
            plans,
        )
        conn.executemany(
            "INSERT INTO goal (uid, created_at, updated_at, plan_id, patient_id, description, lifecycle_status, "
            "target_on) VALUES (?, '2026-01-01', '2026-01-01', 1, 1, ?, 'active', ?)",
            [(f"g{n}", f"Goal {n}", "2026-11-02") for n in range(105)]
            + [("g-week", "Goal due Thursday", "2026-11-26")],
        )
        conn.commit()
    cli("patient", "discharge", "gone away", "--reason", "moved")
    agenda = json.loads(cli("agenda", "--days", "7", "-f", "json").stdout)
    first, second, third = agenda["days"][:3]
    assert first["more_overdue"] == {"reviews": 20, "goals": 5}
    assert len(first["reviews"]) == 100 and len(first["goals"]) == 100
    assert first["reviews"][0]["next_review"] == "2026-10-01"  # the oldest first
    assert [r["title"] for r in third["reviews"]] == ["Plan due Friday"]
    assert [g["description"] for g in second["goals"]] == ["Goal due Thursday"]
    titles = {r["title"] for day in agenda["days"] for r in day["reviews"]}
    assert not titles & {"Plan next month", "Discharged patient's plan", "Closed plan"}
    assert "... and 20 more overdue reviews: see 'carecoord report overdue'" in cli("agenda", "-f", "markdown").stdout


def test_a_long_table_is_cut_but_json_is_complete(cli, db_file):
    with closing(sqlite3.connect(db_file)) as conn:
        conn.executemany(
            "INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags, coordinator) "
            "VALUES (?, '2026-01-01', '2026-01-01', ?, ?, 'active', '2026-01-01', '', 'me')",
            [(f"u{n}", f"P {n:04d}", f"p {n:04d}") for n in range(520)],
        )
        conn.commit()
    assert "... and 20 more" in cli("patient", "list").stdout
    assert len(json.loads(cli("patient", "list", "-f", "json").stdout)) == 520


def test_tomorrows_agenda_marks_a_task_due_today_overdue(cli):
    """On tomorrow's agenda a task due today is late by then, and says so (it read as merely due)."""
    cli("patient", "add", "Jane Doe")
    cli("task", "add", "Call Jane back", "--patient", "jane", "--due", "today")
    [day] = json.loads(cli("agenda", "tomorrow", "-f", "json").stdout)["days"]
    assert [(t["title"], t["overdue"]) for t in day["tasks"]] == [("Call Jane back", True)]
    [today] = json.loads(cli("agenda", "-f", "json").stdout)["days"]
    assert [(t["title"], t["overdue"]) for t in today["tasks"]] == [("Call Jane back", False)]
    assert "**overdue**" in cli("agenda", "tomorrow", "-f", "markdown").stdout
