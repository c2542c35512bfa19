"""Dates as people type them: fixed examples and properties (month ends, leap days, DST)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carecoord.dates import (
    add_business_days,
    localize,
    parse_date,
    parse_date_range,
    parse_datetime,
    parse_duration,
    parse_when,
)
from carecoord.errors import ValidationError

NY = ZoneInfo("America/New_York")
WEDNESDAY = date(2026, 11, 25)
dates = st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-25", date(2026, 11, 25)),
        ("11/25/2026", date(2026, 11, 25)),
        ("3/2/1950", date(1950, 3, 2)),
        ("today", WEDNESDAY),
        ("Tomorrow", date(2026, 11, 26)),
        ("yesterday", date(2026, 11, 24)),
        ("fri", date(2026, 11, 27)),
        ("friday", date(2026, 11, 27)),
        ("wed", date(2026, 12, 2)),  # the next Wednesday, never today
        ("next mon", date(2026, 11, 30)),
        ("+3d", date(2026, 11, 28)),
        ("+2w", date(2026, 12, 9)),
        ("+1m", date(2026, 12, 25)),
        ("+1y", date(2027, 11, 25)),
        ("-1d", date(2026, 11, 24)),
        ("eow", date(2026, 11, 27)),
        ("eom", date(2026, 11, 30)),
        ("eoy", date(2026, 12, 31)),
    ],
)
def test_date_forms(typed, expected):
    assert parse_date(typed, base=WEDNESDAY) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("fri 14:30", (date(2026, 11, 27), time(14, 30))),
        ("tomorrow 9am", (date(2026, 11, 26), time(9, 0))),
        ("today 9:15pm", (WEDNESDAY, time(21, 15))),
        ("12am", (WEDNESDAY, time(0, 0))),
        ("12pm", (WEDNESDAY, time(12, 0))),
        ("+1d noon", (date(2026, 11, 26), time(12, 0))),
        ("2026-12-01 08:05", (date(2026, 12, 1), time(8, 5))),
        ("2026-12-01T08:05", (date(2026, 12, 1), time(8, 5))),
        ("eom", (date(2026, 11, 30), None)),
    ],
)
def test_date_and_time_forms(typed, expected):
    base = datetime(2026, 11, 25, 9, 0, tzinfo=NY)
    assert parse_when(typed, tz=NY, base=base) == expected


def test_an_explicit_offset_is_converted_to_the_users_zone():
    assert parse_datetime("2026-11-25T15:00Z", tz=NY) == datetime(2026, 11, 25, 10, 0, tzinfo=NY)


@pytest.mark.parametrize("typed", ["next blursday", "2026-02-30", "2027-02-29", "13/01/2026", "25:00", "", "+3x",
                                   "fri 25:00", "tomorrow 13pm"])  # fmt: skip
def test_nonsense_is_refused_with_the_accepted_forms(typed):
    with pytest.raises(ValidationError) as error:
        parse_datetime(typed, tz=NY)
    assert "use" in error.value.message or "invalid date" in error.value.message


def test_leap_days():
    assert parse_date("2028-02-29") == date(2028, 2, 29)
    assert parse_date("+1y", base=date(2028, 2, 29)) == date(2029, 2, 28)
    assert parse_date("+1m", base=date(2028, 1, 31)) == date(2028, 2, 29)
    assert parse_date("eom", base=date(2028, 2, 3)) == date(2028, 2, 29)


@given(dates)
def test_iso_and_us_forms_round_trip(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}") == day


@given(dates, st.integers(min_value=0, max_value=999))
def test_day_and_week_offsets(day, n):
    assert parse_date(f"+{n}d", base=day) == day + timedelta(days=n)
    assert parse_date(f"-{n}d", base=day + timedelta(days=n)) == day
    if n < 400:
        assert parse_date(f"+{n}w", base=day) == day + timedelta(weeks=n)


@given(dates.filter(lambda d: d.year < 2099))
def test_a_month_on_stays_in_the_next_month_and_clamps_to_its_end(day):
    result = parse_date("+1m", base=day)
    next_month = (day.month % 12) + 1
    assert result.month == next_month
    assert result.day == min(day.day, calendar.monthrange(result.year, next_month)[1])


@given(dates)
def test_end_of_month_is_the_last_day(day):
    end = parse_date("eom", base=day)
    assert end.month == day.month and (end + timedelta(days=1)).day == 1


@given(dates, st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
def test_a_weekday_is_the_next_such_day(day, name):
    result = parse_date(name, base=day)
    assert 1 <= (result - day).days <= 7
    assert result.strftime("%a").lower() == name


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)), st.times())
def test_wall_clock_times_survive_dst_days(day, clock):
    clock = clock.replace(second=0, microsecond=0)
    moment = parse_datetime(f"{day.isoformat()} {clock:%H:%M}", tz=NY)
    naive = datetime.combine(day, clock)
    skipped = moment.replace(tzinfo=None) != naive
    if skipped:  # only a time inside the spring-forward gap moves, and by exactly the gap
        assert moment.replace(tzinfo=None) - naive == timedelta(hours=1)
        assert day.month == 3 and clock.hour == 2
    assert moment.astimezone(ZoneInfo("UTC")).astimezone(NY) == moment


def test_dst_edges_in_new_york():
    spring = localize(date(2027, 3, 14), time(2, 30), NY)
    assert (spring.hour, spring.minute, spring.utcoffset()) == (3, 30, timedelta(hours=-4))
    fall = localize(date(2026, 11, 1), time(1, 30), NY)
    assert fall.utcoffset() == timedelta(hours=-4)  # the first 01:30 of the repeated hour


@pytest.mark.parametrize(
    ("typed", "minutes"), [("30m", 30), ("1h30m", 90), ("2h", 120), ("90d", 90 * 1440), ("2w", 20160), ("45min", 45)]
)
def test_durations(typed, minutes):
    assert parse_duration(typed) == timedelta(minutes=minutes)


@pytest.mark.parametrize("typed", ["", "soon", "30", "1.5h", "-30m", "h"])
def test_bad_durations(typed):
    with pytest.raises(ValidationError, match="duration"):
        parse_duration(typed)


@given(st.integers(min_value=0, max_value=48), st.integers(min_value=0, max_value=59))
def test_duration_round_trip(hours, minutes):
    if hours or minutes:
        assert parse_duration(f"{hours}h{minutes}m") == timedelta(hours=hours, minutes=minutes)


def test_ranges():
    assert parse_date_range("today..fri", base=WEDNESDAY) == (WEDNESDAY, date(2026, 11, 27))
    assert parse_date_range("..eom", base=WEDNESDAY) == (None, date(2026, 11, 30))
    with pytest.raises(ValidationError, match="ends before it starts"):
        parse_date_range("fri..today", base=WEDNESDAY)


def test_business_days_skip_the_weekend():
    friday = date(2026, 11, 27)
    assert add_business_days(friday, 2) == date(2026, 12, 1)  # Tuesday
    assert add_business_days(date(2026, 11, 25), 2) == date(2026, 11, 27)
