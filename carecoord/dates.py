"""Dates and times as people type them, durations, business days and the user's time zone.

Accepted forms (see :data:`DATE_FORMS`): ISO dates and times, US ``MM/DD/YYYY``, ``MM/DD``
(no year), ``today``, ``tomorrow``, ``yesterday``, ``now``, weekday names, ``next fri`` and
``last fri``, offsets ``+3d +2w +1m +1y -1d``, ``eow`` (this week's Friday), ``eom``, ``eoy``; any
date form may be followed (or preceded) by a time: ``14:30``, ``9am``, ``2 pm``, ``9:15pm``, ``noon``.

Some forms depend on the direction of the option they are typed into (``past``): an option that
records when something already happened reads a bare weekday as the last one (today included) and
``11/24`` as the most recent 24 November (today included); any other option reads a bare weekday
as the next one (never today) and ``11/24`` as the next 24 November (today included).
``next fri`` is the Friday of next week and ``last fri`` the Friday of last week (weeks run Monday
to Sunday), whatever the direction.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Container
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from carecoord.errors import ValidationError

TZ_ENV_VAR = "CARECOORD_TZ"

DATE_FORMS = (
    "YYYY-MM-DD, MM/DD/YYYY, MM/DD, today, tomorrow, yesterday, a weekday (mon..sun), next fri, last fri, "
    "+3d/+2w/+1m/+1y/-1d, eow, eom, eoy"
)
DATETIME_FORMS = f"{DATE_FORMS}, now, any of these with a time (fri 14:30, tomorrow 9am, 11/24 3 pm), ISO date-time"
# What an error suggests: a few forms, short enough for one line.
DATE_TRY = "2026-11-24, 11/24, tomorrow, fri, next tue, +3d, eom"
DATETIME_TRY = "2026-11-24 14:30, 11/24 3pm, tomorrow 9am, fri, next tue, +3d, eom"
DURATION_FORMS = "30m, 1h30m, 2h, 90d, 2w (m = minutes, h = hours, d = days, w = weeks)"
MINUTES_FORMS = "a number of minutes (90) or a duration (45m, 1h30m, 2h)"

WEEKDAYS = {
    name: index
    for index, names in enumerate(
        (
            ("monday", "mon"),
            ("tuesday", "tue", "tues"),
            ("wednesday", "wed"),
            ("thursday", "thu", "thur", "thurs"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        )
    )
    for name in names
}
_OFFSET = re.compile(r"^([+-])(\d{1,4})([dwmy])$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})$")
# "2 pm", "2:30 p.m." -> "2pm", "2:30pm"
_MERIDIEM = re.compile(r"(\d)\s*([ap])\.?m\.?(?=\s|$)")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$")


# --- the user's zone ----------------------------------------------------------------------------


@cache
def local_zone() -> tzinfo:
    """The coordinator's zone: ``CARECOORD_TZ`` (must be an IANA name), else the system's.

    The system's zone comes from ``TZ`` when it names an IANA zone or a zoneinfo file, else from
    /etc/localtime; anything else there falls back to the C library's idea of local time.
    """
    chosen = os.environ.get(TZ_ENV_VAR, "").strip()
    if chosen:
        try:
            return zone(chosen)
        except ValidationError as error:
            raise ValidationError(f"{TZ_ENV_VAR}: {error.message}") from None
    for candidate in (os.environ.get("TZ", "").strip().lstrip(":"), "/etc/localtime"):
        found = _zone_from(candidate)
        if found is not None:
            return found
    from dateutil import tz

    return tz.tzlocal()


def _zone_from(name: str) -> ZoneInfo | None:
    """An IANA zone from a name or a zoneinfo file path; None if it is neither."""
    if not name:
        return None
    if name.startswith("/"):
        path = Path(name).resolve()
        key = str(path).partition("zoneinfo/")[2]
        if key:
            return _zone_from(key)
        try:
            with path.open("rb") as file:
                return ZoneInfo.from_file(file, key=name)
        except (OSError, ValueError):
            return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone(name: str) -> ZoneInfo:
    """An IANA time zone by name, or a ValidationError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone '{name}' (use an IANA name such as America/New_York)") from None


def now(tz: tzinfo | None = None) -> datetime:
    """The current moment in ``tz`` (default: the user's zone), to the second."""
    return datetime.now(tz or local_zone()).replace(microsecond=0)


def today(tz: tzinfo | None = None) -> date:
    """Today's date in ``tz`` (default: the user's zone)."""
    return now(tz).date()


# --- parsing ------------------------------------------------------------------------------------


def _end_of_month(day: date) -> date:
    return day + relativedelta(day=31)


def _relative_date(word: str, base: date, past: bool) -> date | None:
    """A date for the non-ISO forms, or None if ``word`` is not one of them."""
    if word in ("today", "now"):
        return base
    if word == "tomorrow":
        return base + timedelta(days=1)
    if word == "yesterday":
        return base - timedelta(days=1)
    if word == "eom":
        return _end_of_month(base)
    if word == "eoy":
        return date(base.year, 12, 31)
    if word == "eow":
        return base + timedelta(days=(4 - base.weekday()) % 7)
    weekday = _weekday(word, base, past)
    if weekday is not None:
        return weekday
    match = _OFFSET.match(word)
    if match:
        sign, amount, unit = match.groups()
        n = int(amount) * (-1 if sign == "-" else 1)
        step = {
            "d": relativedelta(days=n),
            "w": relativedelta(weeks=n),
            "m": relativedelta(months=n),
            "y": relativedelta(years=n),
        }[unit]
        return base + step
    return _month_day(word, base, past)


def _weekday(word: str, base: date, past: bool) -> date | None:
    """``fri`` (the last one if ``past``, today included, else the next one, never today);
    ``next fri`` / ``last fri``: the Friday of next / last week (weeks run Monday to Sunday)."""
    which, _, name = word.partition(" ")
    if which in ("next", "last") and name in WEEKDAYS:
        monday = base - timedelta(days=base.weekday())
        return monday + timedelta(weeks=1 if which == "next" else -1, days=WEEKDAYS[name])
    if word not in WEEKDAYS:
        return None
    if past:
        return base - timedelta(days=(base.weekday() - WEEKDAYS[word]) % 7)
    return base + timedelta(days=(WEEKDAYS[word] - base.weekday() - 1) % 7 + 1)


def _month_day(text: str, base: date, past: bool) -> date | None:
    """``11/24`` without a year: the nearest such date on or before ``base`` if ``past``, else on or
    after it. A 2/29 that lands in a year without one is an error (it is most likely a typo)."""
    match = _MONTH_DAY.match(text)
    if not match:
        return None
    month, day = (int(part) for part in match.groups())
    if past:
        year = base.year if (month, day) <= (base.month, base.day) else base.year - 1
    else:
        year = base.year if (month, day) >= (base.month, base.day) else base.year + 1
    try:
        return date(year, month, day)
    except ValueError as error:
        if (month, day) == (2, 29) and 1 <= year <= 9999:
            step = -1 if past else 1
            leap = next(y for y in range(year, year + 9 * step, step) if calendar.isleap(y))
            raise ValidationError(
                f"there is no February 29 in {year}: type the year if you mean another, e.g. 2/29/{leap}"
            ) from None
        raise ValidationError(f"invalid date '{text}': {error}") from None


def _calendar_date(text: str) -> date | None:
    """ISO ``YYYY-MM-DD`` or US ``MM/DD/YYYY``; None if neither shape; error if impossible."""
    us = _US_DATE.match(text)
    try:
        if us:
            month, day, year = (int(part) for part in us.groups())
            return date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError as error:
        raise ValidationError(f"invalid date '{text}': {error}") from None
    return None


def _clock(text: str) -> time | None:
    """``14:30``, ``9am``, ``9:15pm``, ``noon``, ``midnight``; None if not a time."""
    if text in ("noon", "midday"):
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    match = _TIME.match(text)
    if not match or (match.group(2) is None and match.group(3) is None):
        return None
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _date_part(text: str, base: date, past: bool) -> date | None:
    try:
        return _calendar_date(text) or _relative_date(text, base, past)
    except (OverflowError, ValueError):
        raise ValidationError(f"'{text}' is outside the calendar (years 1 to 9999)") from None


def parse_date(text: str, *, base: date | None = None, past: bool = False) -> date:
    """A calendar date from what a person typed (see :data:`DATE_FORMS`).

    ``past``: the option records when something already happened, so ``fri`` and ``11/24`` mean
    the last such day rather than the next one (see the module's docstring).
    """
    cleaned = " ".join(text.strip().lower().split())
    result = _date_part(cleaned, base or today(), past) if cleaned else None
    if result is None:
        raise ValidationError(f"cannot read '{text}' as a date: try {DATE_TRY}")
    return result


def parse_when(
    text: str, *, tz: tzinfo | None = None, base: datetime | None = None, past: bool = False
) -> tuple[date, time | None]:
    """A date and, if one was typed, a wall-clock time (read in ``tz``, default: the user's zone).

    The time may come after the date or before it (``fri 2pm``, ``2pm fri``); a time alone is today.
    """
    tz = tz or local_zone()
    current = (base or now(tz)).astimezone(tz)
    cleaned = _MERIDIEM.sub(r"\1\2m", " ".join(text.strip().lower().split()))
    if cleaned == "now":
        moment = current.replace(second=0)
        return moment.date(), moment.time().replace(tzinfo=None)
    iso = _iso_datetime(cleaned, tz)
    if iso is not None:
        return iso.date(), iso.time().replace(tzinfo=None)
    day: date | None = None
    clock: time | None = None
    words = cleaned.rsplit(" ", 1)
    first = cleaned.split(" ", 1)
    if len(words) == 2 and _clock(words[1]) is not None:
        day, clock = _date_part(words[0], current.date(), past), _clock(words[1])
    elif len(first) == 2 and _clock(first[0]) is not None:
        day, clock = _date_part(first[1], current.date(), past), _clock(first[0])
    elif cleaned:
        day = _date_part(cleaned, current.date(), past)
        if day is None:
            clock = _clock(cleaned)
            day = current.date() if clock else None
    if day is None:
        raise ValidationError(f"cannot read '{text}' as a date and time: try {DATETIME_TRY}")
    return day, clock


def parse_datetime(
    text: str,
    *,
    tz: tzinfo | None = None,
    base: datetime | None = None,
    past: bool = False,
    need_time: bool = False,
) -> datetime:
    """An aware moment from what a person typed, read in ``tz`` (default: the user's zone).

    A date without a time means the start of that day, unless ``need_time`` (an appointment's start:
    'fri' alone would book it at midnight), which refuses it; ``now`` is the current minute. ``past``
    as for :func:`parse_date`.
    """
    tz = tz or local_zone()
    day, clock = parse_when(text, tz=tz, base=base, past=past)
    if need_time and clock is None:
        raise ValidationError(f"'{text}' has no time of day: give one too, e.g. '{text.strip()} 10am'")
    try:
        return localize(day, clock or time(0, 0), tz)
    except (OverflowError, ValueError):
        raise ValidationError(f"'{text}' is outside the calendar (years 1 to 9999)") from None


def parse_date_range(text: str, *, base: date | None = None, past: bool = False) -> tuple[date | None, date | None]:
    """``FROM..TO`` (inclusive; either side may be left out) as two dates."""
    if ".." not in text:
        raise ValidationError(f"cannot read '{text}' as a range; use FROM..TO, e.g. today..fri or ..eom")
    first, _, last = text.partition("..")
    start = parse_date(first, base=base, past=past) if first.strip() else None
    end = parse_date(last, base=base, past=past) if last.strip() else None
    if start and end and end < start:
        raise ValidationError(f"the range '{text}' ends before it starts")
    return start, end


def _iso_datetime(text: str, tz: tzinfo) -> datetime | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[t ]\d{1,2}:\d{2}.*", text):
        return None
    try:
        parsed = datetime.fromisoformat(text.upper().replace(" ", "T", 1))
    except ValueError as error:
        raise ValidationError(f"invalid date and time '{text}': {error}") from None
    if parsed.tzinfo is None:
        return localize(parsed.date(), parsed.time(), tz)
    return parsed.astimezone(tz)


def localize(day: date, clock: time, tz: tzinfo) -> datetime:
    """``day`` at wall-clock ``clock`` in ``tz``.

    A wall time skipped by a DST change moves forward by the gap (02:30 -> 03:30); a repeated
    one means its first occurrence.
    """
    return datetime.combine(day, clock.replace(fold=0), tzinfo=tz).astimezone(UTC).astimezone(tz)


def parse_duration(text: str) -> timedelta:
    """A length of time such as ``30m``, ``1h30m``, ``90d`` (see :data:`DURATION_FORMS`)."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.match(cleaned) if cleaned else None
    if not match or not any(match.groups()):
        raise ValidationError(f"cannot read '{text}' as a duration; use {DURATION_FORMS}")
    weeks, days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)


def parse_days(text: str) -> int:
    """Whole days from an interval such as ``90d`` or ``12w`` (a plan's review cycle)."""
    span = parse_duration(text)
    if span.days < 1 or span.seconds:
        raise ValidationError(f"an interval is whole days or weeks (e.g. 90d, 12w), not '{text}'")
    return span.days


def parse_minutes(text: str) -> int:
    """Whole minutes from a plain number (``90``) or a duration (``45m``, ``1h30m``; see :data:`DURATION_FORMS`)."""
    cleaned = text.strip()
    if re.fullmatch(r"[+-]?\d{1,9}", cleaned):
        return int(cleaned)  # the caller decides what a negative number means
    try:
        return int(parse_duration(cleaned).total_seconds() // 60)
    except (ValidationError, OverflowError):
        raise ValidationError(f"cannot read '{text}' as minutes; use {MINUTES_FORMS}") from None


# --- business days and public holidays -----------------------------------------------------------

HOLIDAYS_ENV_VAR = "CARECOORD_HOLIDAYS"
DEFAULT_HOLIDAYS = "US"
NO_HOLIDAYS = "none"
HOLIDAYS_FORMS = "a country code with an optional subdivision (US, US-CA, GB-SCT) or 'none'"
_HOLIDAY_CODE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z0-9]{1,5}))?$")


def holiday_calendar_code() -> str:
    """The public-holiday calendar business days skip: ``CARECOORD_HOLIDAYS``, else US federal
    holidays (on their observed dates), upper-cased (``none`` stays ``none``)."""
    chosen = os.environ.get(HOLIDAYS_ENV_VAR, "").strip()
    if not chosen:
        return DEFAULT_HOLIDAYS
    return NO_HOLIDAYS if chosen.lower() == NO_HOLIDAYS else chosen.upper()


@cache
def _holidays(code: str) -> Container[date]:
    """The holidays of a calendar code, from the ``holidays`` package (imported here: it is heavy,
    and ``--help`` must stay fast). Its calendars fill in each year on first use and include a
    holiday's observed date (Independence Day on a Saturday is observed the Friday before)."""
    if code == NO_HOLIDAYS:
        return frozenset()
    match = _HOLIDAY_CODE.match(code)
    if match is None:
        raise ValidationError(f"{HOLIDAYS_ENV_VAR}: cannot read '{code}' as a holiday calendar; use {HOLIDAYS_FORMS}")
    import holidays

    country, subdivision = match.groups()
    try:
        return holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        what = f"subdivision '{subdivision}' of '{country}'" if subdivision else f"country '{country}'"
        raise ValidationError(
            f"{HOLIDAYS_ENV_VAR}: the holidays package has no calendar for {what}; use {HOLIDAYS_FORMS}"
        ) from None


def is_business_day(day: date) -> bool:
    """Monday to Friday and not a public holiday of the chosen calendar (see :func:`holiday_calendar_code`)."""
    return day.weekday() < 5 and day not in _holidays(holiday_calendar_code())


def add_business_days(start: date, days: int) -> date:
    """The date ``days`` business days after ``start``: weekdays that are not public holidays on
    their observed dates (US federal ones unless ``CARECOORD_HOLIDAYS`` says otherwise)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current):
            remaining -= 1
    return current


def zone_name(tz: tzinfo) -> str:
    """The IANA name of a zone, which appointments store; an unnamed system zone is an error."""
    key = getattr(tz, "key", None)
    if not key:
        raise ValidationError(f"the system time zone has no IANA name; set {TZ_ENV_VAR} (e.g. America/New_York)")
    return str(key)


def parse_bound(
    text: str, *, end: bool, tz: tzinfo | None = None, base: datetime | None = None, past: bool = False
) -> datetime:
    """A window bound: a date alone means the start of that day, or for an ``end`` the end of it."""
    tz = tz or local_zone()
    day, clock = parse_when(text, tz=tz, base=base, past=past)
    if clock is None and end:
        return localize(day + timedelta(days=1), time(0, 0), tz)
    return localize(day, clock or time(0, 0), tz)


def day_start(day: date, tz: tzinfo | None = None) -> datetime:
    """Midnight at the start of ``day`` in ``tz`` (default: the user's zone)."""
    return localize(day, time(0, 0), tz or local_zone())
