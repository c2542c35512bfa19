"""The root command: global options, the sub-commands, and the one place errors become exit codes.

This module imports nothing heavy: ``--help``, ``--version`` and shell completion never load
SQLModel, SQLAlchemy, Alembic or icalendar (a test checks it).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer._click.exceptions import (  # typer vendors click; its exception types live here
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperGroup

from carecoord import __version__
from carecoord.commands._common import settings
from carecoord.errors import EXIT_DOMAIN, EXIT_STORAGE, EXIT_USAGE, CarecoordError

DEBUG_ENV_VAR = "CARECOORD_DEBUG"


def report(message: str) -> None:
    """Print one error line on stderr."""
    line = " ".join(message.split())
    visible = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in line)
    print(f"carecoord: error: {visible}", file=sys.stderr)


def _usage_message(error: ClickException) -> str:
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    message = error.format_message().replace("Value error, ", "")
    return f"{message}{hint}"


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


# Each sub-command and the module that holds its Typer app. A module is imported, and its
# commands built, only when that sub-command runs: start-up stays fast however many there are.
COMMANDS = {
    "agenda": "carecoord.commands.agenda",
    "patient": "carecoord.commands.patients",
    "contact": "carecoord.commands.contacts",
    "plan": "carecoord.commands.plans",
    "goal": "carecoord.commands.goals",
    "task": "carecoord.commands.tasks",
    "appt": "carecoord.commands.appointments",
    "log": "carecoord.commands.log",
    "timer": "carecoord.commands.timer",
    "transition": "carecoord.commands.transitions",
    "report": "carecoord.commands.reports",
    "import": "carecoord.commands.imports",
    "export": "carecoord.commands.export",
    "audit": "carecoord.commands.audit",
    "db": "carecoord.commands.db",
    "demo": "carecoord.commands.demo",
}


def _sub_app(name: str) -> typer.Typer:
    module: Any = importlib.import_module(COMMANDS[name])
    sub: typer.Typer = module.app
    return sub


def _short_help(sub: typer.Typer) -> str:
    """The first line of a sub-command's help, without building it."""
    text = sub.info.help if isinstance(sub.info.help, str) else None
    if text is None and sub.registered_commands:
        text = sub.registered_commands[0].callback.__doc__ if sub.registered_commands[0].callback else None
    return (text or "").strip().splitlines()[0] if text else ""


class CarecoordGroup(TyperGroup):
    """The root group: loads sub-commands lazily, and turns every failure into one line and an exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        command = typer.main.get_command(_sub_app(cmd_name))
        command.name = cmd_name
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader (head, less) stopped reading: not an error of ours. Point stdout at
            # /dev/null so the final flush cannot fail again (as the Python docs advise).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, _short_help(_sub_app(name))) for name in COMMANDS]
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
    """Console-script entry point."""
    app()
