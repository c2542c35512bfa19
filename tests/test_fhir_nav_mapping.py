"""The navigation records as FHIR R4 resources (carecoord/fhir/{screenings,referrals,authorizations,
programs}.py), without a database: each resource validates with fhir.resources, carries the codes the
published code systems define (LOINC for the instrument, Gravity SDOH categories for the need,
CPT/HCPCS for the program), and reads back to the fields it was made from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from carecoord.fhir import Refs
from carecoord.fhir import authorizations as fa
from carecoord.fhir import programs as fp
from carecoord.fhir import referrals as fr
from carecoord.fhir import screenings as fs
from carecoord.fhir.nav_codes import CPT, HCPCS, LOINC, SDOH_CATEGORY, US_CORE_CATEGORY, derived_uid
from carecoord.models import (
    Authorization,
    AuthorizationUse,
    ProgramEnrolment,
    Referral,
    ReferralEvent,
    Resource,
    Screening,
    ScreeningAnswer,
)
from carecoord.services import instruments

REFS = Refs(bundle=True)
PATIENT = "11111111-1111-4111-8111-111111111111"
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after fhir.resources accepted it (its R4B models: R4's structure for these types)."""
    from fhir.resources.R4B import get_fhir_model_class

    model: Any = get_fhir_model_class(resource["resourceType"])
    (getattr(model, "model_validate", None) or model.parse_obj)(resource)
    return resource


def screened(key: str, answers: str, **extra: Any) -> tuple[Screening, list[ScreeningAnswer], Any]:
    given = instruments.builtins()[key]
    chosen = instruments.answers_in_order(given, answers.split(","))
    result = instruments.score(given, chosen)
    screening = Screening(
        id=7, patient_id=1, instrument=key, instrument_version=given.version, loinc=given.loinc,
        taken_on=date(2026, 11, 20), answered_by=extra.get("answered_by", "self"), score=result.score,
        band=instruments.band_code(result), positive=result.positive,
        positive_domains=",".join(result.domain_codes), safety_flag=result.safety, note=extra.get("note"),
    )  # fmt: skip
    rows = [ScreeningAnswer(screening_id=7, position=n, item_id=a.item.id, loinc=a.item.loinc, answer=a.code,
                            score=a.score) for n, a in enumerate(chosen, 1)]  # fmt: skip
    return screening, rows, given


def by_type(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == kind]


def test_a_phq9_is_a_questionnaire_response_with_loinc_answers_a_total_and_a_safety_flag() -> None:
    screening, rows, given = screened("phq9", "1,2,1,1,0,1,0,0,1,1", note="asked at home")
    links = fs.Links(PATIENT, "Aisha Rahman", safety_task_uid="22222222-2222-4222-8222-222222222222")
    made = [valid(r) for r in fs.screening_to_fhir(screening, rows, given, links, REFS)]
    response = by_type(made, "QuestionnaireResponse")[0]
    assert response["questionnaire"].endswith("/Questionnaire/phq9|1")
    assert response["source"] == {"reference": f"urn:uuid:{PATIENT}", "display": "Aisha Rahman"}
    first = response["item"][0]["answer"][0]["valueCoding"]
    assert (first["system"], first["code"], first["extension"][0]["valueDecimal"]) == (LOINC, "LA6569-3", 1)
    total, safety = by_type(made, "Observation")
    assert total["code"]["coding"][0] == {"system": LOINC, "code": "44261-6", "display": "PHQ-9 total score"}
    assert total["valueInteger"] == 7 and total["interpretation"][0]["coding"][0]["code"] == "mild"
    assert total["derivedFrom"] == [{"reference": f"urn:uuid:{screening.uid}"}]
    assert safety["valueBoolean"] is True and safety["code"]["coding"][0]["code"] == "safety-flag"

    read = fs.screening_from_fhir(response)
    assert (read["instrument"], read["instrument_version"], read["taken_on"]) == ("phq9", "1", date(2026, 11, 20))
    assert (read["answered_by"], read["note"]) == ("self", "asked at home")
    assert read["safety_task_ref"] == "urn:uuid:22222222-2222-4222-8222-222222222222"
    codes = [fs.answer_codes(item, read["answers"][item.id], "phq9") for item in given.items]
    assert codes == [[c] for c in "1,2,1,1,0,1,0,0,1,1".split(",")]


def test_a_social_needs_screening_has_one_gravity_observation_per_positive_domain() -> None:
    screening, rows, given = screened("ahc-hrsn", "1,8,2,1,1,2,1,1,1,1", answered_by="coordinator")
    social = screening.positive_domains.split(",")
    assert social == ["food-insecurity", "transportation-insecurity"]
    made = [valid(r) for r in fs.screening_to_fhir(screening, rows, given, fs.Links(PATIENT, "Luis"), REFS, social)]
    response = by_type(made, "QuestionnaireResponse")[0]
    assert response["source"] == {"display": "coordinator"}
    domains = by_type(made, "Observation")
    assert [o["code"]["coding"][0]["code"] for o in domains] == social
    food = domains[0]
    assert {"system": US_CORE_CATEGORY, "code": "sdoh", "display": "SDOH"} in [c["coding"][0] for c in food["category"]]
    assert food["category"][2]["coding"][0]["system"] == SDOH_CATEGORY
    assert food["id"] == derived_uid(screening.uid, "domain/food-insecurity")
    item2 = next(i for i in response["item"] if i["linkId"] == "2")  # "none of the above" has a LOINC code
    assert item2["answer"] == [{"valueCoding": {"system": LOINC, "code": "LA9-3", "display": "None of the above"}}]


def test_an_instrument_without_a_loinc_total_codes_its_score_in_carecoords_system() -> None:
    screening, rows, given = screened("steadi", "1,1,0")
    total = [valid(r) for r in fs.screening_to_fhir(screening, rows, given, fs.Links(PATIENT, "W"), REFS)][1]
    assert total["code"]["coding"][0]["system"].endswith("/CodeSystem/screening-total")
    hvs, hvs_rows, hvs_given = screened("hvs", "2,3")
    result = [valid(r) for r in fs.screening_to_fhir(hvs, hvs_rows, hvs_given, fs.Links(PATIENT, "M"), REFS)][1]
    assert result["code"]["coding"][0]["code"] == "88124-3"
    assert result["valueCodeableConcept"]["coding"][0]["code"] == "LA19952-3"  # at risk


def test_derived_ids_are_rfc_4122_name_based_uuids() -> None:
    import uuid

    from carecoord.fhir import nav_codes

    for uid, part in (("11111111-1111-4111-8111-111111111111", "task"), ("x", "domain/food-insecurity")):
        assert derived_uid(uid, part) == str(uuid.uuid5(nav_codes._DERIVED, f"{uid}/{part}"))


def test_an_unknown_answer_code_is_named() -> None:
    item = instruments.builtins()["phq9"].items[0]
    with pytest.raises(ValueError, match=r"item 1: http://loinc\.org\|LA0000-0"):
        fs.answer_codes(item, [(LOINC, "LA0000-0")], "phq9")


def resource() -> Resource:
    return Resource(id=3, name="Weekly Food Pantry", category="food-insecurity", organization="Second Harvest",
                    phone="+15555550141", hours="Tue 9-13", languages="English, Spanish", hsds_id="svc-9",
                    taxonomy="BD-1800,BD-1800.2000", eligibility="County residents", fees="free",
                    address="1 Main St")  # fmt: skip


def test_a_directory_entry_is_a_healthcare_service_and_reads_back() -> None:
    entry = resource()
    service = valid(fr.resource_to_fhir(entry))
    assert service["category"][0]["coding"][0] == {"system": SDOH_CATEGORY, "code": "food-insecurity",
                                                    "display": "Food insecurity"}  # fmt: skip
    read = fr.resource_from_fhir(service)
    for key, value in read.items():
        assert getattr(entry, key) == value, key


def referral() -> tuple[Referral, list[ReferralEvent]]:
    made = Referral(id=4, patient_id=1, resource_id=3, recipient="Weekly Food Pantry", kind="community",
                    need="food-insecurity", reason="Runs out of food", priority="urgent", status="accepted",
                    consent_method="verbal", consent_by="Luis Garcia", consent_on=date(2026, 11, 5),
                    consent_recorded_by="rn1", sent_on=date(2026, 11, 5), changed_at=AT, follow_up_days=3,
                    notes="call first", screening_id=7)  # fmt: skip
    events = [
        ReferralEvent(referral_id=4, at=AT, happened_on=date(2026, 11, 5), action="created", to_status="draft",
                      note="to Weekly Food Pantry", recorded_by="rn1"),
        ReferralEvent(referral_id=4, at=AT, happened_on=date(2026, 11, 8), action="status", from_status="sent",
                      to_status="accepted", recorded_by="rn1"),
    ]  # fmt: skip
    return made, events


def test_a_referral_is_a_service_request_a_task_and_a_consent() -> None:
    made, events = referral()
    screening_uid = "33333333-3333-4333-8333-333333333333"
    links = fr.Links(PATIENT, "Luis", resource().uid, screening_uid, True, "44444444-4444-4444-8444-444444444444")
    request, task, consent = (valid(r) for r in fr.referral_to_fhir(made, events, links, REFS))
    assert (request["status"], request["priority"], request["intent"]) == ("active", "urgent", "order")
    assert request["category"][0]["coding"][0]["code"] == "food-insecurity"
    assert request["reasonReference"] == [
        {"reference": f"urn:uuid:{derived_uid(screening_uid, 'domain/food-insecurity')}"}
    ]
    assert request["supportingInfo"][0] == {"reference": f"urn:uuid:{screening_uid}"}
    assert (task["status"], task["businessStatus"]["coding"][0]["code"]) == ("accepted", "accepted")
    assert task["focus"] == {"reference": f"urn:uuid:{made.uid}"}
    assert len(task["extension"]) == 2
    assert consent["scope"]["coding"][0]["code"] == "patient-privacy"
    assert consent["provision"]["data"][0]["reference"] == {"reference": f"urn:uuid:{made.uid}"}

    read = fr.referral_from_fhir(request)
    assert read["screening_ref"] == f"urn:uuid:{screening_uid}"
    assert read["resource_ref"] == f"urn:uuid:{resource().uid}" or read["resource_ref"].startswith("urn:uuid:")
    for key in ("recipient", "kind", "need", "reason", "priority", "notes", "follow_up_days"):
        assert read[key] == getattr(made, key), key
    loop = fr.referral_task_from_fhir(task)
    assert (loop["status"], loop["sent_on"], loop["changed_at"]) == ("accepted", date(2026, 11, 5), AT)
    assert [e["to_status"] for e in loop["events"]] == ["draft", "accepted"]
    assert loop["events"][0]["uid"] == events[0].uid
    assert fr.referral_consent_from_fhir(consent) == {
        "consent_method": "verbal", "consent_by": "Luis Garcia", "consent_on": date(2026, 11, 5),
        "consent_recorded_by": "rn1",
    }  # fmt: skip


def test_a_referral_to_a_named_recipient_without_consent() -> None:
    made = Referral(id=5, patient_id=1, recipient="Dr. Alvarez", kind="specialist", status="cancelled",
                    status_reason="moved away", priority="routine")  # fmt: skip
    found = [valid(r) for r in fr.referral_to_fhir(made, [], fr.Links(PATIENT, "Jane"), REFS)]
    assert [r["resourceType"] for r in found] == ["ServiceRequest", "Task"]
    assert found[0]["performer"] == [{"display": "Dr. Alvarez"}] and found[0]["status"] == "revoked"
    assert found[1]["status"] == "cancelled" and found[1]["statusReason"] == {"text": "moved away"}


def test_an_authorization_is_a_preauthorization_claim_response() -> None:
    auth = Authorization(id=9, patient_id=1, service="home health visits", number="PA-88231", status="approved",
                         requested_on=date(2026, 9, 1), decided_on=date(2026, 9, 3), start_on=date(2026, 9, 3),
                         end_on=date(2026, 12, 31), units_approved=12, unit="visits", notes="Mercy")  # fmt: skip
    uses = [AuthorizationUse(authorization_id=9, used_on=date(2026, 10, 1), units=1, appointment_id=5,
                             occurrence=AT, note="nurse")]  # fmt: skip
    links = fa.Links(
        PATIENT,
        "Margaret",
        "55555555-5555-4555-8555-555555555555",
        "Medicare",
        "66666666-6666-4666-8666-666666666666",
        {uses[0].uid: "77777777-7777-4777-8777-777777777777"},
        ["88888888-8888-4888-8888-888888888888"],
    )
    response = valid(fa.authorization_to_fhir(auth, uses, links, REFS))
    assert (response["use"], response["preAuthRef"], response["outcome"]) == (
        "preauthorization",
        "PA-88231",
        "complete",
    )
    assert response["preAuthPeriod"] == {"start": "2026-09-03", "end": "2026-12-31"}
    assert response["insurer"] == {"display": "Medicare"}
    read = fa.authorization_from_fhir(response)
    for key in ("service", "number", "status", "requested_on", "decided_on", "start_on", "end_on",
                "units_approved", "unit", "notes"):  # fmt: skip
        assert read[key] == getattr(auth, key), key
    assert read["uses"] == [
        {
            "uid": uses[0].uid,
            "used_on": date(2026, 10, 1),
            "units": 1,
            "occurrence": AT,
            "note": "nurse",
            "appointment_ref": "urn:uuid:77777777-7777-4777-8777-777777777777",
        }
    ]
    assert read["coverage_ref"] == "urn:uuid:55555555-5555-4555-8555-555555555555"
    assert read["booked_refs"] == ["urn:uuid:88888888-8888-4888-8888-888888888888"]


@pytest.mark.parametrize(
    ("program", "conditions", "qmb", "expected"),
    [("ccm", None, None, (CPT, "99490")), ("complex-ccm", None, None, (CPT, "99487")), ("pcm", None, None, (CPT, "99426")),
     ("chi", None, None, (HCPCS, "G0019")), ("pin", None, None, (HCPCS, "G0023")), ("apcm", 1, None, (HCPCS, "G0556")),
     ("apcm", 2, False, (HCPCS, "G0557")), ("apcm", 2, True, (HCPCS, "G0558")), ("tcm", None, None, None),
     ("apcm", None, None, None)],
)  # fmt: skip
def test_an_enrolment_is_an_episode_of_care_typed_with_its_billing_code(
    program: str, conditions: int | None, qmb: bool | None, expected: tuple[str, str] | None
) -> None:
    enrolment = ProgramEnrolment(id=2, patient_id=1, program=program, consent="written", enrolled_on=date(2026, 8, 1),
                                 consent_by="Demo RN", chronic_conditions=conditions, qmb=qmb,
                                 ended_on=date(2026, 11, 1), end_reason="moved")  # fmt: skip
    episode, consent = (valid(r) for r in fp.enrolment_to_fhir(enrolment, fp.Links(PATIENT, "Mei"), REFS))
    assert episode["status"] == "finished" and episode["period"] == {"start": "2026-08-01", "end": "2026-11-01"}
    billed = [(c["system"], c["code"]) for t in episode["type"][1:] for c in t["coding"]]
    assert billed == ([expected] if expected else [])
    assert consent["scope"]["coding"][0]["code"] == "treatment"
    assert consent["category"][0]["coding"][0] == {"system": LOINC, "code": "59284-0", "display": "Patient Consent"}
    assert consent["provision"]["period"] == episode["period"]
    read = fp.enrolment_from_fhir(episode)
    for key, value in read.items():
        if key != "patient_ref":
            assert getattr(enrolment, key) == value, key
    assert fp.program_consent_from_fhir(consent) == {"consent": "written", "consent_by": "Demo RN"}
