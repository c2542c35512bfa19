"""output.py decides every format: what people see (tables, Markdown) and what scripts get (JSON, CSV).

Commands hand over records and say what people should read; these tests pin the mechanisms they use.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from carecoord.output import (
    TABLE_ROWS,
    Chart,
    Column,
    render_document,
    render_list,
    render_record,
    rows_shown,
)
from carecoord.vocab import OutputFormat

RECORDS = [
    {"id": 1, "name": "Jane Doe", "due_on": "2026-11-24", "due_time": "09:00"},
    {"id": 2, "name": "John Roe", "due_on": "2026-11-25", "due_time": None},
]


def _when(record: dict[str, Any]) -> str:
    return f"{record['due_on']} {record['due_time']}" if record["due_time"] else record["due_on"]


COLUMNS = (Column("id", "ID"), Column("name", "Name"), Column("when", "When", show=_when))
KEYS = ("id", "name", "due_on", "due_time")


def listed(capsys: pytest.CaptureFixture[str], fmt: OutputFormat, **options: Any) -> str:
    render_list([dict(r) for r in RECORDS], COLUMNS, fmt, keys=KEYS, title="People", **options)
    return capsys.readouterr().out


def test_a_column_shows_people_its_value_computed_from_the_record(capsys):
    table = listed(capsys, OutputFormat.table)
    assert "2026-11-24 09:00" in table and "2026-11-25" in table
    assert "| 1 | Jane Doe | 2026-11-24 09:00 |" in listed(capsys, OutputFormat.markdown)


def test_scripts_get_the_records_own_keys_not_what_people_see(capsys):
    assert json.loads(listed(capsys, OutputFormat.json)) == RECORDS
    rows = list(csv.DictReader(io.StringIO(listed(capsys, OutputFormat.csv))))
    assert list(rows[0]) == list(KEYS) and rows[1]["due_time"] == ""


NOTE = "Check these entries before billing: " + ", ".join(f"#{n} Jane Doe (200 min)" for n in range(10))


def test_notes_sit_under_the_listing_for_people_wrapped_to_the_terminal(capsys):
    table = listed(capsys, OutputFormat.table, notes=[NOTE])
    body = table.split("\n\n")[-1].rstrip("\n")
    assert body.replace("\n", " ") == NOTE and all(len(line) < 80 for line in body.splitlines()) and "\n" in body
    assert listed(capsys, OutputFormat.markdown, notes=[NOTE]).endswith("\n\n" + NOTE + "\n")  # Markdown wraps itself


@pytest.mark.parametrize("fmt", [OutputFormat.json, OutputFormat.csv])
def test_notes_and_charts_never_reach_scripts(capsys, fmt):
    plain = listed(capsys, fmt)
    assert listed(capsys, fmt, notes=[NOTE], chart=Chart("Minutes per week", [("week 1", 30)], " min")) == plain


def test_a_chart_is_drawn_under_a_table_only(capsys):
    chart = Chart("Minutes per week", [("week 1", 30), ("week 2", 15)], " min")
    table = listed(capsys, OutputFormat.table, notes=[NOTE], chart=chart)
    assert table.endswith("\n\nMinutes per week\n  week 1  " + "\u2588" * 40 + " 30 min\n  week 2  " + "\u2588" * 20
                          + " 15 min\n")  # fmt: skip
    assert table.index("Check these") < table.index("Minutes per week")  # the note first, then the chart
    assert "Minutes per week" not in listed(capsys, OutputFormat.markdown, chart=chart)
    assert "Minutes per week" not in listed(capsys, OutputFormat.table, chart=Chart("Minutes per week", []))


def test_json_prints_the_whole_record_the_rows_were_drawn_from(capsys):
    whole = {"open_tasks": 3, "by_risk": {"high": 1}}
    assert json.loads(listed(capsys, OutputFormat.json, whole=whole)) == whole
    assert "open_tasks" not in listed(capsys, OutputFormat.table, whole=whole)


def test_a_command_asks_how_many_rows_a_listing_shows():
    assert rows_shown(OutputFormat.table) == TABLE_ROWS
    assert all(rows_shown(fmt) is None for fmt in (OutputFormat.json, OutputFormat.csv, OutputFormat.markdown))


def test_a_table_given_its_first_rows_says_how_many_more_there_are(capsys):
    render_list([dict(RECORDS[0])] * 2, COLUMNS, OutputFormat.table, total=TABLE_ROWS + 7)
    assert capsys.readouterr().out.endswith(f"... and {TABLE_ROWS + 5} more: narrow the list, or use --format csv "
                                            "or json for all.\n")  # fmt: skip


STATUS = {"path": "/tmp/c.db", "revision": "0007", "counts": {"patient": 8, "task": 16}}
STATUS_FIELDS = (Column("path", "Path"), Column("revision", "Revision"))
COUNTS = [{"table": "patient", "rows": 8}, {"table": "task", "rows": 16}]
FLAT = {"path": "/tmp/c.db", "revision": "0007", "rows_patient": 8, "rows_task": 16}


def shown(capsys: pytest.CaptureFixture[str], fmt: OutputFormat) -> str:
    sections = (("", COUNTS, (Column("table", "Table"), Column("rows", "Rows"))),)
    render_record(STATUS, STATUS_FIELDS, fmt, title="Database", sections=sections, flat=FLAT)
    return capsys.readouterr().out


def test_a_record_shows_rows_it_nests_as_a_section(capsys):
    assert shown(capsys, OutputFormat.table).endswith("\n\nTable    Rows\n-------------\npatient  8\ntask     16\n")
    markdown = shown(capsys, OutputFormat.markdown)
    assert "| Path | /tmp/c.db |" in markdown and markdown.endswith("\n\n| Table | Rows |\n|---|---|\n| patient | 8 |\n"
                                                                   "| task | 16 |\n")  # fmt: skip


def test_a_nesting_record_is_one_flat_csv_row_and_whole_json(capsys):
    assert json.loads(shown(capsys, OutputFormat.json)) == STATUS
    assert list(csv.DictReader(io.StringIO(shown(capsys, OutputFormat.csv)))) == [{k: str(v) for k, v in FLAT.items()}]


PLAN = {"id": 3, "title": "Diabetes control", "done": True, "steps": [{"n": 1}, {"n": 2}]}


def _markdown(record: dict[str, Any]) -> str:
    return f"# {record['title']}\n"


def _steps(record: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(record["id"], step["n"], "yes" if record["done"] else "no") for step in record["steps"]]


@pytest.mark.parametrize(
    ("fmt", "rows", "expected"),
    [
        (OutputFormat.table, None, "# Diabetes control\n"),  # drawn by Rich on a terminal; its Markdown in a pipe
        (OutputFormat.markdown, None, "# Diabetes control\n"),
        (
            OutputFormat.json,
            None,
            '{\n  "id": 3,\n  "title": "Diabetes control",\n  "done": true,\n  "steps": [\n'
            '    {"n": 1},\n    {"n": 2}\n  ]\n}\n',
        ),
        (OutputFormat.csv, None, "id,title,done\n3,Diabetes control,true\n"),
        (OutputFormat.csv, _steps, "id,step,done\n3,1,yes\n3,2,yes\n"),  # a document's own rows, as they are
    ],
)
def test_a_document_in_each_format(capsys, fmt, rows, expected):
    keys = ("id", "step", "done") if rows else ("id", "title", "done")
    render_document(PLAN, fmt, markdown=_markdown, rows=rows, keys=keys)
    assert capsys.readouterr().out == expected


def test_a_document_written_to_a_file_is_its_markdown_for_a_table(capsys, tmp_path):
    for fmt in OutputFormat:
        render_document(PLAN, fmt, markdown=_markdown, keys=("id",), out=str(tmp_path / fmt.value))
    assert capsys.readouterr().out == ""
    assert (tmp_path / "table").read_text() == (tmp_path / "markdown").read_text() == "# Diabetes control\n"
    assert json.loads((tmp_path / "json").read_text()) == PLAN
    assert (tmp_path / "csv").read_text() == "id\n3\n"


# Through the CLI: Markdown is for people, so it shows what a table shows.


def test_task_and_appointment_lists_in_markdown_show_the_columns_a_table_shows(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "1")
    cli("task", "add", "Call pharmacy", "--patient", "jane", "--due", "2026-11-20 09:30")
    cli("appt", "add", "jane", "--type", "pcp", "--start", "2026-11-26 10:00", "--yes")
    tasks = cli("task", "list", "--format", "markdown").stdout
    assert "| 1 | 2026-11-20 09:30 | routine | Call pharmacy | Jane Doe | open, OVERDUE |" in tasks
    appointments = cli("appt", "list", "--from", "2026-11-26", "--format", "markdown").stdout
    assert "| 1 | Thu 2026-11-26 10:00-" in appointments and "| booked |" in appointments


def test_db_status_in_markdown_is_its_fields_and_row_counts(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "1")
    markdown = cli("db", "status", "--format", "markdown").stdout
    assert markdown.startswith("## carecoord database\n\n| Field | Value |\n|---|---|\n| Path | ")
    assert "\n\n| Table | Rows |\n|---|---|\n" in markdown and "| patient | 1 |" in markdown
