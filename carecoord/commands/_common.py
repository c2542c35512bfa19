"""What every command shares: the store of this invocation, option types, and date options.

Kept light: heavy modules (the database layer, dates) are imported inside the functions.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord.errors import UsageError
from carecoord.vocab import OutputFormat

if TYPE_CHECKING:
    from sqlmodel import Session


@dataclass
class Settings:
    """Global options of the current invocation (set by the root callback)."""

    db_option: str | None = None


settings = Settings()

FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="Output: table for people, json or csv for scripts, markdown to print.",
        show_default=True,
    ),
]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed when not on a terminal).")
]


def new_app(help: str) -> typer.Typer:
    """A noun's sub-command group, with carecoord's help conventions (plain help, words for values: _help.py)."""
    from carecoord.commands._help import HelpGroup, HelpTyper

    group = HelpTyper(help=help, cls=HelpGroup, no_args_is_help=True, rich_markup_mode=None, add_completion=False)
    # A callback keeps a group with a single command (export ics) a group.
    group.callback()(_no_options)
    return group


def _no_options() -> None:
    """The group itself takes no options."""


def command_app() -> typer.Typer:
    """The app of a sub-command that is one command (agenda, audit, demo), with the same help conventions."""
    from carecoord.commands._help import HelpTyper

    return HelpTyper(rich_markup_mode=None, add_completion=False)


def db_path() -> Path:
    """The database file this invocation uses."""
    from carecoord.db import resolve_path

    return resolve_path(settings.db_option)


def may_create(path: Path, *, write: bool) -> bool:
    """Whether a missing database file may be created: by a change, or at the default location.

    A read-only command pointed (--db, CARECOORD_DB) at a file that is not there is most likely a
    typo, and an empty new database would hide that.
    """
    from carecoord.db import default_path

    return write or path == default_path().absolute()


@contextmanager
def store(*, write: bool) -> Iterator[Session]:
    """A session on the store, in one transaction (committed only if ``write`` and no error)."""
    from carecoord.db import session_scope

    path = db_path()
    with session_scope(path, write=write, create=may_create(path, write=write)) as session:
        yield session


def given(**options: Any) -> dict[str, Any]:
    """The options the user actually passed (None means 'not given'); enums as their codes."""
    return {key: value.value if isinstance(value, Enum) else value
            for key, value in options.items() if value is not None}  # fmt: skip


def counted(n: int, noun: str) -> str:
    """``1 contact``, ``2 contacts``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def optional_date(value: str | None) -> date | None:
    """Parse a date option as people type it (None stays None)."""
    if value is None:
        return None
    from carecoord.dates import parse_date

    return parse_date(value)


def optional_datetime(value: str | None) -> datetime | None:
    """Parse a date-and-time option as people type it, in the user's zone."""
    if value is None:
        return None
    from carecoord.dates import parse_datetime

    return parse_datetime(value)


def clearable_date(value: str | None) -> date | str | None:
    """For edits: None = unchanged, '' = clear, else a parsed date."""
    if value is None or not value.strip():
        return value
    return optional_date(value)


def confirm_or_refuse(question: str, yes: bool) -> None:
    """Ask on a terminal; off a terminal, refuse unless ``--yes`` was given."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("not on a terminal: add --yes to confirm")
    if not typer.confirm(question, default=False, err=True):
        raise typer.Abort()


def time_window(start: str | None, end: str | None, days: int | None) -> tuple[datetime, datetime]:
    """A [start, end) window from --from / --to / --days; a date alone means the whole day."""
    from carecoord.dates import parse_bound
    from carecoord.errors import ValidationError

    if end is not None and days is not None:
        raise UsageError("give --to or --days, not both")
    if days is not None and days < 1:
        raise ValidationError("--days must be at least 1")
    low = parse_bound(start or "today", end=False)
    high = parse_bound(end, end=True) if end else low + timedelta(days=days or 1)
    if high <= low:
        raise ValidationError("the window ends before it starts")
    return low, high


def close_met_followups(session: Session, patient_id: int, on: date, *, contact: bool, visit: bool, why: str) -> str:
    """Complete the transition-of-care tasks a contact or visit just met; a sentence saying so."""
    if not (contact or visit):
        return ""
    from carecoord.services.transitions import close_met_tasks

    closed = close_met_tasks(session, patient_id, on, contact=contact, visit=visit, why=why)
    return "".join(f" Completed follow-up task #{task.id} ({task.title})." for task in closed)
