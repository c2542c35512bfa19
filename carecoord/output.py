"""One renderer for records: text tables and Markdown for people, JSON and CSV for scripts.

Records are plain dicts with stable keys (an ``id`` on every record). JSON carries every key;
CSV carries every scalar key (lists joined with ``;``); the table shows the chosen columns.
Every decision about a format is made here, so a command hands over its records and says what
people should see (a column's ``show``, ``notes`` and a ``chart`` under a listing, a document's
Markdown); it never asks which format was chosen. Rich is imported only when a document is drawn.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from carecoord.jsonenc import encoder
from carecoord.vocab import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

LIST_SEPARATOR = ";"
# A table for people shows this many rows at most (JSON, CSV and Markdown are always complete).
TABLE_ROWS = 500


@dataclass(frozen=True)
class Column:
    """A table column: which record key, under which header. A ``first_line`` column (a note) shows
    only the first line of its text, cut to the column with an ellipsis; show, JSON and CSV keep it all.

    ``show`` turns the whole record into what people read in the column ('met 11-21 (due 11-24)'),
    in tables and Markdown only; JSON and CSV keep the record's own keys, so ``key`` then only
    names the column."""

    key: str
    header: str
    no_wrap: bool = False
    max_width: int | None = None
    min_width: int | None = None
    first_line: bool = False
    show: Callable[[Mapping[str, Any]], Any] | None = None


def period(record: Mapping[str, Any]) -> str:
    """A record's ``start_on``..``end_on`` as a cell: ``2026-01-01 to 2026-12-31``, an open end shown
    as such (``... to 2026-12-31``, ``2026-01-01 to ongoing``)."""
    start, end = record["start_on"], record["end_on"]
    if start is None and end is None:
        return ""
    return f"{start or '...'} to {end or 'ongoing'}"


def cell(record: Mapping[str, Any], column: Column) -> Any:
    """The value a column shows for a record (its ``show``, else the record's value under its key)."""
    return column.show(record) if column.show else record.get(column.key)


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn under a table on the terminal (Markdown, JSON and CSV leave it out)."""

    title: str
    values: Sequence[tuple[str, int]]
    unit: str = ""


def console() -> Console:
    """A Console on stdout: no color off a terminal or with NO_COLOR; 80 columns when piped."""
    from rich.console import Console

    return Console(highlight=False, emoji=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


# One record as compact JSON (``{"id": 1, "tags": ["a"]}``), as ``json.dumps`` writes it.
_compact = encoder(item_separator=", ", key_separator=": ", default=_json_default)


def _is_leaf(value: dict[str, Any] | list[Any]) -> bool:
    """A record, or a list of plain values: written on one line below the top level."""
    items = list(value.values()) if isinstance(value, dict) else value
    kinds = set(map(type, items))  # one pass in C: this runs for every record of a long listing
    if dict in kinds:
        return False
    return list not in kinds or all(_is_leaf(item) for item in items if type(item) is list)


def _layout(value: Any, depth: int) -> str:
    if not value or not isinstance(value, dict | list) or (depth and _is_leaf(value)):
        return _compact(value)
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{inner}{_compact(str(key))}: {_layout(item, depth + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    return "[\n" + ",\n".join(f"{inner}{_layout(item, depth + 1)}" for item in value) + f"\n{pad}]"


def to_json(data: Any) -> str:
    """Stable, readable JSON: keys in record order, ISO 8601 dates, UTF-8 kept.

    Containers are indented and each record sits on one line, so a listing reads (and greps) a
    record per line; records go through the C encoder, which ``indent=`` would turn off.
    """
    return _layout(data, 0)


def _visible(text: str) -> str:
    """Control characters (escape sequences, bells) shown as ``\\x1b`` instead of acting on the terminal."""
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch) != "Cc" else f"\\x{ord(ch):02x}" for ch in text)


def display(value: Any) -> str:
    """A value as a person reads it in a table (control characters made visible)."""
    return _visible(_plain_text(value))


def _plain_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(_plain_text(item) for item in value)
    return str(value)


def _csv_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return json.dumps(value, default=_json_default, ensure_ascii=False, sort_keys=True)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return "" if value is None else value


def _scalar_keys(records: Sequence[Mapping[str, Any]]) -> list[str]:
    first = records[0] if records else {}
    return [
        key for key, value in first.items()
        if not isinstance(value, Mapping) and not (isinstance(value, list | tuple) and value
                                                   and isinstance(value[0], Mapping))
    ]  # fmt: skip


def write_csv(
    records: Sequence[Mapping[str, Any]], keys: Sequence[str] | None = None, file: TextIO | None = None
) -> None:
    """CSV with a header row (``keys``, else the first record's scalar keys); nested records are left to JSON."""
    keys = list(keys if keys is not None else _scalar_keys(records))
    writer = csv.writer(file or sys.stdout, lineterminator="\n")
    writer.writerow(keys)
    for record in records:
        writer.writerow([_csv_value(record.get(key)) for key in keys])


def table(records: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, title: str | None = None) -> str:
    """A text table of ``records``: every cell literal, sized to the terminal."""
    from carecoord import tables

    return tables.render(records, columns, display, title=title)


def rows_shown(fmt: OutputFormat) -> int | None:
    """How many rows a listing in ``fmt`` shows: the first TABLE_ROWS in a table, all of them otherwise.

    A command with a long listing fetches only these, and tells render_list the ``total``."""
    return TABLE_ROWS if fmt is OutputFormat.table else None


def wrapped(text: str) -> str:
    """A paragraph for people, wrapped to the terminal between words."""
    import textwrap

    from carecoord.tables import width

    return textwrap.fill(text, width() - 1, break_long_words=False, break_on_hyphens=False)


def render_list(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    keys: Sequence[str] | None = None,
    title: str | None = None,
    empty: str = "Nothing to show.",
    total: int | None = None,
    notes: Sequence[str] = (),
    chart: Chart | None = None,
    whole: Any = None,
) -> None:
    """Print a listing in the chosen format; ``keys`` are the CSV columns (even with no rows);
    ``total`` is how many there are when a table was given only its first TABLE_ROWS.

    For people only: ``notes`` are paragraphs under the listing (wrapped to the terminal in a table),
    ``chart`` a bar chart under a table. ``whole`` is what JSON prints instead of the rows when they
    are a view of one record (a report's measures)."""
    if fmt is OutputFormat.json:
        print(to_json(list(records) if whole is None else whole))
        return
    if fmt is OutputFormat.csv:
        write_csv(records, keys)
        return
    if fmt is OutputFormat.markdown:
        print(markdown_table(records, columns, title=title, empty=empty))
    elif not records:
        print(empty)
    else:
        print(table(records[:TABLE_ROWS], columns, title=title))
        hidden = max(total or 0, len(records)) - min(len(records), TABLE_ROWS)
        if hidden > 0:
            print(f"... and {hidden} more: narrow the list, or use --format csv or json for all.")
    for note in notes:
        print("\n" + (note if fmt is OutputFormat.markdown else wrapped(note)))
    if chart is not None and chart.values and fmt is OutputFormat.table:
        print()
        print(bar_chart(chart.title, chart.values, unit=chart.unit))


def details(record: Mapping[str, Any], fields: Sequence[Column], *, title: str | None = None) -> str:
    """One record as 'Field  value' lines (empty fields left out)."""
    from carecoord import tables

    pairs = [(f.header, display(value)) for f in fields if (value := cell(record, f)) not in (None, "", [], ())]
    return tables.key_values(pairs, title=title)


Section = tuple[str, str | Sequence[Mapping[str, Any]], Sequence[Column]]


def render_record(
    record: Mapping[str, Any],
    fields: Sequence[Column],
    fmt: OutputFormat,
    *,
    keys: Sequence[str] | None = None,
    title: str | None = None,
    sections: Sequence[Section] = (),
    flat: Mapping[str, Any] | None = None,
) -> None:
    """Print one record; ``sections`` are (title, key, columns) for its nested lists (or the rows
    themselves in place of the key, when the record nests them otherwise); ``flat`` is the one CSV
    row of a record that nests a mapping."""
    if fmt is OutputFormat.json:
        print(to_json(record))
        return
    if fmt is OutputFormat.csv:
        write_csv([flat if flat is not None else record], keys)
        return
    parts = [(section_title, (record.get(key) if isinstance(key, str) else key) or [], columns)
             for section_title, key, columns in sections]  # fmt: skip
    if fmt is OutputFormat.markdown:
        print(markdown_table([{"field": f.header, "value": value} for f in fields
                              if (value := cell(record, f)) not in (None, "", [], ())],
                             (Column("field", "Field"), Column("value", "Value")), title=title))  # fmt: skip
        for section_title, rows, columns in parts:
            print("\n" + markdown_table(rows, columns, title=section_title, empty="None."))
        return
    print(details(record, fields, title=title))
    for section_title, rows, columns in parts:
        print()
        print(table(rows, columns, title=section_title) if rows else f"{section_title}: none")


def render_document(
    record: Mapping[str, Any],
    fmt: OutputFormat,
    *,
    markdown: Callable[[Mapping[str, Any]], str],
    rows: Callable[[Mapping[str, Any]], Iterable[Sequence[Any]]] | None = None,
    keys: Sequence[str] | None = None,
    out: str | None = None,
) -> None:
    """A document (a care plan, the agenda): drawn on the terminal as a table, else its Markdown, JSON or CSV.

    ``out`` is a file to write (atomically) instead of the screen, which gets the Markdown for a
    table; see :func:`document_text` for the rest."""
    if fmt is OutputFormat.table and out is None:
        print_document(markdown(record))
        return
    text = document_text(record, fmt, markdown=markdown, rows=rows, keys=keys)
    if out is None:
        print(text, end="")
    else:
        from carecoord.files import write_atomically

        write_atomically(out, text.encode("utf-8"))


def document_text(
    record: Mapping[str, Any],
    fmt: OutputFormat,
    *,
    markdown: Callable[[Mapping[str, Any]], str],
    rows: Callable[[Mapping[str, Any]], Iterable[Sequence[Any]]] | None = None,
    keys: Sequence[str] | None = None,
) -> str:
    """A document as the text written to a file: its JSON, CSV, or Markdown (for a table too).

    ``markdown`` writes the record as Markdown; ``rows`` turns it into CSV rows of plain values in
    the order of ``keys`` (default: the record is the one row); either way values are written as
    every CSV writes them (booleans true/false, dates ISO 8601)."""
    if fmt is OutputFormat.json:
        return to_json(record) + "\n"
    if fmt is OutputFormat.csv:
        buffer = io.StringIO()
        if rows is None:
            write_csv([record], keys, buffer)
        else:
            writer = csv.writer(buffer, lineterminator="\n")
            if keys is not None:
                writer.writerow(keys)
            writer.writerows([_csv_value(value) for value in row] for row in rows(record))
        return buffer.getvalue()
    return markdown(record)


def rendered(render: Callable[[OutputFormat], None], fmt: OutputFormat) -> str:
    """What a listing or record renderer prints in ``fmt``, as text to write to a file instead of
    the screen (a table is written as its Markdown: a file has no terminal width)."""
    import contextlib

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        render(OutputFormat.markdown if fmt is OutputFormat.table else fmt)
    return buffer.getvalue()


def print_document(markdown: str) -> None:
    """A printable document: drawn by Rich on a terminal, its Markdown text everywhere else."""
    if not sys.stdout.isatty():
        print(markdown, end="")
        return
    from rich.markdown import Markdown

    console().print(Markdown(markdown))


def confirm_change(message: str, record: Mapping[str, Any] | None, fmt: OutputFormat) -> None:
    """A change's confirmation: one line for people, the stored record as JSON for scripts."""
    if fmt is OutputFormat.json and record is not None:
        print(to_json(record))
    else:
        print(_visible(message))


def _markdown_cell(value: Any) -> str:
    text = " ".join(display(value).split())
    return "".join(f"\\{ch}" if ch in "\\`*_[]<>|#~" else ch for ch in text)


def markdown_table(
    records: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, title: str | None = None, empty: str = ""
) -> str:
    """A Markdown table (user text escaped), under a heading if given."""
    lines = [f"## {_markdown_cell(title)}", ""] if title else []
    if not records:
        return "\n".join([*lines, empty]).rstrip()
    lines.append("| " + " | ".join(_markdown_cell(c.header) for c in columns) + " |")
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(_markdown_cell(cell(r, c)) for c in columns) + " |" for r in records]
    return "\n".join(lines)


def bar_chart(title: str, values: Sequence[tuple[str, int]], *, unit: str = "", width: int = 40) -> str:
    """A small horizontal bar chart in plain text, readable at 80 columns."""
    if not values:
        return f"{title}: nothing to show"
    longest = max(len(label) for label, _ in values)
    top = max((value for _, value in values), default=0) or 1
    lines = [title]
    for label, value in values:
        bar = "\u2588" * round(value / top * width)
        lines.append(f"  {label.ljust(longest)}  {bar} {value}{unit}")
    return "\n".join(lines)


def render_sections(
    sections: Sequence[tuple[str, Sequence[Mapping[str, Any]], Sequence[Column], str]],
    fmt: OutputFormat,
    *,
    whole: Any,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    notes: Sequence[str] = (),
    chart: Chart | None = None,
) -> None:
    """A report of several tables (title, rows, columns, what to say when empty): JSON prints ``whole``,
    CSV the flat ``rows`` under ``keys``; a table or Markdown prints each section, then ``notes``, and
    on the terminal the ``chart``."""
    if fmt is OutputFormat.json:
        print(to_json(whole))
        return
    if fmt is OutputFormat.csv:
        write_csv(rows, keys)
        return
    for index, (title, records, columns, empty) in enumerate(sections):
        if index:
            print()
        if fmt is OutputFormat.markdown:
            print(markdown_table(records, columns, title=title, empty=empty))
        else:
            print(table(records[:TABLE_ROWS], columns, title=title) if records else f"{title}: {empty}")
    for note in notes:
        print("\n" + (note if fmt is OutputFormat.markdown else wrapped(note)))
    if chart is not None and chart.values and fmt is OutputFormat.table:
        print()
        print(bar_chart(chart.title, chart.values, unit=chart.unit))
