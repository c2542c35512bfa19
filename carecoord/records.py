"""Models as plain records: the stable keys of JSON and CSV output (see README, Scripting).

Dates are ``date`` objects and moments aware datetimes in the user's zone; the renderer
writes them as ISO 8601.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from carecoord.dates import local_zone
from carecoord.models import AuditEntry, Contact, Patient
from carecoord.services.patients import split_tags


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(local_zone())


def patient_record(patient: Patient) -> dict[str, Any]:
    """Every patient field, in a fixed order."""
    return {
        "id": patient.id,
        "uid": patient.uid,
        "name": patient.name,
        "birth_date": patient.birth_date,
        "mrn": patient.mrn,
        "phone": patient.phone,
        "email": patient.email,
        "address": patient.address,
        "language": patient.language,
        "payer": patient.payer,
        "member_id": patient.member_id,
        "auth_expires": patient.auth_expires,
        "pcp": patient.pcp,
        "risk": patient.risk,
        "status": patient.status,
        "enrolled_on": patient.enrolled_on,
        "discharged_on": patient.discharged_on,
        "discharge_reason": patient.discharge_reason,
        "tags": split_tags(patient.tags),
        "notes": patient.notes,
        "created_at": _local(patient.created_at),
        "updated_at": _local(patient.updated_at),
    }


def contact_record(contact: Contact, patient: Patient | None = None) -> dict[str, Any]:
    """Every contact field, with the patient's id and name."""
    owner = patient or contact.patient
    return {
        "id": contact.id,
        "uid": contact.uid,
        "patient_id": contact.patient_id,
        "patient_name": owner.name if owner else None,
        "name": contact.name,
        "role": contact.role,
        "organization": contact.organization,
        "phone": contact.phone,
        "email": contact.email,
        "preferred_method": contact.preferred_method,
        "consent_to_share": contact.consent_to_share,
        "notes": contact.notes,
        "created_at": _local(contact.created_at),
        "updated_at": _local(contact.updated_at),
    }


def patient_with_contacts(patient: Patient) -> dict[str, Any]:
    """A patient record with its contacts nested under ``contacts``."""
    record = patient_record(patient)
    record["contacts"] = [contact_record(c, patient) for c in patient.contacts]
    return record


def _short(value: Any, width: int = 40) -> str:
    text = "(empty)" if value in (None, "") else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def change_summary(action: str, changes: dict[str, list[Any]]) -> str:
    """``phone: 555-0100 → 555-0199`` for updates; the fields set or removed otherwise."""
    if action == "update":
        return "; ".join(
            f"{key}: {_short(old)} → {_short(new)}" for key, (old, new) in sorted(changes.items())
        )
    return ", ".join(sorted(changes))


def audit_record(entry: AuditEntry) -> dict[str, Any]:
    """One audit row; ``changes`` maps each field to ``[old, new]``."""
    changes = json.loads(entry.changes)
    return {
        "id": entry.id,
        "at": _local(entry.at),
        "os_user": entry.os_user,
        "action": entry.action,
        "table": entry.table_name,
        "record_id": entry.record_id,
        "record": f"{entry.table_name} #{entry.record_id}",
        "patient_id": entry.patient_id,
        "fields": sorted(changes),
        "summary": change_summary(entry.action, changes),
        "changes": changes,
    }
