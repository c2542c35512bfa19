"""Shared fixtures: the CLI run against a fresh temporary database, and ways to look inside it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from typer.testing import CliRunner

from carecoord.cli import app
from carecoord.dates import local_zone
from carecoord.db import ensure_current
from tests import stores

TEST_ZONE = "America/New_York"
# Tests run on a known Wednesday morning in New York unless they travel elsewhere.
TEST_NOW = datetime(2026, 11, 25, 9, 30, tzinfo=ZoneInfo(TEST_ZONE))


@dataclass(frozen=True)
class Run:
    """What a user sees from one command."""

    exit_code: int
    stdout: str
    stderr: str


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line saying when the PostgreSQL half did not run, and how to run it."""
    if stores.postgres_admin_url() is None:
        terminalreporter.write_line(stores.SKIP_REASON)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty database built once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "carecoord.db"
    ensure_current(path)
    return path


@pytest.fixture(scope="session")
def postgres(worker_id: str) -> Iterator[stores.PostgresStore]:
    """This test worker's PostgreSQL database (created and migrated once; emptied per test)."""
    if stores.postgres_admin_url() is None:
        pytest.skip(stores.SKIP_REASON)
    with stores.postgres_store(worker_id) as store:
        yield store


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """The pytest-xdist worker (gw0, gw1...) or 'main'."""
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Which engine this test runs on: every test that uses the store runs on both."""
    return str(request.param)


@pytest.fixture
def db_url(engine: str, request: pytest.FixtureRequest, tmp_path: Path, template_db: Path) -> str:
    """What --db names for this test: a fresh SQLite file, or the emptied PostgreSQL database."""
    if engine == "postgresql":
        store: stores.PostgresStore = request.getfixturevalue("postgres")
        store.reset()
        return store.url
    path = tmp_path / "data" / "carecoord.db"
    path.parent.mkdir(mode=0o700)
    shutil.copy2(template_db, path)
    return str(path)


@pytest.fixture
def db_file(engine: str, db_url: str) -> Path:
    """The test's SQLite file: tests about the file itself (backups, permissions, locks) run on SQLite only."""
    if engine != "sqlite":
        pytest.skip("about the SQLite file itself")
    return Path(db_url)


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test touches the real user's data folder; one known time zone; no colors."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CARECOORD_CONFIG", str(tmp_path / "config" / "config.toml"))  # your settings (issue 16)
    monkeypatch.delenv("CARECOORD_DB", raising=False)
    monkeypatch.delenv("CARECOORD_HOLIDAYS", raising=False)  # US federal holidays (issue 15)
    monkeypatch.delenv("CARECOORD_REGION", raising=False)  # phone numbers read as US ones (issue 15)
    monkeypatch.setenv("CARECOORD_TZ", TEST_ZONE)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("CARECOORD_DEBUG", "1")  # a bug fails its test loudly instead of as one line
    local_zone.cache_clear()
    with time_machine.travel(TEST_NOW, tick=True):
        yield
    local_zone.cache_clear()


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Run ``carecoord ARGS`` against the test database; returns exit code, stdout, stderr."""
    monkeypatch.setenv("CARECOORD_DB", db_url)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Run:
        result = runner.invoke(app, list(args), input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def rows(engine: str, db_url: str, request: pytest.FixtureRequest) -> Callable[..., list[dict[str, Any]]]:
    """Query the test database directly: what is really stored (values as SQLite holds them)."""

    def query(sql: str, *params: Any) -> list[dict[str, Any]]:
        if engine == "postgresql":
            return request.getfixturevalue("postgres").rows(sql, params)  # type: ignore[no-any-return]
        return stores.sqlite_rows(Path(db_url), sql, params)

    return query


def dump(path: Path) -> list[str]:
    """The whole SQLite database as SQL: equal dumps mean nothing changed."""
    return stores.sqlite_dump(path)


@pytest.fixture
def unchanged(engine: str, db_url: str, request: pytest.FixtureRequest) -> Callable[[], Any]:
    """``with unchanged(): ...`` asserts the block leaves the database exactly as it was."""
    from contextlib import contextmanager

    def snapshot() -> Any:
        if engine == "postgresql":
            return request.getfixturevalue("postgres").dump()
        return stores.sqlite_dump(Path(db_url))

    @contextmanager
    def check() -> Iterator[None]:
        before = snapshot()
        yield
        assert snapshot() == before, "the database changed"

    return check


def assert_one_line_error(run: Run, code: int, *fragments: str) -> None:
    """A failure as the user must see it: one line on stderr, the right exit code, no traceback."""
    assert run.exit_code == code, (run.exit_code, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("carecoord: error: ")
    assert "Traceback" not in run.stderr + run.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# --- Ctrl-C as a terminal sends it ----------------------------------------------------------------

CTRL_C = """
import os, signal, sys
from importlib import import_module

from carecoord.cli import main

module, _, path = sys.argv[1].partition(":")
owner = import_module(module)
*outer, name = path.split(".")
for part in outer:
    owner = getattr(owner, part)
original, nth, calls = getattr(owner, name), int(sys.argv[2]), []


def pressed(*args, **kwargs):
    result = original(*args, **kwargs)
    calls.append(1)
    if len(calls) == nth:
        os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as a terminal sends on Ctrl-C
    return result


setattr(owner, name, pressed)
sys.argv = ["carecoord", *sys.argv[3:]]
main()
"""


def ctrl_c_after(target: str, nth: int, db: Path, *args: str) -> Run:
    """Run ``carecoord ARGS`` in a process of its own, on the SQLite file ``db``, and press Ctrl-C
    (send it SIGINT) just as the ``nth`` call of ``target`` ('module:Class.method') returns."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CARECOORD_DB": str(db)}
    done = subprocess.run([sys.executable, "-c", CTRL_C, target, str(nth), *args], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    return Run(done.returncode, done.stdout, done.stderr)


# --- small caseloads and helpers several feature files share --------------------------------------


@pytest.fixture
def jane(cli: Callable[..., Run]) -> Callable[..., Run]:
    """One patient, Jane Doe (#1, no MRN)."""
    cli("patient", "add", "Jane Doe")
    return cli


@pytest.fixture
def eve(cli: Callable[..., Run]) -> Callable[..., Run]:
    """Two patients: Eve Adams (#1) and Gus Brown (#2)."""
    cli("patient", "add", "Eve Adams")
    cli("patient", "add", "Gus Brown")
    return cli


@pytest.fixture
def three_patients(cli: Callable[..., Run]) -> Callable[..., Run]:
    """Numbers that collide: Jane Doe (#1, MRN 48213), Baby Girl 1 (#2, MRN 77001) and Pat Ten (#3, MRN 1)."""
    cli("patient", "add", "Jane Doe", "--mrn", "48213")
    cli("patient", "add", "Baby Girl 1", "--mrn", "77001")
    cli("patient", "add", "Pat Ten", "--mrn", "1")
    return cli


def listing(cli: Callable[..., Run], *args: str) -> list[dict[str, Any]]:
    """The occurrences ``appt list ARGS`` shows, as JSON."""
    return json.loads(cli("appt", "list", *args, "-f", "json").stdout)


# --- the services on a Session, without the CLI ----------------------------------------------------


@pytest.fixture
def session(engine: str, db_url: str) -> Iterator[Any]:
    """A write Session on the test database (either engine), committed at the end of the test."""
    from carecoord import db, server

    scope = (
        server.session_scope(server.Server(db_url), write=True)
        if engine == "postgresql"
        else (db.session_scope(Path(db_url), write=True))
    )
    with scope as opened:
        yield opened


@pytest.fixture
def patient(session: Any) -> Any:
    """One patient added through the service: Ann Service."""
    from carecoord.services import patients

    return patients.add_patient(session, name="Ann Service")


def log_entry(session: Any, patient: Any, day: date, hour: int = 10, **fields: Any) -> Any:
    """A log entry (a reached phone call unless ``fields`` say otherwise) on ``day`` at ``hour``, New York time."""
    from carecoord.services import communications

    moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(TEST_ZONE))
    return communications.add_entry(session, patient, communications.Entry(at=moment, **fields))
