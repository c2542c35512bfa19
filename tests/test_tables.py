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


def test_a_long_column_header_wraps_between_words_instead_of_being_cut(cli, monkeypatch):
    cli("patient", "add", "Jane Doe Featherstonehaugh", "--mrn", "1")
    cli("transition", "add", "jane", "--discharged", "2026-11-20", "--from", "Mercy General Hospital of the Valley")
    monkeypatch.setenv("COLUMNS", "80")
    lines = cli("transition", "list").stdout.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("---"))
    header = lines[2:rule]
    assert len(header) > 1  # the header did not fit on one line
    labels = ("ID", "Patient", "Discharged", "From", "Contact (2 bus. days)", "Visit")
    words = sorted(word for line in header for word in line.split())
    assert words == sorted(word for label in labels for word in label.split())  # whole words, nothing lost
