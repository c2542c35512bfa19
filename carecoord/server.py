"""The team store: a PostgreSQL server, named by a ``postgresql://host/dbname`` URL.

Credentials come the libpq way (``PGUSER``, ``PGPASSWORD``, ``~/.pgpass``, ``PGSERVICE``,
``sslmode`` in the URL or ``PGSSLMODE``), never from carecoord's files: a password in the URL is
refused, and messages name the server by host, port and database only.

The schema is created and upgraded by ``carecoord db init`` (an administrator's job: coordinators'
roles may not change it); every other command checks that it is current and refuses otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecoord.errors import CarecoordError, ConflictError, RefusedError, StorageError, UsageError
from carecoord.migrations import head_revision, known_revisions

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL
    from sqlmodel import Session

SCHEMES = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_SECONDS = 10
INSTALL_HINT = "pip install 'carecoord[postgres]'"
# SQLSTATEs: serialization_failure and deadlock_detected: the command is run again.
RETRYABLE_STATES = frozenset({"40001", "40P01"})


def is_server(value: str) -> bool:
    """Whether a --db value names a PostgreSQL server rather than a SQLite file."""
    return value.strip().lower().startswith(SCHEMES)


class RetryableConflict(StorageError):
    """A concurrent change won: running the whole command again is safe (nothing was saved)."""


@dataclass(frozen=True)
class Server:
    """A PostgreSQL database, as the user named it."""

    url: str

    def __post_init__(self) -> None:
        parsed = self._parsed()
        if parsed.password is not None:
            raise UsageError(
                "the database URL holds a password: keep it out of commands and settings; "
                "use ~/.pgpass or PGPASSWORD (libpq's own ways)"
            )

    def _parsed(self) -> URL:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(self.url.strip())
        except (ArgumentError, ValueError):
            raise UsageError("the database URL is not of the form postgresql://host/dbname") from None

    @property
    def engine_url(self) -> URL:
        """The URL for SQLAlchemy with the psycopg 3 driver (libpq fills in what it leaves out)."""
        return self._parsed().set(drivername="postgresql+psycopg")

    def __str__(self) -> str:
        """``postgresql://host:port/dbname``: never a user name or password."""
        parsed = self._parsed()
        where = parsed.host or "local socket"
        port = f":{parsed.port}" if parsed.port else ""
        return f"postgresql://{where}{port}/{parsed.database or ''}"


# --- errors in words a coordinator can act on ---------------------------------------------------


def _sqlstate(error: BaseException) -> str | None:
    original = getattr(error, "orig", None) or error
    return getattr(original, "sqlstate", None)


def storage_error(server: Server, error: BaseException) -> CarecoordError:
    """Translate a driver error into one line that names the server but no credentials."""
    state = _sqlstate(error)
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    lowered = text.lower()
    if state in RETRYABLE_STATES:
        return RetryableConflict(f"another change to the same records won on {server}; nothing was changed")
    if state == "42501":  # insufficient_privilege
        return RefusedError(f"the server refused: your role may not do this on {server} ({text})")
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return StorageError(f"cannot sign in to {server}: {text} (check ~/.pgpass, PGPASSWORD or PGUSER)")
    if "does not exist" in lowered and "database" in lowered:
        return StorageError(f"there is no database {server} on that server (ask an administrator to create it)")
    if state == "28000" or ("role" in lowered and "does not exist" in lowered):
        return StorageError(f"cannot sign in to {server}: {text}")
    if any(s in lowered for s in ("connection refused", "could not translate host", "timeout expired", "no route")):
        return StorageError(f"cannot reach the PostgreSQL server {server}: is it running, and are host and port right?")
    return StorageError(f"database error on {server}: {text}")


# --- engine, schema, sessions -------------------------------------------------------------------


def make_engine(server: Server) -> Engine:
    """An engine for one command (no pool kept: a command is one short connection)."""
    try:
        import psycopg  # noqa: F401  (the optional driver)
    except ImportError:
        raise StorageError(f"using a PostgreSQL server needs its driver: {INSTALL_HINT}") from None
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    from carecoord.dialects import SESSION_SETTINGS_SQL

    engine = create_engine(
        server.engine_url,
        poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "carecoord"},
    )

    @event.listens_for(engine, "connect")
    def _session_settings(dbapi_connection: Any, _record: Any) -> None:
        # A setting, not the user's PGOPTIONS overridden; committed, or the first rollback undoes it.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(SESSION_SETTINGS_SQL)
        dbapi_connection.commit()

    return engine


def stored_revision(engine: Engine, server: Server) -> str | None:
    """The schema revision on the server, or None when carecoord's schema is not there."""
    from sqlalchemy import exc, text

    try:
        with engine.connect() as connection:
            if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except exc.SQLAlchemyError as error:
        raise storage_error(server, error) from None


def check_current(engine: Engine, server: Server) -> None:
    """Refuse a database without carecoord's schema, or with an older or newer one."""
    revision = stored_revision(engine, server)
    if revision == head_revision():
        return
    if revision is None:
        raise StorageError(f"{server} has no carecoord schema yet: an administrator runs 'carecoord db init'")
    if revision not in known_revisions():
        raise StorageError(
            f"{server} was set up by a newer carecoord (schema {revision}, this version knows up to "
            f"{head_revision()}); upgrade carecoord to use it"
        )
    raise StorageError(
        f"{server} has schema {revision} and this carecoord needs {head_revision()}: "
        "an administrator runs 'carecoord db init' to upgrade it"
    )


def initialise(server: Server) -> tuple[str | None, str]:
    """Create or upgrade the schema (with its roles and policies) to this code's revision, in one
    transaction. Returns the revision before and after."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import exc

    from carecoord.migrations import MIGRATIONS_DIR

    engine = make_engine(server)
    before = stored_revision(engine, server)
    if before is not None and before not in known_revisions():
        check_current(engine, server)  # refuses a newer schema
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            with connection.begin():
                command.upgrade(config, "head")
    except exc.SQLAlchemyError as error:
        raise storage_error(server, error) from None
    finally:
        engine.dispose()
    return before, head_revision()


@contextmanager
def session_scope(server: Server, *, write: bool) -> Iterator[Session]:
    """One transaction for one command, in one snapshot; committed if the block succeeds."""
    from sqlalchemy import exc
    from sqlmodel import Session

    from carecoord.dialects import postgresql_options
    from carecoord.services import audit

    engine = make_engine(server)
    try:
        check_current(engine, server)
        bound = engine.execution_options(**postgresql_options(write=write))
        with Session(bound, expire_on_commit=False, autoflush=True) as session:
            audit.attach(session)
            try:
                yield session
                if write:
                    _commit(session)
            except BaseException:
                session.rollback()
                raise
    except exc.IntegrityError as error:
        if _sqlstate(error) in RETRYABLE_STATES:
            raise storage_error(server, error) from None
        raise ConflictError(f"the change conflicts with stored data ({_first_line(error)})") from None
    except exc.SQLAlchemyError as error:
        raise storage_error(server, error) from None
    finally:
        engine.dispose()


def _first_line(error: BaseException) -> str:
    original: Any = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0]


def _commit(session: Session) -> None:
    """Commit as every command does (see :func:`carecoord.db.commit`)."""
    from carecoord import db

    db.commit(session)


# --- what `db status` and `db check` report -----------------------------------------------------


def describe(server: Server) -> tuple[str | None, int, dict[str, int]]:
    """The schema revision, the database's size in bytes, and the rows of each carecoord table
    this role may see (the server's access policies apply to the counts too)."""
    from sqlalchemy import exc, text
    from sqlmodel import SQLModel

    import carecoord.models  # noqa: F401  (registers the tables)

    engine = make_engine(server)
    try:
        check_current(engine, server)
        with engine.connect() as connection:
            size = int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
            counts = {
                name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
                for name in sorted(SQLModel.metadata.tables)
            }
        return stored_revision(engine, server), size, counts
    except exc.SQLAlchemyError as error:
        raise storage_error(server, error) from None
    finally:
        engine.dispose()


def problems(server: Server) -> list[str]:
    """What is wrong with the schema on the server (empty when healthy). Integrity and foreign keys
    are the server's to enforce, on every write; this checks that every table and column is there."""
    from sqlalchemy import exc, inspect
    from sqlmodel import SQLModel

    import carecoord.models  # noqa: F401  (registers the tables)

    engine = make_engine(server)
    try:
        check_current(engine, server)
        inspector = inspect(engine)
        found = []
        present = set(inspector.get_table_names())
        for name, table in sorted(SQLModel.metadata.tables.items()):
            if name not in present:
                found.append(f"table {name} is missing")
                continue
            columns = {column["name"] for column in inspector.get_columns(name)}
            found += [f"column {name}.{c.name} is missing" for c in table.columns if c.name not in columns]
        return found
    except exc.SQLAlchemyError as error:
        raise storage_error(server, error) from None
    finally:
        engine.dispose()
