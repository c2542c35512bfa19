"""Referrals with the loop closed (issue 14, items 3 to 6): states and the moves between them, the
history, consent before anything is shared, follow-up tasks moved on at each step, stalled referrals
in the agenda, and the referral report in four formats."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from carecoord.dates import add_business_days
from carecoord.services import referrals as rules
from tests.conftest import TEST_ZONE, assert_one_line_error


@pytest.fixture
def pantry(jane):
    """Jane Doe (#1) and the Weekly Food Pantry (resource #1, food-insecurity)."""
    run = jane("resource", "add", "Weekly Food Pantry", "--category", "food-insecurity", "--org", "Second Harvest")
    assert run.exit_code == 0, run.stderr
    return jane


def _tasks(rows):
    return rows("SELECT id, title, status, due_on, priority, tags FROM task ORDER BY id")


def test_a_food_referral_goes_from_draft_to_closed_with_its_follow_ups_at_each_step(pantry, rows):
    """The issue's 'Done when': draft -> sent -> received -> accepted -> completed -> closed (got-help)."""
    cli = pantry
    added = cli("referral", "add", "jane", "--resource", "pantry", "--reason", "Out of food twice this month")
    assert added.exit_code == 0, added.stderr
    due = add_business_days(date(2026, 11, 25), 3)  # 30 Nov; 1 Dec once Thanksgiving counts as a holiday
    assert added.stdout.strip() == (
        "Added referral #1 to Weekly Food Pantry (draft) for #1 Jane Doe. Follow-up: task #1 Referral #1: check "
        f"that Weekly Food Pantry received it, due {due} (requested). No consent recorded yet: it stays a "
        "draft until there is."
    )
    [stored] = rows("SELECT patient_id, resource_id, recipient, kind, need, status, consent_method FROM referral")
    assert stored == {"patient_id": 1, "resource_id": 1, "recipient": "Weekly Food Pantry", "kind": "community",
                      "need": "food-insecurity", "status": "draft", "consent_method": None}  # fmt: skip
    assert cli("referral", "consent", "1", "verbal").exit_code == 0
    steps = [
        ("sent", (), "check that Weekly Food Pantry received it"),
        ("received", (), "check whether Weekly Food Pantry accepted it"),
        ("accepted", ("--note", "intake on Monday"), "confirm the first appointment with Weekly Food Pantry"),
        ("completed", (), "ask the patient whether they got help from Weekly Food Pantry"),
    ]
    for status, extra, follow_up in steps:
        run = cli("referral", "status", "1", status, *extra)
        assert run.exit_code == 0, (status, run.stderr)
        open_tasks = [t for t in _tasks(rows) if t["status"] == "requested"]
        assert [t["title"] for t in open_tasks] == [f"Referral #1: {follow_up}"], status
        assert open_tasks[0]["tags"] == "referral"
    due = {t["title"].split(": ", 1)[1]: t["due_on"] for t in _tasks(rows)}
    assert due["ask the patient whether they got help from Weekly Food Pantry"] == "2026-12-02"  # within 7 days
    closed = cli("referral", "status", "1", "closed", "--outcome", "got-help", "--note", "Picking up weekly")
    assert closed.exit_code == 0, closed.stderr
    assert closed.stdout.strip() == (
        "Referral #1 to Weekly Food Pantry: completed -> closed (got-help). Its follow-up tasks are closed."
    )
    # the draft's follow-up was carried to the send; every follow-up is done now
    assert [(t["id"], t["status"]) for t in _tasks(rows)] == [(1, "completed"), (2, "completed"), (3, "completed"),
                                                               (4, "completed")]  # fmt: skip
    [final] = rows("SELECT status, outcome, sent_on, closed_on, followup_task_id FROM referral")
    assert final == {"status": "closed", "outcome": "got-help", "sent_on": "2026-11-25", "closed_on": "2026-11-25",
                     "followup_task_id": None}  # fmt: skip
    shown = json.loads(cli("referral", "show", "1", "-f", "json").stdout)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in shown["history"]] == [
        ("created", None, "draft"), ("consent", None, None), ("status", "draft", "sent"),
        ("status", "sent", "received"), ("status", "received", "accepted"), ("status", "accepted", "completed"),
        ("status", "completed", "closed"),
    ]  # fmt: skip
    assert shown["history"][-1]["outcome"] == "got-help" and shown["history"][4]["note"] == "intake on Monday"
    table = cli("referral", "show", "1").stdout
    assert "completed -> closed," in table and "got-help" in table and "History" in table
    assert "verbal, given by Jane Doe on 2026-11-25" in table


def test_sent_without_consent_is_refused_saying_how_to_record_it(pantry, unchanged):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry")
    with unchanged():
        run = cli("referral", "status", "1", "sent")
    assert_one_line_error(run, 1, "cannot be sent without the patient's consent",
                          "carecoord referral consent 1 verbal")  # fmt: skip
    assert (
        cli("referral", "edit", "1", "--consent", "written", "--consent-by", "Ann Doe (daughter, POA)").exit_code == 0
    )
    assert cli("referral", "status", "1", "sent").exit_code == 0


def test_consent_records_how_who_and_when_and_who_took_it(pantry, rows, unchanged, engine):
    from carecoord.services.audit import os_user

    cli = pantry
    run = cli("referral", "add", "jane", "--to", "Dr. Patel, cardiology", "--kind", "specialist", "--consent",
              "written", "--consent-by", "Ann Doe")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "No consent recorded yet" not in run.stdout
    cli("referral", "add", "jane", "--resource", "pantry")
    assert cli("referral", "consent", "2", "verbal", "--date", "yesterday").exit_code == 0
    stored = rows(
        "SELECT recipient, kind, resource_id, consent_method, consent_by, consent_on FROM referral ORDER BY id"
    )
    assert stored == [
        {"recipient": "Dr. Patel, cardiology", "kind": "specialist", "resource_id": None, "consent_method": "written",
         "consent_by": "Ann Doe", "consent_on": "2026-11-25"},
        {"recipient": "Weekly Food Pantry", "kind": "community", "resource_id": 1, "consent_method": "verbal",
         "consent_by": "Jane Doe", "consent_on": "2026-11-24"},
    ]  # fmt: skip
    recorded_by = rows("SELECT consent_recorded_by FROM referral WHERE id = 2")[0]["consent_recorded_by"]
    # the OS user on a file, the database role on a server
    assert recorded_by == (os_user() if engine == "sqlite" else rows("SELECT current_user AS u")[0]["u"])
    with unchanged():
        assert_one_line_error(cli("referral", "consent", "2", "verbal", "--date", "tomorrow"), 1, "in the future")
        assert_one_line_error(cli("referral", "consent", "2", "spoken"), 1, "'spoken' is not one of 'verbal'")
        assert_one_line_error(cli("referral", "edit", "2", "--consent-by", "Ann"), 2, "--consent-by goes with")


@pytest.mark.parametrize(
    ("moves", "bad", "message"),
    [
        ((("sent",), ("completed",)), ("sent",), "is completed and cannot become sent (from completed: closed)"),
        ((), ("closed", "--outcome", "got-help"), "is draft and cannot become closed"),
        (
            (("cancelled", "--note", "moved away"),),
            ("sent",),
            "cancelled and cannot become sent (from cancelled: nothing",
        ),
        ((("sent",),), ("sent",), "is already sent"),
        ((("sent",), ("accepted",)), ("received",), "is accepted and cannot become received"),
    ],
)
def test_a_move_that_makes_no_sense_is_refused_and_nothing_changes(pantry, unchanged, moves, bad, message):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    for move in moves:
        assert cli("referral", "status", "1", *move).exit_code == 0, move
    with unchanged():
        assert_one_line_error(cli("referral", "status", "1", *bad), 1, message)


def test_closing_needs_an_outcome_cancelling_a_reason_and_outcomes_belong_to_the_end(pantry, unchanged, rows):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    cli("referral", "status", "1", "sent")
    with unchanged():
        assert_one_line_error(cli("referral", "status", "1", "cancelled"), 1, "needs a reason: --note")
        assert_one_line_error(cli("referral", "status", "1", "received", "--outcome", "got-help"), 1,
                              "an outcome is recorded when")  # fmt: skip
        assert_one_line_error(cli("referral", "status", "1", "rejected", "--date", "tomorrow"), 1, "in the future")
        assert_one_line_error(cli("referral", "status", "1", "accepted", "--date", "2026-11-01"), 1,
                              "was sent on 2026-11-25")  # fmt: skip
    rejected = cli("referral", "status", "1", "rejected", "--outcome", "not-eligible", "--note", "outside county")
    assert rejected.exit_code == 0, rejected.stderr
    assert cli("referral", "status", "1", "closed").exit_code == 0  # the outcome recorded on rejection stands
    assert rows("SELECT status, outcome FROM referral") == [{"status": "closed", "outcome": "not-eligible"}]
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    cli("referral", "status", "2", "sent")
    cli("referral", "status", "2", "completed")
    with unchanged():
        assert_one_line_error(cli("referral", "status", "2", "closed"), 1, "needs what came of it: --outcome got-help")


def test_cancelling_cancels_the_open_follow_up(pantry, rows):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry")
    run = cli("referral", "status", "1", "cancelled", "--note", "Patient moved in with her son")
    assert run.exit_code == 0, run.stderr
    assert _tasks(rows)[0]["status"] == "cancelled"
    assert rows("SELECT status, status_reason, closed_on FROM referral") == [
        {"status": "cancelled", "status_reason": "Patient moved in with her son", "closed_on": "2026-11-25"}
    ]


def test_a_rejected_referral_may_be_sent_again_and_the_first_answer_stays_in_the_history(pantry, rows):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    for args in (("sent",), ("rejected", "--outcome", "no-capacity"), ("sent", "--note", "waitlist opened")):
        assert cli("referral", "status", "1", *args).exit_code == 0, args
    assert rows("SELECT status, outcome FROM referral") == [{"status": "sent", "outcome": None}]
    history = json.loads(cli("referral", "show", "1", "-f", "json").stdout)["history"]
    assert [e["outcome"] for e in history if e["to_status"] == "rejected"] == ["no-capacity"]


def test_an_unknown_or_retired_resource_and_a_missing_recipient_are_refused(pantry, unchanged):
    cli = pantry
    cli("resource", "add", "Closed Pantry", "--category", "food")
    cli("resource", "retire", "closed pantry")
    with unchanged():
        assert_one_line_error(
            cli("referral", "add", "jane", "--resource", "shelter"), 1, "no resource matches 'shelter'"
        )
        assert_one_line_error(cli("referral", "add", "jane", "--resource", "2"), 1, "is retired")
        assert_one_line_error(cli("referral", "add", "jane"), 1, "give the recipient: --resource R")
        assert_one_line_error(cli("referral", "add", "jane", "--resource", "1", "--to", "X"), 1, "one of them")
        assert_one_line_error(
            cli("referral", "add", "jane", "--to", "X", "--need", "hunger"), 1, "invalid need 'hunger'"
        )
        assert_one_line_error(cli("referral", "add", "nobody", "--to", "X"), 1, "no patient matches 'nobody'")
        assert_one_line_error(cli("referral", "add", "jane", "--to", "X", "--follow-up", "soon"), 1, "--follow-up")
        assert_one_line_error(cli("referral", "show", "7"), 1, "no referral #7")
        assert_one_line_error(cli("referral", "show", "pantry"), 1, "give the referral's id")


def test_edits_are_kept_in_the_history_and_move_the_follow_up_with_them(pantry, rows, unchanged):
    cli = pantry
    cli("resource", "add", "Despensa de Alimentos", "--category", "food")
    cli("referral", "add", "jane", "--resource", "pantry")
    run = cli("referral", "edit", "1", "--resource", "despensa", "--priority", "urgent", "--need", "")
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT resource_id, recipient, priority, need FROM referral") == [
        {"resource_id": 2, "recipient": "Despensa de Alimentos", "priority": "urgent", "need": None}
    ]
    assert _tasks(rows)[0]["title"] == "Referral #1: check that Despensa de Alimentos received it"
    assert _tasks(rows)[0]["priority"] == "urgent"
    history = json.loads(cli("referral", "show", "1", "-f", "json").stdout)["history"]
    assert (
        history[-1]["action"] == "edited"
        and "recipient: Weekly Food Pantry -> Despensa de Alimentos" in (history[-1]["note"])
    )
    with unchanged():
        assert_one_line_error(cli("referral", "edit", "1", "--priority", "urgent"), 1, "nothing changed")
        assert_one_line_error(cli("referral", "edit", "1"), 2, "nothing to change")


def test_the_follow_up_is_due_after_business_days_skipping_the_weekend(pantry, rows):
    cli = pantry
    with time_machine.travel(datetime(2026, 10, 16, 9, 0, tzinfo=ZoneInfo(TEST_ZONE)), tick=False):  # a Friday
        assert cli("referral", "add", "jane", "--resource", "pantry").exit_code == 0
        assert cli("referral", "add", "jane", "--to", "Meals on Wheels", "--follow-up", "1w").exit_code == 0
    assert [t["due_on"] for t in _tasks(rows)] == ["2026-10-21", "2026-10-23"]


def test_the_week_to_ask_whether_the_patient_got_help_crosses_a_leap_day(pantry, rows):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    with time_machine.travel(datetime(2028, 2, 25, 16, 0, tzinfo=ZoneInfo(TEST_ZONE)), tick=False):
        assert cli("referral", "status", "1", "sent", "--date", "2028-02-20").exit_code == 0
        assert cli("referral", "status", "1", "completed").exit_code == 0
    assert _tasks(rows)[-1]["due_on"] == "2028-03-03"  # 25 Feb + 7 days, through 29 Feb


# --- lists, stalled referrals and the agenda -----------------------------------------------------


def test_referral_list_narrows_by_patient_status_need_resource_and_open(pantry):
    cli = pantry
    cli("patient", "add", "Omar Haddad")
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    cli("referral", "add", "omar", "--to", "Ride Lake County", "--need", "transportation")
    cli("referral", "add", "omar", "--to", "Dr. Patel", "--kind", "specialist")
    cli("referral", "status", "3", "cancelled", "--note", "duplicate")

    def ids(*args: str) -> list[int]:
        run = cli("referral", "list", *args, "-f", "json")
        assert run.exit_code == 0, run.stderr
        return [r["id"] for r in json.loads(run.stdout)]

    assert ids() == [3, 2, 1]
    assert ids("--patient", "omar") == [3, 2]
    assert ids("--open") == [2, 1]
    assert ids("--status", "cancelled") == [3]
    assert ids("--need", "transportation-insecurity") == [2]
    assert ids("--resource", "pantry") == [1]
    assert ids("--stalled") == []
    header = next(csv.reader(io.StringIO(cli("referral", "list", "-f", "csv").stdout)))
    from carecoord.records import REFERRAL_KEYS

    assert header == list(REFERRAL_KEYS)


def test_a_referral_with_no_change_for_14_days_is_stalled_and_listed_in_the_agenda(pantry, monkeypatch):
    cli = pantry
    cli("patient", "add", "Omar Haddad")
    with time_machine.travel(datetime(2026, 11, 5, 10, 0, tzinfo=ZoneInfo(TEST_ZONE)), tick=False):
        cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
        cli("referral", "status", "1", "sent")
        cli("referral", "add", "omar", "--to", "Ride Lake County")
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo(TEST_ZONE)), tick=False):
        cli("referral", "status", "1", "received")  # Jane's moved on 5 days ago: not stalled
    stalled = json.loads(cli("referral", "list", "--stalled", "-f", "json").stdout)
    assert [(r["id"], r["days_since_change"], r["stalled"]) for r in stalled] == [(2, 20, True)]
    agenda = json.loads(cli("agenda", "-f", "json").stdout)
    [day] = agenda["days"]
    assert [(r["id"], r["recipient"], r["patient_name"]) for r in day["stalled_referrals"]] == [
        (2, "Ride Lake County", "Omar Haddad")
    ]
    markdown = cli("agenda", "-f", "markdown").stdout
    assert "### Stalled referrals" in markdown
    assert "- Referral #2 to Ride Lake County · Omar Haddad · draft, no change for 20 days" in markdown
    agenda_csv = list(csv.DictReader(io.StringIO(cli("agenda", "-f", "csv").stdout)))
    assert [(r["kind"], r["id"], r["summary"]) for r in agenda_csv if r["kind"] == "stalled referral"] == [
        ("stalled referral", "2", "referral to Ride Lake County")
    ]
    # the number of days is configurable
    monkeypatch.setenv("CARECOORD_STALLED_DAYS", "30")
    assert json.loads(cli("agenda", "-f", "json").stdout)["days"][0]["stalled_referrals"] == []
    monkeypatch.setenv("CARECOORD_STALLED_DAYS", "3")
    assert [r["id"] for r in json.loads(cli("referral", "list", "--stalled", "-f", "json").stdout)] == [2, 1]
    monkeypatch.setenv("CARECOORD_STALLED_DAYS", "two weeks")
    assert_one_line_error(cli("referral", "list", "--stalled"), 1, "CARECOORD_STALLED_DAYS must be a whole number")
    # a discharged patient's referrals leave the agenda, as their tasks do
    monkeypatch.delenv("CARECOORD_STALLED_DAYS")
    assert cli("patient", "discharge", "omar").exit_code == 0
    assert json.loads(cli("agenda", "-f", "json").stdout)["days"][0]["stalled_referrals"] == []


# --- the report ----------------------------------------------------------------------------------


@pytest.fixture
def referred(pantry):
    """Three referrals sent in November: Jane's food referral closed with got-help after 6 days, Omar's
    ride closed could-not-contact after 10 days, Omar's housing referral still open; a draft too."""
    cli = pantry
    cli("patient", "add", "Omar Haddad")
    cli("resource", "add", "Ride Lake County", "--category", "transportation")
    zone = ZoneInfo(TEST_ZONE)
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=zone), tick=False):
        for args in (("jane", "--resource", "pantry"), ("omar", "--resource", "ride"),
                     ("omar", "--to", "Housing Authority", "--need", "housing-instability")):  # fmt: skip
            assert cli("referral", "add", *args, "--consent", "verbal").exit_code == 0
        for ref in ("1", "2", "3"):
            assert cli("referral", "status", ref, "sent").exit_code == 0
    with time_machine.travel(datetime(2026, 11, 8, 10, 0, tzinfo=zone), tick=False):
        assert cli("referral", "status", "1", "completed").exit_code == 0
        assert cli("referral", "status", "1", "closed", "--outcome", "got-help").exit_code == 0
    with time_machine.travel(datetime(2026, 11, 12, 10, 0, tzinfo=zone), tick=False):
        assert cli("referral", "status", "2", "failed").exit_code == 0
        assert cli("referral", "status", "2", "closed", "--outcome", "could-not-contact").exit_code == 0
    assert cli("referral", "add", "jane", "--to", "Senior Center").exit_code == 0
    return cli


def test_report_referrals_counts_made_sent_closed_the_closure_rate_and_the_median(referred):
    run = referred("report", "referrals", "--from", "2026-11-01", "--to", "2026-11-30", "-f", "json")
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    assert {k: report[k] for k in ("from", "to", "made", "sent", "closed", "loop_closed", "loop_closure_rate",
                                   "median_days_sent_to_closed", "stalled", "stalled_after_days")} == {
        "from": "2026-11-01", "to": "2026-11-30", "made": 4, "sent": 3, "closed": 2, "loop_closed": 2,
        "loop_closure_rate": 66.7, "median_days_sent_to_closed": 8, "stalled": 1, "stalled_after_days": 14,
    }  # fmt: skip
    assert report["outcomes"]["got-help"] == 1 and report["outcomes"]["could-not-contact"] == 1
    by_need = {t["name"]: (t["made"], t["sent"], t["closed"], t["got_help"]) for t in report["by_need"]}
    assert by_need == {"food-insecurity": (1, 1, 1, 1), "transportation-insecurity": (1, 1, 1, 0),
                       "housing-instability": (1, 1, 0, 0), "(none)": (1, 0, 0, 0)}  # fmt: skip
    by_resource = {t["name"]: t["loop_closure_rate"] for t in report["by_resource"]}
    assert by_resource == {"Weekly Food Pantry": 100.0, "Ride Lake County": 100.0, "Housing Authority": 0.0,
                           "Senior Center": None}  # fmt: skip
    assert [r["id"] for r in report["stalled_referrals"]] == [3]  # sent on 2 Nov, nothing since


def test_report_referrals_in_table_markdown_and_csv(referred):
    args = ("report", "referrals", "--from", "2026-11-01", "--to", "2026-11-30")
    table = referred(*args).stdout
    assert "4 made, 3 sent, 2 closed; 66.7% loop closed (2 of 3 sent); median 8 days from sent to closed" in (
        " ".join(table.split())
    )
    assert "Food insecurity" in table and "Outcomes\n  got-help" in table  # the chart, on the terminal only
    markdown = referred(*args, "-f", "markdown").stdout
    assert "## By need" in markdown and "| Housing instability |" in markdown and "Outcomes\n  " not in markdown
    rows = list(csv.DictReader(io.StringIO(referred(*args, "-f", "csv").stdout)))
    assert rows[0] == {"group": "all", "name": "all", "made": "4", "sent": "3", "closed": "2", "got_help": "1",
                       "loop_closure_rate": "66.7"}  # fmt: skip
    assert {(r["group"], r["name"]) for r in rows} >= {("need", "food-insecurity"), ("resource", "Ride Lake County"),
                                                       ("outcome", "got-help")}  # fmt: skip


def test_report_referrals_with_nothing_in_the_period_and_a_period_backwards(referred):
    empty = json.loads(
        referred("report", "referrals", "--from", "2025-01-01", "--to", "2025-01-31", "-f", "json").stdout
    )
    assert (empty["made"], empty["loop_closure_rate"], empty["median_days_sent_to_closed"]) == (0, None, None)
    table = referred("report", "referrals", "--from", "2025-01-01", "--to", "2025-01-31").stdout
    assert "0 made, 0 sent, 0 closed; no referral was sent" in " ".join(table.split())
    assert_one_line_error(referred("report", "referrals", "--from", "2026-11-30", "--to", "2026-11-01"), 1,
                          "ends before it starts")  # fmt: skip


# --- the rules as data ---------------------------------------------------------------------------


def test_every_status_has_its_moves_and_every_open_status_a_follow_up():
    from carecoord.vocab import ReferralStatus

    assert set(rules.TRANSITIONS) == {s.value for s in ReferralStatus}
    assert all(target in rules.TRANSITIONS for targets in rules.TRANSITIONS.values() for target in targets)
    assert set(rules.FOLLOW_UPS) == rules.OPEN
    assert rules.TRANSITIONS["closed"] == rules.TRANSITIONS["cancelled"] == frozenset()
    assert "sent" not in rules.TRANSITIONS["completed"]


@pytest.mark.parametrize(("typed", "days"), [("3", 3), ("3d", 3), ("5 days", 5), ("1w", 5), ("2 weeks", 10)])
def test_follow_up_is_read_as_business_days(typed, days):
    assert rules.parse_follow_up(typed) == days


def test_a_follow_up_due_after_a_move_dated_in_the_past_counts_from_that_day(pantry, rows):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    assert cli("referral", "status", "1", "sent", "--date", "2026-10-16").exit_code == 0  # a Friday
    assert cli("referral", "status", "1", "accepted", "--date", "2026-10-19").exit_code == 0
    assert _tasks(rows)[-1]["due_on"] == "2026-10-22"  # Monday + 3 business days


# --- a team on one PostgreSQL server -------------------------------------------------------------

from tests.test_team import team  # noqa: E402, F401  (the fixture: two coordinators and a supervisor)


@pytest.mark.postgresql
def test_a_coordinator_sees_only_their_patients_referrals_and_history_but_the_whole_directory(team):  # noqa: F811
    import psycopg

    for role, name, mrn, resource in ((team.ann, "Ann Patient", "A1", "Ann's Pantry"),
                                      (team.bob, "Bob Patient", "B1", "Bob's Shelter")):  # fmt: skip
        for args in (("patient", "add", name, "--mrn", mrn), ("resource", "add", resource, "--category", "food"),
                     ("referral", "add", mrn, "--resource", resource, "--consent", "verbal")):  # fmt: skip
            run = team.run(role, *args)
            assert run.exit_code == 0, (args, run.stderr)
    # Bob refers his patient to Ann's pantry too: the directory is everyone's
    assert team.run(team.bob, "referral", "add", "B1", "--resource", "Ann's Pantry").exit_code == 0
    for role, patient, count, events in ((team.ann, "Ann Patient", 1, 2), (team.bob, "Bob Patient", 2, 3)):
        listed = json.loads(team.run(role, "referral", "list", "-f", "json").stdout)
        assert {r["patient_name"] for r in listed} == {patient} and len(listed) == count
        assert team.count(role, "referral") == count  # and through plain SQL, as psql would
        assert team.count(role, "referral_event") == events  # created (+ consent)
        assert team.count(role, "resource") == 2
        assert sorted(r["name"] for r in json.loads(team.run(role, "resource", "list", "-f", "json").stdout)) == [
            "Ann's Pantry", "Bob's Shelter"
        ]  # fmt: skip
    assert_one_line_error(team.run(team.ann, "referral", "show", "2"), 1, "no referral #2")
    assert (team.count(team.sue, "referral"), team.count(team.sue, "referral_event")) == (3, 5)
    # everyone corrects the directory, nobody deletes from it; nobody writes another's referral history
    assert team.run(team.bob, "resource", "edit", "Ann's Pantry", "--phone", "555-0100").exit_code == 0
    assert json.loads(team.run(team.ann, "resource", "show", "Ann's Pantry", "-f", "json").stdout)["referrals"] == 1
    before = team.store.dump()
    for role in (team.ann, team.sue):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            team.sql(role, "DELETE FROM resource")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        team.sql(team.bob, "INSERT INTO referral_event (uid, created_at, updated_at, referral_id, at, happened_on, "
                           "action, recorded_by) VALUES ('x', now(), now(), 1, now(), now(), 'edited', 'bob')")  # fmt: skip
    assert team.store.dump() == before


def test_the_demo_holds_a_directory_and_referrals_at_every_stage_of_the_loop(cli, tmp_path, monkeypatch):
    demo = tmp_path / "demo.db"
    assert cli("demo", "--path", str(demo)).exit_code == 0
    monkeypatch.setenv("CARECOORD_DB", str(demo))
    assert len(json.loads(cli("resource", "list", "-f", "json").stdout)) == 6
    listed = json.loads(cli("referral", "list", "-f", "json").stdout)
    assert sorted((r["patient_name"], r["status"], r["outcome"], r["stalled"]) for r in listed) == [
        ("Aisha Rahman", "received", None, False), ("Dolores Ruiz", "draft", None, False),
        ("Luis Hernández", "closed", "got-help", False), ("Walter Brooks", "sent", None, True),
    ]  # fmt: skip
    report = json.loads(cli("report", "referrals", "-f", "json").stdout)
    assert (report["made"], report["sent"], report["loop_closed"], report["stalled"]) == (4, 3, 1, 1)
    agenda = json.loads(cli("agenda", "-f", "json").stdout)
    assert [r["patient_name"] for r in agenda["days"][0]["stalled_referrals"]] == ["Walter Brooks"]


def test_the_rules_hold_for_any_caller_of_the_service(session, patient):
    """A future front end goes through services/referrals.py too: the same refusals, the same history."""
    from carecoord.errors import ConflictError, ValidationError
    from carecoord.services import resources

    pantry = resources.add_resource(session, name="Pantry", category="food")
    referral = rules.add_referral(session, patient, rules.NewReferral(resource=pantry))
    assert (referral.status, referral.need, referral.kind) == ("draft", "food-insecurity", "community")
    with pytest.raises(ConflictError, match="without the patient's consent"):
        rules.change_status(session, referral, rules.Move("sent"))
    rules.record_consent(session, referral, rules.Consent("written"))
    rules.change_status(session, referral, rules.Move("sent"))
    with pytest.raises(ValidationError, match="needs a reason"):
        rules.change_status(session, referral, rules.Move("cancelled"))
    rules.change_status(session, referral, rules.Move("completed"))
    with pytest.raises(ConflictError, match="cannot become sent"):
        rules.change_status(session, referral, rules.Move("sent"))
    assert [(e.action, e.to_status) for e in rules.history(session, referral)] == [
        ("created", "draft"), ("consent", None), ("status", "sent"), ("status", "completed"),
    ]  # fmt: skip


def test_deleting_a_patient_entered_by_mistake_removes_their_referrals_each_audited(pantry, rows):
    cli = pantry
    cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal")
    run = cli("patient", "delete", "jane", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "1 referral" in run.stdout
    assert (
        rows("SELECT count(*) AS n FROM referral")[0]["n"]
        == rows("SELECT count(*) AS n FROM referral_event")[0]["n"]
        == 0
    )
    deleted = {r["table_name"] for r in rows("SELECT table_name FROM audit_log WHERE action = 'delete'")}
    assert {"referral", "referral_event", "task", "patient"} <= deleted
    assert rows("SELECT status FROM resource") == [{"status": "active"}]  # the directory keeps the resource


def test_a_referrals_history_is_in_its_patients_audit_trail(pantry, rows):
    cli = pantry
    assert cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal").exit_code == 0
    assert cli("referral", "status", "1", "sent").exit_code == 0
    events = rows("SELECT action, patient_id FROM audit_log WHERE table_name = 'referral_event' ORDER BY id")
    assert len(events) >= 2 and {e["patient_id"] for e in events} == {1}
    shown = json.loads(cli("audit", "--patient", "jane", "-f", "json").stdout)
    assert "referral_event" in {e["table"] for e in shown}


# --- from screening to referral (item 7) ---------------------------------------------------------


def test_a_screening_lists_resources_for_the_needs_it_found_and_a_referral_links_back_to_it(cli, rows, unchanged):
    cli("patient", "add", "Jane Doe")
    cli("patient", "add", "Omar Said")
    cli("resource", "add", "Weekly Food Pantry", "--category", "food-insecurity", "--phone", "555-0142")
    cli("resource", "add", "Dial-a-Ride", "--category", "transportation-insecurity")
    run = cli("screen", "add", "jane", "hvs", "--answers", "2,3")  # 'sometimes true': food insecurity
    assert run.exit_code == 0, run.stderr
    assert "Resources for these needs: #1 Weekly Food Pantry (food-insecurity). Refer with: carecoord referral " \
           "add 1 --resource ID --screening 1" in run.stdout  # fmt: skip
    shown = json.loads(cli("screen", "show", "1", "-f", "json").stdout)
    assert shown["resources"] == [
        {"id": 1, "name": "Weekly Food Pantry", "category": "food-insecurity", "phone": "+15550142"}
    ]
    assert "Weekly Food Pantry" in cli("screen", "show", "1").stdout
    made = json.loads(cli("referral", "add", "jane", "--resource", "pantry", "--screening", "1", "-f", "json").stdout)
    assert (made["need"], made["screening_id"]) == ("food-insecurity", 1)
    # a recipient outside the directory: the need is the screening's only one
    made = json.loads(cli("referral", "add", "jane", "--to", "SNAP office", "--screening", "1", "-f", "json").stdout)
    assert (made["need"], made["screening_id"]) == ("food-insecurity", 1)
    assert "screening #1" in cli("referral", "show", "1").stdout
    assert [r["screening_id"] for r in rows("SELECT screening_id FROM referral ORDER BY id")] == [1, 1]
    with unchanged():
        assert_one_line_error(
            cli("referral", "add", "jane", "--resource", "ride", "--need", "transportation", "--screening", "1"),
            1, "screening #1 did not find transportation-insecurity (it found food-insecurity)",
        )  # fmt: skip
        assert_one_line_error(cli("referral", "add", "omar", "--to", "X", "--screening", "1"), 1,
                              "screening #1 is another patient's, not Omar Said's")  # fmt: skip
        assert_one_line_error(cli("referral", "add", "jane", "--to", "X", "--screening", "99"), 1, "no screening #99")
    # a screening deleted as entered in error leaves its referrals, unlinked
    assert cli("screen", "delete", "1", "--yes").exit_code == 0
    assert [r["screening_id"] for r in rows("SELECT screening_id FROM referral ORDER BY id")] == [None, None]
    unlinked = rows("SELECT record_id, changes FROM audit_log WHERE table_name = 'referral' AND action = 'update'")
    assert sorted(r["record_id"] for r in unlinked if '"screening_id": [1, null]' in r["changes"]) == [1, 2]


def test_one_day_reads_as_one_day_and_none_as_today(pantry, monkeypatch):
    """'1 days' and '(0 days ago)' read as unfinished: the agenda, 'referral show' and the report say
    '1 day', 'today' and 'median 1 day'."""
    cli = pantry
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo(TEST_ZONE)), tick=False):
        assert cli("referral", "add", "jane", "--resource", "pantry", "--consent", "verbal").exit_code == 0
        assert cli("referral", "status", "1", "sent").exit_code == 0
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TEST_ZONE)), tick=False):
        assert cli("referral", "status", "1", "completed").exit_code == 0
        assert cli("referral", "status", "1", "closed", "--outcome", "got-help").exit_code == 0
        assert cli("referral", "add", "jane", "--to", "Ride Lake County").exit_code == 0
    assert cli("referral", "add", "jane", "--to", "Senior Center").exit_code == 0
    monkeypatch.setenv("CARECOORD_STALLED_DAYS", "1")
    agenda = cli("agenda").stdout
    assert "Referral #2 to Ride Lake County · Jane Doe · draft, no change for 1 day\n" in agenda
    assert "1 days" not in agenda
    assert "Last change  2026-11-24 10:00 (1 day ago; stalled)" in cli("referral", "show", "2").stdout
    shown = cli("referral", "show", "3").stdout
    assert "(today)" in shown and "days ago" not in shown
    report = cli("report", "referrals", "--from", "2026-11-01", "--to", "2026-11-30").stdout
    assert "median 1 day from sent to closed" in " ".join(report.split())
