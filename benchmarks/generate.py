"""Build a deterministic carecoord database at the sizes DESIGN.md names, for benchmarks.

    python benchmarks/generate.py --size caseload --out /tmp/caseload.db
    python benchmarks/generate.py --size agency --out /tmp/agency.db

caseload: 200 patients, 2,000 tasks, 3,000 appointments, 5,000 log entries, 400 coverages, 1,000
authorizations.
agency: 10,000 patients, 200,000 tasks, 200,000 appointments, 500,000 log entries, 20,000 coverages,
50,000 authorizations (issue 15; their uses come with them).
Rows are written with plain SQL (the schema comes from carecoord's own migrations), relative to
today so that agendas and reports have work to show; the same size and seed give the same data.
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from carecoord.db import ensure_current
from carecoord.services.audit import os_user
from carecoord.vocab import ATTENDED_APPOINTMENT_TYPES

SIZES = {
    "caseload": {
        "patients": 200,
        "tasks": 2_000,
        "appointments": 3_000,
        "log": 5_000,
        "coverages": 400,
        "authorizations": 1_000,
    },
    "agency": {
        "patients": 10_000,
        "tasks": 200_000,
        "appointments": 200_000,
        "log": 500_000,
        "coverages": 20_000,
        "authorizations": 50_000,
    },
}
ZONE = ZoneInfo("America/New_York")
FIRST = (
    "Ann",
    "Bob",
    "Chloé",
    "Dmitri",
    "Eve",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "José",
    "Kwame",
    "Lena",
    "María",
    "Ngozi",
    "Omar",
    "Priya",
    "Quinn",
    "Ravi",
    "Siobhán",
    "Tomás",
    "Wei",
    "Yuki",
    "Zoë",
)
LAST = (
    "Smith",
    "Lee",
    "Patel",
    "Kim",
    "García",
    "Nguyen",
    "Brown",
    "Haddad",
    "Okafor",
    "Silva",
    "Müller",
    "O'Connor",
    "Ivanova",
    "Tanaka",
    "Dubois",
    "Ali",
    "Schmidt",
    "Rahman",
    "Kowalski",
    "Chen",
)
PAYERS = ("Medicare", "Medicaid", "Aetna Medicare Advantage", "Humana", "UnitedHealthcare", "BCBS")
TASKS = (
    "Call pharmacy about refills",
    "Fax PCP the care plan",
    "Arrange transport",
    "Check BP log",
    "Medicaid renewal paperwork",
    "Follow up on lab results",
    "Weekly weight check call",
    "Book cardiology",
)
KINDS = ("home-visit", "phone", "telehealth", "office", "pcp", "specialist")
STAMP = "2026-01-01 12:00:00.000000"


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128)))


def _utc(day: date, hour: int, minute: int) -> str:
    moment = datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.000000")


def generate(path: Path, size: str, seed: int = 20261125, today: date | None = None) -> dict[str, int]:
    """Write the database; returns the row counts."""
    counts = SIZES[size]
    rng = random.Random(seed)
    today = today or date.today()
    if path.exists():
        path.unlink()
    ensure_current(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    patients = []
    coordinator = os_user()  # one person's file: every patient is theirs
    for n in range(1, counts["patients"] + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        status = "discharged" if n % 10 == 0 else "active"
        patients.append(
            (
                _uid(rng),
                STAMP,
                STAMP,
                n,
                name,
                name.casefold(),
                date(1930 + n % 60, 1 + n % 12, 1 + n % 28).isoformat(),
                f"MRN-{n:06d}",
                f"(555) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                rng.choice(("low", "moderate", "high", None)),
                status,
                (today - timedelta(days=rng.randint(30, 1500))).isoformat(),
                (today - timedelta(days=rng.randint(1, 29))).isoformat() if status == "discharged" else None,
                rng.choice(("chf", "copd,diabetes", "", "fall-risk")),
                "interpreter needed" if n % 7 == 0 else None,
                coordinator,
            )
        )
    conn.executemany(
        "INSERT INTO patient (uid, created_at, updated_at, id, name, name_key, birth_date, mrn, phone, risk, "
        "status, enrolled_on, discharged_on, tags, notes, coordinator) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        patients,
    )
    patient_ids = range(1, counts["patients"] + 1)
    conn.executemany(
        "INSERT INTO contact (uid, created_at, updated_at, patient_id, name, role, phone, consent_to_share) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                _uid(rng),
                STAMP,
                STAMP,
                p,
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                rng.choice(("daughter", "son", "PCP")),
                "555-0100",
                p % 2,
            )
            for p in patient_ids
        ],
    )
    plans = [
        (
            _uid(rng),
            STAMP,
            STAMP,
            p,
            p,
            "Care plan",
            "active",
            "",
            (today - timedelta(days=90)).isoformat(),
            (today + timedelta(days=rng.randint(-20, 90))).isoformat(),
            90,
        )
        for p in patient_ids
    ]
    conn.executemany(
        "INSERT INTO care_plan (uid, created_at, updated_at, id, patient_id, title, status, needs, start_on, "
        "next_review, review_every_days) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        plans,
    )
    conn.executemany(
        "INSERT INTO goal (uid, created_at, updated_at, plan_id, patient_id, description, lifecycle_status, target_on) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                _uid(rng),
                STAMP,
                STAMP,
                p,
                p,
                "Stay out of hospital",
                "active",
                (today + timedelta(days=rng.randint(-10, 120))).isoformat(),
            )
            for p in patient_ids
        ],
    )
    tasks = []
    for _ in range(counts["tasks"]):
        due = today + timedelta(days=rng.randint(-60, 60))
        done = due < today and rng.random() < 0.7
        tasks.append(
            (
                _uid(rng),
                STAMP,
                STAMP,
                rng.choice(patient_ids),
                rng.choice(TASKS),
                "completed" if done else rng.choice(("requested", "requested", "in-progress", "on-hold")),
                rng.choice(("routine", "routine", "urgent", "asap", "stat")),
                due.isoformat(),
                _utc(due, 16, 0) if done else None,
                "",
            )
        )
    conn.executemany(
        "INSERT INTO task (uid, created_at, updated_at, patient_id, title, status, priority, due_on, completed_at, tags) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        tasks,
    )
    appointments = []
    for n in range(counts["appointments"]):
        day = today + timedelta(days=rng.randint(-365, 365))
        hour, minute = rng.randint(8, 16), rng.choice((0, 15, 30, 45))
        start, end = _utc(day, hour, minute), _utc(day, hour, minute + 14 if minute < 45 else 59)
        series = n % 20 == 0
        status = "fulfilled" if day < today and rng.random() < 0.8 else rng.choice(("booked", "booked", "cancelled"))
        appointments.append(
            (
                _uid(rng),
                STAMP,
                STAMP,
                rng.choice(patient_ids),
                rng.choice(KINDS),
                "booked" if series else status,
                start,
                end,
                "America/New_York",
                "FREQ=WEEKLY;COUNT=12" if series else None,
                _utc(day + timedelta(weeks=11), hour, minute + 14 if minute < 45 else 59) if series else end,
                "Home" if n % 3 == 0 else None,
                30 if n % 4 == 0 else None,
                n % 5,
            )
        )
    conn.executemany(
        "INSERT INTO appointment (uid, created_at, updated_at, patient_id, kind, status, starts_at, ends_at, tz, rrule, "
        "series_ends_at, location, reminder_minutes, sequence, attending) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [(*row, row[4] in ATTENDED_APPOINTMENT_TYPES) for row in appointments],
    )
    entries = []
    for _ in range(counts["log"]):
        day = today - timedelta(days=rng.randint(0, 3 * 365))
        entries.append(
            (
                _uid(rng),
                STAMP,
                STAMP,
                rng.choice(patient_ids),
                _utc(day, rng.randint(8, 17), rng.randint(0, 59)),
                rng.choice(("phone", "phone", "visit", "message")),
                "outbound",
                rng.choice(("reached", "reached", "no-answer", "left-message")),
                rng.choice((0, 5, 10, 15, 20, 30)),
                None,
            )
        )
    conn.executemany(
        "INSERT INTO communication (uid, created_at, updated_at, patient_id, at, channel, direction, outcome, minutes, note) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        entries,
    )
    _insurance(conn, rng, counts, today)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return counts


UNITS = ("visits", "visits", "days", "hours", "items")
SERVICES = ("home health visits", "physical therapy", "home oxygen", "durable medical equipment", "skilled nursing",
            "infusion therapy", "hospital bed", "wound care supplies")  # fmt: skip


def _insurance(conn: sqlite3.Connection, rng: random.Random, counts: dict[str, int], today: date) -> None:
    """Coverage (two per patient: a current primary, and a secondary or an earlier primary that ended;
    about 1 in 40 ends within 30 days) and authorizations over the past two years (most ended, about
    half with units and their uses, a few requested and waiting): issue 15."""
    patients = counts["patients"]
    coverages = []
    for n in range(1, counts["coverages"] + 1):
        patient = (n - 1) // 2 + 1
        primary = n % 2 == 1
        ending = rng.random() < 0.025
        end = (today + timedelta(days=rng.randint(0, 30))) if ending else None
        if not primary and rng.random() < 0.5:  # an earlier primary that ended
            order, end = "primary", today - timedelta(days=rng.randint(60, 700))
        else:
            order = "primary" if primary else "secondary"
        coverages.append((_uid(rng), STAMP, STAMP, n, patient, rng.choice(PAYERS), f"M{n:08d}", order, "active",
                          (today - timedelta(days=rng.randint(100, 2000))).isoformat(),
                          end.isoformat() if end else None))  # fmt: skip
    conn.executemany(
        'INSERT INTO coverage (uid, created_at, updated_at, id, patient_id, payer, member_id, "order", status, '
        "start_on, end_on) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        coverages,
    )
    authorizations, uses = [], []
    for n in range(1, counts["authorizations"] + 1):
        patient = rng.randint(1, patients)
        start = today - timedelta(days=rng.randint(0, 730))
        end = start + timedelta(days=rng.choice((30, 60, 90, 180)))
        status = rng.choices(("approved", "requested", "denied", "expired", "cancelled"), (70, 5, 10, 10, 5))[0]
        requested = start - timedelta(days=rng.randint(1, 14))
        if status == "requested":
            requested = today - timedelta(days=rng.randint(0, 20))
        units = rng.randint(4, 24) if rng.random() < 0.5 else None
        authorizations.append((_uid(rng), STAMP, STAMP, n, patient, 2 * patient - 1, rng.choice(SERVICES),
                               f"PA-{n:07d}", status, requested.isoformat(),
                               None if status == "requested" else (requested + timedelta(days=3)).isoformat(),
                               start.isoformat(), end.isoformat(), units,
                               rng.choice(UNITS) if units else None))  # fmt: skip
        if units and status == "approved":
            for k in range(rng.randint(0, units)):
                day = min(start + timedelta(days=k * 3), today)
                uses.append((_uid(rng), STAMP, STAMP, n, day.isoformat(), 1))
    conn.executemany(
        "INSERT INTO prior_authorization (uid, created_at, updated_at, id, patient_id, coverage_id, service, number, "
        "status, requested_on, decided_on, start_on, end_on, units_approved, unit) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        authorizations,
    )
    conn.executemany(
        "INSERT INTO authorization_use (uid, created_at, updated_at, authorization_id, used_on, units) "
        "VALUES (?,?,?,?,?,?)",
        uses,
    )


def patients_csv(path: Path, rows: int, seed: int = 7) -> Path:
    """A spreadsheet of ``rows`` new patients, shaped like the shared sample."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["Patient Name", "Date of Birth", "MRN #", "Phone", "Insurance", "Risk Level", "Notes"])
        for n in range(rows):
            writer.writerow(
                [
                    f"{rng.choice(LAST)}, {rng.choice(FIRST)}",
                    f"{1 + n % 12:02d}/{1 + n % 28:02d}/19{40 + n % 50}",
                    f"IMP-{n:06d}",
                    "(555) 100-2000",
                    rng.choice(PAYERS),
                    rng.choice(("High", "med", "LOW", "")),
                    "lives alone" if n % 3 else "",
                ]
            )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="caseload")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    counts = generate(args.out, args.size, args.seed)
    print(f"Wrote {args.out}: " + ", ".join(f"{n:,} {what}" for what, n in counts.items()))


if __name__ == "__main__":
    main()
