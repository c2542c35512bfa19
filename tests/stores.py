"""The two engines the suite runs on: a SQLite file per test, and a PostgreSQL database per test
worker, emptied before each test.

The PostgreSQL half runs when ``CARECOORD_TEST_POSTGRES`` names a server where the test may create
databases (``postgresql://postgres@127.0.0.1/postgres``); without it, that half is skipped with
one line saying so. ``.ci/run`` sets it, so CI never skips it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

POSTGRES_ENV_VAR = "CARECOORD_TEST_POSTGRES"
SKIP_REASON = (
    f"PostgreSQL half skipped: set {POSTGRES_ENV_VAR}=postgresql://USER@HOST/postgres "
    "(a role that may create databases) to run it"
)


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV_VAR) or None


# --- SQLite -------------------------------------------------------------------------------------


def sqlite_rows(path: Path, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]


def sqlite_dump(path: Path) -> list[str]:
    """The whole database as SQL: equal dumps mean nothing changed."""
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


# --- PostgreSQL ---------------------------------------------------------------------------------


def _as_sqlite_stores(value: Any) -> Any:
    """A PostgreSQL value as the SQLite file would hold it, so one assertion serves both engines."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass
class PostgresStore:
    """One test worker's database on the server: created and migrated once, emptied per test."""

    admin_url: str
    name: str

    @property
    def url(self) -> str:
        """The database's URL for --db (no password: the test server trusts local connections)."""
        from sqlalchemy.engine import make_url

        return make_url(self.admin_url).set(database=self.name).render_as_string(hide_password=False)

    def _connect(self, url: str, *, autocommit: bool = False) -> Any:
        import psycopg
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        return psycopg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
            dbname=parsed.database, autocommit=autocommit,
        )  # fmt: skip

    def create(self) -> None:
        with self._connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')
            # A test's commits need not survive a crash of the server: not waiting for the disk on
            # each one made the PostgreSQL half several times faster on a busy machine.
            conn.execute(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off')
        from carecoord.server import Server, initialise

        initialise(Server(self.url))
        self.tables = [row["tablename"] for row in self.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'", ()
        )]  # fmt: skip
        links = [(row["child"], row["parent"]) for row in self.rows(
            "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = 'public'::regnamespace", ()
        )]  # fmt: skip
        sequences = [row["sequencename"] for row in self.rows(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'", ()
        )]  # fmt: skip
        self._emptying = "; ".join(
            [f'DELETE FROM "{table}"' for table in _children_first(self.tables, links)]
            + [f"SELECT setval('\"{sequence}\"', 1, false)" for sequence in sequences]
        )

    def drop(self) -> None:
        with self._connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def reset(self) -> None:
        """Empty every table and restart the ids, as a fresh database would have them: one round trip
        of DELETEs (children first) and setvals. TRUNCATE did the same in some 10 times the time (it
        gives each table new files), which was most of the PostgreSQL half's time."""
        with self._connect(self.url) as conn:
            conn.execute(self._emptying)  # type: ignore[arg-type]

    def rows(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        with self._connect(self.url) as conn, conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            found = cursor.fetchall() if cursor.description else []
        return [{key: _as_sqlite_stores(value) for key, value in row.items()} for row in found]

    def dump(self) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """Every table's rows in id order: equal dumps mean nothing changed. (Not the id sequences: a
        transaction rolled back on PostgreSQL still uses up the ids it drew, by design.)"""
        with self._connect(self.url) as conn:
            return [
                (table, conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()) for table in sorted(self.tables)
            ]


def _children_first(tables: list[str], links: list[tuple[str, str]]) -> list[str]:
    """``tables`` ordered so that a table comes before every table it references (``links`` are
    (child, parent) foreign keys; a table referencing itself is emptied by one statement)."""
    ordered: list[str] = []
    waiting = {table: {parent for child, parent in links if child == table and parent != table} for table in tables}
    while waiting:
        # a table may go once no table still waiting references it
        ready = sorted(t for t in waiting if not any(t in parents for other, parents in waiting.items() if other != t))
        assert ready, f"foreign keys in a cycle: {waiting}"
        ordered += ready
        for table in ready:
            del waiting[table]
    return ordered


@contextmanager
def postgres_store(worker: str) -> Iterator[PostgresStore]:
    admin = postgres_admin_url()
    assert admin is not None
    store = PostgresStore(admin, f"carecoord_test_{worker}_{os.getpid()}")
    store.create()
    try:
        yield store
    finally:
        store.drop()
