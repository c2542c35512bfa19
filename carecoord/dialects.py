"""What differs between the two engines, in one place: SQLite (a coordinator's file) and
PostgreSQL (a team's server).

Models and migrations take their engine-specific types and index options from here, and the two
stores (``db.py``, ``server.py``) their transaction settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, String, Table, insert, text
from sqlalchemy.dialects.postgresql import CITEXT
from sqlalchemy.types import TypeEngine

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def case_insensitive_text() -> TypeEngine[str]:
    """Text compared without regard to case (an MRN typed 'ab12' finds 'AB12', and both cannot be
    stored): SQLite's NOCASE collation; PostgreSQL's citext (created by migration 0001)."""
    return String(collation="NOCASE").with_variant(CITEXT(), POSTGRESQL)


def partial_index(condition: str) -> dict[str, Any]:
    """Keyword arguments of an ``Index`` that covers only rows meeting ``condition`` (both engines)."""
    clause = text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


def sqlite_begin(*, write: bool) -> str:
    """How a command's transaction starts on SQLite: a writer takes the write lock up front (BEGIN
    IMMEDIATE) and waits for it (busy timeout), instead of failing half-way when a read turns into
    a write."""
    return "BEGIN IMMEDIATE" if write else "BEGIN"


def postgresql_options(*, write: bool) -> dict[str, Any]:
    """How a command's transaction runs on PostgreSQL: in one snapshot (REPEATABLE READ), read-only
    unless it writes. A write that meets a concurrent one fails with a serialization error, and the
    command is run again (see ``server.RetryableConflict``)."""
    return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": not write}


def advance_id_sequence(dialect: str, table: str, column: str = "id") -> str | None:
    """SQL that moves a table's id sequence past the largest stored id, after rows were inserted
    with their ids given (``db copy``), so the next record added gets a fresh one. PostgreSQL draws
    ids from a sequence that explicit ids do not move; SQLite takes the largest id plus one by itself
    (None: nothing to do)."""
    if dialect != POSTGRESQL:
        return None
    return (
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
        f'coalesce(max("{column}"), 1), max("{column}") IS NOT NULL) FROM "{table}"'
    )


def insert_rows(connection: Connection, table: Table, columns: Sequence[Column[Any]], rows: Sequence[Any]) -> None:
    """Insert a batch of rows (tuples in the order of ``columns``) as they are, ids included.
    PostgreSQL takes them through COPY, many times faster than row-by-row INSERTs at agency size
    (values first go through the columns' own types, as an INSERT would send them); SQLite through
    one executemany."""
    if connection.dialect.name != POSTGRESQL:
        names = [column.name for column in columns]
        connection.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
        return
    processors = [column.type._cached_bind_processor(connection.dialect) for column in columns]
    listed = ", ".join(f'"{column.name}"' for column in columns)
    driver: Any = connection.connection.driver_connection  # the psycopg connection, in this transaction
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({listed}) FROM STDIN') as copy:
        for row in rows:
            pairs = zip(processors, row, strict=True)
            copy.write_row([value if process is None else process(value) for process, value in pairs])
