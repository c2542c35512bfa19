"""What every export that carries patients' information shares (the account of disclosures, issue 16;
``services/disclosures.py``): the options saying to whom and why, the store it runs in, and the one
call that writes the file and records the disclosure together.

**Options.** ``--to TEXT`` says to whom, where the command has no other ``--to``; ``--recipient`` is
the same option everywhere. ``export ics`` already uses ``--to`` for the end of its window, so there
it is ``--recipient`` only (:data:`RecipientOption`). ``--purpose`` takes a ``vocab.DisclosurePurpose``;
an unknown one is one line and exit 1, before anything is read or written. Neither given: unspecified.
Both describe a recorded disclosure: given where nothing is recorded (the screen, ``--out -``, a
redacted calendar) they are refused, rather than silently dropped.

**What is recorded.** A file written with ``--out FILE``. The screen, and ``--out -`` (standard
output, which goes wherever the coordinator's shell sends it), are not: carecoord cannot tell where
that ends up. A file that carries no patient records nothing.

**Atomicity: recorded if and only if the file was written.** The export runs in one write
transaction. The file is written to a temporary file beside the target and synced; then the
disclosure is recorded and flushed (the store checks it there: constraints, a team server's access
policies); only then does the file take its place (a rename), and the transaction is committed at
once. A failure before the rename records nothing and leaves the previous file as it was. A commit
that fails after the rename removes the new file, so nothing was disclosed that is not accounted
for (the previous file is gone by then: no file is better than an unaccounted one). The other order
(commit, then rename) would leave a recorded disclosure without its file when the rename fails; the
one window left here is a crash in the moment between the rename and the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carecoord.commands._common import store
from carecoord.errors import UsageError
from carecoord.vocab import DisclosureKind, DisclosurePurpose, OutputFormat

if TYPE_CHECKING:
    from sqlmodel import Session

_RECIPIENT_HELP = (
    "To whom the file goes (a person or organization), recorded in the account of disclosures "
    "('carecoord audit disclosures'), e.g. 'Dr. Lee, cardiology'. Default: unspecified."
)
ToOption = Annotated[str | None, typer.Option("--to", "--recipient", metavar="WHOM", help=_RECIPIENT_HELP)]
# export ics: --to is the end of its window
RecipientOption = Annotated[str | None, typer.Option("--recipient", metavar="WHOM", help=_RECIPIENT_HELP)]
PurposeOption = Annotated[
    DisclosurePurpose | None,
    typer.Option(
        "--purpose",
        case_sensitive=False,
        help="Why it goes, recorded in the account of disclosures. Default: unspecified.",
    ),
]

OutOption = Annotated[
    str | None,
    typer.Option(
        "--out",
        "-o",
        metavar="FILE",
        help="Write to this file (atomically; a table as Markdown) instead of the screen, recorded in the "
        "account of disclosures. '-' is the screen.",
    ),
]

# The kind of disclosure a patient listing or record written to a file is, by format (a table is
# written as its Markdown).
PATIENT_KINDS = {
    OutputFormat.json: DisclosureKind.patients_json,
    OutputFormat.csv: DisclosureKind.patients_csv,
    OutputFormat.markdown: DisclosureKind.patients_markdown,
    OutputFormat.table: DisclosureKind.patients_markdown,
}


def to_file(out: str | None) -> bool:
    """Whether ``out`` names a file (not the screen, not ``-`` for standard output)."""
    return out is not None and out != "-"


def disclosed(
    out: str | None, recipient: str | None, purpose: DisclosurePurpose | None, *, redacted: bool = False
) -> bool:
    """Whether this export is recorded as a disclosure: a file, not redacted. A recipient or purpose
    given for an export that is not recorded is a usage error (they would be lost)."""
    recorded = to_file(out) and not redacted
    if not recorded and (recipient is not None or purpose is not None):
        why = "a redacted calendar (initials and types only) is not" if redacted else "only a file (--out FILE) is"
        raise UsageError(
            f"a recipient and a purpose are recorded with a disclosure, and {why} recorded: leave them out"
        )
    return recorded


@contextmanager
def export_store(disclose: bool) -> Iterator[Session]:
    """The store of an export: a write transaction when it records a disclosure, else read-only. It
    never creates a missing database file (an export adds no records of its own)."""
    with store(write=disclose, adds=False) as session:
        yield session


def write_disclosed(
    session: Session,
    out: str,
    data: bytes | Iterable[bytes],
    kind: DisclosureKind,
    patient_ids: Iterable[int],
    *,
    recipient: str | None,
    purpose: DisclosurePurpose | None,
    description: str,
) -> Path | None:
    """Write ``data`` to ``out`` atomically and record the disclosure with it (see the module's
    docstring), committing the transaction of ``session`` (an :func:`export_store`). ``patient_ids``
    is read once ``data`` has been written, so a set that ``data``'s generator fills works. ``-``
    writes standard output and records nothing. Returns the file written (None for stdout)."""
    from carecoord import db
    from carecoord.files import write_atomically
    from carecoord.services import disclosures

    recorded: list[object] = []

    def account(path: Path) -> None:
        found = disclosures.record(session, kind, patient_ids, recipient=recipient, purpose=purpose,
                                   target=str(path), description=description)  # fmt: skip
        if found is not None:
            recorded.append(found)

    path = write_atomically(out, data, before_replace=account)
    if path is None or not recorded:
        return path
    try:
        db.commit(session)
    except BaseException:
        if not db.state["committed"]:  # Ctrl-C after the commit leaves the file that was recorded
            path.unlink(missing_ok=True)
        raise
    return path


def patient_ids_in(record: Any) -> set[int]:
    """Every ``patient_id`` a record (an agenda, a listing) holds, however deeply nested."""
    found: set[int] = set()
    stack = [record]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            patient_id = value.get("patient_id")
            if isinstance(patient_id, int) and not isinstance(patient_id, bool):
                found.add(patient_id)
            stack.extend(v for v in value.values() if isinstance(v, Mapping | list | tuple))
        elif isinstance(value, list | tuple):
            stack.extend(v for v in value if isinstance(v, Mapping | list | tuple))
    return found
