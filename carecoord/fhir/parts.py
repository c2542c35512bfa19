"""Small FHIR R4 building blocks the care-planning mappings share: identifiers, codings, carecoord's
extensions, durations, dates and times, as plain dicts.

Data types: https://hl7.org/fhir/R4/datatypes.html ; extensions: https://hl7.org/fhir/R4/extensibility.html
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, tzinfo
from typing import Any

from carecoord.errors import ValidationError
from carecoord.fhir import RECORD_ID_SYSTEM, extension_url, uid_for

# UCUM, the units of Duration values (https://hl7.org/fhir/R4/datatypes.html#Duration: "SHALL be UCUM").
UCUM = "http://unitsofmeasure.org"

Resource = dict[str, Any]


def record_identifier(uid: str) -> list[dict[str, str]]:
    """The identifier every exported record carries, so that it is found again on import."""
    return [{"system": RECORD_ID_SYSTEM, "value": f"urn:uuid:{uid}"}]


def resource_uid(resource: Resource) -> str:
    """The carecoord uid of a resource: from carecoord's identifier if it has one, else from its id."""
    for identifier in resource.get("identifier") or []:
        value = identifier.get("value") or ""
        if identifier.get("system") == RECORD_ID_SYSTEM and value.startswith("urn:uuid:"):
            return uid_for(resource["resourceType"], value.removeprefix("urn:uuid:"))
    if not resource.get("id"):
        raise ValidationError(f"{resource.get('resourceType', 'a resource')} without an id")
    return uid_for(resource["resourceType"], str(resource["id"]))


def name(resource: Resource) -> str:
    """``Task/abc``: how an error names a resource."""
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A Coding."""
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one coding."""
    found: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        found["text"] = text
    return found


def code_in(value: dict[str, Any] | None, system: str) -> str | None:
    """The code a CodeableConcept (or a Coding) has in ``system``, if any."""
    if not value:
        return None
    codings = value.get("coding") if "coding" in value else [value]
    return next((c.get("code") for c in codings or [] if c.get("system") == system and c.get("code")), None)


def codes_in(values: Iterable[dict[str, Any]] | None, system: str) -> str | None:
    """The first code in ``system`` among several CodeableConcepts."""
    return next((code for value in values or [] if (code := code_in(value, system))), None)


def extension(key: str, **value: Any) -> dict[str, Any]:
    """One of carecoord's extensions, e.g. ``extension("minutes", valueInteger=5)``."""
    return {"url": extension_url(key), **value}


def extensions(*found: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The extensions that have a value (a None or a valueless one is left out)."""
    return [ext for ext in found if ext is not None and any(_has_value(key, value) for key, value in ext.items())]


def _has_value(key: str, value: Any) -> bool:
    return key.startswith(("value", "extension")) and value not in (None, "", [])


def find_extension(element: dict[str, Any], key: str) -> dict[str, Any] | None:
    """carecoord's extension ``key`` on an element, if present."""
    url = extension_url(key)
    return next((ext for ext in element.get("extension") or [] if ext.get("url") == url), None)


def find_extensions(element: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Every occurrence of carecoord's extension ``key`` on an element."""
    url = extension_url(key)
    return [ext for ext in element.get("extension") or [] if ext.get("url") == url]


def extension_value(element: dict[str, Any], key: str, value_type: str) -> Any:
    """The ``value<Type>`` of carecoord's extension ``key``, or None."""
    found = find_extension(element, key)
    return found.get(f"value{value_type}") if found else None


def duration(value: int, unit: str) -> dict[str, Any]:
    """A Duration in UCUM units: ``d`` (days) or ``min`` (minutes)."""
    return {"value": value, "unit": {"d": "days", "min": "minutes"}[unit], "system": UCUM, "code": unit}


def duration_value(value: dict[str, Any] | None, unit: str, owner: str) -> int | None:
    """The whole number of ``unit`` in a Duration (``d`` or ``min``; hours count too for minutes)."""
    if not value:
        return None
    scale = {("min", "min"): 1, ("min", "h"): 60, ("d", "d"): 1, ("d", "wk"): 7}
    factor = scale.get((unit, value.get("code") or unit))
    amount = value.get("value")
    if factor is None or not isinstance(amount, int | float) or amount != int(amount):
        raise ValidationError(f"{owner}: a duration of {amount} {value.get('code')} is not a whole number of {unit}")
    return int(amount) * factor


def fhir_date(day: date | None) -> str | None:
    """A FHIR date (``YYYY-MM-DD``)."""
    return day.isoformat() if day else None


def fhir_instant(moment: datetime | None) -> str | None:
    """A FHIR dateTime with seconds and the UTC offset (an aware datetime)."""
    return moment.isoformat(timespec="seconds") if moment else None


def parse_date(value: Any, owner: str) -> date | None:
    """A FHIR date (or the date part of a dateTime) as a date; partial dates are refused."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{owner}: '{text}' is not a full date (YYYY-MM-DD)") from None


def parse_moment(value: Any, owner: str, zone: tzinfo) -> datetime | None:
    """A FHIR dateTime as an aware datetime; a date alone is the start of that day in ``zone``."""
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) == 10:
        day = parse_date(text, owner)
        assert day is not None
        return datetime.combine(day, time(0), tzinfo=zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{owner}: '{text}' is not a date and time") from None
    if moment.tzinfo is None:  # FHIR requires the offset with a time; read a missing one as local
        moment = moment.replace(tzinfo=zone)
    return moment


def single_annotation(resource: Resource) -> str | None:
    """The text of a resource's notes (Annotation), joined by blank lines when there are several."""
    texts = [note.get("text") for note in resource.get("note") or [] if note.get("text")]
    return "\n\n".join(texts) or None


def annotation(text: str | None) -> list[dict[str, str]] | None:
    """``note`` holding one Annotation, or None."""
    return [{"text": text}] if text else None


def drop_empty(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without keys whose value is None or an empty list (FHIR forbids empty elements)."""
    return {key: value for key, value in resource.items() if value is not None and value != [] and value != {}}
