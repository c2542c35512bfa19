"""Many carecoords at once on one store, on both engines: nothing is lost, and on a server a change
that loses a race (a serialization failure or deadlock) is run again instead of shown to the user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.conftest import assert_one_line_error

WRITER = """
import sys
from carecoord.cli import app
failures = 0
for n in range(int(sys.argv[2])):
    code = app(["patient", "add", f"{sys.argv[1]} {n}", "--notes", "x" * 50], standalone_mode=False)
    failures += code != 0
    code = app(["log", "add", "#1", "--minutes", "1", "--note", f"{sys.argv[1]} {n}"], standalone_mode=False)
    failures += code != 0
sys.exit(failures)
"""
WRITERS = 10
CHANGES = 15


def environment(db_url: str) -> dict[str, str]:
    env = {**os.environ, "CARECOORD_DB": db_url, "CARECOORD_TZ": "America/New_York"}
    env.pop("CARECOORD_DEBUG", None)
    return env


def test_ten_writers_at_once_lose_nothing(cli, db_url, rows):
    assert cli("patient", "add", "Shared Patient").exit_code == 0
    env = environment(db_url)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, f"Writer{w}", str(CHANGES)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for w in range(WRITERS)]  # fmt: skip
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read() if writer.stderr else ""
        assert writer.stderr is not None and writer.stderr.read() == ""
    assert rows("SELECT count(*) AS n FROM patient") == [{"n": 1 + WRITERS * CHANGES}]
    assert rows("SELECT count(*) AS n FROM communication WHERE patient_id = 1") == [{"n": WRITERS * CHANGES}]
    assert rows("SELECT count(*) AS n FROM audit_log") == [{"n": 1 + 2 * WRITERS * CHANGES}]
    names = {row["name"] for row in rows("SELECT name FROM patient")}
    assert names == {"Shared Patient"} | {f"Writer{w} {n}" for w in range(WRITERS) for n in range(CHANGES)}


# --- a lost race, run again ---------------------------------------------------------------------


@pytest.fixture
def conflicts(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Make `patient add` lose a race on its first ``times`` attempts, after writing its patient (which
    the rollback must take away again)."""
    from carecoord.server import RetryableConflict
    from carecoord.services import patients

    real = patients.add_patient
    seen: dict[str, Any] = {"attempts": 0, "times": 1, "committed": False}

    def losing(session: Any, **fields: Any) -> Any:
        seen["attempts"] += 1
        added = real(session, **fields)
        session.flush()
        if seen["attempts"] <= seen["times"]:
            if seen["committed"]:
                from carecoord import db

                db.state["committed"] = True
            raise RetryableConflict("another change to the same records won on the server; nothing was changed")
        return added

    monkeypatch.setattr(patients, "add_patient", losing)
    return seen


def test_a_lost_race_is_run_again_with_the_same_options_and_stored_once(cli, rows, conflicts):
    run = cli("patient", "add", "Jane Doe", "--notes", "-", input="read once\nfrom standard input\n")
    assert run.exit_code == 0 and run.stderr == "", run.stderr
    assert "Added patient #" in run.stdout and run.stdout.count("\n") == 1
    assert conflicts["attempts"] == 2
    assert rows("SELECT name, notes FROM patient") == [{"name": "Jane Doe", "notes": "read once\nfrom standard input"}]
    assert rows("SELECT action, table_name FROM audit_log") == [{"action": "create", "table_name": "patient"}]


def test_a_race_lost_three_times_is_shown_and_changes_nothing(cli, unchanged, conflicts):
    conflicts["times"] = 99
    with unchanged():
        run = cli("patient", "add", "Jane Doe")
    assert_one_line_error(run, 3, "another change to the same records won", "nothing was changed")
    assert conflicts["attempts"] == 3


def test_a_command_that_already_committed_is_not_run_again(cli, conflicts):
    conflicts["committed"] = True
    assert cli("patient", "add", "Jane Doe").exit_code == 3
    assert conflicts["attempts"] == 1


@pytest.mark.postgresql
def test_a_real_serialization_failure_on_the_server_is_retried_and_the_user_sees_success(postgres):
    """psql holds a change to the patient while carecoord edits it: carecoord's UPDATE waits, then fails
    with SQLSTATE 40001 when psql commits (REPEATABLE READ); the command runs again on fresh data."""
    import psycopg

    postgres.reset()
    env = environment(postgres.url)
    subprocess.run([sys.executable, "-m", "carecoord", "patient", "add", "Jane Doe"], env=env, check=True)
    holder = postgres._connect(postgres.url)
    try:
        holder.execute("UPDATE patient SET notes = 'from psql', phone = '555-0100' WHERE id = 1")
        command = subprocess.Popen([sys.executable, "-m", "carecoord", "patient", "edit", "#1", "--notes", "-"],
                                   env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)  # fmt: skip
        assert command.stdin is not None
        command.stdin.write("from carecoord")
        command.stdin.close()
        deadline = time.monotonic() + 60
        with psycopg.connect(postgres.url, autocommit=True) as watcher:
            while not watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'carecoord' AND wait_event_type = 'Lock'"
            ).fetchall():
                assert time.monotonic() < deadline and command.poll() is None, "carecoord never waited for the row"
                time.sleep(0.05)
        holder.commit()
    finally:
        holder.close()
    assert command.wait(timeout=120) is not None and command.stdout and command.stderr
    out, err = command.stdout.read(), command.stderr.read()
    assert command.returncode == 0 and err == "", err
    assert out.startswith("Updated") or "#1 Jane Doe" in out, out
    [stored] = postgres.rows("SELECT notes, phone FROM patient", ())
    assert stored == {"notes": "from carecoord", "phone": "555-0100"}  # psql's phone kept: run on fresh data
    audit = postgres.rows("SELECT action, changes FROM audit_log WHERE action = 'update'", ())
    assert len(audit) == 1  # the change is stored once
    assert json.loads(audit[0]["changes"])["notes"] == ["from psql", "from carecoord"]


def test_a_question_answered_before_a_lost_race_is_not_asked_again(cli, rows, monkeypatch):
    """Booking in the past asks first; the booking then loses a race and runs again: the answer
    given stands (the person typed y once: a second question would read the end of the input)."""
    from types import SimpleNamespace

    import carecoord.commands._common as common
    from carecoord.server import RetryableConflict
    from carecoord.services import appointments

    monkeypatch.setattr(common, "sys", SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True)))
    real, attempts = appointments.add_appointment, []

    def losing(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        added = real(*args, **kwargs)
        if len(attempts) == 1:
            raise RetryableConflict("another change to the same records won on the server; nothing was changed")
        return added

    monkeypatch.setattr(appointments, "add_appointment", losing)
    assert cli("patient", "add", "Jane Doe").exit_code == 0
    run = cli("appt", "add", "jane", "--start", "2026-11-23 10:00", input="y\n")
    assert run.exit_code == 0, run.stderr
    assert run.stderr.count("is in the past. Book it anyway?") == 1 and len(attempts) == 2
    assert len(rows("SELECT id FROM appointment")) == 1
    # The next command asks afresh: an answer is kept for one command's attempts only.
    monkeypatch.setattr(appointments, "add_appointment", real)
    again = cli("appt", "add", "jane", "--start", "2026-11-23 11:00", input="n\n")
    assert again.exit_code == 1 and "Book it anyway?" in again.stderr
    assert len(rows("SELECT id FROM appointment")) == 1
