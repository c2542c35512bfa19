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

    from carecoord.server import Server


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
MineOption = Annotated[
    bool,
    typer.Option("--mine", help="Only your patients' (assigned to you: the role you sign in as on a team store)."),
]
CoordinatorOption = Annotated[
    str | None,
    typer.Option(
        "--coordinator",
        metavar="ROLE",
        help="Only the patients' of this coordinator (a supervisor sees everyone's), e.g. --coordinator jsmith.",
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


def db_location() -> Path | Server:
    """The store this invocation uses: a SQLite file, or a PostgreSQL server named by a URL."""
    from carecoord.db import chosen_option, resolve_path
    from carecoord.server import Server, is_server

    chosen = chosen_option(settings.db_option)
    if chosen is not None and is_server(chosen):
        return Server(chosen)
    return resolve_path(settings.db_option)


def db_path() -> Path:
    """The database file this invocation uses (commands that only make sense for a file)."""
    from carecoord.server import Server

    location = db_location()
    if isinstance(location, Server):
        raise UsageError(f"this command works on a database file; {location} is a PostgreSQL server")
    return location


def may_create(path: Path, *, write: bool) -> bool:
    """Whether a missing database file may be created: by a change, or at the default location.

    A read-only command pointed (--db, CARECOORD_DB) at a file that is not there is most likely a
    typo, and an empty new database would hide that.
    """
    from carecoord.db import default_path

    return write or path == default_path().absolute()


@contextmanager
def store(*, write: bool, adds: bool | None = None) -> Iterator[Session]:
    """A session on the store, in one transaction (committed only if ``write`` and no error).

    ``adds``: whether the command adds records, so may create a missing database file (default:
    ``write``). An export writes only its account of disclosures: it reads like a listing, and a
    mistyped --db is an error, not a new empty database."""
    from carecoord import db, server

    location = db_location()
    if isinstance(location, server.Server):
        with server.session_scope(location, write=write) as session:
            yield session
        return
    create = may_create(location, write=write if adds is None else adds)
    with db.session_scope(location, write=write, create=create) as session:
        yield session


def whose(session: Session, mine: bool, coordinator: str | None) -> str | None:
    """The coordinator --mine or --coordinator names (None: everyone's the signed-in person may see)."""
    if mine and coordinator is not None:
        raise UsageError("give --mine or --coordinator, not both")
    if mine:
        from carecoord.services.team import me

        return me(session)
    if coordinator is not None:
        from carecoord.services.text import required_line

        return required_line(coordinator, "coordinator")
    return None


def given(**options: Any) -> dict[str, Any]:
    """The options the user actually passed (None means 'not given'); enums as their codes."""
    return {key: value.value if isinstance(value, Enum) else value
            for key, value in options.items() if value is not None}  # fmt: skip


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 contact``, ``2 contacts``, ``2 log entries``; ``plural`` for nouns English makes otherwise."""
    from carecoord.services.lookup import plural as regular_plural

    return f"{n} {noun}" if n == 1 else f"{n} {plural or regular_plural(noun)}"


STDIN_TEXT = "-"


def text_option(*names: str, help: str, metavar: str | None = None) -> Any:
    """A free-text option (--note, --notes) whose value ``-`` reads the text from standard input."""
    return typer.Option(*names, help=f"{help} '-' reads it from standard input.", callback=read_text, metavar=metavar)


def read_text(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """``-`` as standard input, so a discharge summary can be piped or pasted (on a terminal: type or
    paste it, then Ctrl-D on a line of its own); empty input is an error, not an empty note."""
    if value != STDIN_TEXT or ctx.resilient_parsing:
        return value
    from carecoord.errors import ValidationError

    name = param.opts[0] if param.opts else "the text"
    if sys.stdin.isatty():
        print(f"Type or paste the text for {name}, then press Ctrl-D on a line of its own:", file=sys.stderr)
    text = sys.stdin.read()
    if not text.strip():
        raise ValidationError(f"{name} -: standard input is empty; pipe or paste the text, or give it in quotes")
    return text.rstrip("\r\n")


def optional_minutes(value: str | None) -> int | None:
    """A --minutes option as whole minutes: ``90`` (plain number = minutes), ``45m``, ``1h30m``."""
    if value is None:
        return None
    from carecoord.dates import parse_minutes

    return parse_minutes(value)


# The accepted forms, added to every date option's help. An option that records when something
# already happened is read "past": a bare weekday or 11/24 there means the last one, not the next.
DATE_FORMS_HELP = "Forms: 2026-11-24, 11/24, tomorrow, fri, next tue (next week's), last fri, +3d, eom"
# what already happened: the forms that look back (a date ahead is refused where it must be past)
PAST_DATE_FORMS_HELP = "Forms: 2026-11-24, 11/24, today, yesterday, mon, last fri, -3d"
TIME_FORMS_HELP = ", with a time: 'fri 2pm'"


def date_help(text: str, *, past: bool, time: bool = False) -> str:
    """An option's help followed by the date forms it takes, and which way a weekday points."""
    which = "last" if past else "next"
    forms = PAST_DATE_FORMS_HELP if past else DATE_FORMS_HELP
    return f"{text} {forms}{TIME_FORMS_HELP if time else ''}. A weekday or 11/24 means the {which} one."


def optional_date(value: str | None, *, past: bool) -> date | None:
    """Parse a date option as people type it (None stays None).

    ``past``: the option records when something already happened (see :func:`date_help`).
    """
    if value is None:
        return None
    from carecoord.dates import parse_date

    return parse_date(value, past=past)


def optional_datetime(value: str | None, *, past: bool) -> datetime | None:
    """Parse a date-and-time option as people type it, in the user's zone."""
    if value is None:
        return None
    from carecoord.dates import parse_datetime

    return parse_datetime(value, past=past)


def clearable_date(value: str | None, *, past: bool) -> date | str | None:
    """For edits: None = unchanged, '' = clear, else a parsed date."""
    if value is None or not value.strip():
        return value
    return optional_date(value, past=past)


def confirm_or_refuse(question: str, yes: bool, *, refusal: str = "not on a terminal: add --yes to confirm") -> None:
    """Ask on a terminal; off a terminal, refuse (with ``refusal``) unless ``--yes`` was given. A
    command run again after losing a race on the server takes the answer already given."""
    from carecoord.commands._help import CONFIRMED

    if yes or question in CONFIRMED:
        return
    if not sys.stdin.isatty():
        raise UsageError(refusal)
    if not typer.confirm(question, default=False, err=True):
        raise typer.Abort()
    CONFIRMED.add(question)


def time_window(
    start: str | None, end: str | None, days: int | None, *, past: bool = False
) -> tuple[datetime, datetime]:
    """A [start, end) window from --from / --to / --days; a date alone means the whole day.

    ``past``: a window over what already happened (the log), where ``mon`` is the last Monday.
    """
    from carecoord.dates import parse_bound
    from carecoord.errors import ValidationError

    if end is not None and days is not None:
        raise UsageError("give --to or --days, not both")
    if days is not None and days < 1:
        raise ValidationError("--days must be at least 1")
    low = parse_bound(start or "today", end=False, past=past)
    high = parse_bound(end, end=True, past=past) if end else low + timedelta(days=days or 1)
    if high <= low:
        raise ValidationError("the window ends before it starts")
    return low, high


def followup_effects(session: Session) -> str:
    """What the services did to transition-of-care follow-up tasks in this command, as sentences."""
    from carecoord.services.transitions import followup_changes

    return "".join(
        f" {change.action.capitalize()} follow-up task #{change.task.id} ({change.task.title}): {change.why}."
        for change in followup_changes(session)
    )
