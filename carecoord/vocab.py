"""Value sets shared by command options and the models (plain Python, no SQLModel).

Codes follow HL7 FHIR R4 where FHIR has a value set, so exports map cleanly.
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """How a command prints records."""

    table = "table"
    json = "json"
    csv = "csv"


class RiskLevel(StrEnum):
    """A patient's risk tier, as the coordinator assesses it."""

    low = "low"
    moderate = "moderate"
    high = "high"


RISK_RANK = {RiskLevel.high.value: 0, RiskLevel.moderate.value: 1, RiskLevel.low.value: 2}


class PatientStatus(StrEnum):
    """Where a patient is in the program."""

    active = "active"
    on_hold = "on-hold"
    discharged = "discharged"


class ContactMethod(StrEnum):
    """How a contact prefers to be reached."""

    phone = "phone"
    text = "text"
    email = "email"
    mail = "mail"
    in_person = "in-person"
    portal = "portal"
    fax = "fax"


class PatientSort(StrEnum):
    """Sort keys for ``patient list``."""

    name = "name"
    id = "id"
    risk = "risk"
    dob = "dob"
    enrolled = "enrolled"
    updated = "updated"


class AuditAction(StrEnum):
    """What happened to a row."""

    create = "create"
    update = "update"
    delete = "delete"
