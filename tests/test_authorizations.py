"""Prior authorizations (issue 15, item 2): units approved, used by hand and by linked appointments
marked done, the checks that need --force, the agenda and 'report authorizations'.

Tests run on Wednesday 2026-11-25, 09:30 in New York (conftest)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import assert_one_line_error


def _json(run):  # type: ignore[no-untyped-def]
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def home_health(jane):  # type: ignore[no-untyped-def]
    """Jane Doe with Medicare and an approved home-health authorization #1 of 12 visits, Nov 1 to Dec 31."""
    jane("coverage", "add", "jane", "--payer", "Medicare", "--type", "medicare")
    run = jane("auth", "add", "jane", "--service", "home health visits", "--status", "approved", "--start",
               "2026-11-01", "--end", "2026-12-31", "--units", "12", "--unit", "visits", "--number", "PA-88231")  # fmt: skip
    assert run.stdout.strip() == "Added authorization #1 home health visits (approved) for #1 Jane Doe."
    return jane


def test_add_records_the_coverage_decision_and_the_documented_keys(home_health, rows):
    cli = home_health
    record = _json(cli("auth", "show", "1", "-f", "json"))
    assert {k: record[k] for k in ("coverage_id", "payer", "status", "decided_on", "requested_on", "units_approved",
                                   "units_used", "units_left", "unit", "number")} == {
        "coverage_id": 1, "payer": "Medicare", "status": "approved", "decided_on": "2026-11-25",
        "requested_on": None, "units_approved": 12, "units_used": 0, "units_left": 12, "unit": "visits",
        "number": "PA-88231",
    }  # fmt: skip
    listed = _json(cli("auth", "list", "-f", "json"))
    assert list(listed[0]) == [
        "id", "uid", "patient_id", "patient_name", "coverage_id", "payer", "referral_id", "service", "number", "status",
        "requested_on", "decided_on", "start_on", "end_on", "units_approved", "unit", "units_used", "units_left",
        "notes", "created_at", "updated_at",
    ]  # fmt: skip
    requested = _json(cli("auth", "add", "jane", "--service", "home oxygen", "-f", "json"))
    assert (requested["status"], requested["requested_on"], requested["decided_on"]) == (
        "requested", "2026-11-25", None
    )  # fmt: skip
    decided = _json(cli("auth", "status", "2", "approved", "--date", "yesterday", "-f", "json"))
    assert (decided["status"], decided["decided_on"]) == ("approved", "2026-11-24")
    assert cli("auth", "status", "2", "denied").exit_code == 1  # approved cannot become denied
    assert cli("auth", "status", "2", "expired").stdout.strip() == (
        "Authorization #2 (home oxygen) is expired (was approved)."
    )
    edited = _json(cli("auth", "edit", "2", "--number", "OX-1", "--end", "2027-02-28", "-f", "json"))
    assert (edited["number"], edited["end_on"]) == ("OX-1", "2027-02-28")
    for fmt in ("table", "markdown", "csv"):
        assert "home oxygen" in cli("auth", "list", "-f", fmt).stdout


def test_bad_authorizations_are_one_line_exit_1_and_change_nothing(home_health, unchanged):
    cli = home_health
    cli("patient", "add", "Omar Haddad")
    cli("coverage", "add", "omar", "--payer", "Aetna")
    with unchanged():
        assert_one_line_error(cli("auth", "add", "jane", "--service", "PT", "--units", "-3", "--unit", "visits"), 1,
                              "cannot be negative (-3)")  # fmt: skip
        assert_one_line_error(cli("auth", "add", "jane", "--service", "PT", "--units", "many", "--unit", "visits"), 1,
                              "must be a whole number")  # fmt: skip
        assert_one_line_error(cli("auth", "add", "jane", "--service", "PT", "--units", "4"), 1, "--unit visits")
        assert_one_line_error(cli("auth", "add", "jane", "--service", "PT", "--start", "2026-12-01", "--end",
                                  "2026-11-01"), 1, "ends (2026-11-01) before it starts (2026-12-01)")  # fmt: skip
        assert_one_line_error(cli("auth", "add", "jane", "--units", "2", "--unit", "days"), 1, "service must not be")
        assert_one_line_error(cli("auth", "add", "jane", "--service", "PT", "--coverage", "2"), 1,
                              "another patient's")  # fmt: skip
        assert_one_line_error(cli("auth", "add", "jane", "--service", "PT", "--status", "pending"), 1,
                              "invalid authorization status 'pending'")  # fmt: skip
        assert_one_line_error(cli("auth", "use", "1", "--units", "-2"), 1, "1 or more, not -2")
        assert_one_line_error(cli("auth", "use", "1", "--units", "0"), 1, "1 or more, not 0")
        assert_one_line_error(cli("auth", "use", "1", "--units", "13"), 1,
                              "has 12 visits left of 12; using 13 would go over", "--force")  # fmt: skip
        assert_one_line_error(cli("auth", "use", "1", "--date", "2026-10-31"), 1,
                              "before authorization #1 starts (2026-11-01)")  # fmt: skip
        assert_one_line_error(cli("auth", "use", "1", "--date", "tomorrow"), 1, "in the future")
        assert_one_line_error(cli("auth", "use", "9"), 1, "no authorization #9")
        assert_one_line_error(cli("auth", "status", "1", "approved"), 1, "already approved")
        assert_one_line_error(cli("auth", "edit", "1", "--units", "-1"), 1, "cannot be negative")
        assert_one_line_error(cli("auth", "edit", "1", "--end", "2026-10-01"), 1, "before it starts")


def test_use_counts_units_and_force_goes_over(home_health, rows):
    cli = home_health
    run = cli("auth", "use", "1", "--units", "3", "--date", "2026-11-20", "--note", "three PT visits")
    assert run.stdout.strip() == "Used 3 visits of authorization #1 on 2026-11-20; 9 visits left."
    assert cli("auth", "use", "1", "--units", "9").stdout.strip().endswith("0 visits left.")
    assert_one_line_error(cli("auth", "use", "1"), 1, "has 0 visits left of 12")
    forced = cli("auth", "use", "1", "--force", "--note", "extra visit, retro request sent")
    assert forced.stdout.strip() == "Used 1 visit of authorization #1 on 2026-11-25; 1 visit over what was approved."
    shown = _json(cli("auth", "show", "1", "-f", "json"))
    assert (shown["units_used"], shown["units_left"]) == (13, -1)
    assert [(u["used_on"], u["units"], u["note"]) for u in shown["uses"]] == [
        ("2026-11-20", 3, "three PT visits"), ("2026-11-25", 9, None),
        ("2026-11-25", 1, "extra visit, retro request sent"),
    ]  # fmt: skip
    table = cli("auth", "show", "1").stdout
    assert "Units used" in table and "2026-11-20  3" in table
    assert rows("SELECT sum(units) AS n FROM authorization_use") == [{"n": 13}]


def test_a_home_health_authorization_of_12_visits_is_used_by_visits_marked_done(home_health, rows):
    """The issue's 'Done when': visits done use the units; the agenda shows it when one is left."""
    cli = home_health
    run = cli("appt", "add", "jane", "--start", "2026-11-02 10am", "--type", "home-visit", "--every", "weekly",
              "--count", "8", "--auth", "1", "--yes")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run.stdout.strip().endswith("booked for #1 Jane Doe, using authorization #1.")
    for day in ("2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"):
        done = cli("appt", "done", "1", "--occurrence", day)
        assert done.exit_code == 0, done.stderr
    assert done.stdout.strip() == (
        "Home visit #1 of 2026-11-23 10:00 fulfilled. Used 1 visit of authorization #1, 8 visits left."
    )
    one_off = cli("appt", "add", "jane", "--start", "2026-11-24 2pm", "--type", "home-visit", "--auth", "1", "--yes")
    assert one_off.exit_code == 0, one_off.stderr
    cli("appt", "done", "2")
    cli("auth", "use", "1", "--units", "6", "--note", "PT visits by the agency")
    shown = _json(cli("auth", "show", "1", "-f", "json"))
    assert (shown["units_used"], shown["units_left"]) == (11, 1)
    assert [(u["used_on"], u["appointment_id"]) for u in shown["uses"]] == [
        ("2026-11-02", 1), ("2026-11-09", 1), ("2026-11-16", 1), ("2026-11-23", 1), ("2026-11-24", 2),
        ("2026-11-25", None),
    ]  # fmt: skip
    agenda = _json(cli("agenda", "-f", "json"))
    [flagged] = agenda["days"][0]["authorizations"]
    assert (flagged["id"], flagged["units_left"], flagged["reasons"]) == (1, 1, ["1 visit left"])
    text = cli("agenda").stdout
    assert "### Authorizations" in text and "home health visits" in text and "1 visit left" in text
    # a no-show after all gives the unit back; done again takes it
    back = cli("appt", "noshow", "1", "--occurrence", "2026-11-23")
    assert back.stdout.strip().endswith("Gave back 1 unit of authorization #1.")
    assert _json(cli("auth", "show", "1", "-f", "json"))["units_left"] == 2
    assert cli("appt", "done", "1", "--occurrence", "2026-11-23").exit_code == 0
    # booking more than is left needs --force; unlinking gives the units back
    assert_one_line_error(cli("appt", "add", "jane", "--start", "2026-12-01 10am", "--type", "home-visit", "--every",
                              "weekly", "--count", "3", "--auth", "1"), 1, "1 visit left of 12",
                          "3 sittings to come", "--force")  # fmt: skip
    unlinked = cli("appt", "edit", "2", "--auth", "")
    assert unlinked.stdout.strip().endswith("Gave back 1 unit of authorization #1.")
    assert rows("SELECT count(*) AS n FROM authorization_use WHERE appointment_id IS NOT NULL") == [{"n": 4}]
    relinked = cli("appt", "edit", "2", "--auth", "1")
    assert relinked.stdout.strip().endswith("Used 1 visit of authorization #1, 1 visit left.")
    # the appointment's record names its authorization
    assert _json(cli("appt", "show", "2", "-f", "json"))["authorization_id"] == 1


def test_booking_outside_the_dates_or_with_no_units_left_needs_force(home_health, unchanged, rows):
    cli = home_health
    with unchanged():
        assert_one_line_error(cli("appt", "add", "jane", "--start", "2027-01-05 10am", "--type", "home-visit",
                                  "--auth", "1"), 1, "2027-01-05 is after authorization #1 ends (2026-12-31)",
                              "--force")  # fmt: skip
        assert_one_line_error(cli("appt", "add", "jane", "--start", "mon 10am", "--type", "home-visit", "--every",
                                  "weekly", "--auth", "1"), 1, "the series has no end")  # fmt: skip
        assert_one_line_error(cli("appt", "add", "jane", "--start", "mon 10am", "--auth", "7"), 1,
                              "no authorization #7")  # fmt: skip
    forced = cli("appt", "add", "jane", "--start", "2027-01-05 10am", "--type", "home-visit", "--auth", "1", "--force")
    assert forced.exit_code == 0, forced.stderr
    cli("auth", "use", "1", "--units", "12")
    with unchanged():
        assert_one_line_error(cli("appt", "add", "jane", "--start", "fri 10am", "--type", "home-visit", "--auth",
                                  "1"), 1, "has 0 visits left of 12")  # fmt: skip
    # another patient's authorization cannot be linked
    cli("patient", "add", "Omar Haddad")
    cli("auth", "add", "omar", "--service", "PT", "--status", "approved")
    with unchanged():
        assert_one_line_error(cli("appt", "add", "jane", "--start", "fri 10am", "--auth", "2", "--force"), 1,
                              "another patient's")  # fmt: skip
    # auth add --appt links a visit already done, which then uses a unit (ids from the records: on
    # PostgreSQL the refused bookings above used up ids too)
    visit = _json(cli("appt", "add", "jane", "--start", "2026-11-23 10am", "--type", "home-visit", "--yes", "-f",
                      "json"))["id"]  # fmt: skip
    cli("appt", "done", str(visit))
    linked = cli("auth", "add", "jane", "--service", "wound care visits", "--status", "approved", "--units", "4",
                 "--unit", "visits", "--appt", str(visit))  # fmt: skip
    new = rows("SELECT max(id) AS id FROM prior_authorization")[0]["id"]
    assert linked.stdout.strip() == (
        f"Added authorization #{new} wound care visits (approved) for #1 Jane Doe. Linked appointment #{visit}. "
        f"Used 1 visit of authorization #{new}, 3 visits left."
    )


def test_the_agenda_and_report_list_what_needs_a_look(cli, rows):
    cli("patient", "add", "Jane Doe")
    cli("patient", "add", "Gone Patient")
    for args in (
        ("coverage", "add", "jane", "--payer", "Humana", "--end", "2026-12-20"),  # ends in 25 days
        ("coverage", "add", "jane", "--payer", "Medicaid", "--order", "secondary", "--end", "2027-03-01"),
        ("auth", "add", "jane", "--service", "home oxygen", "--status", "approved", "--end", "+10d"),  # in 10 days
        ("auth", "add", "jane", "--service", "walker", "--status", "approved", "--end", "+20d"),  # not yet
        ("auth", "add", "jane", "--service", "PT evaluation", "--requested", "2026-11-17"),  # 8 days, no decision
        ("auth", "add", "jane", "--service", "OT evaluation", "--requested", "2026-11-19"),  # 6 days: not yet
        ("auth", "add", "gone", "--service", "oxygen", "--status", "approved", "--end", "+3d"),
        ("patient", "discharge", "gone"),
    ):
        run = cli(*args)
        assert run.exit_code == 0, (args, run.stderr)
    agenda = _json(cli("agenda", "-f", "json"))
    day = agenda["days"][0]
    assert [(a["id"], a["reasons"]) for a in day["authorizations"]] == [
        (1, ["ends 2026-12-05"]), (3, ["requested 2026-11-17, no decision"])
    ]  # fmt: skip
    assert [(c["id"], c["payer"], c["end_on"]) for c in day["coverage_ending"]] == [(1, "Humana", "2026-12-20")]
    # a longer agenda lists each from the day it comes within reach
    week = _json(cli("agenda", "--days", "7", "-f", "json"))
    walker = [(d["date"], a["id"]) for d in week["days"] for a in d["authorizations"] if a["id"] == 2]
    assert walker == [("2026-12-01", 2)]  # ends 2026-12-15: 14 days before
    assert [(d["date"], a["id"]) for d in week["days"] for a in d["authorizations"] if a["id"] == 4] == [
        ("2026-11-26", 4)  # requested 2026-11-19: 7 days on
    ]
    text = cli("agenda").stdout
    assert "### Coverage ending" in text and "Humana (primary) · Jane Doe · ends 2026-12-20" in text
    rows_csv = list(csv.reader(io.StringIO(cli("agenda", "-f", "csv").stdout)))
    assert ["2026-11-25", "authorization", "", "1", "Jane Doe", "home oxygen: ends 2026-12-05", "approved", "false",
            "1", ""] in rows_csv  # fmt: skip
    assert any(r[1] == "coverage ending" and r[3] == "1" for r in rows_csv)
    report = _json(cli("report", "authorizations", "-f", "json"))
    assert [(r["kind"], r["id"], r["reasons"]) for r in report] == [
        ("authorization", 1, ["ends 2026-12-05"]), ("authorization", 3, ["requested 2026-11-17, no decision"]),
        ("coverage", 1, ["coverage ends 2026-12-20"]),
    ]  # fmt: skip
    header = next(csv.reader(io.StringIO(cli("report", "authorizations", "-f", "csv").stdout)))
    assert header == ["kind", "id", "patient_id", "patient_name", "what", "payer", "status", "start_on", "end_on",
                      "units_approved", "units_used", "units_left", "unit", "reasons"]  # fmt: skip
    assert "| authorization | 1 |" in cli("report", "authorizations", "-f", "markdown").stdout.replace("  ", " ")
    assert "home oxygen" in cli("report", "authorizations").stdout
    # auth list --expiring: approved ones ending within DAYS, soonest first
    assert [a["id"] for a in _json(cli("auth", "list", "--expiring", "30", "-f", "json"))] == [1, 2]
    assert [a["id"] for a in _json(cli("auth", "list", "--expiring", "12", "-f", "json"))] == [1]
    assert "ending within 30 days (2)" in cli("auth", "list", "--expiring", "30").stdout


def test_patient_delete_removes_coverage_authorizations_and_uses_each_audited(home_health, rows):
    cli = home_health
    cli("auth", "use", "1", "--units", "2")
    run = cli("patient", "delete", "jane", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "1 authorization" in run.stdout and "1 coverage" in run.stdout
    for table in ("coverage", "prior_authorization", "authorization_use"):
        assert rows(f"SELECT count(*) AS n FROM {table}") == [{"n": 0}]
    deleted = {e["table"] for e in _json(cli("audit", "-f", "json")) if e["action"] == "delete"}
    assert deleted >= {"coverage", "prior_authorization", "authorization_use", "patient"}


def test_the_demo_has_coverage_and_a_home_health_authorization(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from carecoord.cli import app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    demo = str(tmp_path / "carecoord" / "demo.db")
    listed = json.loads(runner.invoke(app, ["--db", demo, "auth", "list", "-f", "json"]).stdout)
    home = next(a for a in listed if a["service"] == "home health visits")
    assert (home["units_approved"], home["unit"], home["units_left"]) == (12, "visits", 1)
    assert json.loads(runner.invoke(app, ["--db", demo, "coverage", "list", "-f", "json"]).stdout)


def test_the_audit_trail_names_the_patient_of_each_use(home_health):
    cli = home_health
    cli("auth", "use", "1", "--units", "2", "--note", "two visits")
    entries = _json(cli("audit", "--patient", "jane", "-f", "json"))
    [use] = [e for e in entries if e["table"] == "authorization_use"]
    assert (use["action"], use["patient_id"], use["changes"]["units"]) == ("create", 1, [None, 2])


def test_the_records_are_declared_once_and_match_their_tables():
    from sqlmodel import SQLModel

    from carecoord import models  # noqa: F401
    from carecoord.fields import AUTHORIZATION, COVERAGE, DERIVED_KEYS

    for record, table in ((COVERAGE, "coverage"), (AUTHORIZATION, "prior_authorization")):
        columns = set(SQLModel.metadata.tables[table].columns.keys())
        declared = set(record.keys) - DERIVED_KEYS[record.noun]
        assert declared == columns, (record.noun, declared ^ columns)


def test_marking_done_is_one_rule_however_often_it_runs(session, patient):
    """Service level: the uses of a linked appointment follow its sittings done, and syncing again changes nothing."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlmodel import select

    from carecoord.models import AuthorizationUse
    from carecoord.services import appointments, authorizations

    authorization = authorizations.add_authorization(
        session, patient, {"service": "PT", "status": "approved", "units_approved": 4, "unit": "visits"}
    )
    zone = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 2, 23, 30, tzinfo=zone)  # late in the evening: the use is that local day
    booking = appointments.Booking(start, start.replace(hour=23, minute=59), "America/New_York", "home-visit",
                                   rrule="FREQ=WEEKLY;COUNT=3", authorization_id=authorization.id)  # fmt: skip
    series = appointments.add_appointment(session, patient, booking)
    appointments.set_outcome(session, series, "fulfilled", occurrence=start.date())
    for _ in range(2):
        authorizations.sync_appointment(session, series)
    uses = session.exec(select(AuthorizationUse)).all()
    assert [(u.used_on.isoformat(), u.units, u.appointment_id) for u in uses] == [("2026-11-02", 1, series.id)]
    assert authorizations.left_of(session, authorization) == 3


def test_a_long_list_on_the_agenda_is_counted_past_its_first_rows(cli, monkeypatch):
    import carecoord.services.agenda

    monkeypatch.setattr(carecoord.services.agenda, "OVERDUE_SHOWN", 2)
    cli("patient", "add", "Jane Doe")
    for days in (3, 5, 7, 9):
        cli("auth", "add", "jane", "--service", f"supply {days}", "--status", "approved", "--end", f"+{days}d")
    for days in (4, 6, 8):
        cli("coverage", "add", "jane", "--payer", f"Payer {days}", "--order", "secondary" if days == 4 else "tertiary"
            if days == 6 else "primary", "--end", f"+{days}d")  # fmt: skip
    day = _json(cli("agenda", "-f", "json"))["days"][0]
    assert [a["service"] for a in day["authorizations"]] == ["supply 3", "supply 5"]
    assert [c["payer"] for c in day["coverage_ending"]] == ["Payer 4", "Payer 6"]
    assert day["more_overdue"] == {"authorizations": 2, "coverage_ending": 1}
    text = cli("agenda").stdout
    assert "... and 2 more authorizations to look at: see 'carecoord report authorizations'." in text
    assert len(_json(cli("report", "authorizations", "-f", "json"))) == 7  # the report lists them all


def test_an_authorization_names_the_referral_it_authorizes(cli, rows, unchanged):
    cli("patient", "add", "Jane Doe")
    cli("patient", "add", "Omar Said")
    cli("referral", "add", "jane", "--to", "Mercy Home Health", "--kind", "home-health")
    cli("referral", "add", "omar", "--to", "Eye clinic", "--kind", "specialist")
    run = cli("auth", "add", "jane", "--service", "home health visits", "--referral", "1", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["referral_id"] == 1
    assert rows("SELECT referral_id FROM prior_authorization") == [{"referral_id": 1}]
    assert "Referral" in cli("auth", "show", "1").stdout
    with unchanged():
        assert_one_line_error(cli("auth", "add", "jane", "--service", "x", "--referral", "2"), 1,
                              "referral #2 to Eye clinic (draft) is another patient's")  # fmt: skip
        assert_one_line_error(cli("auth", "add", "jane", "--service", "x", "--referral", "9"), 1, "no referral #9")
        assert_one_line_error(cli("auth", "edit", "1", "--referral", "2"), 1, "is another patient's")
    assert json.loads(cli("auth", "edit", "1", "--referral", "", "-f", "json").stdout)["referral_id"] is None


def test_auth_list_expiring_within_one_day_says_one_day(home_health):
    cli = home_health
    assert cli("auth", "edit", "1", "--end", "2026-11-26").exit_code == 0
    listed = cli("auth", "list", "--expiring", "1").stdout
    assert listed.startswith("Authorizations ending within 1 day (1)\n"), listed
