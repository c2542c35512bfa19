"""Handing a patient over: the demo caseload exported as FHIR and imported into an empty database
compares equal, table by table (ids, timestamps and the coordinator aside, foreign keys followed to
the uid of the row they name); importing the file again changes nothing."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fhir_validation import check_bundle, check_ndjson

# The tables a FHIR export carries, compared after a round trip. fhir-care and fhir-nav: add yours
# on the marked lines.
ROUND_TRIP_TABLES: list[str] = [
    "patient",
    "contact",
    "coverage",
    "appointment",
    "appointment_exception",
    # fhir-care: its tables below this line
    "care_plan",
    "plan_review",
    "goal",
    "task",
    "communication",
    "transition",
    # fhir-care: its tables above this line
    #
    # fhir-nav: its tables below this line
    "screening",
    "referral",
    "prior_authorization",
    "program_enrolment",
    # fhir-nav: its tables above this line
]
IGNORED = {"id", "created_at", "updated_at", "coordinator"}


def _plain(value: Any) -> Any:
    """One form for what either engine returns (SQLite: text and 0/1; PostgreSQL: dates, datetimes, bools)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " ":
        try:
            return datetime.fromisoformat(value).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
        except ValueError:
            return value
    return value


def _foreign_keys(path: Path, table: str) -> dict[str, str]:
    with closing(sqlite3.connect(path)) as conn:
        return {row[3]: row[2] for row in conn.execute(f"PRAGMA foreign_key_list({table})")}


def snapshot(query, foreign_keys: dict[str, dict[str, str]], patient_uids: set[str] | None = None) -> dict[str, list]:
    """Every round-trip table's rows (of the patients whose uids are given), comparable across stores."""
    uids: dict[tuple[str, int], str] = {}
    tables = {table: query(f"SELECT * FROM {table}") for table in ROUND_TRIP_TABLES}
    for table, rows_ in tables.items():
        for row in rows_:
            uids[(table, row["id"])] = row["uid"]
    kept_patients = {row["id"] for row in tables["patient"] if patient_uids is None or row["uid"] in patient_uids}
    found = {}
    for table, rows_ in tables.items():
        keys = foreign_keys[table]
        result = []
        for row in rows_:
            owner = row["id"] if table == "patient" else row.get("patient_id")
            if (owner is not None and owner not in kept_patients) or ("patient_id" in row and owner is None):
                continue  # another patient's, or nobody's (a task with no patient is not exported)
            result.append({
                column: (uids.get((keys[column], value)) if column in keys and value is not None else _plain(value))
                for column, value in row.items() if column not in IGNORED
            })  # fmt: skip
        found[table] = sorted(result, key=lambda r: r["uid"])
    return found


@pytest.fixture
def demo(cli, tmp_path):
    """The demo caseload, in its own SQLite file."""
    path = tmp_path / "demo.db"
    run = cli("demo", "--path", str(path))
    assert run.exit_code == 0, run.stderr
    return path


def sqlite_query(path: Path):
    def query(sql: str) -> list[dict[str, Any]]:
        with closing(sqlite3.connect(path)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute(sql)]

    return query


def round_trip(cli, rows, demo: Path, tmp_path: Path, *patients: str, ndjson: bool = False) -> None:
    target = tmp_path / "handover.json"
    chosen = [arg for name in patients for arg in ("--patient", name)] or ["--all"]
    run = cli("--db", str(demo), "export", "fhir", *chosen, *(["--ndjson"] if ndjson else []), "--out", str(target))
    assert run.exit_code == 0, run.stderr
    data = {"entry": [{"resource": r} for r in check_ndjson(target)]} if ndjson else check_bundle(target)
    imported = cli("import", "fhir", str(target))
    assert imported.exit_code == 0, imported.stderr
    keys = {table: _foreign_keys(demo, table) for table in ROUND_TRIP_TABLES}
    exported = {e["resource"]["id"] for e in data["entry"] if e["resource"]["resourceType"] == "Patient"}
    before = snapshot(sqlite_query(demo), keys, exported)
    after = snapshot(lambda sql: rows(sql), keys)
    for table in ROUND_TRIP_TABLES:
        assert after[table] == before[table], table
    again = cli("import", "fhir", str(target))
    assert again.exit_code == 0, again.stderr
    assert "created" not in again.stdout and "updated" not in again.stdout, again.stdout
    assert snapshot(lambda sql: rows(sql), keys) == after


def test_one_demo_patient_round_trips(cli, rows, demo, tmp_path):
    round_trip(cli, rows, demo, tmp_path, "DEMO-1001")


def test_the_whole_demo_caseload_round_trips(cli, rows, demo, tmp_path):
    round_trip(cli, rows, demo, tmp_path)


def test_ndjson_round_trips_too(cli, rows, demo, tmp_path):
    round_trip(cli, rows, demo, tmp_path, "DEMO-1002", "DEMO-1004", ndjson=True)


def test_the_bundle_is_valid_and_holds_each_kind_of_record(cli, demo, tmp_path):
    target = tmp_path / "all.json"
    assert cli("--db", str(demo), "export", "fhir", "--all", "--out", str(target)).exit_code == 0
    data = check_bundle(target)
    kinds = {e["resource"]["resourceType"] for e in data["entry"]}
    assert {"Patient", "RelatedPerson", "CareTeam", "Coverage", "Appointment"} <= kinds
    assert json.loads(target.read_text())["type"] == "collection"
