"""Screenings (issue 13): instruments as data checked against their published codes, scores and bands
by hand count, safety flags, social needs on a plan, history, rescreening, the agenda and the report,
and `screen add` answered at a real terminal."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from carecoord.services import instruments
from tests.conftest import assert_one_line_error
from tests.test_team import Team, team  # noqa: F401  (the team store's fixture: three people on one server)

# --- the shipped instruments against the published codes ------------------------------------------
# Written out here from the sources named in each file (loinc.org panel and answer-list pages, the
# HL7 SDOH Clinical Care and US Core example Questionnaires, CMS's AHC HRSN tool, CDC STEADI), so a
# slip in a data file fails a test instead of reaching a patient's record. None: no code published
# (or none found), which the file's source.unverified says.

PHQ_ANSWERS = [("0", "LA6568-5", 0), ("1", "LA6569-3", 1), ("2", "LA6570-1", 2), ("3", "LA6571-9", 3)]
FOOD = [("1", "LA28397-0", None), ("2", "LA6729-3", None), ("3", "LA28398-8", None)]
OFTEN = [("1", "LA6270-8", 1), ("2", "LA10066-1", 2), ("3", "LA10082-8", 3), ("4", "LA16644-9", 4),
         ("5", "LA6482-9", 5)]  # fmt: skip
PHQ9_ITEMS = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"]
GAD7_ITEMS = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]

EXPECTED: dict[str, dict[str, Any]] = {
    "phq9": {
        "panel": "44249-1", "total": "44261-6",
        "items": [(code, PHQ_ANSWERS) for code in PHQ9_ITEMS]
        + [("69722-7", [("0", "LA6572-7", None), ("1", "LA6573-5", None), ("2", "LA6575-0", None),
                        ("3", "LA6574-3", None)])],
        "bands": [(0, 4, "none-minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 19, "moderately-severe"),
                  (20, 27, "severe")],
    },
    "phq2": {"panel": "55757-9", "total": "55758-7", "items": [(code, PHQ_ANSWERS) for code in PHQ9_ITEMS[:2]],
             "bands": [(0, 2, "negative"), (3, 6, "positive")]},
    "gad7": {"panel": "69737-5", "total": "70274-6", "items": [(code, PHQ_ANSWERS) for code in GAD7_ITEMS],
             "bands": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]},
    "gad2": {"panel": None, "total": None, "items": [(code, PHQ_ANSWERS) for code in GAD7_ITEMS[:2]],
             "bands": [(0, 2, "negative"), (3, 6, "positive")]},
    "hvs": {"panel": "88121-9", "total": None,
            "items": [(code, [*FOOD, ("4", "LA15775-2", None)]) for code in ("88122-7", "88123-5")], "bands": []},
    "ahc-hrsn": {
        "panel": "96777-8", "total": None,
        "items": [
            ("71802-3", [("1", "LA31993-1", None), ("2", "LA31994-9", None), ("3", "LA31995-6", None)]),
            ("96778-6", [("1", "LA31996-4", None), ("2", "LA28580-1", None), ("3", "LA31997-2", None),
                         ("4", "LA31998-0", None), ("5", "LA31999-8", None), ("6", "LA32000-4", None),
                         ("7", "LA32001-2", None), ("8", "LA9-3", None)]),
            ("88122-7", FOOD), ("88123-5", FOOD),
            ("93030-5", [("1", "LA33-6", None), ("2", "LA32-8", None)]),
            ("96779-4", [("1", "LA33-6", None), ("2", "LA32-8", None), ("3", "LA32002-0", None)]),
            ("95618-5", OFTEN), ("95617-7", OFTEN), ("95616-9", OFTEN), ("95615-1", OFTEN),
        ],
        "bands": [],
    },
    "steadi": {"panel": None, "total": None, "items": [(None, [("1", None, 1), ("0", None, 0)])] * 3,
               "bands": [(0, 0, "not-at-risk"), (1, 3, "at-risk")]},
}  # fmt: skip


def test_every_shipped_instrument_matches_the_published_codes():
    shipped = instruments.builtins()
    assert sorted(shipped) == sorted(EXPECTED)
    for key, expected in EXPECTED.items():
        found = shipped[key]
        assert found.loinc == expected["panel"], key
        assert found.total_loinc == expected["total"], key
        assert [(i.loinc, [(o.code, o.loinc, o.score) for o in i.options]) for i in found.items] == expected["items"]
        assert [(b.low, b.high, b.code) for b in found.bands] == expected["bands"], key
        assert found.copyright and found.source["publication"] and found.source["checked_against"], key
        if key in ("phq9", "phq2", "gad7", "gad2"):
            assert "Copyright (c) Pfizer Inc." in found.copyright
        if (None in (found.loinc, found.total_loinc) and found.total_items is not None) or found.loinc is None:
            assert found.source["unverified"], f"{key}: a missing code must be said in source.unverified"
    ahc = shipped["ahc-hrsn"]
    assert ahc.item("2").repeats and [s["loinc"] for s in ahc.subscores] == ["95614-4"]
    assert shipped["hvs"].result == {"loinc": "88124-3", "positive": {"code": "LA19952-3", "display": "At risk"},
                                     "negative": {"code": "LA19983-8", "display": "No risk"}}  # fmt: skip


def _answers(key: str, codes: str) -> instruments.Result:
    given = instruments.builtins()[key]
    return instruments.score(given, instruments.answers_in_order(given, codes.split(",")))


def test_positivity_rules_follow_the_sources():
    # PHQ-9: positive (depression) at 10; item 9 above 0 is a safety flag whatever the total
    assert _answers("phq9", "1,1,1,1,1,1,1,1,1,").domain_codes == ()
    assert _answers("phq9", "1,1,1,1,1,1,1,2,1,").domain_codes == ("depression",)
    assert _answers("phq9", "0,0,0,0,0,0,0,0,1,").safety and not _answers("phq9", "3,3,3,3,3,3,3,3,0,0").safety
    # PHQ-2 / GAD-2: 3 or more leads on to the full instrument
    assert _answers("phq2", "1,1").follow_up is None
    assert _answers("phq2", "2,1").follow_up.instrument == "phq9"  # type: ignore[union-attr]
    assert _answers("gad2", "0,3").follow_up.instrument == "gad7"  # type: ignore[union-attr]
    # HVS: either statement often or sometimes true
    assert _answers("hvs", "3,3").domain_codes == () and _answers("hvs", "3,2").domain_codes == ("food-insecurity",)
    assert _answers("hvs", "1,4").band_display == "At risk" and _answers("hvs", "4,4").band_display == "No risk"
    # AHC HRSN, CMS's rules, domain by domain
    quiet = "1,8,3,3,2,2,1,1,1,1"
    assert _answers("ahc-hrsn", quiet).domain_codes == ()
    assert _answers("ahc-hrsn", "2,8,3,3,2,2,1,1,1,1").domain_codes == ("housing-instability",)
    assert _answers("ahc-hrsn", "3,2+4,3,3,2,2,1,1,1,1").domain_codes == ("homelessness", "inadequate-housing")
    assert _answers("ahc-hrsn", "1,8,3,2,1,3,1,1,1,1").domain_codes == ("food-insecurity", "transportation-insecurity",
                                                                        "utility-insecurity")  # fmt: skip
    # safety: the four answers add up to more than 10 (10 is not, 11 is), and that is a safety flag
    assert not _answers("ahc-hrsn", "1,8,3,3,2,2,1,3,3,3").safety
    eleven = _answers("ahc-hrsn", "1,8,3,3,2,2,2,3,3,3")
    assert (
        eleven.domain_codes == ("intimate-partner-violence",) and eleven.safety and eleven.subscores == {"safety": 11}
    )
    # STEADI: any yes
    assert _answers("steadi", "0,0,0").domain_codes == () and _answers("steadi", "0,0,1").domain_codes == ("fall-risk",)
    with pytest.raises(Exception, match="None of the above"):
        _answers("ahc-hrsn", "1,1+8,3,3,2,2,1,1,1,1")


# --- scores and bands by hand count, through the CLI, on both engines ------------------------------


def _add(cli: Any, *args: str) -> dict[str, Any]:
    run = cli("screen", "add", *args, "-f", "json")
    assert run.exit_code == 0, run.stderr
    first = run.stdout.split("\n}\n")[0] + "\n}"
    return json.loads(first)  # type: ignore[no-any-return]


# Each: the answers, counted by hand: PHQ-9 items 1-9 (item 10 unscored) and GAD-7 items 1-7.
PHQ9_BOUNDARIES = [
    ("1,1,1,1,0,0,0,0,0,0", 4, "none-minimal"),  # 1+1+1+1
    ("1,1,1,1,1,0,0,0,0,0", 5, "mild"),  # 5 x 1
    ("2,2,2,2,1,0,0,0,0,1", 9, "mild"),  # 4 x 2 + 1
    ("2,2,2,2,2,0,0,0,0,1", 10, "moderate"),  # 5 x 2
    ("2,2,2,2,2,2,2,0,0,2", 14, "moderate"),  # 7 x 2
    ("3,3,3,2,2,2,0,0,0,2", 15, "moderately-severe"),  # 3 x 3 + 3 x 2
    ("3,3,3,3,3,2,2,0,0,2", 19, "moderately-severe"),  # 5 x 3 + 2 x 2
    ("3,3,3,3,3,3,2,0,0", 20, "severe"),  # 6 x 3 + 2; question 10 (optional) left off
    ("3,3,3,3,3,3,3,3,3,3", 27, "severe"),
]
GAD7_BOUNDARIES = [
    ("1,1,1,1,0,0,0", 4, "minimal"),
    ("1,1,1,1,1,0,0", 5, "mild"),
    ("2,2,2,1,1,1,0", 9, "mild"),
    ("2,2,2,2,2,0,0", 10, "moderate"),
    ("2,2,2,2,2,2,2", 14, "moderate"),
    ("3,3,3,2,2,2,0", 15, "severe"),
    ("3,3,3,3,3,3,3", 21, "severe"),
]


def test_phq9_and_gad7_scores_and_bands_at_every_boundary(jane, rows):
    for answers, total, band in PHQ9_BOUNDARIES:
        record = _add(jane, "jane", "phq9", "--answers", answers)
        assert (record["score"], record["band"], record["score_loinc"]) == (total, band, "44261-6"), answers
        assert record["positive_domains"] == (["depression"] if total >= 10 else [])
    for answers, total, band in GAD7_BOUNDARIES:
        record = _add(jane, "jane", "gad7", "--answers", answers)
        assert (record["score"], record["band"], record["loinc"]) == (total, band, "69737-5"), answers
    stored = rows("SELECT instrument, score, band FROM screening ORDER BY id")
    assert [(r["score"], r["band"]) for r in stored] == [(t, b) for _, t, b in PHQ9_BOUNDARIES + GAD7_BOUNDARIES]
    # each answer is kept with its LOINC codes and score
    answers = rows("SELECT item_id, loinc, answer, answer_loinc, score FROM screening_answer WHERE screening_id = 4 "
                   "ORDER BY position")  # fmt: skip
    assert answers[0] == {"item_id": "1", "loinc": "44250-9", "answer": "2", "answer_loinc": "LA6570-1", "score": 2}
    assert answers[9] == {"item_id": "10", "loinc": "69722-7", "answer": "1", "answer_loinc": "LA6573-5", "score": None}


def test_phq9_item_9_warns_with_988_and_adds_a_stat_task_due_today(jane, rows):
    run = jane("screen", "add", "jane", "phq9", "--answers", "0,0,0,0,0,0,0,0,1,0")
    assert run.exit_code == 0, run.stderr
    assert run.stdout.startswith("Recorded PHQ-9 #1 for #1 Jane Doe on 2026-11-25: score 1 (None-minimal); positive:")
    assert "SAFETY FLAG: #1 Jane Doe" in run.stdout
    assert "question 9 (Thoughts that you would be better off dead" in run.stdout
    assert "988 Suicide & Crisis Lifeline: call or text 988" in run.stdout
    assert "stat task #1 'Safety follow-up' is due today" in run.stdout
    assert rows("SELECT title, priority, due_on, status, patient_id FROM task") == [
        {"title": "Safety follow-up", "priority": "stat", "due_on": "2026-11-25", "status": "requested",
         "patient_id": 1}]  # fmt: skip
    assert rows("SELECT safety_flag, safety_task_id FROM screening") == [{"safety_flag": 1, "safety_task_id": 1}]
    # scripts get the record on stdout and the warning on stderr
    scripted = jane("screen", "add", "jane", "phq9", "--answers", "0,0,0,0,0,0,0,0,2,0", "-f", "json")
    assert json.loads(scripted.stdout)["safety_flag"] is True and "988" in scripted.stderr
    # a second flag the same day joins the open follow-up instead of adding another task
    assert len(rows("SELECT id FROM task")) == 1
    assert rows("SELECT safety_task_id FROM screening ORDER BY id") == [{"safety_task_id": 1}] * 2
    # the flag shows on patient show, the agenda and the report until the task is done
    shown = jane("patient", "show", "jane")
    assert "SAFETY FLAG OPEN: follow up today" in shown.stdout
    assert len(json.loads(jane("patient", "show", "jane", "-f", "json").stdout)["safety_flags"]) == 2
    agenda = json.loads(jane("agenda", "-f", "json").stdout)
    assert [f["id"] for f in agenda["days"][0]["safety_flags"]] == [1, 2]
    assert "### Safety flags open" in jane("agenda", "-f", "markdown").stdout
    jane("patient", "edit", "jane", "--phone", "(617) 555-0123")
    assert "· (617) 555-0123" in jane("agenda", "-f", "markdown").stdout  # the number to call, as people read it
    report = json.loads(jane("report", "screenings", "-f", "json").stdout)
    assert [f["patient_name"] for f in report["open_safety_flags"]] == ["Jane Doe", "Jane Doe"]
    assert jane("task", "done", "1").exit_code == 0
    assert "SAFETY FLAG" not in jane("patient", "show", "jane").stdout
    assert json.loads(jane("agenda", "-f", "json").stdout)["days"][0]["safety_flags"] == []
    assert json.loads(jane("report", "screenings", "-f", "json").stdout)["open_safety_flags"] == []
    listed = json.loads(jane("screen", "list", "-f", "json").stdout)
    assert [(r["safety_flag"], r["safety_open"]) for r in listed] == [(True, False), (True, False)]


def test_a_gad7_and_an_ahc_hrsn_from_a_script_with_the_needs_on_the_plan(jane, rows, tmp_path):
    jane("plan", "add", "jane", "Social needs", "--need", "Lives alone")
    record = _add(jane, "jane", "gad7", "--answers", "1,2,1,0,0,1,0", "--by", "self", "--date", "2026-11-20")
    assert (record["score"], record["band_display"], record["taken_on"]) == (5, "Mild", "2026-11-20")
    answers = tmp_path / "ahc.json"
    answers.write_text(json.dumps({"1": "2", "2": ["1", "7"], "3": "1", "4": "3", "5": "1", "6": "2", "7": 1,
                                   "8": 1, "9": 1, "10": 1}))  # fmt: skip
    ahc = _add(jane, "jane", "ahc-hrsn", "--answers-file", str(answers), "--by", "proxy", "--plan", "social",
               "--note", "daughter answered")  # fmt: skip
    assert ahc["positive_domains"] == ["housing-instability", "inadequate-housing", "food-insecurity",
                                       "transportation-insecurity"]  # fmt: skip
    assert ahc["social_needs"] == ahc["positive_domains"] and ahc["safety_flag"] is False
    assert (ahc["answered_by"], ahc["plan_id"], ahc["note"], ahc["score"]) == ("proxy", 1, "daughter answered", None)
    plan = json.loads(jane("plan", "show", "1", "-f", "json").stdout)
    assert plan["needs"] == ["Lives alone", "Housing instability (positive AHC HRSN screen)",
                             "Inadequate housing (positive AHC HRSN screen)",
                             "Food insecurity (positive AHC HRSN screen)",
                             "Transportation insecurity (positive AHC HRSN screen)"]  # fmt: skip
    # screening again adds no duplicates
    _add(jane, "jane", "ahc-hrsn", "--answers-file", str(answers), "--plan", "1")
    assert len(json.loads(jane("plan", "show", "1", "-f", "json").stdout)["needs"]) == 5
    shown = json.loads(jane("screen", "show", str(ahc["id"]), "-f", "json").stdout)
    assert shown["items"][1] == {
        "id": "2",
        "loinc": "96778-6",
        "question": shown["items"][1]["question"],
        "answer": "1+7",
        "answer_loinc": "LA31996-4+LA32001-2",
        "answer_text": "Pests such as bugs, ants, or mice; Water leaks",
        "score": None,
    }
    assert shown["items"][6]["answer_text"] == "Never" and shown["items"][6]["score"] == 1


def test_the_positive_social_needs_of_a_screening_for_referrals(jane, session):
    from carecoord.services import screenings
    from carecoord.vocab import SDOH_DOMAINS

    _add(jane, "jane", "ahc-hrsn", "--answers", "3,8,1,3,2,3,5,3,2,1")
    _add(jane, "jane", "phq9", "--answers", "3,3,3,3,3,3,3,3,0,0")
    assert screenings.positive_social_needs(session, 1) == ("homelessness", "food-insecurity", "utility-insecurity",
                                                            "intimate-partner-violence")  # fmt: skip
    assert set(screenings.positive_social_needs(session, 1)) <= set(SDOH_DOMAINS)
    assert screenings.positive_social_needs(session, 2) == ()  # depression is not a social need


# --- bad input: one line, exit 1 (2 for usage), nothing changed ----------------------------------


def test_wrong_answers_unknown_keys_and_no_terminal_change_nothing(jane, unchanged, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with unchanged():
        cases = [
            (
                ("jane", "phq9", "--answers", "1,1,1"),
                1,
                "phq9 has 10 questions (the last one optional); 3 answers were given",
            ),
            (
                ("jane", "phq9", "--answers", "1,1,1,1,1,1,1,1,1,1,1"),
                1,
                "phq9 has 10 questions (the last one optional); 11 answers",
            ),
            (("jane", "phq2", "--answers", "1"), 1, "phq2 has 2 questions; 1 answer was given"),
            (("jane", "phq9", "--answers", "1,1,4,1,1,1,1,1,1,1"), 1, "answer 3 (item 3): '4' is not an answer code"),
            (("jane", "phq9", "--answers", "1,,1,1,1,1,1,1,1,1"), 1, "answer 2 (item 2) needs an answer"),
            (("jane", "gad7", "--answers", "1+2,0,0,0,0,0,0"), 1, "takes one answer, not '1+2'"),
            (
                ("jane", "phq10", "--answers", "1"),
                1,
                "no screening instrument 'phq10' (known: ahc-hrsn, gad2, gad7, hvs, phq2, phq9, steadi;",
            ),
            (("nobody", "phq9", "--answers", "1"), 1, "no patient matches 'nobody'"),
            (("jane", "phq2", "--answers-file", str(bad)), 1, "bad.json: not JSON"),
            (("jane", "phq2", "--answers", "1,1", "--date", "2026-12-01"), 1, "cannot be dated in the future"),
            (("jane", "phq2", "--answers", "1,1", "--plan", "9"), 1, "no plan matches '9'"),
            (("jane", "phq2", "--answers", "1,1", "--answers-file", str(bad)), 2, "not both"),
            (("jane", "phq2"), 2, "not on a terminal: give the answers with --answers"),
        ]
        for args, code, fragment in cases:
            assert_one_line_error(jane("screen", "add", *args), code, fragment)
        assert_one_line_error(jane("screen", "show", "5"), 1, "no screening matches '5'")
        assert_one_line_error(jane("screen", "history", "jane", "nope"), 1, "no screening instrument 'nope'")
        assert_one_line_error(jane("screen", "delete", "1", "--yes"), 1, "no screening matches '1'")
        assert_one_line_error(jane("screen", "cadence", "phq9", "often"), 1, "cannot read 'often' as an interval")


INSTRUMENT = {
    "resourceType": "Questionnaire", "id": "mini", "version": "2", "name": "MINI", "title": "A mini screen",
    "copyright": "Free to use.", "source": {"publication": "Made up for a test."},
    "item": [{"linkId": "1", "code": None, "text": "Worried about rent?",
              "answerOption": [{"code": "y", "display": "Yes", "score": 1}, {"code": "n", "display": "No", "score": 0}]},
             {"linkId": "2", "text": "Anything else?", "required": False,
              "answerOption": [{"code": "1", "display": "Something", "score": 1}]}],
    "scoring": {"total": {"loinc": None, "items": ["1", "2"]},
                "domains": [{"code": "housing-instability", "social_need": True,
                             "when": {"any_of": [{"item": "1", "answers": ["y"]}]}}],
                "rescreen": {"every_days": 90}},
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("copyright"), "mini.json: copyright: missing"),
        (lambda d: d.update(resourceType="Patient"), "resourceType: must be 'Questionnaire'"),
        (lambda d: d.update(id="Mini Screen"), "id: 'Mini Screen' must be lower-case letters"),
        (lambda d: d.update(id="phq9"), "id 'phq9' is a shipped instrument"),
        (lambda d: d["item"][0]["answerOption"][1].update(score="none"), "item[0].answerOption[1].score: must be a "
                                                                         "whole number"),
        (lambda d: d["item"][1].update(linkId="1"), "item[1].linkId: '1' is used twice"),
        (lambda d: d["item"][0].pop("answerOption"), "item[0].answerOption: missing"),
        (lambda d: d["scoring"]["domains"][0]["when"]["any_of"][0].update(answers=["maybe"]),
         "scoring.domains[0].when.any_of[0].answers: 'maybe' is not an answer code of item 1"),
        (lambda d: d["scoring"]["domains"][0].update(when={"most_of": 2}), "scoring.domains[0].when: 'most_of' is "
                                                                           "not one of"),
        (lambda d: d["scoring"].update(bands=[{"min": 0, "max": 1, "code": "low", "display": "Low"}]),
         "scoring.bands[0].max: the last band must end at the highest total, 2"),
        (lambda d: d["scoring"]["total"].update(items=["1", "3"]), "scoring.total.items: names item '3'"),
        (lambda d: d["scoring"].update(rescreen={"every_days": 0}), "scoring.rescreen.every_days: intervals"),
    ],
)  # fmt: skip
def test_a_malformed_instrument_file_is_refused_naming_the_field(cli, unchanged, tmp_path, change, message):
    document = json.loads(json.dumps(INSTRUMENT))
    change(document)
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(document))
    with unchanged():
        assert_one_line_error(cli("screen", "instruments", "--add", str(path)), 1, message)


def test_a_loaded_instrument_is_given_listed_and_removed_only_when_unused(jane, tmp_path, rows, unchanged):
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(INSTRUMENT))
    run = jane("screen", "instruments", "--add", str(path))
    assert run.stdout.strip() == ("Loaded instrument mini (A mini screen, version 2): give it with "
                                  "'carecoord screen add PATIENT mini'.")  # fmt: skip
    assert rows("SELECT key, version, title FROM screening_instrument") == [
        {"key": "mini", "version": "2", "title": "A mini screen"}]  # fmt: skip
    listed = json.loads(jane("screen", "instruments", "-f", "json").stdout)
    assert [(i["key"], i["shipped"]) for i in listed][-1] == ("mini", False) and len(listed) == 8
    with unchanged():
        assert_one_line_error(jane("screen", "instruments", "--add", str(path)), 1, "already loaded")
    record = _add(jane, "jane", "mini", "--answers", "y,")
    assert (record["score"], record["social_needs"], record["instrument_version"]) == (1, ["housing-instability"], "2")
    with unchanged():
        assert_one_line_error(jane("screen", "instruments", "--remove", "mini"), 1, "given in 1 screening(s)")
        assert_one_line_error(jane("screen", "instruments", "--remove", "phq9"), 1, "shipped with carecoord")
    assert jane("screen", "delete", "1", "--yes").exit_code == 0
    assert (
        jane("screen", "instruments", "--remove", "mini").stdout.strip() == "Removed instrument mini (A mini screen)."
    )


def test_instruments_list_and_show_the_questions_with_their_codes(cli):
    table = cli("screen", "instruments").stdout
    assert "Screening instruments (7)" in table and "96777-8" in table and "44249-1" in table
    shown = cli("screen", "instruments", "--show", "phq9")
    assert "0 = Not at all (0); 1 = Several days (1)" in shown.stdout.replace("\n", " ").replace("  ", " ") or (
        "0 = Not at all (0)" in shown.stdout
    )
    assert "Copyright: Copyright (c) Pfizer Inc." in shown.stdout.replace("\n", " ")
    document = json.loads(cli("screen", "instruments", "--show", "ahc-hrsn", "-f", "json").stdout)
    assert [q["loinc"] for q in document["questions"]][:3] == ["71802-3", "96778-6", "88122-7"]
    assert document["questions"][1]["choose_all"] is True
    csv_text = cli("screen", "instruments", "--show", "gad2", "-f", "csv").stdout
    assert csv_text.splitlines()[:2] == [
        "id,loinc,question,required,choose_all,answer_codes",
        '1,69725-0,"Feeling nervous, anxious, or on edge",true,false,0;1;2;3',
    ]


# --- history, list, show, delete -----------------------------------------------------------------


def test_history_shows_change_response_and_remission(jane):
    for day, answers in (("2026-08-01", "2,2,2,2,2,2,2,2,0,1"), ("2026-09-01", "2,2,1,1,1,1,1,1,0,1"),
                         ("2026-10-01", "1,1,1,1,0,0,0,0,0,0")):  # fmt: skip
        _add(jane, "jane", "phq9", "--answers", answers, "--date", day)
    history = json.loads(jane("screen", "history", "jane", "phq9", "-f", "json").stdout)
    assert [(h["score"], h["change"], h["response"], h["remission"]) for h in history] == [
        (16, None, False, False), (10, -6, False, False), (4, -6, True, True)]  # fmt: skip
    table = jane("screen", "history", "jane", "phq9").stdout
    assert "phq9 score over time" in table and "response, remission" in table and "-6" in table
    assert "2026-10-01  " in table.split("phq9 score over time")[1]
    empty = jane("screen", "history", "jane", "gad7")
    assert empty.stdout.strip() == "No gad7 screenings for #1 Jane Doe."


def test_list_filters_and_delete_is_audited_and_cancels_the_safety_task(eve, rows):
    _add(eve, "eve", "phq2", "--answers", "0,1", "--date", "2026-10-01")
    _add(eve, "gus", "phq9", "--answers", "0,0,0,0,0,0,0,0,1,0")
    _add(eve, "gus", "steadi", "--answers", "1,0,0")

    def ids(*args: str) -> list[int]:
        return [r["id"] for r in json.loads(eve("screen", "list", *args, "-f", "json").stdout)]

    assert ids() == [3, 2, 1]
    assert ids("--patient", "gus") == [3, 2] and ids("--instrument", "phq2") == [1]
    assert ids("--positive") == [3] and ids("--since", "2026-11-01") == [3, 2]
    csv_head = eve("screen", "list", "-f", "csv").stdout.splitlines()[0]
    assert csv_head.startswith("id,uid,patient_id,patient_name,instrument,instrument_version,title,loinc,")
    assert "positive_domains" in csv_head and "safety_flag" in csv_head
    assert_one_line_error(eve("screen", "delete", "2"), 2, "add --yes")
    run = eve("screen", "delete", "2", "--yes")
    assert run.stdout.strip() == ("Deleted screening #2 (phq9 on 2026-11-25). Cancelled its safety follow-up "
                                  "task #1.")  # fmt: skip
    assert rows("SELECT count(*) AS n FROM screening_answer WHERE screening_id = 2") == [{"n": 0}]
    assert rows("SELECT status, status_reason FROM task") == [
        {"status": "cancelled", "status_reason": "screening #2 was entered in error"}]  # fmt: skip
    audit = json.loads(eve("audit", "-f", "json").stdout)
    deleted = next(e for e in audit if e["table"] == "screening" and e["action"] == "delete")
    assert deleted["changes"]["instrument"] == ["phq9", None] and deleted["changes"]["score"] == [1, None]


# --- rescreening, the agenda and the report ------------------------------------------------------


def test_cadence_due_and_the_agenda(eve, rows):
    # Eve: PHQ-9 of 12 on Nov 1 -> every 28 days while 10 or more -> due Nov 29.
    # Gus: PHQ-9 of 3 a year and five days ago -> due Nov 20 (overdue); never had a GAD-7, AHC HRSN or STEADI.
    _add(eve, "eve", "phq9", "--answers", "2,2,2,2,2,1,1,0,0,1", "--date", "2026-11-01")
    _add(eve, "gus", "phq9", "--answers", "1,1,1,0,0,0,0,0,0,0", "--date", "2025-11-20")
    _add(eve, "eve", "ahc-hrsn", "--answers", "1,8,3,3,2,2,1,1,1,1")
    _add(eve, "eve", "phq2", "--answers", "0,0", "--date", "2026-06-01")
    _add(eve, "eve", "steadi", "--answers", "0,0,0")
    _add(eve, "eve", "gad2", "--answers", "2,2", "--date", "2026-11-20")  # positive: the GAD-7 is owed now
    due = json.loads(eve("screen", "due", "-f", "json").stdout)
    assert [(d["patient_name"], d["instrument"], d["due_on"], d["last_instrument"]) for d in due] == [
        ("Gus Brown", "ahc-hrsn", None, None), ("Gus Brown", "gad7", None, None), ("Gus Brown", "steadi", None, None),
        ("Eve Adams", "gad7", "2026-11-20", "gad2"), ("Gus Brown", "phq9", "2026-11-20", "phq9"),
    ]  # fmt: skip
    assert due[3]["why"] == "gad2 on 2026-11-20 was positive: give the gad7" and due[4]["overdue_days"] == 5
    assert [d["instrument"] for d in json.loads(eve("screen", "due", "-i", "phq9", "-f", "json").stdout)] == ["phq9"]
    agenda = json.loads(eve("agenda", "--days", "7", "-f", "json").stdout)
    by_day = {d["date"]: [(s["patient_name"], s["instrument"]) for s in d["screenings_due"]] for d in agenda["days"]}
    assert by_day["2026-11-25"] == [("Eve Adams", "gad7"), ("Gus Brown", "phq9")]  # never screened: 'screen due' only
    assert by_day["2026-11-29"] == [("Eve Adams", "phq9")]
    assert all(not v for k, v in by_day.items() if k not in ("2026-11-25", "2026-11-29"))
    assert "### Screenings due" in eve("agenda", "--days", "7", "-f", "markdown").stdout
    csv_rows = [
        line for line in eve("agenda", "--days", "7", "-f", "csv").stdout.splitlines() if "screening due" in line
    ]
    assert csv_rows[-1] == "2026-11-29,screening due,,1,Eve Adams,phq9,last 2026-11-01,false,1,"
    # the team changes a cadence: AHC HRSN every 6 months; PHQ-9 every 2 weeks while positive
    run = eve("screen", "cadence", "phq9", "1y", "--while-positive", "2w")
    assert run.stdout.strip() == "phq9 is given every 365 days, every 14 days while positive."
    assert rows("SELECT instrument, every_days, sooner_days FROM screening_cadence") == [
        {"instrument": "phq9", "every_days": 365, "sooner_days": 14}]  # fmt: skip
    due = json.loads(eve("screen", "due", "-i", "phq9", "-f", "json").stdout)
    assert [(d["patient_name"], d["due_on"]) for d in due] == [("Eve Adams", "2026-11-15"), ("Gus Brown", "2026-11-20")]
    assert eve("screen", "cadence", "steadi", "off").stdout.strip() == "steadi is not rescreened."
    assert_one_line_error(eve("screen", "due", "-i", "steadi"), 1, "steadi is not rescreened")
    assert eve("screen", "cadence", "phq9", "default").stdout.strip() == (
        "phq9 is given every 365 days, every 28 days while positive (its default)."
    )
    listed = json.loads(eve("screen", "cadence", "-f", "json").stdout)
    assert {c["instrument"]: (c["every_days"], c["changed"]) for c in listed}["steadi"] == (None, True)


def test_report_screenings_in_four_formats(eve):
    _add(eve, "eve", "ahc-hrsn", "--answers", "2,8,1,3,2,2,1,1,1,1", "--date", "2026-11-02")
    _add(eve, "gus", "ahc-hrsn", "--answers", "1,8,3,3,2,2,1,1,1,1", "--date", "2026-11-03")
    _add(eve, "gus", "phq9", "--answers", "2,2,2,2,2,0,0,0,0,0", "--date", "2026-11-04")
    _add(eve, "eve", "phq9", "--answers", "0,0,0,0,0,0,0,0,0,0", "--date", "2026-10-30")  # before the period
    report = json.loads(eve("report", "screenings", "--from", "2026-11-01", "-f", "json").stdout)
    assert report["instruments"] == [
        {"instrument": "ahc-hrsn", "screenings": 2, "positive": 1, "positive_rate": 50.0},
        {"instrument": "phq9", "screenings": 1, "positive": 1, "positive_rate": 100.0},
    ]
    domains = {d["domain"]: (d["screenings"], d["positive"]) for d in report["domains"]}
    assert domains["housing-instability"] == (2, 1) and domains["food-insecurity"] == (2, 1)
    assert domains["utility-insecurity"] == (2, 0) and "depression" not in domains
    table = eve("report", "screenings", "--from", "2026-11-01").stdout
    assert "Screenings, 2026-11-01 to 2026-11-25" in table and "No open safety flags." in table
    assert "Positive rate by instrument (%)" in table and "50.0%" in table
    csv_text = eve("report", "screenings", "--from", "2026-11-01", "-f", "csv").stdout
    assert csv_text.splitlines()[:2] == ["kind,name,screenings,positive,positive_rate", "instrument,ahc-hrsn,2,1,50.0"]
    markdown = eve("report", "screenings", "--from", "2026-11-01", "-f", "markdown").stdout
    assert "| instrument | phq9 | 1 | 1 | 100.0% |" in markdown and "Positive rate" not in markdown
    assert_one_line_error(eve("report", "screenings", "--from", "2026-11-10", "--to", "2026-11-01"), 1, "ends before")


def test_a_patients_hard_delete_takes_their_screenings(jane, rows):
    _add(jane, "jane", "phq2", "--answers", "1,1")
    assert jane("patient", "delete", "jane", "--yes").exit_code == 0
    assert rows("SELECT count(*) AS n FROM screening") == [{"n": 0}]
    assert rows("SELECT count(*) AS n FROM screening_answer") == [{"n": 0}]


def test_the_demo_includes_screenings(cli, tmp_path, monkeypatch):
    assert cli("demo").exit_code == 0
    monkeypatch.setenv("CARECOORD_DB", str(tmp_path / "xdg" / "carecoord" / "demo.db"))
    listed = json.loads(cli("screen", "list", "-f", "json").stdout)
    assert {r["instrument"] for r in listed} == {"phq9", "phq2", "ahc-hrsn", "steadi", "gad7"}
    assert [r["patient_name"] for r in listed if r["safety_open"]] == ["Aisha Rahman"]
    plan = json.loads(cli("plan", "show", "Diabetes", "-f", "json").stdout)
    assert "Food insecurity (positive AHC HRSN screen)" in plan["needs"]


# --- a team store: each coordinator sees only their patients' screenings --------------------------


@pytest.mark.postgresql
def test_a_coordinator_cannot_see_another_coordinators_screenings(team: Team) -> None:  # noqa: F811
    people = team
    if True:
        for role, name, mrn in ((people.ann, "Ann Patient", "A1"), (people.bob, "Bob Patient", "B1")):
            assert people.run(role, "patient", "add", name, "--mrn", mrn).exit_code == 0
            run = people.run(role, "screen", "add", mrn, "phq9", "--answers", "0,0,0,0,0,0,0,0,1,0")
            assert run.exit_code == 0, run.stderr
        for role in (people.ann, people.bob):
            assert people.count(role, "screening") == 1 and people.count(role, "screening_answer") == 10
            names = [r["patient_name"] for r in json.loads(people.run(role, "screen", "list", "-f", "json").stdout)]
            assert names == ["Ann Patient" if role == people.ann else "Bob Patient"]
        assert people.count(people.sue, "screening") == 2 and people.count(people.sue, "screening_answer") == 20
        assert_one_line_error(people.run(people.bob, "screen", "show", "1"), 1, "no screening matches '1'")
        report = json.loads(people.run(people.bob, "report", "screenings", "-f", "json").stdout)
        assert [f["patient_name"] for f in report["open_safety_flags"]] == ["Bob Patient"]
        # cadences are the team's: one coordinator's change holds for all
        assert people.run(people.ann, "screen", "cadence", "ahc-hrsn", "6m").exit_code == 0
        listed = json.loads(people.run(people.bob, "screen", "cadence", "ahc-hrsn", "-f", "json").stdout)
        assert listed == [{"instrument": "ahc-hrsn", "every_days": 180, "sooner_days": None, "changed": True}]


# --- at a real terminal ----------------------------------------------------------------------------

EXECUTABLE = Path(sys.executable).with_name("carecoord")


@pytest.fixture
def terminal(tmp_path: Path, template_db: Path) -> Any:
    """Start ``carecoord --db FILE ARGS`` in a pseudo-terminal (the real executable, a SQLite file)."""
    import shutil

    pexpect = pytest.importorskip("pexpect")
    db = tmp_path / "tty.db"
    shutil.copy2(template_db, db)
    env = {**os.environ, "CARECOORD_TZ": "America/New_York", "NO_COLOR": "1", "COLUMNS": "100"}
    env.pop("CARECOORD_DB", None)

    def spawn(*args: str) -> Any:
        child = pexpect.spawn(str(EXECUTABLE), ["--db", str(db), *args], env=env, encoding="utf-8", timeout=30)
        return child

    spawn.db = db  # type: ignore[attr-defined]
    return spawn


def _sql(db: Path, query: str) -> list[tuple[Any, ...]]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(query).fetchall()


def test_a_phq2_leads_into_a_phq9_at_a_terminal(terminal):
    add = terminal("patient", "add", "Tess Tty")
    add.expect("Added patient #1")
    add.wait()
    child = terminal("screen", "add", "tess", "phq2")
    child.expect("1/2. Little interest or pleasure in doing things")
    child.expect("Answer: ")
    child.sendline("7")
    child.expect("that answer \\(item 1\\): '7' is not an answer code \\(0, 1, 2, 3\\)")
    child.expect("Answer: ")
    child.sendline("1")
    child.expect("2/2. Feeling down")
    child.expect("Answer: ")
    child.sendline("b")  # back to the first question
    child.expect("1/2. Little interest")
    child.expect("Enter keeps 1\\): ")
    child.sendline("2")
    child.expect("2/2. Feeling down")
    child.expect("Answer: ")
    child.sendline("")
    child.expect("Type one of the codes above.")
    child.sendline("2")
    child.expect(
        "Recorded PHQ-2 #1 for #1 Tess Tty on 2026-11-25: score 4 \\(Positive: give the PHQ-9\\)|"
        "Recorded PHQ-2 #1 for #1 Tess Tty on \\d{4}-\\d\\d-\\d\\d: score 4"
    )
    child.expect("PHQ-2 is 4: go on to the PHQ-9 now, with these answers carried over\\? \\[Y/n\\]: ")
    child.sendline("y")
    child.expect("1/10. Little interest")
    child.expect("Enter keeps 2")
    child.sendline("")
    child.expect("Enter keeps 2")
    child.sendline("")
    for _ in range(3, 10):
        child.expect("Answer: ")
        child.sendline("1")
    child.expect("10/10. If you checked off any problems")
    child.expect("s = skip")
    child.sendline("s")
    child.expect("Recorded PHQ-9 #2 for #1 Tess Tty on .*: score 11 \\(Moderate\\); positive: Depression.")
    child.expect("SAFETY FLAG")
    child.expect("988 Suicide & Crisis Lifeline")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 0
    assert _sql(terminal.db, "SELECT instrument, score, band, safety_flag FROM screening ORDER BY id") == [
        ("phq2", 4, "positive", 0), ("phq9", 11, "moderate", 1)]  # fmt: skip
    assert _sql(terminal.db, "SELECT answer FROM screening_answer WHERE screening_id = 2 ORDER BY position") == [
        ("2",), ("2",), *[("1",)] * 7, ("",)]  # fmt: skip
    assert _sql(terminal.db, "SELECT title, priority FROM task") == [("Safety follow-up", "stat")]


def test_ctrl_c_at_a_terminal_saves_nothing(terminal):
    add = terminal("patient", "add", "Tess Tty")
    add.expect("Added patient #1")
    add.wait()
    before = _sql(terminal.db, "SELECT count(*) FROM audit_log")
    child = terminal("screen", "add", "tess", "gad7")
    child.expect("1/7. Feeling nervous")
    child.sendline("2")
    child.expect("2/7. ")
    child.expect("Answer: ")
    child.sendintr()
    child.expect("carecoord: error: interrupted: nothing was saved")
    child.expect(pexpect_eof())
    child.close()
    assert child.exitstatus == 130
    assert _sql(terminal.db, "SELECT count(*) FROM screening") == [(0,)]
    assert _sql(terminal.db, "SELECT count(*) FROM audit_log") == before


def pexpect_eof() -> Any:
    import pexpect

    return pexpect.EOF


def test_a_late_evening_flag_is_due_that_day_in_the_users_zone(jane, rows):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    # 23:30 in New York is already tomorrow in UTC: the screening and its task belong to the local day
    with time_machine.travel(datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("America/New_York")), tick=False):
        run = jane("screen", "add", "jane", "phq9", "--answers", "0,0,0,0,0,0,0,0,3")
        assert run.exit_code == 0, run.stderr
        assert json.loads(jane("agenda", "-f", "json").stdout)["days"][0]["safety_flags"][0]["id"] == 1
    assert rows("SELECT taken_on FROM screening") == [{"taken_on": "2026-11-25"}]
    assert rows("SELECT due_on, priority FROM task") == [{"due_on": "2026-11-25", "priority": "stat"}]


def test_a_yearly_rescreen_from_a_leap_day_is_365_days_later(jane):
    _add(jane, "jane", "steadi", "--answers", "0,0,0", "--date", "2024-02-29")
    _add(jane, "jane", "gad7", "--answers", "0,0,0,0,0,0,0", "--date", "2025-11-26")  # due 2026-11-26: not yet
    due = json.loads(jane("screen", "due", "-f", "json").stdout)
    assert [(d["instrument"], d["due_on"]) for d in due if d["last_on"]] == [("steadi", "2025-02-28")]
    agenda = json.loads(jane("agenda", "--days", "2", "-f", "json").stdout)
    assert [[s["instrument"] for s in d["screenings_due"]] for d in agenda["days"]] == [["steadi"], ["gad7"]]
