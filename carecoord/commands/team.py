"""``carecoord team``: the people on a team store (a PostgreSQL server) and their roles."""

from __future__ import annotations

from typing import Annotated

import typer

from carecoord.commands._common import FormatOption, db_location, new_app, store
from carecoord.output import Column, render_list
from carecoord.vocab import OutputFormat, TeamGroup

app = new_app(
    "The team on a PostgreSQL server: who coordinates, who supervises.\n\n"
    "Example: carecoord --db postgresql://db.example.org/carecoord team add jsmith --coordinator"
)

RoleArg = Annotated[str, typer.Argument(metavar="ROLE", help="The person's database role (their sign-in name).")]
TEAM_COLUMNS = (
    Column("role", "Role"),
    Column("group", "Group", show=lambda r: r["group"] or "(not on the team)"),
    Column("patients", "Patients", no_wrap=True),
    Column("active_patients", "Active", no_wrap=True),
)
TEAM_KEYS = ("role", "group", "patients", "active_patients")


def _server() -> None:
    """Refuse a database file: a team lives on a PostgreSQL server."""
    from carecoord.errors import UsageError
    from carecoord.server import Server

    location = db_location()
    if not isinstance(location, Server):
        raise UsageError(
            f"a team store is a PostgreSQL server (--db postgresql://host/dbname); {location} is a database file"
        )


@app.command("add")
def add(
    role: RoleArg,
    coordinator: Annotated[
        bool, typer.Option("--coordinator", help="A coordinator: sees and changes only their own patients.")
    ] = False,
    supervisor: Annotated[
        bool, typer.Option("--supervisor", help="A supervisor: sees and changes everyone's, and reassigns patients.")
    ] = False,
) -> None:
    """Put a person on the team as a coordinator or a supervisor (an administrator's job). A role that
    does not exist yet is created as a login role without a password.

    Example: carecoord team add jsmith --coordinator
    """
    from carecoord.errors import UsageError
    from carecoord.services import team

    if coordinator == supervisor:
        raise UsageError("give --coordinator or --supervisor (one of them)")
    _server()
    group = (TeamGroup.coordinator if coordinator else TeamGroup.supervisor).value
    with store(write=True) as session:
        added = team.add_member(session, role, group)
    word = team.GROUP_WORDS[group]
    was = f" (no longer a {team.GROUP_WORDS[added.left]})" if added.left else ""
    print(f"{added.role} is now a {word} on this team{was}.")
    if added.created:
        print(
            f"Created the login role {added.role} without a password: set one (ALTER ROLE ... PASSWORD, or psql's "
            "\\password) or sign them in with the server's own method (peer, certificates, LDAP); they keep it "
            "in ~/.pgpass or PGPASSWORD, never in carecoord."
        )


@app.command("remove")
def remove(role: RoleArg) -> None:
    """Take a person off the team (an administrator's job). Their role stays; their patients stay
    assigned to them until a supervisor hands them over.

    Example: carecoord team remove jsmith
    """
    from carecoord.commands._common import counted
    from carecoord.services import team

    _server()
    with store(write=True) as session:
        removed = team.remove_member(session, role)
    words = " and ".join(team.GROUP_WORDS[g] for g in removed.groups)
    print(f"{removed.role} is no longer a {words} on this team.")
    if removed.patients:
        print(
            f"{counted(removed.patients, 'patient')} still assigned to {removed.role}: a supervisor hands them "
            f"over with 'carecoord patient assign PATIENT ROLE'."
        )


@app.command("list")
def list_(fmt: FormatOption = OutputFormat.table) -> None:
    """The team: each person's role, group and patients (as many as you may see), and any role still
    holding patients without being on the team.

    Example: carecoord team list --format csv
    """
    from carecoord.services import team

    _server()
    with store(write=False) as session:
        records = [
            {"role": m.role, "group": team.GROUP_WORDS.get(m.group or ""), "patients": m.patients,
             "active_patients": m.active}
            for m in team.members(session)
        ]  # fmt: skip
    render_list(records, TEAM_COLUMNS, fmt, keys=TEAM_KEYS, title=f"Team ({len(records)})", empty="Nobody yet.")
