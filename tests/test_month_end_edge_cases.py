"""Month-end edge cases found by trying the reports hard."""

from __future__ import annotations

import json

import pytest
import time_machine

from tests.conftest import assert_one_line_error


def transitions(cli, *args):
    return json.loads(cli("transition", "list", *args, "-f", "json").stdout)


@pytest.fixture
def eve(cli):
    cli("patient", "add", "Eve Adams")
    cli("patient", "add", "Gus Brown")
    return cli


def test_a_late_visit_is_late_whatever_the_filter(eve):
    eve("transition", "add", "eve", "--discharged", "2026-11-13", "--from", "General", "--complexity", "high")
    eve("appt", "add", "eve", "--yes", "--start", "2026-11-23 10:00", "--type", "home-visit")
    eve("appt", "done", "1")
    assert transitions(eve, "--patient", "eve")[0]["visit_state"] == "late"
    assert transitions(eve)[0]["visit_state"] == "late"


def test_a_fulfilled_appointment_is_an_interactive_contact_and_closes_the_follow_ups(eve, rows):
    eve("transition", "add", "gus", "--discharged", "2026-11-21", "--from", "X", "--complexity", "high")
    eve("appt", "add", "gus", "--yes", "--start", "2026-11-23 14:00", "--type", "home-visit")
    run = eve("appt", "done", "1")
    assert "Completed follow-up task #1" in run.stdout and "Completed follow-up task #2" in run.stdout
    [row] = transitions(eve)
    assert (row["contact_state"], row["visit_state"]) == ("met", "met")
    assert rows("SELECT status FROM task ORDER BY id") == [{"status": "completed"}, {"status": "completed"}]
    assert json.loads(eve("report", "overdue", "-f", "json").stdout) == []


def test_a_reached_call_closes_the_contact_follow_up_only(eve, rows):
    eve("transition", "add", "gus", "--discharged", "2026-11-23", "--from", "X")
    run = eve("log", "add", "gus", "--when", "2026-11-24 09:00", "--outcome", "reached")
    assert "Completed follow-up task #1 (TCM: interactive contact" in run.stdout
    assert rows("SELECT status FROM task ORDER BY id") == [{"status": "completed"}, {"status": "requested"}]
    eve("log", "add", "gus", "--when", "2026-11-24 10:00", "--outcome", "no-answer")
    assert rows("SELECT count(*) AS n FROM task WHERE status = 'completed'") == [{"n": 1}]


def test_evidence_after_the_30_day_period_does_not_count(eve):
    eve("transition", "add", "eve", "--discharged", "2025-12-24", "--from", "General")
    eve("log", "add", "eve", "--when", "2026-11-17 10:00", "--outcome", "reached", "--channel", "visit")
    [row] = transitions(eve)
    assert (row["contact_state"], row["visit_state"]) == ("missed", "missed")


def test_the_same_discharge_twice_is_refused(eve, unchanged):
    eve("transition", "add", "eve", "--discharged", "2026-11-20", "--from", "General")
    with unchanged():
        assert_one_line_error(eve("transition", "add", "eve", "--discharged", "2026-11-20", "--from", "general"), 1,
                              "already recorded as transition #1")  # fmt: skip


def test_a_forgotten_timer(eve, rows):
    with time_machine.travel("2026-11-23T14:00:00Z", tick=False):
        eve("timer", "start", "eve")
    assert "since 2026-11-23 09:00" in eve("timer", "status").stdout
    assert_one_line_error(eve("timer", "stop"), 1, "give the call's real length with --minutes, or 'timer cancel'")
    assert "Logged 12 min" in eve("timer", "stop", "--minutes", "12").stdout
    eve("timer", "start", "gus")
    assert eve("timer", "cancel").stdout.strip() == "Timer for #2 Gus Brown discarded; nothing was logged."
    assert rows("SELECT minutes FROM communication") == [{"minutes": 12}]


def test_log_edit_checks_like_log_add(eve, rows, unchanged):
    eve("contact", "add", "eve", "Sue Twenty", "--role", "daughter")
    eve("log", "add", "eve", "--with", "Sue Twenty", "--minutes", "5")
    assert rows("SELECT contact_id FROM communication") == [{"contact_id": 1}]
    with unchanged():
        assert_one_line_error(eve("log", "edit", "1", "--when", "tomorrow 9am"), 1, "is in the future")
    eve("log", "edit", "1", "--with", "neighbour")
    assert rows("SELECT with_whom, contact_id FROM communication") == [{"with_whom": "neighbour", "contact_id": None}]


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
