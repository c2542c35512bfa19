"""The root command: global options, the sub-commands, and the one place errors become exit codes.

This module imports nothing heavy: ``--help``, ``--version`` and shell completion never load
SQLModel, SQLAlchemy, Alembic or icalendar (a test checks it).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

# Typer converts options through pydantic; scanning for pydantic plugins costs every run ~60 ms
# and carecoord uses none. (Set before typer loads pydantic; an explicit setting is respected.)
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import typer
from typer.core import TyperGroup

from carecoord import __version__
from carecoord.clickcompat import (
    ClickException,
    CompletionItem,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
    get_completion_class,
)
from carecoord.commands._common import settings
from carecoord.errors import EXIT_DOMAIN, EXIT_STORAGE, EXIT_USAGE, CarecoordError

DEBUG_ENV_VAR = "CARECOORD_DEBUG"
# A command is a short process whose objects are freed by reference counting. With the default
# thresholds the cycle collector re-walks every object the imports made, again and again: about
# 0.3 s of a 7-day agenda at agency size. Young objects are still collected, old ones never.
GC_THRESHOLDS = (50_000, 1_000, 1_000)


def report(message: str) -> None:
    """Print one error line on stderr."""
    line = " ".join(message.split())
    visible = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in line)
    print(f"carecoord: error: {visible}", file=sys.stderr)


def _usage_message(error: ClickException) -> str:
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    words = _in_words(error.__cause__)
    if words is not None:
        error.message = words
    message = error.format_message().replace("Value error, ", "")
    return f"{message}{hint}"


def _in_words(cause: BaseException | None) -> str | None:
    """A number Typer's validator refused, said as a person would ("'abc' is not a whole number",
    "0 is too small: at least 1") instead of "Input should be greater than or equal to 1"."""
    errors = getattr(cause, "errors", None)
    if type(cause).__name__ != "ValidationError" or errors is None:
        return None
    [first, *_] = errors() or [{}]
    kind, given, limits = first.get("type"), first.get("input"), first.get("ctx") or {}
    if kind == "int_parsing":
        return f"'{given}' is not a whole number"
    if kind == "float_parsing":
        return f"'{given}' is not a number"
    bounds = {"greater_than_equal": ("small", "at least", "ge"), "greater_than": ("small", "more than", "gt"),
              "less_than_equal": ("large", "at most", "le"), "less_than": ("large", "less than", "lt")}  # fmt: skip
    if kind in bounds and bounds[kind][2] in limits:
        size, words, key = bounds[kind]
        return f"{given} is too {size}: {words} {limits[key]}"
    return None


def _change_saved() -> bool:
    """Whether this command already committed its change (the store may not even be loaded)."""
    store = sys.modules.get("carecoord.db")
    return bool(store is not None and store.state["committed"])


def _forget_saved_change() -> None:
    store = sys.modules.get("carecoord.db")
    if store is not None:
        store.state["committed"] = False


def _outcome() -> str:
    """What a failure means for the data."""
    return "; the change itself was saved" if _change_saved() else "; nothing was changed"


# Each sub-command: the module that holds its Typer app, and its one-line summary for --help and
# shell completion (tests/test_cli.py checks each summary is its help's first line). A module is
# imported, and its commands built, only when that sub-command runs: start-up stays fast.
COMMANDS: dict[str, tuple[str, str]] = {
    "agenda": ("carecoord.commands.agenda",
               "Your day: appointments, tasks due and overdue, plan reviews due and goal targets reached."),
    "patient": ("carecoord.commands.patients", "Patients on your caseload."),
    "contact": ("carecoord.commands.contacts", "Care team and family contacts."),
    "plan": ("carecoord.commands.plans", "Care plans: needs, goals, tasks and reviews."),
    "goal": ("carecoord.commands.goals", "Goals within care plans."),
    "task": ("carecoord.commands.tasks", "Tasks and follow-ups."),
    "appt": ("carecoord.commands.appointments", "Appointments: visits, calls and series."),
    "log": ("carecoord.commands.log", "The communication log."),
    "timer": ("carecoord.commands.timer", "A call timer: start it when you dial, stop it when you hang up."),
    "transition": ("carecoord.commands.transitions", "Transitions of care: discharges and their follow-up deadlines."),
    "screen": ("carecoord.commands.screenings",
               "Screenings: PHQ-9, GAD-7, AHC HRSN and other standard instruments, scores, safety flags and "
               "rescreening."),
    "resource": ("carecoord.commands.resources",
                 "The directory of community resources: food banks, shelters, rides, home health."),
    "referral": ("carecoord.commands.referrals",
                 "Referrals to community resources and clinical services, from draft to 'did the patient get help'."),
    "coverage": ("carecoord.commands.coverage", "Insurance coverage: payers, plans, member ids, order of benefits."),
    "auth": ("carecoord.commands.authorizations",
             "Prior authorizations: services approved by a payer, their dates and units."),
    "report": ("carecoord.commands.reports", "Reports for the month and the caseload."),
    "import": ("carecoord.commands.imports", "Import from a spreadsheet saved as CSV, or a FHIR file."),
    "export": ("carecoord.commands.export", "Export to other programs."),
    "audit": ("carecoord.commands.audit",
              "The audit trail of every create, update and delete, and the account of disclosures; newest first."),
    "team": ("carecoord.commands.team", "The team on a PostgreSQL server: who coordinates, who supervises."),
    "db": ("carecoord.commands.db",
           "The store: a database file, or a team's PostgreSQL server: path, init, status, check, backup, copy."),
    "program": ("carecoord.commands.programs",
                "Program enrolment and consent: ccm, complex-ccm, pcm, tcm, chi, pin, apcm."),
    "config": ("carecoord.commands.config",
               "Who you are, for the summaries you print: your name, phone, organization and email."),
    "demo": ("carecoord.commands.demo",
             "Build a demo caseload (patients, contacts, plans, tasks, recurring visits) around today and show "
             "today's agenda."),
}  # fmt: skip


def sub_app(name: str) -> typer.Typer:
    """The Typer app of a sub-command (importing its module)."""
    module: Any = importlib.import_module(COMMANDS[name][0])
    sub: typer.Typer = module.app
    return sub


@functools.cache
def _built(name: str) -> Any:
    """A sub-command's Click command, built once per process: Typer builds it from the functions'
    signatures (tens of milliseconds), and a process that runs several commands (the test suite)
    would otherwise build it for each."""
    command = typer.main.get_command(sub_app(name))
    command.name = name
    return command


def short_help(sub: typer.Typer) -> str:
    """The first line of a sub-command's help, read from its app."""
    text = sub.info.help if isinstance(sub.info.help, str) else None
    if text is None and sub.registered_commands:
        text = sub.registered_commands[0].callback.__doc__ if sub.registered_commands[0].callback else None
    return (text or "").strip().splitlines()[0] if text else ""


def _command_items(incomplete: str) -> list[Any]:
    """Completion items for the sub-commands starting with ``incomplete``."""
    return [
        CompletionItem(name, help=summary) for name, (_, summary) in COMMANDS.items() if name.startswith(incomplete)
    ]


class CarecoordGroup(TyperGroup):
    """The root group: loads sub-commands lazily, and turns every failure into one line and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        return _built(cmd_name)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """Sub-command names from the table above, without loading any of them."""
        options = [item for item in super().shell_complete(ctx, incomplete) if item.value not in COMMANDS]
        return _command_items(incomplete) + options

    def _main_shell_completion(self, ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        """Complete the first word (a sub-command) straight from the table: no context to build,
        so no option coercion and none of its imports. Everything else goes the usual way."""
        instruction = os.environ.get(complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper(), "")
        action, _, shell = instruction.partition("_")
        if action == "complete":
            completer_class = get_completion_class(shell)
            if completer_class is not None:
                completer = completer_class(self, ctx_args, prog_name, complete_var or "")
                args, incomplete = completer.get_completion_args()
                if not args and not incomplete.startswith("-"):
                    print("\n".join(completer.format_completion(item) for item in _command_items(incomplete)))
                    sys.exit(0)
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Click would turn Ctrl-C into a silent exit 130: say what became of the change.
            from carecoord.errors import Interrupted

            raise Interrupted(f"interrupted{_outcome()}") from None
        except BrokenPipeError:
            # The reader (head, less) stopped reading: not an error of ours. Point stdout at
            # /dev/null so the final flush cannot fail again (as the Python docs advise).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, summary) for name, (_, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        standalone = extra.pop("standalone_mode", True)
        _forget_saved_change()
        try:
            result = super().main(args=args, prog_name=prog_name or "carecoord", standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except CarecoordError as error:
            report(error.message)
            code = error.exit_code
        except NoArgsIsHelpError as error:
            print(error.ctx.get_help() if error.ctx else error.format_message())
            code = EXIT_USAGE
        except (MissingParameter, NoSuchOption) as error:
            report(_usage_message(error))
            code = EXIT_USAGE
        except UsageError as error:
            # A value that fails a check (a choice, a number) is an invalid value: exit 1.
            report(_usage_message(error))
            code = EXIT_DOMAIN if error.__class__.__name__ == "BadParameter" else error.exit_code
        except ClickException as error:
            report(error.format_message())
            code = error.exit_code
        except typer.Abort:
            report("aborted; nothing was changed")
            code = EXIT_DOMAIN
        except KeyboardInterrupt:
            report(f"interrupted{_outcome()}")
            code = 130
        except OSError as error:
            report(f"could not write the output: {error.strerror or error}{_outcome()}")
            code = EXIT_DOMAIN
        except Exception as error:
            if os.environ.get(DEBUG_ENV_VAR):
                raise
            report(
                f"unexpected {type(error).__name__}{_outcome()}. Run again with {DEBUG_ENV_VAR}=1 to see the details"
            )
            code = EXIT_STORAGE if type(error).__module__.startswith(("sqlite3", "sqlalchemy")) else EXIT_DOMAIN
        if standalone:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=CarecoordGroup,
    name="carecoord",
    help="A care coordinator's caseload in the terminal: patients, care team, plans, tasks, appointments.\n\n"
    "Example: carecoord agenda",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        print(f"carecoord {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db_path: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CARECOORD_DB",
            metavar="PATH",
            help="Database file (default: carecoord.db in your data folder; see 'carecoord db path').",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """A care coordinator's caseload in the terminal."""
    settings.db_option = db_path


def main() -> None:
    """Console-script entry point.

    Everything a command writes is committed, synced or flushed before it returns, so the process
    ends at once instead of spending ~100 ms tearing down SQLAlchemy's and pydantic's modules.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        app()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    else:
        code = 0
    _leave(code)


def _leave(code: int) -> None:
    """Flush what is buffered and end the process with ``code``."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader that went away, or a closed stream
            stream.flush()
    os._exit(code)
