"""carecoord records <-> HL7 FHIR R4 resources, as plain dicts: no CLI, no database.

What every mapping module shares: where carecoord's own extensions and identifiers live, how a
record's stable ``uid`` becomes a resource id, and how one resource refers to another inside a
Bundle (``urn:uuid:`` full URLs) or in NDJSON (``Type/id``).

FHIR R4 (4.0.1): https://hl7.org/fhir/R4/ ; Bundle.entry.fullUrl and reference resolution:
https://hl7.org/fhir/R4/bundle.html#references
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

FHIR_VERSION = "4.0.1"

# carecoord's own definitions. ``.example`` is a reserved top-level domain (RFC 2606): these name
# carecoord's extensions and code systems without claiming anyone's real address.
BASE = "https://carecoord.example/fhir"


def extension_url(name: str) -> str:
    """The canonical URL of carecoord's extension ``name`` (e.g. ``minutes``)."""
    return f"{BASE}/StructureDefinition/{name}"


def code_system(name: str) -> str:
    """The URL of one of carecoord's own code systems (e.g. ``appointment-type``)."""
    return f"{BASE}/CodeSystem/{name}"


# Ids carecoord gives its own records, so a record exported and imported again is found again.
RECORD_ID_SYSTEM = "urn:ietf:rfc:3986"  # identifier.value is the urn:uuid: of the record (FHIR's own system)

# HL7 v2 table 0203 identifier types: https://terminology.hl7.org/CodeSystem-v2-0203.html
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
MRN_TYPE = "MR"

# Names uids are derived from when a source's ids are not UUIDs (RFC 4122 name-based, version 5).
_UID_NAMESPACE = uuid.UUID("6b1f6c1e-4d0a-5c8e-9a57-2f1c3ad0c0de")


def name_based_uuid(namespace: bytes, name: str) -> str:
    """``str(uuid.uuid5(UUID(bytes=namespace), name))`` without its objects: the RFC 4122
    name-based UUID (version 5, SHA-1), for the ids an export makes by the hundred thousand."""
    digest = bytearray(hashlib.sha1(namespace + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def named_uid(resource_type: str, name: str) -> str:
    """The uid :func:`uid_for` gives an id that is not a UUID (the same every time)."""
    return name_based_uuid(_UID_NAMESPACE.bytes, f"{resource_type}/{name}")


def uid_for(resource_type: str, resource_id: str) -> str:
    """A carecoord uid (36 characters) for a resource id: the id itself when it is a UUID.

    Another system's ids may be any 1 to 64 of ``[A-Za-z0-9\\-.]``; those map to a name-based UUID,
    the same one every time, so importing the same file twice finds the same records.
    """
    try:
        return str(uuid.UUID(resource_id))
    except ValueError:
        return named_uid(resource_type, resource_id)


@dataclass(frozen=True)
class Refs:
    """How resources refer to each other: inside a Bundle (``urn:uuid:``) or in NDJSON (``Type/id``)."""

    bundle: bool = True

    def full_url(self, uid: str) -> str:
        """The Bundle entry's fullUrl for a record."""
        return f"urn:uuid:{uid}"

    def to(self, resource_type: str, uid: str, display: str | None = None) -> dict[str, Any]:
        """A Reference to the resource of ``resource_type`` made from the record ``uid``."""
        reference: dict[str, Any] = {"reference": f"urn:uuid:{uid}" if self.bundle else f"{resource_type}/{uid}"}
        if display:
            reference["display"] = display
        return reference
