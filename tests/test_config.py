"""Your settings (issue 16): who you are, for the summaries you print. No database involved."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carecoord.cli import app
from tests.conftest import Run, assert_one_line_error
from tests.test_cli import HEAVY, _loaded_modules


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where CARECOORD_CONFIG points (its folder not made yet)."""
    path = tmp_path / "settings" / "carecoord.toml"
    monkeypatch.setenv("CARECOORD_CONFIG", str(path))
    return path


def run(*args: str) -> Run:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def shown() -> dict[str, str | None]:
    show = run("config", "show", "--format", "json")
    assert show.exit_code == 0, show.stderr
    return json.loads(show.stdout)  # type: ignore[no-any-return]


def test_set_show_and_unset(settings_file):
    assert run("config", "set", "name", "Dana Reyes, RN").stdout == "Your name is now Dana Reyes, RN.\n"
    assert run("config", "set", "phone", "617.555.0123 x12").stdout == "Your phone is now (617) 555-0123 ext. 12.\n"
    assert run("config", "set", "ORGANIZATION", "Eastside Primary Care").exit_code == 0
    assert run("config", "set", "email", " dana.reyes@eastside.example ").exit_code == 0
    assert shown() == {
        "file": str(settings_file), "name": "Dana Reyes, RN", "phone": "+16175550123;ext=12",
        "organization": "Eastside Primary Care", "email": "dana.reyes@eastside.example",
    }  # fmt: skip
    table = run("config", "show").stdout
    assert "(617) 555-0123 ext. 12" in table and "+1617" not in table
    assert str(settings_file) in "".join(line.strip() for line in table.splitlines())  # wrapped at 80 columns
    # The file is TOML anyone can read back, private to you, in a private folder.
    assert tomllib.loads(settings_file.read_text(encoding="utf-8"))["phone"] == "+16175550123;ext=12"
    assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings_file.parent.stat().st_mode) == 0o700

    assert run("config", "unset", "email").stdout == "Removed your email.\n"
    assert run("config", "unset", "email").stdout == "Your email was not set; nothing changed.\n"
    assert shown()["email"] is None and "email" not in tomllib.loads(settings_file.read_text(encoding="utf-8"))
    assert "(not set)" in run("config", "show").stdout


def test_text_with_quotes_backslashes_and_accents_round_trips(settings_file):
    name = 'Dana "DJ" Reyes \\ Équipe Soins — 看护'
    assert run("config", "set", "name", name).exit_code == 0
    assert tomllib.loads(settings_file.read_text(encoding="utf-8"))["name"] == name
    assert shown()["name"] == name


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("set", "fax", "555-0100"), "unknown setting 'fax': use one of name, phone, organization, email"),
        (("unset", "fax"), "unknown setting 'fax'"),
        (("set", "phone", "617-555-012"), "cannot read '617-555-012' as a phone number (it is too short"),
        (("set", "phone", "call me"), "cannot read 'call me' as a phone number"),
        (("set", "email", "dana at example"), "invalid email address 'dana at example'"),
        (("set", "name", "  "), "the name must not be empty"),
        (("set", "name", "Dana\nReyes"), "one line"),
    ],
)
def test_a_bad_key_or_value_is_one_line_and_writes_nothing(settings_file, args, fragment):
    assert run("config", "set", "name", "Dana").exit_code == 0
    before = settings_file.read_bytes()
    failed = run("config", *args)
    assert_one_line_error(failed, 1, fragment)
    assert "--raw-phone" not in failed.stderr  # there is no such option here
    assert settings_file.read_bytes() == before
    assert [p.name for p in settings_file.parent.iterdir()] == [settings_file.name]  # no temporary file left


def test_a_bad_value_creates_no_file(settings_file):
    assert_one_line_error(run("config", "set", "phone", "12"), 1, "phone number")
    assert not settings_file.exists()


def test_settings_carecoord_does_not_know_are_kept(settings_file):
    settings_file.parent.mkdir()
    settings_file.write_text('# mine\nname = "Old"\nfuture_key = "kept"\nnumber = 3\n', encoding="utf-8")
    assert run("config", "set", "name", "New").exit_code == 0
    assert tomllib.loads(settings_file.read_text(encoding="utf-8")) == {"name": "New", "future_key": "kept"}


def test_an_unreadable_settings_file_is_one_line(settings_file):
    settings_file.parent.mkdir()
    settings_file.write_text("name = 'unterminated\n", encoding="utf-8")
    assert_one_line_error(run("config", "show"), 3, f"cannot read your settings in {settings_file}")
    assert_one_line_error(run("config", "set", "name", "Dana"), 3, "fix the file or delete it")
    assert settings_file.read_text(encoding="utf-8") == "name = 'unterminated\n"


def test_the_default_file_is_in_the_user_config_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CARECOORD_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    if os.name != "posix" or os.uname().sysname != "Linux":
        pytest.skip("XDG_CONFIG_HOME is where platformdirs looks on Linux")
    assert run("config", "set", "name", "Dana").exit_code == 0
    expected = tmp_path / "xdg-config" / "carecoord" / "config.toml"
    assert shown()["file"] == str(expected) and expected.exists()


def test_config_help_does_not_import_heavy_libraries():
    for args in (("config", "--help"), ("config", "set", "--help")):
        loaded = _loaded_modules(*args)
        assert not loaded & {*HEAVY, "jinja2"}, (args, loaded & {*HEAVY, "jinja2"})
