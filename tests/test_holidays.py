"""Business days skip public holidays on their observed dates (US federal unless CARECOORD_HOLIDAYS
says otherwise), and a transitional-care contact deadline with two documented unanswered attempts
is 'attempted': neither met nor missed, its follow-up task still open (issue 15, item 5).

Sources: CMS MLN booklet "Transitional Care Management Services" (MLN908628): contact within 2
business days of discharge, a 30-day period from the discharge day and the 29 days after it; CMS
"Frequently Asked Questions about Billing Medicare for Transitional Care Management Services":
business days are Monday to Friday except holidays; two or more separate, timely, documented
attempts that do not reach the patient satisfy the contact requirement, and attempts go on.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_one_line_error


def transitions(cli):
    return json.loads(cli("transition", "list", "-f", "json").stdout)


def discharged(cli, day):
    run = cli("transition", "add", "jane", "--discharged", day, "--from", "Mercy General Hospital")
    assert run.exit_code == 0, run.stderr
    return transitions(cli)[0]


def due_after(cli, rows, day):
    transition = discharged(cli, day)
    [task] = rows("SELECT due_on FROM task WHERE id = ?", transition["contact_task_id"])
    assert str(task["due_on"]) == transition["contact_due"]
    return transition["contact_due"]


@pytest.mark.parametrize(
    ("day", "due"),
    [
        ("2026-11-24", "2026-11-27"),  # Tuesday: Wednesday, (Thanksgiving), Friday
        ("2026-07-02", "2026-07-07"),  # Thursday: (Independence Day observed Friday 3 July), Monday, Tuesday
        ("2026-11-10", "2026-11-13"),  # Tuesday: (Veterans Day), Thursday, Friday
        ("2025-12-24", "2025-12-29"),  # Wednesday: (Christmas), Friday, Monday
        ("2026-01-16", "2026-01-21"),  # Friday: (Martin Luther King Jr. Day on Monday), Tuesday, Wednesday
        ("2026-11-18", "2026-11-20"),  # an ordinary week
    ],
    ids=["thanksgiving", "independence-day-observed", "veterans-day", "christmas", "mlk-day", "no-holiday"],
)
def test_the_contact_deadline_skips_us_federal_holidays_on_their_observed_dates(jane, rows, day, due):
    assert due_after(jane, rows, day) == due


@pytest.mark.parametrize(
    ("calendar", "due"),
    [
        ("none", "2026-11-26"),  # weekdays only: Thanksgiving is a business day
        ("US", "2026-11-27"),
        ("us-ca", "2026-11-30"),  # California also rests the day after Thanksgiving
        ("GB-SCT", "2026-11-26"),  # Scotland works on US Thanksgiving
    ],
)
def test_carecoord_holidays_chooses_the_calendar(jane, rows, monkeypatch, calendar, due):
    monkeypatch.setenv("CARECOORD_HOLIDAYS", calendar)
    assert due_after(jane, rows, "2026-11-24") == due


def test_scotland_skips_saint_andrews_day(jane, rows, monkeypatch):
    monkeypatch.setenv("CARECOORD_HOLIDAYS", "GB-SCT")
    # Friday 20 November: Monday 23, Tuesday 24 (no US Thanksgiving there either way)
    assert due_after(jane, rows, "2026-11-20") == "2026-11-24"


@pytest.mark.parametrize(
    ("calendar", "said"),
    [
        ("XX", "no calendar for country 'XX'"),
        ("US-ZZ", "no calendar for subdivision 'ZZ' of 'US'"),
        ("united states", "cannot read 'UNITED STATES' as a holiday calendar"),
    ],
)
def test_an_unknown_calendar_is_one_clear_line_and_changes_nothing(jane, unchanged, monkeypatch, calendar, said):
    monkeypatch.setenv("CARECOORD_HOLIDAYS", calendar)
    with unchanged():
        run = jane("transition", "add", "jane", "--discharged", "2026-11-24", "--from", "Mercy")
    assert_one_line_error(run, 1, "CARECOORD_HOLIDAYS", said, "US, US-CA, GB-SCT")


# --- two documented attempts: 'attempted' ------------------------------------------------------------


def attempt(cli, when, outcome="no-answer", channel="phone"):
    run = cli("log", "add", "jane", "--when", when, "--outcome", outcome, "--channel", channel, "--minutes", "2")
    assert run.exit_code == 0, run.stderr


def contact(cli):
    [row] = transitions(cli)
    return row["contact_state"], row["contact_attempts"], row["contact_done"]


def test_two_unanswered_attempts_make_the_contact_attempted_and_keep_its_task_open(jane, rows):
    discharged(jane, "2026-11-20")  # Friday: due Tuesday 24
    attempt(jane, "2026-11-23 09:00")
    assert contact(jane) == ("missed", 1, None)  # one attempt is not enough
    attempt(jane, "2026-11-24 16:00", outcome="left-message")
    assert contact(jane) == ("attempted", 2, None)
    assert rows("SELECT status FROM task WHERE id = 1") == [{"status": "requested"}]  # keep calling
    table = jane("transition", "list", "-f", "markdown").stdout
    assert "attempted x2 (due 2026-11-24), keep trying" in table
    day = json.loads(jane("agenda", "-f", "json").stdout)["days"][0]
    assert [(t["deadline"], t["contact_state"]) for t in day["transition_deadlines"]] == [("contact", "attempted")]
    assert [t["id"] for t in day["tasks"]] == [1]  # the follow-up task is still on the agenda
    document = jane("agenda").stdout
    assert "2 attempts documented, not reached yet; keep trying" in document
    assert "attempted" in jane("report", "transitions").stdout


def test_reaching_the_patient_later_completes_the_task_and_keeps_the_deadline_attempted(jane, rows):
    discharged(jane, "2026-11-20")
    attempt(jane, "2026-11-23 09:00")
    attempt(jane, "2026-11-23 15:00")
    run = jane("log", "add", "jane", "--when", "2026-11-25 09:00", "--minutes", "12")
    assert "Completed follow-up task #1" in run.stdout
    assert contact(jane) == ("attempted", 2, "2026-11-25")
    assert "attempted x2 (due 2026-11-24), reached 2026-11-25" in jane("transition", "list", "-f", "markdown").stdout
    assert json.loads(jane("agenda", "-f", "json").stdout)["days"][0]["transition_deadlines"] == []


def test_a_contact_on_time_is_met_whatever_the_attempts(jane):
    discharged(jane, "2026-11-20")
    attempt(jane, "2026-11-23 09:00")
    attempt(jane, "2026-11-23 10:00")
    jane("log", "add", "jane", "--when", "2026-11-24 09:00")
    assert contact(jane) == ("met", 2, "2026-11-24")


@pytest.mark.parametrize(
    ("when", "outcome", "channel"),
    [
        ("2026-11-25 09:00", "no-answer", "phone"),  # after the due date: too late to count
        ("2026-11-23 11:00", "wrong-number", "phone"),  # no attempt at the patient
        ("2026-11-23 11:00", "declined", "phone"),  # reached, and said no
        ("2026-11-23 11:00", "no-answer", "message"),  # not an interactive contact
        ("2026-11-19 11:00", "no-answer", "phone"),  # before the discharge
        ("2026-11-23 09:00", "no-answer", "phone"),  # the same call logged twice: not a separate attempt
    ],
)
def test_what_is_not_a_second_attempt(jane, when, outcome, channel):
    discharged(jane, "2026-11-20")
    attempt(jane, "2026-11-23 09:00")
    attempt(jane, when, outcome=outcome, channel=channel)
    assert contact(jane)[:2] == ("missed", 1)


def test_attempts_within_the_window_count_while_the_deadline_is_still_open(jane):
    discharged(jane, "2026-11-24")  # due Friday 27 (Thanksgiving skipped)
    attempt(jane, "2026-11-24 15:00")
    assert contact(jane) == ("open", 1, None)
    attempt(jane, "2026-11-25 09:00")
    assert contact(jane) == ("attempted", 2, None)


def test_an_attempt_deleted_takes_the_deadline_back_to_missed(jane):
    discharged(jane, "2026-11-20")
    attempt(jane, "2026-11-23 09:00")
    attempt(jane, "2026-11-23 10:00")
    assert jane("log", "delete", "2", "--yes").exit_code == 0
    assert contact(jane) == ("missed", 1, None)
