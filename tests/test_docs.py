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


README = REFERENCE.parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    return text[start : text.index("\n#", start + len(title) + 2)]


def _blocks(section: str, language: str) -> list[str]:
    return [part.split("```", 1)[0] for part in section.split(f"```{language}\n")[1:]]


def test_the_readme_teaches_the_import_and_its_examples_do_what_it_says(cli, rows, tmp_path) -> None:
    """Issue 11, item 7: the Patients concepts show 'import patients' and 'import contacts', and the
    spreadsheets shown there import as the text says (one bad date: --skip-invalid imports the others)."""
    section = _section("### Importing a spreadsheet")
    assert README.read_text(encoding="utf-8").index("### Patients") < README.read_text(encoding="utf-8").index(
        "### Importing a spreadsheet"
    )
    commands = _blocks(section, "sh")[0]
    assert "carecoord import patients caseload.csv" in commands and "carecoord import contacts family.csv" in commands
    caseload, family = _blocks(section, "csv")
    (tmp_path / "caseload.csv").write_text(caseload, encoding="utf-8")
    (tmp_path / "family.csv").write_text(family, encoding="utf-8")
    for line in commands.strip().splitlines():
        words = [str(tmp_path / w) if w.endswith(".csv") else w for w in shlex.split(line)[1:]]
        run = cli(*words)
        if "--skip-invalid" not in words and "--dry-run" in words:
            assert run.exit_code == 1 and "13/45/1950" in run.stderr, run.stderr
        else:
            assert run.exit_code == 0, run.stderr
    assert [r["name"] for r in rows("SELECT name FROM patient ORDER BY id")] == ["Aisha Rahman", "Omar Haddad"]
    assert rows("SELECT name, role, consent_to_share FROM contact") == [
        {"name": "Layla Haddad", "role": "daughter", "consent_to_share": 1}
    ]
    assert "13/45/1950" in (tmp_path / "caseload.rejected.csv").read_text(encoding="utf-8-sig")


def test_the_readme_lists_each_records_keys_once_as_declared():
    """The README's table of record keys has one row per record, and a declared record's row starts
    with exactly its declared keys (fields.py), so scripts read what carecoord writes."""
    from carecoord import fields

    text = README.read_text(encoding="utf-8")
    table = text[text.index("| record | keys |") :].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        if line.startswith("| ") and " | `" in line:
            name, _, rest = line[2:].partition(" | `")
            assert name not in rows, f"the README lists '{name}' twice"
            rows[name] = rest.split("`", 1)[0].split()
    declared = {"patient": fields.PATIENT, "contact": fields.CONTACT, "plan": fields.PLAN, "goal": fields.GOAL,
                "task": fields.TASK, "log": fields.COMMUNICATION, "transition": fields.TRANSITION,
                "appointment": fields.APPOINTMENT, "resource": fields.RESOURCE, "coverage": fields.COVERAGE,
                "authorization": fields.AUTHORIZATION}  # fmt: skip
    for name, record in declared.items():
        assert rows[name] == list(record.keys), name
