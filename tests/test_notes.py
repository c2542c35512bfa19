"""Long text: notes read from standard input with '-', and shown in tables as their first line only."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest

from tests.conftest import assert_one_line_error

SUMMARY = "Discharge summary, Mercy General\nDx: CHF exacerbation\r\nFollow up with PCP in 7 days\n\n"
STORED = "Discharge summary, Mercy General\nDx: CHF exacerbation\nFollow up with PCP in 7 days"


@pytest.fixture
def jane(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    return cli


# Every option that takes a note: (command, table, column); each command adds row 1 of its table
# (the patient fixture is row 1 of patient, so patient add makes row 2).
NOTE_COMMANDS = [
    (("log", "add", "jane", "--minutes", "20", "--note", "-"), "communication", "note", 1),
    (("log", "add", "jane", "-n", "-"), "communication", "note", 1),
    (("patient", "add", "Omar Haddad", "--notes", "-"), "patient", "notes", 2),
    (("contact", "add", "jane", "Ann Doe", "--notes", "-"), "contact", "notes", 1),
    (("task", "add", "Call Jane", "--patient", "jane", "--note", "-"), "task", "notes", 1),
    (("appt", "add", "jane", "--start", "tomorrow 10am", "--type", "pcp", "--note", "-"), "appointment", "notes", 1),
    (("plan", "add", "jane", "CHF", "--notes", "-"), "care_plan", "notes", 1),
    (("transition", "add", "jane", "--discharged", "-1d", "--from", "Mercy", "--note", "-"), "transition", "notes", 1),
    (("timer", "start", "jane", "--note", "-"), "call_timer", "note", 1),
]
NOTE_IDS = [f"{args[0]} {args[1]} {args[-2]}" for args, *_ in NOTE_COMMANDS]


@pytest.mark.parametrize(("args", "table", "column", "row"), NOTE_COMMANDS, ids=NOTE_IDS)
def test_a_note_can_be_piped_in(jane, rows, args, table, column, row):
    run = jane(*args, input=SUMMARY)
    assert run.exit_code == 0, run.stderr
    assert rows(f"SELECT {column} AS text FROM {table} WHERE id = ?", row) == [{"text": STORED}]


@pytest.mark.parametrize(("args", "table", "column", "row"), NOTE_COMMANDS, ids=NOTE_IDS)
def test_empty_standard_input_is_an_error(jane, unchanged, args, table, column, row):
    with unchanged():
        assert_one_line_error(jane(*args, input=" \n"), 1, "-: standard input is empty")


def test_edits_read_notes_from_standard_input_too(jane, rows):
    jane("log", "add", "jane", "--minutes", "5", "--note", "first")
    jane("task", "add", "Call Jane", "--patient", "jane")
    jane("plan", "add", "jane", "CHF")
    assert jane("log", "edit", "1", "--note", "-", input=SUMMARY).exit_code == 0
    assert jane("task", "edit", "1", "--note", "-", input=SUMMARY).exit_code == 0
    assert jane("plan", "edit", "1", "--notes", "-", input=SUMMARY).exit_code == 0
    assert jane("patient", "edit", "jane", "--notes", "-", input=SUMMARY).exit_code == 0
    assert rows("SELECT note FROM communication") == [{"note": STORED}]
    assert rows("SELECT notes FROM task") == [{"notes": STORED}]
    assert rows("SELECT notes FROM care_plan") == [{"notes": STORED}]
    assert rows("SELECT notes FROM patient") == [{"notes": STORED}]


def test_on_a_terminal_standard_input_is_typed_after_a_hint(monkeypatch, capsys):
    from carecoord.commands._common import read_text

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("typed by hand\nsecond line\n"))
    option = SimpleNamespace(opts=["--note"])
    assert read_text(SimpleNamespace(resilient_parsing=False), option, "-") == "typed by hand\nsecond line"
    assert "Ctrl-D" in capsys.readouterr().err
    assert read_text(SimpleNamespace(resilient_parsing=False), option, "plain text") == "plain text"
    assert read_text(SimpleNamespace(resilient_parsing=True), option, "-") == "-"  # completion never reads stdin


def test_help_says_a_dash_reads_standard_input(cli):
    assert "'-' reads it from standard input" in " ".join(cli("log", "add", "--help").stdout.split())


def test_tables_show_the_first_line_of_a_note_and_json_all_of_it(jane):
    jane("log", "add", "jane", "--minutes", "5", "--note", "-", input=SUMMARY)
    long_line = "Called pharmacy about the refill; " * 6
    jane("log", "add", "jane", "--minutes", "5", "--note", long_line)
    table = jane("log", "list").stdout
    lines = table.splitlines()
    assert max(len(line) for line in lines) < 80
    [first] = [line for line in lines if line.startswith("1 ")]
    assert first.endswith("\u2026") and "Discharge summary" in first
    assert "CHF" not in table and "Follow up" not in table  # the other lines stay out of the table
    [second] = [line for line in lines if line.startswith("2 ")]
    assert second.endswith("\u2026") and "Called pharmacy" in second
    assert len([line for line in lines if line.strip()]) == 5  # title, header, rule, one line per entry
    notes = [e["note"] for e in json.loads(jane("log", "list", "-f", "json").stdout)]
    assert notes == [long_line.strip(), STORED]
    assert STORED in jane("log", "list", "-f", "csv").stdout


def test_a_short_one_line_note_is_shown_whole(jane):
    jane("log", "add", "jane", "--minutes", "5", "--note", "left voicemail")
    assert "left voicemail" in jane("log", "list").stdout
    assert "\u2026" not in jane("log", "list").stdout


def test_multi_line_notes_are_kept(cli, rows):
    assert cli("patient", "add", "X", "--notes", "line one\r\nline two").exit_code == 0
    assert rows("SELECT notes FROM patient") == [{"notes": "line one\nline two"}]
