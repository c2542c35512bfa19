"""Checks for text people type: one-line fields, free text, email addresses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from carecoord.errors import ValidationError
from carecoord.fields import FieldSpec, Kind, RecordSpec

_EMAIL_OK = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# Unicode's control characters (category Cc) are exactly U+0000-U+001F and U+007F-U+009F; a
# regular expression finds them much faster than asking unicodedata about every character (imports).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _has_control(text: str, allowed: str = "") -> bool:
    return any(ch not in allowed for ch in _CONTROL.findall(text))


def single_line(value: str | None, what: str) -> str | None:
    """A one-line field, trimmed; None when empty; control characters (newlines too) refused."""
    if value is None:
        return None
    if _has_control(value):
        raise ValidationError(f"the {what} must be one line of text without control characters")
    return value.strip() or None


def required_line(value: str | None, what: str) -> str:
    """A one-line field that must not be empty."""
    cleaned = single_line(value, what)
    if not cleaned:
        raise ValidationError(f"the {what} must not be empty")
    return cleaned


def free_text(value: str | None, what: str) -> str | None:
    """Notes: several lines allowed (CRLF becomes LF); other control characters refused."""
    if value is None:
        return None
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _has_control(text, allowed="\n\t"):
        raise ValidationError(f"the {what} must not contain control characters")
    return text.strip() or None


def email(value: str | None) -> str | None:
    """An email address, or None; something without a user, an @ and a domain is refused."""
    cleaned = single_line(value, "email address")
    if cleaned is not None and not _EMAIL_OK.match(cleaned):
        raise ValidationError(f"invalid email address '{cleaned}'")
    return cleaned


def phone(value: str | None, what: str = "phone number") -> str | None:
    """A phone number as stored (E.164, see carecoord.phones), or None; one that cannot be read is
    refused with the reason, unless it is ``AsTyped`` (``--raw-phone``), kept as typed (one line)."""
    from carecoord.phones import AsTyped, normalise

    cleaned = single_line(value, what)
    if cleaned is None or isinstance(value, AsTyped):
        return cleaned
    return normalise(cleaned)


def choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    """One of ``allowed`` (case-insensitive), or None for an empty value."""
    cleaned = single_line(value, what)
    if cleaned is None:
        return None
    if cleaned.lower() not in allowed:
        raise ValidationError(f"invalid {what} '{cleaned}': use one of {', '.join(allowed)}")
    return cleaned.lower()


def clean(spec: FieldSpec, value: Any) -> Any:
    """A value for the field ``spec``, checked by its kind; empty text becomes None (clears it)."""
    if spec.kind is Kind.name:
        return required_line(value, spec.what)
    if spec.kind is Kind.line:
        return single_line(value, spec.what)
    if spec.kind is Kind.text:
        return free_text(value, spec.what)
    if spec.kind is Kind.email:
        return email(value)
    if spec.kind is Kind.phone:
        return phone(value, spec.what)
    if spec.kind is Kind.choice:
        word = single_line(value, spec.what)
        return choice(spec.synonyms.get(word.lower(), word) if word else None, spec.choices, spec.what)
    if spec.kind in (Kind.date, Kind.time, Kind.moment, Kind.minutes):  # parsed by the command; '' clears
        return None if value == "" else value
    if spec.kind is Kind.number:
        return count(value, spec.what)
    if spec.kind is Kind.days:
        return days(value, spec.what)
    return value


def days(value: Any, what: str) -> int | None:
    """A whole number of days, at least one ('' or None: none)."""
    number = count(value, what)
    if number == 0:
        raise ValidationError(f"the {what} must be at least one day")
    return number


def count(value: Any, what: str) -> int | None:
    """A whole number, 0 or more ('' or None: none); a negative or unreadable one is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        word = str(value).strip()
        if not word.lstrip("-").isdigit() or not word.isascii():
            raise ValidationError(f"the {what} must be a whole number, not '{word}'")
        number = int(word)
    if number < 0:
        raise ValidationError(f"the {what} cannot be negative ({number})")
    if number > 1_000_000:
        raise ValidationError(f"the {what} ({number}) is implausibly large")
    return number


def clean_fields(record: RecordSpec, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Check the fields a person set on a ``record``; a field that add/edit cannot set is refused."""
    settable = {spec.key: spec for spec in record.editable}
    unknown = set(fields) - set(settable)
    if unknown:
        raise ValidationError(f"unknown {record.noun} field(s): {', '.join(sorted(unknown))}")
    values = {key: clean(settable[key], value) for key, value in fields.items()}
    for key, value in values.items():
        spec = settable[key]
        if value is None and spec.required:
            choices = f": use one of {', '.join(spec.choices)}" if spec.choices else ""
            raise ValidationError(f"the {spec.what} cannot be cleared{choices}")
    return values
