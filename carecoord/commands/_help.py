"""How every command's ``--help`` reads: words a person reads where Typer shows types.

Typer prints a value's Python type (``--tag <list[str]>``, ``--days <int range>``, usage
``{patient}``). Every sub-command is built with the classes here instead (``new_app`` and
``command_app`` in _common.py): each option and argument shows a word (``--tag TAG``, ``PATIENT``,
``--days N``, ``--when WHEN``); a short set of choices shows its values (``--risk low|moderate|high``),
a longer one a word and the values in the help text; ranges read "at least 1"; and a group's list
of commands shows each one's first sentence whole (Click cuts it with "..." to fit a line).

A word comes from the parameter's name in capitals, from WORDS where the name reads badly, or from
its type (numbers are N, paths FILE); an explicit ``metavar=`` wins over all of these.
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from carecoord.clickcompat import Context, HelpFormatter, Parameter, keep_hyphenated_words_whole

# A parameter's name -> the word its help shows, where the name in capitals would read badly.
WORDS: dict[str, str] = {
    **dict.fromkeys(("dob", "date", "enrolled", "discharged", "auth_expires", "since", "until"), "DATE"),
    **dict.fromkeys(("review", "next_", "target", "occurrence"), "DATE"),
    **dict.fromkeys(("when", "due", "start", "end", "from_", "to"), "WHEN"),
    **dict.fromkeys(("duration", "remind", "review_every"), "DURATION"),
    **dict.fromkeys(("note", "notes", "reason", "search", "measure"), "TEXT"),
    **dict.fromkeys(("with_whom", "pcp", "payer", "org", "facility"), "NAME"),
    **dict.fromkeys(("add_tag", "remove_tag"), "TAG"),
    **dict.fromkeys(("add_need", "remove_need"), "NEED"),
    **dict.fromkeys(("days", "limit", "count", "review_due"), "N"),
    **dict.fromkeys(("new_status", "lifecycle"), "STATUS"),
    "member_id": "ID",
    "minutes": "MINUTES",
    "location": "PLACE",
    "tz": "ZONE",
    "out": "FILE",
    "every": "RULE",
    "map_": "COLUMN=FIELD",
    "prefers": "METHOD",
    "kind": "TYPE",
    "sort": "KEY",
}
# A command that lost a race on a PostgreSQL server (a serialization failure or deadlock: nothing was
# saved) runs again, up to this many attempts in all, after a short random pause.
ATTEMPTS = 3
RETRY_PAUSE_SECONDS = (0.02, 0.2)
keep_hyphenated_words_whole()

# The questions the person running the command answered yes to (confirm_or_refuse in _common.py):
# a command run again after a lost race does not ask them again. Kept for one command's attempts.
CONFIRMED: set[str] = set()
# Choices shown as their values (``table|json|csv|markdown``) when they fit this many columns.
BARE_CHOICES = 24
_RANGE = re.compile(r"(-?[\d.]+)<=x<=(-?[\d.]+)|x>=(-?[\d.]+)|x<=(-?[\d.]+)")


def _choices(param: Parameter) -> list[str]:
    descriptor = getattr(param, "type_descriptor", None)
    values = descriptor.choices if descriptor is not None else None
    return [str(v.value if isinstance(v, Enum) else v) for v in values or ()]


def _bare(param: Parameter) -> bool:
    """Whether the choices are shown as the metavar itself."""
    values = _choices(param)
    return bool(values) and param.param_type_name == "option" and len("|".join(values)) <= BARE_CHOICES


def word(param: Parameter) -> str:
    """The metavar a person reads for ``param``."""
    name = param.name or ""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return "FILE"
    if name in WORDS:
        return WORDS[name]
    if _bare(param):
        return "|".join(_choices(param))
    if annotation in (int, float):
        return "N"
    return name.strip("_").upper()


def _readable_extras(param: Parameter, text: str) -> str:
    """Ranges in words; the values of a choice whose metavar is a word."""
    text = _RANGE.sub(_range_words, text)
    values = _choices(param)
    if not values or param.metavar == "|".join(values):
        return text
    listed = "one of: " + ", ".join(values)
    if text.endswith("]") and "  [" in text:
        head, _, extras = text.rpartition("  [")
        return f"{head}  [{listed}; {extras}"
    return f"{text}  [{listed}]" if text else f"[{listed}]"


def _range_words(match: re.Match[str]) -> str:
    low, high, at_least, at_most = match.groups()
    if low is not None:
        return f"{low} to {high}"
    return f"at least {at_least}" if at_least is not None else f"at most {at_most}"


def _name_words(params: Sequence[Parameter]) -> None:
    for param in params:
        flag = getattr(param, "is_flag", False) or getattr(param, "count", False)
        if param.metavar is None and not flag:
            param.metavar = word(param)
        if param.name == "patient" and param.param_type_name == "option":
            _refuse_empty(param)


def _refuse_empty(param: Parameter) -> None:
    """``--patient ''`` (a script's unset variable) is refused: read as no filter at all, it would
    list, report or export every patient's records."""
    inner = param.callback

    def check(ctx: Context, option: Parameter, value: Any) -> Any:
        values = value if isinstance(value, list | tuple) else [value]
        if any(v is not None and not str(v).strip() for v in values):
            raise typer.BadParameter("give a patient: an id, an MRN or part of the name")
        return inner(ctx, option, value) if inner is not None else value

    param.callback = check


class HelpCommand(TyperCommand):
    """A command whose help shows words, not types; run again when a concurrent change won."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_words(self.params)

    def invoke(self, ctx: Context) -> Any:
        """Run the command; on a server's serialization failure or deadlock (``server.RetryableConflict``:
        the transaction was rolled back, nothing saved), run it again with the options already parsed
        (so ``--note -`` does not read standard input twice, and a question answered yes is not asked
        again: CONFIRMED), up to ATTEMPTS times in all."""
        attempt = 1
        CONFIRMED.clear()
        try:
            while True:
                try:
                    return super().invoke(ctx)
                except Exception as error:
                    if attempt >= ATTEMPTS or not _retryable(error):
                        raise
                attempt += 1
                time.sleep(random.uniform(*RETRY_PAUSE_SECONDS) * attempt)
        finally:
            CONFIRMED.clear()

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                piece = param.metavar or (param.name or "").upper()
                pieces.append((piece if param.required else f"[{piece}]") + ("..." if param.nargs != 1 else ""))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            term, text = record
            if isinstance(param, TyperArgument):
                term = (param.metavar or "") + ("..." if param.nargs != 1 else "")
                sections["Arguments"].append((term, _readable_extras(param, text)))
            else:
                sections["Options"].append((term, _readable_extras(param, text)))
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _retryable(error: Exception) -> bool:
    """A conflict the server resolved by rolling this command back, before anything was committed.
    (Only a command that used a server can meet one: the modules are loaded by then.)"""
    server, store = sys.modules.get("carecoord.server"), sys.modules.get("carecoord.db")
    if server is None or not isinstance(error, server.RetryableConflict):
        return False
    return store is None or not store.state["committed"]


class HelpGroup(TyperGroup):
    """A noun's group: its list of commands shows each one's first sentence whole, wrapped; its own
    options (``audit``'s) show words, as a command's do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_words(self.params)

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        HelpCommand.format_options(self, ctx, formatter)  # type: ignore[arg-type]  # reads only params
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class HelpTyper(typer.Typer):
    """A Typer app whose commands are HelpCommands (unless one asks for another class)."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[Any], Any]:
        return super().command(name, cls=cls or HelpCommand, **kwargs)
