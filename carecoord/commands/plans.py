"""``carecoord plan``: care plans with needs, goals, tasks and a review cycle."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.commands._common import FormatOption, date_help, new_app, optional_date, store, text_option
from carecoord.commands._fields import FIELDS, FieldValues, field_options
from carecoord.fields import PLAN
from carecoord.output import Column, confirm_change, render_list
from carecoord.vocab import OutputFormat, PlanStatus

app = new_app(
    "Care plans: needs, goals, tasks and reviews.\n\n"
    "Example: carecoord plan add 'Jane Doe' 'Heart failure self-management' --status active --review-every 90d"
)

PlanArg = Annotated[str, typer.Argument(help="Plan id, or an unambiguous part of its title.")]

PLAN_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("patient_name", "Patient", min_width=12),
    Column("title", "Plan", min_width=16),
    Column("status", "Status", no_wrap=True),
    Column("next_review", "Next review", no_wrap=True),
    Column("review_due", "Due", no_wrap=True),
)


@app.command("add")
@field_options(PLAN, edit=False, skip=("title",))
def add(
    patient: Annotated[str, typer.Argument(help="Patient id, MRN, or an unambiguous part of the name.")],
    title: Annotated[str, typer.Argument(help="The plan's title.")],
    status: Annotated[
        PlanStatus, typer.Option("--status", help="draft or active.", case_sensitive=False)
    ] = PlanStatus.draft,
    fields: FieldValues = FIELDS,
    need: Annotated[list[str] | None, typer.Option("--need", help="A problem or need; repeatable.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Start a care plan for a patient.

    Example: carecoord plan add 12 'Diabetes control' --status active --review-every 90d --need 'A1c 9.1%'
    """
    from carecoord.records import plan_record
    from carecoord.services import patients, plans

    with store(write=True) as session:
        owner = patients.resolve(session, patient)
        plan = plans.add_plan(session, owner, title, status=status.value, needs=need or (), **fields)
        record = plan_record(plan, owner)
    confirm_change(f"Added plan {plans.describe(plan)} for {patients.describe(owner)} ({plan.status}).", record, fmt)


@app.command("list")
def list_(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's plans.")] = None,
    status: Annotated[
        PlanStatus | None, typer.Option("--status", help="Only plans with this status.", case_sensitive=False)
    ] = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Include completed and revoked plans.")] = False,
    review_due: Annotated[
        int | None,
        typer.Option("--review-due", min=0, help="Only plans whose review is due within N days, or overdue."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List care plans (open ones unless told otherwise), soonest review first.

    Example: carecoord plan list --review-due 14
    """
    from carecoord.records import PLAN_KEYS, plan_record
    from carecoord.services import patients, plans

    with store(write=False) as session:
        owner = patients.resolve(session, patient) if patient else None
        wanted = plans.PlanFilter(
            patient_id=owner.id if owner else None,
            status=status.value if status else None,
            review_due_within=review_due,
            include_closed=all_,
        )
        records = [plan_record(plan, who) for plan, who in plans.list_plans(session, wanted)]
    render_list(
        records, PLAN_COLUMNS, fmt, keys=PLAN_KEYS, title=f"Care plans ({len(records)})", empty="No plans match."
    )


@app.command("show")
def show(
    plan: PlanArg,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="table (a document on screen), markdown to share, json or csv."),
    ] = OutputFormat.table,
) -> None:
    """The whole plan as a document: patient, needs, goals with their tasks, care team, reviews.

    Example: carecoord plan show 3 --format markdown > plan.md
    """
    from carecoord.documents import plan_markdown
    from carecoord.output import render_document
    from carecoord.records import PLAN_KEYS, plan_document_record
    from carecoord.services import plans

    with store(write=False) as session:
        record = plan_document_record(plans.document(session, plans.resolve(session, plan)))
    render_document(record, fmt, markdown=plan_markdown, keys=PLAN_KEYS)


@app.command("edit")
@field_options(PLAN, edit=True)
def edit(
    plan: PlanArg,
    fields: FieldValues = FIELDS,
    add_need: Annotated[list[str] | None, typer.Option("--add-need", help="Add a problem or need.")] = None,
    remove_need: Annotated[
        list[str] | None, typer.Option("--remove-need", help="Remove a need, by its number or text.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Change a plan; pass an empty value (--review '') to clear a date.

    Example: carecoord plan edit 3 --add-need 'transport to dialysis' --review +30d
    """
    from carecoord.errors import UsageError
    from carecoord.records import plan_record
    from carecoord.services import plans

    if not fields and not add_need and not remove_need:
        raise UsageError("nothing to change: give at least one option (see 'carecoord plan edit --help')")
    with store(write=True) as session:
        found = plans.resolve(session, plan)
        plans.update_plan(session, found, fields, add_needs=add_need or (), remove_needs=remove_need or ())
        record = plan_record(found)
    confirm_change(f"Updated plan {plans.describe(found)}.", record, fmt)


@app.command("status")
def status(
    plan: PlanArg,
    new_status: Annotated[PlanStatus, typer.Argument(metavar="STATUS", help="The new FHIR status.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Move a plan to a new status (draft, active, on-hold, revoked, completed, entered-in-error).

    A completed or revoked plan takes no new goals or tasks until it is made active again.

    Example: carecoord plan status 3 completed
    """
    from carecoord.records import plan_record
    from carecoord.services import plans

    with store(write=True) as session:
        found = plans.resolve(session, plan)
        before = found.status
        plans.set_status(session, found, new_status.value)
        record = plan_record(found)
    confirm_change(f"Plan {plans.describe(found)}: {before} -> {found.status}.", record, fmt)


@app.command("review")
def review(
    plan: PlanArg,
    note: Annotated[str | None, text_option("--note", help="What the review found or changed.")] = None,
    next_: Annotated[
        str | None,
        typer.Option(
            "--next", help=date_help("Next review date (default: today plus the plan's interval).", past=False)
        ),
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help=date_help("When the review happened (default today).", past=True))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record a plan review and set the next review date.

    Example: carecoord plan review 3 --note 'A1c down to 7.8' --next +90d
    """
    from carecoord.records import review_record
    from carecoord.services import plans

    with store(write=True) as session:
        found = plans.resolve(session, plan)
        done = plans.record_review(session, found, on=optional_date(date, past=True), note=note,
                                   next_review=optional_date(next_, past=False))  # fmt: skip
        record = review_record(done)
    following = f" Next review {done.next_review}." if done.next_review else " No next review set."
    confirm_change(f"Recorded a review of plan {plans.describe(found)} on {done.reviewed_on}.{following}", record, fmt)
