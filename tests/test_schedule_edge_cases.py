"""Schedule and recurrence edge cases found by trying the tool hard."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import assert_one_line_error
from tests.other_calendar import occurrences


def listing(cli, *args):
    return json.loads(cli("appt", "list", *args, "-f", "json").stdout)


@pytest.fixture
def jane(cli):
    cli("patient", "add", "Jane Doe")
    return cli


@pytest.mark.parametrize(
    "rule",
    ["FREQ=WEEKLY;INTERVAL=0", "FREQ=DAILY;COUNT=0", "FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2", "FREQ=WEEKLY;UNTIL=soon"],
)
def test_rules_that_never_end_well_are_refused(jane, unchanged, rule):
    with unchanged():
        assert_one_line_error(jane("task", "add", "Y", "--due", "2026-12-14", "--every", rule), 1)
        assert_one_line_error(jane("appt", "add", "jane", "--start", "2026-12-14 10:00", "--every", rule), 1)


@pytest.mark.parametrize("until", ["20261230", "20261230T000000Z", "20261230T120000"])
def test_until_in_any_rfc_form(jane, until, rows):
    assert jane("task", "add", "Y", "--due", "2026-12-14", "--every", f"FREQ=WEEKLY;UNTIL={until}").exit_code == 0
    assert (
        jane("appt", "add", "jane", "--start", "2026-12-14 10:00", "--every", f"FREQ=WEEKLY;UNTIL={until}").exit_code
        == 0
    )
    assert [s["start"][:10] for s in listing(jane, "--from", "2026-12-01", "--to", "2027-01-31")] == [
        "2026-12-14", "2026-12-21", "2026-12-28",
    ]  # fmt: skip
    jane("task", "done", "1")
    jane("task", "done", "2")
    assert jane("task", "done", "3").stdout.strip().endswith("The series has ended.")


def test_a_series_must_start_on_one_of_its_days(jane, unchanged):
    with unchanged():
        run = jane("appt", "add", "jane", "--start", "2026-12-02 10:00", "--every", "every mon,thu", "--count", "4")
        assert_one_line_error(run, 1, "Wed 2026-12-02 is not a day of this series (first: Thu 2026-12-03)")


def test_the_export_never_shows_an_occurrence_that_appt_list_does_not(jane, tmp_path):
    jane("appt", "add", "jane", "--start", "2026-12-03 10:00", "--every", "every mon,thu", "--count", "4")
    target = tmp_path / "x.ics"
    jane("export", "ics", "--from", "2026-12-01", "--to", "2026-12-31", "--out", str(target))
    ny = ZoneInfo("America/New_York")
    window = (datetime(2026, 12, 1, tzinfo=ny), datetime(2027, 1, 1, tzinfo=ny))
    expanded = sorted(e.start.isoformat() for e in occurrences(target.read_bytes(), *window))
    assert expanded == [s["start"] for s in listing(jane, "--from", "2026-12-01", "--to", "2026-12-31")]


def test_moving_an_until_series_keeps_all_its_visits(jane):
    jane("appt", "add", "jane", "--start", "2027-03-04 10:00", "--every", "weekly", "--until", "2027-03-25")
    assert jane("appt", "move", "1", "--to", "2027-03-05 10:00").exit_code == 0
    assert [s["start"][:10] for s in listing(jane, "--from", "2027-03-01", "--to", "2027-04-30")] == [
        "2027-03-05", "2027-03-12", "2027-03-19", "2027-03-26",
    ]  # fmt: skip


def test_done_means_the_visit_taking_place_that_day(jane):
    jane("appt", "add", "jane", "--yes", "--start", "2026-11-17 09:00", "--every", "weekly", "--count", "3")
    jane("appt", "move", "1", "--occurrence", "2026-11-24", "--to", "2026-11-26 09:00")
    jane("appt", "move", "1", "--occurrence", "2026-11-17", "--to", "2026-11-24 07:00")
    assert jane("appt", "done", "1", "--occurrence", "2026-11-24").exit_code == 0
    statuses = {s["start"][:16]: s["status"] for s in listing(jane, "--from", "2026-11-17", "--to", "2026-12-31")}
    assert statuses == {"2026-11-24T07:00": "fulfilled", "2026-11-26T09:00": "booked", "2026-12-01T09:00": "booked"}


def test_times_are_typed_and_read_in_the_users_zone(jane):
    jane("appt", "add", "jane", "--start", "2026-12-01 15:00", "--tz", "Europe/London", "--type", "telehealth")
    [sitting] = listing(jane, "--from", "2026-12-01", "--to", "2026-12-01")
    assert sitting["start"] == "2026-12-01T10:00:00-05:00"
    jane("appt", "move", "1", "--to", "2026-12-01 11:00")
    [sitting] = listing(jane, "--from", "2026-12-01", "--to", "2026-12-01")
    assert sitting["start"] == "2026-12-01T11:00:00-05:00" and sitting["tz"] == "Europe/London"


def test_an_occurrence_date_is_the_date_shown_in_your_zone(jane):
    jane(
        "appt",
        "add",
        "jane",
        "--start",
        "2026-12-01 02:00",
        "--tz",
        "Europe/London",
        "--every",
        "weekly",
        "--count",
        "2",
    )
    [first] = listing(jane, "--from", "2026-11-30", "--to", "2026-11-30")
    assert first["start"] == "2026-11-30T21:00:00-05:00"
    assert jane("appt", "cancel", "1", "--occurrence", "2026-11-30").exit_code == 0


@pytest.mark.parametrize(
    ("steps", "args", "fragment"),
    [
        ((), ("appt", "done", "1"), "has not happened yet"),
        (
            (("appt", "done", "2", "--occurrence", "2026-11-24"),),
            ("appt", "cancel", "2", "--occurrence", "2026-11-24"),
            "already fulfilled: it cannot be cancelled",
        ),
        ((("appt", "cancel", "1"),), ("appt", "edit", "1", "--status", "booked"), "is cancelled; book a new one"),
        ((), ("appt", "edit", "2", "--status", "noshow"), "use 'appt done', 'appt noshow' or 'appt cancel'"),
        (
            (("appt", "cancel", "2", "--occurrence", "2026-11-24"),),
            ("appt", "done", "2", "--occurrence", "2026-11-24"),
            "is cancelled",
        ),
        (
            (("appt", "done", "2", "--occurrence", "2026-11-24"),),
            ("appt", "done", "2", "--occurrence", "2026-11-24"),
            "already fulfilled",
        ),
    ],
)
def test_outcomes_follow_the_visit(jane, unchanged, steps, args, fragment):
    jane("appt", "add", "jane", "--start", "2026-12-10 10:00")  # 1: a future one-off
    jane("appt", "add", "jane", "--yes", "--start", "2026-11-24 10:00", "--every", "weekly")  # 2: a series, started
    for step in steps:
        assert jane(*step).exit_code == 0, step
    with unchanged():
        assert_one_line_error(jane(*args), 1, fragment)


def test_a_missed_visit_can_be_corrected_to_fulfilled(jane):
    jane("appt", "add", "jane", "--yes", "--start", "2026-11-24 10:00")
    jane("appt", "noshow", "1")
    assert jane("appt", "done", "1").exit_code == 0


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


def test_renaming_a_patient_raises_the_calendar_sequence(jane, rows):
    jane("appt", "add", "jane", "--start", "2026-12-01 10:00")
    jane("patient", "edit", "jane", "--name", "Jane Smith")
    assert rows("SELECT sequence FROM appointment") == [{"sequence": 1}]


def test_appt_list_takes_days(jane):
    jane("appt", "add", "jane", "--start", "2026-12-05 10:00")
    assert len(listing(jane, "--days", "14")) == 1 and listing(jane, "--days", "7") == []


def test_a_sitting_over_the_dst_change_is_measured_in_real_hours_and_found_to_its_end(jane, unchanged, db_file):
    import sqlite3
    from contextlib import closing

    with unchanged():  # 12:00 to 12:00 across the night clocks go back is 25 hours
        run = jane(
            "appt", "add", "jane", "-y", "--start", "2026-10-31 12:00", "--end", "2026-11-01 12:00", "--type", "other"
        )
        assert_one_line_error(run, 1, "at most 24 hours")
    added = jane(
        "appt", "add", "jane", "-y", "--start", "2026-10-31 13:00", "--end", "2026-11-01 12:00", "--type", "other"
    )
    assert added.exit_code == 0, added.stderr
    with closing(sqlite3.connect(db_file)) as conn:  # as an older version stored it: 25 hours
        conn.execute("UPDATE appointment SET starts_at = '2026-10-31 16:00:00.000000'")
        conn.commit()
    assert [a["start"] for a in listing(jane, "--from", "2026-11-01 11:30", "--to", "2026-11-01 11:45")] == [
        "2026-10-31T12:00:00-04:00"
    ]
