"""The store: where it lives, how it is created, checked, backed up and migrated."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carecoord.cli import app
from carecoord.migrations import head_revision, known_revisions
from tests.conftest import assert_one_line_error, dump


def run_with(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


def test_default_path_is_under_the_users_data_folder(tmp_path, monkeypatch):
    result = run_with("db", "path")
    assert result.exit_code == 0
    assert result.stdout.strip() == str(tmp_path / "xdg" / "carecoord" / "carecoord.db")


def test_env_var_and_option_override_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("CARECOORD_DB", str(tmp_path / "env.db"))
    assert run_with("db", "path").stdout.strip() == str(tmp_path / "env.db")
    assert run_with("--db", str(tmp_path / "opt.db"), "db", "path").stdout.strip() == str(tmp_path / "opt.db")


def test_first_use_creates_a_private_file_in_a_private_folder(tmp_path):
    target = tmp_path / "new" / "folder" / "care.db"
    result = run_with("--db", str(target), "patient", "add", "Jane Doe")
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()


def test_default_location_is_created_on_first_use(tmp_path):
    assert run_with("db", "status").exit_code == 0
    assert (tmp_path / "xdg" / "carecoord" / "carecoord.db").is_file()


def test_a_mistyped_path_is_not_created_by_a_command_that_only_reads(tmp_path):
    typo = tmp_path / "caseload-typo.db"
    for command in (("patient", "list"), ("db", "status"), ("db", "check"), ("db", "backup", str(tmp_path / "b"))):
        result = run_with("--db", str(typo), *command)
        assert result.exit_code == 3 and "there is no carecoord database" in result.stderr, command
    assert not typo.exists()


def test_an_empty_database_path_is_refused(monkeypatch):
    assert run_with("--db", "", "patient", "list").exit_code == 2
    monkeypatch.setenv("CARECOORD_DB", "")
    result = run_with("patient", "add", "X")
    assert result.exit_code == 2 and "database path is empty" in result.stderr


def test_db_status_reports_revision_and_counts(cli):
    cli("patient", "add", "Jane Doe")
    status = json.loads(cli("db", "status", "-f", "json").stdout)
    assert status["schema_revision"] == status["code_revision"] == head_revision()
    assert status["counts"]["patient"] == 1
    assert status["counts"]["audit_log"] == 1
    table = cli("db", "status")
    assert table.exit_code == 0 and "patient" in table.stdout


def test_db_check_passes_on_a_healthy_database(cli):
    run = cli("db", "check")
    assert run.exit_code == 0 and run.stdout.startswith("OK:")


def test_db_check_reports_a_broken_reference_with_exit_3(cli, db_file):
    cli("patient", "add", "Jane Doe")
    with closing(sqlite3.connect(db_file)) as conn:
        conn.execute(
            "INSERT INTO contact (uid, created_at, updated_at, patient_id, name, consent_to_share) "
            "VALUES ('x', '2026-01-01', '2026-01-01', 99, 'Ghost', 0)"
        )
        conn.commit()
    assert_one_line_error(cli("db", "check"), 3, "refers to a missing patient")


def test_db_backup_copies_everything_privately(cli, tmp_path, db_file):
    cli("patient", "add", "Jane Doe", "--mrn", "MRN-1")
    target = tmp_path / "backup.db"
    run = cli("db", "backup", str(target))
    assert run.exit_code == 0, run.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT name, mrn FROM patient").fetchall() == [("Jane Doe", "MRN-1")]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert_one_line_error(cli("db", "backup", str(target)), 1, "already exists")
    assert cli("db", "backup", str(target), "--force").exit_code == 0


def test_backup_while_another_process_writes(cli, db_file, tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-m", "carecoord", "--db", str(db_file), "patient", "add", "Writer Patient"],
        env={**os.environ, "CARECOORD_DB": str(db_file)},
    )
    for n in range(3):
        assert cli("db", "backup", str(tmp_path / f"b{n}.db")).exit_code == 0
    assert writer.wait(timeout=60) == 0
    for n in range(3):
        with closing(sqlite3.connect(tmp_path / f"b{n}.db")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("my private notes\n")
    result = run_with("--db", str(target), "patient", "list")
    assert result.exit_code == 3
    assert "not a usable carecoord database" in result.stderr
    assert target.read_text() == "my private notes\n"


def test_another_programs_sqlite_file_is_refused(tmp_path):
    target = tmp_path / "other.db"
    with closing(sqlite3.connect(target)) as conn:
        conn.execute("CREATE TABLE things (id INTEGER)")
    before = target.read_bytes()
    result = run_with("--db", str(target), "patient", "add", "X")
    assert result.exit_code == 3 and "not a carecoord database" in result.stderr
    assert target.read_bytes() == before


def test_a_folder_that_cannot_be_written_gives_exit_3(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_with("--db", str(blocker / "care.db"), "patient", "add", "X")
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "cannot create the database" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_read_only_folder_gives_exit_3(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    result = run_with("--db", str(folder / "care.db"), "patient", "add", "X")
    assert result.exit_code == 3 and "cannot create the database" in result.stderr


def test_a_database_from_a_newer_version_is_refused_untouched(cli, db_file):
    with closing(sqlite3.connect(db_file)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
    before = dump(db_file)
    assert_one_line_error(cli("patient", "list"), 3, "newer carecoord", "upgrade carecoord")
    assert dump(db_file) == before


def test_revision_list_matches_alembic(tmp_path):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from carecoord.migrations import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    assert script.get_current_head() == head_revision()
    assert sorted(rev.revision for rev in script.walk_revisions()) == list(known_revisions())


def test_migrations_build_exactly_the_models_schema(template_db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    import carecoord.models  # noqa: F401

    engine = create_engine(f"sqlite:///{template_db}")
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert differences == []


def _database_at(path: Path, revision: str) -> None:
    """A SQLite file migrated up to ``revision``."""
    _migrate_file(path, revision)


def _migrate_file(path: Path, revision: str, *, down: bool = False) -> None:
    """Run the migrations on a SQLite file, up (or down) to ``revision``."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from carecoord.migrations import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


def test_an_older_database_upgrades_with_its_rows_intact_after_a_backup(tmp_path):
    old = tmp_path / "old.db"
    _database_at(old, "0001")
    with closing(sqlite3.connect(old)) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(
            "INSERT INTO patient (uid, created_at, updated_at, name, name_key, mrn, status, enrolled_on, tags) "
            "VALUES ('u1', '2025-01-01 10:00:00', '2025-01-01 10:00:00', 'Old Patient', 'old patient', 'MRN-OLD', "
            "'active', '2025-01-01', 'chf')"
        )
        conn.execute(
            "INSERT INTO contact (uid, created_at, updated_at, patient_id, name, consent_to_share) "
            "VALUES ('c1', '2025-01-01 10:00:00', '2025-01-01 10:00:00', 1, 'Old Contact', 1)"
        )
        conn.commit()
    result = run_with("--db", str(old), "patient", "show", "MRN-OLD", "-f", "json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["name"], record["tags"], record["contacts"][0]["name"]) == ("Old Patient", ["chf"], "Old Contact")
    with closing(sqlite3.connect(old)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    [backup] = list(tmp_path.glob(f"old.db.before-{head_revision()}-*.bak"))
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        assert conn.execute("SELECT name FROM patient").fetchall() == [("Old Patient",)]
    # and the upgraded file takes the new kinds of record
    assert run_with("--db", str(old), "plan", "add", "MRN-OLD", "New plan").exit_code == 0


def test_0007_backfills_who_attends_from_the_appointment_type(tmp_path):
    old = tmp_path / "old.db"
    _database_at(old, "0006")
    kinds = ("home-visit", "office", "phone", "telehealth", "pcp", "specialist", "other")
    with closing(sqlite3.connect(old)) as conn:
        conn.execute(
            "INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags) "
            "VALUES ('u1', '2025-01-01 10:00:00', '2025-01-01 10:00:00', 'Old Patient', 'old patient', 'active', "
            "'2025-01-01', '')"
        )
        conn.executemany(
            "INSERT INTO appointment (uid, created_at, updated_at, patient_id, kind, status, starts_at, ends_at, tz, "
            "series_ends_at, sequence) VALUES (?, '2026-11-01 10:00:00', '2026-11-01 10:00:00', 1, ?, 'booked', "
            "?, ?, 'America/New_York', ?, 0)",
            [(f"a{n}", kind, f"2026-12-0{n + 1} 15:00:00", f"2026-12-0{n + 1} 16:00:00", f"2026-12-0{n + 1} 16:00:00")
             for n, kind in enumerate(kinds)],
        )  # fmt: skip
        conn.commit()
    result = run_with("--db", str(old), "appt", "list", "--from", "2026-12-01", "--to", "2026-12-07", "-f", "json")
    assert result.exit_code == 0, result.stderr
    attended = {sitting["type"]: sitting["attending"] for sitting in json.loads(result.stdout)}
    assert attended == {"home-visit": True, "office": False, "phone": True, "telehealth": True, "pcp": False,
                        "specialist": False, "other": False}  # fmt: skip
    # the patient's own visits no longer take the coordinator's time: another patient's call fits beside them
    assert run_with("--db", str(old), "patient", "add", "New Patient").exit_code == 0
    booked = run_with("--db", str(old), "appt", "add", "new", "--start", "2026-12-02 10:30", "--type", "phone")
    assert booked.exit_code == 0, booked.stderr


def same_schema_and_rows(statements: list[str]) -> list[str]:
    """A dump in an order-free form: each statement's lines sorted, and the statements sorted."""
    return sorted("\n".join(sorted(line.strip().rstrip(",") for line in s.splitlines())) for s in statements)


def test_every_migration_steps_down_and_up_again_with_rows_intact(tmp_path, cli, db_file):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from carecoord.migrations import MIGRATIONS_DIR

    for step in (("patient", "add", "Kept Patient"), ("log", "add", "kept", "--minutes", "15"),
                 ("appt", "add", "kept", "--start", "tomorrow 10:00", "--type", "home-visit", "--every", "weekly")):  # fmt: skip
        assert cli(*step).exit_code == 0
    before = dump(db_file)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(f"sqlite:///{db_file}")
    revisions = list(known_revisions())
    for previous in reversed(revisions[3:-1]):  # down to 0004 (the oldest with appointments and the log), and back
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, previous)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
    # The same tables, columns, constraints, indexes and rows (SQLite's batch mode rebuilds a table
    # on the way, which may list its constraints and indexes in another order).
    assert same_schema_and_rows(dump(db_file)) == same_schema_and_rows(before)
    assert cli("agenda", "--days", "9").stdout.count("Home visit: Kept Patient") == 2  # Thu 26 Nov and 3 Dec


def test_window_queries_search_indexes_and_never_scan_a_big_table(db_file):
    """The plans behind the agenda's speed at agency size (benchmarks/): a regression shows as a SCAN."""
    from datetime import UTC, date, datetime

    from sqlalchemy import create_engine
    from sqlmodel import select

    from carecoord.models import Patient, Task
    from carecoord.services.appointments import AppointmentFilter, _in_window
    from carecoord.services.tasks import TaskFilter, _filtered

    window = AppointmentFilter(datetime(2026, 11, 25, 5, tzinfo=UTC), datetime(2026, 11, 26, 5, tzinfo=UTC))
    overdue = TaskFilter(due_to=date(2026, 11, 24), due_filter=True, active_patients_only=True)
    in_window = _in_window(window)
    queries = {  # what each must use (migration 0006)
        "ix_appointment_series_start": select(in_window.c.id),
        "ix_appointment_starts_at": select(in_window.c.id),
        "ix_appointment_exception_starts_at": select(in_window.c.id),
        "COVERING INDEX ix_task_due_cover": _filtered(
            select(Task.id).outerjoin(Patient, Patient.id == Task.patient_id), overdue
        ),
    }
    engine = create_engine(f"sqlite:///{db_file}")
    with engine.connect() as conn:
        for name, query in queries.items():
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = " | ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "SCAN" not in plan and name in plan, plan
    engine.dispose()


def test_a_backup_onto_the_database_itself_is_refused(cli, db_file, unchanged):
    sneaky = db_file.parent / ".." / db_file.parent.name / db_file.name
    with unchanged():
        assert_one_line_error(cli("db", "backup", str(sneaky), "--force"), 1, "must not be the database itself")


def test_a_folder_given_as_the_database_is_a_storage_error(cli, tmp_path):
    result = cli("--db", str(tmp_path), "patient", "add", "X")
    assert result.exit_code == 3 and "folder" in result.stderr


def test_a_first_command_that_fails_leaves_no_database_behind(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from carecoord.cli import app

    target = tmp_path / "new" / "carecoord.db"
    monkeypatch.setenv("CARECOORD_DB", str(target))
    sheet = tmp_path / "in.csv"
    sheet.write_text("Patient Name,Date of Birth\nJane Doe,not a date\n", encoding="utf-8")
    for args in (("patient", "add", "Jane", "--email", "not-an-address"), ("import", "patients", str(sheet))):
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 1, result.output
        assert not target.exists() and list(target.parent.iterdir()) == []
    assert CliRunner().invoke(app, ["patient", "add", "Jane"]).exit_code == 0
    assert target.exists()


@pytest.mark.postgresql
def test_a_command_on_a_server_runs_without_jit_compilation(postgres):
    """A command's queries take milliseconds; JIT compilation, which row-level security's inflated
    estimates set off, took seconds (a coordinator's agenda at agency size: benchmarks/RESULTS.md)."""
    from sqlalchemy import text

    from carecoord import server

    postgres.reset()
    with server.session_scope(server.Server(postgres.url), write=False) as session:
        assert session.exec(text("SHOW jit")).scalar_one() == "off"
