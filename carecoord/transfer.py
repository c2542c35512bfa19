"""Copying a whole store into another (``carecoord db copy --to TARGET``): a coordinator's file into
the team's PostgreSQL store, or the other way for a coordinator who leaves with their caseload.

The copy is all or nothing: it runs in one transaction on the target, and a new SQLite file is
built under a temporary name and put in place only once the copy is committed, so a failure
leaves no file behind. The target must have this code's schema and hold no records: ids are kept,
so every reference (a task's plan, a log entry's contact, a series, the audit trail's record ids)
stays valid, and PostgreSQL's id sequences are moved past the copied ids afterwards. A file copied
into a server is assigned to the role that copies it.

Rows go parents first (the order of ``SQLModel.metadata.sorted_tables``), in batches, with the
columns both databases have (found by reflection), read in one snapshot of the source.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carecoord.errors import CarecoordError, ConflictError, StorageError
from carecoord.server import Server

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row, Select, Table

Location = Path | Server
# Rows per batch: big enough that the round trips do not dominate, small enough to stay well
# within memory at agency size (500,000 log entries).
BATCH_ROWS = 5_000


def same_store(source: Location, target: Location) -> bool:
    """Whether two locations name the same database."""
    if isinstance(source, Server) or isinstance(target, Server):
        return isinstance(source, Server) and isinstance(target, Server) and str(source) == str(target)
    if source.resolve() == target.resolve():
        return True
    return source.exists() and target.exists() and os.path.samefile(source, target)


def copy_store(source: Location, target: Location) -> dict[str, int]:
    """Copy every record of ``source`` into ``target``; the rows copied per table, parents first."""
    if same_store(source, target):
        raise ConflictError(f"{target} is the store being copied; name another file or server with --to")
    with _reading(source) as reader, _writing(target) as writer:
        return _copy(reader, writer, source, target)


def _copy(reader: Connection, writer: Connection, source: Location, target: Location) -> dict[str, int]:
    from sqlalchemy import exc, func, inspect, select, text
    from sqlmodel import SQLModel

    import carecoord.models  # noqa: F401  (registers the tables)
    from carecoord.dialects import advance_id_sequence, insert_rows

    tables = SQLModel.metadata.sorted_tables
    _refuse_records(writer, target, tables)
    try:
        source_columns = _columns(inspect(reader))
    except exc.SQLAlchemyError as error:
        raise _storage_error(source, error) from None
    target_columns = _columns(inspect(writer))
    # A coordinator's file copied into the team store is assigned to them: the server fills in the
    # signed-in role (the column's DEFAULT current_user), not the file's operating-system user.
    assigned = {("patient", "coordinator")} if isinstance(target, Server) and not isinstance(source, Server) else set()
    counts: dict[str, int] = {}
    for table in tables:
        shared = [c for c in table.columns if c.name in source_columns.get(table.name, ()) and
                  c.name in target_columns.get(table.name, ()) and (table.name, c.name) not in assigned]  # fmt: skip
        query = select(*shared).order_by(*table.primary_key.columns)
        copied = 0
        for batch in _batches(reader, query, source):
            insert_rows(writer, table, shared, batch)
            copied += len(batch)
        counts[table.name] = copied
        advance = advance_id_sequence(writer.dialect.name, table.name)
        if advance is not None and copied:
            writer.execute(text(advance))
    stored = {t.name: writer.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
    if stored != counts:  # nothing may be lost on the way (an access policy could hide rows, say)
        raise StorageError(f"the copy into {target} does not add up ({stored} stored of {counts}); nothing was copied")
    return counts


def _batches(reader: Connection, query: Select[Any], source: Location) -> Iterator[Sequence[Row[Any]]]:
    """The source's rows in batches; a failure to read is reported as the source's (not the target's)."""
    from sqlalchemy import exc

    try:
        yield from reader.execution_options(yield_per=BATCH_ROWS).execute(query).partitions()
    except exc.SQLAlchemyError as error:
        raise _storage_error(source, error) from None


def _storage_error(location: Location, error: BaseException) -> CarecoordError:
    from carecoord import db, server

    return server.storage_error(location, error) if isinstance(location, Server) else db.storage_error(location, error)


def _columns(inspector: object) -> dict[str, set[str]]:
    """The columns each table has in one database (tables that are not there have none)."""
    names = inspector.get_table_names()  # type: ignore[attr-defined]
    return {name: {c["name"] for c in inspector.get_columns(name)} for name in names}  # type: ignore[attr-defined]


def _refuse_records(writer: Connection, target: Location, tables: list[Table]) -> None:
    """Refuse a target that already holds records: the copied ids would clash with them."""
    from sqlalchemy import func, select

    by_name = {t.name: t for t in tables}
    for name in ["patient", *(t.name for t in tables if t.name != "patient")]:
        found = writer.execute(select(func.count()).select_from(by_name[name])).scalar_one()
        if found:
            what = f"{found} patient{'s' if found != 1 else ''}" if name == "patient" else f"{found} {name} rows"
            raise ConflictError(
                f"{target} already holds records ({what}): db copy copies into an empty store only; nothing was copied"
            )


# --- the two ends -------------------------------------------------------------------------------


@contextmanager
def _reading(source: Location) -> Iterator[Connection]:
    """One read-only transaction (one snapshot) on the store being copied."""
    from sqlalchemy import exc

    from carecoord import db, server
    from carecoord.dialects import postgresql_options

    if isinstance(source, Server):
        engine = server.make_engine(source)
        try:
            server.check_current(engine, source)
            bound = engine.execution_options(**postgresql_options(write=False))
            with bound.connect() as connection, connection.begin():
                yield connection
        except exc.SQLAlchemyError as error:
            raise server.storage_error(source, error) from None
        finally:
            engine.dispose()
        return
    db.ensure_current(source, create=False)
    engine = db._make_engine(source, write=False)
    try:
        with engine.connect() as connection, connection.begin():
            yield connection
    except exc.SQLAlchemyError as error:
        raise db.storage_error(source, error) from None
    finally:
        engine.dispose()


@contextmanager
def _writing(target: Location) -> Iterator[Connection]:
    """One write transaction on the target, committed when the block succeeds."""
    if isinstance(target, Server):
        with _writing_server(target) as connection:
            yield connection
    elif target.exists():
        with _writing_file(target) as connection:
            yield connection
    else:
        with _writing_new_file(target) as connection:
            yield connection


@contextmanager
def _writing_server(target: Server) -> Iterator[Connection]:
    from sqlalchemy import exc

    from carecoord import server
    from carecoord.dialects import postgresql_options

    engine = server.make_engine(target)
    try:
        server.check_current(engine, target)
        with engine.execution_options(**postgresql_options(write=True)).connect() as connection:
            with connection.begin():
                yield connection
            _committed()
    except exc.IntegrityError as error:
        raise _clash(target, error) from None
    except exc.SQLAlchemyError as error:
        raise server.storage_error(target, error) from None
    finally:
        engine.dispose()


@contextmanager
def _writing_file(target: Path) -> Iterator[Connection]:
    """An existing file: a carecoord database with this code's schema (it is not upgraded here)."""
    from sqlalchemy import exc

    from carecoord import db
    from carecoord.migrations import head_revision

    revision = db.stored_revision(target)
    if revision != head_revision():
        has = "no carecoord schema" if revision is None else f"schema {revision}"
        raise StorageError(
            f"{target} has {has} and a copy needs {head_revision()}: name a new file, "
            "or open that one with this carecoord first ('carecoord --db FILE db init')"
        )
    engine = db._make_engine(target, write=True)
    try:
        with engine.connect() as connection:
            with connection.begin():
                yield connection
            _committed()
    except exc.IntegrityError as error:
        raise _clash(target, error) from None
    except exc.SQLAlchemyError as error:
        raise db.storage_error(target, error) from None
    finally:
        engine.dispose()


@contextmanager
def _writing_new_file(target: Path) -> Iterator[Connection]:
    """A new file, built under a temporary name beside it and linked into place once committed."""
    from carecoord import db

    if not target.parent.is_dir():
        raise StorageError(f"cannot create {target}: the folder {target.parent} does not exist")
    building = target.with_name(f".{target.name}.copy-{os.getpid()}")
    try:
        db.ensure_current(building, create=True)
        with _writing_file(building) as connection:
            yield connection
        try:
            os.link(building, target)  # never replaces a file that appeared meanwhile
        except FileExistsError:
            raise ConflictError(f"{target} appeared while the copy ran; it was left as it is") from None
        except OSError as error:
            raise StorageError(f"cannot create {target}: {error.strerror or error}") from None
    except BaseException:
        db.state["committed"] = False  # the copy is not anywhere the user can see
        raise
    finally:
        db._remove_database(building)


def _committed() -> None:
    from carecoord import db

    db.state["committed"] = True


def _clash(target: Location, error: BaseException) -> ConflictError:
    return ConflictError(f"the copy conflicts with records in {target} ({_first_line(error)}); nothing was copied")


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
