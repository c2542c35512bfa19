"""``carecoord agenda``: the front door: the day's appointments, tasks, reviews and targets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from carecoord.commands._common import CoordinatorOption, MineOption, command_app, date_help
from carecoord.commands._disclosure import PurposeOption, ToOption
from carecoord.vocab import OutputFormat

AGENDA_CSV_KEYS = ("date", "kind", "time", "id", "patient", "summary", "status", "overdue", "patient_id", "phone")


app = command_app()


@app.command("agenda")
def show_agenda(
    day: Annotated[
        str | None, typer.Argument(help=date_help("First day (default today), e.g. tomorrow or mon.", past=False))
    ] = None,
    days: Annotated[int, typer.Option("--days", "-n", min=1, max=366, help="How many days.")] = 1,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table (on screen), markdown to print or mail, json or csv for scripts."),
    ] = OutputFormat.table,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", help="Write to this file (atomically) instead of the screen; recorded as a disclosure."
        ),
    ] = None,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    to: ToOption = None,
    purpose: PurposeOption = None,
) -> None:
    """Your day: appointments, tasks due and overdue, plan reviews due and goal targets reached.

    Items overdue before the first day are listed on the first day, with open screening safety flags;
    patients due for rescreening are listed on the day they fall due (never screened: the first day).
    With --mine or --coordinator, only that coordinator's patients (and no tasks without a patient).
    An agenda written to a file is recorded in the account of disclosures, with its patients, --to
    and --purpose ('carecoord audit disclosures').

    Example: carecoord agenda tomorrow --format markdown --out ~/agenda/tomorrow.md
    """
    from carecoord.commands._common import optional_date, whose
    from carecoord.commands._disclosure import disclosed, export_store, patient_ids_in, write_disclosed
    from carecoord.dates import today
    from carecoord.documents import agenda_markdown
    from carecoord.output import document_text
    from carecoord.records import agenda_record
    from carecoord.services import agenda
    from carecoord.vocab import DisclosureKind

    first = optional_date(day, past=False) or today()
    disclose = disclosed(out, to, purpose)
    with export_store(disclose) as session:
        record = agenda_record(agenda.build(session, first, days, coordinator=whose(session, mine, coordinator)))
        if out is not None and disclose:
            text = document_text(record, fmt, markdown=agenda_markdown, rows=_flat_rows, keys=AGENDA_CSV_KEYS)
            what = f"agenda from {first.isoformat()}, {days} day{'s' if days > 1 else ''} ({fmt.value}): " + (
                "appointments, tasks, reviews and follow-ups with patients' names and phones"
            )
            write_disclosed(session, out, text.encode("utf-8"), DisclosureKind.agenda, patient_ids_in(record),
                            recipient=to, purpose=purpose, description=what)  # fmt: skip
            return
    print_agenda(record, fmt, out)


def print_agenda(record: dict[str, object], fmt: OutputFormat, out: str | None = None) -> None:
    """Show the agenda on screen, or write it as Markdown, JSON or CSV to stdout or a file."""
    from carecoord.documents import agenda_markdown
    from carecoord.output import render_document

    render_document(record, fmt, markdown=agenda_markdown, rows=_flat_rows, keys=AGENDA_CSV_KEYS, out=out)


def _flat_rows(record: Mapping[str, Any]) -> list[tuple[object, ...]]:
    """One CSV row per agenda item, its values in the order of AGENDA_CSV_KEYS."""
    rows: list[tuple[object, ...]] = []
    for day in record["days"]:
        date = day["date"].isoformat()
        for a in day["appointments"]:
            rows.append((date, "appointment", f"{a['start']:%H:%M}", a["id"], a["patient_name"], a["type"],
                         a["status"], False, a["patient_id"], ""))  # fmt: skip
        for t in day["tasks"]:
            rows.append((date, "task", t["due_time"] or "", t["id"], t["patient_name"] or "", t["title"], t["status"],
                         t["overdue"], t["patient_id"] or "", ""))  # fmt: skip
        for p in day["reviews"]:
            rows.append((date, "review", "", p["id"], p["patient_name"], p["title"], p["status"], p["review_due"],
                         p["patient_id"], ""))  # fmt: skip
        for c in day["contacts_due"]:
            overdue = c["due_on"] is None or c["due_on"].isoformat() < date
            rows.append((date, "contact due", "", c["patient_id"], c["patient_name"], "no successful contact", "",
                         overdue, c["patient_id"], c["phone"] or ""))  # fmt: skip
        for t in day["transition_deadlines"]:
            rows.append((date, f"tcm {t['deadline']}", "", t["id"], t["patient_name"], t["facility"],
                         t[f"{t['deadline']}_state"], t[f"{t['deadline']}_state"] == "missed",
                         t["patient_id"], ""))  # fmt: skip
        for r in day.get("stalled_referrals", ()):
            rows.append((date, "stalled referral", "", r["id"], r["patient_name"], f"referral to {r['recipient']}",
                         r["status"], True, r["patient_id"], ""))  # fmt: skip
        for g in day["goals"]:
            rows.append((date, "goal", "", g["id"], g["patient_name"], g["description"], g["lifecycle_status"],
                         g["target_on"].isoformat() < date, g["patient_id"], ""))  # fmt: skip
        for f in day.get("safety_flags", []):
            rows.append((date, "safety flag", "", f["id"], f["patient_name"], f"{f['instrument']} on {f['taken_on']}",
                         "open", True, f["patient_id"], f["phone"] or ""))  # fmt: skip
        for s in day.get("screenings_due", []):
            overdue = s["due_on"] is None or s["due_on"].isoformat() < date
            rows.append((date, "screening due", "", s["patient_id"], s["patient_name"], s["instrument"],
                         "never screened" if s["last_on"] is None else f"last {s['last_on']}", overdue,
                         s["patient_id"], s["phone"] or ""))  # fmt: skip
        for a in day.get("authorizations", []):  # issue 15
            rows.append((date, "authorization", "", a["id"], a["patient_name"],
                         f"{a['service']}: {', '.join(a['reasons'])}", a["status"],
                         a["end_on"] is not None and a["end_on"].isoformat() < date, a["patient_id"], ""))  # fmt: skip
        for c in day.get("coverage_ending", []):
            rows.append((date, "coverage ending", "", c["id"], c["patient_name"],
                         f"{c['payer'] or 'payer not recorded'} ({c['order']}) ends {c['end_on']}", c["status"],
                         False, c["patient_id"], c["phone"] or ""))  # fmt: skip
    return rows
