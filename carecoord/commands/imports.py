"""``carecoord import``: patients and contacts from a spreadsheet (CSV), resources from a directory, a
FHIR R4 file from an EHR or another carecoord; all or nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carecoord.commands._common import counted, db_location, followup_effects, new_app, store

if TYPE_CHECKING:
    from sqlmodel import Session

    from carecoord.services.imports import ImportResult, Sheet

app = new_app(
    "Import from a spreadsheet saved as CSV, or a FHIR file.\n\n"
    "Example: carecoord import patients caseload.csv --dry-run"
)


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
SkipInvalidOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Import the valid rows; write the others, each with its reason, to a CSV "
                 "file (see --rejects). Without it, one invalid row stops the whole import."),
]  # fmt: skip
RejectsOpt = Annotated[
    Path | None,
    typer.Option("--rejects", metavar="FILE", dir_okay=False,
                 help="Where --skip-invalid writes the rows it skips (default: beside the input, NAME.rejected.csv)."),
]  # fmt: skip
RawPhoneOpt = Annotated[
    bool,
    typer.Option("--raw-phone", help="Keep a phone number that cannot be read as it is in the file, instead of "
                 "refusing its row (numbers that can be read are still stored in one form)."),
]  # fmt: skip


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


def _rejects_path(path: Path, skip_invalid: bool, rejects: Path | None) -> Path | None:
    """Where the skipped rows go: --rejects, or NAME.rejected.csv beside the input."""
    from carecoord.errors import UsageError

    if not skip_invalid:
        if rejects is not None:
            raise UsageError("--rejects goes with --skip-invalid")
        return None
    target = rejects if rejects is not None else path.with_name(f"{path.stem}.rejected.csv")
    if target.expanduser().absolute() == path.absolute():
        raise UsageError("--rejects must not be the file being imported")
    return target


def _no_database() -> bool:
    """Whether the store is a database file that is not there yet (a server is always there)."""
    location = db_location()
    return isinstance(location, Path) and not location.exists()


@contextmanager
def _session(dry_run: bool) -> Iterator[Session]:
    """The store for a change; for a dry run, the store if there is one, else an empty one in
    memory: a dry run never creates a database."""
    if dry_run and _no_database():
        from carecoord.db import empty_session

        with empty_session() as session:
            yield session
        return
    with store(write=not dry_run) as session:
        yield session


def _outcome(result: ImportResult, kind: str, dry_run: bool) -> str:
    """``3 new patients, updated 2, skipped 1 already stored`` (or what a dry run would do)."""
    parts = [counted(result.created, "new " + kind.removesuffix("s"))]
    if result.updated:
        parts.append(f"{'would update' if dry_run else 'updated'} {result.updated}")
    if result.skipped:
        parts.append(f"{'would skip' if dry_run else 'skipped'} {result.skipped} already stored")
    return ", ".join(parts)


def _run(kind: str, path: Path, sheet_reader: Callable[[], Sheet], action: Callable[..., ImportResult],
         dry_run: bool, skip_invalid: bool, rejects: Path | None, **options: object) -> None:  # fmt: skip
    from carecoord import db
    from carecoord.errors import Interrupted, StorageError
    from carecoord.files import write_atomically
    from carecoord.services.imports import ImportError_, rejects_csv

    target = _rejects_path(path, skip_invalid, rejects)
    no_database = dry_run and _no_database()
    written: Path | None = None
    try:
        sheet = sheet_reader()
        with _session(dry_run) as session, _progress(len(sheet.rows), f"Importing {kind}") as progress:
            result = action(session, sheet, dry_run=dry_run, skip_invalid=skip_invalid, progress=progress,
                            **options)  # fmt: skip
            if result.rejected and target is not None and not dry_run:
                # Written before the import commits: if it cannot be written, nothing is imported.
                try:
                    written = write_atomically(target, rejects_csv(sheet, result.rejected))
                except StorageError as error:
                    raise StorageError(f"{error.message}; nothing was imported (choose another place with "
                                       "--rejects FILE)") from None  # fmt: skip
    except ImportError_ as failure:
        for problem in failure.errors:
            print(f"carecoord: error: {path.name}: {problem}", file=sys.stderr)
        raise
    except BaseException as failure:
        if db.state["committed"]:
            if isinstance(failure, KeyboardInterrupt):  # pressed as the commit returned
                saved = f"{_outcome(result, kind, dry_run)} from {path}"
                if written is not None:
                    saved += f"; the invalid rows are in {written}"
                raise Interrupted(f"interrupted after the import was saved: {saved}") from None
            raise
        if written is not None:
            written.unlink(missing_ok=True)  # the rows it lists were not imported either
        if isinstance(failure, KeyboardInterrupt):
            raise Interrupted("interrupted; nothing was imported") from None
        raise
    done = "Would import" if dry_run else "Imported"
    summary = f"{done} {_outcome(result, kind, dry_run)} from {path} ({counted(len(sheet.rows), 'row')})"
    invalid = counted(len(result.rejected), "invalid row")
    if result.rejected and dry_run:
        summary += f"; would skip {invalid}"
    elif result.rejected:
        reasons = "its reason" if len(result.rejected) == 1 else "their reasons"
        summary += f"; {invalid} skipped, written with {reasons} to {target}"
    print(summary + "." + (" Nothing was written." if dry_run else ""))
    if dry_run:
        for row in result.rejected:
            print(f"  line {row.line}: {row.reason}")
    if no_database:
        print(f"There is no database at {db_location()} yet: rows were checked against an empty caseload.")
    if result.flippable_names:
        again = "import the file again with --flip-names --on-duplicate update" if not dry_run else "add --flip-names"
        names = f"{counted(result.flippable_names, 'name')} {'is' if result.flippable_names == 1 else 'are'}"
        print(f"{names} written 'Last, First'; {again} to store them as 'First Last'.")


@app.command("patients")
def patients(
    file: FileArg,
    map_: MapOpt = None,
    dry_run: DryRunOpt = False,
    on_duplicate: DuplicateOpt = OnDuplicate.error,
    flip_names: Annotated[bool, typer.Option("--flip-names", help="Store 'Doe, Jane' as 'Jane Doe'.")] = False,
    encoding: EncodingOpt = "utf-8-sig",
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
    raw_phone: RawPhoneOpt = False,
) -> None:
    """Import patients from a CSV file. Headers are matched to fields whatever their case and
    spacing ('DOB', 'Date of Birth', 'MRN #', 'Insurance'...); every row is checked first, and
    nothing is written unless all rows are valid (--skip-invalid imports the valid ones and writes
    the others to a file). Duplicates are found by MRN, or by name and date of birth. 'patient
    list --format csv' output imports back unchanged.

    Example: carecoord import patients export.csv --map 'Case Manager=-' --on-duplicate skip
    """
    from carecoord.services import imports

    _run("patients", file, lambda: imports.read_sheet(file, encoding=encoding), imports.import_patients, dry_run,
         skip_invalid, rejects, mapping=_mapping(map_), on_duplicate=on_duplicate.value,
         flip_names=flip_names, raw_phone=raw_phone)  # fmt: skip


@app.command("contacts")
def contacts(
    file: FileArg,
    map_: MapOpt = None,
    dry_run: DryRunOpt = False,
    on_duplicate: DuplicateOpt = OnDuplicate.error,
    encoding: EncodingOpt = "utf-8-sig",
    skip_invalid: SkipInvalidOpt = False,
    rejects: RejectsOpt = None,
    raw_phone: RawPhoneOpt = False,
) -> None:
    """Import care-team and family contacts; each row names its patient (id, MRN or name).
    'contact list --format csv' output imports back.

    Example: carecoord import contacts family.csv --map 'Client=patient'
    """
    from carecoord.services import imports

    _run("contacts", file, lambda: imports.read_sheet(file, encoding=encoding), imports.import_contacts, dry_run,
         skip_invalid, rejects, mapping=_mapping(map_), on_duplicate=on_duplicate.value,
         raw_phone=raw_phone)  # fmt: skip


@app.command("resources")
def resources(
    path: Annotated[
        Path,
        typer.Argument(
            help="An Open Referral HSDS 3.0 folder (services.csv, organizations.csv, locations.csv...) "
            "or a CSV file with one resource per row."
        ),
    ],
    map_taxonomy: Annotated[
        list[str] | None,
        typer.Option(
            "--map-taxonomy",
            "-t",
            metavar="CODE=CATEGORY",
            help="File services under this HSDS taxonomy code (or a child of it) in this category, e.g. "
            "BD-1800=food-insecurity. Repeatable.",
        ),
    ] = None,
    map_: MapOpt = None,
    dry_run: DryRunOpt = False,
    encoding: EncodingOpt = "utf-8-sig",
) -> None:
    """Import the resource directory: an HSDS 3.0 CSV folder (one resource per service, with its
    organization, address, phones, languages and hours) or a spreadsheet (headers matched as in the
    patient import). Importing again updates by HSDS id (a spreadsheet: by name and organization)
    and never duplicates. All or nothing; problems are named by file and line.

    Example: carecoord import resources ./hsds-export --map-taxonomy BD-1800=food-insecurity --dry-run
    """
    from carecoord import db
    from carecoord.errors import Interrupted
    from carecoord.services import resource_import

    taxonomy = resource_import.parse_taxonomy_map(map_taxonomy or ())
    columns = _mapping(map_)
    no_database = dry_run and _no_database()
    bars: list[object] = []

    def progress_for(total: int) -> Callable[[int], None] | None:
        context = _progress(total, "Importing resources")
        bars.append(context)
        return context.__enter__()

    try:
        with _session(dry_run) as session:
            try:
                result = resource_import.import_path(
                    session,
                    path,
                    taxonomy_map=taxonomy,
                    column_map=columns,
                    dry_run=dry_run,
                    encoding=encoding,
                    progress_for=progress_for,
                )
            finally:
                for bar in bars:
                    bar.__exit__(None, None, None)  # type: ignore[attr-defined]
    except resource_import.ResourceImportError as failure:
        if len(failure.problems) > 1:
            for problem in failure.problems:
                print(f"carecoord: error: {problem}", file=sys.stderr)
        raise
    except KeyboardInterrupt:
        if db.state["committed"]:
            raise
        raise Interrupted("interrupted; nothing was imported") from None
    verb = "Would import" if dry_run else "Imported"
    parts = [f"{counted(result.created, 'new resource')}"]
    if result.updated:
        parts.append(f"{'would update' if dry_run else 'updated'} {result.updated}"
                     + (f" ({result.retired} retired)" if result.retired else ""))  # fmt: skip
    if result.unchanged:
        parts.append(f"{result.unchanged} unchanged")
    what = "services" if path.is_dir() else "rows"
    print(f"{verb} {', '.join(parts)} from {path} ({counted(result.rows, what.removesuffix('s'))})."
          + (" Nothing was written." if dry_run else ""))  # fmt: skip
    note = resource_import.describe_uncategorised(result.uncategorised)
    if note:
        print(note)
    if no_database:
        print(f"There is no database at {db_location()} yet: nothing was compared with stored resources.")


@app.command("fhir")
def fhir(
    file: Annotated[
        Path,
        typer.Argument(
            help="A FHIR R4 Bundle (JSON: transaction, collection, batch or searchset) or NDJSON.", dir_okay=False
        ),
    ],
    dry_run: DryRunOpt = False,
    conditions: Annotated[
        bool,
        typer.Option(
            "--conditions",
            help="Also add the active Conditions as needs of the patient's active care "
            "plan (or of a new draft plan 'Needs from the EHR').",
        ),
    ] = False,
) -> None:
    """Import patients from a FHIR R4 file: an EHR's export, Synthea's synthetic patients, or a colleague's
    'carecoord export fhir'. Creates or updates each Patient (found by its MRN, else by the carecoord id
    it carries, else by name and date of birth), its contacts (RelatedPerson, Patient.contact), Coverage
    and upcoming Appointments; other resources are counted and skipped. All or nothing; the same file
    imported twice changes nothing.

    Example: carecoord import fhir synthea/Jane_Doe.json --conditions --dry-run
    """
    from carecoord import db
    from carecoord.errors import Interrupted
    from carecoord.services import fhir_import

    no_database = dry_run and _no_database()
    entries = fhir_import.read_file(file)
    try:
        with _fhir_session(dry_run) as session, _progress(len(entries), "Importing FHIR resources") as progress:
            result = fhir_import.import_entries(session, entries, options={"conditions": conditions},
                                                progress=progress)  # fmt: skip
            effects = followup_effects(session)
            if dry_run:
                session.rollback()
    except KeyboardInterrupt:
        if db.state["committed"]:
            raise
        raise Interrupted("interrupted; nothing was imported") from None
    verb = "Would import" if dry_run else "Imported"
    print(f"{verb} from {file} ({counted(len(entries), 'resource')}): {fhir_import.describe(result)}."
          + effects + (" Nothing was written." if dry_run else ""))  # fmt: skip
    if no_database:
        print(f"There is no database at {db_location()} yet: nothing was compared with stored patients.")


@contextmanager
def _fhir_session(dry_run: bool) -> Iterator[Session]:
    """A writing session (a dry run rolls it back before the end), or for a dry run with no database
    yet, an empty one in memory: a dry run never creates a database."""
    if dry_run and _no_database():
        from carecoord.db import empty_session

        with empty_session() as session:
            yield session
        return
    with store(write=True) as session:
        yield session
