"""Export patients' records as FHIR R4: a Bundle of type collection, or NDJSON (FHIR Bulk Data).

Streamed: the patients are read in batches; for each batch every *section* (:data:`Section`) yields
the resources of one kind (a few ``IN`` queries per batch), and each resource is written as it
comes, so an agency's Bundle is never held in memory. The same data gives the same bytes, apart
from ``Bundle.timestamp`` (NDJSON has none): patients go by id, each section's records in a fixed
order, and ``meta.lastUpdated`` is the record's own ``updated_at``, not the time of the export.

Bundle: https://hl7.org/fhir/R4/bundle.html ; Bulk Data NDJSON:
https://hl7.org/fhir/uv/bulkdata/STU2/export.html#file-format
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from carecoord.errors import ValidationError
from carecoord.fhir import Refs
from carecoord.fhir.elements import instant
from carecoord.jsonenc import compact_json
from carecoord.models import Patient
from carecoord.services import snapshots

# A section yields the resources of one kind for one batch of patients (read-only snapshots that
# read like Patient rows), with a few IN queries per batch; ``Refs`` makes its references.
Section = Callable[[Session, Sequence[Patient], Refs], Iterator[dict[str, Any]]]

PATIENT_BATCH = 200  # patients per batch: well under the IN-list size, few enough to hold their records


def sections() -> list[Section]:
    """Every section, in the order its resources come in each batch of patients.

    fhir-care and fhir-nav: add your sections on the marked lines (one line each, so that branches
    adding to this list merge cleanly).
    """
    from carecoord.services import fhir_appointments, fhir_care, fhir_navigation, fhir_patients

    return [
        *fhir_patients.EXPORT_SECTIONS,
        *fhir_appointments.EXPORT_SECTIONS,
        # fhir-care: its sections below this line
        *fhir_care.EXPORT_SECTIONS,
        # fhir-care: its sections above this line
        #
        # fhir-nav: its sections below this line
        *fhir_navigation.EXPORT_SECTIONS,
        # fhir-nav: its sections above this line
    ]


def chosen_patients(session: Session, refs: Sequence[str], *, everyone: bool, coordinator: str | None) -> list[int]:
    """The ids of the patients to export, in id order: those named (id, MRN or name), or everyone
    (every status; the signed-in person's view on a team store), or one coordinator's."""
    from carecoord.services import patients as patient_service

    if refs:
        found = [patient_service.resolve(session, ref).id for ref in refs]
        return sorted({pid for pid in found if pid is not None})
    if not everyone and coordinator is None:
        raise ValidationError("name the patients (--patient) or export everyone's (--all)")
    query = select(Patient.id).order_by(col(Patient.id))
    if coordinator is not None:
        query = query.where(Patient.coordinator == coordinator)
    return [pid for pid in session.exec(query).all() if pid is not None]


def resources(
    session: Session, patient_ids: Sequence[int], refs: Refs, chosen: Iterable[Section] | None = None
) -> Iterator[dict[str, Any]]:
    """Every resource of the patients, batch by batch, section by section."""
    every = list(chosen) if chosen is not None else sections()
    query = snapshots.query(Patient)
    for start in range(0, len(patient_ids), PATIENT_BATCH):
        batch = list(patient_ids[start : start + PATIENT_BATCH])
        patients = snapshots.read(session, Patient, query.where(col(Patient.id).in_(batch)).order_by(col(Patient.id)))
        for section in every:
            yield from section(session, patients, refs)


def counted(found: Iterable[dict[str, Any]], counts: Counter[str]) -> Iterator[dict[str, Any]]:
    """The resources as they pass, counted by type into ``counts``."""
    for resource in found:
        counts[resource["resourceType"]] += 1
        yield resource


def bundle_chunks(found: Iterable[dict[str, Any]], refs: Refs, timestamp: datetime) -> Iterator[bytes]:
    """A Bundle of type collection, one entry per line, as UTF-8 chunks (with no entry element when
    there is nothing to export: FHIR allows no empty arrays)."""
    dumps = compact_json()

    def text() -> Iterator[bytes]:
        yield f'{{"resourceType":"Bundle","type":"collection","timestamp":"{instant(timestamp)}"'.encode()
        first = b',"entry":[\n'
        separator = first
        for resource in found:
            url = refs.full_url(resource["id"]).encode()
            yield b'%s{"fullUrl":"%s","resource":%s}' % (separator, url, dumps(resource))
            separator = b",\n"
        yield b"}\n" if separator == first else b"\n]}\n"

    return _in_blocks(text())


def ndjson_chunks(found: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """One resource per line (NDJSON), as UTF-8 chunks."""
    dumps = compact_json()
    return _in_blocks(dumps(resource) + b"\n" for resource in found)


BLOCK_BYTES = 1 << 16  # bytes gathered per write: a million resources are not a million writes


def _in_blocks(parts: Iterable[bytes]) -> Iterator[bytes]:
    """The parts joined into blocks of about BLOCK_BYTES."""
    block: list[bytes] = []
    size = 0
    for part in parts:
        block.append(part)
        size += len(part)
        if size >= BLOCK_BYTES:
            yield b"".join(block)
            block, size = [], 0
    if block:
        yield b"".join(block)
