"""Read-only snapshots of rows, for the long listings that only read and render them.

Loading a row through the ORM costs tens of microseconds (the identity map, the instance state,
pydantic's private attributes), and every attribute read goes through a descriptor: at agency size
a week's agenda (10,000 tasks) spent most of its time there. A snapshot is the row's columns as a
named tuple, built in C, with the same attribute names and values (the column types' conversions
applied, so times are aware UTC as on the model). Only for what is read and shown: a snapshot is not
in the session, so changing it changes nothing (a named tuple refuses it anyway).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from sqlmodel import Session

M = TypeVar("M")


@cache
def _shape(model: Any) -> Any:
    table = model.__table__
    return namedtuple(f"{model.__name__}Snapshot", [column.key for column in table.columns])


def columns(model: type) -> list[Any]:
    """The model's columns, in the order :func:`snapshot` takes their values: as the model's
    attributes, so that the session flushes pending changes before it runs the query, as it does
    for a query of whole rows."""
    return [getattr(model, column.key) for column in model.__table__.columns]  # type: ignore[attr-defined]


def query(model: type, *extra: Any) -> Any:
    """SELECT the model's :func:`columns`, then ``extra`` columns (a patient's name) after them."""
    from sqlmodel.sql.expression import Select

    return Select(*columns(model), *extra)


def rows(session: Session, query: Any) -> list[Any]:
    """The rows a query selects (their columns read by attribute), as SQL rows through the session's
    connection, not loaded by the ORM (which costs about an eighth more per row: an agency's FHIR
    export reads millions). Pending changes are flushed first, as a query would."""
    session.flush()
    return list(session.connection().execute(query).all())


def read(session: Session, model: type[M], query: Any) -> list[M]:
    """Snapshots of the rows a :func:`query` of ``model`` selects, read as :func:`rows` are."""
    return list(map(_shape(cast(Any, model))._make, rows(session, query)))


def snapshot(model: type[M], values: Sequence[Any]) -> M:
    """A read-only stand-in for a ``model`` row whose :func:`columns` were selected as ``values``:
    it reads like the model (the same attributes), for code that only reads."""
    return cast(M, _shape(cast(Any, model))._make(values))
