"""``carecoord report``: minutes, transitions, contacts, overdue work, the caseload."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord import phones
from carecoord.clinical import CONTACT_DUE_DAYS
from carecoord.commands._common import (
    FormatOption,
    counted,
    date_help,
    new_app,
    store,
)
from carecoord.output import Chart, Column, render_list
from carecoord.vocab import CaseloadBy, OutputFormat

if TYPE_CHECKING:
    from carecoord.services.reports import LongEntry

app = new_app("Reports for the month and the caseload.\n\nExample: carecoord report minutes --month 2026-11")

PatientOpt = Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient.")]


def _next(minutes: int | None) -> str:
    return "max reached" if minutes is None else f"{minutes} min more"


def _last_try(record: Mapping[str, Any]) -> str:
    attempt = record["last_attempt"]
    return f"{attempt:%Y-%m-%d} {record['last_channel']} {record['last_outcome']}" if attempt else "never"


def _navigation(record: Mapping[str, Any]) -> str:
    """CHI, PIN and APCM in one cell: 'CHI G0019 (30 min more)', 'APCM G0557'; blank when none."""
    parts = []
    for key, label in (("chi", "CHI"), ("pin", "PIN")):
        if record[f"{key}_minutes"]:
            parts.append(f"{label} {record[f'{key}_codes'] or '-'} ({_next(record[f'{key}_minutes_to_next'])})")
    if "apcm" in record["programs"]:
        parts.append(f"APCM {record['apcm_code'] or '?'}")
    return "; ".join(parts)


MINUTES_COLUMNS = (
    Column("patient_id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=12),
    Column("minutes", "Min", no_wrap=True),
    Column("ccm_codes", "CCM", no_wrap=True, show=lambda r: r["ccm_codes"] or "-"),
    Column("ccm_next", "Next CCM", show=lambda r: _next(r["ccm_minutes_to_next"])),
    Column("complex_ccm_codes", "Complex", no_wrap=True, show=lambda r: r["complex_ccm_codes"] or "-"),
    Column("complex_next", "Next complex", show=lambda r: _next(r["complex_ccm_minutes_to_next"])),
    Column("navigation", "CHI / PIN / APCM", show=_navigation),
    Column(
        "consent",
        "Consent",
        show=lambda r: f"NONE for {', '.join(r['consent_missing'])}" if r["consent_missing"] else "",
    ),
)


def _consent_note(records: Sequence[Mapping[str, Any]]) -> str | None:
    """The patients with minutes counted toward a program and no consent on file: not billable as they are."""
    missing = [f"#{r['patient_id']} {r['patient_name']} ({', '.join(r['consent_missing'])})" for r in records
               if r["consent_missing"]]  # fmt: skip
    if not missing:
        return None
    return (f"No consent on file before the minutes counted toward a program, so they cannot be billed: "
            f"{'; '.join(missing)}. Record consent with: carecoord program enroll PATIENT PROGRAM --consent "
            "verbal|written --date DATE")  # fmt: skip


def _rule_notes(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """What the billing rules leave to the coordinator, one paragraph per patient."""
    return [f"#{r['patient_id']} {r['patient_name']}: {'; '.join(r['notes'])}." for r in records if r["notes"]]


CONTACT_COLUMNS = (
    Column("patient_id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=12),
    Column("phone", "Phone", no_wrap=True, show=phones.shown()),
    Column("risk", "Risk"),
    Column("last_reached", "Last reached", no_wrap=True, show=lambda r: r["last_reached"] or "never"),
    Column("days_since_reached", "Days"),
    Column("last_try", "Last attempt", show=_last_try),
)
OVERDUE_COLUMNS = (
    Column("patient_name", "Patient", min_width=12),
    Column("kind", "What", no_wrap=True),
    Column("id", "ID", no_wrap=True),
    Column("title", "Item", min_width=14),
    Column("due", "Due", no_wrap=True),
    Column("days_overdue", "Days late", no_wrap=True),
)
COUNT_COLUMNS = (Column("measure", "Measure"), Column("value", "Value"))
PeriodEndOption = Annotated[
    str | None, typer.Option("--to", help=date_help("End of the period, inclusive (default: today).", past=True))
]
COORDINATOR_COLUMNS = (
    Column("coordinator", "Coordinator", min_width=12),
    Column("patients", "Active patients", no_wrap=True),
    Column("open_tasks", "Open tasks", no_wrap=True),
    Column("overdue_tasks", "Overdue", no_wrap=True),
    Column("minutes", "Minutes", no_wrap=True),
)


@app.command("minutes")
def minutes(
    month: Annotated[
        str | None, typer.Option("--month", "-m", help="The month, YYYY-MM (default: this month).")
    ] = None,
    patient: PatientOpt = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Care-management and navigation minutes per patient in a calendar month, with the Medicare code
    level each reached, and who has minutes without consent on file.

    A minute counts toward one program (log add --program; default the patient's one enrolled
    time-based program). Chronic care management (99490 at 20 min, 99439 per further 20, at most 2)
    and complex CCM (99487 at 60 min, 99489 per further 30) count the care-management minutes;
    community health integration (G0019 at 60 min, G0022 per further 30), principal illness
    navigation (G0023 at 60, G0024 per further 30; peer support G0140, G0146) their own; APCM
    (G0556-G0558) is monthly by the enrolment's chronic conditions and QMB status. JSON and CSV add
    physician CCM, PCM and PIN peer support.

    Example: carecoord report minutes --month 2026-11 --format csv
    """
    from carecoord.clinical import CCM
    from carecoord.dates import today
    from carecoord.records import minutes_records
    from carecoord.services import patients, reports

    first = reports.parse_month(month) if month else today().replace(day=1)
    with store(write=False) as session:
        only = patients.resolve(session, patient).id if patient else None
        report = reports.minutes_report(session, first, patient_id=only)
    records = minutes_records(report)
    total = sum(r["minutes"] for r in records)
    reached = sum(1 for r in records if r["ccm_units"])
    title = (f"Care-management minutes, {first:%B %Y}: {total} min, {reached} of {counted(len(records), 'patient')} "
             f"at {CCM.base_code} or more, {counted(report.days_left, 'day')} left")  # fmt: skip
    names = {r["patient_id"]: r["patient_name"] for r in records} if report.long_entries else {}
    notes = [_long_entries_note(report.long_entries, names)] if report.long_entries else []
    consent = _consent_note(records)
    notes += ([consent] if consent else []) + _rule_notes(records)
    weeks = [(f"week of {week:%b %d}", value) for week, value in report.weeks.items()]
    render_list(records, MINUTES_COLUMNS, fmt, keys=list(records[0]) if records else None, title=title,
                empty="No patients.", notes=notes, chart=Chart("Minutes per week", weeks, " min"))  # fmt: skip


def _long_entries_note(entries: Sequence[LongEntry], names: dict[int, str]) -> str:
    """The entries over LONG_ENTRY_MINUTES, under the table: a typo there would be billed."""
    from carecoord.clinical import LONG_ENTRY_MINUTES
    from carecoord.dates import local_zone

    # "log entry #3", not "#3": under a table whose ID column is the patient's, a bare #3 reads as patient #3
    listed = ", ".join(
        f"log entry #{e.id} ({names.get(e.patient_id, '?')}, {e.at.astimezone(local_zone()):%Y-%m-%d}, {e.minutes} min)"
        for e in entries
    )
    return (
        f"Over {LONG_ENTRY_MINUTES} min in one entry, check before billing: {listed}. "
        "Correct one with: carecoord log edit ID --minutes N"
    )


@app.command("transitions")
def transitions(
    patient: PatientOpt = None,
    since: Annotated[
        str | None, typer.Option("--since", help=date_help("Discharged on or after (default: 60 days ago).", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Transitions of care and their deadlines: met, late, missed or still open.

    Example: carecoord report transitions --since 2026-11-01
    """
    from carecoord.commands.transitions import show_transitions

    show_transitions(patient, since or "-60d", fmt, "Transitions of care")


@app.command("contacts")
def contacts(
    days: Annotated[
        int, typer.Option("--days", "-d", min=1, max=36500, help="No successful contact in this many days.")
    ] = CONTACT_DUE_DAYS,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Active patients with no successful contact (outcome reached) in N days, with the last attempt.

    Example: carecoord report contacts --days 30
    """
    from carecoord.records import contact_gap_record
    from carecoord.services import reports

    with store(write=False) as session:
        records = [contact_gap_record(gap) for gap in reports.contact_gaps(session, days)]
    keys = ("patient_id", "patient_name", "risk", "phone", "last_reached", "days_since_reached", "last_attempt",
            "last_outcome", "last_channel")  # fmt: skip
    title = f"Not reached in {counted(days, 'day')} ({len(records)})"
    render_list(records, CONTACT_COLUMNS, fmt, keys=keys, title=title, empty="Everyone was reached.")


@app.command("overdue")
def overdue(fmt: FormatOption = OutputFormat.table) -> None:
    """Overdue tasks, plan reviews and goal targets, by patient.

    Example: carecoord report overdue --format markdown
    """
    from carecoord.records import overdue_record
    from carecoord.services import reports

    with store(write=False) as session:
        records = [overdue_record(item) for item in reports.overdue(session)]
    keys = ("patient_id", "patient_name", "kind", "id", "title", "due", "days_overdue")
    render_list(records, OVERDUE_COLUMNS, fmt, keys=keys, title=f"Overdue ({len(records)})", empty="Nothing overdue.")


@app.command("caseload")
def caseload(
    from_: Annotated[
        str | None,
        typer.Option("--from", help=date_help("Start of the period (default: the 1st of this month).", past=True)),
    ] = None,
    to: PeriodEndOption = None,
    by: Annotated[
        CaseloadBy | None,
        typer.Option(
            "--by",
            metavar="FIELD",
            help="Split by: coordinator (one row per coordinator, side by side: active patients, open and "
            "overdue tasks, minutes logged in the period).",
            case_sensitive=False,
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The caseload: active patients by risk and status, enrolments and discharges, open tasks,
    appointments kept, cancelled and missed in a period; or, with --by coordinator, each
    coordinator's caseload side by side (a supervisor sees the whole team).

    Example: carecoord report caseload --from 2026-11-01 --to 2026-11-30
    """
    from carecoord.commands._common import optional_date
    from carecoord.dates import today
    from carecoord.services import reports

    start = optional_date(from_, past=True) or today().replace(day=1)
    end = optional_date(to, past=True) or today()
    if by is CaseloadBy.coordinator:
        _caseload_by_coordinator(start, end, fmt)
        return
    with store(write=False) as session:
        result = reports.caseload(session, start, end)
    record: dict[str, Any] = {
        "from": result.start, "to": result.end,
        "active_by_risk": result.by_risk, "patients_by_status": result.by_status,
        "enrolled": result.enrolled, "discharged": result.discharged,
        "open_tasks": result.open_tasks, "overdue_tasks": result.overdue_tasks,
        "appointments": {
            "kept": result.appointments.get("fulfilled", 0), "cancelled": result.appointments.get("cancelled", 0),
            "missed": result.appointments.get("noshow", 0),
            "booked": sum(n for s, n in result.appointments.items() if s not in ("fulfilled", "cancelled", "noshow")),
        },
    }  # fmt: skip
    rows = [{"measure": f"active, {risk} risk", "value": n} for risk, n in sorted(result.by_risk.items())]
    rows += [{"measure": f"patients {status}", "value": n} for status, n in sorted(result.by_status.items())]
    rows += [{"measure": f"{key.replace('_', ' ')}{' in the period' if key in ('enrolled', 'discharged') else ''}",
              "value": record[key]} for key in ("enrolled", "discharged", "open_tasks", "overdue_tasks")]  # fmt: skip
    rows += [{"measure": f"appointments {k}", "value": v} for k, v in record["appointments"].items()]
    order = {"high": 0, "moderate": 1, "low": 2}
    chart = Chart("Active patients by risk", sorted(result.by_risk.items(), key=lambda kv: order.get(kv[0], 3)))
    render_list(rows, COUNT_COLUMNS, fmt, keys=("measure", "value"), title=f"Caseload, {start} to {end}",
                chart=chart, whole=record)  # fmt: skip


def _caseload_by_coordinator(start: date, end: date, fmt: OutputFormat) -> None:
    from dataclasses import asdict

    from carecoord.services import reports

    with store(write=False) as session:
        records = [asdict(load) for load in reports.caseload_by_coordinator(session, start, end)]
    chart = Chart("Minutes logged by coordinator", [(r["coordinator"], r["minutes"]) for r in records], "min")
    keys = ("coordinator", "patients", "open_tasks", "overdue_tasks", "minutes")
    render_list(records, COORDINATOR_COLUMNS, fmt, keys=keys, title=f"Caseload by coordinator, {start} to {end}",
                empty="No patients.", chart=chart)  # fmt: skip


REPORT_SCREENING_COLUMNS = (
    Column("kind", "What", no_wrap=True),
    Column("name", "Instrument or domain", min_width=14),
    Column("screenings", "Screenings", no_wrap=True),
    Column("positive", "Positive", no_wrap=True),
    Column("positive_rate", "Rate", no_wrap=True, show=lambda r: f"{r['positive_rate']:.1f}%"),
)


@app.command("screenings")
def screenings_report(
    from_: Annotated[
        str | None,
        typer.Option("--from", help=date_help("Start of the period (default: the 1st of this month).", past=True)),
    ] = None,
    to: PeriodEndOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Screenings given in a period: how many per instrument and the share positive, the share positive
    per social-need domain, and every patient with an open safety flag (whenever it was raised).

    Example: carecoord report screenings --from 2026-01-01 --to 2026-06-30 --format csv
    """
    from carecoord.commands._common import optional_date
    from carecoord.dates import today
    from carecoord.screening_records import REPORT_KEYS, report_record
    from carecoord.services import screenings

    start = optional_date(from_, past=True) or today().replace(day=1)
    end = optional_date(to, past=True) or today()
    with store(write=False) as session:
        known = {i.key: i for i in screenings.all_instruments(session)}
        record = report_record(screenings.report(session, start, end), known)
    rows = [{"kind": "instrument", "name": r["instrument"], "screenings": r["screenings"], "positive": r["positive"],
             "positive_rate": r["positive_rate"]} for r in record["instruments"]]  # fmt: skip
    rows += [{"kind": "domain", "name": r["domain"], "screenings": r["screenings"], "positive": r["positive"],
              "positive_rate": r["positive_rate"]} for r in record["domains"]]  # fmt: skip
    flags = record["open_safety_flags"]
    notes = [
        f"Open safety flags ({len(flags)}): "
        + "; ".join(f"{f['patient_name']} (#{f['patient_id']}, {f['instrument']} on {f['taken_on']}, "
                    f"task #{f['safety_task_id']})" for f in flags)
        if flags else "No open safety flags."
    ]  # fmt: skip
    chart = Chart("Positive rate by instrument (%)", [(r["name"], round(r["positive_rate"])) for r in rows
                                                      if r["kind"] == "instrument"], "%")  # fmt: skip
    render_list(rows, REPORT_SCREENING_COLUMNS, fmt, keys=REPORT_KEYS, title=f"Screenings, {start} to {end}",
                empty="No screenings in the period.", notes=notes, chart=chart, whole=record)  # fmt: skip


# --- referrals (issue 14) -------------------------------------------------------------------------

REFERRAL_REPORT_KEYS = ("group", "name", "made", "sent", "closed", "got_help", "loop_closure_rate")
TALLY_COLUMNS = (
    Column("name", "Name", min_width=14),
    Column("made", "Made", no_wrap=True),
    Column("sent", "Sent", no_wrap=True),
    Column("closed", "Closed", no_wrap=True),
    Column("got_help", "Got help", no_wrap=True),
    Column("loop_closure_rate", "Loop closed", no_wrap=True,
           show=lambda r: "-" if r["loop_closure_rate"] is None else f"{r['loop_closure_rate']}%"),
)  # fmt: skip
STALLED_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=12),
    Column("recipient", "To", min_width=12),
    Column("status", "Status", no_wrap=True),
    Column("days_since_change", "Days", no_wrap=True),
)


@app.command("referrals")
def referrals(
    from_: Annotated[
        str | None,
        typer.Option("--from", help=date_help("Start of the period (default: 90 days ago).", past=True)),
    ] = None,
    to: PeriodEndOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Referrals in a period: made, sent, closed; the loop-closure rate (of those sent, the share
    closed with an outcome); the median days from sent to closed; outcomes; by need and by resource;
    and the referrals stalled now (no change for 14 days, or CARECOORD_STALLED_DAYS).

    JSON is one record (totals, outcomes, by_need, by_resource, stalled); CSV one row per group
    (all, need, resource, outcome) with the columns made, sent, closed, got_help, loop_closure_rate.

    Example: carecoord report referrals --from 2026-09-01 --to 2026-11-30 --format markdown
    """
    from dataclasses import asdict
    from datetime import timedelta

    from carecoord.commands._common import optional_date
    from carecoord.dates import today
    from carecoord.records import referral_record
    from carecoord.services import referrals as referral_service
    from carecoord.vocab import category_label

    start = optional_date(from_, past=True) or today() - timedelta(days=90)
    end = optional_date(to, past=True) or today()
    with store(write=False) as session:
        result = referral_service.report(session, start, end)
    stalled = [referral_record(r, p.name, stalled_after=result.stalled_days) for r, p in result.stalled]

    def tally(group: str, t: Any) -> dict[str, Any]:
        return {"group": group, **asdict(t), "loop_closure_rate": t.closure_rate}

    by_need = [tally("need", t) for t in result.by_need]
    by_resource = [tally("resource", t) for t in result.by_resource]
    totals = {"made": result.made, "sent": result.sent, "closed": result.closed_in_period,
              "loop_closed": result.loop_closed, "loop_closure_rate": result.closure_rate,
              "median_days_sent_to_closed": result.median_days_to_close, "stalled": result.stalled_count,
              "stalled_after_days": result.stalled_days}  # fmt: skip
    whole = {"from": start, "to": end, **totals, "outcomes": result.outcomes, "by_need": by_need,
             "by_resource": by_resource, "stalled_referrals": stalled}  # fmt: skip
    all_row = {"group": "all", "name": "all", "made": result.made, "sent": result.sent,
               "closed": result.loop_closed, "got_help": sum(t.got_help for t in result.by_need),
               "loop_closure_rate": result.closure_rate}  # fmt: skip
    outcome_rows = [{"group": "outcome", "name": o, "made": None, "sent": None, "closed": n, "got_help": None,
                     "loop_closure_rate": None} for o, n in result.outcomes.items()]  # fmt: skip
    rate = "no referral was sent" if result.closure_rate is None else f"{result.closure_rate}% loop closed"
    median = ("" if result.median_days_to_close is None
              else f"; median {result.median_days_to_close:g} day{'' if result.median_days_to_close == 1 else 's'} "
              "from sent to closed")  # fmt: skip
    title = (
        f"Referrals, {start} to {end}: {result.made} made, {result.sent} sent, "
        f"{result.closed_in_period} closed; {rate} ({result.loop_closed} of {result.sent} sent){median}"
    )
    sections = [
        (title, [{**all_row, "name": "All referrals"}], TALLY_COLUMNS, ""),
        ("By need", by_need, (Column("name", "Need", min_width=14, show=lambda r: category_label(r["name"])
                                     if r["name"] != "(none)" else "(no need given)"), *TALLY_COLUMNS[1:]),
         "none in the period"),
        ("By resource", by_resource, TALLY_COLUMNS, "none in the period"),
        ("Outcomes of those closed in the period", [{"measure": o, "value": n} for o, n in result.outcomes.items()],
         COUNT_COLUMNS, "none"),
        (f"Stalled now: no change for {counted(result.stalled_days, 'day')} ({result.stalled_count})", stalled,
         STALLED_COLUMNS, "none"),
    ]  # fmt: skip
    from carecoord.output import render_sections

    chart = Chart("Outcomes", [(o, n) for o, n in result.outcomes.items() if n])
    render_sections(sections, fmt, whole=whole, rows=[all_row, *by_need, *by_resource, *outcome_rows],
                    keys=REFERRAL_REPORT_KEYS, chart=chart)  # fmt: skip


# --- issue 15: authorizations and coverage that need a look -----------------------------------------

AUTHORIZATION_REPORT_KEYS = ("kind", "id", "patient_id", "patient_name", "what", "payer", "status", "start_on",
                             "end_on", "units_approved", "units_used", "units_left", "unit", "reasons")  # fmt: skip
AUTHORIZATION_REPORT_COLUMNS = (
    Column("kind", "What", no_wrap=True),
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("what", "Service or payer", min_width=10),
    Column("end_on", "Ends", no_wrap=True),
    Column("left", "Units left", show=lambda r: _units_left(r["units_left"], r["unit"])),
    Column("reasons", "Why", min_width=12),
)


def _units_left(left: int | None, unit: str | None) -> str:
    """``1 visit``, ``3 visits``, ``2 over``."""
    if left is None:
        return ""
    word = unit or "units"
    if abs(left) == 1 and word.endswith("s"):
        word = word[:-1]
    return f"{left} {word}" if left >= 0 else f"{-left} {word} over"


@app.command("authorizations")
def authorizations_report(
    mine: Annotated[bool, typer.Option("--mine", help="Only your patients'.")] = False,
    coordinator: Annotated[
        str | None, typer.Option("--coordinator", metavar="ROLE", help="Only this coordinator's patients'.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Authorizations and coverage that need a look today: approved authorizations ending within 14 days
    or with one unit or fewer left, requests with no decision after 7 days, and coverage ending within 30
    days (what the agenda lists).

    Example: carecoord report authorizations --format csv
    """
    from carecoord.commands._common import whose
    from carecoord.dates import today
    from carecoord.services import authorizations, coverage

    day = today()
    with store(write=False) as session:
        owner = whose(session, mine, coordinator)
        flagged = authorizations.needing_attention(session, day, day, coordinator=owner).rows
        ending = coverage.ending_soon(session, day, day, coordinator=owner)
    records: list[dict[str, Any]] = [
        {"kind": "authorization", "id": a.id, "patient_id": a.patient_id, "patient_name": row.patient_name,
         "what": a.service, "payer": row.payer, "status": a.status, "start_on": a.start_on, "end_on": a.end_on,
         "units_approved": a.units_approved, "units_used": row.units_used, "units_left": row.units_left,
         "unit": a.unit, "reasons": list(row.reasons)}
        for _, row in flagged if (a := row.authorization) is not None
    ]  # fmt: skip
    records += [
        {"kind": "coverage", "id": c.id, "patient_id": c.patient_id, "patient_name": row.patient_name,
         "what": c.payer, "payer": c.payer, "status": c.status, "start_on": c.start_on, "end_on": c.end_on,
         "units_approved": None, "units_used": None, "units_left": None, "unit": None,
         "reasons": [f"coverage ends {c.end_on}"]}
        for row in ending if (c := row.coverage) is not None
    ]  # fmt: skip
    title = f"Authorizations and coverage to look at, {day} ({len(records)})"
    render_list(records, AUTHORIZATION_REPORT_COLUMNS, fmt, keys=AUTHORIZATION_REPORT_KEYS, title=title,
                empty="No authorization or coverage needs a look.")  # fmt: skip
