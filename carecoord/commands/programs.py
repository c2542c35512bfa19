"""``carecoord program``: enrolment in Medicare care-management and navigation programs, with consent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from carecoord.commands._common import FormatOption, date_help, new_app, optional_date, store
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import Consent, OutputFormat

app = new_app(
    "Program enrolment and consent: ccm, complex-ccm, pcm, tcm, chi, pin, apcm.\n\n"
    "Example: carecoord program enroll jane ccm --consent verbal --by 'K. Lee, RN'"
)

PROGRAMS_WORD = "ccm, complex-ccm, pcm, tcm, chi, pin or apcm"
PatientArg = Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")]
ProgramArg = Annotated[str, typer.Argument(metavar="PROGRAM", help=f"The program: {PROGRAMS_WORD}.")]


def _consent(record: Mapping[str, Any]) -> str:
    by = f" by {record['consent_by']}" if record["consent_by"] else ""
    return f"{record['consent']} {record['enrolled_on']}{by}"


def _state(record: Mapping[str, Any]) -> str:
    if record["active"]:
        return "enrolled"
    reason = f" ({record['end_reason']})" if record["end_reason"] else ""
    return f"ended {record['ended_on']}{reason}"


ENROLMENT_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("program", "Program", no_wrap=True),
    Column("consent", "Consent", show=_consent),
    Column("state", "Status", show=_state),
    Column("apcm_level", "APCM level", no_wrap=True, show=lambda r: r["apcm_code"] or ""),
    Column("note", "Note", first_line=True),
)


@app.command("enroll")
def enroll(
    patient: PatientArg,
    program: ProgramArg,
    consent: Annotated[
        Consent, typer.Option("--consent", help="How the patient consented: verbal or written.", case_sensitive=False)
    ],
    date: Annotated[
        str | None, typer.Option("--date", "-d", help=date_help("When consent was given (default today).", past=True))
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who obtained the consent, e.g. 'K. Lee, RN'.")] = None,
    note: Annotated[str | None, typer.Option("--note", "-n", help="A note, e.g. where the consent form is.")] = None,
    conditions: Annotated[
        int | None,
        typer.Option("--conditions", min=0, help="APCM only: the number of chronic conditions (sets G0556 or G0557)."),
    ] = None,
    qmb: Annotated[
        bool | None,
        typer.Option("--qmb/--no-qmb", help="APCM only: a Qualified Medicare Beneficiary (G0558 with 2+ conditions)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Enrol a patient in a program, with the consent Medicare requires before care management.

    Example: carecoord program enroll jane ccm --consent verbal --date 2026-11-02 --by 'K. Lee, RN'
    Example: carecoord program enroll jane apcm --consent written --conditions 3 --qmb
    """
    from carecoord.records import enrolment_record
    from carecoord.services import patients, programs

    wanted = programs.Enrolment(
        program=program, consent=consent.value, on=optional_date(date, past=True), by=by, note=note,
        chronic_conditions=conditions, qmb=qmb,
    )  # fmt: skip
    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        enrolment = programs.enroll(session, owner, wanted)
        record = enrolment_record(enrolment, owner)
    message = f"Enrolled {patients.describe(owner)} in {programs.describe(enrolment)}."
    confirm_change(message, record, fmt)


@app.command("end")
def end(
    patient: PatientArg,
    program: ProgramArg,
    reason: Annotated[
        str | None, typer.Option("--reason", "-r", help="Why, e.g. 'consent withdrawn' or 'moved to hospice'.")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", "-d", help=date_help("When it ended (default today).", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """End a patient's enrolment in a program (the record stays, with its consent).

    Example: carecoord program end jane ccm --reason 'consent withdrawn'
    """
    from carecoord.records import enrolment_record
    from carecoord.services import patients, programs

    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        enrolment = programs.end(session, owner, program, on=optional_date(date, past=True), reason=reason)
        record = enrolment_record(enrolment, owner)
    confirm_change(f"Ended {patients.describe(owner)}'s enrolment in {programs.describe(enrolment)}.", record, fmt)


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's.")] = None,
    program: Annotated[
        str | None, typer.Option("--program", metavar="PROGRAM", help=f"Only this program: {PROGRAMS_WORD}.")
    ] = None,
    current: Annotated[bool, typer.Option("--current", help="Only enrolments that have not ended.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Program enrolments with their consent: who, which program, verbal or written, since when.

    Example: carecoord program list --program chi
    Example: carecoord program list --patient jane --format json
    """
    from carecoord.records import ENROLMENT_KEYS, enrolment_record
    from carecoord.services import patients, programs

    with store(write=False) as session:
        only = patients.resolve(session, patient).id if patient else None
        found = programs.list_enrolments(session, patient_id=only, program=program, ended=not current)
        records = [enrolment_record(enrolment, owner) for enrolment, owner in found]
    render_list(records, ENROLMENT_COLUMNS, fmt, keys=ENROLMENT_KEYS, title=f"Program enrolments ({len(records)})",
                empty="No program enrolments.")  # fmt: skip
