"""Alembic environment and revisions, shipped inside the package.

The revision list is read from the file names in ``versions/`` (``NNNN_slug.py`` holds revision
``NNNN``), so checking whether a database is up to date never imports Alembic.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent


@cache
def known_revisions() -> tuple[str, ...]:
    """All revision ids this code knows, oldest first."""
    names = (p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return tuple(sorted(name[:4] for name in names))


def head_revision() -> str:
    """The newest revision: the schema this code expects."""
    return known_revisions()[-1]
