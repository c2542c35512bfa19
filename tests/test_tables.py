"""Text tables for people: what they print fits the terminal, words whole."""

from __future__ import annotations


def test_a_long_title_wraps_between_words_at_80_columns(cli, monkeypatch):
    cli("patient", "add", "Jane Doe", "--mrn", "1")
    cli("log", "add", "jane", "--when", "2026-11-23 10:00", "--minutes", "10")
    monkeypatch.setenv("COLUMNS", "200")
    wide = cli("report", "minutes").stdout.split("\n\n")[0]
    assert "\n" not in wide and len(wide) > 80  # a title longer than the screen
    monkeypatch.setenv("COLUMNS", "80")
    run = cli("report", "minutes")
    assert run.exit_code == 0
    assert all(len(line) < 80 for line in run.stdout.splitlines()), run.stdout
    title = run.stdout.split("\n\n")[0].splitlines()
    assert len(title) > 1 and " ".join(title) == wide  # broken only at spaces, nothing lost
