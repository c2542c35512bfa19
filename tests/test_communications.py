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
    assert (
        run.stdout.strip()
        == "Logged phone #1 with #1 Jane Doe (MRN MRN-1) on Wed 2026-11-25 09:15: left-message, 7 min."
    )
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
        (("log", "add", "jane", "--channel", "pigeon"), 1, "invalid channel 'pigeon': use one of phone"),
        (("log", "add", "jane", "--outcome", "maybe"), 1, "invalid outcome 'maybe': use one of reached"),
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


# --- implausible minutes, durations, search, messages (issue 11, items 3, 8 and 9) -------------------


def test_more_than_four_hours_in_one_entry_needs_force(people, rows, unchanged):
    with unchanged():
        assert_one_line_error(
            people("log", "add", "jane", "--minutes", "600"),
            1,
            "600 minutes",
            "more than 4 hours",
            "billing",
            "--force",
        )
    assert people("log", "add", "jane", "--minutes", "240").exit_code == 0  # the limit itself is fine
    run = people("log", "add", "jane", "--minutes", "300", "--force")
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT minutes FROM communication ORDER BY id") == [{"minutes": 240}, {"minutes": 300}]
    with unchanged():
        assert_one_line_error(people("log", "edit", "1", "--minutes", "5h"), 1, "more than 4 hours", "--force")
        assert_one_line_error(people("log", "add", "jane", "--minutes", "2d", "--force"), 1, "more than a day")
    assert people("log", "edit", "1", "--minutes", "5h", "--force").exit_code == 0
    assert people("log", "edit", "2", "--note", "long family meeting").exit_code == 0  # other fields need no --force
    assert rows("SELECT minutes, note FROM communication ORDER BY id") == [
        {"minutes": 300, "note": None},
        {"minutes": 300, "note": "long family meeting"},
    ]


@pytest.mark.parametrize(("typed", "minutes"), [("45m", 45), ("1h30m", 90), ("90", 90), ("2h", 120), ("0", 0)])
def test_minutes_are_read_like_every_other_duration(people, rows, typed, minutes):
    assert people("log", "add", "jane", "--minutes", typed).exit_code == 0
    assert people("log", "edit", "1", "--minutes", typed).exit_code == 0
    assert rows("SELECT minutes FROM communication") == [{"minutes": minutes}]


def test_unreadable_minutes_are_one_line(people, unchanged):
    with unchanged():
        assert_one_line_error(
            people("log", "add", "jane", "--minutes", "abc"), 1, "cannot read 'abc' as minutes", "1h30m"
        )
        assert_one_line_error(people("timer", "stop", "--minutes", "1x"), 1, "cannot read '1x' as minutes")


def test_a_timer_left_running_for_hours_needs_its_real_length_or_force(people, rows, unchanged):
    with time_machine.travel("2026-11-25T09:00:00Z", tick=False):
        people("timer", "start", "jane")
    with time_machine.travel("2026-11-25T14:00:00Z", tick=False):
        with unchanged():
            assert_one_line_error(people("timer", "stop"), 1, "has run for 300 minutes", "--minutes", "--force")
        assert people("timer", "stop", "--minutes", "1h5m").exit_code == 0
    assert rows("SELECT minutes FROM communication") == [{"minutes": 65}]
    with time_machine.travel("2026-11-25T10:00:00Z", tick=False):
        people("timer", "start", "omar")
    with time_machine.travel("2026-11-25T14:00:00Z", tick=False):
        assert_one_line_error(people("timer", "stop", "--minutes", "250"), 1, "more than 4 hours")
        assert people("timer", "stop", "--force").exit_code == 0
    assert rows("SELECT minutes FROM communication ORDER BY id") == [{"minutes": 65}, {"minutes": 240}]


def test_log_list_searches_notes_in_any_case(people):
    people("log", "add", "jane", "--minutes", "5", "--note", "Discharge summary from Mercy\nmeds changed")
    people("log", "add", "omar", "--minutes", "5", "--note", "refill sent to MERCY pharmacy")
    people("log", "add", "omar", "--minutes", "5", "--note", "100% adherent")
    people("log", "add", "jane", "--minutes", "5")

    def found(*args: str) -> list[int]:
        return [e["id"] for e in json.loads(people("log", "list", *args, "-f", "json").stdout)]

    assert found("--search", "mercy") == [2, 1]
    assert found("--search", "MEDS CHANGED") == [1]
    assert found("--search", "mercy", "--patient", "omar") == [2]
    assert found("--search", "%") == [3]  # LIKE wildcards are searched for, not obeyed
    assert found("--search", "_") == []
    assert people("log", "list", "--search", "nothing like it").stdout.strip() == "No log entries."


def test_log_list_title_counts_one_entry(people):
    people("log", "add", "jane", "--minutes", "5")
    assert "Communication log (1 entry, 5 min)" in people("log", "list").stdout
    people("log", "add", "jane", "--minutes", "6")
    assert "Communication log (2 entries, 11 min)" in people("log", "list").stdout


def test_log_delete_confirms_in_local_time(people):
    people("log", "add", "jane", "--when", "today 9:15", "--minutes", "5")  # 14:15 UTC
    run = people("log", "delete", "1", "--yes")
    assert run.stdout.strip() == "Deleted log entry #1: phone with #1 Jane Doe (MRN MRN-1), 2026-11-25 09:15, 5 min."


def test_log_delete_asks_naming_the_patient(people, monkeypatch):
    """Before deleting, the question says whose call it was, not only its channel and time."""
    import carecoord.commands.log as log

    asked: list[str] = []
    monkeypatch.setattr(log, "confirm_or_refuse", lambda question, yes: asked.append(question))
    people("log", "add", "omar", "--when", "today 9:15", "--channel", "video", "--outcome", "no-answer")
    assert people("log", "delete", "1").exit_code == 0
    assert asked == ["Delete log entry #1: video with #2 Omar Haddad (MRN MRN-2), 2026-11-25 09:15, no-answer?"]


def test_a_forgotten_timer_is_stopped_with_its_real_length_or_cancelled(eve, rows):
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


def test_log_add_says_back_the_day_a_date_without_a_year_was_read_as(people):
    """'11/26' on 25 November 2026 is the last 26 November, a year back: the confirmation says so in full."""
    run = people("log", "add", "jane", "--when", "11/26", "--minutes", "10")
    assert run.exit_code == 0, run.stderr
    assert "on Wed 2025-11-26 00:00: reached, 10 min." in run.stdout


def test_log_show_gives_one_entry_whole(people, unchanged):
    """The table cuts a note to its first line; 'log show' gives the whole note (a pasted discharge summary)."""
    summary = "Discharge summary:\nCHF exacerbation.\nFollow up with cardiology in 1 week."
    people("log", "add", "jane", "--minutes", "15", "--note", "-", input=summary)
    shown = people("log", "show", "1").stdout
    assert all(line in shown for line in summary.splitlines()) and "15" in shown and "Jane Doe" in shown
    assert json.loads(people("log", "show", "1", "-f", "json").stdout)["note"] == summary
    with unchanged():
        assert_one_line_error(people("log", "show", "9"), 1, "no log entry matches '9'")
