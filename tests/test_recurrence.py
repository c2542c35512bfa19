"""Repeat rules: what people type, the RRULE stored, and the dates it yields."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st

from carecoord.errors import ValidationError
from carecoord.recurrence import dates_between, describe, next_date, parse_rule


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("daily", "FREQ=DAILY"),
        ("Weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("weekly", "FREQ=WEEKLY"),
        ("biweekly", "FREQ=WEEKLY;INTERVAL=2"),
        ("monthly", "FREQ=MONTHLY"),
        ("month-end", "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ("every 3 days", "FREQ=DAILY;INTERVAL=3"),
        ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("every 6 months", "FREQ=MONTHLY;INTERVAL=6"),
        ("every month", "FREQ=MONTHLY"),
        ("every mon, thu", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE"),
        ("RRULE:FREQ=DAILY;COUNT=3", "FREQ=DAILY;COUNT=3"),
    ],
)
def test_rules_people_type(typed, rule):
    assert parse_rule(typed) == rule


@pytest.mark.parametrize("typed", ["sometimes", "every blue moon", "FREQ=HOURLY", "FREQ=WEEKLY;BYDAY=XX",
                                   "every 0 days", "", "FREQ=DAILY;DTSTART=20260101"])  # fmt: skip
def test_bad_rules_are_refused(typed):
    with pytest.raises(ValidationError):
        parse_rule(typed)


def test_monthly_from_the_31st_follows_rfc_5545():
    # RFC 5545: a monthly rule from the 31st skips months without a 31st.
    assert next_date("FREQ=MONTHLY", date(2027, 1, 31), date(2027, 1, 31)) == date(2027, 3, 31)
    assert next_date("FREQ=MONTHLY", date(2027, 1, 31), date(2027, 3, 31)) == date(2027, 5, 31)


def test_month_end_is_the_last_day_including_leap_years():
    rule = parse_rule("month-end")
    assert next_date(rule, date(2027, 1, 31), date(2027, 1, 31)) == date(2027, 2, 28)
    assert next_date(rule, date(2028, 1, 31), date(2028, 1, 31)) == date(2028, 2, 29)


def test_weekdays_skip_the_weekend():
    assert next_date(parse_rule("weekdays"), date(2026, 11, 27), date(2026, 11, 27)) == date(2026, 11, 30)


def test_a_counted_series_ends():
    rule = parse_rule("FREQ=DAILY;COUNT=3")
    start = date(2026, 11, 25)
    assert next_date(rule, start, date(2026, 11, 26)) == date(2026, 11, 27)
    assert next_date(rule, start, date(2026, 11, 27)) is None


def test_dates_between():
    assert dates_between("FREQ=WEEKLY", date(2026, 11, 2), date(2026, 11, 10), date(2026, 11, 30)) == [
        date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30),
    ]  # fmt: skip


def test_descriptions():
    assert describe("FREQ=WEEKLY") == "weekly"
    assert describe("FREQ=DAILY;INTERVAL=3") == "every 3 days"
    assert describe("FREQ=WEEKLY;BYDAY=MO,TH") == "every week on MO,TH"
    assert describe("FREQ=MONTHLY;BYMONTHDAY=-1") == "month-end"


rules = st.sampled_from(["daily", "weekdays", "weekly", "biweekly", "monthly", "month-end", "every 3 days",
                         "every mon,thu", "quarterly", "yearly"])  # fmt: skip


@given(rules, st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 400))
def test_the_next_date_is_the_rules_next_date(typed, start, offset):
    rule = parse_rule(typed)
    after = date.fromordinal(start.toordinal() + offset)
    following = next_date(rule, start, after)
    assert following is not None and following > after
    expanded = rrulestr(f"RRULE:{rule}", dtstart=datetime.combine(start, time()))
    between = expanded.between(datetime.combine(after, time()), datetime.combine(following, time()), inc=True)
    assert next(d.date() for d in between if d.date() > after) == following


# Daily and weekly series are expanded by arithmetic (the agenda's hot path); dateutil is the oracle.
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
stepped_rules = st.builds(
    lambda freq, interval, end: ";".join(part for part in (f"FREQ={freq}", interval, end) if part),
    st.sampled_from(["DAILY", "WEEKLY"]),
    st.sampled_from(["", "INTERVAL=2", "INTERVAL=3"]),
    st.sampled_from(["", "COUNT=1", "COUNT=12", "UNTIL=20270315", "UNTIL=20261101T060000Z", "UNTIL=20260301T063000"]),
)


@given(
    stepped_rules,
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.booleans(),
    st.datetimes(min_value=datetime(2024, 12, 1), max_value=datetime(2028, 2, 1)),
    st.integers(min_value=0, max_value=40 * 24),
)
def test_stepped_series_give_what_dateutil_gives(rule, zone_name, wall, fold, low_naive, hours):
    from zoneinfo import ZoneInfo

    from carecoord.recurrence import _zoned_rule, moments_between

    zone = ZoneInfo(zone_name)
    start = wall.replace(tzinfo=zone, fold=int(fold))  # ambiguous and skipped times, odd seconds too
    low = low_naive.replace(tzinfo=UTC)
    high = low + timedelta(hours=hours)
    expected = list(_zoned_rule(rule, start).between(low, high, inc=True))
    found = moments_between(rule, start, low, high)
    assert found == expected
    assert [(m.utcoffset(), m.fold) for m in found] == [(m.utcoffset(), m.fold) for m in expected]
