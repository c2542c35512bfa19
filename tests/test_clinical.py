"""Clinical and billing thresholds (carecoord/clinical.py) through the services on a Session: the
Medicare care-management code a month's minutes reach, the transitional-care deadlines, and the
limits on one log entry's minutes. Each CMS figure names its source; carecoord's own limits say so.
Which contact or visit meets which follow-up is tested in tests/test_transitions.py.

Sources:
- CCM and PCM: CMS MLN booklet "Chronic Care Management Services" (MLN909188), and the CY 2022
  Physician Fee Schedule final rule (86 FR 64996), which made 99439 billable at most twice a month
  and created 99437 (physician CCM add-on) and the PCM codes 99424-99427.
- TCM: CMS MLN booklet "Transitional Care Management Services" (MLN908628), and CMS "Frequently
  Asked Questions about Billing the Physician Fee Schedule for Transitional Care Management
  Services": business days are Monday to Friday except holidays; the 30-day period begins on the
  date of discharge and continues for the next 29 days; the face-to-face visit is within 7 (99496)
  or 14 (99495) calendar days of discharge.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecoord.errors import ValidationError
from tests.conftest import TEST_ZONE, log_entry

NY = ZoneInfo(TEST_ZONE)
NOVEMBER = date(2026, 11, 1)


def minutes_record(session, patient, month=NOVEMBER):
    """The patient's row of the month's minutes report, as ``report minutes`` records it."""
    from carecoord.records import minutes_records
    from carecoord.services import reports

    [record] = minutes_records(reports.minutes_report(session, month, patient_id=patient.id))
    return record


# --- care-management minutes per calendar month -----------------------------------------------------

# (program, minutes in the month, codes reached, minutes still needed for the next unit)
LEVELS = [
    # Chronic care management by clinical staff: 99490 at 20 minutes, 99439 for each further full
    # 20 minutes, at most twice a month (MLN909188; CY 2022 PFS final rule).
    ("ccm", 0, None, 20),
    ("ccm", 19, None, 1),
    ("ccm", 20, "99490", 20),
    ("ccm", 39, "99490", 1),
    ("ccm", 40, "99490 + 99439 x1", 20),
    ("ccm", 59, "99490 + 99439 x1", 1),
    ("ccm", 60, "99490 + 99439 x2", None),
    ("ccm", 100, "99490 + 99439 x2", None),
    # Complex CCM: 99487 for the first 60 minutes, 99489 for each further 30 (MLN909188).
    ("complex_ccm", 59, None, 1),
    ("complex_ccm", 60, "99487", 30),
    ("complex_ccm", 89, "99487", 1),
    ("complex_ccm", 90, "99487 + 99489 x1", 30),
    ("complex_ccm", 119, "99487 + 99489 x1", 1),
    ("complex_ccm", 120, "99487 + 99489 x2", 30),
    # CCM by the physician personally: 99491 at 30 minutes, 99437 for each further 30 (CY 2022 PFS).
    ("physician_ccm", 29, None, 1),
    ("physician_ccm", 30, "99491", 30),
    ("physician_ccm", 59, "99491", 1),
    ("physician_ccm", 60, "99491 + 99437 x1", 30),
    # Principal care management by clinical staff: 99426 at 30 minutes, 99427 for each further 30
    # (CY 2022 PFS final rule; MLN909188).
    ("pcm", 29, None, 1),
    ("pcm", 30, "99426", 30),
    ("pcm", 59, "99426", 1),
    ("pcm", 60, "99426 + 99427 x1", 30),
]


@pytest.mark.parametrize(("program", "minutes", "codes", "to_next"), LEVELS, ids=[f"{p}-{m}min" for p, m, *_ in LEVELS])
def test_a_months_minutes_reach_the_medicare_code_level(session, patient, program, minutes, codes, to_next):
    first = minutes // 2
    log_entry(session, patient, date(2026, 11, 2), minutes=first)
    log_entry(session, patient, date(2026, 11, 20), minutes=minutes - first, outcome="no-answer")  # time counts
    record = minutes_record(session, patient)
    assert record["minutes"] == minutes
    assert (record[f"{program}_codes"], record[f"{program}_minutes_to_next"]) == (codes, to_next)


def test_minutes_count_in_the_calendar_month_of_the_users_zone(session, patient):
    from carecoord.services import communications

    for moment, minutes in [
        (datetime(2026, 9, 30, 23, 59, tzinfo=NY), 5),  # October in UTC, September here
        (datetime(2026, 10, 1, 0, 0, tzinfo=NY), 19),
        (datetime(2026, 10, 31, 23, 59, tzinfo=NY), 1),  # November in UTC; the clocks go back that night
        (datetime(2026, 11, 1, 0, 0, tzinfo=NY), 7),
    ]:
        communications.add_entry(session, patient, communications.Entry(at=moment, minutes=minutes))
    october = minutes_record(session, patient, date(2026, 10, 1))
    assert (october["minutes"], october["ccm_codes"]) == (20, "99490")
    assert minutes_record(session, patient, date(2026, 9, 1))["minutes"] == 5
    assert minutes_record(session, patient)["minutes"] == 7


# --- one log entry's minutes: carecoord's own limits, not CMS's ------------------------------------


def test_one_entry_takes_up_to_240_minutes_and_more_only_with_force(session, patient):
    from carecoord.services import communications

    def entry(minutes):
        return communications.Entry(at=datetime(2026, 11, 24, 9, tzinfo=NY), minutes=minutes)

    logged = communications.add_entry(session, patient, entry(240))
    with pytest.raises(ValidationError, match="241 minutes in one entry is more than 4 hours"):
        communications.add_entry(session, patient, entry(241))
    with pytest.raises(ValidationError, match="more than 4 hours"):
        communications.update_entry(session, logged, {"minutes": 241})
    assert communications.update_entry(session, logged, {"minutes": 241}, force=True).minutes == 241
    assert communications.add_entry(session, patient, entry(24 * 60), force=True).minutes == 24 * 60
    with pytest.raises(ValidationError, match="more than a day"):
        communications.add_entry(session, patient, entry(24 * 60 + 1), force=True)


def test_entries_over_120_minutes_are_pointed_out_before_billing(session, patient):
    from carecoord.services import reports

    log_entry(session, patient, date(2026, 11, 2), minutes=120)
    over = log_entry(session, patient, date(2026, 11, 3), minutes=121)
    report = reports.minutes_report(session, NOVEMBER)
    assert [(e.id, e.minutes) for e in report.long_entries] == [(over.id, 121)]
    assert minutes_record(session, patient)["long_entries"] == [over.id]


# --- transitional care management deadlines --------------------------------------------------------


def discharge(session, patient, day, complexity="moderate"):
    from carecoord.services import transitions

    return transitions.add_transition(session, patient, discharged_on=day, facility="Mercy", complexity=complexity)


def deadline_states(session):
    """Each patient's (contact, visit) deadline states, by patient id."""
    from carecoord.services import transitions

    return {
        s.patient.id: (s.contact.state, s.visit.state)
        for s in transitions.judge(session, transitions.list_transitions(session))
    }


@pytest.mark.parametrize(
    ("discharged", "contact_due"),
    [
        (date(2026, 11, 16), date(2026, 11, 18)),  # Monday: Tuesday, Wednesday
        (date(2026, 11, 19), date(2026, 11, 23)),  # Thursday: Friday, Monday
        (date(2026, 11, 20), date(2026, 11, 24)),  # Friday: Monday, Tuesday
        (date(2026, 11, 21), date(2026, 11, 24)),  # Saturday: Monday, Tuesday
        (date(2026, 11, 22), date(2026, 11, 24)),  # Sunday: Monday, Tuesday
    ],
    ids=["monday", "thursday", "friday", "saturday", "sunday"],
)
def test_the_interactive_contact_is_due_two_business_days_after_the_discharge(
    session, patient, discharged, contact_due
):
    from carecoord.models import Task

    transition = discharge(session, patient, discharged)
    assert transition.contact_due == contact_due
    assert session.get(Task, transition.contact_task_id).due_on == contact_due


@pytest.mark.parametrize(
    ("discharged", "contact_due"),
    [
        (date(2025, 12, 24), date(2025, 12, 29)),  # Christmas Day, Thursday: Friday, Monday
        (date(2026, 7, 2), date(2026, 7, 7)),  # Independence Day (Saturday) observed Friday 3 July: Monday, Tuesday
        (date(2026, 11, 10), date(2026, 11, 13)),  # Veterans Day, Wednesday: Thursday, Friday
        (date(2026, 11, 25), date(2026, 11, 30)),  # Thanksgiving, Thursday: Friday, Monday
    ],
    ids=["christmas", "independence-day-observed", "veterans-day", "thanksgiving"],
)
def test_a_federal_holiday_is_not_a_business_day_for_the_contact_deadline(session, patient, discharged, contact_due):
    assert discharge(session, patient, discharged).contact_due == contact_due


@pytest.mark.parametrize(("complexity", "days", "code"), [("moderate", 14, "99495"), ("high", 7, "99496")])
def test_the_face_to_face_visit_is_due_7_or_14_days_after_the_discharge(session, patient, complexity, days, code):
    from carecoord.models import Task

    transition = discharge(session, patient, date(2026, 11, 20), complexity)
    assert transition.visit_due == date(2026, 11, 20) + timedelta(days=days)
    visit_task = session.get(Task, transition.visit_task_id)
    assert visit_task.due_on == transition.visit_due and f"({code})" in visit_task.title


@pytest.mark.parametrize("complexity", ["moderate", "high"])
def test_a_deadline_is_met_on_its_day_and_late_the_day_after(session, patient, complexity):
    from carecoord.services import patients

    other = patients.add_patient(session, name="Bea Later")
    on_time = discharge(session, patient, date(2026, 11, 6), complexity)
    late = discharge(session, other, date(2026, 11, 6), complexity)
    log_entry(session, patient, on_time.contact_due)
    log_entry(session, patient, on_time.visit_due, channel="visit")
    log_entry(session, other, late.contact_due + timedelta(days=1))
    log_entry(session, other, late.visit_due + timedelta(days=1), channel="visit")
    assert deadline_states(session) == {patient.id: ("met", "met"), other.id: ("late", "late")}


def test_the_service_period_is_the_discharge_day_and_the_29_days_after(session, patient):
    from carecoord.services import patients
    from carecoord.services.transitions import period_end

    assert period_end(date(2026, 10, 1)) == date(2026, 10, 30)
    last_day, day_after = patient, patients.add_patient(session, name="Bea Later")
    discharge(session, last_day, date(2026, 10, 1))
    discharge(session, day_after, date(2026, 10, 1))
    log_entry(session, last_day, date(2026, 10, 30), channel="visit")
    log_entry(session, day_after, date(2026, 10, 31), channel="visit")
    assert deadline_states(session) == {last_day.id: ("late", "late"), day_after.id: ("missed", "missed")}
