"""The record declarations (carecoord.fields) agree with the schema, the records and the commands;
records carry exactly the documented keys (an empty CSV listing its header too)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from sqlmodel import SQLModel

from carecoord import models  # noqa: F401  (registers the tables)
from carecoord.fields import (
    APPOINTMENT,
    COMMUNICATION,
    CONTACT,
    DERIVED_KEYS,
    GOAL,
    HIDDEN_COLUMNS,
    PATIENT,
    PLAN,
    RESOURCE,
    TASK,
    TRANSITION,
    RecordSpec,
)
from carecoord.records import (
    AUDIT_KEYS,
    CONTACT_KEYS,
    GOAL_KEYS,
    PATIENT_KEYS,
    PLAN_KEYS,
    REVIEW_KEYS,
    TASK_KEYS,
)
from tests.conftest import Run, assert_one_line_error


@pytest.mark.parametrize(
    "record",
    [PATIENT, CONTACT, RESOURCE, PLAN, GOAL, TASK, TRANSITION, COMMUNICATION, APPOINTMENT],
    ids=lambda r: r.noun,
)
def test_every_declared_field_is_a_column(record: RecordSpec) -> None:
    columns = set(SQLModel.metadata.tables[record.table_name].columns.keys())
    derived = DERIVED_KEYS.get(record.noun, frozenset())
    declared = {spec.source for spec in record.fields if spec.key not in derived}
    assert declared <= columns, declared - columns
    # every column a person can see is declared
    assert columns - HIDDEN_COLUMNS.get(record.noun, frozenset()) <= declared, columns - declared


@pytest.mark.parametrize(
    ("command", "record"),
    [
        ("patient", PATIENT),
        ("contact", CONTACT),
        ("resource", RESOURCE),
        ("plan", PLAN),
        ("goal", GOAL),
        ("task", TASK),
    ],
)
def test_add_and_edit_offer_an_option_for_every_settable_field(
    cli: Callable[..., Run], command: str, record: RecordSpec
) -> None:
    add_help, edit_help = cli(command, "add", "--help").stdout, cli(command, "edit", "--help").stdout
    for spec in record.editable:
        assert spec.option is not None
        first = spec.option.split()[0].split("/")[0]
        assert first in edit_help, first
        if spec.key not in ("name", "title", "description"):  # add takes these as its argument
            assert first in add_help, first


def test_declared_options_set_check_and_clear_fields(cli: Callable[..., Run], unchanged: Callable[..., object]) -> None:
    added = cli(
        "patient", "add", "Jane Doe", "--dob", "03/02/1950", "--risk", "Medium", "--phone", "555-0100", "-f", "json"
    )
    assert added.exit_code == 0, added.stderr
    record = json.loads(added.stdout)
    assert (record["birth_date"], record["risk"], record["phone"]) == ("1950-03-02", "moderate", "+15550100")
    cleared = json.loads(cli("patient", "edit", "jane", "--risk", "", "--phone", "", "-f", "json").stdout)
    assert (cleared["risk"], cleared["phone"]) == (None, None)
    with unchanged():  # type: ignore[attr-defined]
        assert_one_line_error(cli("patient", "edit", "jane", "--email", "not-an-address"), 1, "invalid email address")
        assert_one_line_error(cli("contact", "add", "jane", "Ann", "--prefers", "pigeon"), 1, "contact method")


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (("patient", "list", "--status", "on-hold"), PATIENT_KEYS),
        (("contact", "list"), CONTACT_KEYS),
        (("plan", "list"), PLAN_KEYS),
        (("goal", "list"), (*GOAL_KEYS, "patient_name")),
        (("task", "list"), TASK_KEYS),
        (("audit", "--since", "tomorrow"), AUDIT_KEYS),
    ],
)
def test_an_empty_csv_listing_still_has_its_header(cli, args, keys):
    run = cli(*args, "--format", "csv")
    assert run.stdout.splitlines() == [",".join(keys)]


def test_records_carry_exactly_the_documented_keys(cli):
    cli("patient", "add", "Jane Doe")
    cli("contact", "add", "1", "Ann")
    cli("plan", "add", "1", "Plan", "--status", "active")
    cli("goal", "add", "1", "Goal")
    cli("task", "add", "Task", "--goal", "1")
    review = json.loads(cli("plan", "review", "1", "-f", "json").stdout)
    assert tuple(review) == REVIEW_KEYS
    assert tuple(json.loads(cli("patient", "list", "-f", "json").stdout)[0]) == PATIENT_KEYS
    assert tuple(json.loads(cli("contact", "list", "-f", "json").stdout)[0]) == CONTACT_KEYS
    assert tuple(json.loads(cli("plan", "list", "-f", "json").stdout)[0]) == PLAN_KEYS
    assert tuple(json.loads(cli("goal", "list", "-f", "json").stdout)[0]) == (*GOAL_KEYS, "patient_name")
    assert tuple(json.loads(cli("task", "list", "-f", "json").stdout)[0]) == TASK_KEYS
    assert tuple(json.loads(cli("audit", "-f", "json").stdout)[0]) == AUDIT_KEYS
    with_contacts = cli("patient", "show", "1", "-f", "csv").stdout
    assert next(csv.reader(io.StringIO(with_contacts))) == list(PATIENT_KEYS)


def test_risk_and_preferred_method_can_be_cleared(cli, rows):
    cli("patient", "add", "Jane Doe", "--risk", "high")
    cli("contact", "add", "jane", "Ann", "--prefers", "text")
    assert cli("patient", "edit", "jane", "--risk", "").exit_code == 0
    assert cli("contact", "edit", "ann", "--prefers", "").exit_code == 0
    assert rows("SELECT risk FROM patient") == [{"risk": None}]
    assert rows("SELECT preferred_method FROM contact") == [{"preferred_method": None}]
    assert_one_line_error(cli("patient", "edit", "jane", "--risk", "extreme"), 1, "use one of low, moderate, high")


def test_plans_and_goals_take_their_options_from_one_declaration(cli, rows, unchanged):
    """Plan and goal add/edit options come from fields.PLAN and fields.GOAL: add takes every settable
    field (a plan's end too), edit clears with '' (the review interval too), and bad values are refused whole."""
    cli("patient", "add", "Jane Doe")
    added = cli("plan", "add", "jane", "CHF", "--end", "2027-06-30", "--review-every", "12w", "-f", "json")
    assert added.exit_code == 0, added.stderr
    assert (json.loads(added.stdout)["end_on"], json.loads(added.stdout)["review_every_days"]) == ("2027-06-30", 84)
    assert cli("goal", "add", "1", "Walk daily", "--measure", "steps log", "--target", "+8w").exit_code == 0
    assert cli("plan", "edit", "1", "--review-every", "", "--end", "").exit_code == 0
    assert cli("goal", "edit", "1", "--measure", "").exit_code == 0
    assert rows("SELECT end_on, review_every_days FROM care_plan") == [{"end_on": None, "review_every_days": None}]
    assert rows("SELECT measure FROM goal") == [{"measure": None}]
    with unchanged():
        assert_one_line_error(cli("plan", "edit", "1", "--review-every", "12h"), 1, "whole days or weeks")
        assert_one_line_error(cli("plan", "edit", "1", "--title", ""), 1, "plan's title must not be empty")
        assert_one_line_error(cli("goal", "edit", "1", "--description", " "), 1, "goal's description must not be empty")
        assert_one_line_error(cli("goal", "edit", "1", "--measure", "a\nb"), 1, "measure must be one line")


def test_a_task_is_shown_and_edited_as_declared(cli, rows):
    """``task show`` labels each field as fields.TASK declares (no raw keys such as 'Uid'), and
    edit offers '' to clear a field only where it can be cleared (never the priority)."""
    cli("task", "add", "Call pharmacy", "--due", "2026-12-01 2pm", "--priority", "URGENT", "--note", "about lasix")
    shown = cli("task", "show", "1").stdout
    for label in (TASK["due_time"].label, TASK["priority"].label, TASK["notes"].label):
        assert label in shown
    assert "Uid" not in shown and "Due on" not in shown
    assert rows("SELECT priority, due_time, notes FROM task")[0]["priority"] == "urgent"
    edit_help = " ".join(cli("task", "edit", "--help").stdout.split())  # unwrapped
    assert "or stat ('' clears)" not in edit_help and "A note ('' clears)." in edit_help


def test_a_log_entry_is_added_and_corrected_as_declared(cli, rows, unchanged):
    """``log add``/``log edit`` options come from fields.COMMUNICATION: '--with' reads into with_whom,
    minutes are read as durations, '' clears what may be cleared and nothing else."""
    cli("patient", "add", "Jane Doe")
    cli("contact", "add", "jane", "Ann Doe")
    added = cli("log", "add", "jane", "--with", "ann doe", "--minutes", "1h5m", "--when", "2026-11-24 9am")
    assert added.exit_code == 0, added.stderr
    assert rows("SELECT with_whom, contact_id, minutes FROM communication") == [
        {"with_whom": "ann doe", "contact_id": 1, "minutes": 65}
    ]
    assert cli("log", "edit", "1", "--with", "").exit_code == 0
    assert rows("SELECT with_whom, contact_id FROM communication") == [{"with_whom": None, "contact_id": None}]
    with unchanged():
        assert_one_line_error(cli("log", "edit", "1", "--channel", ""), 1, "channel cannot be cleared")
        assert_one_line_error(cli("log", "edit", "1", "--minutes", ""), 1, "minutes cannot be cleared")
        assert_one_line_error(cli("log", "edit", "1", "--with", "a\nb"), 1, "person spoken with must be one line")


def test_an_appointment_is_booked_and_changed_as_declared(cli, rows, unchanged):
    """``appt add``/``appt edit`` take the type, place, company, attending, reminder and notes from
    fields.APPOINTMENT: '--type' is the kind column, '--remind' reads a duration, '' clears what may
    be cleared, and an outcome is not a status to set by hand."""
    cli("patient", "add", "Jane Doe")
    booked = cli("appt", "add", "jane", "--start", "2026-12-01 10am", "--type", "PCP", "--remind", "1h",
                 "--with", "Dr. Lee", "--location", "Clinic")  # fmt: skip
    assert booked.exit_code == 0, booked.stderr
    stored = "SELECT kind, reminder_minutes, with_whom, location, attending FROM appointment"
    assert rows(stored) == [
        {"kind": "pcp", "reminder_minutes": 60, "with_whom": "Dr. Lee", "location": "Clinic", "attending": False}
    ]
    shown = cli("appt", "show", "1").stdout  # labelled as declared, not by raw keys
    assert "Time zone" in shown and "Attending" in shown and "Uid" not in shown and "Tz " not in shown
    assert cli("appt", "edit", "1", "--type", "home-visit", "--remind", "", "--with", "").exit_code == 0
    assert rows(stored) == [
        {"kind": "home-visit", "reminder_minutes": None, "with_whom": None, "location": "Clinic", "attending": True}
    ]
    with unchanged():
        assert_one_line_error(cli("appt", "edit", "1", "--type", ""), 1, "appointment type cannot be cleared")
        assert_one_line_error(cli("appt", "edit", "1", "--status", "fulfilled"), 1, "use 'appt done'")
        assert_one_line_error(cli("appt", "edit", "1", "--remind", "-5"), 1, "a reminder comes before")
