"""The command reference (docs/cli.md) is generated from the commands and kept up to date."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
import typer.main

from carecoord.cli import app

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
# The one command that writes docs/cli.md (README, "Contributing"): Typer's own docs generator.
REGENERATE = "python -m typer carecoord.cli utils docs --name carecoord --title 'carecoord command reference'"


def test_the_command_reference_is_up_to_date() -> None:
    args = [sys.executable, *shlex.split(REGENERATE)[1:]]
    generated = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    assert REFERENCE.read_text(encoding="utf-8") == generated.strip() + "\n", (
        f"docs/cli.md is out of date: run {REGENERATE} --output docs/cli.md"
    )


def _leaves(command: Any, path: str, ctx: Any) -> Iterator[tuple[str, Any]]:
    if hasattr(command, "list_commands"):  # a group
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _leaves(sub, f"{path} {name}", ctx)
    else:
        yield path, command


def test_every_command_has_an_example() -> None:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)
    missing = [path for path, command in _leaves(root, "carecoord", ctx) if "Example:" not in (command.help or "")]
    assert missing == []
