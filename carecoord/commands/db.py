"""``carecoord db``: where the database is, its state, checks and backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from carecoord.commands._common import (
    FormatOption,
    YesOption,
    confirm_or_refuse,
    db_location,
    db_path,
    may_create,
    new_app,
)
from carecoord.output import Column, render_record
from carecoord.vocab import OutputFormat

app = new_app(
    "The store: a database file, or a team's PostgreSQL server: path, init, status, check, backup, copy."
    "\n\nExample: carecoord db status"
)


@app.command("path")
def path() -> None:
    """Print the database this command line uses (--db, CARECOORD_DB, or the default file).

    Example: carecoord db path
    """
    print(db_location())


@app.command("init")
def init() -> None:
    """Create the database, or bring its schema up to this version. On a PostgreSQL server this is
    an administrator's job: it creates the tables, the coordinator and supervisor group roles and
    the access policies.

    Example: carecoord --db postgresql://db.example.org/carecoord db init
    """
    from carecoord import db, server

    location = db_location()
    before: str | None
    after: str | None
    if isinstance(location, server.Server):
        before, after = server.initialise(location)
    else:
        before = db.stored_revision(location) if location.exists() else None
        db.ensure_current(location, create=True)
        after = db.stored_revision(location)
    if before == after:
        print(f"{location} is ready: its schema is current ({after}).")
    elif before is None:
        print(f"Created the carecoord schema ({after}) in {location}.")
    else:
        print(f"Upgraded {location} from schema {before} to {after}.")


@app.command("status")
def status(fmt: FormatOption = OutputFormat.table) -> None:
    """Schema revision, size and row counts.

    Example: carecoord db status --format json
    """
    from carecoord import db, server
    from carecoord.migrations import head_revision

    location = db_location()
    if isinstance(location, server.Server):
        revision, size, counts = server.describe(location)
    else:
        db.ensure_current(location, create=may_create(location, write=False))
        revision, size, counts = db.stored_revision(location), location.stat().st_size, db.table_counts(location)
    record: dict[str, Any] = {
        "path": str(location),
        "size_bytes": size,
        "schema_revision": revision,
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
    """Check the database: SQLite's integrity and foreign-key checks on a file; on a server, that
    every table and column is there (the server enforces integrity itself). Exit 3 if anything is wrong.

    Example: carecoord db check && echo healthy
    """
    from carecoord import db, server
    from carecoord.errors import StorageError

    location = db_location()
    if isinstance(location, server.Server):
        found = server.problems(location)
        passed = "has the current schema, every table and column (the server enforces integrity and foreign keys)"
    else:
        db.ensure_current(location, create=may_create(location, write=False))
        found = db.integrity_problems(location)
        passed = "passed the integrity and foreign-key checks"
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise StorageError(f"{location} failed its check: {found[0]}{more}")
    print(f"OK: {location} {passed}.")


@app.command("backup")
def backup(
    target: Annotated[Path, typer.Argument(help="Backup file to write.", dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace the file if it exists.")] = False,
) -> None:
    """Copy the database file to FILE, safely even while another carecoord writes (SQLite online
    backup). A PostgreSQL server is backed up with its own tools (pg_dump).

    Example: carecoord db backup ~/backups/carecoord-$(date +%F).db
    """
    from carecoord import db, server
    from carecoord.errors import ConflictError, UsageError

    location = db_location()
    if isinstance(location, server.Server):
        raise UsageError(
            f"{location} is a PostgreSQL server: its backups are made with the server's own tools "
            f"(pg_dump, or your administrator's backups), e.g. pg_dump -Fc -f carecoord.dump '{location}'"
        )
    db.stored_revision(location)  # a carecoord database, of any version (a newer one can be backed up too)
    destination = target.expanduser().absolute()
    if destination.exists() and not force:
        raise ConflictError(f"{destination} already exists; add --force to replace it")
    db.backup_file(location, destination)
    print(f"Backed up {location} to {destination}.")


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


@app.command("copy")
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="TARGET",
            help="Where to copy: a PostgreSQL server (postgresql://host/dbname, with the schema made by "
            "'db init') or a database file (created if missing).",
            show_default=False,
        ),
    ],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add every record of this store to another, which may already hold records: your file into the
    team's PostgreSQL store (assigned to you), or the team store (what your role sees) into a file.
    Copied records get new ids from the target and every reference, the audit trail's too, follows
    them. All or nothing, in one transaction; a patient the target already holds (the same record
    or MRN) is refused. Prints the rows copied per table.

    Example: carecoord db copy --to postgresql://db.example.org/carecoord
    """
    from carecoord import server, transfer
    from carecoord.errors import UsageError

    if not to.strip():
        raise UsageError("--to is empty: name a PostgreSQL server (postgresql://host/dbname) or a file")
    source = db_location()
    target = server.Server(to) if server.is_server(to) else Path(to).expanduser().absolute()
    counts = transfer.copy_store(source, target)
    record: dict[str, Any] = {"from": str(source), "to": str(target), "rows": sum(counts.values()), "counts": counts}
    fields = [Column("from", "From"), Column("to", "To"), Column("rows", "Rows copied")]
    per_table = [{"table": name, "rows": rows} for name, rows in counts.items()]
    flat = {k: v for k, v in record.items() if k != "counts"}
    flat.update({f"rows_{name}": n for name, n in counts.items()})
    render_record(record, fields, fmt, title="Copied", flat=flat,
                  sections=(("", per_table, (Column("table", "Table"), Column("rows", "Rows"))),))  # fmt: skip
