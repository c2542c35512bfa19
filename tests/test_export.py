"""Calendar export: parsed back by an independent library, byte-stable, redacted, atomic."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tests.conftest import assert_one_line_error, listing
from tests.other_calendar import occurrences

NY = ZoneInfo("America/New_York")


@pytest.fixture
def schedule(cli):
    """A weekly New York series across the DST change, one occurrence cancelled, one moved; a one-off."""
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1", "--phone", "555-0100", "--address", "12 Elm St")
    cli("patient", "add", "Omar Haddad")
    steps = [
        ("appt", "add", "jane", "--yes", "--start", "2026-10-22 10:00", "--duration", "45m", "--type", "home-visit",
         "--every", "weekly", "--count", "8", "--location", "12 Elm St", "--remind", "30m", "--note", "gate code 1234"),
        ("appt", "cancel", "1", "--occurrence", "2026-11-05", "--reason", "in hospital"),
        ("appt", "move", "1", "--occurrence", "2026-11-12", "--to", "2026-11-13 14:00"),
        ("appt", "add", "omar", "--yes", "--start", "2026-11-03 15:00", "--type", "phone", "--with", "son"),
        ("appt", "add", "omar", "--yes", "--start", "2026-11-04 15:00", "--type", "office"),
        ("appt", "cancel", "3", "--reason", "clinic closed"),
    ]  # fmt: skip
    for step in steps:
        assert cli(*step).exit_code == 0, (step, cli)
    return cli


def export(cli, tmp_path, *args, name="out.ics"):
    target = tmp_path / name
    run = cli("export", "ics", "--from", "2026-10-01", "--to", "2026-12-31", *args, "--out", str(target))
    assert run.exit_code == 0, run.stderr
    return target


def test_an_independent_parser_sees_exactly_the_listed_occurrences(schedule, tmp_path):
    data = export(schedule, tmp_path).read_bytes()
    expanded = occurrences(data, datetime(2026, 10, 1, tzinfo=NY), datetime(2027, 1, 1, tzinfo=NY))
    from_ics = sorted((e.start, e.end, e.status) for e in expanded)
    listed = json.loads(schedule("appt", "list", "--from", "2026-10-01", "--to", "2026-12-31", "-f", "json").stdout)
    status = {"booked": "CONFIRMED", "cancelled": "CANCELLED"}
    from_list = sorted((datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]), status[s["status"]])
                       for s in listed)  # fmt: skip
    assert from_ics == from_list
    # same local wall-clock times, not just the same instants
    assert sorted(e.start.astimezone(NY).strftime("%m-%d %H:%M") for e in expanded) == sorted(
        datetime.fromisoformat(s["start"]).astimezone(NY).strftime("%m-%d %H:%M") for s in listed
    )
    assert len(from_ics) == 10


def test_the_file_is_valid_rfc_5545(schedule, tmp_path):
    data = export(schedule, tmp_path).read_bytes()
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded lines
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["PRODID"] and str(calendar["VERSION"]) == "2.0"
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "America/New_York"
    events = calendar.walk("VEVENT")
    for event in events:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "SUMMARY"):
            assert prop in event, prop
        assert event["DTSTART"].params.get("TZID") == "America/New_York"
    masters = [e for e in events if "RECURRENCE-ID" not in e]
    overrides = [e for e in events if "RECURRENCE-ID" in e]
    assert len({str(e["UID"]) for e in masters}) == 3
    [series] = [e for e in masters if "RRULE" in e]
    assert series["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=8"
    assert {e["RECURRENCE-ID"].dt.strftime("%Y-%m-%d %H:%M") for e in overrides} == {
        "2026-11-05 10:00",
        "2026-11-12 10:00",
    }
    assert all(str(e["UID"]) == str(series["UID"]) for e in overrides)
    [alarm] = series.walk("VALARM")
    assert alarm["TRIGGER"].dt.total_seconds() == -30 * 60


def test_cancelled_appointments_and_occurrences_are_exported_as_cancelled(schedule, tmp_path):
    events = icalendar.Calendar.from_ical(export(schedule, tmp_path).read_bytes()).walk("VEVENT")
    cancelled = sorted(e["DTSTART"].dt.strftime("%m-%d") for e in events if str(e["STATUS"]) == "CANCELLED")
    assert cancelled == ["11-04", "11-05"]
    [occurrence] = [e for e in events if "RECURRENCE-ID" in e and str(e["STATUS"]) == "CANCELLED"]
    assert "in hospital" in str(occurrence["DESCRIPTION"])


def test_unchanged_data_gives_identical_bytes_and_a_change_raises_the_sequence(schedule, tmp_path):
    first = export(schedule, tmp_path, name="a.ics").read_bytes()
    second = export(schedule, tmp_path, name="b.ics").read_bytes()
    assert first == second
    before = {str(e["UID"]): int(e["SEQUENCE"]) for e in icalendar.Calendar.from_ical(first).walk("VEVENT")
              if "RECURRENCE-ID" not in e}  # fmt: skip
    schedule("appt", "edit", "1", "--location", "14 Elm St")
    after_data = export(schedule, tmp_path, name="c.ics").read_bytes()
    after = {str(e["UID"]): int(e["SEQUENCE"]) for e in icalendar.Calendar.from_ical(after_data).walk("VEVENT")
             if "RECURRENCE-ID" not in e}  # fmt: skip
    changed = [uid for uid in before if after[uid] != before[uid]]
    assert len(changed) == 1 and after[changed[0]] == before[changed[0]] + 1


def test_redacted_export_carries_no_name_phone_address_or_note(schedule, tmp_path):
    schedule("task", "add", "Call Jane Doe about her gate code", "--patient", "jane", "--due", "2026-11-20",
             "--note", "555-0100")  # fmt: skip
    data = export(schedule, tmp_path, "--redact", "--tasks").read_text(encoding="utf-8")
    for secret in ("Jane", "Doe", "Omar", "Haddad", "555-0100", "12 Elm", "gate code", "in hospital", "son",
                   "MRN-1", "clinic closed"):  # fmt: skip
        assert secret not in data, secret
    summaries = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data.encode()).walk("VEVENT")}
    assert summaries == {"Home visit: J.D.", "Phone call: O.H.", "Office visit: O.H."}
    [todo] = icalendar.Calendar.from_ical(data.encode()).walk("VTODO")
    assert str(todo["SUMMARY"]) == "Task: J.D."


def test_tasks_become_todos(schedule, tmp_path):
    schedule("task", "add", "Refill", "--patient", "jane", "--due", "2026-11-20 14:00", "--priority", "urgent")
    schedule("task", "add", "Mail forms", "--due", "2026-11-21")
    schedule("task", "done", "2")
    todos = icalendar.Calendar.from_ical(export(schedule, tmp_path, "--tasks").read_bytes()).walk("VTODO")
    by_summary = {str(t["SUMMARY"]): t for t in todos}
    refill = by_summary["Refill (Jane Doe)"]
    assert refill["DUE"].dt == datetime(2026, 11, 20, 14, 0, tzinfo=NY)
    assert (str(refill["STATUS"]), int(refill["PRIORITY"])) == ("NEEDS-ACTION", 5)
    assert str(by_summary["Mail forms"]["STATUS"]) == "COMPLETED" and "COMPLETED" in by_summary["Mail forms"]


def test_export_to_stdout_and_by_patient(schedule, tmp_path):
    run = schedule("export", "ics", "--from", "2026-10-01", "--to", "2026-12-31", "--patient", "omar", "--out", "-")
    events = icalendar.Calendar.from_ical(run.stdout.encode()).walk("VEVENT")
    assert {str(e["SUMMARY"]) for e in events} == {"Phone call: Omar Haddad", "Office visit: Omar Haddad"}


def test_the_file_is_private(schedule, tmp_path):
    assert stat.S_IMODE(os.stat(export(schedule, tmp_path)).st_mode) == 0o600


def test_a_failing_export_leaves_the_previous_file_intact(schedule, tmp_path, monkeypatch):
    target = export(schedule, tmp_path)
    before = target.read_bytes()
    schedule("appt", "edit", "1", "--location", "elsewhere")

    def broken(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    run = schedule("export", "ics", "--from", "2026-10-01", "--to", "2026-12-31", "--out", str(target))
    assert_one_line_error(run, 3, "No space left on device", "previous file is intact")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("--from", "next blursday", "--out", "x.ics"), 1, "cannot read 'next blursday'"),
        (("--to", "2026-01-01", "--days", "3", "--out", "x.ics"), 2, "not both"),
        (("--from", "2026-12-01", "--to", "2026-11-01", "--out", "x.ics"), 1, "ends before it starts"),
        (("--out", "/nonexistent-folder/x.ics"), 3, "does not exist"),
    ],
)
def test_bad_export_input(schedule, tmp_path, monkeypatch, args, code, fragment):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(schedule("export", "ics", *args), code, fragment)
    assert not (tmp_path / "x.ics").exists()


def test_the_export_never_shows_an_occurrence_that_appt_list_does_not(jane, tmp_path):
    jane("appt", "add", "jane", "--start", "2026-12-03 10:00", "--every", "every mon,thu", "--count", "4")
    target = tmp_path / "x.ics"
    jane("export", "ics", "--from", "2026-12-01", "--to", "2026-12-31", "--out", str(target))
    ny = ZoneInfo("America/New_York")
    window = (datetime(2026, 12, 1, tzinfo=ny), datetime(2027, 1, 1, tzinfo=ny))
    expanded = sorted(e.start.isoformat() for e in occurrences(target.read_bytes(), *window))
    assert expanded == [s["start"] for s in listing(jane, "--from", "2026-12-01", "--to", "2026-12-31")]


def test_renaming_a_patient_raises_the_calendar_sequence(jane, rows):
    jane("appt", "add", "jane", "--start", "2026-12-01 10:00")
    jane("patient", "edit", "jane", "--name", "Jane Smith")
    assert rows("SELECT sequence FROM appointment") == [{"sequence": 1}]
