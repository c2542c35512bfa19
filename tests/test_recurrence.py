"""Repeat rules: what people type, the RRULE stored, and the dates it yields; rules a command refuses;
and series on a Session, expanded and completed by the services across DST and month ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord.errors import ValidationError
from carecoord.recurrence import dates_between, describe, next_date, parse_rule
from tests.conftest import assert_one_line_error, listing


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
    from carecoord.recurrence import _zoned_rule, moments_between

    zone = ZoneInfo(zone_name)
    start = wall.replace(tzinfo=zone, fold=int(fold))  # ambiguous and skipped times, odd seconds too
    low = low_naive.replace(tzinfo=UTC)
    high = low + timedelta(hours=hours)
    expected = list(_zoned_rule(rule, start).between(low, high, inc=True))
    found = moments_between(rule, start, low, high)
    assert found == expected
    assert [(m.utcoffset(), m.fold) for m in found] == [(m.utcoffset(), m.fold) for m in expected]


@pytest.mark.parametrize(
    "rule",
    ["FREQ=WEEKLY;INTERVAL=0", "FREQ=DAILY;COUNT=0", "FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2", "FREQ=WEEKLY;UNTIL=soon"],
)
def test_rules_that_never_end_well_are_refused(jane, unchanged, rule):
    with unchanged():
        assert_one_line_error(jane("task", "add", "Y", "--due", "2026-12-14", "--every", rule), 1)
        assert_one_line_error(jane("appt", "add", "jane", "--start", "2026-12-14 10:00", "--every", rule), 1)


@pytest.mark.parametrize("until", ["20261230", "20261230T000000Z", "20261230T120000"])
def test_until_is_read_in_any_rfc_5545_form(jane, until, rows):
    assert jane("task", "add", "Y", "--due", "2026-12-14", "--every", f"FREQ=WEEKLY;UNTIL={until}").exit_code == 0
    assert (
        jane("appt", "add", "jane", "--start", "2026-12-14 10:00", "--every", f"FREQ=WEEKLY;UNTIL={until}").exit_code
        == 0
    )
    assert [s["start"][:10] for s in listing(jane, "--from", "2026-12-01", "--to", "2027-01-31")] == [
        "2026-12-14", "2026-12-21", "2026-12-28",
    ]  # fmt: skip
    jane("task", "done", "1")
    jane("task", "done", "2")
    assert jane("task", "done", "3").stdout.strip().endswith("The series has ended.")


presets_and_intervals = st.sampled_from(
    ["daily", "weekdays", "weekly", "biweekly", "monthly", "month-end", "quarterly", "yearly"]
) | st.builds(
    lambda n, unit: f"every {n} {unit}s", st.integers(1, 999), st.sampled_from(["day", "week", "month", "year"])
)


@given(presets_and_intervals)
def test_a_rules_description_reads_back_as_the_same_rule(typed):
    rule = parse_rule(typed)
    assert parse_rule(describe(rule)) == rule


# --- series on a Session: the services book, expand and complete them ------------------------------

NY = ZoneInfo("America/New_York")


def book(session, owner, start, rule):
    """A 45-minute home visit series from ``start`` (an aware time in its IANA zone); clashes allowed."""
    from carecoord.services import appointments

    booking = appointments.Booking(
        start=start, end=start + timedelta(minutes=45), tz=start.tzinfo.key, kind="home-visit", rrule=rule
    )
    return appointments.add_appointment(session, owner, booking, force=True)


def sittings(session, owner, low, high):
    """The owner's occurrences overlapping [low, high), as the agenda and ``appt list`` get them."""
    from carecoord.services.appointments import AppointmentFilter, occurrences

    return [sitting for sitting, _ in occurrences(session, AppointmentFilter(low, high, patient_id=owner.id))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(ZONES),
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.integers(min_value=1, max_value=3),
)
def test_every_sitting_of_a_weekly_series_is_at_its_wall_clock_time_across_dst(
    session, zone_name, day, clock, interval
):
    # One database for all the examples: each books its own patient's series and reads only that.
    from carecoord.dates import localize
    from carecoord.services import patients

    zone = ZoneInfo(zone_name)
    start = localize(day, clock, zone)  # a time skipped by DST moves forward by the gap, as booking does
    wall = start.time()
    owner = patients.add_patient(session, name="Weekly Series")
    book(session, owner, start, "FREQ=WEEKLY" + (f";INTERVAL={interval}" if interval > 1 else ""))
    found = sittings(session, owner, start, start + timedelta(days=400))  # 400 days: every DST change of a year
    expected_days = [day + timedelta(weeks=interval * n) for n in range(400 // (7 * interval) + 1)]
    assert [sitting.start.date() for sitting in found] == expected_days
    for sitting in found:
        # the same instant as that day's wall-clock time (a skipped one moved on by the gap, a repeated one the first)
        assert sitting.start.astimezone(UTC) == localize(sitting.start.date(), wall, zone).astimezone(UTC)
        assert sitting.end.astimezone(UTC) - sitting.start.astimezone(UTC) == timedelta(minutes=45)  # elapsed time


def test_a_repeated_wall_time_means_its_first_occurrence_even_when_asked_for_the_second():
    from carecoord.dates import localize

    london = ZoneInfo("Europe/London")
    first = localize(date(2025, 10, 26), time(1, 0, fold=1), london)  # 01:00 comes twice that night
    assert first.isoformat() == "2025-10-26T01:00:00+01:00"  # BST, the first


def test_a_series_starting_at_the_second_of_a_repeated_hour_is_refused_with_the_reason(session, patient):
    second = datetime(2025, 10, 26, 1, 0, fold=1, tzinfo=ZoneInfo("Europe/London"))
    with pytest.raises(ValidationError, match=r"01:00 comes twice on Sun 2025-10-26 .* keeps the first \(01:00 BST\)"):
        book(session, patient, second, "FREQ=WEEKLY")


def test_a_series_expands_with_its_cancelled_and_moved_sittings_across_dst(session, patient):
    from carecoord.services import appointments

    series = book(session, patient, datetime(2026, 10, 22, 10, 0, tzinfo=NY), "FREQ=WEEKLY;COUNT=6")
    appointments.set_outcome(session, series, "cancelled", occurrence=date(2026, 11, 5), reason="in hospital")
    appointments.move(session, series, datetime(2026, 11, 13, 14, 0, tzinfo=NY), occurrence=date(2026, 11, 12))
    found = sittings(session, patient, datetime(2026, 10, 1, tzinfo=NY), datetime(2027, 1, 1, tzinfo=NY))
    assert [(s.start.isoformat(), s.status, s.moved) for s in found] == [
        ("2026-10-22T10:00:00-04:00", "booked", False),
        ("2026-10-29T10:00:00-04:00", "booked", False),
        ("2026-11-05T10:00:00-05:00", "cancelled", False),  # the clocks went back on 1 November
        ("2026-11-13T14:00:00-05:00", "booked", True),
        ("2026-11-19T10:00:00-05:00", "booked", False),
        ("2026-11-26T10:00:00-05:00", "booked", False),
    ]
    # a sitting moved to another day is found on that day, and no longer on its own
    moved_to = sittings(session, patient, datetime(2026, 11, 13, tzinfo=NY), datetime(2026, 11, 14, tzinfo=NY))
    assert [s.original_start.astimezone(NY).date() for s in moved_to] == [date(2026, 11, 12)]
    assert sittings(session, patient, datetime(2026, 11, 12, tzinfo=NY), datetime(2026, 11, 13, tzinfo=NY)) == []


def test_a_month_end_series_is_on_each_last_day_at_its_wall_clock_time(session, patient):
    series = book(session, patient, datetime(2027, 1, 31, 10, 0, tzinfo=NY), parse_rule("month-end") + ";COUNT=4")
    found = sittings(session, patient, datetime(2027, 1, 1, tzinfo=NY), datetime(2028, 1, 1, tzinfo=NY))
    assert {s.appointment.id for s in found} == {series.id}
    assert [s.start.isoformat() for s in found] == [
        "2027-01-31T10:00:00-05:00",
        "2027-02-28T10:00:00-05:00",
        "2027-03-31T10:00:00-04:00",  # after the clocks went forward on 14 March
        "2027-04-30T10:00:00-04:00",
    ]


@pytest.mark.parametrize(
    ("typed", "first", "following"),
    [
        ("month-end", date(2027, 12, 31), [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]),
        ("monthly", date(2027, 1, 31), [date(2027, 3, 31), date(2027, 5, 31), date(2027, 7, 31), date(2027, 8, 31)]),
        ("monthly", date(2028, 2, 29), [date(2028, 3, 29), date(2028, 4, 29), date(2028, 5, 29), date(2028, 6, 29)]),
        ("yearly", date(2028, 2, 29), [date(2032, 2, 29), date(2036, 2, 29), date(2040, 2, 29), date(2044, 2, 29)]),
    ],
)
def test_completing_a_task_series_brings_the_next_due_date_by_the_rule(session, patient, typed, first, following):
    from carecoord.services import tasks

    task = tasks.add_task(
        session, "Monthly summary", tasks.Placement(patient.id, None, None), due_on=first, rrule=parse_rule(typed)
    )
    dues = []
    for _ in following:
        task = tasks.complete(session, task)
        dues.append(task.due_on)
    assert dues == following
