"""Program enrolment and consent, the program a log entry's minutes count toward, and the month's
minutes report for CHI, PIN and APCM with its consent flags (issue 15, items 3 and 4).

Sources for the figures (also beside the rules in carecoord/clinical.py):
- CHI G0019 (60 minutes per calendar month) and G0022 (each additional 30), PIN G0023/G0024 and
  PIN peer support G0140/G0146 on the same thresholds: CY 2024 PFS final rule; CMS MLN9201074.
- APCM G0556 (one chronic condition or fewer), G0557 (two or more), G0558 (two or more, Qualified
  Medicare Beneficiary): CY 2025 PFS final rule.
- Consent (verbal or written, documented) before care management and navigation services: the same rules.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import assert_one_line_error


def ok(cli, *args):
    run = cli(*args)
    assert run.exit_code == 0, (args, run.stderr)
    return run


def month(cli, patient=None):
    """``report minutes`` for November 2026 as JSON, by patient id."""
    args = ("report", "minutes", "--month", "2026-11", "-f", "json") + (("--patient", patient) if patient else ())
    return {r["patient_id"]: r for r in json.loads(ok(cli, *args).stdout)}


def log(cli, minutes, when="2026-11-20 10:00", *extra):
    return ok(cli, "log", "add", "jane", "--minutes", str(minutes), "--when", when, *extra)


# --- enrol, list, end -------------------------------------------------------------------------------


def test_enrol_with_consent_list_and_end_each_audited(jane, rows):
    run = ok(jane, "program", "enroll", "jane", "CCM", "--consent", "verbal", "--date", "2026-11-02",
             "--by", "K. Lee, RN", "--note", "consent in the chart")  # fmt: skip
    assert run.stdout.strip() == "Enrolled #1 Jane Doe in ccm (#1, since 2026-11-02, verbal consent)."
    ok(jane, "program", "enroll", "jane", "chi", "--consent", "written")
    [ccm, chi] = json.loads(ok(jane, "program", "list", "-f", "json").stdout)
    assert (ccm["program"], ccm["consent"], ccm["enrolled_on"], ccm["consent_by"], ccm["active"]) == (
        "ccm", "verbal", "2026-11-02", "K. Lee, RN", True)  # fmt: skip
    assert (chi["program_name"], chi["enrolled_on"]) == ("Community health integration", "2026-11-25")
    table = ok(jane, "program", "list", "-f", "markdown").stdout
    assert "| verbal 2026-11-02 by K. Lee, RN | enrolled |" in table
    run = ok(jane, "program", "end", "jane", "ccm", "--reason", "consent withdrawn")
    assert "Ended #1 Jane Doe's enrolment in ccm (#1, since 2026-11-02, ended 2026-11-25" in run.stdout
    assert [r["program"] for r in json.loads(ok(jane, "program", "list", "--current", "-f", "json").stdout)] == ["chi"]
    assert [r["program"] for r in json.loads(ok(jane, "program", "list", "--program", "ccm", "-f", "json").stdout)] == [
        "ccm"]  # fmt: skip
    assert "ended 2026-11-25 (consent withdrawn)" in ok(jane, "program", "list", "-f", "markdown").stdout
    ok(jane, "program", "enroll", "jane", "ccm", "--consent", "written")  # enrolled again after the end
    audit = json.loads(ok(jane, "audit", "-f", "json").stdout)
    mine = [(e["action"], e["record_id"]) for e in reversed(audit) if e["table"] == "program_enrolment"]
    assert mine == [("create", 1), ("create", 2), ("update", 1), ("create", 3)]
    assert {r["program"] for r in rows("SELECT program FROM program_enrolment")} == {"ccm", "chi"}


def test_discharge_ends_the_patients_programs_and_show_lists_them(jane, rows):
    ok(jane, "program", "enroll", "jane", "ccm", "--consent", "verbal", "--date", "2026-11-02")
    ok(jane, "program", "enroll", "jane", "chi", "--consent", "written", "--date", "2026-11-10")
    ok(jane, "program", "end", "jane", "chi", "--date", "2026-11-12")
    shown = ok(jane, "patient", "show", "jane").stdout
    assert "Programs" in shown and "ccm" in shown and "ended 2026-11-12" in shown
    run = ok(jane, "patient", "discharge", "jane")
    assert "Program enrolments ended with it: ccm." in run.stdout
    assert rows("SELECT program, ended_on, end_reason FROM program_enrolment ORDER BY id") == [
        {"program": "ccm", "ended_on": "2026-11-25", "end_reason": "patient discharged"},
        {"program": "chi", "ended_on": "2026-11-12", "end_reason": None},
    ]
    [ccm, chi] = json.loads(ok(jane, "patient", "show", "jane", "-f", "json").stdout)["programs"]
    assert (ccm["program"], ccm["active"], chi["ended_on"]) == ("ccm", False, "2026-11-12")
    assert "Program enrolments ended" not in ok(jane, "patient", "reactivate", "jane").stdout


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (("program", "enroll", "jane", "ccmx", "--consent", "verbal"), 1, "unknown program 'ccmx': use one of ccm,"),
        (("program", "enroll", "jane", "ccm", "--consent", "verbal", "--date", "tomorrow"), 1, "is in the future"),
        (("program", "enroll", "jane", "ccm", "--consent", "nodded"), 1, "'nodded' is not one of 'verbal', 'written'"),
        (("program", "enroll", "jane", "ccm"), 2, "--consent"),
        (("program", "enroll", "jane", "chi", "--consent", "verbal"), 1, "already enrolled in chi (#1"),
        (("program", "enroll", "jane", "ccm", "--consent", "verbal", "--conditions", "2"), 1, "for 'apcm' only"),
        (("program", "enroll", "nobody", "ccm", "--consent", "verbal"), 1, "no patient matches 'nobody'"),
        (("program", "end", "jane", "pin"), 1, "#1 Jane Doe is not enrolled in pin"),
        (("program", "end", "jane", "chi", "--date", "2026-10-01"), 1, "before the enrolment began on 2026-11-02"),
        (("program", "end", "jane", "nav"), 1, "unknown program 'nav'"),
        (("program", "list", "--program", "nav"), 1, "unknown program 'nav'"),
    ],
)
def test_bad_enrolments_are_one_line_and_change_nothing(jane, unchanged, args, code, said):
    ok(jane, "program", "enroll", "jane", "chi", "--consent", "verbal", "--date", "2026-11-02")
    with unchanged():
        run = jane(*args)
    assert_one_line_error(run, code, said)


# --- which program a log entry's minutes count toward --------------------------------------------------


def test_minutes_count_toward_the_one_program_named_or_enrolled(jane, rows, unchanged):
    log(jane, 10)  # no enrolment: no program
    ok(jane, "program", "enroll", "jane", "chi", "--consent", "verbal", "--date", "2026-11-02")
    log(jane, 20)  # the one time-based program
    log(jane, 5, "2026-11-20 11:00", "--program", "PIN")  # named
    ok(jane, "program", "enroll", "jane", "apcm", "--consent", "verbal", "--date", "2026-11-02")
    log(jane, 7, "2026-11-20 12:00")  # APCM is not time-based: still chi
    ok(jane, "program", "enroll", "jane", "ccm", "--consent", "verbal", "--date", "2026-11-03")
    with unchanged():  # chi and ccm: which one? a minute counts toward one program only
        run = jane("log", "add", "jane", "--minutes", "15", "--when", "2026-11-20 13:00")
    assert_one_line_error(run, 1, "enrolled in ccm and chi", "say which with --program")
    log(jane, 0, "2026-11-20 14:00", "--outcome", "no-answer")  # no minutes: no program needed
    log(jane, 12, "2026-11-02 09:00")  # before ccm began: chi
    stored = rows("SELECT minutes, program FROM communication ORDER BY id")
    assert [(r["minutes"], r["program"]) for r in stored] == [
        (10, None), (20, "chi"), (5, "pin"), (7, "chi"), (0, None), (12, "chi")]  # fmt: skip
    assert json.loads(ok(jane, "log", "edit", "1", "--program", "ccm", "-f", "json").stdout)["program"] == "ccm"
    ok(jane, "log", "edit", "1", "--program", "")
    assert rows("SELECT program FROM communication WHERE id = 1") == [{"program": None}]
    with unchanged():
        assert_one_line_error(jane("log", "add", "jane", "--minutes", "5", "--program", "bogus"), 1,
                              "unknown program 'bogus'")  # fmt: skip
        assert_one_line_error(jane("log", "edit", "1", "--program", "bogus"), 1, "unknown program 'bogus'")


def test_the_timer_logs_toward_a_program_too(jane, rows):
    ok(jane, "timer", "start", "jane")
    ok(jane, "timer", "stop", "--minutes", "25", "--program", "chi")
    assert rows("SELECT minutes, program FROM communication") == [{"minutes": 25, "program": "chi"}]


def test_apcm_alone_takes_the_calls(jane, rows):
    ok(jane, "program", "enroll", "jane", "apcm", "--consent", "written", "--date", "2026-11-01", "--conditions", "1")
    log(jane, 15)
    assert rows("SELECT program FROM communication") == [{"program": "apcm"}]
    [row] = month(jane).values()
    assert (row["apcm_code"], row["care_management_minutes"], row["apcm_minutes"]) == ("G0556", 0, 15)
    assert row["consent_missing"] == [] and row["ccm_codes"] is None


# --- the month's report -------------------------------------------------------------------------------


# (minutes, codes, units, minutes to the next unit)
CHI_LEVELS = [(59, None, 0, 1), (60, "G0019", 1, 30), (89, "G0019", 1, 1), (90, "G0019 + G0022 x1", 2, 30),
              (120, "G0019 + G0022 x2", 3, 30), (150, "G0019 + G0022 x3", 4, 30)]  # fmt: skip


@pytest.mark.parametrize(("minutes", "codes", "units", "to_next"), CHI_LEVELS)
def test_community_health_integration_reaches_g0019_at_60_minutes(jane, minutes, codes, units, to_next):
    ok(jane, "program", "enroll", "jane", "chi", "--consent", "verbal", "--date", "2026-11-01")
    log(jane, minutes - minutes // 2, "2026-11-02 10:00")
    log(jane, minutes // 2, "2026-11-20 10:00")
    [row] = month(jane).values()
    assert (row["chi_minutes"], row["chi_codes"], row["chi_minutes_to_next"]) == (minutes, codes, to_next)
    assert row["chi_units"] == units
    # time counts toward one program only: none of it is care management
    assert (row["care_management_minutes"], row["ccm_codes"], row["consent_missing"]) == (0, None, [])


def test_principal_illness_navigation_and_its_peer_support_codes(jane):
    ok(jane, "program", "enroll", "jane", "pin", "--consent", "written", "--date", "2026-11-01")
    log(jane, 95)
    log(jane, 30, "2026-11-21 10:00", "--program", "ccm")
    [row] = month(jane).values()
    assert (row["pin_minutes"], row["pin_codes"], row["pin_peer_codes"]) == (95, "G0023 + G0024 x1", "G0140 + G0146 x1")
    assert (row["care_management_minutes"], row["ccm_codes"]) == (30, "99490")
    assert row["consent_missing"] == ["ccm"]  # ccm minutes, no ccm consent


@pytest.mark.parametrize(
    ("flags", "code", "note"),
    [
        (("--conditions", "0"), "G0556", None),
        (("--conditions", "1", "--qmb"), "G0556", None),  # QMB raises the level only with 2+ conditions
        (("--conditions", "2", "--no-qmb"), "G0557", None),
        (("--conditions", "4", "--qmb"), "G0558", None),
        (("--conditions", "3"), None, "APCM G0557 or G0558: QMB status not recorded"),
        ((), None, "APCM level unknown: record the number of chronic conditions"),
    ],
)
def test_apcm_is_monthly_by_chronic_conditions_and_qmb_status(jane, flags, code, note):
    ok(jane, "program", "enroll", "jane", "apcm", "--consent", "verbal", "--date", "2026-11-01", *flags)
    [row] = month(jane).values()
    assert (row["apcm_code"], row["minutes"]) == (code, 0)  # no time threshold
    assert len(row["notes"]) == (0 if note is None else 1)
    if note:
        assert row["notes"][0].startswith(note)
        assert note in ok(jane, "report", "minutes", "--month", "2026-11").stdout.replace("\n", " ")
    [enrolment] = json.loads(ok(jane, "program", "list", "-f", "json").stdout)
    assert enrolment["apcm_code"] == code


def test_apcm_with_care_management_minutes_says_they_are_bundled(jane):
    ok(jane, "program", "enroll", "jane", "apcm", "--consent", "verbal", "--date", "2026-11-01", "--conditions", "2",
       "--no-qmb")  # fmt: skip
    ok(jane, "program", "enroll", "jane", "ccm", "--consent", "verbal", "--date", "2026-11-01")
    log(jane, 25)
    [row] = month(jane).values()
    assert row["ccm_codes"] == "99490" and row["apcm_code"] == "G0557"
    assert row["notes"] == ["APCM includes ccm: the practitioner billing APCM does not bill them this month"]


def test_minutes_without_consent_on_file_are_flagged(eve):
    ok(eve, "program", "enroll", "gus", "ccm", "--consent", "verbal", "--date", "2026-11-10")
    for who, when in (("eve", "2026-11-05 10:00"), ("gus", "2026-11-05 10:00"), ("gus", "2026-11-12 10:00")):
        ok(eve, "log", "add", who, "--minutes", "15", "--when", when)
    rows = month(eve)
    # Eve: CCM minutes, never enrolled. Gus: enrolled on the 10th, but minutes from the 5th count too.
    assert rows[1]["consent_missing"] == ["ccm"] and rows[2]["consent_missing"] == ["ccm"]
    ok(eve, "log", "delete", "2", "--yes")
    assert month(eve)[2]["consent_missing"] == []
    assert "| NONE for ccm |" in ok(eve, "report", "minutes", "--month", "2026-11", "-f", "markdown").stdout
    table = ok(eve, "report", "minutes", "--month", "2026-11").stdout
    assert "No consent on file before the minutes counted toward a program" in table
    assert "#1 Eve Adams (ccm)" in table.replace("\n", " ")
    sheet = list(csv.DictReader(io.StringIO(ok(eve, "report", "minutes", "--month", "2026-11", "-f", "csv").stdout)))
    assert [(r["patient_id"], r["consent_missing"]) for r in sheet] == [("1", "ccm"), ("2", "")]


def test_an_ended_enrolment_covers_the_month_it_ended_in_only(jane):
    ok(jane, "program", "enroll", "jane", "chi", "--consent", "verbal", "--date", "2026-10-01")
    ok(jane, "program", "end", "jane", "chi", "--date", "2026-10-31")
    log(jane, 60, "2026-11-20 10:00", "--program", "chi")
    log(jane, 60, "2026-10-20 10:00", "--program", "chi")
    assert month(jane)[1]["consent_missing"] == ["chi"]
    october = json.loads(ok(jane, "report", "minutes", "--month", "2026-10", "-f", "json").stdout)
    assert (october[0]["chi_codes"], october[0]["consent_missing"], october[0]["programs"]) == ("G0019", [], ["chi"])
