"""``carecoord demo``: a made-up caseload in a separate database, to try things safely."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carecoord.commands._common import command_app


def demo_path() -> Path:
    """The demo database: beside the default one, never the same file."""
    from carecoord.db import default_path

    return default_path().with_name("demo.db")


app = command_app()


@app.command("demo")
def run_demo(
    path: Annotated[
        Path | None,
        typer.Option("--path", help="Where to build the demo database (default: demo.db in your data folder)."),
    ] = None,
) -> None:
    """Build a demo caseload (patients, contacts, plans, tasks, recurring visits) around today and show today's agenda.

    The demo lives in its own database and is rebuilt each time; your own caseload is never touched.
    It holds this month's calls, two recent discharges and screenings (one with an open safety
    flag), so 'report minutes', 'report contacts', 'report transitions', 'report screenings' and
    'screen due' have something to show; and a directory of community resources with referrals at
    each stage of the loop (one closed, one stalled), for 'referral list' and 'report referrals'.

    Example: carecoord demo
    """
    from carecoord.commands._common import db_location
    from carecoord.commands.agenda import print_agenda
    from carecoord.dates import local_zone, today, zone
    from carecoord.db import session_scope
    from carecoord.errors import ConflictError
    from carecoord.records import agenda_record
    from carecoord.services import agenda, demo
    from carecoord.vocab import OutputFormat

    target = (path or demo_path()).expanduser().absolute()
    own = db_location()  # the demo is a SQLite file, whatever your own store is
    if isinstance(own, Path) and ((target.exists() and own.exists() and target.samefile(own)) or target == own):
        raise ConflictError(f"{target} is your own database; the demo never writes there")
    _remove_previous_demo(target)
    zone_here = local_zone()
    demo_zone = zone_here if getattr(zone_here, "key", None) else zone("UTC")
    with session_scope(target, write=True) as session:
        demo.populate(session, today(), demo_zone)  # type: ignore[arg-type]
    with session_scope(target, write=False) as session:
        record = agenda_record(agenda.build(session, today(), 1))
    print(f"Demo caseload written to {target}")
    print(f"Explore it with: carecoord --db '{target}' patient list   (or agenda, task list, appt list --days 14)\n")
    print_agenda(record, OutputFormat.table)


def _remove_previous_demo(target: Path) -> None:
    """Delete an earlier demo database, but only one that holds nothing but demo patients."""
    import sqlite3
    from contextlib import closing

    from carecoord.errors import ConflictError
    from carecoord.services.demo import DEMO_TAG

    if not target.exists():
        return
    try:
        with closing(sqlite3.connect(target)) as conn:
            others = conn.execute(
                "SELECT count(*) FROM patient WHERE ',' || tags || ',' NOT LIKE ?", (f"%,{DEMO_TAG},%",)
            ).fetchone()[0]
    except sqlite3.Error:
        others = 1
    if others:
        raise ConflictError(f"{target} holds data that is not the demo's; choose another --path")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
