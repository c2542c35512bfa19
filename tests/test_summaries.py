"""Printable patient summaries (issue 16): what the family's copy and a provider's copy show, what the
family's copy never shows, and the page as a file. (tests/test_summary_browser.py renders them in Chromium.)"""

from __future__ import annotations

import re
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from carecoord.dates import local_zone
from tests.conftest import TEST_NOW, TEST_ZONE, assert_one_line_error
from tests.test_cli import HEAVY, _loaded_modules

# Every billing code carecoord knows (clinical.py): none may reach the family's copy.
BILLING_CODES = ("99490", "99439", "99487", "99489", "99491", "99437", "99426", "99427", "99495", "99496",
                 "G0019", "G0022", "G0023", "G0024", "G0140", "G0146", "G0556", "G0557", "G0558")  # fmt: skip


@pytest.fixture
def demo(cli, engine, db_url):
    """The demo caseload (services/demo.py) in the test's store, on either engine, built around TEST_NOW."""
    from carecoord import db, server
    from carecoord.services import demo as demo_data

    scope = (
        server.session_scope(server.Server(db_url), write=True)
        if engine == "postgresql"
        else db.session_scope(Path(db_url), write=True)
    )
    with scope as session:
        demo_data.populate(session, TEST_NOW.date(), ZoneInfo(TEST_ZONE))
    return cli


@pytest.fixture
def me(cli):
    """The coordinator's settings."""
    for key, value in (("name", "Dana Reyes, RN"), ("phone", "617-555-0123"),
                       ("organization", "Eastside Primary Care"), ("email", "dana@eastside.example")):  # fmt: skip
        assert cli("config", "set", key, value).exit_code == 0
    return cli


def summary(cli, *args: str) -> str:
    run = cli("patient", "summary", *args)
    assert run.exit_code == 0, run.stderr
    return run.stdout


def text_of(html: str) -> str:
    """The words of an HTML page, whitespace collapsed (what a reader sees, near enough)."""
    from html import unescape

    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_familys_copy_of_a_demo_patient(demo, me, rows):
    html = summary(demo, "margaret")
    words = text_of(html)
    # Their goals in their words, what to do, appointments with place and local time, who to call.
    assert "Weigh daily and report a gain over 2 lb in a day by Friday 25 December" in words
    assert "Attend cardiology follow-up by Saturday 5 December" in words
    assert "Refill diuretic prescription: as soon as you can (it was due Monday 23 November)" in words
    assert "Weekly weight check call: today at 10:00 am (repeats weekly)" in words
    assert "Wednesday 25 November, 10:00 am Home visit, at 14 Alder Lane" in words
    assert "Wednesday 9 December, 10:00 am CANCELLED Home visit" in words
    assert "Dana Reyes, RN , your care coordinator, Eastside Primary Care (617) 555-0123 dana@eastside.example" in words
    assert "Kathleen O'Neill , daughter" in words and "Prefers a text message" in words
    assert "In an emergency, call 911." in words
    # Not shared: the cardiologist she did not consent to share with; and nothing internal.
    assert "Priya Nair" not in html
    uid = rows("SELECT uid FROM patient WHERE mrn = 'DEMO-1001'")[0]["uid"]
    for secret in ("DEMO-1001", "MRN", uid, "1941", "Medicare", "PA-88231", "Two CHF admissions", "#"):
        assert secret not in words, secret
    assert not re.search(r"\brisk\b|\bhigh\b", words, re.I)
    assert not [code for code in BILLING_CODES if code in html]
    # Large type, print styles, one self-contained page.
    assert "body.patient { font-size: 16pt; }" in html and "@page { size: letter;" in html
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html and '<meta charset="utf-8">' in html
    assert "<title>Care plan for Margaret O&#39;Neill</title>" in html
    assert not re.search(r"<script|src=|https?:|url\(|@import|<link", html, re.I)


def test_the_familys_copy_leaves_out_the_coordinators_own_follow_ups(demo):
    words = text_of(summary(demo, "aisha"))  # PHQ-9 item 9 this morning: a stat safety task
    assert "Medicaid renewal paperwork: by Monday 30 November" in words
    assert "Safety follow-up" not in words and "PHQ" not in words
    dolores = text_of(summary(demo, "dolores"))  # discharged yesterday: the TCM call and visit tasks are hers
    assert "What to do Nothing to do right now." in dolores


def test_a_providers_handoff_of_a_demo_patient(demo, me):
    words = text_of(summary(demo, "margaret", "--for", "provider"))
    for expected in (
        "Handoff summary: Margaret O'Neill",
        "MRN DEMO-1001", "Date of birth 1941-03-12 (age 85)", "Risk level high",
        "Dana Reyes, RN , Eastside Primary Care · (617) 555-0123",
        "Heart failure self-management (active, since 2026-09-26",
        "Needs: Two CHF admissions this year; Lives alone; daughter visits weekly",
        "Weigh daily and report a gain over 2 lb in a day active 2026-12-25 daily weight log",
        "Programs: Chronic care management since 2026-08-17 (verbal consent, obtained by Demo Coordinator, RN).",
        "Care-management time in November 2026: 27 minutes (Chronic care management: 27 min)",
        "Daughter: mother more breathless on stairs",
        "PHQ-9 2026-11-11 6",  # the latest PHQ-9 (14 before treatment is not shown)
        "home health visits (Medicare) PA-88231 approved",
        "11 of 12 visits used",
        "Dr. Priya Nair cardiologist Heart Clinic",
    ):  # fmt: skip
        assert expected in words, expected
    assert "PHQ-9 2026-09-16" not in words


def test_a_providers_handoff_shows_flags_referrals_and_coverage(demo):
    aisha = text_of(summary(demo, "aisha", "--for", "provider"))
    assert "SAFETY FLAG, follow-up open" in aisha
    assert "Emergency Rental Assistance Housing instability received" in aisha
    assert "Safety follow-up" in aisha and "stat" in aisha  # the open tasks, the coordinator's too
    dolores = text_of(summary(demo, "dolores", "--for", "provider"))
    assert "Texas Medicaid secondary TXM-5521" in dolores
    assert "Mercy Home Health draft" in dolores  # waiting for her consent: still open
    luis = text_of(summary(demo, "luis", "--for", "provider"))
    assert "Weekly Food Pantry" not in luis  # closed: he got help
    assert "continuous glucose monitor" in luis and "requested" in luis


def test_markdown_is_the_same_content_as_text(demo, me):
    text = summary(demo, "margaret", "--format", "markdown")
    assert text.startswith("# Your care plan\n")
    assert "- Weigh daily and report a gain over 2 lb in a day: **by Friday 25 December**" in text
    assert "**Wednesday 9 December, 10:00 am** **CANCELLED**: Home visit" in text
    assert "DEMO-1001" not in text and "Priya" not in text and "<" not in text
    handoff = summary(demo, "margaret", "--for", "provider", "-f", "markdown")
    assert "| MRN | DEMO-1001 |" in handoff and "## Screenings (latest of each)" in handoff


def test_what_people_typed_is_text_not_markup(cli):
    cli("patient", "add", "<script>alert(1)</script> *Bold* Doe")
    cli("plan", "add", "1", "Plan", "--status", "active")
    cli("goal", "add", "1", "Walk <b>daily</b> | 10 min # _every_ day")
    html = summary(cli, "doe")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; *Bold* Doe" in html
    assert "Walk &lt;b&gt;daily&lt;/b&gt; | 10 min # _every_ day" in html
    text = summary(cli, "doe", "-f", "markdown")
    assert r"\<script\>alert(1)\</script\> \*Bold\* Doe" in text
    assert r"Walk \<b\>daily\</b\> \| 10 min # \_every\_ day" in text


def test_without_your_name_and_phone_it_still_renders_and_says_how_to_set_them(demo):
    run = demo("patient", "summary", "margaret")
    assert run.exit_code == 0 and "Your care plan" in run.stdout
    assert run.stderr.count("\n") == 1 and "carecoord config set name" in run.stderr
    assert "your care coordinator" in text_of(run.stdout)
    demo("config", "set", "name", "Dana")
    run = demo("patient", "summary", "margaret", "--for", "provider")
    assert run.stderr.strip() == (
        "carecoord: note: the summary cannot say who you are until you set your phone: "
        "run 'carecoord config set phone ...'"
    )
    demo("config", "set", "phone", "617-555-0123")
    assert demo("patient", "summary", "margaret").stderr == ""


def test_an_empty_record_still_makes_a_page(cli):
    cli("patient", "add", "Jane Doe")
    words = text_of(summary(cli, "jane"))
    for expected in ("No goals written down yet.", "Nothing to do right now.",
                     "No appointments booked in the next two months.", "In an emergency, call 911."):  # fmt: skip
        assert expected in words
    handoff = text_of(summary(cli, "jane", "--for", "provider"))
    assert "No open care plan." in handoff and "MRN not recorded" in handoff


def test_out_writes_the_file_atomically(demo, tmp_path, rows):
    """(The confirmation is for the coordinator's screen: it names the patient as every command does.)"""
    target = tmp_path / "margaret.html"
    run = demo("patient", "summary", "margaret", "--out", str(target))
    assert run.exit_code == 0
    patient_id = rows("SELECT id FROM patient WHERE mrn = 'DEMO-1001'")[0]["id"]
    assert run.stdout == f"Wrote the care plan of #{patient_id} Margaret O'Neill (MRN DEMO-1001) to {target}.\n"
    data = target.read_bytes()
    assert data.decode("utf-8").startswith("<!DOCTYPE html>") and "Hernández" not in data.decode()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    luis = tmp_path / "luis.md"
    demo("patient", "summary", "luis", "--for", "provider", "-f", "markdown", "-o", str(luis))
    assert "Luis Hernández".encode() in luis.read_bytes()  # UTF-8
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".html", ".md", ".tmp")) == [
        "luis.md", "margaret.html"]  # fmt: skip


def test_bad_input_is_one_line_and_writes_nothing(demo, tmp_path):
    target = tmp_path / "out.html"
    assert_one_line_error(demo("patient", "summary", "nobody", "-o", str(target)), 1, "nobody")
    assert_one_line_error(demo("patient", "summary", "margaret", "--for", "cousin"), 1, "cousin")
    assert_one_line_error(demo("patient", "summary", "margaret", "-f", "pdf"), 1, "pdf")
    assert_one_line_error(demo("patient", "summary", "margaret", "-o", str(tmp_path / "no" / "x.html")), 3,
                          "does not exist")  # fmt: skip
    assert not target.exists()


def test_times_are_in_your_zone_across_a_daylight_saving_change(cli, monkeypatch):
    cli("patient", "add", "Jane Doe")
    with time_machine.travel(datetime(2027, 3, 8, 9, 0, tzinfo=ZoneInfo(TEST_ZONE)), tick=False):
        booked = cli("appt", "add", "jane", "--start", "2027-03-10 14:30", "--tz", TEST_ZONE, "--type", "pcp",
                     "--with", "Dr. Alvarez", "--location", "Eastside Clinic", "--every", "weekly", "--count", "4")  # fmt: skip
        assert booked.exit_code == 0, booked.stderr
        # New York's clocks go forward on 14 March: the visit stays at 2:30 pm there...
        words = text_of(summary(cli, "jane"))
        for day in ("Wednesday 10 March", "Wednesday 17 March", "Wednesday 24 March", "Wednesday 31 March"):
            assert f"{day}, 2:30 pm Visit with your primary care provider with Dr. Alvarez" in words
        # ...and a coordinator in London (clocks forward on 28 March) reads it in London time.
        monkeypatch.setenv("CARECOORD_TZ", "Europe/London")
        local_zone.cache_clear()
        words = text_of(summary(cli, "jane"))
        times = re.findall(r"Wednesday (\d+) March, (\d+:\d\d [ap]m)", words)
        assert times == [("10", "7:30 pm"), ("17", "6:30 pm"), ("24", "6:30 pm"), ("31", "7:30 pm")]
        handoff = text_of(summary(cli, "jane", "--for", "provider"))
        assert "2027-03-10 19:30 PCP visit" in handoff and "2027-03-17 18:30" in handoff


def test_summary_help_does_not_import_heavy_libraries():
    loaded = _loaded_modules("patient", "summary", "--help")
    assert not loaded & {*HEAVY, "jinja2"}, loaded & {*HEAVY, "jinja2"}


def test_a_summary_costs_the_same_statements_however_much_is_recorded(demo):
    """A few queries per part, none per record: more calls, contacts, tasks and visits cost nothing more."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def counts() -> list[int]:
        found = []
        for audience in ("patient", "provider"):
            statements.clear()
            assert demo("patient", "summary", "margaret", "--for", audience).exit_code == 0
            found.append(len(statements))
        return found

    event.listen(Engine, "before_cursor_execute", count)
    try:
        few = counts()
        assert few[0] <= 12 and few[1] <= 21, few  # 10 and 19 on SQLite, with opening the store
        for n in range(3):
            assert demo("log", "add", "margaret", "--minutes", "5", "--note", f"call {n}").exit_code == 0
            assert demo("contact", "add", "margaret", f"Neighbour {n}", "--consent").exit_code == 0
            assert demo("task", "add", f"Errand {n}", "--patient", "margaret", "--due", "fri").exit_code == 0
            booked = demo("appt", "add", "margaret", "--start", f"2026-12-0{n + 3} 15:00", "--type", "pcp")
            assert booked.exit_code == 0, booked.stderr
        assert counts() == few
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_the_familys_copy_says_how_a_task_repeats_in_words(cli):
    cli("patient", "add", "Jane Doe")
    added = cli("task", "add", "Check your blood sugar before lunch", "--patient", "jane", "--due", "thu",
                "--every", "FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20261231")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    words = text_of(summary(cli, "jane"))
    assert ("Check your blood sugar before lunch: by Thursday 26 November "
            "(repeats every week on Monday and Thursday, until 31 December 2026)") in words  # fmt: skip
    handoff = text_of(summary(cli, "jane", "--for", "provider"))
    assert "(every week on MO,TH" in handoff


def test_one_minute_of_care_management_is_one_minute(cli):
    cli("patient", "add", "Jane Doe")
    assert cli("log", "add", "jane", "--minutes", "1").exit_code == 0
    for fmt in ("html", "markdown"):
        page = summary(cli, "jane", "--for", "provider", "-f", fmt)
        words = text_of(page) if fmt == "html" else " ".join(page.replace("*", "").split())
        assert "Care-management time in November 2026: 1 minute (no program: 1 min)" in words, words
