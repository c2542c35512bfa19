"""Printable documents rendered from the Jinja2 templates in this folder.

HTML templates (``*.html``) are autoescaped: whatever a user typed is text, never markup. Markdown
templates (``*.md``) escape every value they print as Markdown (:func:`carecoord.documents.md`),
so a name with ``*`` or ``#`` reads as typed. Filters write dates and times the way people read
them (``Tuesday 1 December, 2:30 pm``) and phone numbers in national format. Jinja2 is imported
only when a document is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

FOLDER = Path(__file__).resolve().parent


def render(name: str, record: Mapping[str, Any]) -> str:
    """The template ``name`` (e.g. ``summary-patient.html``) filled with ``record``."""
    markdown = name.endswith(".md")
    return _environment(markdown).get_template(name).render(record)


def clock(moment: datetime | time) -> str:
    """``2:30 pm``, ``10:00 am``, ``12:00 pm`` (noon)."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"


def day(value: date | datetime, *, year_of: date | None = None) -> str:
    """``Tuesday 1 December``, with the year when it is not ``year_of``'s (default: this year)."""
    from carecoord.dates import today

    reference = year_of or today()
    text = f"{value:%A} {value.day} {value:%B}"
    return text if value.year == reference.year else f"{text} {value.year}"


def moment(value: datetime) -> str:
    """``Tuesday 1 December, 2:30 pm`` (already in the user's zone)."""
    return f"{day(value)}, {clock(value)}"


def iso(value: date | datetime | None) -> str:
    """``2026-11-25``, or ``2026-11-25 14:30`` for a moment; empty for nothing."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return value.isoformat()


def phone(stored: str | None) -> str:
    """A stored number as people dial it (national format at home)."""
    from carecoord.phones import display

    return display(stored) or ""


def words(code: str | None) -> str:
    """A code as words: ``in-progress`` -> ``in progress``."""
    return (code or "").replace("-", " ")


def _markdown_value(value: Any) -> Any:
    """Every value a Markdown template prints, escaped as Markdown (one line)."""
    from carecoord.documents import md

    return "" if value is None else md(value)


def _html_value(value: Any) -> Any:
    """Nothing prints as nothing (not ``None``); the rest is escaped by autoescaping."""
    return "" if value is None else value


@cache
def _environment(markdown: bool) -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(FOLDER),
        autoescape=not markdown,
        finalize=_markdown_value if markdown else _html_value,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(clock=clock, day=day, moment=moment, iso=iso, phone=phone, words=words)
    return env
