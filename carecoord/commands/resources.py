"""``carecoord resource``: the team's directory of community resources and services."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord import phones
from carecoord.commands._common import FormatOption, counted, new_app, store
from carecoord.commands._fields import FIELDS, FieldValues, field_options, shown_columns
from carecoord.fields import RESOURCE
from carecoord.output import Column, confirm_change, render_list, render_record
from carecoord.vocab import OutputFormat

app = new_app(
    "The directory of community resources: food banks, shelters, rides, home health.\n\n"
    "Example: carecoord resource list --category food-insecurity --language Spanish"
)

ResourceArg = Annotated[str, typer.Argument(help="Resource id (see 'resource list'), or part of its name.")]
RESOURCE_COLUMNS = (
    Column("id", "ID", no_wrap=True),
    Column("name", "Resource", min_width=14),
    Column("category", "Category"),
    Column("organization", "Organization"),
    Column("phone", "Phone", no_wrap=True, show=phones.shown()),
    Column("hours", "Hours"),
)
CATEGORY_COLUMNS = (
    Column("code", "Code", no_wrap=True),
    Column("label", "Category"),
    Column("kind", "Kind"),
    Column("resources", "Resources", no_wrap=True),
)


def _fields_shown() -> tuple[Column, ...]:
    return shown_columns(RESOURCE)


@app.command("add")
@field_options(RESOURCE, edit=False, skip=("name",))
def add(
    name: Annotated[str, typer.Argument(help="The service's name, e.g. 'Weekly Food Pantry'.")],
    fields: FieldValues = FIELDS,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Add a resource to the directory (a category is required).

    Example: carecoord resource add 'Weekly Food Pantry' --category food --phone 555-0142 --hours 'Tue 9:00-13:00'
    """
    from carecoord.records import resource_record
    from carecoord.services import resources

    with store(write=True) as session:
        resource = resources.add_resource(session, **fields, name=name)
        record = resource_record(resource)
    confirm_change(f"Added resource {resources.describe(resource)} ({resource.category}).", record, fmt)


@app.command("list")
def list_(
    category: Annotated[
        str | None,
        typer.Option("--category", "-c", metavar="CATEGORY", help="Only this category, e.g. food-insecurity or food."),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            "-s",
            metavar="TEXT",
            help="Words found in the name, organization, eligibility, address, notes or taxonomy.",
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-l", metavar="LANGUAGE", help="Only those that speak it, e.g. Spanish.")
    ] = None,
    retired: Annotated[bool, typer.Option("--retired", help="Include retired resources.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List resources by category and name (active ones; --retired adds the others).

    Example: carecoord resource list --category food --search pantry --language Spanish
    """
    from carecoord.output import rows_shown
    from carecoord.records import RESOURCE_KEYS, resource_record
    from carecoord.services import resources
    from carecoord.services.resource_import import category_code

    wanted = resources.ResourceFilter(
        category=category_code(category, "--category") if category else None,
        search=search, language=language, include_retired=retired, limit=rows_shown(fmt),
    )  # fmt: skip
    with store(write=False) as session:
        records = [resource_record(r) for r in resources.list_resources(session, wanted)]
        total = resources.count_resources(session, wanted) if wanted.limit and len(records) >= wanted.limit else None
    render_list(records, RESOURCE_COLUMNS, fmt, keys=RESOURCE_KEYS, total=total,
                title=f"Resources ({total or len(records)})",
                empty="No resources match. Add one with 'carecoord resource add' or import a directory "
                      "with 'carecoord import resources'.")  # fmt: skip


@app.command("show")
def show(resource: ResourceArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Show one resource, with how many referrals were made to it.

    Example: carecoord resource show 'food pantry'
    """
    from carecoord.records import RESOURCE_KEYS, resource_record
    from carecoord.services import resources

    with store(write=False) as session:
        found = resources.resolve(session, resource)
        record = {**resource_record(found), "referrals": resources.referral_count(session, found)}
    render_record(record, (*_fields_shown(), Column("referrals", "Referrals")), fmt,
                  keys=(*RESOURCE_KEYS, "referrals"), title=f"Resource #{found.id}")  # fmt: skip


@app.command("edit")
@field_options(RESOURCE, edit=True)
def edit(resource: ResourceArg, fields: FieldValues = FIELDS, fmt: FormatOption = OutputFormat.table) -> None:
    """Correct a resource; an empty value (--phone '') clears a field. Everyone on the team may.

    Example: carecoord resource edit 4 --hours 'Mon-Fri 8:00-16:00' --phone 555-0143
    """
    from carecoord.errors import UsageError
    from carecoord.records import resource_record
    from carecoord.services import resources

    if not fields:
        raise UsageError("nothing to change: give at least one option (see 'carecoord resource edit --help')")
    with store(write=True) as session:
        found = resources.update_resource(session, resources.resolve(session, resource), fields)
        record = resource_record(found)
    confirm_change(f"Updated resource {resources.describe(found)}.", record, fmt)


@app.command("retire")
def retire(resource: ResourceArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Take a resource out of use (closed, moved, no longer taking referrals). It is kept: referrals
    made to it keep it in their history; 'resource restore' puts it back.

    Example: carecoord resource retire 'mobile pantry'
    """
    from carecoord.records import resource_record
    from carecoord.services import resources

    with store(write=True) as session:
        found = resources.retire(session, resources.resolve(session, resource, active_only=True))
        record = resource_record(found)
    confirm_change(f"Retired resource {resources.describe(found)}; it takes no new referrals.", record, fmt)


@app.command("restore")
def restore(resource: ResourceArg, fmt: FormatOption = OutputFormat.table) -> None:
    """Put a retired resource back in use.

    Example: carecoord resource restore 'mobile pantry'
    """
    from carecoord.records import resource_record
    from carecoord.services import resources

    with store(write=True) as session:
        found = resources.restore(session, resources.resolve(session, resource))
        record = resource_record(found)
    confirm_change(f"Restored resource {resources.describe(found)}.", record, fmt)


@app.command("categories")
def categories(fmt: FormatOption = OutputFormat.table) -> None:
    """The categories a resource may have, with how many active resources each holds: the social-need
    domains of the Gravity Project's SDOH category value set, then the clinical kinds.

    Example: carecoord resource categories --format csv
    """
    from carecoord.services import resources
    from carecoord.vocab import SDOH_DOMAINS, category_label

    with store(write=False) as session:
        counts = resources.category_counts(session)
    records = [{"code": code, "label": category_label(code), "kind": "social need" if code in SDOH_DOMAINS
                else "clinical", "resources": n} for code, n in counts.items()]  # fmt: skip
    render_list(records, CATEGORY_COLUMNS, fmt, keys=("code", "label", "kind", "resources"),
                title=f"Resource categories ({counted(sum(counts.values()), 'active resource')})")  # fmt: skip
