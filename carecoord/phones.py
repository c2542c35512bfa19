"""Phone numbers: read as people type them, stored in one form, shown the way people read them.

Stored as E.164 (``+16175550123``), with an extension after ``;ext=`` as RFC 3966 writes it
(``+16175550123;ext=12``), so that a number typed any way is found again; shown in national format
for the coordinator's region (``(617) 555-0123``) and in international format for others
(``+44 20 7946 0958``). A number is accepted when it is *possible* (the right number of digits for
its country), not only when it is assigned, so fictional 555 numbers (demo data, tests, Synthea)
keep working; a seven-digit local number typed without its area code (``555-0100``) is kept
without one. Anything else is refused with the reason, unless the person asks to keep it as typed
(:class:`AsTyped`, ``--raw-phone``).

The ``phonenumbers`` package is imported inside the functions: ``--help`` must stay fast.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import Any

from carecoord.errors import ValidationError

REGION_ENV_VAR = "CARECOORD_REGION"
DEFAULT_REGION = "US"
EXTENSION = ";ext="
# Characters a phone number is typed with; a search made only of them (and 4+ digits) is a number.
_PHONE_LIKE = re.compile(r"^[\d\s().+\-/]*(?:\s*(?:x|ext\.?|extension|#)\s*\d+)?$", re.IGNORECASE)
EXAMPLE = "(617) 555-0123, or +44 20 7946 0958 for another country"


class AsTyped(str):
    """A phone number to keep exactly as typed (``--raw-phone``): not read, not checked."""

    __slots__ = ()


@cache
def _region(code: str) -> str:
    import phonenumbers

    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            f"{REGION_ENV_VAR}: '{code}' is not a region phonenumbers knows; use a two-letter country code "
            "such as US, CA, GB"
        )
    return code


def default_region() -> str:
    """The region a number typed without a country code belongs to: ``CARECOORD_REGION``, else US."""
    return _region(os.environ.get(REGION_ENV_VAR, "").strip().upper() or DEFAULT_REGION)


def _reason(number: Any, result: int, region: str) -> str | None:
    """Why a parsed number cannot be kept, or None if it is possible."""
    import phonenumbers
    from phonenumbers import ValidationResult

    if result in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        return None
    where = phonenumbers.region_code_for_country_code(number.country_code)
    country = f"a {where} phone number" if where != phonenumbers.UNKNOWN_REGION else "a phone number"
    if result == ValidationResult.INVALID_COUNTRY_CODE:
        return f"+{number.country_code} is not a country calling code"
    if result == ValidationResult.TOO_SHORT:
        return f"it is too short for {country}"
    if result == ValidationResult.TOO_LONG:
        return f"it is too long for {country}"
    return f"it has the wrong number of digits for {country}"


def normalise(text: str, region: str | None = None, *, raw: bool = True) -> str:
    """``text`` as stored: E.164, with ``;ext=N`` for an extension; a ValidationError says why not
    (and, where the command has ``--raw-phone``, ``raw``, how to keep it as typed)."""
    import phonenumbers

    region = region or default_region()
    hint = f"type it like {EXAMPLE}" + (", or keep it as typed with --raw-phone" if raw else "")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        why = {
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "its country code is missing or unknown",
            phonenumbers.NumberParseException.TOO_SHORT_NSN: "it is too short",
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
            phonenumbers.NumberParseException.TOO_LONG: "it is too long",
        }.get(error.error_type)
        raise ValidationError(f"cannot read '{text}' as a phone number{f' ({why})' if why else ''}: {hint}") from None
    reason = _reason(number, phonenumbers.is_possible_number_with_reason(number), region)
    if reason is not None:
        raise ValidationError(f"cannot read '{text}' as a phone number ({reason}): {hint}")
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return stored + (f"{EXTENSION}{number.extension}" if number.extension else "")


def lenient(text: str) -> str:
    """``text`` as stored if it reads as a number, else kept as typed (imports with --raw-phone)."""
    try:
        return normalise(text)
    except ValidationError:
        return AsTyped(text)


def display(stored: str | None) -> str | None:
    """How a stored number reads: national format in the user's region, international otherwise;
    a number kept as typed (or unreadable) as it is."""
    if not stored or not stored.startswith("+"):
        return stored
    import phonenumbers

    number_part, _, extension = stored.partition(EXTENSION)
    try:
        number = phonenumbers.parse(number_part, None)
    except phonenumbers.NumberParseException:
        return stored
    if extension:
        number.extension = extension
    home = phonenumbers.country_code_for_region(default_region())
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == home
        else (phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    )
    return str(phonenumbers.format_number(number, style))


def search_digits(text: str) -> list[str]:
    """The digit strings a stored number holding what was typed contains: for a search that looks
    like a phone number (only phone characters, 4 digits or more), its digits as typed and, when
    it reads as a number, the digits of its E.164 form; else nothing (search as text)."""
    cleaned = text.strip()
    main = re.split(r"(?i)\s*(?:x|ext\.?|extension|#)\s*\d+$", cleaned)[0]
    digits = re.sub(r"\D", "", main)
    if not _PHONE_LIKE.match(cleaned) or len(digits) < 4:
        return []
    found = [digits]
    try:
        stored = normalise(main)
    except ValidationError:
        return found
    e164_digits = stored.partition(EXTENSION)[0].lstrip("+")
    return found if e164_digits in found else [*found, e164_digits]


def shown(key: str = "phone") -> Any:
    """A ``Column.show`` for a record's phone key: the number as people read it."""
    return lambda record: display(record.get(key))
