"""The care-planning FHIR mappings on their own (no database): each record becomes a resource that
fhir.resources accepts as R4, with the right codes, and reads back as the same fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from carecoord.errors import ValidationError
from carecoord.fhir import Refs, extension_url
from carecoord.fhir.communications import (
    PARTICIPATION_MODE,
    communication_from_fhir,
    communication_party,
    communication_to_fhir,
)
from carecoord.fhir.goals import GOAL_ACHIEVEMENT, goal_from_fhir, goal_plan, goal_to_fhir
from carecoord.fhir.plans import (
    US_CORE_CONDITION_CATEGORY,
    need_uid,
    needs_to_fhir,
    plan_from_fhir,
    plan_to_fhir,
    reviews_from_fhir,
)
from carecoord.fhir.tasks import TAG_SYSTEM, task_from_fhir, task_links, task_to_fhir
from carecoord.fhir.transitions import CPT, is_transition, transition_from_fhir, transition_tasks, transition_to_fhir
from carecoord.models import CarePlan, Communication, Goal, PlanReview, Task, Transition
from tests.fhir_validation import validate_resource

NY = ZoneInfo("America/New_York")
BUNDLE = Refs(bundle=True)
NDJSON = Refs(bundle=False)
PATIENT = "11111111-1111-4111-8111-111111111111"
PLAN = "22222222-2222-4222-8222-222222222222"
GOAL = "33333333-3333-4333-8333-333333333333"
CONTACT = "44444444-4444-4444-8444-444444444444"
CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def valid(resource: dict) -> dict:
    """The resource, after fhir.resources has accepted it as FHIR R4 (tests/fhir_validation.py)."""
    validate_resource(resource)
    return resource


def codes(concepts, system):
    return [c["code"] for concept in concepts for c in concept.get("coding", []) if c["system"] == system]


# --- care plans, needs, reviews ------------------------------------------------------------------


def a_plan(**changes) -> CarePlan:
    fields = dict(id=1, uid=PLAN, patient_id=1, title="Heart failure self-management", status="active",
                  needs="Two CHF admissions this year\nLives alone; daughter visits weekly",
                  start_on=date(2026, 9, 26), end_on=None, next_review=date(2026, 12, 25), review_every_days=90,
                  notes="Prefers morning calls.\nDaughter Kathleen helps.", created_at=CREATED)  # fmt: skip
    return CarePlan(**(fields | changes))


def test_a_plan_is_a_us_core_careplan_that_addresses_its_needs_as_health_concerns():
    review = PlanReview(id=1, uid="55555555-5555-4555-8555-555555555555", plan_id=1, patient_id=1,
                        reviewed_on=date(2026, 10, 1), note="Weight stable", next_review=date(2026, 12, 30))  # fmt: skip
    resource = valid(plan_to_fhir(a_plan(), PATIENT, BUNDLE, goal_uids=[GOAL], task_uids=["t1"], reviews=[review]))
    assert resource["status"] == "active" and resource["intent"] == "plan"
    assert codes(resource["category"], "http://hl7.org/fhir/us/core/CodeSystem/careplan-category") == ["assess-plan"]
    assert resource["subject"] == {"reference": f"urn:uuid:{PATIENT}"}
    assert resource["period"] == {"start": "2026-09-26"}
    assert resource["goal"] == [{"reference": f"urn:uuid:{GOAL}"}]
    assert resource["activity"] == [{"reference": {"reference": "urn:uuid:t1"}}]
    needs = needs_to_fhir(a_plan(), PATIENT, BUNDLE)
    assert [valid(n)["code"]["text"] for n in needs] == ["Two CHF admissions this year",
                                                          "Lives alone; daughter visits weekly"]  # fmt: skip
    assert all(codes(n["category"], US_CORE_CONDITION_CATEGORY) == ["health-concern"] for n in needs)
    assert [a["reference"] for a in resource["addresses"]] == [f"urn:uuid:{n['id']}" for n in needs]
    assert plan_from_fhir(resource) == {
        "title": "Heart failure self-management", "status": "active",
        "needs": "Two CHF admissions this year\nLives alone; daughter visits weekly",
        "start_on": date(2026, 9, 26), "end_on": None, "next_review": date(2026, 12, 25), "review_every_days": 90,
        "notes": "Prefers morning calls.\nDaughter Kathleen helps.",
    }  # fmt: skip
    assert reviews_from_fhir(resource) == [{"uid": review.uid, "reviewed_on": date(2026, 10, 1),
                                            "note": "Weight stable", "next_review": date(2026, 12, 30)}]  # fmt: skip


def test_a_need_keeps_its_id_and_a_closed_plan_s_needs_are_inactive():
    assert need_uid(PLAN, "A1c 9.1%") == need_uid(PLAN, "A1c 9.1%") != need_uid(PLAN, "Insulin start")
    [need, _] = needs_to_fhir(a_plan(status="completed"), PATIENT, NDJSON)
    assert need["clinicalStatus"]["coding"][0]["code"] == "inactive"
    assert need["subject"] == {"reference": f"Patient/{PATIENT}"}


def test_a_bare_plan_has_no_empty_elements_and_reads_back():
    bare = a_plan(needs="", start_on=None, next_review=None, review_every_days=None, notes=None, status="draft")
    resource = valid(plan_to_fhir(bare, PATIENT, BUNDLE))
    assert not {"period", "addresses", "goal", "activity", "note", "extension"} & set(resource)
    assert plan_from_fhir(resource)["needs"] == "" and reviews_from_fhir(resource) == []


def test_a_plan_without_a_title_is_named_by_its_description_or_category():
    bare = {"resourceType": "CarePlan", "id": "x", "status": "unknown", "intent": "plan"}
    assert (plan_from_fhir(bare)["title"], plan_from_fhir(bare)["status"]) == ("Care plan", "draft")
    categorised = bare | {"category": [{"coding": [{"system": "http://snomed.info/sct", "code": "698360004",
                                                    "display": "Diabetes self management plan"}]}]}  # fmt: skip
    assert plan_from_fhir(categorised)["title"] == "Diabetes self management plan"
    assert plan_from_fhir(categorised | {"description": "Sugar\ncontrol"})["title"] == "Sugar"


# --- goals ---------------------------------------------------------------------------------------


def test_a_goal_carries_its_codes_target_and_plan():
    goal = Goal(id=1, uid=GOAL, plan_id=1, patient_id=1, description="A1c below 8%", lifecycle_status="active",
                achievement_status="improving", target_on=date(2026, 11, 25), measure="quarterly A1c")  # fmt: skip
    resource = valid(goal_to_fhir(goal, PATIENT, PLAN, BUNDLE))
    assert resource["lifecycleStatus"] == "active"
    assert resource["achievementStatus"]["coding"] == [{"system": GOAL_ACHIEVEMENT, "code": "improving",
                                                        "display": "Improving"}]  # fmt: skip
    assert resource["target"] == [{"measure": {"text": "quarterly A1c"}, "dueDate": "2026-11-25"}]
    assert goal_plan(resource) == {"reference": f"urn:uuid:{PLAN}"}
    assert goal_from_fhir(resource) == {"description": "A1c below 8%", "lifecycle_status": "active",
                                        "achievement_status": "improving", "target_on": date(2026, 11, 25),
                                        "measure": "quarterly A1c"}  # fmt: skip


# --- tasks ---------------------------------------------------------------------------------------


def a_task(**changes) -> Task:
    fields = dict(id=7, uid="66666666-6666-4666-8666-666666666666", patient_id=1, plan_id=1, goal_id=1,
                  title="Weekly weight check call", status="completed", status_reason="done by phone",
                  priority="urgent", due_on=date(2026, 11, 25), due_time=time(10, 0), rrule="FREQ=WEEKLY",
                  repeat_from=date(2026, 11, 18), series_id=5, tags="chf,phone", notes="Ask about swelling",
                  completed_at=datetime(2026, 11, 25, 15, 5, tzinfo=UTC), created_at=CREATED)  # fmt: skip
    return Task(**(fields | changes))


def test_a_recurring_task_keeps_due_time_series_tags_and_completion():
    series = "77777777-7777-4777-8777-777777777777"
    resource = valid(task_to_fhir(a_task(), BUNDLE, patient_uid=PATIENT, zone=NY, plan_uid=PLAN, goal_uid=GOAL,
                                  series_uid=series))  # fmt: skip
    assert (resource["status"], resource["priority"], resource["description"]) == (
        "completed",
        "urgent",
        "Weekly weight check call",
    )
    assert resource["for"] == {"reference": f"urn:uuid:{PATIENT}"}
    assert resource["basedOn"] == [{"reference": f"urn:uuid:{PLAN}"}]
    assert resource["focus"] == {"reference": f"urn:uuid:{GOAL}"}
    assert resource["restriction"] == {"period": {"end": "2026-11-25T10:00:00-05:00"}}
    assert resource["executionPeriod"] == {"end": "2026-11-25T15:05:00Z"}
    assert resource["meta"]["tag"] == [{"system": TAG_SYSTEM, "code": "chf"}, {"system": TAG_SYSTEM, "code": "phone"}]
    [series_ext] = resource["extension"]
    assert series_ext["url"] == extension_url("task-series")
    fields = task_from_fhir(resource, NY)
    assert fields == {"title": "Weekly weight check call", "status": "completed", "status_reason": "done by phone",
                      "priority": "urgent", "due_on": date(2026, 11, 25), "due_time": time(10, 0),
                      "rrule": "FREQ=WEEKLY", "repeat_from": date(2026, 11, 18), "tags": "chf,phone",
                      "notes": "Ask about swelling", "completed_at": datetime(2026, 11, 25, 15, 5, tzinfo=UTC)}  # fmt: skip
    links = task_links(resource)
    assert (links.series, links.focus, links.based_on) == (series, resource["focus"], resource["basedOn"])


def test_a_due_time_is_read_in_the_importer_s_zone_and_a_date_alone_stays_a_date():
    resource = task_to_fhir(a_task(), NDJSON, patient_uid=PATIENT, zone=NY)
    chicago = task_from_fhir(resource, ZoneInfo("America/Chicago"))
    assert (chicago["due_on"], chicago["due_time"]) == (date(2026, 11, 25), time(9, 0))
    dated = task_to_fhir(a_task(due_time=None, rrule=None, series_id=None, tags=""), NDJSON, patient_uid=PATIENT,
                         zone=NY)  # fmt: skip
    assert dated["restriction"] == {"period": {"end": "2026-11-25"}} and "extension" not in dated
    assert "tag" not in dated["meta"]
    assert (task_from_fhir(dated, NY)["due_time"], task_from_fhir(dated, NY)["rrule"]) == (None, None)


@pytest.mark.parametrize(("status", "read_as"), [("ready", "requested"), ("failed", "cancelled"),
                                                 ("in-progress", "in-progress")])  # fmt: skip
def test_task_statuses_from_elsewhere_are_read_as_the_nearest_carecoord_keeps(status, read_as):
    resource = {"resourceType": "Task", "id": "t", "status": status, "intent": "order", "description": "Call"}
    assert task_from_fhir(resource, NY)["status"] == read_as


def test_a_task_without_a_title_or_with_an_unknown_priority_is_refused():
    with pytest.raises(ValidationError, match="Task/t: no description"):
        task_from_fhir({"resourceType": "Task", "id": "t", "status": "requested"}, NY)
    with pytest.raises(ValidationError, match="priority 'soon'"):
        task_from_fhir({"resourceType": "Task", "id": "t", "status": "requested", "description": "x",
                        "priority": "soon"}, NY)  # fmt: skip


# --- the communication log -----------------------------------------------------------------------


def an_entry(**changes) -> Communication:
    fields = dict(id=3, uid="88888888-8888-4888-8888-888888888888", patient_id=1,
                  at=datetime(2026, 11, 24, 14, 30, tzinfo=UTC), channel="phone", direction="outbound",
                  with_whom="Kathleen O'Neill", contact_id=2, outcome="reached", minutes=12, note="Meds reviewed",
                  program="ccm")  # fmt: skip
    return Communication(**(fields | changes))


def test_a_call_to_a_contact_names_the_contact_as_recipient_with_minutes_and_program():
    resource = valid(communication_to_fhir(an_entry(), PATIENT, BUNDLE, contact=("RelatedPerson", CONTACT)))
    assert resource["status"] == "completed"
    assert codes(resource["medium"], PARTICIPATION_MODE) == ["PHONE"]
    assert resource["recipient"] == [{"reference": f"urn:uuid:{CONTACT}", "display": "Kathleen O'Neill"}]
    assert "sender" not in resource
    assert resource["sent"] == "2026-11-24T14:30:00Z"
    assert resource["payload"] == [{"contentString": "Meds reviewed"}]
    assert communication_party(resource) == resource["recipient"][0]
    assert communication_from_fhir(resource, NY) == {
        "at": datetime(2026, 11, 24, 14, 30, tzinfo=UTC), "channel": "phone", "direction": "outbound",
        "with_whom": "Kathleen O'Neill", "outcome": "reached", "minutes": 12, "note": "Meds reviewed",
        "program": "ccm",
    }  # fmt: skip


@pytest.mark.parametrize(("channel", "mode"), [("visit", "FACE"), ("video", "VIDEOCONF"), ("message", "MSGWRIT"),
                                               ("letter", "MAILWRIT"), ("email", "EMAILWRIT")])  # fmt: skip
def test_each_channel_has_its_participation_mode_and_reads_back(channel, mode):
    resource = valid(communication_to_fhir(an_entry(channel=channel), PATIENT, NDJSON))
    assert codes(resource["medium"], PARTICIPATION_MODE) == [mode]
    assert communication_from_fhir(resource, NY)["channel"] == channel


def test_an_unanswered_inbound_call_from_the_patient_or_a_named_caller():
    missed = an_entry(direction="inbound", outcome="no-answer", with_whom=None, contact_id=None, minutes=0,
                      note=None, program=None)  # fmt: skip
    resource = valid(communication_to_fhir(missed, PATIENT, NDJSON))
    assert resource["status"] == "not-done" and resource["sender"] == {"reference": f"Patient/{PATIENT}"}
    assert "recipient" not in resource and communication_party(resource) is None
    fields = communication_from_fhir(resource, NY)
    assert (fields["direction"], fields["with_whom"], fields["outcome"], fields["minutes"]) == (
        "inbound",
        None,
        "no-answer",
        0,
    )
    named = valid(communication_to_fhir(an_entry(direction="inbound", contact_id=None, with_whom="Pharmacy"),
                                        PATIENT, NDJSON))  # fmt: skip
    assert named["sender"] == {"display": "Pharmacy"} and communication_party(named) is None
    assert communication_from_fhir(named, NY)["with_whom"] == "Pharmacy"


# --- transitions of care -------------------------------------------------------------------------


def a_transition(**changes) -> Transition:
    fields = dict(id=1, uid="99999999-9999-4999-8999-999999999999", patient_id=1, facility="St. Luke's Hospital",
                  discharged_on=date(2026, 11, 19), complexity="high", contact_due=date(2026, 11, 23),
                  visit_due=date(2026, 11, 26), contact_task_id=3, visit_task_id=4, notes="Fall at home")  # fmt: skip
    return Transition(**(fields | changes))


def test_a_transition_is_a_tcm_episode_with_its_cpt_code_deadlines_and_tasks():
    resource = valid(transition_to_fhir(a_transition(), PATIENT, BUNDLE, today=date(2026, 11, 25),
                                        contact_task_uid="c-task", visit_task_uid="v-task"))  # fmt: skip
    assert resource["status"] == "active"
    assert resource["period"] == {"start": "2026-11-19", "end": "2026-12-18"}  # discharge day + 29
    assert codes(resource["type"], CPT) == ["99496"]
    assert resource["patient"] == {"reference": f"urn:uuid:{PATIENT}"}
    assert is_transition(resource)
    assert transition_tasks(resource) == ({"reference": "urn:uuid:c-task"}, {"reference": "urn:uuid:v-task"})
    assert transition_from_fhir(resource) == {
        "facility": "St. Luke's Hospital", "discharged_on": date(2026, 11, 19), "complexity": "high",
        "contact_due": date(2026, 11, 23), "visit_due": date(2026, 11, 26), "notes": "Fall at home",
    }  # fmt: skip
    moderate = transition_to_fhir(a_transition(complexity="moderate"), PATIENT, NDJSON, today=date(2027, 1, 1))
    assert codes(moderate["type"], CPT) == ["99495"] and moderate["status"] == "finished"


def test_an_episode_of_care_that_is_not_a_transition_is_not_one():
    other = {"resourceType": "EpisodeOfCare", "id": "e", "status": "active", "patient": {"reference": "Patient/p"}}
    assert not is_transition(other)


def test_a_program_enrolment_s_episode_of_care_is_not_a_transition():
    episode = transition_to_fhir(a_transition(), PATIENT, NDJSON, today=date(2026, 11, 25))
    program = {"coding": [{"system": "https://carecoord.example/fhir/CodeSystem/program", "code": "tcm"}]}
    assert not is_transition(episode | {"type": [program]})
