"""``carecoord goal``: goals within care plans."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.commands._common import FormatOption, new_app, store
from carecoord.commands._fields import FIELDS, FieldValues, field_options
from carecoord.fields import GOAL
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import GoalAchievement, GoalLifecycle, OutputFormat

app = new_app("Goals within care plans.\n\nExample: carecoord goal add 3 'Walk 20 minutes a day' --target +8w")

GoalArg = Annotated[str, typer.Argument(help="Goal id, or an unambiguous part of its description.")]

GOAL_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=10),
    Column("plan_id", "Plan", no_wrap=True),
    Column("description", "Goal", min_width=16),
    Column("lifecycle_status", "Status", no_wrap=True),
    Column("achievement_status", "Progress"),
    Column("target_on", "Target", no_wrap=True),
)


@app.command("add")
@field_options(GOAL, edit=False, skip=("description",))
def add(
    plan: Annotated[str, typer.Argument(help="Plan id, or an unambiguous part of its title.")],
    description: Annotated[str, typer.Argument(help="What the patient is working towards.")],
    fields: FieldValues = FIELDS,
    status: Annotated[
        GoalLifecycle, typer.Option("--status", help="Lifecycle status.", case_sensitive=False)
    ] = GoalLifecycle.active,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a goal to a care plan.

    Example: carecoord goal add 3 'A1c below 8%' --target 2027-03-01 --measure 'quarterly A1c'
    """
    from carecoord.records import goal_record
    from carecoord.services import goals, plans

    with store(write=True) as session:
        found = plans.resolve(session, plan)
        goal = goals.add_goal(session, found, description, lifecycle_status=status.value, **fields)
        record = goal_record(goal)
    confirm_change(f"Added goal {goals.describe(goal)} to plan {plans.describe(found)}.", record, fmt)


@app.command("list")
def list_(
    plan: Annotated[str | None, typer.Option("--plan", help="Only this plan's goals.")] = None,
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's goals.")] = None,
    status: Annotated[
        GoalLifecycle | None,
        typer.Option("--status", help="Only goals with this status.", case_sensitive=False),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List goals, soonest target first.

    Example: carecoord goal list --patient jane --status active
    """
    from carecoord.records import GOAL_KEYS, goal_record
    from carecoord.services import goals, patients, plans

    with store(write=False) as session:
        plan_id = plans.resolve(session, plan).id if plan else None
        patient_id = patients.resolve(session, patient).id if patient else None
        rows = goals.list_goals(
            session, plan_id=plan_id, patient_id=patient_id, status=status.value if status else None
        )
        records = [{**goal_record(goal), "patient_name": who.name} for goal, _plan, who in rows]
    render_list(
        records,
        GOAL_COLUMNS,
        fmt,
        keys=(*GOAL_KEYS, "patient_name"),
        title=f"Goals ({len(records)})",
        empty="No goals match.",
    )


@app.command("edit")
@field_options(GOAL, edit=True)
def edit(goal: GoalArg, fields: FieldValues = FIELDS, fmt: FormatOption = OutputFormat.table) -> None:
    """Change a goal's description, target date or measure ('' clears).

    Example: carecoord goal edit 7 --target +4w
    """
    from carecoord.errors import UsageError
    from carecoord.records import goal_record
    from carecoord.services import goals

    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord goal edit --help')")
    with store(write=True) as session:
        found = goals.update_goal(session, goals.resolve(session, goal), fields)
        record = goal_record(found)
    confirm_change(f"Updated goal {goals.describe(found)}.", record, fmt)


@app.command("status")
def status(
    goal: GoalArg,
    lifecycle: Annotated[
        GoalLifecycle | None,
        typer.Argument(metavar="STATUS", help="New lifecycle status.", show_default=False),
    ] = None,
    achievement: Annotated[
        GoalAchievement | None,
        typer.Option("--achievement", help="How it is going (FHIR achievement status).", case_sensitive=False),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a goal's lifecycle status and/or its achievement.

    Example: carecoord goal status 7 completed --achievement achieved
    """
    from carecoord.errors import UsageError
    from carecoord.records import goal_record
    from carecoord.services import goals

    if lifecycle is None and achievement is None:
        raise UsageError("give a LIFECYCLE status, --achievement, or both")
    with store(write=True) as session:
        found = goals.set_status(
            session,
            goals.resolve(session, goal),
            lifecycle.value if lifecycle else None,
            achievement.value if achievement else None,
        )
        record = goal_record(found)
    progress = f", {found.achievement_status}" if found.achievement_status else ""
    confirm_change(f"Goal {goals.describe(found)} is {found.lifecycle_status}{progress}.", record, fmt)
