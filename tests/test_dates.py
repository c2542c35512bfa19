"""Dates as people type them: fixed examples and properties (month ends, leap days, DST), and the
user's time zone from CARECOORD_TZ or TZ."""

from __future__ import annotations

import calendar
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
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
from tests.conftest import assert_one_line_error

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
    assert "try 2026-11-24" in error.value.message or "invalid date" in error.value.message


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
    assert add_business_days(date(2026, 11, 18), 2) == date(2026, 11, 20)


# --- the direction of an option: a weekday or 11/24 in an option about the past is the last one ---

SATURDAY = date(2026, 11, 28)
MONDAY = date(2026, 11, 23)
NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.mark.parametrize(
    ("typed", "base", "past", "expected"),
    [
        ("mon", WEDNESDAY, True, date(2026, 11, 23)),  # two days ago
        ("monday", WEDNESDAY, True, date(2026, 11, 23)),
        ("tue", WEDNESDAY, True, date(2026, 11, 24)),
        ("wed", WEDNESDAY, True, WEDNESDAY),  # today's weekday, looking back: today
        ("wed", WEDNESDAY, False, date(2026, 12, 2)),  # looking ahead: next week's, as before
        ("thu", WEDNESDAY, True, date(2026, 11, 19)),
        ("sun", WEDNESDAY, True, date(2026, 11, 22)),
        ("thu", WEDNESDAY, False, date(2026, 11, 26)),
        # next WEEKDAY: that day of next week (weeks run Monday to Sunday), in either direction
        ("next tue", WEDNESDAY, False, date(2026, 12, 1)),  # said on a Wednesday: 6 days out
        ("next tuesday", MONDAY, False, date(2026, 12, 1)),  # said on a Monday: 8 days out, not tomorrow
        ("next thu", WEDNESDAY, False, date(2026, 12, 3)),  # not tomorrow
        ("next wed", WEDNESDAY, True, date(2026, 12, 2)),
        ("next mon", date(2026, 11, 29), False, date(2026, 11, 30)),  # on a Sunday, next week starts tomorrow
        ("next sun", SATURDAY, False, date(2026, 12, 6)),
        # last WEEKDAY: that day of last week
        ("last friday", WEDNESDAY, True, date(2026, 11, 20)),
        ("last fri", WEDNESDAY, False, date(2026, 11, 20)),
        ("last tue", WEDNESDAY, True, date(2026, 11, 17)),  # not yesterday ('tue' is yesterday)
        ("last wed", WEDNESDAY, True, date(2026, 11, 18)),
        ("last fri", SATURDAY, True, date(2026, 11, 20)),
        ("last mon", date(2026, 1, 1), True, date(2025, 12, 22)),  # across the year
        # month/day without a year: the nearest such date in the option's direction, today counting
        ("11/24", WEDNESDAY, True, date(2026, 11, 24)),
        ("11/24", WEDNESDAY, False, date(2027, 11, 24)),
        ("11/25", WEDNESDAY, True, WEDNESDAY),
        ("11/25", WEDNESDAY, False, WEDNESDAY),
        ("11/26", WEDNESDAY, True, date(2025, 11, 26)),
        ("12/1", WEDNESDAY, False, date(2026, 12, 1)),
        ("01/05", WEDNESDAY, False, date(2027, 1, 5)),
        # the year wraps: 12/31 typed in January, 1/2 typed in December
        ("12/31", date(2027, 1, 5), True, date(2026, 12, 31)),
        ("12/31", date(2027, 1, 5), False, date(2027, 12, 31)),
        ("1/2", date(2026, 12, 20), False, date(2027, 1, 2)),
        ("1/2", date(2026, 12, 20), True, date(2026, 1, 2)),
        ("12/31", date(2026, 12, 31), True, date(2026, 12, 31)),
        ("1/1", date(2026, 12, 31), False, date(2027, 1, 1)),
        # month ends
        ("1/31", date(2026, 2, 1), True, date(2026, 1, 31)),
        ("1/31", date(2026, 2, 1), False, date(2027, 1, 31)),
        ("2/28", date(2026, 2, 28), False, date(2026, 2, 28)),
        ("4/30", date(2026, 5, 1), True, date(2026, 4, 30)),
        # leap day, in a year that has one
        ("2/29", date(2028, 1, 10), False, date(2028, 2, 29)),
        ("2/29", date(2028, 3, 1), True, date(2028, 2, 29)),
        ("2/29", date(2028, 2, 29), True, date(2028, 2, 29)),
        # forms that do not depend on the direction
        ("tomorrow", WEDNESDAY, True, date(2026, 11, 26)),
        ("+3d", WEDNESDAY, True, date(2026, 11, 28)),
        ("-1w", WEDNESDAY, False, date(2026, 11, 18)),
        ("eom", WEDNESDAY, True, date(2026, 11, 30)),
        ("11/24/2027", WEDNESDAY, True, date(2027, 11, 24)),
    ],
)
def test_dates_in_the_options_direction(typed, base, past, expected):
    assert parse_date(typed, base=base, past=past) == expected


@pytest.mark.parametrize(
    ("base", "past", "missing", "suggested"),
    [
        (WEDNESDAY, False, 2027, "2/29/2028"),
        (WEDNESDAY, True, 2026, "2/29/2024"),
        (date(2028, 3, 1), False, 2029, "2/29/2032"),
        (date(2027, 1, 5), True, 2026, "2/29/2024"),
        (date(2100, 1, 5), False, 2100, "2/29/2104"),  # 2100 is not a leap year
    ],
)
def test_a_leap_day_without_a_year_where_the_nearest_year_has_none_is_refused(base, past, missing, suggested):
    with pytest.raises(ValidationError) as error:
        parse_date("2/29", base=base, past=past)
    assert error.value.message == (
        f"there is no February 29 in {missing}: type the year if you mean another, e.g. {suggested}"
    )


@pytest.mark.parametrize("typed", ["4/31", "2/30", "13/1", "0/5", "11/0", "11/24/", "/24", "11//24"])
def test_impossible_month_days_are_refused(typed):
    with pytest.raises(ValidationError) as error:
        parse_date(typed, base=WEDNESDAY, past=True)
    assert error.value.message.startswith((f"invalid date '{typed}'", f"cannot read '{typed}' as a date: try"))


@pytest.mark.parametrize(
    ("typed", "past", "expected"),
    [
        ("fri 2 pm", False, (date(2026, 11, 27), time(14, 0))),
        ("fri 2 pm", True, (date(2026, 11, 20), time(14, 0))),
        ("2:30 pm", False, (WEDNESDAY, time(14, 30))),
        ("2:30 PM", True, (WEDNESDAY, time(14, 30))),
        ("mon 2pm", True, (date(2026, 11, 23), time(14, 0))),
        ("mon 2 p.m.", True, (date(2026, 11, 23), time(14, 0))),
        ("9 a.m.", False, (WEDNESDAY, time(9, 0))),
        ("11/24 3pm", True, (date(2026, 11, 24), time(15, 0))),
        ("11/24 3pm", False, (date(2027, 11, 24), time(15, 0))),
        ("11/24 3 pm", True, (date(2026, 11, 24), time(15, 0))),
        ("11/24", True, (date(2026, 11, 24), None)),
        ("next tuesday 9:15 am", False, (date(2026, 12, 1), time(9, 15))),
        ("last fri 16:45", True, (date(2026, 11, 20), time(16, 45))),
        ("2pm tomorrow", False, (date(2026, 11, 26), time(14, 0))),
        ("3 pm mon", True, (date(2026, 11, 23), time(15, 0))),
        ("12 pm", False, (WEDNESDAY, time(12, 0))),
        ("12 am", False, (WEDNESDAY, time(0, 0))),
    ],
)
def test_times_as_people_type_them(typed, past, expected):
    base = datetime(2026, 11, 25, 9, 0, tzinfo=NY)
    assert parse_when(typed, tz=NY, base=base, past=past) == expected


@pytest.mark.parametrize("typed", ["fri 13 pm", "fri 2 pmx", "2 p m", "11/24 25:00", "mon 0 am"])
def test_times_that_are_not_times_are_refused(typed):
    with pytest.raises(ValidationError, match="try 2026-11-24 14:30, 11/24 3pm"):
        parse_when(typed, tz=NY, base=datetime(2026, 11, 25, 9, 0, tzinfo=NY), past=True)


def test_the_error_suggests_the_forms_on_one_line():
    with pytest.raises(ValidationError) as error:
        parse_date("someday", base=WEDNESDAY, past=True)
    assert (
        error.value.message
        == "cannot read 'someday' as a date: try 2026-11-24, 11/24, tomorrow, fri, next tue, +3d, eom"
    )


def test_a_weekday_wall_time_skipped_by_dst_moves_forward_by_the_gap():
    # 2027-03-14 is a Sunday; in New York 02:00-03:00 does not exist that day.
    before = datetime(2027, 3, 10, 9, 0, tzinfo=NY)  # the Wednesday before
    after = datetime(2027, 3, 17, 9, 0, tzinfo=NY)  # the Wednesday after
    for moment in (
        parse_datetime("sun 2:30am", tz=NY, base=before, past=False),
        parse_datetime("sun 2:30 am", tz=NY, base=after, past=True),
        parse_datetime("3/14 2:30am", tz=NY, base=after, past=True),
        parse_datetime("last sun 2:30am", tz=NY, base=after),
    ):
        assert moment.date() == date(2027, 3, 14)
        assert (moment.hour, moment.minute, moment.utcoffset()) == (3, 30, timedelta(hours=-4))


def test_a_weekday_wall_time_repeated_by_dst_means_the_first():
    # 2026-11-01 is a Sunday; 01:30 happens twice in New York.
    moment = parse_datetime("sun 1:30am", tz=NY, base=datetime(2026, 11, 4, 9, 0, tzinfo=NY), past=True)
    assert moment.date() == date(2026, 11, 1) and moment.utcoffset() == timedelta(hours=-4)


@given(dates, st.sampled_from(NAMES))
def test_a_past_weekday_is_within_the_last_seven_days_today_included(day, name):
    result = parse_date(name, base=day, past=True)
    assert 0 <= (day - result).days <= 6
    assert result.strftime("%a").lower() == name


@given(dates, st.sampled_from(NAMES))
def test_a_future_weekday_is_within_the_next_seven_days_never_today(day, name):
    result = parse_date(name, base=day, past=False)
    assert 1 <= (result - day).days <= 7
    assert result.strftime("%a").lower() == name


@given(dates, st.sampled_from(NAMES), st.booleans())
def test_next_and_last_weekday_fall_in_next_and_last_week(day, name, past):
    monday = day - timedelta(days=day.weekday())
    following = parse_date(f"next {name}", base=day, past=past)
    before = parse_date(f"last {name}", base=day, past=past)
    assert 7 <= (following - monday).days <= 13 and following.strftime("%a").lower() == name
    assert -7 <= (before - monday).days <= -1 and before.strftime("%a").lower() == name
    assert following > day > before


@given(dates, st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)), st.booleans())
def test_a_month_day_is_the_nearest_such_date_in_the_direction(day, typed, past):
    """No such date lies between today and the answer; 2/29 either lands on a leap year or is refused."""
    text = f"{typed.month}/{typed.day}"
    try:
        result = parse_date(text, base=day, past=past)
    except ValidationError as error:
        assert (typed.month, typed.day) == (2, 29) and "no February 29" in error.message
        return
    assert (result.month, result.day) == (typed.month, typed.day)
    if past:
        assert result <= day and (day - result).days < 366
        assert (result.month, result.day) == (2, 29) or result.replace(year=result.year + 1) > day
    else:
        assert result >= day and (result - day).days < 366
        assert (result.month, result.day) == (2, 29) or result.replace(year=result.year - 1) < day


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=0, max_value=59),
       st.sampled_from(["am", "pm"]), st.sampled_from(["", " ", "  "]))  # fmt: skip
def test_a_space_before_am_or_pm_changes_nothing(hour, minute, meridiem, gap):
    base = datetime(2026, 11, 25, 9, 0, tzinfo=NY)
    assert parse_when(f"fri {hour}:{minute:02d}{gap}{meridiem}", tz=NY, base=base) == parse_when(
        f"fri {hour}:{minute:02d}{meridiem}", tz=NY, base=base
    )


# --- through the CLI: options about the past look back, the others ahead (now: Wed 2026-11-25 09:30) ---


@pytest.fixture
def jane(cli):
    assert cli("patient", "add", "Jane Doe", "--mrn", "MRN-1", "--enrolled", "2026-01-05").exit_code == 0
    return cli


def test_log_add_mon_2pm_on_a_wednesday_is_this_weeks_monday(jane, rows):
    run = jane("log", "add", "jane", "--when", "mon 2pm", "--minutes", "10")
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT at FROM communication") == [{"at": "2026-11-23 19:00:00.000000"}]  # 14:00 in New York


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("fri 2 pm", "2026-11-20 19:00:00.000000"),
        ("11/24 3pm", "2026-11-24 20:00:00.000000"),
        ("11/24", "2026-11-24 05:00:00.000000"),
        ("last fri 9:15 am", "2026-11-20 14:15:00.000000"),
        ("wed 8am", "2026-11-25 13:00:00.000000"),  # today's weekday looking back: today
    ],
)
def test_log_edit_when_reads_the_past(jane, rows, typed, stored):
    jane("log", "add", "jane", "--minutes", "5")
    run = jane("log", "edit", "1", "--when", typed)
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT at FROM communication") == [{"at": stored}]


def test_log_list_from_a_weekday_looks_back(jane):
    jane("log", "add", "jane", "--when", "2026-11-22 10:00", "--minutes", "5")
    jane("log", "add", "jane", "--when", "2026-11-23 10:00", "--minutes", "7")
    run = jane("log", "list", "--from", "mon", "--to", "tue", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert [entry["minutes"] for entry in json.loads(run.stdout)] == [7]


@pytest.mark.parametrize(
    ("args", "sql", "expected"),
    [
        (("patient", "discharge", "jane", "--date", "mon"), "SELECT discharged_on AS d FROM patient", "2026-11-23"),
        (("patient", "add", "Omar", "--enrolled", "11/24"), "SELECT enrolled_on AS d FROM patient WHERE id = 2",
         "2026-11-24"),
        (("transition", "add", "jane", "--discharged", "fri", "--from", "Mercy"),
         "SELECT discharged_on AS d FROM transition", "2026-11-20"),
        (("transition", "add", "jane", "--discharged", "11/20", "--from", "Mercy"),
         "SELECT discharged_on AS d FROM transition", "2026-11-20"),
    ],
)  # fmt: skip
def test_dates_of_what_happened_look_back(jane, rows, args, sql, expected):
    run = jane(*args)
    assert run.exit_code == 0, run.stderr
    assert rows(sql) == [{"d": expected}]


def test_plan_review_date_looks_back_and_its_next_review_ahead(jane, rows):
    jane("plan", "add", "jane", "CHF", "--status", "active")
    run = jane("plan", "review", "1", "--date", "mon", "--next", "fri")
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT reviewed_on, next_review FROM plan_review") == [
        {"reviewed_on": "2026-11-23", "next_review": "2026-11-27"}
    ]


def test_task_done_date_says_when_it_was_done(jane, rows):
    jane("task", "add", "Call pharmacy", "--patient", "jane", "--due", "mon")
    assert rows("SELECT due_on FROM task") == [{"due_on": "2026-11-30"}]  # a due date looks ahead
    run = jane("task", "done", "1", "--date", "mon 2 pm")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("Task #1 Call pharmacy done on Mon 2026-11-23 14:00.")
    assert rows("SELECT status, completed_at FROM task") == [
        {"status": "completed", "completed_at": "2026-11-23 19:00:00.000000"}
    ]


def test_a_task_cannot_be_done_in_the_future(jane, unchanged):
    jane("task", "add", "Call pharmacy", "--patient", "jane")
    with unchanged():
        run = jane("task", "done", "1", "--date", "tomorrow")
    assert_one_line_error(run, 1, "task #1 cannot be done in the future (2026-11-26 00:00)")


def test_appt_done_looks_back_and_cancel_ahead(jane, rows):
    run = jane("appt", "add", "jane", "--start", "wed 10am", "--every", "weekly", "--type", "home-visit")
    assert run.exit_code == 0, run.stderr
    assert rows("SELECT starts_at FROM appointment") == [{"starts_at": "2026-12-02 15:00:00.000000"}]  # ahead
    assert jane("appt", "add", "jane", "--start", "today 1pm", "--every", "weekly", "--type", "phone").exit_code == 0
    with time_machine.travel(datetime(2026, 11, 25, 14, 0, tzinfo=NY), tick=True):  # after today's call
        assert jane("appt", "done", "2", "--occurrence", "wed").exit_code == 0  # today's
        assert jane("appt", "cancel", "2", "--occurrence", "wed").exit_code == 0  # next week's
    assert rows("SELECT original_start, status FROM appointment_exception ORDER BY original_start") == [
        {"original_start": "2026-11-25 18:00:00.000000", "status": "fulfilled"},
        {"original_start": "2026-12-02 18:00:00.000000", "status": "cancelled"},
    ]


@pytest.mark.parametrize(
    ("args", "sql", "expected"),
    [
        (("task", "add", "X", "--due", "fri 2 pm"), "SELECT due_on AS d FROM task", "2026-11-27"),
        (("task", "add", "X", "--due", "fri 2 pm"), "SELECT due_time AS d FROM task", "14:00:00.000000"),
        (("task", "add", "X", "--due", "wed"), "SELECT due_on AS d FROM task", "2026-12-02"),
        (("task", "add", "X", "--due", "next tuesday"), "SELECT due_on AS d FROM task", "2026-12-01"),
        (("task", "add", "X", "--due", "11/24"), "SELECT due_on AS d FROM task", "2027-11-24"),
        (("plan", "add", "jane", "CHF", "--review", "1/2"), "SELECT next_review AS d FROM care_plan", "2027-01-02"),
    ],
)  # fmt: skip
def test_dates_of_what_is_to_come_look_ahead(jane, rows, args, sql, expected):
    run = jane(*args)
    assert run.exit_code == 0, run.stderr
    assert rows(sql) == [{"d": expected}]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("log", "add", "jane", "--when", "blursday 2pm"),
         "cannot read 'blursday 2pm' as a date and time: try 2026-11-24 14:30, 11/24 3pm, tomorrow 9am, fri, next tue"),
        (("patient", "discharge", "jane", "--date", "someday"),
         "cannot read 'someday' as a date: try 2026-11-24, 11/24, tomorrow, fri, next tue, +3d, eom"),
        (("transition", "add", "jane", "--discharged", "2/29", "--from", "Mercy"),
         "there is no February 29 in 2026: type the year if you mean another, e.g. 2/29/2024"),
        (("task", "add", "X", "--due", "2/29"), "there is no February 29 in 2027"),
        (("log", "add", "jane", "--when", "4/31"), "invalid date '4/31'"),
    ],
)  # fmt: skip
def test_unreadable_dates_are_one_line_and_change_nothing(jane, unchanged, args, fragment):
    with unchanged():
        run = jane(*args)
    assert_one_line_error(run, 1, fragment)


# Every date option's help lists the forms and says which way a weekday points. Options are found
# by name, so a new date option cannot be missed; a --from that is not a date is listed as such.
# (--dob reads the past too, but its help keeps to the forms that make sense for a birth date.)
DATE_OPTIONS = {"--date", "--when", "--since", "--from", "--to", "--due", "--start", "--end", "--until",
                "--target", "--review", "--next", "--enrolled", "--discharged", "--occurrence", "--auth-expires"}  # fmt: skip
NOT_DATES = {
    ("transition add", "--from"),
    ("transition edit", "--from"),
    ("task list", "--due"),
    ("db copy", "--to"),
    ("referral add", "--to"),  # a recipient
    ("referral edit", "--to"),
    ("agenda", "--to"),  # to whom (the account of disclosures)
    ("patient list", "--to"),
    ("patient show", "--to"),
    ("patient summary", "--to"),
    ("export fhir", "--to"),
}  # a store, not a date
PAST_OPTIONS = {
    ("log add", "--when"), ("log edit", "--when"), ("log list", "--from"), ("log list", "--to"),
    ("task done", "--date"), ("plan review", "--date"), ("patient discharge", "--date"),
    ("patient reactivate", "--date"), ("patient add", "--enrolled"), ("patient timeline", "--since"),
    ("transition add", "--discharged"), ("transition edit", "--discharged"), ("transition list", "--since"), ("report transitions", "--since"),
    ("report caseload", "--from"), ("report caseload", "--to"), ("audit", "--since"), ("audit disclosures", "--since"),
    ("appt done", "--occurrence"), ("appt noshow", "--occurrence"),
    ("auth status", "--date"), ("auth use", "--date"), ("program end", "--date"), ("program enroll", "--date"),
    ("referral consent", "--date"), ("referral status", "--date"), ("report referrals", "--from"),
    ("report referrals", "--to"), ("report screenings", "--from"), ("report screenings", "--to"),
    ("screen add", "--date"), ("screen list", "--since"),
}  # fmt: skip


def _date_options():
    """(command, option, help) of every date option, found by name in the command tree."""
    from typer.main import get_command

    from carecoord.cli import app

    def walk(command, path):
        if hasattr(command, "list_commands"):  # a group (Typer's own copy of Click: no isinstance)
            for name in command.list_commands(None):
                yield from walk(command.get_command(None, name), [*path, name])
        for param in command.params:  # a group's own options too ('audit --since')
            names = set(param.opts) & DATE_OPTIONS
            if param.param_type_name == "option" and names and (" ".join(path), min(names)) not in NOT_DATES:
                yield " ".join(path), min(names), param.help

    return sorted(walk(get_command(app), []))


def test_the_date_options_are_all_found():
    found = {(command, option) for command, option, _ in _date_options()}
    assert found >= PAST_OPTIONS
    assert {("task add", "--due"), ("appt add", "--start"), ("appt cancel", "--occurrence"), ("goal add", "--target"),
            ("plan review", "--next"), ("export ics", "--from")} <= found  # fmt: skip


@pytest.mark.parametrize(("command", "option", "text"), _date_options())
def test_every_date_option_lists_the_forms_in_its_help(command, option, text):
    which = "last" if (command, option) in PAST_OPTIONS else "next"
    if which == "last":  # what already happened: only forms that look back ('tomorrow' would be refused)
        assert "Forms: 2026-11-24, 11/24, today, yesterday, mon, last fri, -3d" in text and "tomorrow" not in text
    else:
        assert "Forms: 2026-11-24, 11/24, tomorrow, fri, next tue (next week's), last fri, +3d, eom" in text
    assert text.endswith(f". A weekday or 11/24 means the {which} one."), text


@pytest.mark.parametrize(("command", "kept"), [("log add", "When it happened (new entries: now)."),
                                               ("transition add", "Discharge date, e.g. 2026-11-20 or -2d."),
                                               ("task add", "(fri, +3d, 'tomorrow 9am')")])  # fmt: skip
def test_date_help_reads_at_80_columns_and_keeps_the_examples(cli, command, kept):
    run = cli(*command.split(), "--help")
    assert run.exit_code == 0
    assert all(len(line) <= 80 for line in run.stdout.splitlines() if "|" not in line)  # not choice lists
    flat = " ".join(run.stdout.split())
    assert kept in flat
    assert "Forms: 2026-11-24, 11/24, " in flat


@pytest.mark.parametrize("tz", [":/etc/localtime", "EST+5", "Europe/Paris", ""])
def test_any_tz_value_works(cli, monkeypatch, tz):
    from carecoord.dates import local_zone

    monkeypatch.delenv("CARECOORD_TZ")
    monkeypatch.setenv("TZ", tz)
    local_zone.cache_clear()
    cli("patient", "add", "Jane Doe")
    assert cli("patient", "list", "-f", "json").exit_code == 0


def test_a_bad_carecoord_tz_names_the_variable(cli, monkeypatch):
    from carecoord.dates import local_zone

    monkeypatch.setenv("CARECOORD_TZ", "Mars/Olympus")
    local_zone.cache_clear()
    assert_one_line_error(cli("patient", "add", "X", "--dob", "1950-01-01"), 1, "CARECOORD_TZ", "Mars/Olympus")


@pytest.mark.parametrize(("option", "value"), [("--dob", "+9999y"), ("--enrolled", "-2100y"), ("--dob", "-9000y")])
def test_dates_outside_the_calendar_are_refused(cli, unchanged, option, value):
    with unchanged():
        assert_one_line_error(cli("patient", "add", "X", option, value), 1)


def test_the_date_of_birth_help_offers_only_the_forms_a_birth_date_takes(cli):
    for command in ("add", "edit"):
        flat = " ".join(cli("patient", command, "--help").stdout.split())
        dob = flat[flat.index("--dob DATE") :].split(" --", 1)[0]
        assert "1950-03-02" in dob and "tomorrow" not in dob and "fri" not in dob, dob
