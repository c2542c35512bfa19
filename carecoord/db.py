"""The local store: where it lives, how it is opened, migrated, backed up and checked.

Every command opens the store through :func:`session_scope`, which makes sure the file exists
(0600, in a 0700 folder), that its schema is current (backing the file up before a migration),
and runs the whole command in one transaction: a failed command changes nothing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from carecoord.dialects import sqlite_begin
from carecoord.errors import ConflictError, StorageError, UsageError
from carecoord.migrations import MIGRATIONS_DIR, head_revision, known_revisions

APP_NAME = "carecoord"
DB_ENV_VAR = "CARECOORD_DB"
BUSY_TIMEOUT_ENV_VAR = "CARECOORD_BUSY_TIMEOUT_MS"
DEFAULT_BUSY_TIMEOUT_MS = 10_000
FILE_MODE = 0o600

# Set once a command's write transaction has committed, so a later failure (writing the output,
# say) is not reported as "nothing was changed".
state = {"committed": False}
FOLDER_MODE = 0o700


def default_path() -> Path:
    """The database under the user's data directory (platformdirs)."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "carecoord.db"


def chosen_option(option: str | os.PathLike[str] | None) -> str | None:
    """What the user chose: ``--db`` wins, then ``CARECOORD_DB``; None for the default. Empty is refused."""
    chosen = option if option is not None else os.environ.get(DB_ENV_VAR)
    if chosen is not None and not str(chosen).strip():
        raise UsageError(f"the database path is empty (check --db and {DB_ENV_VAR})")
    return None if chosen is None else str(chosen)


def resolve_path(option: str | os.PathLike[str] | None) -> Path:
    """``--db`` wins, then ``CARECOORD_DB``, then the default path. An empty path is refused."""
    return Path(chosen_option(option) or default_path()).expanduser().absolute()


def busy_timeout_ms() -> int:
    """How long a command waits for another writer before giving up (exit 3)."""
    raw = os.environ.get(BUSY_TIMEOUT_ENV_VAR, "")
    return int(raw) if raw.isdigit() else DEFAULT_BUSY_TIMEOUT_MS


# --- errors from SQLite, in words a coordinator can act on -------------------------------------


def storage_error(path: Path, error: BaseException) -> StorageError:
    """Translate an SQLite/OS error about ``path`` into a one-line StorageError."""
    text = str(getattr(error, "orig", None) or error).strip()
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return StorageError(f"the database {path} is busy (another carecoord is writing); try again")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return StorageError(f"{path} is not a usable carecoord database ({text})")
    if "readonly" in lowered or "read-only" in lowered:
        return StorageError(f"the database {path} is read-only; nothing was changed")
    if "unable to open" in lowered:
        return StorageError(f"cannot open the database {path} (check the folder exists and is writable)")
    return StorageError(f"database error on {path}: {text}")


# --- creating and migrating the file ------------------------------------------------------------


def _create_file(path: Path) -> None:
    """Create an empty database file, private to the user."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=FOLDER_MODE)
            os.chmod(path.parent, FOLDER_MODE)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        os.close(fd)
        os.chmod(path, FILE_MODE)
    except FileExistsError:
        return
    except OSError as error:
        raise StorageError(f"cannot create the database {path}: {error.strerror or error}") from None


def _connect_raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection for checks and backups (no SQLAlchemy)."""
    if path.is_dir():
        raise StorageError(f"cannot open the database {path}: it is a folder, not a file")
    if not path.exists():
        raise missing_database(path)
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout_ms() / 1000, isolation_level=None)
    except sqlite3.Error as error:
        raise storage_error(path, error) from None
    return conn


def stored_revision(path: Path) -> str | None:
    """The schema revision recorded in the file, or None for a blank database.

    Raises StorageError when the file is not SQLite, or is SQLite but not carecoord's.
    """
    with closing(_connect_raw(path)) as conn:
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables:
                if tables:
                    raise StorageError(f"{path} is an SQLite file but not a carecoord database")
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error as error:
            raise storage_error(path, error) from None
    return row[0] if row else None


def backup_file(source: Path, target: Path) -> None:
    """Copy a live database with SQLite's online backup; the copy appears whole or not at all."""
    target = target.expanduser().resolve()
    if target == source.resolve() or (target.exists() and os.path.samefile(target, source)):
        raise ConflictError("the backup file must not be the database itself")
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(temp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, FILE_MODE)
        os.close(fd)
        with closing(_connect_raw(source)) as src, closing(sqlite3.connect(temp)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        os.chmod(temp, FILE_MODE)
        os.replace(temp, target)
    except sqlite3.Error as error:
        temp.unlink(missing_ok=True)
        raise storage_error(source, error) from None
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise StorageError(f"cannot write the backup {target}: {error.strerror or error}") from None


def check_restorable(source: Path) -> str:
    """Refuse anything but a healthy carecoord database this version can read; its revision."""
    source = source.expanduser().absolute()
    revision = stored_revision(source)
    if revision is None:
        raise StorageError(f"{source} is an empty database, not a carecoord backup")
    if revision not in known_revisions():
        raise StorageError(f"{source} was written by a newer carecoord (schema {revision}); upgrade carecoord first")
    problems = integrity_problems(source)
    if problems:
        raise StorageError(f"{source} fails its integrity check ({problems[0]}); it was not restored")
    return revision


def restore_file(source: Path, target: Path) -> Path | None:
    """Replace the database at ``target`` with ``source`` (checked first), after backing ``target`` up.

    Uses SQLite's backup API into the live file, so other connections see the old or the new
    database, never a mix. Returns the safety copy of what was replaced (None if there was none).
    """
    check_restorable(source)
    source = source.expanduser().resolve()
    if target.exists() and os.path.samefile(source, target):
        raise ConflictError("that file is the database itself")
    safety = None
    if target.exists() and target.stat().st_size:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        safety = target.with_name(f"{target.name}.before-restore-{stamp}.bak")
        backup_file(target, safety)
    else:
        _create_file(target)
    with closing(_connect_raw(source)) as src, closing(_connect_raw(target)) as dst:
        try:
            dst.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
            src.backup(dst)
        except sqlite3.Error as error:
            raise storage_error(target, error) from None
    os.chmod(target, FILE_MODE)
    ensure_current(target)
    return safety


def _migrate(path: Path, current: str | None) -> None:
    """Upgrade the file to the head revision, after a backup copy when it holds data."""
    if current is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup_file(path, path.with_name(f"{path.name}.before-{head_revision()}-{stamp}.bak"))

    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = _make_engine(path, write=True, foreign_keys=False)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            with connection.begin():
                command.upgrade(config, "head")
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise StorageError(f"migration of {path} left broken references; nothing was changed")
    except exc.SQLAlchemyError as error:
        raise storage_error(path, error) from None
    finally:
        engine.dispose()


def missing_database(path: Path) -> StorageError:
    """The error for a database file that is not there."""
    return StorageError(
        f"there is no carecoord database at {path} (check the path; the first command that adds something creates it)"
    )


def ensure_current(path: Path, *, create: bool = True) -> None:
    """Create the database if needed (and allowed) and bring its schema to this code's revision."""
    if not path.exists():
        if not create:
            raise missing_database(path)
        _create_file(path)
    current = stored_revision(path)
    if current == head_revision():
        return
    if current is not None and current not in known_revisions():
        raise StorageError(
            f"{path} was written by a newer carecoord (schema {current}, this version knows up to "
            f"{head_revision()}); upgrade carecoord to use it"
        )
    _migrate(path, current)


# --- engine and sessions ------------------------------------------------------------------------


def _make_engine(path: Path, *, write: bool, foreign_keys: bool = True) -> Engine:
    """An engine with carecoord's pragmas; write engines take the write lock up front."""
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    timeout = busy_timeout_ms()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        dbapi_connection.execute(f"PRAGMA busy_timeout={timeout}")
        dbapi_connection.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        if write:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: object) -> None:
        connection.exec_driver_sql(sqlite_begin(write=write))  # type: ignore[attr-defined]

    return engine


@contextmanager
def session_scope(path: Path, *, write: bool, create: bool = True) -> Iterator[Session]:
    """One transaction for one command: committed if the block succeeds, else rolled back. A
    database file this command created is removed again if the command fails: it was not there."""
    from carecoord.services import audit

    new = not path.exists()
    try:
        ensure_current(path, create=create)
    except BaseException:  # Ctrl-C or a failure while the new file was being made: it was not there
        if new and path.exists():
            _remove_database(path)
        raise
    engine = _make_engine(path, write=write)
    try:
        with Session(engine, expire_on_commit=False, autoflush=True) as session:
            audit.attach(session)
            try:
                yield session
                if write:
                    commit(session)
                # a read-only session just closes: its objects stay readable after the block
            except BaseException:
                session.rollback()
                raise
    except BaseException as error:
        engine.dispose()
        if new and not state["committed"]:
            _remove_database(path)
        if isinstance(error, exc.IntegrityError):
            raise ConflictError(f"the change conflicts with stored data ({error.orig})") from None
        if isinstance(error, exc.SQLAlchemyError):
            raise storage_error(path, error) from None
        raise
    finally:
        engine.dispose()


def commit(session: Session) -> None:
    """Commit the command's transaction and mark it committed (see ``state``). Ctrl-C pressed
    meanwhile waits until the commit has returned, so that what the command then says about the
    data ("nothing was changed", or "the change itself was saved") is true."""
    pressed: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(1))
    except ValueError:  # not the main thread, which is the only one signals interrupt
        session.commit()
        state["committed"] = True
        return
    try:
        session.commit()
        state["committed"] = True
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if pressed:
        raise KeyboardInterrupt


def _remove_database(path: Path) -> None:
    """Remove a database file and its WAL companions (a first command that failed)."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


@contextmanager
def empty_session() -> Iterator[Session]:
    """A session on a new, empty database in memory with this code's schema: to check what a
    change would do where there is no database yet, without creating one. Nothing is kept."""
    from sqlmodel import SQLModel

    import carecoord.models  # noqa: F401  (registers the tables)

    engine = create_engine("sqlite://")
    try:
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


# --- checks -------------------------------------------------------------------------------------


def integrity_problems(path: Path) -> list[str]:
    """Problems found by SQLite's integrity and foreign-key checks (empty when healthy)."""
    with closing(_connect_raw(path)) as conn:
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
            problems += [
                f"{table} row {rowid} refers to a missing {parent} row"
                for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check")
            ]
        except sqlite3.Error as error:
            raise storage_error(path, error) from None
    return problems


def table_counts(path: Path) -> dict[str, int]:
    """Rows per carecoord table."""
    with closing(_connect_raw(path)) as conn:
        try:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' "
                    "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
                )
            ]
            return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
        except sqlite3.Error as error:
            raise storage_error(path, error) from None
