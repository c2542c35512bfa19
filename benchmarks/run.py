"""Time carecoord's commands as whole processes, against the floors of Python and its libraries.

    python benchmarks/run.py                    # both sizes: caseload (5 runs), then agency (3 runs)
    python benchmarks/run.py --size caseload    # one size only
    python benchmarks/run.py --out benchmarks/RESULTS.md
    python benchmarks/run.py --postgres postgresql://postgres@127.0.0.1/postgres   # SQLite and PostgreSQL

On PostgreSQL (--engine postgresql or both; --postgres URL or CARECOORD_BENCH_POSTGRES names a
server and a database to connect to for administration, credentials the libpq way) the same data
set is generated as a SQLite file and loaded into a new database with `carecoord db init` and
`carecoord db copy --to` (ids kept), then ANALYZEd; each import run gets a fresh copy of it
(CREATE DATABASE ... TEMPLATE), and the benchmark databases are dropped afterwards. The role
signing in needs CREATEDB; a superuser (as here) bypasses row-level security, so the figures are
a supervisor's view of every patient without the policies' cost.

Each command runs once to warm the disk cache, then --runs times; the table gives the median, the
spread (min..max), the peak memory (max RSS) and the ratio to its floor: `python -c pass`,
`python -c "import typer"` (for --help/--version/completion) and `python -c "import typer, sqlmodel"`
(for everything else), measured in the same run. Budgets (issue 7): 1.5x typer for start-up, 1.25x
the typer+sqlmodel floor at caseload size; at agency size every listing, agenda, report and export
window (a day, a month) within 2x its caseload median on the same engine (so both sizes must be run
together to judge it), 10 s for a year's export
and a 10,000-row import, and 250 MB of memory everywhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import fhir_bundle, generate, hsds_folder, patients_csv

CARECOORD = [str(Path(sys.executable).with_name("carecoord"))]
# GNU time reports a process's own peak memory; a forked child's rusage also counts the parent's.
GNU_TIME = Path("/usr/bin/time").exists()
PYTHON = [sys.executable]
MEMORY_BUDGET_MB = 250
AGENCY_RATIO = 2.0
DEFAULT_RUNS = {"caseload": 5, "agency": 3}
ENGINES = ("sqlite", "postgresql")
SERVER: dict[str, str] = {}  # the PostgreSQL server's version, for the tables' headings
ONLY: list[str] = []  # --only: time just the cases whose label contains one of these (all when empty)


@dataclass
class Case:
    """One thing to time."""

    label: str
    argv: list[str]
    floor: str  # which floor it is compared with
    budget: float | None = None  # ratio to the floor
    seconds: float | None = None  # absolute budget
    agency_seconds: float | None = None  # absolute budget at agency size, where it differs from ``seconds``
    writes: bool = False  # needs a fresh copy of the database each run
    scales: bool = False  # a listing, agenda, report or export window: within AGENCY_RATIO x its caseload median


@dataclass
class Timing:
    median: float
    low: float
    high: float
    peak_mb: float


def measure(argv: list[str], env: dict[str, str], runs: int, fresh: Callable[[], None] | None = None) -> Timing:
    """Median and spread of wall time, and the largest max-RSS, over ``runs`` runs after a warm-up;
    ``fresh`` (not timed) puts a fresh copy of the database in place before each run."""
    times, peaks = [], []
    for attempt in range(runs + 1):
        if fresh is not None:
            fresh()
        command = ["/usr/bin/time", "-f", "peak-kb=%M", *argv] if GNU_TIME else argv
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        errors = process.stderr.read().decode() if process.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {errors}")
        peak_kb = next((int(line[8:]) for line in errors.splitlines() if line.startswith("peak-kb=")), usage.ru_maxrss)
        if attempt:  # the first run only warms caches
            times.append(elapsed)
            peaks.append(peak_kb / 1024)
    return Timing(statistics.median(times), min(times), max(times), max(peaks))


def cases(workdir: Path) -> list[Case]:
    chosen = all_cases(workdir)
    return [case for case in chosen if not ONLY or any(text in case.label for text in ONLY)]


def all_cases(workdir: Path) -> list[Case]:
    today = date.today()
    month_start = today.replace(day=1)
    csv_file = patients_csv(workdir / "import.csv", 10_000)
    fhir_file = fhir_bundle(workdir / "import-fhir.json", 1_000)
    return [
        Case("carecoord --help", [*CARECOORD, "--help"], "typer", budget=1.5),
        Case("carecoord --version", [*CARECOORD, "--version"], "typer", budget=1.5),
        Case("shell completion", [*CARECOORD], "typer", budget=1.5),
        Case("patient list", [*CARECOORD, "patient", "list"], "typer+sqlmodel", budget=1.25, scales=True),
        Case("patient show", [*CARECOORD, "patient", "show", "#5"], "typer+sqlmodel", budget=1.25, scales=True),
        Case(
            "task list --due week",
            [*CARECOORD, "task", "list", "--due", "week"],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case("agenda", [*CARECOORD, "agenda"], "typer+sqlmodel", budget=1.25, scales=True),
        Case(
            "agenda --days 7 --format json",
            [*CARECOORD, "agenda", "--days", "7", "--format", "json"],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case("report minutes", [*CARECOORD, "report", "minutes"], "typer+sqlmodel", budget=1.25, scales=True),
        Case(
            "report minutes --format json",
            [*CARECOORD, "report", "minutes", "--format", "json"],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case(
            "program list --program chi",
            [*CARECOORD, "program", "list", "--program", "chi"],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case(
            "patient list --search PHONE",
            [*CARECOORD, "patient", "list", "--search", "555-0100"],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case(
            "auth list --expiring 30",
            [*CARECOORD, "auth", "list", "--expiring", "30"],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case(
            "export ics (a day)",
            [*CARECOORD, "export", "ics", "--out", str(workdir / "day.ics")],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case(
            "export ics (a month)",
            [
                *CARECOORD,
                "export",
                "ics",
                "--from",
                month_start.isoformat(),
                "--days",
                "31",
                "--out",
                str(workdir / "month.ics"),
            ],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case(
            "export ics (a year)",
            [
                *CARECOORD,
                "export",
                "ics",
                "--from",
                (today - timedelta(days=182)).isoformat(),
                "--days",
                "365",
                "--out",
                str(workdir / "year.ics"),
            ],
            "typer+sqlmodel",
            budget=1.25,
            seconds=10.0,
        ),
        # issue 14: referrals and the directory
        Case("referral list", [*CARECOORD, "referral", "list"], "typer+sqlmodel", budget=1.25, scales=True),
        Case("report referrals", [*CARECOORD, "report", "referrals"], "typer+sqlmodel", budget=1.25, scales=True),
        Case(
            "import resources (5,000 HSDS services)",
            [*CARECOORD, "import", "resources", str(hsds_folder(workdir / "hsds", 5_000))],
            "typer+sqlmodel",
            seconds=10.0,
            writes=True,
        ),
        Case(
            "screen add",
            [*CARECOORD, "screen", "add", "#5", "phq9", "--answers", "1,1,2,0,1,0,1,0,0,1"],
            "typer+sqlmodel",
            budget=1.25,
            writes=True,
        ),
        Case(
            "screen history",
            [*CARECOORD, "screen", "history", "#5", "phq9"],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case(
            "report screenings",
            [*CARECOORD, "report", "screenings", "--from", (today - timedelta(days=365)).isoformat()],
            "typer+sqlmodel",
            budget=1.25,
            scales=True,
        ),
        Case("screen due", [*CARECOORD, "screen", "due"], "typer+sqlmodel", budget=1.25, scales=True),
        # issue 16: FHIR R4, streamed (the whole agency's Bundle is never held in memory)
        Case(
            "export fhir --all",
            [*CARECOORD, "export", "fhir", "--all", "--out", str(workdir / "all-fhir.json")],
            "typer+sqlmodel",
            seconds=2.0,
            agency_seconds=60.0,
        ),
        Case(
            "import fhir (1,000 patients)",
            [*CARECOORD, "import", "fhir", str(fhir_file)],
            "typer+sqlmodel",
            seconds=30.0,
            writes=True,
        ),
        Case(
            "import patients (10,000 rows)",
            [*CARECOORD, "import", "patients", str(csv_file)],
            "typer+sqlmodel",
            seconds=10.0,
            writes=True,
        ),
    ]


FLOORS = {
    "python": [*PYTHON, "-c", "pass"],
    "typer": [*PYTHON, "-c", "import typer"],
    "typer+sqlmodel": [*PYTHON, "-c", "import typer, sqlmodel"],
}


Measured = tuple[dict[str, Timing], list[tuple[Case, Timing]]]


def time_cases(
    label: str,
    workdir: Path,
    env: dict[str, str],
    runs: int,
    fresh: Callable[[], None],
    write_env: dict[str, str] | None = None,
) -> Measured:
    """Floors and every case against the database ``env`` names; a case that writes runs against
    ``write_env``'s (default the same), which ``fresh`` restores before each run."""
    completion = {**env, "_CARECOORD_COMPLETE": "complete_bash", "COMP_WORDS": "carecoord pat", "COMP_CWORD": "1"}
    floors = {name: measure(argv, env, runs) for name, argv in FLOORS.items()}
    rows = []
    for case in cases(workdir):
        print(f"{label}: timing {case.label}...", file=sys.stderr)
        run_env = completion if case.label == "shell completion" else (write_env or env) if case.writes else env
        rows.append((case, measure(case.argv, run_env, runs, fresh if case.writes else None)))
    return floors, rows


def base_env(db: str) -> dict[str, str]:
    return {**os.environ, "CARECOORD_DB": db, "CARECOORD_TZ": "America/New_York", "COLUMNS": "100"}


def run_sqlite(size: str, runs: int, source: Path) -> Measured:
    """Every case at one size on a private copy of the SQLite database ``source``."""
    with tempfile.TemporaryDirectory(prefix="carecoord-bench-") as tmp:
        workdir = Path(tmp)
        db = workdir / "carecoord.db"
        shutil.copy2(source, db)
        pristine = workdir / "pristine.db"
        shutil.copy2(db, pristine)

        def fresh() -> None:
            shutil.copy2(pristine, db)

        return time_cases(f"sqlite {size}", workdir, base_env(str(db)), runs, fresh)


def database_url(server: str, name: str) -> str:
    """``server`` (a postgresql:// URL) with its database replaced by ``name``."""
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def postgres_databases(server: str, names: list[str]) -> Iterator[Callable[[str], None]]:
    """Administer benchmark databases on ``server``: yields a function that runs one statement
    (autocommit, as CREATE/DROP DATABASE need); every database in ``names`` is dropped afterwards."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:

        def execute(statement: str) -> None:
            admin.execute(statement)  # our own names, never user input

        try:
            yield execute
        finally:
            for name in names:
                execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def carecoord(*argv: str, env: dict[str, str]) -> None:
    done = subprocess.run([*CARECOORD, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"carecoord {' '.join(argv)} failed: {done.stderr.strip()}")


def run_postgresql(size: str, runs: int, source: Path, server: str) -> Measured:
    """Every case at one size on a PostgreSQL database loaded from the SQLite database ``source``."""
    tag = f"carecoord_bench_{size}_{os.getpid()}"
    pristine, work = f"{tag}_pristine", f"{tag}_work"
    with (
        postgres_databases(server, [work, pristine]) as execute,
        tempfile.TemporaryDirectory(prefix="carecoord-bench-") as tmp,
    ):
        execute(f'CREATE DATABASE "{pristine}"')
        url = database_url(server, pristine)
        env = base_env(url)
        started = time.perf_counter()
        carecoord("--db", url, "db", "init", env=env)
        carecoord("--db", str(source), "db", "copy", "--to", url, env=env)
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
            version = connection.execute("SHOW server_version").fetchone()
            SERVER["version"] = f"PostgreSQL {version[0].split()[0] if version else '?'}"
        print(f"postgresql {size}: loaded and analysed in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        work_url = database_url(server, work)

        def fresh() -> None:  # reads use the pristine database; each import gets a copy of it
            execute(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')
            execute(f'CREATE DATABASE "{work}" TEMPLATE "{pristine}"')

        return time_cases(f"postgresql {size}", Path(tmp), env, runs, fresh, base_env(work_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("caseload", "agency", "both"), default="both")
    parser.add_argument(
        "--engine",
        choices=(*ENGINES, "both"),
        help="default: both when a PostgreSQL server is given (--postgres), else sqlite",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CARECOORD_BENCH_POSTGRES"),
        metavar="URL",
        help="a PostgreSQL server to create the benchmark databases on, as postgresql://user@host/dbname "
        "(default: $CARECOORD_BENCH_POSTGRES)",
    )
    parser.add_argument("--runs", type=int, help="runs per command (default: 5 at caseload size, 3 at agency)")
    parser.add_argument("--db", type=Path, help="with one --size: reuse a database made by generate.py")
    parser.add_argument("--agency-db", type=Path, help="with --size both: reuse this agency database")
    parser.add_argument("--out", type=Path, help="also write the Markdown tables here")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="time only the commands whose label contains TEXT (repeatable; the floors are always timed), "
        "e.g. --only screen --only 'report referrals'",
    )
    args = parser.parse_args()
    ONLY.extend(args.only)
    if args.db and args.size == "both":
        parser.error("--db needs --size caseload or agency (use --agency-db with both)")
    engine = args.engine or ("both" if args.postgres else "sqlite")
    engines = ENGINES if engine == "both" else (engine,)
    if "postgresql" in engines and not args.postgres:
        parser.error("--engine postgresql needs a server: --postgres URL or CARECOORD_BENCH_POSTGRES")

    sizes = ("caseload", "agency") if args.size == "both" else (args.size,)
    results: dict[tuple[str, str], Measured] = {}
    with tempfile.TemporaryDirectory(prefix="carecoord-bench-") as tmp:
        for size in sizes:
            given = args.db if args.size != "both" else (args.agency_db if size == "agency" else None)
            source = given or Path(tmp) / f"{size}.db"
            if not given:
                print(f"generating the {size} database...", file=sys.stderr)
                generate(source, size)
            runs = args.runs or DEFAULT_RUNS[size]
            for name in engines:
                results[name, size] = (
                    run_sqlite(size, runs, source)
                    if name == "sqlite"
                    else run_postgresql(size, runs, source, args.postgres)
                )
    sections = []
    for name in engines:
        for size in sizes:
            caseload = results.get((name, "caseload"))
            by_label = {case.label: timing for case, timing in caseload[1]} if caseload else None
            sections.append(table(size, args.runs or DEFAULT_RUNS[size], *results[name, size], by_label, name))
    text = "\n".join(sections)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


def verdict(case: Case, timing: Timing, floor: Timing, size: str, caseload: Timing | None) -> str:
    checks = []
    if case.budget is not None and size == "caseload":
        checks.append(timing.median <= case.budget * floor.median)
    if case.scales and size == "agency":
        if caseload is None:
            return "needs --size both"
        checks.append(timing.median <= AGENCY_RATIO * caseload.median)
    seconds = seconds_budget(case, size)
    if seconds is not None:
        checks.append(timing.median <= seconds)
    checks.append(timing.peak_mb <= MEMORY_BUDGET_MB)
    return "met" if all(checks) else "**NOT MET**"


def seconds_budget(case: Case, size: str) -> float | None:
    """The case's budget in seconds at this size."""
    return case.agency_seconds if size == "agency" and case.agency_seconds is not None else case.seconds


def budget_text(case: Case, size: str) -> str:
    parts = []
    if case.budget and size == "caseload":
        parts.append(f"≤ {case.budget}x {case.floor}")
    if case.scales and size == "agency":
        parts.append(f"≤ {AGENCY_RATIO:.0f}x caseload")
    seconds = seconds_budget(case, size)
    if seconds:
        parts.append(f"≤ {seconds:.0f} s")
    parts.append(f"≤ {MEMORY_BUDGET_MB} MB")
    return ", ".join(parts)


def table(
    size: str,
    runs: int,
    floors: dict[str, Timing],
    rows: list[tuple[Case, Timing]],
    caseload: dict[str, Timing] | None,
    engine: str = "sqlite",
) -> str:
    """One engine's results at one size as a Markdown table, with a verdict per budget."""
    on = "" if engine == "sqlite" else f", {SERVER.get('version', 'PostgreSQL')}"
    lines = [
        f"## carecoord benchmarks: {size} size, {'SQLite' if engine == 'sqlite' else 'PostgreSQL'}, {runs} runs "
        f"each, {os.cpu_count()} cores, Python {sys.version.split()[0]}{on}",
        "",
        "| command | median s | min..max s | peak MB | floor | x floor | x caseload | budget | |",
        "|---|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for name, timing in floors.items():
        lines.append(
            f"| floor: {name} | {timing.median:.3f} | {timing.low:.3f}..{timing.high:.3f} | "
            f"{timing.peak_mb:.0f} | | | | | |"
        )
    for case, timing in rows:
        floor = floors[case.floor]
        small = caseload.get(case.label) if caseload and size == "agency" else None
        scaled = f"{timing.median / small.median:.2f}" if small else ""
        lines.append(
            f"| {case.label} | {timing.median:.3f} | {timing.low:.3f}..{timing.high:.3f} | {timing.peak_mb:.0f} | "
            f"{case.floor} | {timing.median / floor.median:.2f} | {scaled} | {budget_text(case, size)} | "
            f"{verdict(case, timing, floor, size, small)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
