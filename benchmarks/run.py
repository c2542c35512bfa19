"""Time carecoord's commands as whole processes, against the floors of Python and its libraries.

    python benchmarks/run.py                    # caseload size, 5 runs each, Markdown to stdout
    python benchmarks/run.py --size agency --runs 3 --out benchmarks/results-agency.md

Each command runs once to warm the disk cache, then --runs times; the table gives the median, the
spread (min..max), the peak memory (max RSS) and the ratio to its floor: `python -c pass`,
`python -c "import typer"` (for --help/--version/completion) and `python -c "import typer, sqlmodel"`
(for everything else), measured in the same run. Budgets (issue 7): 1.5x typer for start-up, 1.25x
the typer+sqlmodel floor at caseload size, 10 s for a year's export and a 10,000-row import,
250 MB of memory.
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
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate, patients_csv

CARECOORD = [str(Path(sys.executable).with_name("carecoord"))]
# GNU time reports a process's own peak memory; a forked child's rusage also counts the parent's.
GNU_TIME = Path("/usr/bin/time").exists()
PYTHON = [sys.executable]
MEMORY_BUDGET_MB = 250


@dataclass
class Case:
    """One thing to time."""

    label: str
    argv: list[str]
    floor: str  # which floor it is compared with
    budget: float | None = None  # ratio to the floor
    seconds: float | None = None  # absolute budget
    writes: bool = False  # needs a fresh copy of the database each run


@dataclass
class Timing:
    median: float
    low: float
    high: float
    peak_mb: float


def measure(argv: list[str], env: dict[str, str], runs: int, fresh: Path | None, db: Path) -> Timing:
    """Median and spread of wall time, and the largest max-RSS, over ``runs`` runs after a warm-up."""
    times, peaks = [], []
    for attempt in range(runs + 1):
        if fresh is not None:
            shutil.copy2(fresh, db)
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
    today = date.today()
    month_start = today.replace(day=1)
    csv_file = patients_csv(workdir / "import.csv", 10_000)
    return [
        Case("carecoord --help", [*CARECOORD, "--help"], "typer", budget=1.5),
        Case("carecoord --version", [*CARECOORD, "--version"], "typer", budget=1.5),
        Case("shell completion", [*CARECOORD], "typer", budget=1.5),
        Case("patient list", [*CARECOORD, "patient", "list"], "typer+sqlmodel", budget=1.25),
        Case("patient show", [*CARECOORD, "patient", "show", "#5"], "typer+sqlmodel", budget=1.25),
        Case("task list --due week", [*CARECOORD, "task", "list", "--due", "week"], "typer+sqlmodel", budget=1.25),
        Case("agenda", [*CARECOORD, "agenda"], "typer+sqlmodel", budget=1.25),
        Case(
            "agenda --days 7 --format json",
            [*CARECOORD, "agenda", "--days", "7", "--format", "json"],
            "typer+sqlmodel",
            budget=1.25,
        ),
        Case("report minutes", [*CARECOORD, "report", "minutes"], "typer+sqlmodel", budget=1.25),
        Case(
            "export ics (a day)",
            [*CARECOORD, "export", "ics", "--out", str(workdir / "day.ics")],
            "typer+sqlmodel",
            budget=1.25,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=("caseload", "agency"), default="caseload")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, help="reuse a database made by generate.py (default: make one)")
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="carecoord-bench-") as tmp:
        workdir = Path(tmp)
        db = workdir / "carecoord.db"
        if args.db:
            shutil.copy2(args.db, db)
        else:
            print(f"generating the {args.size} database...", file=sys.stderr)
            generate(db, args.size)
        pristine = workdir / "pristine.db"
        shutil.copy2(db, pristine)
        env = {**os.environ, "CARECOORD_DB": str(db), "CARECOORD_TZ": "America/New_York", "COLUMNS": "100"}
        completion = {**env, "_CARECOORD_COMPLETE": "complete_bash", "COMP_WORDS": "carecoord pat", "COMP_CWORD": "1"}
        floors = {name: measure(argv, env, args.runs, None, db) for name, argv in FLOORS.items()}
        rows = []
        for case in cases(workdir):
            print(f"timing {case.label}...", file=sys.stderr)
            run_env = completion if case.label == "shell completion" else env
            timing = measure(case.argv, run_env, args.runs, pristine if case.writes else None, db)
            rows.append((case, timing))
    print_table(args, floors, rows)


def verdict(case: Case, timing: Timing, floor: Timing, size: str) -> str:
    checks = []
    if case.budget is not None and size == "caseload":
        checks.append(timing.median <= case.budget * floor.median)
    if case.seconds is not None:
        checks.append(timing.median <= case.seconds)
    checks.append(timing.peak_mb <= MEMORY_BUDGET_MB)
    return "met" if all(checks) else "**NOT MET**"


def print_table(args: argparse.Namespace, floors: dict[str, Timing], rows: list[tuple[Case, Timing]]) -> None:
    lines = [
        f"## carecoord benchmarks: {args.size} size, {args.runs} runs each, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}",
        "",
        "| command | median s | min..max s | peak MB | floor | x floor | budget | |",
        "|---|---:|---:|---:|---|---:|---|---|",
    ]
    for name, timing in floors.items():
        lines.append(
            f"| floor: {name} | {timing.median:.3f} | {timing.low:.3f}..{timing.high:.3f} | "
            f"{timing.peak_mb:.0f} | | | | |"
        )
    for case, timing in rows:
        floor = floors[case.floor]
        budget = ", ".join(
            part
            for part in (
                f"≤ {case.budget}x {case.floor}" if case.budget and args.size == "caseload" else "",
                f"≤ {case.seconds:.0f} s" if case.seconds else "",
                f"≤ {MEMORY_BUDGET_MB} MB",
            )
            if part
        )
        lines.append(
            f"| {case.label} | {timing.median:.3f} | {timing.low:.3f}..{timing.high:.3f} | {timing.peak_mb:.0f} | "
            f"{case.floor} | {timing.median / floor.median:.2f} | {budget} | {verdict(case, timing, floor, args.size)} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
