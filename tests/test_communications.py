"""The communication log, the call timer and the patient timeline."""

from __future__ import annotations

import json

import pytest
import time_machine

from tests.conftest import assert_one_line_error


@pytest.fixture
def people(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    cli("patient", "add", "Omar Haddad", "--mrn", "MRN-2")
    cli("contact", "add", "jane", "Ann Doe", "--role", "daughter")
    return cli


def test_log_add_links_a_known_contact_and_stores_everything(people, rows):
    run = people("log", "add", "jane", "--when", "today 9:15", "--channel", "phone", "--direction", "inbound",
                 "--with", "ann doe", "--outcome", "left-message", "--minutes", "7", "--note", "asked for refill")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip() == "Logged phone #1 with #1 Jane Doe (MRN MRN-1): left-message, 7 min."
    [stored] = rows("SELECT at, channel, direction, with_whom, contact_id, outcome, minutes, note FROM communication")
    assert stored == {"at": "2026-11-25 14:15:00.000000", "channel": "phone", "direction": "inbound",
                      "with_whom": "ann doe", "contact_id": 1, "outcome": "left-message", "minutes": 7,
                      "note": "asked for refill"}  # fmt: skip


def test_log_list_filters_and_totals(people):
    people("log", "add", "jane", "--minutes", "10", "--when", "-2d 10am")
    people("log", "add", "jane", "--minutes", "5", "--outcome", "no-answer", "--when", "-1d 10am")
    people("log", "add", "omar", "--minutes", "20", "--channel", "visit", "--when", "-40d 10am")
    entries = json.loads(people("log", "list", "-f", "json").stdout)
    assert [e["minutes"] for e in entries] == [5, 10]  # newest first, last 30 days by default
    assert [e["minutes"] for e in json.loads(people("log", "list", "--from", "-60d", "-f", "json").stdout)] == [
        5,
        10,
        20,
    ]
    assert [e["outcome"] for e in json.loads(people("log", "list", "--outcome", "no-answer", "-f", "json").stdout)] == [
        "no-answer"
    ]
    assert (
        json.loads(
            people("log", "list", "--patient", "omar", "--from", "-60d", "--channel", "visit", "-f", "json").stdout
        )[0]["minutes"]
        == 20
    )
    assert "15 min" in people("log", "list").stdout


def test_log_edit_and_delete(people, rows):
    people("log", "add", "jane", "--minutes", "10")
    assert people("log", "edit", "1", "--minutes", "25", "--outcome", "reached").exit_code == 0
    assert rows("SELECT minutes FROM communication") == [{"minutes": 25}]
    assert people("log", "delete", "1", "--yes").exit_code == 0
    assert rows("SELECT * FROM communication") == []


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("log", "add", "jane", "--minutes", "-5"), 1, "minutes cannot be negative"),
        (("log", "add", "jane", "--minutes", "5000"), 1, "more than a day"),
        (("log", "add", "jane", "--when", "tomorrow 9am"), 1, "is in the future"),
        (("log", "add", "jane", "--channel", "pigeon"), 1, "'pigeon' is not one of"),
        (("log", "add", "jane", "--outcome", "maybe"), 1, "'maybe' is not one of"),
        (("log", "add", "nobody"), 1, "no patient matches"),
        (("log", "edit", "99", "--minutes", "1"), 1, "no log entry matches '99'"),
        (("log", "edit", "1"), 2, "nothing to change"),
        (("log", "delete", "1"), 2, "--yes"),
    ],
)
def test_bad_log_input(people, unchanged, args, code, fragment):
    people("log", "add", "jane", "--minutes", "3")
    with unchanged():
        assert_one_line_error(people(*args), code, fragment)


def test_the_call_timer_logs_elapsed_minutes(people, rows):
    with time_machine.travel("2026-11-25T14:00:00Z", tick=False):
        assert people("timer", "start", "jane", "--note", "med review").exit_code == 0
    with time_machine.travel("2026-11-25T14:12:20Z", tick=False):
        assert "13 min so far" in people("timer", "status").stdout
        run = people("timer", "stop", "--outcome", "reached", "--note", "all sorted")
    assert run.exit_code == 0 and "Logged 13 min phone #1 with #1 Jane Doe" in run.stdout
    assert rows("SELECT minutes, note, at FROM communication") == [
        {"minutes": 13, "note": "med review\nall sorted", "at": "2026-11-25 14:00:00.000000"}
    ]
    assert rows("SELECT * FROM call_timer") == []
    assert people("timer", "status").stdout.strip() == "No timer is running."


def test_one_timer_at_a_time(people, unchanged):
    people("timer", "start", "jane")
    with unchanged():
        assert_one_line_error(people("timer", "start", "omar"), 1, "a timer is already running for #1 Jane Doe")


def test_stopping_without_a_timer(people, unchanged):
    with unchanged():
        assert_one_line_error(people("timer", "stop"), 1, "no timer is running")


def test_timeline_newest_first(people):
    people("log", "add", "jane", "--when", "-3d 10am", "--minutes", "10", "--note", "first call")
    people("appt", "add", "jane", "--yes", "--start", "-2d 11am", "--type", "home-visit")
    people("appt", "done", "1")
    people("task", "add", "Refill", "--patient", "jane", "--due", "-1d")
    people("task", "done", "1", "--note", "sent")
    people("plan", "add", "jane", "CHF", "--status", "active")
    people("plan", "review", "1", "--note", "stable")
    people("patient", "hold", "jane")
    people("transition", "add", "jane", "--discharged", "-5d", "--from", "Mercy Hospital")
    events = json.loads(people("patient", "timeline", "jane", "-f", "json").stdout)
    kinds = [e["kind"] for e in events]
    assert set(kinds) == {"log", "appointment", "task done", "plan review", "status", "discharge"}
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
    assert any(e["summary"] == "patient #1: active -> on-hold" for e in events)
    assert any("first call" in e["summary"] for e in events)
    assert "Mercy Hospital" in people("patient", "timeline", "jane").stdout
