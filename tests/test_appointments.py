"""Appointments through the CLI: booking, series, clashes, moves, cancellations and outcomes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.conftest import assert_one_line_error, listing


@pytest.fixture
def booked(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    cli("patient", "add", "Omar Haddad", "--mrn", "MRN-2")
    # a weekly 10:00 home visit in New York from 22 Oct 2026, across the 1 Nov DST change
    run = cli("appt", "add", "jane", "--yes", "--start", "2026-10-22 10:00", "--duration", "45m", "--type", "home-visit",
              "--every", "weekly", "--count", "6", "--location", "12 Elm St", "--remind", "30m")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    return cli


def test_add_stores_utc_and_the_booked_zone(booked, rows):
    [stored] = rows("SELECT starts_at, ends_at, tz, rrule, kind, reminder_minutes, series_ends_at FROM appointment")
    assert stored == {
        "starts_at": "2026-10-22 14:00:00.000000", "ends_at": "2026-10-22 14:45:00.000000",
        "tz": "America/New_York", "rrule": "FREQ=WEEKLY;COUNT=6", "kind": "home-visit", "reminder_minutes": 30,
        "series_ends_at": "2026-11-26 15:45:00.000000",
    }  # fmt: skip


def test_a_weekly_series_keeps_its_local_time_across_dst(booked):
    sittings = listing(booked, "--from", "2026-10-01", "--to", "2026-12-31")
    assert [s["start"] for s in sittings] == [
        "2026-10-22T10:00:00-04:00", "2026-10-29T10:00:00-04:00", "2026-11-05T10:00:00-05:00",
        "2026-11-12T10:00:00-05:00", "2026-11-19T10:00:00-05:00", "2026-11-26T10:00:00-05:00",
    ]  # fmt: skip
    assert all(s["end"].endswith(("10:45:00-04:00", "10:45:00-05:00")) for s in sittings)


def test_times_are_shown_in_the_users_zone(booked, monkeypatch):
    from carecoord.dates import local_zone

    monkeypatch.setenv("CARECOORD_TZ", "America/Los_Angeles")
    local_zone.cache_clear()
    [first] = listing(booked, "--from", "2026-10-22", "--to", "2026-10-22")
    assert first["start"] == "2026-10-22T07:00:00-07:00" and first["tz"] == "America/New_York"


def test_list_defaults_to_the_next_seven_days(booked):
    # today is Wednesday 2026-11-25 (conftest): the 26 Nov occurrence is in, nothing before today
    assert [s["start"][:10] for s in listing(booked)] == ["2026-11-26"]


def test_a_clash_is_refused_unless_forced(booked, unchanged, rows):
    with unchanged():
        run = booked("appt", "add", "omar", "--yes", "--start", "2026-11-12 10:30", "--type", "phone")
        assert_one_line_error(run, 1, "clashes with appointment #1 (Home visit, Jane Doe) on 2026-11-12 10:00-10:45",
                              "--force")  # fmt: skip
    assert (
        booked("appt", "add", "omar", "-y", "--start", "2026-11-12 10:30", "--type", "phone", "--force").exit_code == 0
    )
    assert len(rows("SELECT id FROM appointment")) == 2


def test_back_to_back_is_not_a_clash(booked):
    assert booked("appt", "add", "omar", "--yes", "--start", "2026-11-12 10:45", "--duration", "30m").exit_code == 0


def test_a_new_series_clashing_later_is_refused(booked, unchanged):
    with unchanged():
        run = booked(
            "appt", "add", "omar", "--yes", "--start", "2026-10-15 10:15", "--every", "weekly", "--type", "phone"
        )
        assert_one_line_error(run, 1, "on 2026-10-22 10:00")


def test_cancel_one_occurrence(booked, rows):
    run = booked("appt", "cancel", "1", "--occurrence", "2026-11-05", "--reason", "in hospital")
    assert run.exit_code == 0 and "Home visit #1 of 2026-11-05 10:00 cancelled." in run.stdout
    [cancelled] = [s for s in listing(booked, "--from", "2026-11-05", "--to", "2026-11-05")]
    assert (cancelled["status"], cancelled["reason"]) == ("cancelled", "in hospital")
    assert rows("SELECT sequence FROM appointment") == [{"sequence": 1}]
    # a cancelled sitting frees the time
    assert booked("appt", "add", "omar", "--yes", "--start", "2026-11-05 10:00", "--type", "phone").exit_code == 0


def test_move_one_occurrence(booked):
    run = booked("appt", "move", "1", "--occurrence", "2026-11-12", "--to", "2026-11-13 14:00")
    assert run.exit_code == 0
    sittings = listing(booked, "--from", "2026-11-10", "--to", "2026-11-16")
    assert [(s["start"], s["moved"], s["occurrence"]) for s in sittings] == [
        ("2026-11-13T14:00:00-05:00", True, "2026-11-12T10:00:00-05:00")
    ]


def test_moving_the_series_moves_what_is_to_come_and_keeps_the_past(booked, rows):
    # today is 25 Nov; the next sitting is 26 Nov 10:00; move the series to 11:30
    booked("appt", "done", "1", "--occurrence", "2026-10-22")
    booked("appt", "cancel", "1", "--occurrence", "2026-11-19")
    run = booked("appt", "move", "1", "--to", "2026-11-26 11:30")
    assert run.exit_code == 0 and "as #2; #1 keeps the past ones" in run.stdout
    sittings = listing(booked, "--from", "2026-10-01", "--to", "2026-12-31")
    assert [(s["id"], s["start"][5:16], s["status"]) for s in sittings] == [
        (1, "10-22T10:00", "fulfilled"), (1, "10-29T10:00", "booked"), (1, "11-05T10:00", "booked"),
        (1, "11-12T10:00", "booked"), (1, "11-19T10:00", "cancelled"), (2, "11-26T11:30", "booked"),
    ]  # fmt: skip
    assert rows("SELECT rrule FROM appointment ORDER BY id") == [
        {"rrule": "FREQ=WEEKLY;UNTIL=20261126T145959Z"}, {"rrule": "FREQ=WEEKLY;COUNT=1"},
    ]  # fmt: skip


def test_move_a_one_off(cli, rows):
    cli("patient", "add", "Jane Doe")
    cli("appt", "add", "jane", "--start", "2026-12-01 09:00", "--duration", "1h")
    assert cli("appt", "move", "1", "--to", "2026-12-02 13:00").exit_code == 0
    assert rows("SELECT starts_at, ends_at, sequence FROM appointment") == [
        {"starts_at": "2026-12-02 18:00:00.000000", "ends_at": "2026-12-02 19:00:00.000000", "sequence": 1}
    ]


def test_done_and_noshow_with_a_follow_up_task(booked, rows):
    assert booked("appt", "done", "1", "--occurrence", "2026-10-22").exit_code == 0
    run = booked("appt", "noshow", "1", "--occurrence", "2026-10-29", "--follow-up")
    assert run.exit_code == 0 and "Follow-up task #1 added" in run.stdout
    statuses = [s["status"] for s in listing(booked, "--from", "2026-10-22", "--to", "2026-10-29")]
    assert statuses == ["fulfilled", "noshow"]
    [task] = rows("SELECT title, priority, patient_id, due_on FROM task")
    assert task == {
        "title": "Follow up: missed home visit on 2026-10-29",
        "priority": "urgent",
        "patient_id": 1,
        "due_on": "2026-11-27",
    }  # fmt: skip  (the next business day: Thursday is Thanksgiving)


def test_cancelling_a_series_cancels_what_is_to_come_and_keeps_the_past(booked):
    booked("appt", "done", "1", "--occurrence", "2026-10-22")
    booked("appt", "noshow", "1", "--occurrence", "2026-10-29")
    assert booked("appt", "cancel", "1", "--reason", "moved to a nursing home").exit_code == 0
    sittings = listing(booked, "--from", "2026-10-01", "--to", "2026-12-31")
    assert [(s["start"][5:10], s["status"]) for s in sittings] == [
        ("10-22", "fulfilled"), ("10-29", "noshow"), ("11-05", "booked"), ("11-12", "booked"), ("11-19", "booked"),
        ("11-26", "cancelled"),
    ]  # fmt: skip
    assert sittings[-1]["reason"] == "moved to a nursing home"


def test_cancelling_a_series_that_has_not_started(cli):
    cli("patient", "add", "Jane Doe")
    cli("appt", "add", "jane", "--start", "2026-12-01 10:00", "--every", "weekly", "--count", "3")
    assert cli("appt", "cancel", "1").exit_code == 0
    assert {s["status"] for s in listing(cli, "--from", "2026-12-01", "--to", "2026-12-31")} == {"cancelled"}


def test_edit_and_show(booked):
    assert booked("appt", "edit", "1", "--with", "Kathleen (daughter)", "--remind", "1h").exit_code == 0
    booked("appt", "cancel", "1", "--occurrence", "2026-11-05")
    shown = json.loads(booked("appt", "show", "1", "-f", "json").stdout)
    assert (shown["with"], shown["reminder_minutes"], shown["sequence"]) == ("Kathleen (daughter)", 60, 2)
    assert [e["status"] for e in shown["exceptions"]] == ["cancelled"]
    assert [u["start"][:10] for u in shown["upcoming"]] == ["2026-11-26"]
    assert "Changed occurrences" in booked("appt", "show", "1").stdout


def test_default_durations_by_type(cli, rows):
    cli("patient", "add", "Jane Doe")
    cli("appt", "add", "jane", "--start", "2026-12-01 09:00", "--type", "phone")
    cli("appt", "add", "jane", "--start", "2026-12-01 11:00", "--type", "home-visit")
    stored = rows("SELECT starts_at, ends_at FROM appointment ORDER BY id")
    moment = "%Y-%m-%d %H:%M:%S.%f"
    minutes = [(datetime.strptime(r["ends_at"], moment) - datetime.strptime(r["starts_at"], moment)) for r in stored]
    assert minutes == [timedelta(minutes=30), timedelta(minutes=60)]


def test_booking_in_another_zone(cli):
    cli("patient", "add", "Jane Doe")
    cli("appt", "add", "jane", "--start", "2026-12-01 09:00", "--tz", "America/Chicago", "--type", "telehealth")
    [sitting] = listing(cli, "--from", "2026-12-01", "--to", "2026-12-01")
    assert sitting["start"] == "2026-12-01T10:00:00-05:00" and sitting["tz"] == "America/Chicago"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (
            ("appt", "add", "jane", "--start", "2026-12-01 10:00", "--end", "2026-12-01 09:00"),
            1,
            "ends (2026-12-01 09:00) before it starts",
        ),
        (
            ("appt", "add", "jane", "--start", "2026-12-01 10:00", "--tz", "Mars/Base"),
            1,
            "unknown time zone 'Mars/Base'",
        ),
        (("appt", "add", "jane", "--start", "next blursday"), 1, "cannot read 'next blursday'"),
        (
            ("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "party"),
            1,
            "invalid appointment type 'party': use one of home-visit",
        ),
        (("appt", "add", "jane", "--start", "2026-12-01 10:00", "--every", "sometimes"), 1, "repeat rule"),
        (("appt", "add", "jane", "--start", "2026-12-01 10:00", "--count", "3"), 2, "give --every too"),
        (
            ("appt", "add", "jane", "--start", "2026-12-01 10:00", "--end", "2026-12-01 11:00", "--duration", "1h"),
            2,
            "not both",
        ),
        (
            ("appt", "add", "jane", "--start", "2026-12-01 10:00", "--status", "fulfilled"),
            1,
            "'fulfilled' is not one of 'proposed', 'booked'",
        ),
        (("appt", "cancel", "1", "--occurrence", "2026-11-06"), 1, "2026-11-06 is not a date of the series"),
        (
            ("appt", "move", "1", "--occurrence", "2026-12-24", "--to", "2026-12-25 10:00"),
            1,
            "not a date of the series",
        ),
        (("appt", "done", "1"), 1, "is a series: say which one with --occurrence"),
        (("appt", "move", "99", "--to", "tomorrow 9am"), 1, "no appointment matches '99'"),
        (
            ("appt", "move", "1", "--occurrence", "2026-11-12", "--to", "2026-11-12 09:00", "--duration", "0m"),
            1,
            "at least a minute",
        ),
        (("appt", "show", "jane"), 1, "give the appointment's id"),
        (
            ("appt", "add", "jane", "--start", "2026-12-01 10:00", "--every", "weekly", "--until", "2026-11-01"),
            1,
            "no occurrence",
        ),
    ],
)
def test_bad_appointment_input(booked, unchanged, args, code, fragment):
    with unchanged():
        assert_one_line_error(booked(*args), code, fragment)


def test_a_cancelled_appointment_cannot_be_moved_or_cancelled_again(booked, unchanged):
    booked("appt", "cancel", "1")  # the rest of the series (from 26 Nov) becomes #2, cancelled
    with unchanged():
        assert_one_line_error(booked("appt", "move", "2", "--to", "2026-12-01 10:00"), 1, "is cancelled")
        assert_one_line_error(booked("appt", "cancel", "2"), 1, "is cancelled")
        assert_one_line_error(booked("appt", "move", "1", "--to", "2026-12-01 10:00"), 1, "no occurrence left")


# --- who attends: only appointments the coordinator attends clash across patients ---------------


@pytest.fixture
def two(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    cli("patient", "add", "Omar Haddad", "--mrn", "MRN-2")
    return cli


def test_two_patients_own_specialist_visits_at_the_same_hour_both_book(two, rows):
    assert two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "specialist").exit_code == 0
    run = two("appt", "add", "omar", "--start", "2026-12-01 10:00", "--type", "specialist")
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT patient_id, attending FROM appointment ORDER BY id") == [
        {"patient_id": 1, "attending": 0}, {"patient_id": 2, "attending": 0},
    ]  # fmt: skip


def test_two_home_visits_for_different_patients_at_the_same_hour_clash(two, unchanged):
    assert two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "home-visit").exit_code == 0
    with unchanged():
        run = two("appt", "add", "omar", "--start", "2026-12-01 10:30", "--type", "home-visit")
        assert_one_line_error(run, 1, "clashes with appointment #1 (Home visit, Jane Doe) on 2026-12-01 10:00-11:00")


def test_a_patients_own_appointments_clash_with_each_other_whoever_attends(two, unchanged):
    assert two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "office").exit_code == 0
    with unchanged():
        run = two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "office")
        assert_one_line_error(run, 1, "clashes with appointment #1 (Office visit, Jane Doe)")
        # a home visit for her at that hour clashes with her office visit too
        run = two("appt", "add", "jane", "--start", "2026-12-01 10:30", "--type", "home-visit")
        assert_one_line_error(run, 1, "clashes with appointment #1 (Office visit, Jane Doe)")
    # while another patient's home visit at that hour is not a clash: the coordinator is free
    assert two("appt", "add", "omar", "--start", "2026-12-01 10:00", "--type", "home-visit").exit_code == 0


def test_a_clash_says_why_whether_booked_moved_or_edited(two, unchanged):
    assert two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "home-visit").exit_code == 0
    assert two("appt", "add", "omar", "--start", "2026-12-01 14:00", "--type", "specialist").exit_code == 0
    with unchanged():
        assert_one_line_error(
            two("appt", "add", "omar", "--start", "2026-12-01 10:30", "--type", "phone"), 1,
            "clashes with appointment #1 (Home visit, Jane Doe) on 2026-12-01 10:00-11:00: you attend both; "
            "add --force to keep both",
        )  # fmt: skip
        assert_one_line_error(
            two("appt", "add", "omar", "--start", "2026-12-01 14:30", "--type", "home-visit"), 1,
            "clashes with appointment #2 (Specialist visit, Omar Haddad) on 2026-12-01 14:00-15:00: "
            "Omar Haddad cannot be at both; add --force to keep both",
        )  # fmt: skip
    assert two("appt", "add", "omar", "--start", "2026-12-01 12:00", "--type", "phone").exit_code == 0  # #3
    assert two("appt", "add", "jane", "--start", "2026-12-01 14:00", "--type", "telehealth").exit_code == 0  # #4
    with unchanged():
        assert_one_line_error(two("appt", "move", "3", "--to", "2026-12-01 10:30"), 1,
                              "(Home visit, Jane Doe) on 2026-12-01 10:00-11:00: you attend both; "
                              "add --force to keep both")  # fmt: skip
        assert_one_line_error(two("appt", "edit", "2", "--attending"), 1,
                              "(Telehealth, Jane Doe) on 2026-12-01 14:00-14:30: you attend both; "
                              "add --force to keep both")  # fmt: skip


def test_attending_a_specialist_visit_makes_it_clash_with_a_home_visit(two, unchanged, rows):
    assert two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "home-visit").exit_code == 0
    with unchanged():
        run = two("appt", "add", "omar", "--start", "2026-12-01 10:00", "--type", "specialist", "--attending")
        assert_one_line_error(run, 1, "clashes with appointment #1 (Home visit, Jane Doe)", "--force")
    assert two("appt", "add", "omar", "--start", "2026-12-01 10:00", "--type", "specialist").exit_code == 0
    # and a phone call the coordinator will not make (a nurse line) does not clash either
    run = two("appt", "add", "omar", "--start", "2026-12-01 11:30", "--type", "phone", "--not-attending")
    assert run.exit_code == 0, run.stderr
    two("patient", "add", "Ada Li")
    assert two("appt", "add", "ada", "--start", "2026-12-01 11:30", "--type", "phone").exit_code == 0
    assert [r["attending"] for r in rows("SELECT attending FROM appointment ORDER BY id")] == [1, 0, 0, 1]


def test_edit_not_attending_frees_the_coordinators_time_and_attending_is_checked(two, unchanged, rows):
    assert two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "home-visit").exit_code == 0
    run = two("appt", "edit", "1", "--not-attending")
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT attending, sequence FROM appointment") == [{"attending": 0, "sequence": 1}]
    assert two("appt", "add", "omar", "--start", "2026-12-01 10:00", "--type", "home-visit").exit_code == 0
    with unchanged():  # attending it again would double-book the coordinator
        assert_one_line_error(two("appt", "edit", "1", "--attending"), 1, "clashes with appointment #2", "--force")
    assert two("appt", "edit", "1", "--attending", "--force").exit_code == 0
    assert rows("SELECT attending FROM appointment ORDER BY id") == [{"attending": 1}, {"attending": 1}]


def test_a_new_type_brings_its_default_unless_overridden(two, rows):
    two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "home-visit")
    two("appt", "add", "jane", "--start", "2026-12-02 10:00", "--type", "specialist", "--attending")
    assert two("appt", "edit", "1", "--type", "pcp").exit_code == 0  # the default followed the type
    assert two("appt", "edit", "2", "--type", "office").exit_code == 0  # an override stays
    assert two("appt", "edit", "2", "--type", "phone", "--not-attending").exit_code == 0  # as told
    assert rows("SELECT kind, attending FROM appointment ORDER BY id") == [
        {"kind": "pcp", "attending": 0}, {"kind": "phone", "attending": 0},
    ]  # fmt: skip


def test_an_endless_attended_series_is_checked_for_its_first_year(two, unchanged):
    assert (
        two("appt", "add", "jane", "--start", "2026-12-03 10:00", "--type", "home-visit", "--every", "weekly").exit_code
        == 0
    )
    assert two("appt", "add", "omar", "--start", "2027-11-25 10:00", "--type", "specialist").exit_code == 0
    with unchanged():
        run = two("appt", "add", "omar", "--start", "2027-11-18 10:15", "--type", "telehealth")
        assert_one_line_error(run, 1, "clashes with appointment #1 (Home visit, Jane Doe) on 2027-11-18 10:00-11:00")
        # a series of the patient's own visits clashes with her own appointments within its first year
        run = two("appt", "add", "omar", "--start", "2026-12-03 10:00", "--type", "office", "--every", "weekly")
        assert_one_line_error(run, 1, "clashes with appointment #2 (Specialist visit, Omar Haddad) on 2027-11-25")
    # a series of visits the coordinator does not attend stands beside the attended one
    run = two(
        "appt", "add", "omar", "--start", "2026-12-03 10:00", "--type", "office", "--every", "weekly", "--count", "4"
    )
    assert run.exit_code == 0, run.stderr


def test_attending_is_shown_and_exported(two):
    two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "specialist", "--with", "Dr. Lee")
    shown = json.loads(two("appt", "show", "1", "-f", "json").stdout)
    assert (shown["attending"], shown["with"]) == (False, "Dr. Lee")
    assert "Attending" in two("appt", "show", "1").stdout
    header, row = two("appt", "list", "--from", "2026-12-01", "--to", "2026-12-01", "-f", "csv").stdout.splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=True))["attending"] == "false"


# --- booking in the past --------------------------------------------------------------------------


def test_booking_in_the_past_off_a_terminal_is_refused_unless_yes(two, unchanged, rows):
    with unchanged():
        run = two("appt", "add", "jane", "--start", "2026-11-23 10:00", "--type", "home-visit")
        assert_one_line_error(run, 2, "Mon 2026-11-23 10:00 is in the past", "after it took place, add --yes")
        run = two("appt", "add", "jane", "--start", "2026-11-02 10:00", "--every", "weekly")
        assert_one_line_error(run, 2, "the series starts in the past (Mon 2026-11-02 10:00)", "add --yes")
    assert two("appt", "add", "jane", "--start", "2026-11-23 10:00", "--type", "home-visit", "--yes").exit_code == 0
    assert two("appt", "done", "1").exit_code == 0  # a visit recorded after the fact
    assert two("appt", "add", "jane", "--start", "today 11am").exit_code == 0  # later today is not the past
    assert two("appt", "add", "omar", "--start", "today 9:28am", "--type", "phone").exit_code == 0  # nor one just begun
    assert [r["status"] for r in rows("SELECT status FROM appointment ORDER BY id")] == [
        "fulfilled",
        "booked",
        "booked",
    ]


def test_booking_in_the_past_on_a_terminal_asks(two, unchanged, rows, monkeypatch):
    from types import SimpleNamespace

    import carecoord.commands._common as common

    monkeypatch.setattr(common, "sys", SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True)))
    with unchanged():
        run = two("appt", "add", "jane", "--start", "2026-11-23 10:00", input="n\n")
        assert "Mon 2026-11-23 10:00 is in the past. Book it anyway?" in run.stderr
        assert run.exit_code == 1 and "nothing was changed" in run.stderr
    run = two("appt", "add", "jane", "--start", "2026-11-23 10:00", input="y\n")
    assert run.exit_code == 0, run.stderr
    assert len(rows("SELECT id FROM appointment")) == 1


# --- what the options and tables say ---------------------------------------------------------------


def test_add_status_offers_exactly_what_it_accepts(cli):
    shown = cli("appt", "add", "--help").stdout
    assert "--status proposed|booked" in shown and "fulfilled" not in shown


def test_with_whom_has_its_own_column_not_the_where_column(two, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # no cell wraps
    two("appt", "add", "jane", "--start", "2026-12-01 10:00", "--type", "specialist", "--location", "Mercy Clinic",
        "--with", "Dr. Lee")  # fmt: skip
    two("appt", "add", "omar", "--start", "2026-12-01 14:00", "--type", "phone", "--with", "son")
    table = two("appt", "list", "--from", "2026-12-01", "--to", "2026-12-01").stdout
    header = next(line for line in table.splitlines() if line.lstrip().startswith("ID"))
    assert header.split()[-3:] == ["Where", "With", "Status"]
    where, with_ = header.index("Where"), header.index("With")
    jane = next(line for line in table.splitlines() if "Jane" in line)
    omar = next(line for line in table.splitlines() if "Omar" in line)
    assert jane[where:with_].strip() == "Mercy Clinic" and jane[with_:].split()[:2] == ["Dr.", "Lee"]
    assert omar[where:with_].strip() == "" and omar[with_:].split()[0] == "son"


def test_a_series_must_start_on_one_of_its_days(jane, unchanged):
    with unchanged():
        run = jane("appt", "add", "jane", "--start", "2026-12-02 10:00", "--every", "every mon,thu", "--count", "4")
        assert_one_line_error(run, 1, "Wed 2026-12-02 is not a day of this series (first: Thu 2026-12-03)")


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


@pytest.mark.parametrize(
    "args",
    [
        ("appt", "add", "jane", "--start", "fri", "--type", "home-visit"),
        ("appt", "add", "jane", "--start", "2026-12-01"),
        ("appt", "add", "jane", "--start", "fri 10am", "--end", "fri"),
    ],
)
def test_an_appointment_needs_a_time_of_day(two, unchanged, args):
    """'--start fri' alone used to book the visit at midnight: a time is asked for."""
    with unchanged():
        assert_one_line_error(two(*args), 1, "has no time of day: give one too")


def test_a_move_needs_a_time_of_day(booked, unchanged):
    with unchanged():
        assert_one_line_error(booked("appt", "move", "1", "--to", "fri"), 1, "'fri' has no time of day")
