"""Fault injection through the real CLI, in subprocesses: concurrent writers, a held lock,
kill -9 in the middle of an import or an export, a full disk after the commit, a closed pipe,
restore, hostile text and control characters, privacy."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import icalendar
import pytest

from tests.conftest import assert_one_line_error

WRITER = """
import sys
from carecoord.cli import app
failures = 0
for n in range(int(sys.argv[2])):
    code = app(["patient", "add", f"{sys.argv[1]} {n}", "--notes", "x" * 50], standalone_mode=False)
    failures += code != 0
sys.exit(failures)
"""


def environment(db: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CARECOORD_DB": str(db), "CARECOORD_TZ": "America/New_York", **extra}
    env.pop("CARECOORD_DEBUG", None)
    return env


def carecoord(*args: str, env: dict[str, str], **kwargs):
    return subprocess.run([sys.executable, "-m", "carecoord", *args], env=env, capture_output=True, text=True,
                          timeout=300, **kwargs)  # fmt: skip


def count(db: Path, table: str = "patient") -> int:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def healthy(db: Path) -> bool:
    with closing(sqlite3.connect(db)) as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return ok and not conn.execute("PRAGMA foreign_key_check").fetchall()


def test_two_concurrent_writers_of_200_changes_each_lose_none(db_file):
    env = environment(db_file)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, name, "200"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for name in ("Alpha", "Beta")]  # fmt: skip
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read() if writer.stderr else ""
    assert count(db_file) == 400
    assert count(db_file, "audit_log") == 400
    assert healthy(db_file)


def test_a_cron_export_while_someone_writes(db_file, tmp_path):
    env = environment(db_file)
    carecoord("patient", "add", "Jane Doe", env=env, check=True)
    carecoord("appt", "add", "jane", "--start", "tomorrow 10am", "--every", "daily", env=env, check=True)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, "Writer", "150"], env=env, stdout=subprocess.DEVNULL)
    for n in range(5):
        run = carecoord("export", "ics", "--days", "7", "--out", str(tmp_path / f"e{n}.ics"), env=env)
        assert run.returncode == 0, run.stderr
        assert icalendar.Calendar.from_ical((tmp_path / f"e{n}.ics").read_bytes()).walk("VEVENT")
    assert writer.wait(timeout=300) == 0
    assert count(db_file) == 151


def test_a_write_that_cannot_get_the_lock_gives_exit_3(db_file):
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        run = carecoord("patient", "add", "Blocked", env=environment(db_file, CARECOORD_BUSY_TIMEOUT_MS="300"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.returncode == 3
    assert run.stderr.count("\n") == 1 and "is busy (another carecoord is writing); try again" in run.stderr
    assert count(db_file) == 0


def _big_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Patient Name", "DOB", "MRN", "Phone", "Risk Level", "Notes"])
        for n in range(rows):
            writer.writerow([f"Person {n}", f"19{40 + n % 50}-0{1 + n % 9}-1{n % 10}", f"M{n:06d}", "555-0100",
                             ("high", "med", "low", "")[n % 4], "note"])  # fmt: skip
    return path


def test_kill_9_during_a_20000_row_import_leaves_all_or_none(db_file, tmp_path):
    big = _big_csv(tmp_path / "big.csv", 20_000)
    env = environment(db_file)
    random.seed(20261125)
    outcomes = set()
    for attempt in range(3):
        process = subprocess.Popen([sys.executable, "-m", "carecoord", "import", "patients", str(big)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(random.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        stored = count(db_file)
        assert stored in (0, 20_000), (attempt, stored)
        assert healthy(db_file)
        outcomes.add(stored)
        if stored:
            with closing(sqlite3.connect(db_file)) as conn:
                conn.execute("DELETE FROM audit_log")
                conn.execute("DELETE FROM patient")
                conn.commit()
    check = carecoord("db", "check", env=env)
    assert check.returncode == 0, check.stderr


def test_kill_9_during_an_export_leaves_the_previous_file_whole(db_file, tmp_path):
    env = environment(db_file)
    carecoord("import", "patients", str(_big_csv(tmp_path / "p.csv", 300)), env=env, check=True)
    writer = subprocess.run([sys.executable, "-c", """
import sys
from carecoord.cli import app
for n in range(1, 301):
    app(["appt", "add", f"#{n}", "--start", f"2026-12-01 {8 + n % 10}:{n % 6}0", "--every", "daily", "--force",
         "--duration", "10m"], standalone_mode=False)
"""], env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert writer.returncode == 0, writer.stderr
    target = tmp_path / "calendar.ics"
    assert (
        carecoord("export", "ics", "--from", "2026-12-01", "--days", "1", "--out", str(target), env=env).returncode == 0
    )
    before = target.read_bytes()
    carecoord("appt", "edit", "1", "--location", "changed", env=env, check=True)
    random.seed(7)
    for _ in range(3):
        process = subprocess.Popen([sys.executable, "-m", "carecoord", "export", "ics", "--from", "2026-12-01",
                                    "--days", "365", "--out", str(target)], env=env)  # fmt: skip
        time.sleep(random.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        data = target.read_bytes()
        assert data == before or icalendar.Calendar.from_ical(data).walk("VEVENT")  # old, or new and whole
        assert data.endswith(b"END:VCALENDAR\r\n")


def test_restore_checks_the_backup_and_keeps_the_current_database(cli, db_file, tmp_path):
    cli("patient", "add", "Before Backup")
    backup = tmp_path / "backup.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    cli("patient", "add", "After Backup")
    run = cli("db", "restore", str(backup), "--yes")
    assert run.exit_code == 0, run.stderr
    names = [p["name"] for p in json.loads(cli("patient", "list", "-f", "json").stdout)]
    assert names == ["Before Backup"]
    [kept] = list(db_file.parent.glob("carecoord.db.before-restore-*.bak"))
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    with closing(sqlite3.connect(kept)) as conn:
        assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 2


@pytest.mark.parametrize("kind", ["text", "foreign", "newer", "corrupt"])
def test_restore_refuses_what_is_not_a_good_backup(cli, db_file, tmp_path, unchanged, kind):
    bad = tmp_path / "bad.db"
    if kind == "text":
        bad.write_text("hello")
    elif kind == "foreign":
        with closing(sqlite3.connect(bad)) as conn:
            conn.execute("CREATE TABLE x (y)")
    else:
        bad.write_bytes(db_file.read_bytes())
        with closing(sqlite3.connect(bad)) as conn:
            conn.execute(
                "UPDATE alembic_version SET version_num = '9999'" if kind == "newer" else "PRAGMA user_version=1"
            )
            conn.commit()
        if kind == "corrupt":
            data = bytearray(bad.read_bytes())
            data[4096 : 4096 * 6] = bytes(range(256)) * (4096 * 5 // 256)  # garble pages 2 to 6
            bad.write_bytes(bytes(data))
    with unchanged():
        run = cli("db", "restore", str(bad), "--yes")
    assert run.exit_code == 3 and run.stderr.count("\n") == 1, run.stderr
    assert list(db_file.parent.glob("*.bak")) == []


def test_restore_asks_off_a_terminal(cli, tmp_path, db_file, unchanged):
    backup = tmp_path / "b.db"
    cli("db", "backup", str(backup))
    with unchanged():
        assert_one_line_error(cli("db", "restore", str(backup)), 2, "--yes")


HOSTILE = [
    "Zoë 🙂 Ça va",  # emoji, accents
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",  # right-to-left
    "e\u0301\u0301 combining",  # combining marks
    'O\'Brien "Junior"; DROP TABLE patient; --',  # quotes, semicolons, SQL
    "$(rm -rf ~) `whoami` && echo pwned | tee",  # shell
    "[bold red]markup[/] <b>html</b> *md* | pipe",  # markup of every kind
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_is_stored_and_shown_literally_everywhere(cli, rows, tmp_path, name):
    note = f'{name}\nsecond line, with a comma; and "quotes"'
    assert cli("patient", "add", name, "--notes", note).exit_code == 0
    assert rows("SELECT name, notes FROM patient") == [{"name": name, "notes": note}]
    table = cli("patient", "show", "#1").stdout
    assert name.split()[0] in table
    assert json.loads(cli("patient", "show", "#1", "-f", "json").stdout)["name"] == name
    [row] = list(csv.DictReader(io.StringIO(cli("patient", "list", "-f", "csv").stdout)))
    assert (row["name"], row["notes"]) == (name, note)
    cli("appt", "add", "#1", "--start", "2026-12-01 10:00", "--location", name, "--note", note)
    target = tmp_path / "x.ics"
    cli("export", "ics", "--from", "2026-12-01", "--out", str(target))
    [event] = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]) == f"Appointment: {name}" and str(event["LOCATION"]) == name
    assert note in str(event["DESCRIPTION"])
    assert all(len(line) <= 75 for line in target.read_bytes().split(b"\r\n"))


def test_a_one_megabyte_note(cli, rows, tmp_path):
    note = ("Long note line with words. " * 40 + "\n") * 970
    assert len(note) > 1_000_000
    assert cli("patient", "add", "Jane Doe", "--notes", note).exit_code == 0
    assert rows("SELECT length(notes) AS n FROM patient") == [{"n": len(note.strip())}]
    assert json.loads(cli("patient", "show", "#1", "-f", "json").stdout)["notes"] == note.strip()
    cli("appt", "add", "#1", "--start", "2026-12-01 10:00", "--note", note)
    target = tmp_path / "x.ics"
    cli("export", "ics", "--from", "2026-12-01", "--out", str(target))
    [event] = icalendar.Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert str(event["DESCRIPTION"]) == note.strip()


def test_an_immutable_database_file_gives_exit_3_and_is_left_alone(db_file):
    if subprocess.run(["chattr", "+i", str(db_file)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        before = db_file.read_bytes()
        run = carecoord("patient", "add", "X", env=environment(db_file))
        assert run.returncode == 3 and run.stderr.count("\n") == 1, run.stderr
        assert db_file.read_bytes() == before
    finally:
        subprocess.run(["chattr", "-i", str(db_file)], check=True)


def test_everything_written_is_private(cli, db_file, tmp_path):
    cli("patient", "add", "Jane Doe")
    cli("appt", "add", "jane", "--start", "2026-12-01 10:00")
    outputs = {
        "backup": ("db", "backup", str(tmp_path / "b.db")),
        "ics": ("export", "ics", "--from", "2026-12-01", "--out", str(tmp_path / "c.ics")),
        "agenda": ("agenda", "2026-12-01", "-f", "markdown", "--out", str(tmp_path / "a.md")),
    }
    for what, args in outputs.items():
        assert cli(*args).exit_code == 0, what
    for path in (db_file, tmp_path / "b.db", tmp_path / "c.ics", tmp_path / "a.md"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_errors_do_not_print_more_patient_data_than_asked(cli):
    cli("patient", "add", "Jane Doe", "--mrn", "A1", "--phone", "555-0100", "--address", "1 Main St",
        "--notes", "HIV positive")  # fmt: skip
    for args in (("patient", "add", "Other", "--mrn", "A1"), ("patient", "show", "nobody"),
                 ("appt", "add", "jane", "--start", "nonsense"), ("task", "done", "99")):  # fmt: skip
        run = cli(*args)
        assert run.exit_code != 0
        for secret in ("555-0100", "1 Main St", "HIV"):
            assert secret not in run.stderr


def test_a_failure_after_the_commit_says_the_change_was_saved(db_file):
    env = {**os.environ, "CARECOORD_DB": str(db_file)}
    env.pop("CARECOORD_DEBUG", None)
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "carecoord", "patient", "add", "Zed"],
                                stdout=full, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert result.returncode == 1
    assert "the change itself was saved" in result.stderr and result.stderr.count("\n") == 1


def test_a_closed_pipe_is_not_an_error(cli, db_file):
    import sqlite3
    from contextlib import closing

    cli("patient", "add", "First")
    with closing(sqlite3.connect(db_file)) as conn:  # far more output than a pipe holds
        conn.execute("""
            INSERT INTO patient (uid, created_at, updated_at, name, name_key, status, enrolled_on, tags, notes,
                                 coordinator)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
            SELECT 'u' || i, '2026-01-01', '2026-01-01', 'P' || i, 'p' || i, 'active', '2026-01-01', '',
                   printf('%.200c', 'x'), 'me' FROM n
        """)
        conn.commit()
    env = {**os.environ, "CARECOORD_DB": str(db_file)}
    pipeline = f"{sys.executable} -m carecoord patient list -f json | head -1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "[\n" and result.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ("patient", "add", "Evil\x1b[31mRed"),
        ("patient", "add", "Line\nBreak"),
        ("patient", "add", "X", "--notes", "bell\x07"),
        ("task", "add", "a\rb"),
    ],
)
def test_control_characters_are_refused(cli, unchanged, args):
    with unchanged():
        assert_one_line_error(cli(*args), 1, "control characters")
