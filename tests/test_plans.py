"""Care plans and goals through the CLI."""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_one_line_error


@pytest.fixture
def plan(cli):
    """Jane Doe with an active heart-failure plan: three goals, six tasks (two recurring)."""
    steps = [
        ("patient", "add", "Jane Doe", "--dob", "1950-03-02", "--mrn", "48213", "--risk", "high"),
        ("contact", "add", "jane", "Ann Doe", "--role", "daughter", "--phone", "555-0101", "--consent"),
        ("plan", "add", "jane", "Heart failure self-management", "--status", "active", "--start", "2026-11-01",
         "--review-every", "90d", "--need", "Two CHF admissions in 2026", "--need", "Lives alone"),
        ("goal", "add", "1", "Weigh daily and report gains over 2 lb", "--target", "2027-01-15",
         "--measure", "daily weight log"),
        ("goal", "add", "1", "Attend cardiology follow-up", "--target", "2026-12-10"),
        ("goal", "add", "1", "Understand a low-salt diet", "--target", "2026-12-31"),
        ("task", "add", "Weekly weight check call", "--goal", "1", "--due", "mon 10am", "--every", "weekly"),
        ("task", "add", "Refill diuretic", "--goal", "1", "--due", "2026-11-20", "--priority", "urgent"),
        ("task", "add", "Book cardiology visit", "--goal", "2", "--due", "tomorrow"),
        ("task", "add", "Arrange transport", "--goal", "2", "--due", "fri", "--priority", "asap"),
        ("task", "add", "Mail diet handout", "--goal", "3", "--due", "+3d"),
        ("task", "add", "Monthly med reconciliation", "--plan", "1", "--due", "2026-11-30", "--every", "monthly"),
    ]  # fmt: skip
    for step in steps:
        run = cli(*step)
        assert run.exit_code == 0, (step, run.stderr)
    return cli


def test_plan_add_sets_the_next_review_from_the_interval(plan, rows):
    [stored] = rows("SELECT status, start_on, next_review, review_every_days, needs FROM care_plan")
    assert stored == {
        "status": "active", "start_on": "2026-11-01", "next_review": "2027-01-30", "review_every_days": 90,
        "needs": "Two CHF admissions in 2026\nLives alone",
    }  # fmt: skip


def test_plan_show_is_a_readable_document(plan):
    run = plan("plan", "show", "heart")
    assert run.exit_code == 0
    out = run.stdout
    for expected in ("Care plan #1: Heart failure self-management", "Jane Doe", "MRN 48213", "Problems and needs",
                     "Two CHF admissions", "Weigh daily", "Attend cardiology follow-up", "Refill diuretic",
                     "Monthly med reconciliation", "Care team and family", "Ann Doe", "daughter"):  # fmt: skip
        assert expected in out, expected
    # off a terminal the document is its Markdown text; on one, Rich draws it


def test_plan_show_markdown_nests_tasks_under_their_goals(plan):
    text = plan("plan", "show", "1", "--format", "markdown").stdout
    assert text.startswith("# Care plan #1: Heart failure self-management\n")
    goal_two = text.index("### 2. Attend cardiology follow-up")
    goal_three = text.index("### 3. Understand a low-salt diet")
    assert goal_two < text.index("#3 Book cardiology visit") < goal_three
    assert goal_two < text.index("#4 Arrange transport (due 2026-11-27 · asap)") < goal_three
    assert "- [ ] #2 Refill diuretic (due 2026-11-20 · urgent · **overdue**)" in text
    assert "## Other tasks" in text and "#6 Monthly med reconciliation" in text
    assert "| Ann Doe | daughter |  | 555-0101 |  | yes |" in text


def test_plan_show_json_is_complete(plan):
    doc = json.loads(plan("plan", "show", "1", "-f", "json").stdout)
    assert doc["patient"]["mrn"] == "48213"
    assert [len(goal["tasks"]) for goal in doc["goals"]] == [2, 2, 1]
    assert [t["title"] for t in doc["other_tasks"]] == ["Monthly med reconciliation"]
    assert doc["care_team"][0]["name"] == "Ann Doe"
    assert doc["needs"] == ["Two CHF admissions in 2026", "Lives alone"]


def test_markdown_escapes_what_users_type(cli):
    cli("patient", "add", "Jane *Star* Doe")
    cli("plan", "add", "1", "Plan with [link](http://x) and # hash, see #3 #")
    cli("goal", "add", "1", "# not a heading")
    text = cli("plan", "show", "1", "-f", "markdown").stdout
    assert "Jane \\*Star\\* Doe" in text
    # a '#' inside text is literal in Markdown and stays as typed; one that would open or close a heading is escaped
    assert "\\[link\\](http://x) and # hash, see #3 \\#" in text
    assert "### 1. \\# not a heading (goal #1)" in text


def test_plan_list_and_review_due(plan, cli):
    cli("patient", "add", "Omar Haddad")
    cli("plan", "add", "omar", "Diabetes", "--status", "active", "--review", "2026-11-20")
    due = json.loads(cli("plan", "list", "--review-due", "0", "-f", "json").stdout)
    assert [p["title"] for p in due] == ["Diabetes"] and due[0]["review_due"] is True
    soon = json.loads(cli("plan", "list", "--review-due", "90", "-f", "json").stdout)
    assert [p["title"] for p in soon] == ["Diabetes", "Heart failure self-management"]
    assert [p["title"] for p in json.loads(cli("plan", "list", "-p", "jane", "-f", "json").stdout)] == [
        "Heart failure self-management"
    ]


def test_plan_review_records_and_moves_the_next_review(plan, rows):
    run = plan("plan", "review", "1", "--note", "weights stable", "--date", "2026-11-25")
    assert run.exit_code == 0
    assert "Next review 2027-02-23." in run.stdout
    assert rows("SELECT next_review FROM care_plan") == [{"next_review": "2027-02-23"}]
    assert plan("plan", "review", "1", "--next", "+30d").exit_code == 0
    assert rows("SELECT next_review FROM care_plan") == [{"next_review": "2026-12-25"}]
    assert len(rows("SELECT * FROM plan_review")) == 2
    assert "weights stable" in plan("plan", "show", "1", "-f", "markdown").stdout


def test_plan_status_transitions(plan, rows, unchanged):
    assert plan("plan", "status", "1", "completed").exit_code == 0
    assert rows("SELECT status, end_on FROM care_plan") == [{"status": "completed", "end_on": "2026-11-25"}]
    with unchanged():
        assert_one_line_error(plan("goal", "add", "1", "New goal"), 1, "takes no new goals until reopened")
        assert_one_line_error(plan("task", "add", "x", "--plan", "1"), 1, "takes no new tasks")
        assert_one_line_error(plan("plan", "status", "1", "on-hold"), 1, "cannot become on-hold")
        assert_one_line_error(plan("plan", "status", "1", "completed"), 1, "already completed")
    assert plan("plan", "status", "1", "active").exit_code == 0
    assert plan("goal", "add", "1", "New goal").exit_code == 0


def test_plan_edit_needs_and_dates(plan, rows):
    assert (
        plan("plan", "edit", "1", "--add-need", "No scale at home", "--remove-need", "1", "--review", "").exit_code == 0
    )
    assert rows("SELECT needs, next_review FROM care_plan") == [
        {"needs": "Lives alone\nNo scale at home", "next_review": None}
    ]


def test_goal_status_and_list(plan, rows):
    run = plan("goal", "status", "2", "completed", "--achievement", "achieved")
    assert run.exit_code == 0 and "is completed, achieved" in run.stdout
    assert plan("goal", "status", "weigh", "--achievement", "improving").exit_code == 0
    goals = json.loads(plan("goal", "list", "--plan", "1", "-f", "json").stdout)
    assert [(g["description"][:6], g["lifecycle_status"], g["achievement_status"]) for g in goals] == [
        ("Attend", "completed", "achieved"), ("Unders", "active", None), ("Weigh ", "active", "improving"),
    ]  # fmt: skip
    assert plan("goal", "edit", "3", "--target", "2027-02-01", "--measure", "teach-back").exit_code == 0
    assert rows("SELECT target_on, measure FROM goal WHERE id = 3") == [
        {"target_on": "2027-02-01", "measure": "teach-back"}
    ]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("plan", "add", "jane", ""), 1, "title must not be empty"),
        (("plan", "add", "jane", "X", "--status", "completed"), 1, "a new plan is draft or active"),
        (("plan", "add", "jane", "X", "--review", "next blursday"), 1, "cannot read 'next blursday'"),
        (("plan", "add", "jane", "X", "--review-every", "soon"), 1, "cannot read 'soon' as a duration"),
        (("plan", "add", "nobody", "X"), 1, "no patient matches"),
        (("plan", "show", "99"), 1, "no plan matches '99'"),
        (("plan", "status", "1", "finished"), 1, "'finished' is not one of"),
        (("goal", "add", "1", ""), 1, "description must not be empty"),
        (("goal", "status", "99", "completed"), 1, "no goal matches"),
        (("goal", "status", "1", "active", "--achievement", "great"), 1, "'great' is not one of"),
        (("goal", "status", "1"), 2, "give a LIFECYCLE"),
        (("plan", "edit", "1", "--end", "2026-10-01"), 1, "ends (2026-10-01) before it starts"),
    ],
)
def test_bad_plan_and_goal_input(plan, unchanged, args, code, fragment):
    with unchanged():
        assert_one_line_error(plan(*args), code, fragment)


def test_deleting_a_patient_removes_and_audits_their_plan(plan, rows):
    run = plan("patient", "delete", "jane", "--yes")
    assert run.exit_code == 0
    assert "6 tasks, 3 goals, 1 care plan, 1 contact" in run.stdout
    assert rows("SELECT count(*) AS n FROM task") == [{"n": 0}]
    deleted = rows("SELECT table_name, count(*) AS n FROM audit_log WHERE action = 'delete' GROUP BY table_name")
    assert {r["table_name"]: r["n"] for r in deleted} == {
        "task": 6, "goal": 3, "care_plan": 1, "contact": 1, "patient": 1,
    }  # fmt: skip


def test_a_daily_review_reads_every_day(cli):
    cli("patient", "add", "Jane Doe")
    cli("plan", "add", "jane", "CHF", "--review", "tomorrow", "--review-every", "1d")
    shown = cli("plan", "show", "1").stdout
    assert "every day" in shown and "every 1 days" not in shown
