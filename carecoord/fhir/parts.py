"""What the care-planning mappings need beyond :mod:`carecoord.fhir.elements`: durations in UCUM
units, notes as Annotations, repeated complex extensions, and how an error names a resource.

Duration: https://hl7.org/fhir/R4/datatypes.html#Duration ; Annotation:
https://hl7.org/fhir/R4/datatypes.html#Annotation ; extensions: https://hl7.org/fhir/R4/extensibility.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carecoord.errors import ValidationError
from carecoord.fhir import extension_url

# UCUM, the units of Duration values (a Duration's code "SHALL be UCUM").
UCUM = "http://unitsofmeasure.org"
_UNIT_NAMES = {"d": "days", "min": "minutes"}
# Whole units of ``unit`` in one of a Duration's code: days from days or weeks, minutes from minutes or hours.
_SCALE = {("min", "min"): 1, ("min", "h"): 60, ("d", "d"): 1, ("d", "wk"): 7}

Resource = dict[str, Any]


def name(resource: Mapping[str, Any]) -> str:
    """``Task/abc``: how an error names a resource."""
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def duration(value: int, unit: str) -> dict[str, Any]:
    """A Duration in UCUM units: ``d`` (days) or ``min`` (minutes)."""
    return {"value": value, "unit": _UNIT_NAMES[unit], "system": UCUM, "code": unit}


def duration_value(value: Any, unit: str, owner: str) -> int | None:
    """The whole number of ``unit`` (``d`` or ``min``) a Duration holds; None when there is none."""
    if not isinstance(value, Mapping):
        return None
    factor = _SCALE.get((unit, value.get("code") or unit))
    amount = value.get("value")
    if factor is None or not isinstance(amount, int | float) or amount != int(amount):
        raise ValidationError(f"{owner}: a duration of {amount} {value.get('code')} is not a whole number of {unit}")
    return int(amount) * factor


def annotation(text: str | None) -> list[dict[str, str]] | None:
    """``note``: one Annotation holding the text, or None."""
    return [{"text": text}] if text else None


def note_text(resource: Mapping[str, Any]) -> str | None:
    """The text of a resource's notes (Annotations), joined by blank lines when there are several."""
    texts = [note["text"] for note in resource.get("note") or () if isinstance(note.get("text"), str) and note["text"]]
    return "\n\n".join(texts) or None


def all_parts(element: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The sub-extension values of every occurrence of carecoord's complex extension ``key``, by part name
    (:func:`carecoord.fhir.elements.parts_of` reads the first only)."""
    url = extension_url(key)
    found = []
    for ext in element.get("extension") or ():
        if isinstance(ext, Mapping) and ext.get("url") == url:
            found.append({
                part.get("url", ""): value
                for part in ext.get("extension") or () for k, value in part.items() if k.startswith("value")
            })  # fmt: skip
    return found
