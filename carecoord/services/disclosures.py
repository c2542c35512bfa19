"""The account of disclosures: every export that carries patients' information out of carecoord.

HIPAA gives a patient the right to an accounting of the disclosures of their protected health
information, and says what each entry holds: the date, who received it, a brief description of what
was disclosed, and the purpose (45 CFR 164.528(b)(2),
https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-E/section-164.528). It
covers the six years before the request (164.528(a)(1)). Disclosures to carry out treatment,
payment and health care operations, and disclosures to the patient themselves, are exempt from that
patient-facing accounting (164.528(a)(1)(i)-(ii)); carecoord records every export anyway, whatever
its purpose, so that a coordinator (or their privacy officer) can answer "who got what about this
patient, when, and why" and pick the accountable ones by purpose.

A disclosure records when (UTC), the operating-system user and, on a team store, the database role
(set by the server), the kind of export (``vocab.DisclosureKind``), to whom (free text; None:
unspecified), why (``vocab.DisclosurePurpose``; None: unspecified), the file written and a brief
description; and each patient it carried, with their name and MRN as they were then, so that the
account outlives the patient's deletion. Rows are only ever added (see migration 0014).

This module records and lists; writing the file and recording it together is
``commands/_disclosure.py``'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, insert
from sqlmodel import Session, col, select

from carecoord.errors import NotFoundError
from carecoord.models import Disclosure, DisclosurePatient, Patient, utcnow
from carecoord.services import text
from carecoord.services.audit import os_user
from carecoord.vocab import DisclosureKind, DisclosurePurpose

# Patients looked up per query (an IN list well within every engine's limit on bound parameters).
BATCH = 1_000


@dataclass(frozen=True)
class DisclosureEntry:
    """One disclosure with the patients it carried that the signed-in person may see."""

    disclosure: Disclosure
    patients: Sequence[DisclosurePatient]


def record(
    session: Session,
    kind: DisclosureKind,
    patient_ids: Iterable[int],
    *,
    recipient: str | None,
    purpose: DisclosurePurpose | None,
    target: str,
    description: str,
) -> Disclosure | None:
    """Record that ``target`` carried these patients' information to ``recipient`` for ``purpose``
    (None: unspecified). Nothing is recorded when no patient was carried (a file with no patient's
    information discloses nothing). A few queries whatever the number of patients."""
    ids = sorted(set(patient_ids))
    if not ids:
        return None
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        query = select(Patient.id, Patient.name, Patient.mrn).where(col(Patient.id).in_(batch))
        for patient_id, name, mrn in session.exec(query):
            found[patient_id or 0] = (name, mrn)
    missing = [patient_id for patient_id in ids if patient_id not in found]
    if missing:  # the export read these patients in this transaction: a bug, not a user's mistake
        raise NotFoundError(f"no patient #{missing[0]} to record the disclosure of")
    disclosure = Disclosure(
        at=utcnow(),
        os_user=os_user(),
        kind=DisclosureKind(kind).value,
        recipient=text.single_line(recipient, "recipient"),
        purpose=DisclosurePurpose(purpose).value if purpose is not None else None,
        target=target,
        description=description,
    )
    session.add(disclosure)
    session.flush()
    rows = [
        {"disclosure_id": disclosure.id, "patient_id": patient_id, "patient_name": found[patient_id][0],
         "patient_mrn": found[patient_id][1]}
        for patient_id in ids
    ]  # fmt: skip
    session.connection().execute(insert(DisclosurePatient), rows)
    return disclosure


def entries(session: Session, *, patient_id: int | None = None, since: datetime | None = None) -> list[DisclosureEntry]:
    """Disclosures, newest first, optionally of one patient (a deleted one too, by id) and from a
    moment on; each with its patients, by name. Two queries."""
    conditions: list[ColumnElement[bool]] = []
    if patient_id is not None:
        carried = select(DisclosurePatient.disclosure_id).where(DisclosurePatient.patient_id == patient_id)
        conditions.append(col(Disclosure.id).in_(carried))
    if since is not None:
        conditions.append(col(Disclosure.at) >= since)
    newest_first = (col(Disclosure.at).desc(), col(Disclosure.id).desc())
    disclosures = session.exec(select(Disclosure).where(*conditions).order_by(*newest_first)).all()
    if not disclosures:
        return []
    wanted = select(Disclosure.id).where(*conditions)
    carried_rows = session.exec(
        select(DisclosurePatient)
        .where(col(DisclosurePatient.disclosure_id).in_(wanted))
        .order_by(col(DisclosurePatient.patient_name), col(DisclosurePatient.patient_id))
    ).all()
    by_disclosure: dict[int, list[DisclosurePatient]] = {}
    for row in carried_rows:
        by_disclosure.setdefault(row.disclosure_id, []).append(row)
    return [DisclosureEntry(d, by_disclosure.get(d.id or 0, [])) for d in disclosures]
