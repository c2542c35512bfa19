"""Building blocks every mapping module shares: identifiers, extensions, codings, dates and times.

Plain dicts in and out, as the resources are. Nothing here knows a carecoord table.

FHIR R4 data types: https://hl7.org/fhir/R4/datatypes.html (instant, dateTime, date; Identifier,
CodeableConcept, ContactPoint); extensions: https://hl7.org/fhir/R4/extensibility.html
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from carecoord.fhir import RECORD_ID_SYSTEM, extension_url

# --- identifiers and meta -------------------------------------------------------------------------


def record_identifier(uid: str) -> dict[str, Any]:
    """The identifier every exported resource carries, so that an import finds the record again."""
    return {"system": RECORD_ID_SYSTEM, "value": f"urn:uuid:{uid}"}


def record_uid(resource: Mapping[str, Any]) -> str | None:
    """The carecoord uid a resource carries in its identifiers (see :func:`record_identifier`)."""
    found = resource.get("identifier") or ()
    for identifier in [found] if isinstance(found, Mapping) else found:  # 0..1 on some types (QuestionnaireResponse)
        if not isinstance(identifier, Mapping):
            continue
        value = identifier.get("value")
        if identifier.get("system") == RECORD_ID_SYSTEM and isinstance(value, str) and value.startswith("urn:uuid:"):
            return value.removeprefix("urn:uuid:")
    return None


def meta(updated_at: datetime | None) -> dict[str, Any]:
    """``meta.lastUpdated``: when the record last changed (not when it was exported: same data, same bytes)."""
    return {"lastUpdated": instant(updated_at)} if updated_at is not None else {}


# --- dates and times ------------------------------------------------------------------------------


def instant(moment: datetime) -> str:
    """An R4 instant in UTC, to the second: ``2026-11-25T14:30:00Z``."""
    if moment.tzinfo is not UTC:  # what the database gives is UTC already (models.UTCDateTime)
        moment = moment.astimezone(UTC)
    # YYYY-MM-DDTHH:MM:SS, the fraction cut off, of the time without its zone: writing the offset
    # costs more than dropping the zone (datetime.combine), and an export writes millions
    return datetime.combine(moment, moment.time()).isoformat()[:19] + "Z"


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def zoned(moment: datetime, tz: str) -> str:
    """An R4 dateTime/instant at the wall-clock time of ``tz``, with its offset: ``2026-11-25T09:30:00-05:00``."""
    local = moment.astimezone(_zone(tz))
    return local.isoformat(timespec="seconds") if local.microsecond else local.isoformat()  # the same, cheaper


def day(value: date | None) -> str | None:
    """An R4 date (``2026-11-25``), or None."""
    return value.isoformat() if value is not None else None


def read_date(value: Any) -> date | None:
    """A full date from an R4 date or dateTime; a partial one (``1950``, ``1950-10``) gives None."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def read_moment(value: Any) -> datetime | None:
    """An aware datetime from an R4 dateTime or instant with a time and offset; else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# --- extensions -----------------------------------------------------------------------------------


def extension(name: str, kind: str, value: Any) -> dict[str, Any]:
    """One of carecoord's extensions: ``extension("risk-level", "Code", "high")``."""
    return {"url": extension_url(name), f"value{kind}": value}


def extensions(pairs: Iterable[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    """Extensions for the (name, kind, value) triples whose value is given (None and '' left out)."""
    return [extension(name, kind, value) for name, kind, value in pairs if value is not None and value != ""]


def extension_values(element: Mapping[str, Any], name: str) -> Iterator[Any]:
    """The values of carecoord's extension ``name`` on an element, whatever their type."""
    url = extension_url(name)
    for found in element.get("extension") or ():
        if isinstance(found, Mapping) and found.get("url") == url:
            for key, value in found.items():
                if key.startswith("value"):
                    yield value


def extension_value(element: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """The value of carecoord's extension ``name`` (the first, if repeated), or ``default``."""
    return next(extension_values(element, name), default)


def has_extension(element: Mapping[str, Any], name: str) -> bool:
    """Whether the element carries carecoord's extension ``name``."""
    url = extension_url(name)
    return any(isinstance(found, Mapping) and found.get("url") == url for found in element.get("extension") or ())


def complex_extension(name: str, parts: Iterable[tuple[str, str, Any]]) -> dict[str, Any]:
    """A complex extension: its parts are sub-extensions named by plain words (R4 extensibility)."""
    return {
        "url": extension_url(name),
        "extension": [{"url": part, f"value{kind}": value} for part, kind, value in parts if value is not None],
    }


def parts_of(element: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The sub-extension values of carecoord's complex extension ``name``, by part name; None if absent."""
    url = extension_url(name)
    for found in element.get("extension") or ():
        if isinstance(found, Mapping) and found.get("url") == url:
            parts: dict[str, Any] = {}
            for part in found.get("extension") or ():
                for key, value in part.items():
                    if key.startswith("value"):
                        parts[part.get("url", "")] = value
            return parts
    return None


# --- codings and text -----------------------------------------------------------------------------


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A Coding (display only when known)."""
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(text: str | None, *codings: dict[str, Any] | None) -> dict[str, Any]:
    """A CodeableConcept: the codings that exist, and the words as they were written."""
    found: dict[str, Any] = {}
    kept = [c for c in codings if c]
    if kept:
        found["coding"] = kept
    if text:
        found["text"] = text
    return found


def codes(element: Any, system: str) -> list[str]:
    """The codes of ``system`` in a CodeableConcept."""
    if not isinstance(element, Mapping):
        return []
    return [
        c["code"] for c in element.get("coding") or () if c.get("system") == system and isinstance(c.get("code"), str)
    ]


def words(element: Any) -> str | None:
    """What a CodeableConcept says in words: its text, else the first coding's display, else its code."""
    if not isinstance(element, Mapping):
        return None
    if isinstance(element.get("text"), str) and element["text"].strip():
        return str(element["text"]).strip()
    for found in element.get("coding") or ():
        for key in ("display", "code"):
            if isinstance(found.get(key), str) and found[key].strip():
                return str(found[key]).strip()
    return None


def display_reference(display: str | None) -> dict[str, Any] | None:
    """A Reference that only names something carecoord keeps as words (a payer, a place)."""
    return {"display": display} if display else None


def human_name(text: str) -> dict[str, Any]:
    """A HumanName from the one name string carecoord keeps: the text as written, and a best-effort
    split (the last word the family name, the words before it given names)."""
    words_ = text.split()
    name: dict[str, Any] = {"text": text}
    if words_:
        name["family"] = words_[-1]
    if len(words_) > 1:
        name["given"] = words_[:-1]
    return name


def read_name(names: Any) -> str | None:
    """One name string from HumanNames: the official (or first) one's text, else its given names and
    family name (prefixes and suffixes left out)."""
    if isinstance(names, Mapping):
        names = [names]
    if not isinstance(names, list) or not names:
        return None
    chosen = next((n for n in names if isinstance(n, Mapping) and n.get("use") == "official"), names[0])
    if not isinstance(chosen, Mapping):
        return None
    if isinstance(chosen.get("text"), str) and chosen["text"].strip():
        return " ".join(chosen["text"].split())
    parts = [*(g for g in chosen.get("given") or () if isinstance(g, str)), chosen.get("family") or ""]
    joined = " ".join(" ".join(p for p in parts if isinstance(p, str)).split())
    return joined or None


def telecom(phone: str | None, email: str | None, *, preferred: str | None = None) -> list[dict[str, Any]]:
    """ContactPoints for a stored phone (E.164) and email; ``preferred`` ('phone', 'text' or 'email')
    ranks the matching one first (ContactPoint.rank 1)."""
    found = []
    if phone:
        point: dict[str, Any] = {"system": "phone", "value": phone}
        if preferred in ("phone", "text"):
            point["rank"] = 1
        found.append(point)
    if email:
        point = {"system": "email", "value": email}
        if preferred == "email":
            point["rank"] = 1
        found.append(point)
    return found


def read_telecom(points: Any, system: str) -> str | None:
    """The first value of a kind of ContactPoint ('phone', 'email'), the best-ranked first; ended ones skipped."""
    if not isinstance(points, list):
        return None
    chosen = [
        p for p in points
        if isinstance(p, Mapping) and p.get("system") == system and isinstance(p.get("value"), str)
        and p["value"].strip() and not (p.get("period") or {}).get("end")
    ]  # fmt: skip
    chosen.sort(key=lambda p: int(p["rank"]) if isinstance(p.get("rank"), int) else 1_000)
    return str(chosen[0]["value"]).strip() if chosen else None


def read_address(addresses: Any) -> str | None:
    """One address line of text: the home (or first) address's text, else its lines, city, state and
    postal code (and country, unless US)."""
    if not isinstance(addresses, list) or not addresses:
        return None
    current = [a for a in addresses if isinstance(a, Mapping) and not (a.get("period") or {}).get("end")]
    if not current:
        return None
    chosen = next((a for a in current if a.get("use") == "home"), current[0])
    if isinstance(chosen.get("text"), str) and chosen["text"].strip():
        return str(chosen["text"]).strip()
    lines = [line for line in chosen.get("line") or () if isinstance(line, str) and line.strip()]
    place = " ".join(p for p in (chosen.get("state"), chosen.get("postalCode")) if isinstance(p, str) and p)
    country = chosen.get("country") if chosen.get("country") not in (None, "US", "USA") else None
    parts = [*lines, chosen.get("city"), place, country]
    text = ", ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return text or None


def compact(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without empty elements (None, '', [], {}): FHIR forbids empty elements.
    (A value that is true is kept at once: most are, and the comparisons cost more than the test.)"""
    return {key: value for key, value in resource.items()
            if value or (value is not None and value != "" and value != [] and value != {})}  # fmt: skip
