"""Build a deterministic carecoord database at the sizes DESIGN.md names, for benchmarks.

    python benchmarks/generate.py --size caseload --out /tmp/caseload.db
    python benchmarks/generate.py --size agency --out /tmp/agency.db

caseload: 200 patients, 2,000 tasks, 3,000 appointments, 5,000 log entries, 1,000 screenings, 200
resources, 1,000 referrals, 400 coverages, 1,000 authorizations.
agency: 10,000 patients, 200,000 tasks, 200,000 appointments, 500,000 log entries, 50,000 screenings,
5,000 resources, 100,000 referrals, 20,000 coverages, 50,000 authorizations (their uses come with them).
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
        "screenings": 1_000,
        "resources": 200,
        "referrals": 1_000,
        "coverages": 400,
        "authorizations": 1_000,
    },
    "agency": {
        "patients": 10_000,
        "tasks": 200_000,
        "appointments": 200_000,
        "log": 500_000,
        "screenings": 50_000,
        "resources": 5_000,
        "referrals": 100_000,
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


COORDINATOR_CASELOAD = 200  # DESIGN.md: a coordinator's caseload is 30 to 200 patients


def coordinator_of(patient_id: int) -> str:
    """Whose patient this is: the first 200 are the person running the benchmark's (the whole
    caseload-size store); at agency size the others belong to 49 colleagues, coord02 to coord50, so
    ``--mine`` shows one coordinator's day in the agency's store."""
    team = (patient_id - 1) // COORDINATOR_CASELOAD
    return os_user() if team == 0 else f"coord{team + 1:02d}"


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
                f"+1555{rng.randint(200, 999)}{rng.randint(1000, 9999)}",  # E.164, as stored (issue 15)
                rng.choice(("low", "moderate", "high", None)),
                status,
                (today - timedelta(days=rng.randint(30, 1500))).isoformat(),
                (today - timedelta(days=rng.randint(1, 29))).isoformat() if status == "discharged" else None,
                rng.choice(("chf", "copd,diabetes", "", "fall-risk")),
                "interpreter needed" if n % 7 == 0 else None,
                coordinator_of(n),
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
                "+15550100",
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
    # Program enrolments with consent (issue 15): half the patients in CCM, a tenth each in CHI, PIN
    # and APCM, the rest in none; a log entry's minutes count toward the patient's time-based program.
    by_patient = {p: ("ccm", "ccm", "ccm", "ccm", "ccm", "chi", "pin", "apcm", None, None)[p % 10] for p in patient_ids}
    conn.executemany(
        "INSERT INTO program_enrolment (uid, created_at, updated_at, patient_id, program, consent, enrolled_on, "
        "consent_by, chronic_conditions, qmb) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            (_uid(rng), STAMP, STAMP, p, program, rng.choice(("verbal", "written")),
             (today - timedelta(days=rng.randint(10, 900))).isoformat(), "Benchmark RN",
             2 if program == "apcm" else None, bool(p % 2) if program == "apcm" else None)
            for p, program in by_patient.items() if program
        ],
    )  # fmt: skip
    entries = []
    for _ in range(counts["log"]):
        day = today - timedelta(days=rng.randint(0, 3 * 365))
        patient = rng.choice(patient_ids)
        program = by_patient[patient]
        entries.append(
            (
                _uid(rng),
                STAMP,
                STAMP,
                patient,
                _utc(day, rng.randint(8, 17), rng.randint(0, 59)),
                rng.choice(("phone", "phone", "visit", "message")),
                "outbound",
                rng.choice(("reached", "reached", "no-answer", "left-message")),
                rng.choice((0, 5, 10, 15, 20, 30)),
                None,
                program,
            )
        )
    conn.executemany(
        "INSERT INTO communication (uid, created_at, updated_at, patient_id, at, channel, direction, outcome, minutes, note, "
        "program) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        entries,
    )
    _screenings(conn, rng, counts["screenings"], patient_ids, today)
    _resources_and_referrals(conn, counts, seed, today)
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
    current_start = today
    for n in range(1, counts["coverages"] + 1):
        patient = (n - 1) // 2 + 1
        primary = n % 2 == 1
        ending = rng.random() < 0.025
        end = (today + timedelta(days=rng.randint(0, 30))) if ending else None
        start = today - timedelta(days=rng.randint(100, 2000))
        if primary:
            current_start = start
        if not primary and rng.random() < 0.5:  # an earlier primary, ended before the current one began
            order, end = "primary", current_start - timedelta(days=1)
            start = end - timedelta(days=rng.randint(60, 700))
        else:
            order = "primary" if primary else "secondary"
        coverages.append((_uid(rng), STAMP, STAMP, n, patient, rng.choice(PAYERS), f"M{n:08d}", order, "active",
                          start.isoformat(), end.isoformat() if end else None))  # fmt: skip
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


# Screenings (issue 13): the instruments a caseload is given, most often first. Answers lean to the
# low codes, as in a primary-care population; a safety flag gets its stat task (open in the last week).
SCREENED = ("phq9", "phq9", "phq2", "phq2", "gad7", "ahc-hrsn", "ahc-hrsn", "steadi", "hvs", "gad2")


def _screenings(conn: sqlite3.Connection, rng: random.Random, count: int, patient_ids: range, today: date) -> None:
    from carecoord.services import instruments

    shipped = instruments.builtins()
    next_task = (conn.execute("SELECT max(id) FROM task").fetchone()[0] or 0) + 1
    screenings, answers, tasks = [], [], []
    for n in range(1, count + 1):
        given = shipped[rng.choice(SCREENED)]
        chosen = []
        flagged = {str(c["item"]): {str(a) for a in c.get("answers", ())} for d in given.domains
                   for c in d.when.get("any_of", ())}  # fmt: skip
        for item in given.items:
            if all(o.score is not None for o in item.options):  # scored: low scores most often
                ranked = sorted(item.options, key=lambda o: o.score or 0)
                option = rng.choices(ranked, weights=[8, 3, 2, 1, 1][: len(ranked)] + [1] * (len(ranked) - 5))[0]
            else:  # a social-need question: most people have no need
                calm = [o for o in item.options if o.code not in flagged.get(item.id, set())] or list(item.options)
                option = rng.choice(calm) if rng.random() < 0.8 else rng.choice(item.options)
            if item.loinc == "44260-8":  # PHQ-9 question 9: rarely above 0
                option = item.options[1] if rng.random() < 0.01 else item.options[0]
            chosen.append(instruments.Answer(item, (option.code,)))
        result = instruments.score(given, chosen)
        taken = today - timedelta(days=rng.randint(0, 730))
        task_id = None
        if result.safety:
            task_id, next_task = next_task, next_task + 1
            recent = (today - taken).days < 7
            tasks.append((_uid(rng), STAMP, STAMP, task_id, rng.choice(patient_ids), "Safety follow-up",
                          "requested" if recent else "completed", "stat", taken.isoformat(),
                          None if recent else _utc(taken, 17, 0), ""))  # fmt: skip
        patient = tasks[-1][4] if task_id else rng.choice(patient_ids)
        screenings.append((_uid(rng), STAMP, STAMP, n, patient, given.key, given.version, given.loinc,
                           taken.isoformat(), rng.choice(("self", "coordinator", "proxy")), result.score,
                           instruments.band_code(result), result.positive, ",".join(result.domain_codes),
                           result.safety, task_id))  # fmt: skip
        answers += [(n, position, a.item.id, a.item.loinc, a.code, a.options[0].loinc, a.score)
                    for position, a in enumerate(chosen, 1)]  # fmt: skip
    conn.executemany(
        "INSERT INTO task (uid, created_at, updated_at, id, patient_id, title, status, priority, due_on, completed_at, "
        "tags) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        tasks,
    )
    conn.executemany(
        "INSERT INTO screening (uid, created_at, updated_at, id, patient_id, instrument, instrument_version, loinc, "
        "taken_on, answered_by, score, band, positive, positive_domains, safety_flag, safety_task_id) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        screenings,
    )
    conn.executemany(
        "INSERT INTO screening_answer (screening_id, position, item_id, loinc, answer, answer_loinc, score) "
        "VALUES (?,?,?,?,?,?,?)",
        answers,
    )


# --- community resources and referrals (issue 14) ---------------------------------------------------

CATEGORIES = ("food-insecurity", "housing-instability", "transportation-insecurity", "utility-insecurity",
              "social-connection", "financial-insecurity", "home-health", "behavioral-health", "specialist")  # fmt: skip
REFERRAL_STEPS = (("draft",), ("sent",), ("sent", "received"), ("sent", "accepted"), ("sent", "accepted", "completed"),
                  ("sent", "accepted", "completed", "closed"), ("sent", "failed", "closed"), ("cancelled",))  # fmt: skip


def _resources_and_referrals(conn: sqlite3.Connection, counts: dict[str, int], seed: int, today: date) -> None:
    """The directory and referrals over the last year at every stage, each with its history (a row
    per step). Drawn from their own random stream, so the other tables stay as they were."""
    rng = random.Random(seed + 14)
    resources = []
    for n in range(1, counts["resources"] + 1):
        category = CATEGORIES[n % len(CATEGORIES)]
        resources.append((_uid(rng), STAMP, STAMP, n, f"{rng.choice(LAST)} {category.split('-')[0].title()} Program {n}",
                          category, f"{rng.choice(LAST)} Community Services", f"(555) 3{n % 100:02d}-{n % 10000:04d}",
                          "Mon-Fri 9:00-17:00", rng.choice(("English", "English, Spanish", "English, Vietnamese")),
                          "active" if n % 50 else "retired", f"hsds-{n:06d}"))  # fmt: skip
    conn.executemany(
        "INSERT INTO resource (uid, created_at, updated_at, id, name, category, organization, phone, hours, languages, "
        "status, hsds_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        resources,
    )
    referrals, events = [], []
    me = os_user()
    for n in range(1, counts["referrals"] + 1):
        resource = resources[rng.randrange(len(resources))]
        made = today - timedelta(days=rng.randint(0, 365))
        # as in a caseload that closes its loops: most referrals older than six weeks are finished
        finished = [s for s in REFERRAL_STEPS if s[-1] in ("closed", "cancelled")]
        steps = rng.choice(finished if (today - made).days > 42 and rng.random() < 0.9 else REFERRAL_STEPS)
        day, history = made, [(made, "created", None, "draft")]
        status = "draft"
        for step in steps:
            day = min(day + timedelta(days=rng.randint(1, 12)), today)
            history.append((day, "status", status, step))
            status = step
        sent = next((d for d, _, _, to in history if to == "sent"), None)
        closed = day if status in ("closed", "cancelled") else None
        outcome = (
            rng.choice(("got-help", "got-help", "partly-helped", "could-not-contact")) if status == "closed" else None
        )
        changed = _utc(history[-1][0], 11, 0)
        need = resource[5] if resource[5] not in ("home-health", "behavioral-health", "specialist") else None
        referrals.append((_uid(rng), _utc(made, 10, 0), changed, n, rng.randint(1, counts["patients"]), resource[3],
                          resource[4], "community", need, "routine", status, outcome,
                          "verbal" if sent else None, sent.isoformat() if sent else None,
                          closed.isoformat() if closed else None, changed, 3))  # fmt: skip
        events += [(_uid(rng), STAMP, STAMP, n, _utc(on, 11, 0), on.isoformat(), action, old, new, me)
                   for on, action, old, new in history]  # fmt: skip
    conn.executemany(
        "INSERT INTO referral (uid, created_at, updated_at, id, patient_id, resource_id, recipient, kind, need, "
        "priority, status, outcome, consent_method, sent_on, closed_on, changed_at, follow_up_days) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        referrals,
    )
    conn.executemany(
        "INSERT INTO referral_event (uid, created_at, updated_at, referral_id, at, happened_on, action, from_status, "
        "to_status, recorded_by) VALUES (?,?,?,?,?,?,?,?,?,?)",
        events,
    )


def hsds_folder(path: Path, services: int, seed: int = 14) -> Path:
    """An Open Referral HSDS 3.0 CSV folder of ``services`` services (one organization per five), each at
    a location with an address, a phone, two languages, a weekly schedule and a taxonomy term."""
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    terms = [("t-food", "BD-1800", "Food Pantries"), ("t-rent", "BH-3800", "Rent Assistance"),
             ("t-ride", "BT-4500", "Medical Appointment Transportation"), ("t-home", "LR-3200", "Home Health Care")]  # fmt: skip
    tables: dict[str, tuple[list[str], list[list[str]]]] = {
        "organizations": (["id", "name", "description", "email", "website"], []),
        "services": (
            [
                "id",
                "organization_id",
                "name",
                "description",
                "status",
                "fees_description",
                "eligibility_description",
                "last_modified",
            ],
            [],
        ),
        "locations": (["id", "location_type", "organization_id", "name"], []),
        "addresses": (
            ["id", "location_id", "address_1", "city", "state_province", "postal_code", "country", "address_type"],
            [],
        ),
        "service_at_location": (["id", "service_id", "location_id"], []),
        "phones": (["id", "service_id", "number", "type"], []),
        "languages": (["id", "service_id", "name", "code"], []),
        "schedules": (["id", "service_id", "freq", "interval", "byday", "opens_at", "closes_at"], []),
        "attributes": (["id", "link_id", "taxonomy_term_id", "link_entity"], []),
        "taxonomy_terms": (["id", "code", "name"], [[i, code, name] for i, code, name in terms]),
    }
    for n in range(services):
        org, service, location = f"o-{n // 5}", f"s-{n}", f"l-{n}"
        if n % 5 == 0:
            tables["organizations"][1].append([org, f"{rng.choice(LAST)} Community Services {n // 5}",
                                               "Serves the county.", "", ""])  # fmt: skip
        tables["services"][1].append([service, org, f"Program {n}", "A service.", "active", "Free",
                                      "County residents", "2026-10-01T00:00:00Z"])  # fmt: skip
        tables["locations"][1].append([location, "physical", org, f"Site {n}"])
        tables["addresses"][1].append([f"a-{n}", location, f"{n} Main St", "Springfield", "IL", "62701", "US",
                                       "physical"])  # fmt: skip
        tables["service_at_location"][1].append([f"sal-{n}", service, location])
        tables["phones"][1].append([f"p-{n}", service, f"(555) 01{n % 10}-{n % 10000:04d}", "voice"])
        tables["languages"][1].extend([[f"la-{n}", service, "English", "en"], [f"lb-{n}", service, "Spanish", "es"]])
        tables["schedules"][1].append([f"h-{n}", service, "WEEKLY", "1", "MO,TU,WE,TH,FR", "09:00", "17:00"])
        tables["attributes"][1].append([f"at-{n}", service, terms[n % len(terms)][0], "service"])
    for name, (header, rows) in tables.items():
        with (path / f"{name}.csv").open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            writer.writerows(rows)
    return path


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


def fhir_bundle(path: Path, patients: int, seed: int = 16) -> Path:
    """A FHIR R4 Bundle (type collection) of ``patients`` new patients as an EHR sends them: each with
    an MRN, a phone, an address and a language, a family contact, a coverage, two upcoming
    appointments and an active condition. Written entry by entry."""
    import json

    rng = random.Random(seed)
    start = datetime.combine(date.today() + timedelta(days=7), time(9, 0), tzinfo=ZONE)
    with path.open("w", encoding="utf-8") as file:
        file.write('{"resourceType":"Bundle","type":"collection","entry":[\n')
        first = True
        for n in range(patients):
            pid = _uid(rng)
            ref = {"reference": f"urn:uuid:{pid}"}
            visit = start + timedelta(days=n % 60, hours=n % 8)
            resources = [
                {"resourceType": "Patient", "id": pid,
                 "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                      "code": "MR"}]}, "system": "urn:oid:2.16.840.1.113883.19.5",
                                 "value": f"FHIR-{n:06d}"}],
                 "name": [{"use": "official", "family": rng.choice(LAST), "given": [rng.choice(FIRST)]}],
                 "birthDate": f"19{40 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                 "telecom": [{"system": "phone", "value": f"555-{100 + n % 900:03d}-{n % 10_000:04d}"}],
                 "address": [{"line": [f"{n} Main St"], "city": "Springfield", "state": "MA", "postalCode": "01103"}],
                 "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47",
                                                             "code": rng.choice(("en-US", "es", "pt", "vi"))}]}}],
                 "contact": [{"relationship": [{"text": "daughter"}], "name": {"text": f"{rng.choice(FIRST)} Kin"},
                              "telecom": [{"system": "phone", "value": "555-0101"}]}]},
                {"resourceType": "Coverage", "id": _uid(rng), "status": "active", "beneficiary": ref,
                 "payor": [{"display": rng.choice(PAYERS)}], "subscriberId": f"M{n:07d}", "order": 1},
                *({"resourceType": "Appointment", "id": _uid(rng), "status": "booked",
                   "start": (visit + timedelta(weeks=k)).isoformat(),
                   "end": (visit + timedelta(weeks=k, minutes=30)).isoformat(),
                   "participant": [{"actor": ref, "status": "accepted"},
                                   {"actor": {"display": "Dr. Osei"}, "status": "accepted"}]} for k in (0, 4)),
                {"resourceType": "Condition", "id": _uid(rng), "subject": ref,
                 "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                "code": "active"}]},
                 "code": {"text": rng.choice(("Hypertension", "Type 2 diabetes", "Heart failure", "COPD"))}},
            ]  # fmt: skip
            for resource in resources:
                entry = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
                file.write(("" if first else ",\n") + json.dumps(entry, ensure_ascii=False))
                first = False
        file.write("\n]}\n")
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
