"""The README's crontab lines, run as cron would: an empty environment and no terminal."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import icalendar

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_HOME = "/home/nurse"
EXAMPLE_BINARY = "/home/nurse/.venvs/carecoord/bin/carecoord"


def crontab() -> tuple[dict[str, str], list[str]]:
    """The variables and the commands of the README's crontab block."""
    block = re.search(r"```crontab\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "README has no crontab block"
    variables, commands = {}, []
    for line in block.group(1).splitlines():
        if re.match(r"^[A-Z_]+=", line):
            name, _, value = line.partition("=")
            variables[name] = value
        elif line.strip() and not line.startswith("#"):
            commands.append(line.split(None, 5)[5])  # drop the five schedule fields
    return variables, commands


def test_the_crontab_lines_work_with_an_empty_environment(db_file, tmp_path):
    home = tmp_path / "home"
    (home / "calendar").mkdir(parents=True)
    (home / "agenda").mkdir()
    database = home / ".local/share/carecoord/carecoord.db"
    database.parent.mkdir(parents=True)
    shutil.copy2(db_file, database)
    binary = shutil.which("carecoord") or str(Path(sys.executable).with_name("carecoord"))
    setup = {"CARECOORD_DB": str(database), "CARECOORD_TZ": "America/New_York", "PATH": "/usr/bin:/bin"}
    for step in (  # on the real clock, as cron will run: "tomorrow" is the real tomorrow
        ("patient", "add", "Jane Doe"),
        ("appt", "add", "jane", "--start", "tomorrow 10:00", "--type", "home-visit", "--location", "12 Elm St"),
        ("task", "add", "Call pharmacy", "--patient", "jane", "--due", "tomorrow"),
    ):
        subprocess.run([binary, *step], env=setup, check=True, capture_output=True, timeout=120)
    variables, commands = crontab()
    assert len(commands) == 2 and all(c.startswith(EXAMPLE_BINARY) for c in commands)
    environment = [f"{name}={value.replace(EXAMPLE_HOME, str(home))}" for name, value in variables.items()]
    for command in commands:
        line = command.replace(EXAMPLE_BINARY, binary).replace(EXAMPLE_HOME, str(home))
        result = subprocess.run(["env", "-i", *environment, "/bin/sh", "-c", line],
                                capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)  # fmt: skip
        assert result.returncode == 0, (line, result.stderr)
        assert result.stderr == ""
    calendar = icalendar.Calendar.from_ical((home / "calendar/tomorrow.ics").read_bytes())
    assert [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")] == ["Home visit: J.D."]
    agenda = (home / "agenda/tomorrow.md").read_text(encoding="utf-8")
    assert agenda.startswith("# Agenda: ") and "Home visit: Jane Doe" in agenda and "Call pharmacy" in agenda


def test_a_failing_cron_job_exits_non_zero_with_one_line(tmp_path):
    binary = shutil.which("carecoord") or str(Path(sys.executable).with_name("carecoord"))
    result = subprocess.run(
        ["env", "-i", f"CARECOORD_DB={tmp_path}/missing.db", binary, "agenda", "tomorrow", "--out", f"{tmp_path}/a.md"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    assert result.returncode == 3 and result.stderr.count("\n") == 1 and "no carecoord database" in result.stderr
    assert not (tmp_path / "a.md").exists()
