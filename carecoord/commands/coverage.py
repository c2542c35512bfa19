"""``carecoord coverage``: a patient's insurance coverage (FHIR Coverage): add, list, edit, end."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.commands._common import (
    CoordinatorOption,
    FormatOption,
    MineOption,
    date_help,
    new_app,
    optional_date,
    store,
)
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import COVERAGE
from carecoord.output import Column, confirm_change, period, render_list
from carecoord.vocab import OutputFormat

app = new_app(
    "Insurance coverage: payers, plans, member ids, order of benefits.\n\n"
    "Example: carecoord coverage add jane --payer Medicare --member-id 1EG4-TE5-MK72 --type medicare"
)

CoverageArg = Annotated[str, typer.Argument(metavar="COVERAGE", help="Coverage id (see 'carecoord coverage list').")]


COVERAGE_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("payer", "Payer", min_width=10),
    Column("order", "Order", no_wrap=True),
    Column("type", "Type"),
    Column("member_id", "Member id"),
    Column("period", "Period", show=period),
    Column("current", "Current", show=lambda r: "yes" if r["current"] else (r["status"] if r["status"] != "active"
                                                                             else "no")),
)  # fmt: skip
COVERAGE_FIELDS = shown_columns(COVERAGE)


@app.command("add")
@field_options(COVERAGE, edit=False, skip=("status",))
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    fields: FieldValues = FIELDS,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a coverage for a patient (primary unless --order says otherwise). Two active coverages in the
    same order of benefits may not run at once: end the old one first ('carecoord coverage end').

    Example: carecoord coverage add jane --payer Aetna --member-id W123456 --type medicare-advantage --start 2026-01-01
    """
    from carecoord.records import coverage_record
    from carecoord.services import coverage, patients

    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        added = coverage.add_coverage(session, owner, fields)
        record = coverage_record(added, owner.name)
    confirm_change(f"Added coverage {coverage.describe(added)} for {patients.describe(owner)}.", record, fmt)


@app.command("list")
def list_(
    patient: Annotated[
        str | None, typer.Argument(help="Only this patient's (id, MRN or part of the name); default everyone's.")
    ] = None,
    current: Annotated[bool, typer.Option("--current", help="Only coverage in force today.")] = False,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List coverage: by patient, what is in force first, in order of benefits.

    Example: carecoord coverage list jane --format json
    """
    from carecoord.commands._common import whose
    from carecoord.records import COVERAGE_KEYS, coverage_record
    from carecoord.services import coverage, patients

    with store(write=False) as session:
        only = patients.resolve(session, patient).id if patient else None
        rows = coverage.list_coverages(
            session, patient_id=only, current_only=current, coordinator=whose(session, mine, coordinator)
        )
        records = [coverage_record(row.coverage, row.patient_name) for row in rows]
    title = f"{'Current coverage' if current else 'Coverage'} ({len(records)})"
    render_list(records, COVERAGE_COLUMNS, fmt, keys=COVERAGE_KEYS, title=title, empty="No coverage recorded.")


@app.command("show")
def show(coverage_ref: CoverageArg, fmt: FormatOption = OutputFormat.table) -> None:
    """One coverage, with the authorizations under it.

    Example: carecoord coverage show 3
    """
    from carecoord.commands.authorizations import AUTHORIZATION_COLUMNS
    from carecoord.output import render_record
    from carecoord.records import COVERAGE_KEYS, authorization_record, coverage_record
    from carecoord.services import authorizations, coverage, patients

    with store(write=False) as session:
        found = coverage.resolve(session, coverage_ref)
        owner = patients.resolve(session, f"#{found.patient_id}")
        record = coverage_record(found, owner.name)
        under = [r for r in authorizations.list_authorizations(session, authorizations.AuthorizationFilter(
            patient_id=found.patient_id)) if r.authorization.coverage_id == found.id]  # fmt: skip
        record["authorizations"] = [authorization_record(r) for r in under]
    sections = (("Authorizations", "authorizations", AUTHORIZATION_COLUMNS),)
    render_record(record, COVERAGE_FIELDS, fmt, keys=COVERAGE_KEYS, title=f"Coverage #{found.id}", sections=sections)


@app.command("edit")
@field_options(COVERAGE, edit=True)
def edit(coverage_ref: CoverageArg, fields: FieldValues = FIELDS, fmt: FormatOption = OutputFormat.table) -> None:
    """Change any field of a coverage; pass an empty value (--group '') to clear one.

    Example: carecoord coverage edit 3 --member-id W654321 --phone '800-555-0199'
    """
    from carecoord.errors import UsageError
    from carecoord.records import coverage_record
    from carecoord.services import coverage, patients

    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord coverage edit --help')")
    with store(write=True) as session:
        found = coverage.update_coverage(session, coverage.resolve(session, coverage_ref), fields)
        owner = patients.resolve(session, f"#{found.patient_id}")
        record = coverage_record(found, owner.name)
    confirm_change(f"Updated coverage {coverage.describe(found)} of {patients.describe(owner)}.", record, fmt)


@app.command("end")
def end(
    coverage_ref: CoverageArg,
    date: Annotated[
        str | None, typer.Option("--date", help=date_help("Its last day (default today).", past=False))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """End a coverage: its last day is today or --date. It stays on record.

    Example: carecoord coverage end 3 --date eom
    """
    from carecoord.records import coverage_record
    from carecoord.services import coverage, patients

    with store(write=True) as session:
        found = coverage.end_coverage(session, coverage.resolve(session, coverage_ref), optional_date(date, past=False))
        owner = patients.resolve(session, f"#{found.patient_id}")
        record = coverage_record(found, owner.name)
    confirm_change(f"Coverage {coverage.describe(found)} of {patients.describe(owner)} ends {found.end_on}.",
                   record, fmt)  # fmt: skip
