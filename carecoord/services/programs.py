"""Program enrolment and consent: Medicare requires the patient's documented consent (verbal or
written) before care management or navigation services, and a log entry's minutes count toward one
program only (issue 15). The report of a month's minutes reads the enrolments from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from carecoord.dates import today
from carecoord.errors import ConflictError, NotFoundError, ValidationError
from carecoord.models import Patient, ProgramEnrolment
from carecoord.services import text
from carecoord.services.lookup import id_batches
from carecoord.vocab import PROGRAM_NAMES, TIME_BASED_PROGRAMS, Consent, Program

APCM = Program.apcm.value
MAX_CONDITIONS = 99


def program_code(word: str) -> str:
    """A program code from what someone typed ('CHI', 'complex_ccm'); an unknown one is an error."""
    code = word.strip().lower().replace("_", "-")
    if code not in PROGRAM_NAMES:
        raise ValidationError(f"unknown program '{word}': use one of {', '.join(p.value for p in Program)}")
    return code


def consent_code(word: str) -> str:
    """``verbal`` or ``written``."""
    code = word.strip().lower()
    if code not in {c.value for c in Consent}:
        raise ValidationError(f"consent is verbal or written, not '{word}'")
    return code


def describe(enrolment: ProgramEnrolment) -> str:
    """``ccm (#3, since 2026-11-02, verbal consent)``."""
    ended = f", ended {enrolment.ended_on}" if enrolment.ended_on else ""
    return f"{enrolment.program} (#{enrolment.id}, since {enrolment.enrolled_on}{ended}, {enrolment.consent} consent)"


def current(session: Session, patient: Patient, program: str) -> ProgramEnrolment | None:
    """The patient's enrolment in ``program`` that has not ended."""
    return session.exec(
        select(ProgramEnrolment).where(
            ProgramEnrolment.patient_id == patient.id, ProgramEnrolment.program == program,
            col(ProgramEnrolment.ended_on).is_(None),
        )
    ).first()  # fmt: skip


@dataclass(frozen=True)
class Enrolment:
    """What ``program enroll`` records."""

    program: str
    consent: str
    on: date | None = None  # the day consent was given (default today)
    by: str | None = None  # who obtained it
    note: str | None = None
    chronic_conditions: int | None = None  # APCM only
    qmb: bool | None = None  # APCM only


def enroll(session: Session, patient: Patient, wanted: Enrolment) -> ProgramEnrolment:
    """Enrol the patient in a program with the consent Medicare requires; one open enrolment per program."""
    program, consent = program_code(wanted.program), consent_code(wanted.consent)
    on = wanted.on or today()
    if on > today():
        raise ValidationError(f"the consent date {on} is in the future: record consent once it is given")
    if program != APCM and (wanted.chronic_conditions is not None or wanted.qmb is not None):
        raise ValidationError("--conditions and --qmb set the APCM level: they are for 'apcm' only")
    if wanted.chronic_conditions is not None and not 0 <= wanted.chronic_conditions <= MAX_CONDITIONS:
        raise ValidationError(f"the number of chronic conditions must be 0 to {MAX_CONDITIONS}")
    already = current(session, patient, program)
    if already is not None:
        raise ConflictError(f"#{patient.id} {patient.name} is already enrolled in {describe(already)}")
    assert patient.id is not None
    enrolment = ProgramEnrolment(
        patient_id=patient.id, program=program, consent=consent, enrolled_on=on,
        consent_by=text.single_line(wanted.by, "name of who obtained consent"),
        note=text.free_text(wanted.note, "note"),
        chronic_conditions=wanted.chronic_conditions, qmb=wanted.qmb,
    )  # fmt: skip
    session.add(enrolment)
    session.flush()
    return enrolment


def end(
    session: Session, patient: Patient, program: str, *, on: date | None = None, reason: str | None = None
) -> ProgramEnrolment:
    """End the patient's enrolment in a program (consent withdrawn, no longer eligible...)."""
    code = program_code(program)
    enrolment = current(session, patient, code)
    if enrolment is None:
        raise NotFoundError(f"#{patient.id} {patient.name} is not enrolled in {code}")
    when = on or today()
    if when < enrolment.enrolled_on:
        raise ValidationError(f"the end date {when} is before the enrolment began on {enrolment.enrolled_on}")
    if when > today():
        raise ValidationError(f"the end date {when} is in the future")
    enrolment.ended_on = when
    enrolment.end_reason = text.single_line(reason, "reason")
    session.flush()
    return enrolment


def list_enrolments(
    session: Session,
    *,
    patient_id: int | None = None,
    program: str | None = None,
    ended: bool = True,
    coordinator: str | None = None,
) -> Sequence[tuple[ProgramEnrolment, Patient]]:
    """Enrolments with their patients (``ended``: those that ended too), by patient then program."""
    query = select(ProgramEnrolment, Patient).join(Patient, col(Patient.id) == ProgramEnrolment.patient_id)
    if patient_id is not None:
        query = query.where(ProgramEnrolment.patient_id == patient_id)
    if program is not None:
        query = query.where(ProgramEnrolment.program == program_code(program))
    if not ended:
        query = query.where(col(ProgramEnrolment.ended_on).is_(None))
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    query = query.order_by(col(Patient.name_key), col(Patient.id), col(ProgramEnrolment.program),
                           col(ProgramEnrolment.enrolled_on))  # fmt: skip
    return [(enrolment, patient) for enrolment, patient in session.exec(query).all()]


def default_program(session: Session, patient: Patient, on: date, *, needed: bool) -> str | None:
    """The program a log entry's minutes count toward when none is named: the patient's one
    time-based program enrolled on ``on`` (or, with none, APCM, whose monthly care management
    takes in such calls). None when there is none; when there are several, an error if the entry
    has minutes (``needed``), else None."""
    enrolled = session.exec(
        select(ProgramEnrolment.program).where(
            ProgramEnrolment.patient_id == patient.id,
            col(ProgramEnrolment.program).in_((*TIME_BASED_PROGRAMS, APCM)),
            col(ProgramEnrolment.enrolled_on) <= on,
            (col(ProgramEnrolment.ended_on).is_(None)) | (col(ProgramEnrolment.ended_on) >= on),
        )
    ).all()  # fmt: skip
    programs = sorted(set(enrolled) - {APCM}) or sorted(set(enrolled))
    if len(programs) == 1:
        return programs[0]
    if len(programs) > 1 and needed:
        raise ValidationError(
            f"#{patient.id} {patient.name} is enrolled in {' and '.join(programs)}: minutes count toward one "
            "program only, so say which with --program"
        )
    return None


def overlapping(
    session: Session, patient_ids: Iterable[int], start: date, end: date
) -> dict[int, list[ProgramEnrolment]]:
    """Each patient's enrolments in force on some day from ``start`` to ``end`` (inclusive), a few queries."""
    found: dict[int, list[ProgramEnrolment]] = {}
    for batch in id_batches(patient_ids):
        rows = session.exec(
            select(ProgramEnrolment).where(
                col(ProgramEnrolment.patient_id).in_(batch), col(ProgramEnrolment.enrolled_on) <= end,
                (col(ProgramEnrolment.ended_on).is_(None)) | (col(ProgramEnrolment.ended_on) >= start),
            ).order_by(col(ProgramEnrolment.enrolled_on))
        ).all()  # fmt: skip
        for enrolment in rows:
            found.setdefault(enrolment.patient_id, []).append(enrolment)
    return found


def overlapping_all(session: Session, start: date, end: date) -> dict[int, list[ProgramEnrolment]]:
    """Every patient's enrolments in force on some day from ``start`` to ``end``: one query."""
    found: dict[int, list[ProgramEnrolment]] = {}
    rows = session.exec(
        select(ProgramEnrolment).where(
            col(ProgramEnrolment.enrolled_on) <= end,
            (col(ProgramEnrolment.ended_on).is_(None)) | (col(ProgramEnrolment.ended_on) >= start),
        ).order_by(col(ProgramEnrolment.enrolled_on))
    ).all()  # fmt: skip
    for enrolment in rows:
        found.setdefault(enrolment.patient_id, []).append(enrolment)
    return found
