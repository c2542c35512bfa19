"""Recurrence rules: what people type -> an RFC 5545 RRULE, and the dates it yields (dateutil).

Rules are stored as the RRULE value (``FREQ=WEEKLY;INTERVAL=2``) and always evaluated from the
series' first date (DTSTART), so "monthly from 31 January" means the 31st of every month that has
one (31 March comes next), exactly as RFC 5545 and calendar apps read it; "month-end" is the last
day of every month.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from dateutil.rrule import rrule, rrulestr

from carecoord.errors import ValidationError

RULE_FORMS = (
    "daily, weekdays, weekly, biweekly, monthly, month-end, quarterly, yearly, 'every N days|weeks|months|years', "
    "'every mon,thu', or an RRULE such as FREQ=WEEKLY;BYDAY=MO,WE"
)
PRESETS = {
    "daily": "FREQ=DAILY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekly": "FREQ=WEEKLY",
    "biweekly": "FREQ=WEEKLY;INTERVAL=2",
    "fortnightly": "FREQ=WEEKLY;INTERVAL=2",
    "monthly": "FREQ=MONTHLY",
    "month-end": "FREQ=MONTHLY;BYMONTHDAY=-1",
    "quarterly": "FREQ=MONTHLY;INTERVAL=3",
    "yearly": "FREQ=YEARLY",
    "annually": "FREQ=YEARLY",
}
_UNITS = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}
_DAY_CODES = {
    "mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU",
}  # fmt: skip
_EVERY_N = re.compile(r"^every\s+(\d{1,3})\s+(day|week|month|year)s?$")
_EVERY_UNIT = re.compile(r"^every\s+(day|week|month|year)$")
_EVERY_DAYS = re.compile(r"^every\s+([a-z, ]+)$")
_ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_DESCRIBE_UNIT = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}


def _weekday_codes(text: str) -> str | None:
    codes = []
    for word in re.split(r"[,\s]+", text.strip()):
        if not word:
            continue
        code = _DAY_CODES.get(word[:3])
        if code is None:
            return None
        codes.append(code)
    return ",".join(dict.fromkeys(codes)) if codes else None


def _rule_parts(rule: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in rule.split(";") if "=" in part)


def parse_rule(text: str) -> str:
    """The RRULE value for what a person typed (see :data:`RULE_FORMS`); rejects anything else."""
    cleaned = " ".join(text.strip().lower().split())
    rule: str | None = PRESETS.get(cleaned)
    if rule is None and (match := _EVERY_N.match(cleaned)):
        count, unit = int(match.group(1)), match.group(2)
        if count < 1:
            raise ValidationError(f"'{text}': the interval must be at least 1")
        rule = f"FREQ={_UNITS[unit]}" + (f";INTERVAL={count}" if count > 1 else "")
    elif rule is None and (match := _EVERY_UNIT.match(cleaned)):
        rule = f"FREQ={_UNITS[match.group(1)]}"
    elif rule is None and (match := _EVERY_DAYS.match(cleaned)):
        codes = _weekday_codes(match.group(1))
        rule = f"FREQ=WEEKLY;BYDAY={codes}" if codes else None
    elif rule is None and "freq=" in cleaned:
        rule = text.strip().upper().removeprefix("RRULE:")
    if rule is None:
        raise ValidationError(f"cannot read '{text}' as a repeat rule; use {RULE_FORMS}")
    _check(rule, text)
    return rule


_UNTIL = re.compile(r"^(\d{8})(T\d{6})?(Z)?$")
# A rule is evaluated from this start when it is checked: it must produce a date in the next 50 years.
_CHECK_START = date(2000, 1, 1)


def _positive(parts: dict[str, str], key: str, typed: str) -> None:
    if key in parts and not (parts[key].isdigit() and int(parts[key]) >= 1):
        raise ValidationError(f"'{typed}': {key} must be a whole number of at least 1")


def _check(rule: str, typed: str) -> None:
    parts = _rule_parts(rule)
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        raise ValidationError(f"'{typed}': repeat daily, weekly, monthly or yearly (FREQ=DAILY..YEARLY)")
    if "DTSTART" in rule.upper():
        raise ValidationError(f"'{typed}': give the first date with --due/--start, not in the rule")
    _positive(parts, "INTERVAL", typed)
    _positive(parts, "COUNT", typed)
    if "UNTIL" in parts and not _UNTIL.match(parts["UNTIL"]):
        raise ValidationError(f"'{typed}': UNTIL is a date such as 20261230 or a UTC time such as 20261230T235959Z")
    try:
        series = _rule(rule, _CHECK_START)
        first = series.after(datetime.combine(_CHECK_START, time(0, 0)), inc=True)
    except (ValueError, TypeError) as error:
        raise ValidationError(f"invalid RRULE '{typed}': {error}") from None
    if first is None and "UNTIL" not in parts and "COUNT" not in parts:
        raise ValidationError(f"'{typed}' never happens (no such date, e.g. 30 February)")


def normalise_until(rule: str, tz: tzinfo | None) -> str:
    """UNTIL as dateutil wants it: naive for a date-based series, UTC for a zoned one.

    A date alone means the whole of that day (in ``tz`` for a zoned series).
    """
    parts = _rule_parts(rule)
    match = _UNTIL.match(parts.get("UNTIL", ""))
    if not match:
        return rule
    day, clock, utc = match.groups()
    if tz is None:  # a series of dates: keep the date, include all of it
        value = f"{day}T235959" if not clock or utc else f"{day}{clock}"
    else:
        if utc and clock:
            return rule
        local = datetime.strptime(day + (clock or "T235959"), "%Y%m%dT%H%M%S").replace(tzinfo=tz)
        value = f"{local.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return ";".join(f"UNTIL={value}" if part.startswith("UNTIL=") else part for part in rule.split(";"))


def _rule(rule: str, start: date, **overrides: Any) -> rrule:
    parsed = rrulestr(f"RRULE:{normalise_until(rule, None)}", dtstart=datetime.combine(start, time(0, 0)))
    assert isinstance(parsed, rrule)
    return parsed.replace(**overrides) if overrides else parsed


def next_date(rule: str, start: date, after: date) -> date | None:
    """The first date of the series (from ``start``) strictly after ``after``; None when it ended."""
    following = _rule(rule, start).after(datetime.combine(after, time(0, 0)), inc=False)
    return following.date() if following else None


def dates_between(rule: str, start: date, first: date, last: date) -> list[date]:
    """The series' dates from ``first`` to ``last`` inclusive."""
    found = _rule(rule, start).between(
        datetime.combine(first, time(0, 0)), datetime.combine(last, time(0, 0)), inc=True
    )
    return [moment.date() for moment in found]


def describe(rule: str) -> str:
    """A short human reading: 'every 2 weeks on MO,WE', 'monthly'."""
    for name, preset in PRESETS.items():
        if rule == preset and name not in ("fortnightly", "annually"):
            return name
    parts = _rule_parts(rule)
    unit = _DESCRIBE_UNIT.get(parts.get("FREQ", ""), parts.get("FREQ", "?").lower())
    interval = int(parts.get("INTERVAL", "1"))
    text = f"every {interval} {unit}s" if interval > 1 else f"every {unit}"
    if "BYDAY" in parts:
        text += f" on {parts['BYDAY']}"
    if "BYMONTHDAY" in parts:
        day = parts["BYMONTHDAY"]
        text += " on the last day" if day == "-1" else f" on day {day}"
    if "COUNT" in parts:
        text += ", once" if parts["COUNT"] == "1" else f", {parts['COUNT']} times"
    if "UNTIL" in parts:
        text += f", until {parts['UNTIL'][:8]}"
    return text


# --- series of moments (appointments), evaluated in the zone they were booked in -------------------


def with_end(rule: str, *, until: datetime | None = None, count: int | None = None) -> str:
    """Add an end to a rule: UNTIL (as UTC, as RFC 5545 requires with a zoned start) or COUNT."""
    parts = _rule_parts(rule)
    if (until or count) and ("UNTIL" in parts or "COUNT" in parts):
        raise ValidationError("the repeat rule already says when it ends; drop --until/--count")
    if until is not None and count is not None:
        raise ValidationError("give --until or --count, not both")
    if count is not None:
        if count < 1:
            raise ValidationError("--count must be at least 1")
        return f"{rule};COUNT={count}"
    if until is not None:
        return f"{rule};UNTIL={until.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return rule


def _zoned_rule(rule: str, start: datetime) -> rrule:
    parsed = rrulestr(f"RRULE:{normalise_until(rule, start.tzinfo)}", dtstart=start)
    assert isinstance(parsed, rrule)
    return parsed


def moments_between(rule: str, start: datetime, low: datetime, high: datetime) -> list[datetime]:
    """Occurrence starts in [low, high], at the same wall-clock time in ``start``'s zone (DST-proof)."""
    stepped = _stepped(normalise_until(rule, start.tzinfo))
    if stepped is None:
        return list(_zoned_rule(rule, start).between(low, high, inc=True))
    return _stepped_between(start, *stepped, low, high)


_STEP_DAYS = {"DAILY": 1, "WEEKLY": 7}
_STEPPED_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL"})
_UTC_UNTIL = re.compile(r"^\d{8}T\d{6}Z$")


@lru_cache(maxsize=256)
def _stepped(rule: str) -> tuple[int, int | None, datetime | None] | None:
    """(days between occurrences, COUNT, UNTIL) for a plain daily or weekly rule (no BYxxx parts),
    whose occurrences are the start's wall-clock time every N days; None for any other rule."""
    parts = _rule_parts(rule)
    if parts.keys() - _STEPPED_PARTS or parts.get("FREQ") not in _STEP_DAYS:
        return None
    if "UNTIL" in parts and not _UTC_UNTIL.match(parts["UNTIL"]):
        return None
    until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if "UNTIL" in parts else None
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    return _STEP_DAYS[parts["FREQ"]] * int(parts.get("INTERVAL", "1")), count, until


def _stepped_between(
    start: datetime, step: int, count: int | None, until: datetime | None, low: datetime, high: datetime
) -> list[datetime]:
    """What dateutil's ``between(low, high, inc=True)`` gives for a stepped rule, by arithmetic: the
    busiest part of every agenda is skipping series with no sitting in the window. Each moment is
    built as dateutil builds it: the day, then the start's wall-clock time (whole seconds, fold 0)
    and zone."""
    wall = start.timetz().replace(microsecond=0, fold=0)
    skip = (low.astimezone(start.tzinfo).date() - start.date()).days // step - 1
    found = []
    for index in itertools.count(max(skip, 0)):
        moment = datetime.combine(start.date() + timedelta(days=index * step), wall)
        if moment > high or (count is not None and index >= count) or (until is not None and moment > until):
            break
        if moment >= low:
            found.append(moment)
    return found


def last_moment(rule: str, start: datetime) -> datetime | None:
    """The last occurrence start of a series with COUNT or UNTIL; None when it never ends."""
    parts = _rule_parts(rule)
    if "COUNT" not in parts and "UNTIL" not in parts:
        return None
    series = _zoned_rule(rule, start)
    if "COUNT" in parts:
        moments = list(series)
        return moments[-1] if moments else start
    until_text = _rule_parts(normalise_until(rule, start.tzinfo))["UNTIL"]
    until = datetime.strptime(until_text.rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return series.before(until, inc=True) or start


def fixed_weekdays(rule: str) -> bool:
    """Whether the rule pins weekdays or month days (so moving its start by days would fight it)."""
    parts = _rule_parts(rule)
    return "BYDAY" in parts or "BYMONTHDAY" in parts


def first_moment(rule: str, start: datetime) -> datetime | None:
    """The series' first occurrence on or after ``start`` (RFC 5545 wants it to be ``start`` itself)."""
    return _zoned_rule(rule, start).after(start, inc=True)


def shift_until(rule: str, start: datetime, shift: timedelta) -> str:
    """The rule with its UNTIL moved by ``shift`` (when a whole series moves, its end moves with it)."""
    normalised = normalise_until(rule, start.tzinfo)
    parts = _rule_parts(normalised)
    if "UNTIL" not in parts:
        return rule
    until = datetime.strptime(parts["UNTIL"].rstrip("Z"), "%Y%m%dT%H%M%S").replace(tzinfo=UTC) + shift
    return ";".join(f"UNTIL={until:%Y%m%dT%H%M%SZ}" if p.startswith("UNTIL=") else p for p in normalised.split(";"))


def without_end(rule: str) -> str:
    """The rule without its COUNT or UNTIL."""
    return ";".join(p for p in rule.split(";") if not p.startswith(("COUNT=", "UNTIL=")))


def count_of(rule: str) -> int | None:
    """The rule's COUNT, if it has one."""
    value = _rule_parts(rule).get("COUNT")
    return int(value) if value else None
