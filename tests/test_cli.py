"""The command line itself: install, version, help, start-up cost, error contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from carecoord import __version__

HEAVY = ("sqlmodel", "sqlalchemy", "alembic", "icalendar", "holidays", "phonenumbers")

PROBE = """
import sys
from carecoord.cli import app
sys.argv = ["carecoord", *sys.argv[1:]]
try:
    app(prog_name="carecoord")
except SystemExit:
    pass
import json
print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})), file=sys.stderr)
"""


def _loaded_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60,
    )  # fmt: skip
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_version(cli):
    run = cli("--version")
    assert run.exit_code == 0 and run.stdout.strip() == f"carecoord {__version__}"


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "carecoord", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"carecoord {__version__}"


def test_help_lists_the_nouns_with_an_example(cli):
    run = cli("--help")
    assert run.exit_code == 0
    for noun in ("patient", "contact", "db", "audit"):
        assert noun in run.stdout
    assert "Example:" in run.stdout
    assert "Example:" in cli("patient", "add", "--help").stdout


def test_help_version_and_completion_do_not_import_heavy_libraries():
    for args, env in (
        (("--help",), None),
        (("--version",), None),
        (("patient", "--help"), None),
        (("patient", "add", "--help"), None),
        ((), {"_CARECOORD_COMPLETE": "complete_bash", "COMP_WORDS": "carecoord pat", "COMP_CWORD": "1"}),
    ):
        loaded = _loaded_modules(*args, env=env)
        assert not loaded & set(HEAVY), (args, loaded & set(HEAVY))


def test_no_arguments_prints_help_with_usage_exit_code(cli):
    run = cli()
    assert run.exit_code == 2 and "Usage:" in run.stdout


def test_unexpected_errors_are_one_line_without_traceback(cli, monkeypatch):
    from carecoord.services import patients

    def explode(*_args, **_kwargs):
        raise RuntimeError("boom with secret details")

    monkeypatch.setattr(patients, "list_patients", explode)
    monkeypatch.delenv("CARECOORD_DEBUG")
    run = cli("patient", "list")
    assert run.exit_code == 1
    assert run.stderr.count("\n") == 1
    assert "RuntimeError" in run.stderr and "secret" not in run.stderr and "Traceback" not in run.stderr


def test_the_command_summaries_are_the_first_lines_of_their_help():
    from carecoord.cli import COMMANDS, short_help, sub_app

    for name, (_module, summary) in COMMANDS.items():
        assert summary == short_help(sub_app(name)), name


def test_completion_offers_the_sub_commands(tmp_path):
    env = {**os.environ, "_CARECOORD_COMPLETE": "complete_bash", "COMP_WORDS": "carecoord rep", "COMP_CWORD": "1"}
    result = subprocess.run([sys.executable, "-m", "carecoord"], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.split() == ["report"]
    env["COMP_WORDS"], env["COMP_CWORD"] = "carecoord patient li", "2"
    result = subprocess.run([sys.executable, "-m", "carecoord"], capture_output=True, text=True, env=env, timeout=60)
    assert result.stdout.split() == ["list"]


def test_completing_the_first_word_loads_nothing_heavy():
    env = {"_CARECOORD_COMPLETE": "complete_bash", "COMP_WORDS": "carecoord ap", "COMP_CWORD": "1"}
    loaded = _loaded_modules(env=env)
    assert not loaded & {*HEAVY, "pydantic"}, loaded & {*HEAVY, "pydantic"}


def test_ctrl_c_says_whether_the_change_was_saved(tmp_path):
    """Ctrl-C is one line on stderr and exit 130, and says what became of the change: never silence,
    and never 'nothing was changed' about a change that was saved."""
    from tests import stores
    from tests.conftest import assert_one_line_error, ctrl_c_after

    db = tmp_path / "carecoord.db"
    run = ctrl_c_after("sqlalchemy.orm:Session.flush", 1, db, "patient", "add", "Ann Early")
    assert_one_line_error(run, 130, "interrupted; nothing was changed")
    assert not db.exists()
    run = ctrl_c_after("sqlalchemy.orm:Session.commit", 1, db, "patient", "add", "Ann Late")
    assert_one_line_error(run, 130, "interrupted; the change itself was saved")
    assert stores.sqlite_rows(db, "SELECT name FROM patient", ()) == [{"name": "Ann Late"}]


def test_a_number_out_of_range_is_said_in_words_not_as_a_validator_does(cli):
    """'Input should be greater than or equal to 1' is a library talking; say what to type."""
    from tests.conftest import assert_one_line_error

    for args, said in (
        (("report", "contacts", "--days", "abc"), "Invalid value for '--days' / '-d': 'abc' is not a whole number"),
        (("report", "contacts", "--days", "0"), "Invalid value for '--days' / '-d': 0 is too small: at least 1"),
        (("agenda", "--days", "1.5"), "Invalid value for '--days' / '-n': '1.5' is not a whole number"),
        (("auth", "list", "--expiring", "9999"), "Invalid value for '--expiring': 9999 is too large: at most 3660"),
    ):
        run = cli(*args)
        assert_one_line_error(run, 1, said)
        assert "Input should" not in run.stderr
