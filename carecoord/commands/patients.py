"""``carecoord patient``: enrol, list, show, edit, discharge, reactivate, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord import phones
from carecoord.commands._common import (
    CoordinatorOption,
    FormatOption,
    MineOption,
    YesOption,
    confirm_or_refuse,
    counted,
    date_help,
    db_location,
    new_app,
    optional_date,
    store,
)
from carecoord.commands._disclosure import OutOption, PurposeOption, ToOption
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import PATIENT
from carecoord.output import Column, confirm_change, render_list, render_record
from carecoord.vocab import (
    OutputFormat,
    PatientSort,
    PatientStatus,
    RiskLevel,
    SummaryAudience,
    SummaryFormat,
    risk_level,
)

if TYPE_CHECKING:
    from sqlmodel import Session

    from carecoord.models import Patient

app = new_app("Patients on your caseload.\n\nExample: carecoord patient add 'Jane Doe' --dob 1950-03-02 --risk high")

PatientArg = Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")]
RiskOpt = Annotated[
    RiskLevel | None,
    typer.Option("--risk", parser=risk_level, metavar="low|moderate|high", help="Risk level (medium = moderate).",
                 autocompletion=lambda: [level.value for level in RiskLevel]),
]  # fmt: skip

PATIENT_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("name", "Name", min_width=12),
    Column("birth_date", "DOB", no_wrap=True),
    Column("mrn", "MRN"),
    Column("risk", "Risk", no_wrap=True),
    Column("status", "Status", no_wrap=True),
    Column("phone", "Phone", no_wrap=True, show=phones.shown()),
    Column("tags", "Tags", min_width=6),
)
PATIENT_FIELDS = shown_columns(PATIENT)
CONTACT_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("name", "Name"),
    Column("role", "Role"),
    Column("phone", "Phone", no_wrap=True, show=phones.shown()),
    Column("preferred_method", "Prefers"),
    Column("consent_to_share", "Consent"),
)


@app.command("add")
@field_options(PATIENT, edit=False, skip=("name",))
def add(
    name: Annotated[str, typer.Argument(help="Full name, e.g. 'Jane Doe'.")],
    fields: FieldValues = FIELDS,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag; repeat for more.")] = None,
    enrolled: Annotated[
        str | None, typer.Option("--enrolled", help=date_help("Enrolment date (default today).", past=True))
    ] = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Add them even if a stored patient has the same name and date of birth."),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Enrol a patient.

    A stored patient with the same name and date of birth (and no other MRN) is probably this one:
    you are asked first (off a terminal, it is refused unless --yes).

    Example: carecoord patient add 'Jane Doe' --dob 1950-03-02 --mrn 12345 --risk high --tag chf
    """
    from carecoord.records import patient_record
    from carecoord.services import patients

    twin = None if yes else _stored_twin(name, fields.get("birth_date"), fields.get("mrn"))
    if twin is not None:
        confirm_or_refuse(
            f"{twin} has the same name and date of birth. Add {name.strip()} as another patient?",
            yes,
            refusal=f"{twin} has the same name and date of birth: if this is another person, add --yes",
        )
    with store(write=True) as session:
        patient = patients.add_patient(
            session, tags=tag or (), enrolled_on=optional_date(enrolled, past=True), **fields, name=name
        )
        record = patient_record(patient)
    confirm_change(f"Added patient {patients.describe(patient)}.", record, fmt)


def _stored_twin(name: str, born: Any, mrn: str | None) -> str | None:
    """The stored patient that a new one with this name, date of birth and MRN probably is, described."""
    from carecoord import server
    from carecoord.services import patients

    location = db_location()
    if born is None or (not isinstance(location, server.Server) and not location.exists()):
        return None  # nothing to compare with (and a first 'patient add' makes the database)
    with store(write=False) as session:
        twin = patients.same_person(session, name, born, mrn)
        return patients.describe(twin) if twin is not None else None


@app.command("list")
def list_(
    status: Annotated[
        PatientStatus, typer.Option("--status", help="Only patients with this status.", case_sensitive=False)
    ] = PatientStatus.active,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every patient, whatever the status.")] = False,
    risk: RiskOpt = None,
    tag: Annotated[str | None, typer.Option("--tag", "-t", help="Only patients with this tag.")] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", "-s", help="Text in the name, MRN, payer, notes..., or a phone number typed any way."),
    ] = None,
    sort: Annotated[PatientSort, typer.Option("--sort", help="Sort key.", case_sensitive=False)] = PatientSort.name,
    desc: Annotated[bool, typer.Option("--desc", help="Reverse the order.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most this many.")] = None,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    fmt: FormatOption = OutputFormat.table,
    out: OutOption = None,
    to: ToOption = None,
    purpose: PurposeOption = None,
) -> None:
    """List patients (active ones unless told otherwise).

    With --out FILE the list is written to a file and recorded in the account of disclosures, with
    every patient on it, --to and --purpose ('carecoord audit disclosures').

    Example: carecoord patient list --risk high --tag diabetes --format csv --out high-risk.csv --to 'Dr. Lee'
    """
    from carecoord.commands._common import whose
    from carecoord.commands._disclosure import disclosed, export_store
    from carecoord.records import PATIENT_KEYS, patient_record
    from carecoord.services import patients

    disclose = disclosed(out, to, purpose)
    with export_store(disclose) as session:
        wanted = patients.PatientFilter(
            status=patients.ALL_STATUSES if all_ else status.value,
            risk=risk.value if risk else None,
            tag=tag,
            text=search,
            sort=sort,
            descending=desc,
            limit=limit,
            coordinator=whose(session, mine, coordinator),
        )
        records = [patient_record(p) for p in patients.list_patients(session, wanted)]
        columns = PATIENT_COLUMNS if all_ else [c for c in PATIENT_COLUMNS if c.key != "status"]
        title = f"{'All' if all_ else status.value.capitalize()} patients ({len(records)})"

        def render(shown: OutputFormat) -> None:
            render_list(records, columns, shown, keys=PATIENT_KEYS, title=title, empty="No patients match.")

        if out is not None and disclose:
            what = f"patient list, {counted(len(records), 'patient')} ({fmt.value}): {PATIENT_DETAILS}"
            _write(session, out, render, fmt, [r["id"] for r in records], to, purpose, what)
            return
    _show(render, fmt, out)


@app.command("show")
def show(
    patient: PatientArg,
    fmt: FormatOption = OutputFormat.table,
    out: OutOption = None,
    to: ToOption = None,
    purpose: PurposeOption = None,
) -> None:
    """Everything about one patient on one page: care team, coverage, authorizations and programs,
    and the care now: open tasks (most urgent first), appointments in the next 30 days, open care
    plans, and discharges still in their 30-day transitional-care period.

    With --out FILE the record is written to a file and recorded in the account of disclosures, with
    --to and --purpose ('carecoord audit disclosures').

    Example: carecoord patient show 'jane' --format json --out jane.json --to 'Home Health Co' --purpose treatment
    """
    from carecoord.commands._disclosure import disclosed, export_store
    from carecoord.commands.authorizations import AUTHORIZATION_COLUMNS
    from carecoord.commands.coverage import COVERAGE_COLUMNS
    from carecoord.commands.programs import ENROLMENT_COLUMNS
    from carecoord.records import (
        PATIENT_KEYS,
        authorization_record,
        coverage_record,
        enrolment_record,
        patient_with_contacts,
    )
    from carecoord.services import authorizations, coverage, patients, programs

    disclose = disclosed(out, to, purpose)
    with export_store(disclose) as session:
        found = patients.resolve(session, patient)
        record = patient_with_contacts(found)
        record["safety_flags"] = _safety_flags(session, found)
        record["coverage"] = [coverage_record(c, found.name) for c in coverage.of_patient(session, found.id or 0)]
        wanted = authorizations.AuthorizationFilter(patient_id=found.id)
        record["authorizations"] = [
            authorization_record(r) for r in authorizations.list_authorizations(session, wanted)
        ]
        record["programs"] = [enrolment_record(e, p) for e, p in programs.list_enrolments(session, patient_id=found.id)]
        sections_now = _care_now(session, found, record)
        coverage_columns = [c for c in COVERAGE_COLUMNS if c.key != "patient_name"]
        authorization_columns = [c for c in AUTHORIZATION_COLUMNS if c.key != "patient_name"]
        program_columns = [c for c in ENROLMENT_COLUMNS if c.key != "patient_name"]
        sections: tuple[Any, ...] = (
            ("Care team and family", "contacts", CONTACT_COLUMNS),
            ("Coverage", "coverage", coverage_columns),
            ("Authorizations", "authorizations", authorization_columns),
            ("Programs", "programs", program_columns),
            *sections_now,
        )
        if record["safety_flags"]:
            sections = (("SAFETY FLAG OPEN: follow up today", "safety_flags", SAFETY_COLUMNS), *sections)

        def render(shown: OutputFormat) -> None:
            render_record(record, PATIENT_FIELDS, shown, keys=PATIENT_KEYS, title=f"Patient #{record['id']}",
                          sections=sections)  # fmt: skip

        if out is not None and disclose:
            what = (f"patient record of {found.name} ({fmt.value}): {PATIENT_DETAILS}, care team, coverage, programs, "
                    "open tasks, appointments, care plans, transitions of care")  # fmt: skip
            _write(session, out, render, fmt, [found.id or 0], to, purpose, what)
            return
    _show(render, fmt, out)


# What a patient listing or record written to a file tells its reader (the disclosure's description).
PATIENT_DETAILS = "names, dates of birth, MRNs, contact details, insurance, risk, notes"


def _care_now(session: Session, patient: Patient, record: dict[str, Any]) -> tuple[Any, ...]:
    """Add the patient's care now to ``record`` (open_tasks, appointments, plans, transitions) and
    return its sections for people, each without the patient column (it is this patient)."""
    from carecoord.commands.appointments import OCCURRENCE_COLUMNS
    from carecoord.commands.plans import PLAN_COLUMNS
    from carecoord.commands.tasks import TASK_COLUMNS
    from carecoord.commands.transitions import TRANSITION_COLUMNS
    from carecoord.dates import today
    from carecoord.records import occurrence_record, plan_record, task_record, transition_record
    from carecoord.services.patients import OVERVIEW_DAYS, care_now

    now = care_now(session, patient)
    as_of = today()
    record["open_tasks"] = [task_record(task, name, as_of=as_of) for task, name in now.tasks]
    record["appointments"] = [occurrence_record(sitting, who) for sitting, who in now.appointments]
    record["plans"] = [plan_record(plan, who) for plan, who in now.plans]
    record["transitions"] = [transition_record(status) for status in now.transitions]

    def without_patient(columns: tuple[Column, ...]) -> list[Column]:
        return [column for column in columns if column.key != "patient_name"]

    return (
        ("Open tasks", "open_tasks", without_patient(TASK_COLUMNS)),
        (f"Appointments, next {OVERVIEW_DAYS} days", "appointments", without_patient(OCCURRENCE_COLUMNS)),
        ("Care plans", "plans", without_patient(PLAN_COLUMNS)),
        ("Transitions of care (30-day period)", "transitions", without_patient(TRANSITION_COLUMNS)),
    )


def _write(session: Any, out: str, render: Any, fmt: OutputFormat, ids: list[int], to: str | None,
           purpose: Any, what: str) -> None:  # fmt: skip
    """Write a listing or record to the file ``out`` and record the disclosure (commands/_disclosure)."""
    from carecoord.commands._disclosure import PATIENT_KINDS, write_disclosed
    from carecoord.output import rendered

    data = rendered(render, fmt).encode("utf-8")
    write_disclosed(session, out, data, PATIENT_KINDS[fmt], ids, recipient=to, purpose=purpose, description=what)


def _show(render: Any, fmt: OutputFormat, out: str | None) -> None:
    """A listing or record on the screen: no --out, or --out - (not recorded)."""
    from carecoord.output import rendered

    if out is None:
        render(fmt)
    else:
        print(rendered(render, fmt), end="")


SAFETY_COLUMNS = (
    Column("id", "Screening", no_wrap=True),
    Column("instrument", "Instrument", no_wrap=True),
    Column("taken_on", "Date", no_wrap=True),
    Column("safety_task_id", "Task", no_wrap=True, show=lambda r: f"#{r['safety_task_id']}" if r["safety_task_id"]
           else "deleted"),
)  # fmt: skip


def _safety_flags(session: Any, found: Any) -> list[dict[str, Any]]:
    """The patient's open screening safety flags (issue 13): until each one's follow-up task is done."""
    from carecoord.screening_records import screening_record
    from carecoord.services.screenings import open_safety_flags

    return [screening_record(s, p, None, True) for s, p in open_safety_flags(session, patient_id=found.id)]


@app.command("assign")
def assign(
    patient: PatientArg,
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The coordinator taking the patient over (their role).")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Hand a patient over to another coordinator, with everything recorded under them (contacts,
    plans, tasks, appointments, the log). On a team store only a supervisor may, and ROLE must be on
    the team (see 'carecoord team list'); the audit trail records the handover.

    Example: carecoord patient assign 12 jsmith
    """
    from carecoord.records import patient_record
    from carecoord.services import patients, team

    with store(write=True) as session:
        found = patients.resolve(session, patient)
        before = found.coordinator
        assigned = team.assign(session, found, role)
        record = patient_record(assigned)
    confirm_change(f"Patient {patients.describe(assigned)} handed over from {before} to {assigned.coordinator}.",
                   record, fmt)  # fmt: skip


@app.command("edit")
@field_options(PATIENT, edit=True)
def edit(
    patient: PatientArg,
    fields: FieldValues = FIELDS,
    add_tag: Annotated[list[str] | None, typer.Option("--add-tag", help="Add a tag; repeatable.")] = None,
    remove_tag: Annotated[list[str] | None, typer.Option("--remove-tag", help="Remove a tag; repeatable.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change any field; pass an empty value (--phone '') to clear one.

    Example: carecoord patient edit 12 --phone '555-0100' --add-tag copd --remove-tag smoker
    """
    from carecoord.errors import UsageError
    from carecoord.records import patient_record
    from carecoord.services import patients

    if not fields and not add_tag and not remove_tag:
        raise UsageError("nothing to change: give at least one option (see 'carecoord patient edit --help')")
    with store(write=True) as session:
        found = patients.resolve(session, patient)
        updated = patients.update_patient(session, found, fields, add_tags=add_tag or (), remove_tags=remove_tag or ())
        record = patient_record(updated)
    confirm_change(f"Updated patient {patients.describe(updated)}.", record, fmt)


@app.command("discharge")
def discharge(
    patient: PatientArg,
    date: Annotated[
        str | None, typer.Option("--date", help=date_help("Discharge date (default today).", past=True))
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, e.g. 'goals met'.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """End a patient's enrolment (the record and its history are kept).

    Example: carecoord patient discharge 12 --date 2026-11-30 --reason 'moved out of area'
    """
    from carecoord.records import patient_record
    from carecoord.services import patients

    with store(write=True) as session:
        found = patients.resolve(session, patient)
        ended = patients.discharge(session, found, on=optional_date(date, past=True), reason=reason)
        record = patient_record(found)
    programs = f" Program enrolments ended with it: {', '.join(ended)}." if ended else ""
    confirm_change(f"Discharged patient {patients.describe(found)} on {found.discharged_on}.{programs}", record, fmt)


@app.command("hold")
def hold(patient: PatientArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Put an active patient on hold (hospital stay, travel) without discharging.

    Example: carecoord patient hold 12
    """
    from carecoord.records import patient_record
    from carecoord.services import patients

    with store(write=True) as session:
        found = patients.put_on_hold(session, patients.resolve(session, patient))
        record = patient_record(found)
    confirm_change(f"Patient {patients.describe(found)} is on hold.", record, fmt)


@app.command("reactivate")
def reactivate(
    patient: PatientArg,
    date: Annotated[
        str | None, typer.Option("--date", help=date_help("Re-enrolment date (default today).", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Make an on-hold or discharged patient active again.

    Example: carecoord patient reactivate 12
    """
    from carecoord.records import patient_record
    from carecoord.services import patients

    with store(write=True) as session:
        found = patients.reactivate(session, patients.resolve(session, patient), on=optional_date(date, past=True))
        record = patient_record(found)
    confirm_change(f"Patient {patients.describe(found)} is active again.", record, fmt)


@app.command("delete")
def delete(patient: PatientArg, yes: YesOption = False) -> None:
    """Permanently delete a patient and everything recorded under them (discharge is the usual way out).

    Example: carecoord patient delete 12 --yes
    """
    from carecoord.services import patients

    def summary(counts: dict[str, int]) -> str:
        return ", ".join(counted(n, noun) for noun, n in counts.items() if n) or "nothing else"

    with store(write=False) as session:  # ask before taking the write lock
        found = patients.resolve(session, patient)
        target, name = f"#{found.id}", patients.describe(found)
        question = f"Permanently delete patient {name} and {summary(patients.related_counts(session, found))}?"
    confirm_or_refuse(question, yes)
    with store(write=True) as session:
        removed = patients.delete_patient(session, patients.resolve(session, target))
    print(f"Deleted patient {name} and {summary(removed)}. The audit trail keeps a record of the deletion.")


@app.command("timeline")
def timeline(
    patient: PatientArg,
    since: Annotated[
        str | None,
        typer.Option("--since", help=date_help("From this date on (default: a year ago).", past=True, time=True)),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Everything that happened for a patient, newest first: calls and visits, appointments,
    completed tasks, plan reviews, discharges and status changes.

    Example: carecoord patient timeline jane --since -90d
    """
    from carecoord.commands._common import optional_datetime
    from carecoord.records import event_record
    from carecoord.services import patients
    from carecoord.services import timeline as history

    with store(write=False) as session:
        found = patients.resolve(session, patient)
        records = [event_record(e) for e in history.timeline(session, found, optional_datetime(since, past=True))]
        title = f"Timeline of {patients.describe(found)} ({len(records)})"
    columns = (Column("at", "When", no_wrap=True), Column("kind", "What", no_wrap=True),
               Column("summary", "Details", min_width=20))  # fmt: skip
    render_list(records, columns, fmt, keys=("at", "kind", "id", "summary"), title=title, empty="Nothing recorded.")


@app.command("summary")
def summary(
    patient: PatientArg,
    audience: Annotated[
        SummaryAudience,
        typer.Option(
            "--for",
            case_sensitive=False,
            help="patient: a plain-language care plan for the patient and family, in large type, without "
            "MRN, ids, risk level or billing codes; provider: a handoff summary for a clinician.",
        ),
    ] = SummaryAudience.patient,
    fmt: Annotated[
        SummaryFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="html: one self-contained page to open in a browser and print; markdown: the same as text.",
        ),
    ] = SummaryFormat.html,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Write it to FILE (atomically) instead of the screen; recorded as a disclosure.",
        ),
    ] = None,
    to: ToOption = None,
    purpose: PurposeOption = None,
) -> None:
    """A printable summary of one patient: their care plan for the family (the default), or a handoff
    for a provider. Who to call comes from your settings ('carecoord config set name|phone ...').
    A summary written to a file is recorded in the account of disclosures, with --to and --purpose
    ('carecoord audit disclosures').

    Example: carecoord patient summary jane --for provider --out jane.html --to 'Dr. Lee' --purpose treatment
    """  # fmt: skip
    import sys

    from carecoord import config
    from carecoord.commands._disclosure import disclosed, export_store, write_disclosed
    from carecoord.files import write_atomically
    from carecoord.services import patients, summaries
    from carecoord.summary_records import summary_record
    from carecoord.templates import render
    from carecoord.vocab import DisclosureKind

    coordinator = config.load()  # first: an unreadable settings file stops the command before it reads anything
    disclose = disclosed(out, to, purpose)
    patient_copy = audience is SummaryAudience.patient
    with export_store(disclose) as session:
        found = patients.resolve(session, patient)
        data = summaries.gather(session, found, audience.value)
        record = summary_record(data, coordinator)
        text = render(f"summary-{audience.value}.{'md' if fmt is SummaryFormat.markdown else 'html'}", record)
        if out is None:
            print(text, end="")
            written = None
        elif disclose:
            kind = DisclosureKind.summary_patient if patient_copy else DisclosureKind.summary_provider
            what = ("care plan for the patient and family" if patient_copy else "handoff summary for a provider") + (
                f" ({fmt.value})")  # fmt: skip
            written = write_disclosed(session, out, text.encode("utf-8"), kind, data.patient_ids, recipient=to,
                                      purpose=purpose, description=what)  # fmt: skip
        else:
            written = write_atomically(out, text.encode("utf-8"))  # '-': standard output
    if written is not None:
        what = "care plan" if patient_copy else "handoff summary"
        print(f"Wrote the {what} of {patients.describe(found)} to {written}.")
    missing = config.missing_for_summaries(coordinator)
    if missing:
        settings = " and ".join(f"'carecoord config set {key} ...'" for key in missing)
        print(f"carecoord: note: the summary cannot say who you are until you set your {' and '.join(missing)}: "
              f"run {settings}", file=sys.stderr)  # fmt: skip
