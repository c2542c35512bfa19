"""Every ``--help`` reads as words a person reads, and nothing in it is cut short at 80 columns."""

from __future__ import annotations

import re

import pytest
import typer

from carecoord.cli import COMMANDS, sub_app

# A metavar: a word in capitals (TAG, PATIENT, COLUMN=FIELD), or a few values (low|moderate|high).
METAVAR = re.compile(r"^([A-Z][A-Z_=]*|[a-z0-9-]+(\|[a-z0-9-]+)+)(\.\.\.)?$")
MACHINE = re.compile(r"[<{}]|>=|\w\[|\[\[")  # <str>, {patient}, x>=1, list[str], [[LIFECYCLE]]


def every_help() -> list[tuple[str, ...]]:
    """The --help of the root, of every noun and of every command under it."""
    found: list[tuple[str, ...]] = [()]
    for name in COMMANDS:
        found.append((name,))
        command = typer.main.get_command(sub_app(name))
        found += [(name, sub) for sub in getattr(command, "commands", {})]
    return found


def terms(text: str) -> tuple[str, list[str]]:
    """The usage line, and the first column of every row under Arguments and Options."""
    usage = " ".join(text.split("\n\n", 1)[0].split())
    rows, section = [], ""
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line
        elif section in ("Arguments:", "Options:") and re.match(r"^  \S", line):
            rows.append(re.split(r"\s{2,}", line.strip())[0])
    return usage, rows


@pytest.mark.parametrize("words", every_help(), ids=" ".join)
def test_help_shows_words_not_python_types(cli, words):
    run = cli(*words, "--help")
    assert run.exit_code == 0, run.stderr
    assert not MACHINE.search(run.stdout), MACHINE.search(run.stdout)
    usage, rows = terms(run.stdout)
    assert usage.startswith(f"Usage: {' '.join(('carecoord', *words))} [OPTIONS]"), usage
    for piece in usage.split()[2 + len(words) :]:
        assert re.fullmatch(r"\[?[A-Z][A-Z_]*\]?(\.\.\.)?", piece), (usage, piece)
    for term in rows:
        if term.startswith("-") and " / " not in term:
            metavar = term.replace(",", "").split()[-1]
            if metavar.startswith("-"):  # a flag: no value
                continue
            assert METAVAR.match(metavar), term
        elif not term.startswith("-"):  # an argument
            assert METAVAR.match(term), term


def test_the_words_say_what_to_type(cli):
    add = cli("patient", "add", "--help").stdout
    assert "Usage: carecoord patient add [OPTIONS] NAME" in add
    for row in ("-t, --tag TAG ", "--dob DATE ", "--risk low|moderate|high ", "--notes TEXT "):
        assert row in add, row
    agenda = cli("agenda", "--help").stdout
    assert "Usage: carecoord agenda [OPTIONS] [DAY]" in agenda
    assert "-n, --days N " in agenda and "[default: 1; 1 to 366]" in agenda
    assert "-w, --when WHEN " in cli("log", "add", "--help").stdout
    status = cli("goal", "status", "--help").stdout
    assert "Usage: carecoord goal status [OPTIONS] GOAL [STATUS]" in status
    assert "one of: proposed, planned, accepted, active," in status


def test_a_missing_argument_is_named_as_usage_shows_it(cli):
    run = cli("patient", "show")
    assert run.exit_code == 2 and "Missing argument 'PATIENT'" in run.stderr


@pytest.mark.parametrize("noun", ["", *COMMANDS])
def test_no_command_summary_is_cut_short_at_80_columns(cli, noun, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    text = cli(*([noun] if noun else []), "--help").stdout
    listing = text.split("Commands:\n", 1)[1] if "Commands:\n" in text else ""
    assert "..." not in listing, listing
    assert all(len(line) <= 80 for line in text.splitlines()), text
    if noun == "patient":  # once cut to "Put an active patient on hold (hospital stay, travel) without..."
        assert " ".join(listing.split()).count("without discharging.") == 1


@pytest.mark.parametrize("words", every_help(), ids=" ".join)
def test_help_sentences_are_punctuated_as_sentences(cli, words):
    """'Free-text notes. ('' clears) '-' reads it...' read as notes left unfinished."""
    text = " ".join(cli(*words, "--help").stdout.split())
    assert ". ('' clears)" not in text and "('' clears) '-'" not in text, text


def descriptions(text: str) -> list[str]:
    """The description of every row under Arguments and Options, its lines joined, less [defaults]."""
    found: list[list[str]] = []
    section = ""
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line
        elif section in ("Arguments:", "Options:") and line.strip():
            term, _, rest = line.strip().partition("  ") if re.match(r"^  \S", line) else ("", "", line)
            if term:
                found.append([])
            found[-1].append(rest.strip())
    return [re.sub(r"\s*\[[^\]]*\]$", "", " ".join(" ".join(d).split())) for d in found]


@pytest.mark.parametrize("words", every_help(), ids=" ".join)
def test_no_option_description_ends_as_if_cut_short(cli, words):
    """'an RRULE...' at the end of a description reads as text cut to fit: say 'such as', 'e.g.'."""
    for description in descriptions(cli(*words, "--help").stdout):
        assert not description.endswith(".."), description


@pytest.mark.parametrize("words", every_help(), ids=" ".join)
def test_help_never_splits_a_word_at_its_hyphen(cli, words, monkeypatch):
    """At 80 columns an example's '--review-every' stays whole (it was '--review-' / 'every', which
    fails when copied), and so does 'entered-in-error'."""
    monkeypatch.setenv("COLUMNS", "80")
    text = cli(*words, "--help").stdout
    split = [line for line in text.splitlines() if len(line) > 1 and line[-1] == "-" and line[-2].isalnum()]
    assert split == [], split
