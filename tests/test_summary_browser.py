"""The printed summaries in a real browser (issue 16): Debian's headless Chromium loads each page, and
prints it to PDF; the page's text and its number of printed pages are checked.

.ci/run installs Chromium where it is missing; on a machine without it these tests skip, saying so.
The demo caseload is built once (``carecoord demo --path``, a SQLite file) and only read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from typer.testing import CliRunner

from carecoord.cli import app
from carecoord.dates import local_zone
from tests.conftest import TEST_NOW, TEST_ZONE

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium; .ci/run does it): summaries not rendered in a browser",
)
BROWSER_SECONDS = 120


def carecoord(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.stderr, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo caseload, built as a user builds it, around the tests' 'now'."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    with pytest.MonkeyPatch.context() as env, time_machine.travel(TEST_NOW, tick=False):
        env.setenv("XDG_DATA_HOME", str(path.parent / "xdg"))
        env.setenv("CARECOORD_TZ", TEST_ZONE)
        env.setenv("NO_COLOR", "1")
        env.delenv("CARECOORD_DB", raising=False)
        local_zone.cache_clear()
        carecoord("demo", "--path", str(path))
    local_zone.cache_clear()
    return path


@pytest.fixture
def me(tmp_path: Path) -> None:
    """Who prints: the coordinator's settings (in this test's own settings file)."""
    for key, value in (
        ("name", "Dana Reyes, RN"),
        ("phone", "617-555-0123"),
        ("organization", "Eastside Primary Care"),
    ):
        carecoord("config", "set", key, value)


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a throwaway profile (never the user's)."""
    assert CHROMIUM is not None
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}", *args]  # fmt: skip
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_SECONDS, env=env, check=False)


class _Text(HTMLParser):
    """The text of a page as the browser holds it, and the elements found."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.tags: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._skip += tag in ("style", "script", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words += data.split()


def rendered(page: Path, tmp_path: Path) -> tuple[str, set[str]]:
    """The page's text after Chromium loaded it (--dump-dom), and its elements."""
    result = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile-dom")
    assert "<body" in result.stdout, result.stderr[-2000:]
    parser = _Text()
    parser.feed(result.stdout)
    return " ".join(parser.words), parser.tags


def printed_pages(page: Path, tmp_path: Path) -> list[str]:
    """The text of each page the page prints on (Chromium's PDF, read by pypdf)."""
    from pypdf import PdfReader

    pdf = tmp_path / f"{page.stem}.pdf"
    result = chromium(
        "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(), profile=tmp_path / "profile-pdf"
    )
    assert pdf.exists() and pdf.stat().st_size > 0, result.stderr[-2000:]
    reader = PdfReader(pdf)
    return [" ".join((p.extract_text() or "").split()) for p in reader.pages]


def write_summary(demo_db: Path, tmp_path: Path, who: str, *options: str) -> Path:
    page = tmp_path / f"{who}{'-'.join(options)}.html"
    carecoord("--db", str(demo_db), "patient", "summary", who, *options, "--out", str(page))
    return page


def test_the_familys_copy_opens_in_a_browser_and_prints_on_two_pages(demo_db, me, tmp_path):
    page = write_summary(demo_db, tmp_path, "margaret")
    words, tags = rendered(page, tmp_path)
    assert words.startswith("Your care plan For Margaret O'Neill . Prepared Wednesday 25 November by Dana Reyes, RN")
    assert "Dana Reyes, RN , your care coordinator, Eastside Primary Care (617) 555-0123" in words
    assert "Weigh daily and report a gain over 2 lb in a day by Friday 25 December" in words
    assert "Wednesday 25 November, 10:00 am Home visit, at 14 Alder Lane" in words
    assert "Wednesday 20 January 2027, 10:00 am Home visit" in words  # eight weeks of weekly visits
    assert "DEMO-1001" not in words and "MRN" not in words and "script" not in tags
    pages = printed_pages(page, tmp_path)
    assert len(pages) == 2, pages
    # Who to call prints on the first page, whatever happens to the second.
    assert pages[0].startswith("Your care plan") and "(617) 555-0123" in pages[0] and "call 911" in pages[0]
    assert "DEMO-1001" not in " ".join(pages)


def test_a_providers_handoff_opens_in_a_browser_and_prints_on_two_pages(demo_db, me, tmp_path):
    page = write_summary(demo_db, tmp_path, "margaret", "--for", "provider")
    words, _ = rendered(page, tmp_path)
    for expected in ("Handoff summary: Margaret O'Neill", "MRN DEMO-1001", "Date of birth 1941-03-12 (age 85)",
                     "Care-management time in November 2026: 27 minutes", "11 of 12 visits used"):  # fmt: skip
        assert expected in words, expected
    pages = printed_pages(page, tmp_path)
    assert len(pages) == 2, pages
    assert (
        re.match(r"Hand\S* summary: Margaret O.Neill", pages[0]) and "MRN DEMO-1001" in pages[0]
    )  # pypdf reads ff as a ligature
    assert "Care team and family" in pages[1]


def test_a_short_summary_prints_on_one_page(demo_db, tmp_path):
    page = write_summary(demo_db, tmp_path, "frank")  # no plan, no appointments, no contacts
    [printed] = printed_pages(page, tmp_path)
    assert "For Frank Kowalski" in printed and "Nothing to do right now." in printed
