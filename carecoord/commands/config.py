"""``carecoord config``: who you are (name, phone, organization, email), for the summaries you print."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from carecoord.commands._common import FormatOption, new_app
from carecoord.vocab import OutputFormat

app = new_app(
    "Who you are, for the summaries you print: your name, phone, organization and email.\n\n"
    "Example: carecoord config set name 'Dana Reyes, RN'"
)

KeyArg = Annotated[
    str,
    typer.Argument(metavar="KEY", help="Which setting: name, phone, organization or email.",
                   autocompletion=lambda: ["name", "phone", "organization", "email"]),
]  # fmt: skip
CONFIG_KEYS = ("file", "name", "phone", "organization", "email")


def _record(values: dict[str, str | None]) -> dict[str, Any]:
    from carecoord import config

    return {"file": str(config.path()), **values}


def _columns() -> tuple[Any, ...]:
    from carecoord.output import Column
    from carecoord.phones import display

    def shown(key: str) -> Any:
        if key == "phone":
            return lambda record: display(record["phone"]) or "(not set)"
        return lambda record: record[key] or "(not set)"

    return (*(Column(key, key.capitalize(), show=shown(key)) for key in CONFIG_KEYS[1:]), Column("file", "File"))


@app.command("set")
def set_(
    key: KeyArg,
    value: Annotated[
        str, typer.Argument(metavar="VALUE", help="The value, e.g. 'Dana Reyes, RN' or '(617) 555-0123'.")
    ],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Set one of your settings; a phone number is checked and stored like patients' numbers.

    Example: carecoord config set phone '(617) 555-0123'
    """
    from carecoord import config
    from carecoord.output import confirm_change
    from carecoord.phones import display

    values = config.set_value(key, value)
    name = config.check_key(key)
    shown = display(values[name]) if name == "phone" else values[name]
    confirm_change(f"Your {name} is now {shown}.", _record(values), fmt)


@app.command("unset")
def unset(key: KeyArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Remove one of your settings.

    Example: carecoord config unset email
    """
    from carecoord import config
    from carecoord.output import confirm_change

    name = config.check_key(key)
    removed, values = config.unset(name)
    message = f"Removed your {name}." if removed else f"Your {name} was not set; nothing changed."
    confirm_change(message, _record(values), fmt)


@app.command("show")
def show(fmt: FormatOption = OutputFormat.table) -> None:
    """Show your settings and the file they are kept in (CARECOORD_CONFIG chooses another).

    Example: carecoord config show --format json
    """
    from carecoord import config
    from carecoord.output import render_record

    render_record(_record(config.load()), _columns(), fmt, keys=CONFIG_KEYS, title="Your settings")
