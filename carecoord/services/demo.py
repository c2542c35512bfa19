"""A realistic, made-up caseload relative to today, for trying carecoord without real data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from carecoord.dates import add_business_days, localize
from carecoord.models import CarePlan, Patient
from carecoord.recurrence import parse_rule
from carecoord.services import (
    appointments,
    authorizations,
    communications,
    contacts,
    coverage,
    goals,
    instruments,
    patients,
    plans,
    programs,
    screenings,
    tasks,
    transitions,
)

DEMO_TAG = "demo"

# name, date of birth, MRN, risk, payer, language, phone, extra tags
PEOPLE = (
    ("Margaret O'Neill", date(1941, 3, 12), "DEMO-1001", "high", "Medicare", "English", "555-0101", ("chf",)),
    ("Luis Hernández", date(1956, 7, 2), "DEMO-1002", "high", "Medicaid", "Spanish", "555-0102", ("diabetes",)),
    ("Aisha Rahman", date(1962, 11, 30), "DEMO-1003", "moderate", "Aetna Medicare Advantage", "Bengali", "555-0103",
     ("copd",)),
    ("Walter Brooks", date(1938, 1, 19), "DEMO-1004", "high", "Medicare", "English", "555-0104", ("fall-risk",)),
    ("Mei Chen", date(1949, 5, 8), "DEMO-1005", "moderate", "Humana", "Mandarin", "555-0105", ("diabetes",)),
    ("Samuel Okafor", date(1971, 9, 23), "DEMO-1006", "low", "UnitedHealthcare", "English", "555-0106", ()),
    ("Dolores Ruiz", date(1945, 12, 1), "DEMO-1007", "moderate", "Medicare", "Spanish", "555-0107", ("ckd",)),
    ("Frank Kowalski", date(1952, 4, 15), "DEMO-1008", "low", "BCBS", "Polish", "555-0108", ()),
)  # fmt: skip


def _at(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return localize(day, time(hour, minute), zone)


def populate(session: Session, today: date, zone: ZoneInfo) -> dict[str, int]:
    """Fill an empty database with the demo caseload; returns how many of each it made."""
    people: list[Patient] = []
    for name, born, mrn, risk, payer, language, phone, tags in PEOPLE:
        people.append(
            patients.add_patient(
                session, name=name, birth_date=born, mrn=mrn, risk=risk, payer=payer, language=language,
                phone=phone, tags=(DEMO_TAG, *tags), enrolled_on=today - timedelta(days=120),
            )
        )  # fmt: skip
    margaret, luis, aisha, walter, mei, samuel, dolores, _frank = people
    contacts.add_contact(session, margaret, name="Kathleen O'Neill", role="daughter", phone="555-0201",
                         preferred_method="text", consent_to_share=True)  # fmt: skip
    contacts.add_contact(session, margaret, name="Dr. Priya Nair", role="cardiologist", organization="Heart Clinic",
                         phone="555-0301")  # fmt: skip
    contacts.add_contact(session, luis, name="Rosa Hernández", role="wife", phone="555-0202", consent_to_share=True)
    contacts.add_contact(session, walter, name="Mercy Home Health", role="home health agency", phone="555-0302")

    chf = plans.add_plan(session, margaret, "Heart failure self-management", status="active",
                         start_on=today - timedelta(days=60), review_every_days=90,
                         needs=("Two CHF admissions this year", "Lives alone; daughter visits weekly"))  # fmt: skip
    weigh = goals.add_goal(session, chf, "Weigh daily and report a gain over 2 lb in a day",
                           target_on=today + timedelta(days=30), measure="daily weight log")  # fmt: skip
    goals.add_goal(session, chf, "Attend cardiology follow-up", target_on=today + timedelta(days=10))
    dm = plans.add_plan(session, luis, "Diabetes control", status="active", start_on=today - timedelta(days=100),
                        next_review=today - timedelta(days=2), needs=("A1c 9.1%", "Insulin start"))  # fmt: skip
    a1c = goals.add_goal(session, dm, "A1c below 8%", target_on=today, measure="quarterly A1c")

    here = tasks.Placement
    tasks.add_task(session, "Weekly weight check call", here(margaret.id, chf.id, weigh.id),
                   due_on=today, due_time=time(10, 0), rrule=parse_rule("weekly"))  # fmt: skip
    tasks.add_task(session, "Refill diuretic prescription", here(margaret.id, chf.id, weigh.id),
                   due_on=today - timedelta(days=2), priority="urgent")  # fmt: skip
    tasks.add_task(session, "Order A1c lab", here(luis.id, dm.id, a1c.id), due_on=today + timedelta(days=1))
    tasks.add_task(session, "Insulin teaching visit follow-up", here(luis.id, dm.id, a1c.id),
                   due_on=today + timedelta(days=3), priority="asap")  # fmt: skip
    tasks.add_task(session, "Medicaid renewal paperwork", here(aisha.id, None, None),
                   due_on=today + timedelta(days=5), tags=("benefits",))  # fmt: skip
    tasks.add_task(session, "Grab bars: call the home-modification program", here(walter.id, None, None),
                   due_on=today - timedelta(days=1), priority="urgent")  # fmt: skip
    tasks.add_task(session, "Monthly medication reconciliation", here(mei.id, None, None),
                   due_on=today + timedelta(days=7), rrule=parse_rule("monthly"))  # fmt: skip
    tasks.add_task(session, "Renew CPR certification", here(None, None, None), due_on=today + timedelta(days=20))

    tz = str(zone.key)
    bookings = (
        (margaret, appointments.Booking(_at(today, 10, 0, zone), _at(today, 10, 45, zone), tz, "home-visit",
                                        rrule=parse_rule("weekly"), location="14 Alder Lane",
                                        reminder_minutes=30)),
        (luis, appointments.Booking(_at(today, 13, 30, zone), _at(today, 14, 0, zone), tz, "phone",
                                    with_whom="Rosa (wife)")),
        (aisha, appointments.Booking(_at(today, 15, 0, zone), _at(today, 15, 30, zone), tz, "telehealth")),
        (walter, appointments.Booking(_at(today + timedelta(days=1), 9, 0, zone),
                                      _at(today + timedelta(days=1), 10, 0, zone), tz, "home-visit",
                                      rrule=parse_rule("biweekly"), location="3 Birch Court", reminder_minutes=60)),
        (mei, appointments.Booking(_at(today + timedelta(days=2), 11, 0, zone),
                                   _at(today + timedelta(days=2), 11, 30, zone), tz, "pcp", with_whom="Dr. Alvarez",
                                   location="Eastside Clinic")),
        (samuel, appointments.Booking(_at(today + timedelta(days=3), 14, 0, zone),
                                      _at(today + timedelta(days=3), 14, 30, zone), tz, "office")),
    )  # fmt: skip
    booked = [appointments.add_appointment(session, who, booking, force=True) for who, booking in bookings]
    appointments.set_outcome(session, booked[0], "cancelled", occurrence=today + timedelta(days=14),
                             reason="daughter visiting; moved to phone")  # fmt: skip
    enrolled = _enrol(session, today, people)
    logged = _log(session, today, zone, people)
    logged += _community_health_integration(session, today, zone, aisha)
    # Walter came home from hospital 6 days ago; reached the next working day, seen at home 4 days
    # after: both deadlines met. Dolores was discharged yesterday and is still owed her call.
    walter_out = today - timedelta(days=6)
    transitions.add_transition(session, walter, discharged_on=walter_out, facility="St. Luke's Hospital",
                               complexity="high", notes="Fall at home; hip contusion, no fracture.")  # fmt: skip
    for day, channel, minutes, note in (
        (add_business_days(walter_out, 1), "phone", 14, "Post-discharge call: meds reviewed, walker delivered"),
        (walter_out + timedelta(days=4), "visit", 35, "Home visit: med reconciliation, home safety check"),
    ):
        logged += 1
        communications.add_entry(session, walter, communications.Entry(
            at=_past(_at(day, 10, 30, zone)), channel=channel, minutes=minutes, note=note))  # fmt: skip
    transitions.add_transition(session, dolores, discharged_on=today - timedelta(days=1),
                               facility="Mercy General Hospital", complexity="moderate",
                               notes="CKD stage 4; fluid overload. New diuretic dose.")  # fmt: skip
    screened = _screen(session, today, people, dm)
    made = _referrals(session, today, zone, people)
    authorized = _insurance(session, today, people)
    return {"patients": len(people), "plans": 2, "appointments": len(booked), "log entries": logged,
            "transitions": 2, "program enrolments": enrolled, "screenings": screened,
            "resources": len(RESOURCES), "referrals": made, "authorizations": authorized}  # fmt: skip


# Who is enrolled in which program, with the consent Medicare requires (issue 15): (patient index,
# program, consent, APCM chronic conditions, QMB). Frank has minutes and no enrolment: 'report
# minutes' flags him (no consent on file); Samuel and Dolores are in none.
ENROLMENTS = (
    (0, "ccm", "verbal", None, None),
    (1, "ccm", "written", None, None),
    (2, "chi", "verbal", None, None),
    (3, "ccm", "verbal", None, None),
    (4, "apcm", "written", 2, True),
)


def _enrol(session: Session, today: date, people: list[Patient]) -> int:
    """The demo's program enrolments, consent given 100 days ago (after the patients were enrolled)."""
    for index, program, consent, conditions, qmb in ENROLMENTS:
        wanted = programs.Enrolment(program, consent, on=today - timedelta(days=100), by="Demo Coordinator, RN",
                                    chronic_conditions=conditions, qmb=qmb)  # fmt: skip
        programs.enroll(session, people[index], wanted)
    return len(ENROLMENTS)


def _community_health_integration(session: Session, today: date, zone: ZoneInfo, aisha: Patient) -> int:
    """Aisha's community health integration this month: with her 8-minute call, 63 minutes (G0019)."""
    first_of_month = today.replace(day=1)
    for days_ago, hour, channel, minutes, note in (
        (8, 10, "visit", 35, "CHI: home visit; food insecurity, applied for SNAP together"),
        (4, 14, "phone", 20, "CHI: arranged rides to pulmonary rehab with the county transit program"),
    ):
        day = max(today - timedelta(days=days_ago), first_of_month)
        entry = communications.Entry(at=_past(_at(day, hour, 0, zone)), channel=channel, minutes=minutes, note=note)
        communications.add_entry(session, aisha, entry)
    return 2


def _insurance(session: Session, today: date, people: list[Patient]) -> int:
    """Coverage beyond each patient's primary payer (made by add_patient), and prior authorizations:
    Margaret's home health has 1 of 12 visits left, Walter's home oxygen ends in 10 days, Luis's
    glucose-monitor request has waited 9 days for a decision: all three on today's agenda, with
    Dolores's secondary Medicaid ending in 20 days."""
    margaret, luis, _aisha, walter, _mei, _samuel, dolores, _frank = people
    medicaid = {"payer": "Texas Medicaid", "order": "secondary", "type": "medicaid", "member_id": "TXM-5521",
                "end_on": today + timedelta(days=20)}  # fmt: skip
    coverage.add_coverage(session, dolores, medicaid)
    home = authorizations.add_authorization(session, margaret, {
        "service": "home health visits", "number": "PA-88231", "status": "approved",
        "start_on": today - timedelta(days=60), "end_on": today + timedelta(days=30), "units_approved": 12,
        "unit": "visits", "notes": "Skilled nursing after CHF admission: Mercy Home Health",
    })  # fmt: skip
    for weeks_ago in range(11, 0, -1):  # the agency's weekly nursing visits so far
        authorizations.record_use(session, home, on=today - timedelta(days=weeks_ago * 5), note="Mercy Home Health")
    authorizations.add_authorization(session, walter, {
        "service": "home oxygen", "number": "OX-20417", "status": "approved", "start_on": today - timedelta(days=80),
        "end_on": today + timedelta(days=10), "notes": "Concentrator and portable tanks; renewal needs a new CMN",
    })  # fmt: skip
    authorizations.add_authorization(session, luis, {
        "service": "continuous glucose monitor", "requested_on": today - timedelta(days=9),
    })  # fmt: skip
    return 3


# This month's calls: (patient index, days ago, hour, minute, channel, outcome, minutes, with, note).
# Margaret and Luis pass the 20 care-management minutes (Walter too, with his post-discharge calls),
# Aisha, Mei and Frank fall short,
# Samuel and Dolores were not contacted.
CALLS = (
    (0, 20, 9, 40, "phone", "reached", 12, None, "Weight stable; reviewed low-salt diet"),
    (0, 12, 14, 10, "phone", "reached", 6, "Kathleen O'Neill", "Daughter: mother more breathless on stairs"),
    (0, 2, 11, 0, "phone", "reached", 9, None, "Diuretic refill requested; weight up 1 lb"),
    (1, 16, 10, 15, "phone", "no-answer", 2, None, None),
    (1, 15, 16, 0, "phone", "reached", 15, "Rosa Hernández", "Insulin teaching booked; glucose log reviewed"),
    (1, 5, 9, 20, "video", "reached", 10, None, "Fasting glucose 150-180; meter technique checked"),
    (2, 9, 13, 45, "phone", "reached", 8, None, "Inhaler refilled; Medicaid renewal form mailed"),
    (4, 7, 15, 30, "phone", "left-message", 3, None, "Asked her to call back about the eye exam"),
    (7, 3, 10, 0, "phone", "reached", 18, None, "Annual wellness visit due; BP log reviewed"),
)  # fmt: skip


def _past(moment: datetime) -> datetime:
    """A log entry is about the past: a moment later than now (early on the 1st) becomes now."""
    return min(moment, datetime.now(UTC).replace(microsecond=0))


def _log(session: Session, today: date, zone: ZoneInfo, people: list[Patient]) -> int:
    """This month's calls, on days of the current month up to today."""
    first_of_month = today.replace(day=1)
    for index, days_ago, hour, minute, channel, outcome, minutes, with_whom, note in CALLS:
        day = max(today - timedelta(days=days_ago), first_of_month)
        entry = communications.Entry(at=_past(_at(day, hour, minute, zone)), channel=channel, outcome=outcome,
                                     minutes=minutes, with_whom=with_whom, note=note)  # fmt: skip
        communications.add_entry(session, people[index], entry)
    return len(CALLS)


# Screenings (issue 13): (patient index, days ago, instrument, answers in question order, answered by).
# Margaret's PHQ-9 went from 14 to 6 on treatment; Luis's AHC HRSN found food and transportation needs
# (added to his diabetes plan); Walter is at risk of falls; Mei's PHQ-2 was negative; Aisha answered
# PHQ-9 question 9 "several days" this morning, so she has an open safety flag and a stat task today;
# Samuel is due for his yearly GAD-7 (given 13 months ago).
SCREENINGS = (
    (0, 70, "phq9", "2,2,2,2,1,2,1,1,0,2", "self"),
    (0, 14, "phq9", "1,1,1,1,0,1,1,0,0,1", "self"),
    (1, 10, "ahc-hrsn", "1,8,2,1,1,2,1,1,1,1", "coordinator"),
    (3, 6, "steadi", "1,1,0", "coordinator"),
    (4, 30, "phq2", "0,1", "self"),
    (2, 0, "phq9", "1,2,1,1,0,1,0,0,1,1", "self"),
    (5, 395, "gad7", "1,1,1,0,0,1,0", "self"),
)


def _screen(session: Session, today: date, people: list[Patient], diabetes_plan: CarePlan) -> int:
    """The demo's screenings, given through the same service as 'screen add' (scores, flags, needs)."""
    for index, days_ago, key, answers, by in SCREENINGS:
        given = screenings.instrument(session, key)
        chosen = instruments.answers_in_order(given, answers.split(","))
        plan = diabetes_plan if people[index].id == diabetes_plan.patient_id else None
        screenings.record(session, people[index], given, chosen, taken_on=today - timedelta(days=days_ago),
                          answered_by=by, plan=plan)  # fmt: skip
    return len(SCREENINGS)


# --- community resources and referrals (issue 14) ---------------------------------------------------

# name, category, organization, phone, hours, languages
RESOURCES = (
    ("Weekly Food Pantry", "food-insecurity", "Second Harvest", "555-0141", "Tue, Thu 9:00-13:00", "English, Spanish"),
    ("Dial-a-Ride Medical Trips", "transportation-insecurity", "Ride Lake County", "555-0142", "Mon-Fri 6:00-18:00",
     "English"),
    ("Emergency Rental Assistance", "housing-instability", "County Housing Authority", "555-0143",
     "Mon-Fri 8:30-16:30", "English, Spanish, Polish"),
    ("LIHEAP Energy Assistance", "utility-insecurity", "Community Action Partnership", "555-0144",
     "Mon, Wed, Fri 9:00-15:00", "English, Spanish"),
    ("Senior Companion Visits", "social-connection", "Catholic Charities", "555-0145", "Mon-Fri 9:00-16:30",
     "English, Polish"),
    ("Mercy Home Health", "home-health", "Mercy Health", "555-0302", "Every day 24 hours", "English, Spanish"),
)  # fmt: skip


def _referrals(session: Session, today: date, zone: ZoneInfo, people: list[Patient]) -> int:
    """The directory, and referrals at each stage of the loop: Luis's food referral closed (he got
    help), Aisha's rent help received, Walter's rides stalled for three weeks, Dolores's home health
    a draft still waiting for her consent."""
    from carecoord.services import referrals, resources

    found = {name: resources.add_resource(session, name=name, category=category, organization=org, phone=phone,
                                          hours=hours, languages=languages)
             for name, category, org, phone, hours, languages in RESOURCES}  # fmt: skip
    _margaret, luis, aisha, walter, _mei, _samuel, dolores, _frank = people
    plans = (
        (luis, "Weekly Food Pantry", "Ran out of food before the end of the month twice",
         ((20, "sent"), (17, "accepted"), (12, "completed"), (5, "closed"))),
        (aisha, "Emergency Rental Assistance", "Two months behind on rent", ((4, "sent"), (1, "received"))),
        (walter, "Dial-a-Ride Medical Trips", "No way to get to cardiology since he stopped driving", ((21, "sent"),)),
        (dolores, "Mercy Home Health", "Wound care and medication teaching after discharge", ()),
    )  # fmt: skip
    for patient, name, reason, moves in plans:
        resource = found[name]
        first = today - timedelta(days=moves[0][0]) if moves else today
        consent = referrals.Consent("verbal", on=first) if moves else None
        referral = referrals.add_referral(session, patient, referrals.NewReferral(
            resource=resource, reason=reason, consent=consent))  # fmt: skip
        for days_ago, status in moves:
            outcome = "got-help" if status == "closed" else None
            referrals.change_status(session, referral, referrals.Move(status, outcome=outcome,
                                                                      on=today - timedelta(days=days_ago)))  # fmt: skip
        for event in referrals.history(session, referral):
            if event.action == "created":
                event.happened_on = first  # written up the day it was sent, not the day the demo ran
        last = today - timedelta(days=moves[-1][0]) if moves else today
        referral.changed_at = _past(_at(last, 10, 0, zone))  # when the last step happened, not when the demo ran
    session.flush()
    return len(plans)
