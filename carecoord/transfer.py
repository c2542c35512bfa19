"""Copying a whole store into another (``carecoord db copy --to TARGET``): a coordinator's file into
the team's PostgreSQL store, or the other way for a coordinator who leaves with their caseload.

The copy is all or nothing: it runs in one transaction on the target, and a new SQLite file is
built under a temporary name and put in place only once the copy is committed, so a failure
leaves no file behind. The target must have this code's schema and may already hold records (the
team store holding the other coordinators' caseloads): every copied row gets a new id from the
target, and every reference to it is rewritten (the metadata's foreign keys, a task's series, the
audit trail's record and patient ids and the ids inside its changes). Ids are handed out in the
source's order, so into an empty store they stay as they were. A copy that would add a patient the
target holds already (the same record, or the same MRN) is refused: copying one file twice adds
nothing. The team's directory and settings are merged instead: a resource, screening interval or
instrument the target holds already (by uid, HSDS id or instrument key) stays the team's, and the
copied references point at it. A file copied into a server is assigned to the role that copies it.

Rows go parents first (the order of ``SQLModel.metadata.sorted_tables``), in batches, with the
columns both databases have (found by reflection), read in one snapshot of the source.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carecoord.errors import CarecoordError, ConflictError, StorageError
from carecoord.server import Server

if TYPE_CHECKING:
    from sqlalchemy import Column, Connection, Engine, Row, Select, Table

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
    from sqlalchemy import exc, inspect
    from sqlmodel import SQLModel

    import carecoord.models  # noqa: F401  (registers the tables)
    from carecoord.dialects import insert_rows

    tables = SQLModel.metadata.sorted_tables
    try:
        source_columns = _columns(inspect(reader))
    except exc.SQLAlchemyError as error:
        raise _storage_error(source, error) from None
    target_columns = _columns(inspect(writer))
    by_name = {t.name: t for t in tables}
    _refuse_duplicates(reader, writer, target, by_name["patient"])
    before = _stored(writer, tables)
    references = reference_columns(tables)
    held = _team_rows_held(reader, writer, by_name, source)
    ids = _new_ids(reader, writer, tables, references, source, held)
    # A coordinator's file copied into the team store is assigned to them: the server fills in the
    # signed-in role (the column's DEFAULT current_user), not the file's operating-system user.
    assigned = {("patient", "coordinator")} if isinstance(target, Server) and not isinstance(source, Server) else set()
    counts: dict[str, int] = {}
    for table in tables:
        shared = [c for c in table.columns if c.name in source_columns.get(table.name, ()) and
                  c.name in target_columns.get(table.name, ()) and (table.name, c.name) not in assigned]  # fmt: skip
        rewrite = _rewriter(table.name, [c.name for c in shared], references, ids)
        query = select_ordered(shared, table)
        copied = 0
        kept = held.get(table.name, {})
        for batch in _batches(reader, query, source):
            rows = [rewrite(row) for row in batch if row.id not in kept] if kept else [rewrite(row) for row in batch]
            if rows:
                insert_rows(writer, table, shared, rows)
            copied += len(rows)
        counts[table.name] = copied
    added = {name: count - before[name] for name, count in _stored(writer, tables).items()}
    if added != counts:  # nothing may be lost on the way (an access policy could hide rows, say)
        raise StorageError(f"the copy into {target} does not add up ({added} stored of {counts}); nothing was copied")
    return counts


def select_ordered(columns: list[Column[Any]], table: Table) -> Select[Any]:
    from sqlalchemy import select

    return select(*columns).order_by(*table.primary_key.columns)


def _stored(writer: Connection, tables: list[Table]) -> dict[str, int]:
    from sqlalchemy import func, select

    return {t.name: writer.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}


# --- new ids for the copied rows, and every reference rewritten to them -----------------------------

# Columns that hold another row's id without a declared foreign key (the audit trail's record_id is
# a reference too, to the table its table_name names). The account of disclosures names its patients
# without one, so that a deleted patient's disclosures stay.
UNDECLARED_REFERENCES = {("task", "series_id"): "task", ("audit_log", "patient_id"): "patient",
                         ("disclosure_patient", "patient_id"): "patient"}  # fmt: skip
AUDIT_TABLE = "audit_log"


def reference_columns(tables: list[Table]) -> dict[str, dict[str, str]]:
    """Per table, its columns that hold an id of some table's row: the metadata's foreign keys plus
    :data:`UNDECLARED_REFERENCES`; ``{table: {column: referenced table}}``."""
    found: dict[str, dict[str, str]] = {t.name: {} for t in tables}
    for table in tables:
        for column in table.columns:
            for key in column.foreign_keys:
                found[table.name][column.name] = key.column.table.name
    for (table_name, column_name), referenced in UNDECLARED_REFERENCES.items():
        found[table_name][column_name] = referenced
    return found


class IdMap:
    """Old ids to new ones, both ascending, kept as runs (both sides consecutive) so that half a
    million log entries take a few tuples, not a dictionary of half a million."""

    def __init__(self, old: list[int], new: list[int]) -> None:
        self.starts: list[int] = []
        self.runs: list[tuple[int, int, int]] = []  # (first old id, first new id, length)
        for was, now in zip(old, new, strict=True):
            if self.runs:
                first, first_new, length = self.runs[-1]
                if was == first + length and now == first_new + length:
                    self.runs[-1] = (first, first_new, length + 1)
                    continue
            self.starts.append(was)
            self.runs.append((was, now, 1))

    def get(self, old: int) -> int | None:
        from bisect import bisect_right

        at = bisect_right(self.starts, old) - 1
        if at < 0:
            return None
        first, first_new, length = self.runs[at]
        return first_new + old - first if old < first + length else None


def _new_ids(
    reader: Connection, writer: Connection, tables: list[Table], references: dict[str, dict[str, str]],
    source: Location, held: dict[str, dict[int, int]],
) -> dict[str, IdMap]:  # fmt: skip
    """A new id from the target for every row copied, and for every id the copied rows refer to
    that is no longer stored (a deleted record the audit trail names, the first task of a series
    that was deleted), so that all references to one record keep pointing to one id. Old ids are
    mapped in order: the copied rows keep their order, and into an empty store they keep their ids.
    A team row the target holds already (``held``) keeps the target's id."""
    from sqlalchemy import exc, select, text

    from carecoord.dialects import allocate_ids

    by_name = {t.name: t for t in tables}
    wanted: dict[str, set[int]] = {t.name: set() for t in tables}
    try:
        for table in tables:
            wanted[table.name].update(reader.execute(select(table.c.id)).scalars())
            for column, referenced in references[table.name].items():
                values = select(table.c[column]).where(table.c[column].is_not(None)).distinct()
                wanted[referenced].update(reader.execute(values).scalars())
        audited = text(f'SELECT DISTINCT table_name, record_id FROM "{AUDIT_TABLE}"')
        for table_name, record_id in reader.execute(audited):
            if table_name in wanted:
                wanted[table_name].add(record_id)
    except exc.SQLAlchemyError as error:
        raise _storage_error(source, error) from None
    maps: dict[str, IdMap] = {}
    for name, old in wanted.items():
        kept = held.get(name, {})
        fresh = sorted(old - kept.keys())
        named = _highest_named(writer, by_name, name)
        pairs = sorted([*zip(fresh, allocate_ids(writer, by_name[name], len(fresh), above=named), strict=True),
                        *kept.items()])  # fmt: skip
        maps[name] = IdMap([was for was, _ in pairs], [now for _, now in pairs])
    return maps


# The team's shared settings and directory, and what identifies one of their rows besides its uid: a
# row the target holds already is the team's (the same resource imported from the county's HSDS
# files, a rescreening interval the team set), so the copy adds no second one and its references
# (a referral's resource) point at the team's row.
TEAM_ROW_KEYS = {"resource": "hsds_id", "screening_cadence": "instrument", "screening_instrument": "key"}


def _team_rows_held(
    reader: Connection, writer: Connection, by_name: dict[str, Table], source: Location
) -> dict[str, dict[int, int]]:
    """Per team table, the source's rows the target already holds (same uid, or same key): {old id: target id}."""
    from sqlalchemy import exc, select

    held: dict[str, dict[int, int]] = {}
    for name, key in TEAM_ROW_KEYS.items():
        table = by_name[name]
        columns = (table.c.id, table.c.uid, table.c[key])
        by_uid: dict[str, int] = {}
        by_key: dict[str, int] = {}
        for row_id, uid, value in writer.execute(select(*columns)):
            by_uid[uid] = row_id
            if value is not None:
                by_key[value] = row_id
        if not by_uid:
            continue
        try:
            rows = reader.execute(select(*columns)).all()
        except exc.SQLAlchemyError as error:
            raise _storage_error(source, error) from None
        matched = {row_id: by_uid.get(uid) or by_key.get(value) for row_id, uid, value in rows}
        held[name] = {old: new for old, new in matched.items() if new is not None}
    return held


def _highest_named(writer: Connection, by_name: dict[str, Table], name: str) -> int:
    """The largest id of ``name`` that the target's rows name without a foreign key (its audit trail's
    deleted records, a series whose first task was deleted): copied rows must not take those ids
    (SQLite would, as it takes the largest stored id plus one)."""
    from sqlalchemy import func, select

    audit = by_name[AUDIT_TABLE]
    found = [select(func.max(audit.c.record_id)).where(audit.c.table_name == name)]
    for (table, column), referenced in UNDECLARED_REFERENCES.items():
        if referenced == name:
            found.append(select(func.max(by_name[table].c[column])))
    return max((writer.execute(query).scalar_one() or 0 for query in found), default=0)


def _rewriter(
    table: str, columns: list[str], references: dict[str, dict[str, str]], ids: dict[str, IdMap]
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """How one row of ``table`` (values in the order of ``columns``) is written into the target: its
    id and every reference replaced by the new ids; on the audit trail also the record it names (by
    table_name) and the ids inside its changes."""
    mapped = [(i, ids[table if name == "id" else references[table][name]]) for i, name in enumerate(columns)
              if name == "id" or name in references[table]]  # fmt: skip
    audit = table == AUDIT_TABLE
    record = columns.index("record_id") if audit else -1
    kind = columns.index("table_name") if audit else -1
    changes = columns.index("changes") if audit and "changes" in columns else -1

    def rewrite(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for i, mapping in mapped:
            if values[i] is not None:
                values[i] = mapping.get(values[i])
        if audit and values[kind] in ids:
            values[record] = ids[values[kind]].get(values[record])
            if changes >= 0:
                values[changes] = _rewrite_changes(values[changes], values[kind], references, ids)
        return tuple(values)

    return rewrite


def _rewrite_changes(changes: str, table: str, references: dict[str, dict[str, str]], ids: dict[str, IdMap]) -> str:
    """An audit row's changes (``{"field": [old, new]}``) with the ids its reference fields hold
    replaced by the new ones (an id no longer known anywhere in the copy is left as it was)."""
    import json

    fields = references.get(table, {})
    if not fields or not any(f'"{field}"' in changes for field in fields):
        return changes
    values = json.loads(changes)
    for field, referenced in fields.items():
        pair = values.get(field)
        if isinstance(pair, list):
            values[field] = [_mapped(ids[referenced], value) for value in pair]
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def _mapped(mapping: IdMap, value: Any) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    new = mapping.get(value)
    return value if new is None else new


# --- what the copy must not duplicate -------------------------------------------------------------


def _refuse_duplicates(reader: Connection, writer: Connection, target: Location, patient: Table) -> None:
    """Refuse a copy that would add a patient the target already holds (the same record, by uid, or
    the same MRN): copying one file twice must not make two of everybody. Only the patients the
    signed-in role sees are compared here; one hidden by an access policy makes the insert fail on
    the unique constraint, which :func:`_clash` reports the same way."""
    from sqlalchemy import select

    columns = (patient.c.uid, patient.c.mrn, patient.c.name)
    held_uids: dict[str, str] = {}
    held_mrns: dict[str, str] = {}
    for uid, mrn, name in writer.execute(select(*columns)):
        held_uids[uid] = name
        if mrn:
            held_mrns[mrn.casefold()] = name
    if not held_uids:
        return
    for uid, mrn, name in reader.execute(select(*columns).order_by(patient.c.id)):
        if uid in held_uids:
            raise ConflictError(
                f"{target} already holds {name}{_mrn(mrn)}, the same record: this caseload was copied there "
                "before; nothing was copied"
            )
        if mrn and mrn.casefold() in held_mrns:
            raise ConflictError(
                f"{target} already holds a patient with MRN {mrn} ({held_mrns[mrn.casefold()]}), the copy's "
                f"{name}: nothing was copied"
            )


def _mrn(mrn: str | None) -> str:
    return f" (MRN {mrn})" if mrn else ""


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
    from carecoord import server
    from carecoord.dialects import postgresql_options

    engine = server.make_engine(target)
    try:
        server.check_current(engine, target)
    except BaseException:
        engine.dispose()
        raise
    with _transaction(engine, engine.execution_options(**postgresql_options(write=True)), target,
                      server.storage_error) as connection:  # fmt: skip
        yield connection


@contextmanager
def _writing_file(target: Path) -> Iterator[Connection]:
    """An existing file: a carecoord database with this code's schema (it is not upgraded here)."""
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
    with _transaction(engine, engine, target, db.storage_error) as connection:
        yield connection


@contextmanager
def _transaction(
    engine: Engine, bound: Engine, target: Any, storage_error: Callable[[Any, BaseException], CarecoordError]
) -> Iterator[Connection]:
    """One write transaction on ``bound`` (``engine`` with its options), committed if the block
    succeeds; a clash with stored rows, or any other database error, becomes one line."""
    from sqlalchemy import exc

    try:
        with bound.connect() as connection:
            with connection.begin():
                yield connection
            _committed()
    except exc.IntegrityError as error:
        raise _clash(target, error) from None
    except exc.SQLAlchemyError as error:
        raise storage_error(target, error) from None
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
    """A unique constraint the copy ran into: a record the target holds already, which the
    duplicate check did not see (another coordinator's patient, hidden by the access policies)."""
    diag = getattr(getattr(error, "orig", None), "diag", None)
    table = getattr(diag, "table_name", None)
    # PostgreSQL says which key ("Key (mrn)=(48213) already exists."), except to a role that row-level
    # security applies to (the value could be another coordinator's): then the constraint names the column.
    detail = getattr(diag, "message_detail", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    if table and (detail or constraint.startswith(f"{table}_")):
        if detail:
            held = detail.strip().rstrip(".").replace("Key ", "", 1).replace(" already exists", "")
        else:
            held = "the same " + constraint.removeprefix(f"{table}_").removesuffix("_key").removesuffix("_pkey")
        return ConflictError(
            f"{target} already holds a {table} record with {held}, maybe one you cannot see "
            "(another coordinator's): the copy would duplicate it; nothing was copied"
        )
    return ConflictError(f"the copy conflicts with records in {target} ({_first_line(error)}); nothing was copied")


def _first_line(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
