"""Tags on patients and tasks: normalised words stored as a sorted, comma-separated string."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import ColumnElement, literal_column
from sqlalchemy.orm import Mapped

from carecoord.errors import ValidationError

_TAG_OK = re.compile(r"^\w[\w\-/+.]*$")


def normalise_tag(tag: str) -> str:
    """A tag as stored: lower case, no spaces; letters, digits and - _ / + . only."""
    cleaned = tag.strip().lower().replace(" ", "-")
    if not _TAG_OK.match(cleaned):
        raise ValidationError(f"invalid tag '{tag}': use letters, digits and - _ / + .")
    return cleaned


def split_tags(stored: str) -> list[str]:
    """The stored ``a,b`` form as a list."""
    return [tag for tag in stored.split(",") if tag]


def join_tags(tags: Iterable[str]) -> str:
    """A list of tags in the stored ``a,b`` form (sorted, unique)."""
    return ",".join(sorted({normalise_tag(tag) for tag in tags}))


def retag(stored: str, add: Iterable[str], remove: Iterable[str], owner: str) -> str:
    """``stored`` with tags added and removed; removing a tag that is not there is an error."""
    removing = {normalise_tag(tag) for tag in remove}
    missing = removing - set(split_tags(stored))
    if missing:
        raise ValidationError(f"{owner} has no tag {', '.join(sorted(missing))}")
    return join_tags((set(split_tags(stored)) - removing) | set(add))


def has_tag(column: Mapped[str], tag: str) -> ColumnElement[bool]:
    """SQL: the tags column holds exactly ``tag`` (not just a word containing it)."""
    delimited: ColumnElement[str] = literal_column("','") + column + literal_column("','")
    return delimited.contains(f",{normalise_tag(tag)},", autoescape=True)
