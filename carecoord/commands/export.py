"""``carecoord export``: appointments (and tasks) to a calendar file; patients' records as FHIR R4."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.commands._common import (
    CoordinatorOption,
    MineOption,
    counted,
    date_help,
    new_app,
    time_window,
)
from carecoord.commands._disclosure import PurposeOption, RecipientOption, ToOption

app = new_app("Export to other programs.\n\nExample: carecoord export ics --days 7 --out week.ics")


@app.command("ics")
def ics(
    out: Annotated[str, typer.Option("--out", "-o", help="The .ics file to write (atomically), or - for stdout.")],
    from_: Annotated[
        str | None,
        typer.Option("--from", help=date_help("Start of the window (default today).", past=False, time=True)),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help=date_help("End of the window, inclusive.", past=False, time=True))
    ] = None,
    days: Annotated[int | None, typer.Option("--days", "-n", help="Window length in days (default 1).")] = None,
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's.")] = None,
    tasks: Annotated[bool, typer.Option("--tasks", help="Also export tasks due in the window, as to-dos.")] = False,
    redact: Annotated[
        bool, typer.Option("--redact", help="Only initials and the appointment type: no names, places or notes.")
    ] = False,
    name: Annotated[str, typer.Option("--name", help="Calendar name shown by calendar apps.")] = "carecoord",
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    recipient: RecipientOption = None,
    purpose: PurposeOption = None,
) -> None:
    """Write an RFC 5545 calendar of the appointments in a window, for calendar apps.

    Series are written whole (RRULE, with RECURRENCE-ID overrides for moved or cancelled
    occurrences); unchanged data gives byte-identical files. With --mine or --coordinator, only that
    coordinator's patients' appointments (and with --tasks, no tasks without a patient): a supervisor
    exports one coordinator's calendar.

    A calendar written to a file is recorded in the account of disclosures ('carecoord audit
    disclosures') with the patients whose appointments or tasks it holds, --recipient (here not --to,
    which ends the window) and --purpose; a --redact calendar (initials and types only) is not.

    Example: carecoord export ics --from tomorrow --days 1 --redact --out ~/calendar/tomorrow.ics
    """
    from collections.abc import Iterator
    from datetime import timedelta

    from carecoord.commands._common import whose
    from carecoord.commands._disclosure import disclosed, export_store, write_disclosed
    from carecoord.dates import local_zone
    from carecoord.files import write_atomically
    from carecoord.ics import AppointmentEntry, TaskEntry, calendar_chunks
    from carecoord.services import appointments, patients
    from carecoord.services import tasks as task_service
    from carecoord.vocab import TASK_OPEN, DisclosureKind

    low, high = time_window(from_, to, days)
    disclose = disclosed(out, recipient, purpose, redacted=redact)
    with export_store(disclose) as session:
        owner = patients.resolve(session, patient) if patient else None
        whom = whose(session, mine, coordinator)
        wanted = appointments.AppointmentFilter(low, high, patient_id=owner.id if owner else None, coordinator=whom)
        zones, years = appointments.zones_and_years(session, wanted)
        written_appointments = [0]
        carried: set[int] = set()

        def entries() -> Iterator[AppointmentEntry]:
            for appointment, patient_name, exceptions in appointments.spanning(session, wanted):
                written_appointments[0] += 1
                carried.add(appointment.patient_id)
                yield AppointmentEntry(appointment, patient_name, exceptions)

        todo: list[TaskEntry] = []
        if tasks:
            last_day = (high - timedelta(seconds=1)).date()
            window = task_service.TaskFilter(
                statuses=TASK_OPEN | {"completed", "cancelled"}, due_from=low.date(), due_to=last_day,
                due_filter=True, patient_id=owner.id if owner else None, coordinator=whom,
            )  # fmt: skip
            todo = [TaskEntry(task, name_) for task, name_ in task_service.list_tasks(session, window)]
            carried.update(entry.task.patient_id for entry in todo if entry.task.patient_id is not None)
        chunks = calendar_chunks(entries(), todo, zone=local_zone(), zones=zones, years=years, name=name, redact=redact)
        if disclose:
            last = (high - timedelta(seconds=1)).date()
            what = (f"calendar {low.date().isoformat()} to {last.isoformat()}: appointments"
                    f"{' and tasks' if tasks else ''} with patients' names, places and notes")  # fmt: skip
            written = write_disclosed(session, out, chunks, DisclosureKind.calendar, carried, recipient=recipient,
                                      purpose=purpose, description=what)  # fmt: skip
        else:
            written = write_atomically(out, chunks)
    count = written_appointments[0]
    if written is not None:
        with_tasks = f" and {counted(len(todo), 'task')}" if tasks else ""
        print(f"Wrote {counted(count, 'appointment')}{with_tasks} to {written}.")


@app.command("fhir")
def fhir(
    out: Annotated[str, typer.Option("--out", "-o", help="The file to write (atomically), or - for stdout.")],
    patient: Annotated[
        list[str] | None,
        typer.Option("--patient", "-p", help="This patient's records (id, MRN or name). Repeatable."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every patient's records (every status).")] = False,
    ndjson: Annotated[
        bool, typer.Option("--ndjson", help="One resource per line (FHIR Bulk Data NDJSON) instead of a Bundle.")
    ] = False,
    mine: MineOption = False,
    coordinator: CoordinatorOption = None,
    to: ToOption = None,
    purpose: PurposeOption = None,
) -> None:
    """Write patients' records as FHIR R4: a Bundle of type collection (JSON), or NDJSON.

    Name the patients with --patient (repeatable), or take everyone's with --all (or only one
    coordinator's with --mine or --coordinator). The Bundle holds each Patient with its care team
    (RelatedPerson, CareTeam), Coverage and Appointments (each occurrence of a series, from its
    start to the end of the month a year ahead, carrying the series rule); care plans, needs and
    goals (CarePlan, Condition, Goal), tasks (Task), the log (Communication), transitions and
    programs (EpisodeOfCare), screenings (QuestionnaireResponse, Observation), referrals
    (ServiceRequest, Task, HealthcareService, Consent) and authorizations (ClaimResponse). Every
    reference resolves inside it; 'carecoord import fhir' reads it back. The same data gives the same file,
    apart from Bundle.timestamp. A file written is recorded in the account of disclosures with its
    patients, --to and --purpose ('carecoord audit disclosures').

    Example: carecoord export fhir --patient 48213 --out jane.json --to 'Sunrise Home Health' --purpose treatment
    """
    from collections import Counter

    from carecoord.commands._common import whose
    from carecoord.commands._disclosure import disclosed, export_store, write_disclosed
    from carecoord.dates import now
    from carecoord.errors import UsageError
    from carecoord.fhir import Refs
    from carecoord.files import write_atomically
    from carecoord.services import fhir_export
    from carecoord.vocab import DisclosureKind

    if patient and (all_ or mine or coordinator is not None):
        raise UsageError("give --patient, or --all (--mine, --coordinator), not both")
    if not patient and not (all_ or mine or coordinator is not None):
        raise UsageError("say whose records to export: --patient P (repeatable) or --all (--mine, --coordinator ROLE)")
    refs = Refs(bundle=not ndjson)
    counts: Counter[str] = Counter()
    disclose = disclosed(out, to, purpose)
    with export_store(disclose) as session:
        ids = fhir_export.chosen_patients(
            session, patient or [], everyone=True, coordinator=whose(session, mine, coordinator)
        )
        found = fhir_export.counted(fhir_export.resources(session, ids, refs), counts)
        chunks = fhir_export.ndjson_chunks(found) if ndjson else fhir_export.bundle_chunks(found, refs, now())
        if disclose:
            kind = DisclosureKind.fhir_ndjson if ndjson else DisclosureKind.fhir
            what = f"FHIR R4 {'NDJSON' if ndjson else 'Bundle'}: every record carecoord keeps about the patients"
            written = write_disclosed(session, out, chunks, kind, ids, recipient=to, purpose=purpose, description=what)
        else:
            written = write_atomically(out, chunks)
    if written is not None:
        what = ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no resources"
        form = "NDJSON" if ndjson else "a FHIR R4 Bundle"
        print(f"Wrote {what} ({counted(len(ids), 'patient')}) to {written} as {form}.")
