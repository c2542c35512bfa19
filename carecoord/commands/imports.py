"""``carecoord import``: patients and contacts from a spreadsheet (CSV), all or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carecoord.commands._common import counted, new_app, store

if TYPE_CHECKING:
    from carecoord.services.imports import ImportResult, Sheet

app = new_app("Import from a spreadsheet saved as CSV.\n\nExample: carecoord import patients caseload.csv --dry-run")


class OnDuplicate(StrEnum):
    """What to do with a row that matches a stored record."""

    error = "error"
    skip = "skip"
    update = "update"


FileArg = Annotated[Path, typer.Argument(help="The CSV file (UTF-8; a byte-order mark is fine).", dir_okay=False)]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", "-m", help="COLUMN=FIELD for a header not recognised; COLUMN=- leaves it out. Repeatable."),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check every row and say what would happen; write nothing.")]
DuplicateOpt = Annotated[
    OnDuplicate,
    typer.Option("--on-duplicate", help="A row that matches a stored record: error (default), skip or update."),
]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="The file's text encoding, e.g. cp1252 for older Excel.")]


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    from carecoord.errors import UsageError

    mapping = {}
    for pair in pairs or ():
        column, equals, target = pair.partition("=")
        if not equals or not column.strip() or not target.strip():
            raise UsageError(f"--map takes COLUMN=FIELD (or COLUMN=-), not '{pair}'")
        mapping[column.strip()] = target.strip()
    return mapping


@contextmanager
def _progress(total: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on a terminal; nothing at all in scripts."""
    if not sys.stderr.isatty() or total < 50:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda done: bar.update(task, completed=done)


def _run(kind: str, path: Path, sheet_reader: Callable[[], Sheet], action: Callable[..., ImportResult],
         dry_run: bool, **options: object) -> None:  # fmt: skip
    from carecoord.services.imports import ImportError_

    sheet = sheet_reader()
    try:
        with store(write=not dry_run) as session, _progress(len(sheet.rows), f"Importing {kind}") as progress:
            result = action(session, sheet, dry_run=dry_run, progress=progress, **options)
    except ImportError_ as failure:
        for problem in failure.errors:
            print(f"carecoord: error: {path.name}: {problem}", file=sys.stderr)
        raise
    done = "Would import" if dry_run else "Imported"
    parts = [f"{done} {counted(result.created, 'new ' + kind.removesuffix('s'))}"]
    if result.updated:
        parts.append(f"{'would update' if dry_run else 'updated'} {result.updated}")
    if result.skipped:
        parts.append(f"{'would skip' if dry_run else 'skipped'} {result.skipped} already stored")
    rows = counted(len(sheet.rows), "row")
    print(", ".join(parts) + f" from {path} ({rows})." + (" Nothing was written." if dry_run else ""))
    if result.flippable_names:
        names = "1 name is" if result.flippable_names == 1 else f"{result.flippable_names} names are"
        print(f"{names} written 'Last, First'; --flip-names stores them as 'First Last'.")


@app.command("patients")
def patients(
    file: FileArg,
    map_: MapOpt = None,
    dry_run: DryRunOpt = False,
    on_duplicate: DuplicateOpt = OnDuplicate.error,
    flip_names: Annotated[bool, typer.Option("--flip-names", help="Store 'Doe, Jane' as 'Jane Doe'.")] = False,
    encoding: EncodingOpt = "utf-8-sig",
) -> None:
    """Import patients from a CSV file. Headers are matched to fields whatever their case and
    spacing ('DOB', 'Date of Birth', 'MRN #', 'Insurance'...); every row is checked first, and
    nothing is written unless all rows are valid. Duplicates are found by MRN, or by name and
    date of birth. 'patient list --format csv' output imports back unchanged.

    Example: carecoord import patients export.csv --map 'Case Manager=-' --on-duplicate skip
    """
    from carecoord.services import imports

    _run("patients", file, lambda: imports.read_sheet(file, encoding=encoding), imports.import_patients, dry_run,
         mapping=_mapping(map_), on_duplicate=on_duplicate.value, flip_names=flip_names)  # fmt: skip


@app.command("contacts")
def contacts(
    file: FileArg,
    map_: MapOpt = None,
    dry_run: DryRunOpt = False,
    on_duplicate: DuplicateOpt = OnDuplicate.error,
    encoding: EncodingOpt = "utf-8-sig",
) -> None:
    """Import care-team and family contacts; each row names its patient (id, MRN or name).
    'contact list --format csv' output imports back.

    Example: carecoord import contacts family.csv --map 'Client=patient'
    """
    from carecoord.services import imports

    _run("contacts", file, lambda: imports.read_sheet(file, encoding=encoding), imports.import_contacts, dry_run,
         mapping=_mapping(map_), on_duplicate=on_duplicate.value)  # fmt: skip
