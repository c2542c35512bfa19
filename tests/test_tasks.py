"""Tasks through the CLI: urgency order, due windows, status changes and recurring series."""

from __future__ import annotations

import json

import pytest
import time_machine

from tests.conftest import assert_one_line_error


def ids(run):
    return [t["id"] for t in json.loads(run.stdout)]


@pytest.fixture
def tasks(cli):
    """Today is Wednesday 2026-11-25 (see conftest)."""
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    cli("patient", "add", "Omar Haddad", "--mrn", "MRN-2")
    steps = [
        ("task", "add", "Call pharmacy", "--patient", "jane", "--due", "2026-11-20"),  # 1 overdue routine
        ("task", "add", "Fax PCP", "--patient", "omar", "--due", "yesterday", "--priority", "stat"),  # 2 overdue stat
        ("task", "add", "Check BP log", "--patient", "jane", "--due", "today", "--priority", "urgent"),  # 3
        ("task", "add", "Renew license", "--due", "+10d", "--tag", "admin"),  # 4 no patient
        ("task", "add", "Ask about stairs", "--patient", "omar"),  # 5 no due date
        ("task", "add", "Send forms", "--patient", "omar", "--due", "fri 2pm", "--priority", "asap"),  # 6
    ]  # fmt: skip
    for step in steps:
        assert cli(*step).exit_code == 0, step
    return cli


def test_default_list_is_open_tasks_by_urgency(tasks):
    # overdue first (stat before routine), then by priority, then by due date; no due date last
    assert ids(tasks("task", "list", "-f", "json")) == [2, 1, 6, 3, 4, 5]


def test_due_overdue_is_exactly_the_overdue_open_tasks(tasks):
    tasks("task", "done", "2")
    overdue = json.loads(tasks("task", "list", "--due", "overdue", "--format", "json").stdout)
    assert [t["id"] for t in overdue] == [1]
    assert all(t["overdue"] for t in overdue)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("today", [3]),
        ("week", [2, 1, 6, 3]),
        ("today..fri", [6, 3]),
        ("..yesterday", [2, 1]),
        ("2026-12-01..", [4]),
    ],
)
def test_due_windows(tasks, window, expected):
    assert ids(tasks("task", "list", "--due", window, "-f", "json")) == expected


def test_filters(tasks):
    assert ids(tasks("task", "list", "--patient", "omar", "-f", "json")) == [2, 6, 5]
    assert ids(tasks("task", "list", "--priority", "stat", "-f", "json")) == [2]
    assert ids(tasks("task", "list", "--tag", "admin", "-f", "json")) == [4]
    tasks("task", "cancel", "4")
    assert ids(tasks("task", "list", "--status", "cancelled", "-f", "json")) == [4]
    assert len(ids(tasks("task", "list", "--all", "-f", "json"))) == 6


def test_task_record_has_time_and_patient(tasks):
    [send] = [t for t in json.loads(tasks("task", "list", "-f", "json").stdout) if t["id"] == 6]
    assert (send["due_on"], send["due_time"], send["patient_name"]) == ("2026-11-27", "14:00", "Omar Haddad")


def test_status_changes(tasks, rows):
    assert tasks("task", "start", "3").exit_code == 0
    assert tasks("task", "hold", "3", "--note", "waiting for cuff").exit_code == 0
    assert rows("SELECT status, status_reason FROM task WHERE id = 3") == [
        {"status": "on-hold", "status_reason": "waiting for cuff"}
    ]
    run = tasks("task", "done", "3", "--note", "BP fine")
    assert run.exit_code == 0 and run.stdout.strip() == "Task #3 Check BP log done."
    [stored] = rows("SELECT status, status_reason, completed_at FROM task WHERE id = 3")
    assert stored["status"] == "completed" and stored["status_reason"] == "BP fine" and stored["completed_at"]
    assert tasks("task", "reopen", "3").exit_code == 0
    assert rows("SELECT status, completed_at FROM task WHERE id = 3") == [{"status": "requested", "completed_at": None}]


def test_edit_and_delete(tasks, rows):
    assert tasks("task", "edit", "4", "--title", "Renew RN license", "--due", "2026-12-15 9am",
                 "--add-tag", "urgent-admin", "--priority", "urgent").exit_code == 0  # fmt: skip
    assert rows("SELECT title, due_on, due_time, priority, tags FROM task WHERE id = 4") == [
        {"title": "Renew RN license", "due_on": "2026-12-15", "due_time": "09:00:00.000000",
         "priority": "urgent", "tags": "admin,urgent-admin"}
    ]  # fmt: skip
    assert tasks("task", "delete", "4", "--yes").exit_code == 0
    assert rows("SELECT id FROM task WHERE id = 4") == []


def test_task_under_a_goal_takes_its_plan_and_patient(cli, rows):
    cli("patient", "add", "Jane Doe")
    cli("plan", "add", "jane", "Diabetes", "--status", "active")
    cli("goal", "add", "1", "A1c below 8")
    assert cli("task", "add", "Order A1c", "--goal", "1").exit_code == 0
    assert rows("SELECT patient_id, plan_id, goal_id FROM task") == [{"patient_id": 1, "plan_id": 1, "goal_id": 1}]


def test_completing_a_monthly_task_due_on_31_january(cli, rows):
    assert cli("task", "add", "Med reconciliation", "--due", "2027-01-31", "--every", "monthly").exit_code == 0
    run = cli("task", "done", "1")
    assert run.stdout.strip() == "Task #1 Med reconciliation done. Next: #2 due 2027-03-31."
    assert rows("SELECT due_on, rrule, series_id, status FROM task WHERE id = 2") == [
        {"due_on": "2027-03-31", "rrule": "FREQ=MONTHLY", "series_id": 1, "status": "requested"}
    ]


def test_a_month_end_task_lands_on_the_last_day(cli, rows):
    cli("task", "add", "Month-end report", "--due", "2028-01-31", "--every", "month-end")
    cli("task", "done", "1")
    assert rows("SELECT due_on FROM task WHERE id = 2") == [{"due_on": "2028-02-29"}]


@pytest.mark.parametrize(
    ("due", "expected"),
    [("2027-03-08 10:00", "2027-03-15"), ("2026-10-29 10:00", "2026-11-05")],  # spring forward, fall back
)
def test_a_weekly_task_across_a_dst_change_keeps_its_local_time(cli, due, expected):
    cli("task", "add", "Weekly call", "--due", due, "--every", "weekly")
    cli("task", "done", "1")
    following = json.loads(cli("task", "show", "2", "-f", "json").stdout)
    assert (following["due_on"], following["due_time"]) == (expected, "10:00")


def test_skip_and_the_chain_in_task_show(cli):
    cli("task", "add", "Weekly weigh-in", "--due", "2026-11-23", "--every", "weekly")
    assert cli("task", "skip", "1", "--note", "in hospital").stdout.strip() == (
        "Task #1 Weekly weigh-in skipped. Next: #2 due 2026-11-30."
    )
    cli("task", "done", "2")
    shown = json.loads(cli("task", "show", "3", "-f", "json").stdout)
    assert [(t["id"], t["due_on"], t["status"]) for t in shown["series"]] == [
        (1, "2026-11-23", "cancelled"), (2, "2026-11-30", "completed"), (3, "2026-12-07", "requested"),
    ]  # fmt: skip
    assert shown["series"][0]["status_reason"] == "in hospital"
    table = cli("task", "show", "3").stdout
    assert "Series" in table and "in hospital" in table


def test_weekdays_series_skips_the_weekend(cli, rows):
    cli("task", "add", "Morning check-in", "--due", "2026-11-27", "--every", "weekdays")
    cli("task", "done", "1")
    assert rows("SELECT due_on FROM task WHERE id = 2") == [{"due_on": "2026-11-30"}]


def test_ending_a_series_is_one_command(cli, rows):
    cli("task", "add", "Daily call", "--due", "today", "--every", "daily")
    assert cli("task", "end-series", "1").stdout.strip() == "Task #1 Daily call no longer repeats."
    assert cli("task", "done", "1").exit_code == 0
    assert rows("SELECT count(*) AS n FROM task") == [{"n": 1}]


def test_a_counted_series_says_when_it_ends(cli):
    cli("task", "add", "Post-discharge calls", "--due", "today", "--every", "FREQ=DAILY;COUNT=2")
    assert "Next: #2" in cli("task", "done", "1").stdout
    assert cli("task", "done", "2").stdout.strip().endswith("The series has ended.")


def test_a_recurring_task_without_a_due_date_starts_today(cli, rows):
    cli("task", "add", "Daily log", "--every", "daily")
    assert rows("SELECT due_on, repeat_from FROM task") == [{"due_on": "2026-11-25", "repeat_from": "2026-11-25"}]


def test_overdue_is_judged_in_the_users_zone(cli):
    cli("task", "add", "Due today in New York", "--due", "2026-11-25")
    # 03:00 UTC on the 26th is still the evening of the 25th in New York
    with time_machine.travel("2026-11-26T03:00:00Z", tick=False):
        assert json.loads(cli("task", "list", "--due", "overdue", "-f", "json").stdout) == []


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("task", "add", "X", "--due", "next blursday"), 1, "cannot read 'next blursday'"),
        (("task", "add", "X", "--goal", "99"), 1, "no goal matches '99'"),
        (("task", "add", "X", "--every", "sometimes"), 1, "cannot read 'sometimes' as a repeat rule"),
        (("task", "add", "X", "--priority", "whenever"), 1, "invalid priority 'whenever': use one of routine"),
        (("task", "edit", "1", "--priority", ""), 1, "priority cannot be cleared"),
        (("task", "add", "  "), 1, "title must not be empty"),
        (("task", "add", "X", "--patient", "nobody"), 1, "no patient matches"),
        (("task", "list", "--due", "someday"), 1, "cannot read --due 'someday'"),
        (("task", "done", "99"), 1, "no task matches '99'"),
        (("task", "reopen", "1"), 1, "task #1 is already open"),
        (("task", "skip", "1"), 1, "does not repeat"),
        (("task", "end-series", "1"), 1, "does not repeat"),
        (("task", "delete", "1"), 2, "--yes"),
        (("task", "edit", "1"), 2, "nothing to change"),
    ],
)
def test_bad_task_input(tasks, unchanged, args, code, fragment):
    with unchanged():
        assert_one_line_error(tasks(*args), code, fragment)


def test_a_finished_task_cannot_be_started_without_reopening(tasks, unchanged):
    tasks("task", "done", "1")
    with unchanged():
        assert_one_line_error(tasks("task", "start", "1"), 1, "is completed and cannot become in-progress (reopen it")


def test_a_long_task_table_fetches_only_what_it_shows(cli, db_file):
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db_file)) as conn:
        conn.executemany(
            "INSERT INTO task (uid, created_at, updated_at, title, status, priority, due_on, tags) "
            "VALUES (?, '2026-01-01', '2026-01-01', ?, 'requested', 'routine', '2026-11-20', '')",
            [(f"u{n}", f"Task {n}") for n in range(510)],
        )
        conn.commit()
    table = cli("task", "list").stdout
    assert table.startswith("Tasks (510)") and "... and 10 more" in table
    assert len(json.loads(cli("task", "list", "-f", "json").stdout)) == 510
    assert "more" not in cli("task", "list", "--limit", "5").stdout


def test_a_rule_that_runs_once_says_once(cli):
    run = cli("task", "add", "Weigh in", "--due", "tomorrow", "--every", "FREQ=DAILY;COUNT=1", "-f", "json")
    assert json.loads(run.stdout)["repeat_text"] == "every day, once"


def test_an_ended_task_series_stays_ended(jane, rows):
    jane("task", "add", "Weekly call", "--due", "2026-11-16", "--every", "weekly")
    jane("task", "done", "1")  # creates #2 due 11-23
    jane("task", "end-series", "2")
    jane("task", "reopen", "1")
    jane("task", "done", "1")
    assert rows("SELECT id, due_on FROM task ORDER BY id") == [
        {"id": 1, "due_on": "2026-11-16"},
        {"id": 2, "due_on": "2026-11-23"},
    ]


def test_a_recompleted_task_does_not_duplicate_the_next(jane, rows):
    jane("task", "add", "Weekly call", "--due", "2026-11-16", "--every", "weekly")
    jane("task", "done", "1")
    jane("task", "reopen", "1")
    assert "Next: #2" in jane("task", "done", "1").stdout
    assert len(rows("SELECT id FROM task")) == 2
