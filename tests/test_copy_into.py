"""`carecoord db copy --to TARGET` into a store that already holds records: a second coordinator's
caseload into the team store, or a second file into a file. Every copied row gets a new id from the
target and every reference follows it; copying the same caseload twice is refused and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import tests.test_team
from tests import stores
from tests.conftest import assert_one_line_error
from tests.test_copy import TABLES, build_caseload, carecoord, file_tables, ok, resolved, server_tables
from tests.test_team import Team

team = tests.test_team.team  # the fixture: two coordinators and a supervisor, each a login role


def merged(*views: dict[str, list[str]]) -> dict[str, list[str]]:
    return {table: sorted(row for view in views for row in view[table]) for table in TABLES}


def team_tasks(view: dict[str, list[str]]) -> list[str]:
    """The tasks without a patient (the whole team's: every coordinator sees them)."""
    return [row for row in view["task"] if json.loads(row)["patient_id"] is None]


def no_dangling(view: dict[str, list[str]]) -> None:
    """Every reference outside the audit trail and the account of disclosures (which name deleted
    patients on purpose) points to a stored row."""
    for table in TABLES:
        if table not in ("audit_log", "disclosure_patient"):
            assert not any('"gone ' in row for row in view[table]), table


def test_a_second_file_copied_into_a_file_keeps_both_with_every_reference(tmp_path, template_db):
    first = build_caseload(tmp_path / "first" / "carecoord.db", template_db, mrn="48")
    second = build_caseload(tmp_path / "second" / "carecoord.db", template_db, mrn="57")
    before_first, before_second = file_tables(first), file_tables(second)

    run = ok(second, "db", "copy", "--to", str(first), "-f", "json")
    assert json.loads(run.stdout)["counts"] == {table: len(before_second[table]) for table in TABLES}
    after = file_tables(first)
    assert resolved(after) == merged(resolved(before_first), resolved(before_second))
    no_dangling(resolved(after))
    for table in TABLES:  # the copied rows came after the file's own, in their order, with new ids
        kept, added = after[table][: len(before_first[table])], after[table][len(before_first[table]) :]
        assert kept == before_first[table], table
        if not added:  # the team's settings: none in these files
            continue
        assert min(row["id"] for row in added) > max(row["id"] for row in kept), table
        if table not in ("audit_log", "screening_answer", "disclosure", "disclosure_patient"):  # rows with no uid
            assert [row["uid"] for row in added] == [row["uid"] for row in before_second[table]], table
    # Each file's deleted patient keeps an id of its own in the audit trail, which no patient took.
    gone = {
        row["record_id"] for row in after["audit_log"] if row["table_name"] == "patient" and row["action"] == "delete"
    }
    assert len(gone) == 2 and not gone & {row["id"] for row in after["patient"]}
    assert ok(first, "db", "check").exit_code == 0
    names = [p["name"] for p in json.loads(ok(first, "patient", "list", "-f", "json").stdout)]
    assert sorted(names) == sorted(["Jane Doe", "Omar Haddad", "Zoë Ça Va"] * 2)

    dump = stores.sqlite_dump(first)
    assert_one_line_error(carecoord(second, "db", "copy", "--to", str(first)), 1,
                          "already holds Jane Doe (MRN 57213), the same record")  # fmt: skip
    assert stores.sqlite_dump(first) == dump


SHARED_DIRECTORY = "name,category,phone,hsds id\nCounty Food Bank,food-insecurity,555-0150,svc-food-1\n"


def test_the_teams_directory_and_settings_are_merged_not_duplicated(tmp_path, template_db):
    """Both files imported the county's directory and set a rescreening interval: the copy keeps the
    target's (the team's) rows, adds none twice, and the copied referral points at the team's resource."""
    first = build_caseload(tmp_path / "first" / "carecoord.db", template_db, mrn="48")
    second = build_caseload(tmp_path / "second" / "carecoord.db", template_db, mrn="57")
    sheet = tmp_path / "directory.csv"
    sheet.write_text(SHARED_DIRECTORY, encoding="utf-8")
    for path, interval in ((first, "90d"), (second, "30d")):
        ok(path, "import", "resources", str(sheet))
        ok(path, "screen", "cadence", "phq9", interval)
    ok(second, "referral", "add", "omar", "--resource", "county food", "--consent", "verbal")
    before_first, before_second = file_tables(first), file_tables(second)

    counts = json.loads(ok(second, "db", "copy", "--to", str(first), "-f", "json").stdout)["counts"]
    assert counts["resource"] == len(before_second["resource"]) - 1  # the food bank is the team's already
    assert counts["screening_cadence"] == 0
    after = file_tables(first)
    assert [r["hsds_id"] for r in after["resource"]].count("svc-food-1") == 1
    assert [(c["instrument"], c["every_days"]) for c in after["screening_cadence"]] == [("phq9", 90)]
    [bank] = [r for r in after["resource"] if r["hsds_id"] == "svc-food-1"]
    referred = [r for r in after["referral"] if r["resource_id"] == bank["id"]]
    assert len(referred) == 1 and referred[0]["uid"] == before_second["referral"][-1]["uid"]
    no_dangling(resolved(after))
    assert len(after["referral"]) == len(before_first["referral"]) + len(before_second["referral"])
    assert ok(first, "db", "check").exit_code == 0


def as_role(people: Team, role: str | None) -> dict[str, list[dict[str, Any]]]:
    """Every table as ``role`` sees it with plain SQL (the administrator when None), values as SQLite holds them."""
    if role is None:
        return server_tables(people.store.url)
    import psycopg
    from psycopg.rows import dict_row
    from sqlalchemy.engine import make_url

    url = make_url(people.store.url)
    with psycopg.connect(host=url.host, port=url.port, user=role, dbname=url.database) as conn:
        found = {}
        for table in TABLES:
            with conn.cursor(row_factory=dict_row) as cursor:
                cursor.execute(f'SELECT * FROM "{table}" ORDER BY id')  # type: ignore[arg-type]
                found[table] = [{k: stores._as_sqlite_stores(v) for k, v in row.items()} for row in cursor.fetchall()]
    return found


@pytest.mark.postgresql
def test_two_coordinators_copy_their_caseloads_into_the_team_store_and_each_sees_exactly_theirs(
    team: Team, tmp_path: Path, template_db: Path
) -> None:
    ann_file = build_caseload(tmp_path / "ann" / "carecoord.db", template_db, mrn="A1")
    bob_file = build_caseload(tmp_path / "bob" / "carecoord.db", template_db, mrn="B2")
    ann_mine = resolved(file_tables(ann_file), coordinator=team.ann, db_role=team.ann)
    bob_mine = resolved(file_tables(bob_file), coordinator=team.bob, db_role=team.bob)

    for role, file in ((team.ann, ann_file), (team.bob, bob_file)):
        run = carecoord(file, "db", "copy", "--to", team.url(role), "-f", "json")
        assert run.exit_code == 0, run.stderr
        assert json.loads(run.stdout)["counts"] == {table: len(rows) for table, rows in file_tables(file).items()}

    everything = resolved(as_role(team, None))
    assert everything == merged(ann_mine, bob_mine)
    assert resolved(as_role(team, team.sue)) == everything  # the supervisor sees all
    no_dangling(everything)
    for role, mine, theirs in ((team.ann, ann_mine, bob_mine), (team.bob, bob_mine, ann_mine)):
        seen = resolved(as_role(team, role))
        for table in TABLES:
            if table not in ("task", "resource"):
                assert seen[table] == mine[table], (role, table)
        assert seen["resource"] == everything["resource"]  # the directory is the whole team's
        assert seen["task"] == sorted(mine["task"] + team_tasks(theirs))  # the team's tasks are everyone's
        run = team.run(role, "patient", "list", "-f", "json")
        listed = sorted((p["name"], p["mrn"], p["coordinator"]) for p in json.loads(run.stdout))
        prefix = "A1" if role == team.ann else "B2"
        assert listed == [("Jane Doe", f"{prefix}213", role), ("Omar Haddad", f"{prefix}215", role),
                          ("Zoë Ça Va", None, role)]  # fmt: skip
    ids = {role: {row["id"] for row in as_role(team, role)["patient"]} for role in (team.ann, team.bob)}
    assert max(ids[team.ann]) < min(ids[team.bob])  # bob's got new ids from the server

    # The same file again, by its coordinator: refused by name. By the other coordinator, who cannot
    # see those patients: the server's unique constraint refuses it, in one line too. Nothing changes.
    dump = team.store.dump()
    assert_one_line_error(carecoord(ann_file, "db", "copy", "--to", team.url(team.ann)), 1,
                          "already holds Jane Doe (MRN A1213), the same record", "nothing was copied")  # fmt: skip
    assert_one_line_error(carecoord(ann_file, "db", "copy", "--to", team.url(team.bob)), 1,
                          "already holds a patient record with the same ", "cannot see", "nothing was copied")  # fmt: skip
    other = tmp_path / "other" / "carecoord.db"
    other.parent.mkdir()
    ok(other, "patient", "add", "Another Jane", "--mrn", "a1213")
    assert_one_line_error(carecoord(other, "db", "copy", "--to", team.url(team.bob)), 1,
                          "already holds a patient record with the same mrn", "nothing was copied")  # fmt: skip
    assert team.store.dump() == dump
