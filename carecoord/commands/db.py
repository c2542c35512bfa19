"""``carecoord db``: where the database is, its state, checks and backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from carecoord.commands._common import FormatOption, YesOption, confirm_or_refuse, db_path, may_create, new_app
from carecoord.output import Column, render_record
from carecoord.vocab import OutputFormat

app = new_app("The database file: path, status, check, backup.\n\nExample: carecoord db status")


@app.command("path")
def path() -> None:
    """Print the database file this command line uses (--db, CARECOORD_DB, or the default).

    Example: carecoord db path
    """
    print(db_path())


@app.command("status")
def status(fmt: FormatOption = OutputFormat.table) -> None:
    """Schema revision, size and row counts.

    Example: carecoord db status --format json
    """
    from carecoord import db
    from carecoord.migrations import head_revision

    file = db_path()
    db.ensure_current(file, create=may_create(file, write=False))
    counts = db.table_counts(file)
    record: dict[str, Any] = {
        "path": str(file),
        "size_bytes": file.stat().st_size,
        "schema_revision": db.stored_revision(file),
        "code_revision": head_revision(),
        "counts": counts,
    }
    fields = [Column(key, key.replace("_", " ").capitalize()) for key in list(record)[:-1]]
    per_table = [{"table": name, "rows": rows} for name, rows in counts.items()]
    flat = {k: v for k, v in record.items() if k != "counts"}
    flat.update({f"rows_{name}": n for name, n in counts.items()})
    render_record(record, fields, fmt, title="carecoord database", flat=flat,
                  sections=(("", per_table, (Column("table", "Table"), Column("rows", "Rows"))),))  # fmt: skip


@app.command("check")
def check() -> None:
    """Run SQLite's integrity and foreign-key checks; exit 3 if anything is wrong.

    Example: carecoord db check && echo healthy
    """
    from carecoord import db
    from carecoord.errors import StorageError

    file = db_path()
    db.ensure_current(file, create=may_create(file, write=False))
    problems = db.integrity_problems(file)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StorageError(f"{file} failed its check: {problems[0]}{more}")
    print(f"OK: {file} passed the integrity and foreign-key checks.")


@app.command("backup")
def backup(
    target: Annotated[Path, typer.Argument(help="Backup file to write.", dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Copy the database to FILE, safely even while another carecoord writes (SQLite online backup).

    Example: carecoord db backup ~/backups/carecoord-$(date +%F).db
    """
    from carecoord import db
    from carecoord.errors import ConflictError

    file = db_path()
    db.stored_revision(file)  # a carecoord database, of any version (a newer one can be backed up too)
    destination = target.expanduser().absolute()
    if destination.exists() and not force:
        raise ConflictError(f"{destination} already exists; add --force to replace it")
    db.backup_file(file, destination)
    print(f"Backed up {file} to {destination}.")


@app.command("restore")
def restore(
    source: Annotated[Path, typer.Argument(help="A backup made with 'db backup' (or any carecoord database).")],
    yes: YesOption = False,
) -> None:
    """Replace the database with a backup. The backup is checked first (a carecoord database that
    passes the integrity check), and the current database is copied aside before it is replaced.

    Example: carecoord db restore ~/backups/carecoord-2026-11-24.db --yes
    """
    from carecoord import db

    file = db_path()
    db.check_restorable(source)
    confirm_or_refuse(f"Replace {file} with {source}? (the current one is kept as a .bak copy)", yes)
    safety = db.restore_file(source, file)
    kept = f" The previous database was kept as {safety}." if safety else ""
    print(f"Restored {file} from {source}.{kept}")
