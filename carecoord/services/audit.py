"""The audit trail: every create, update and delete, recorded in the same transaction."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Column, event, insert, inspect
from sqlmodel import Session, col, select

from carecoord.models import (
    AUDITED_TABLES,
    AuditEntry,
    Authorization,
    AuthorizationUse,
    Patient,
    Referral,
    ReferralEvent,
    utcnow,
)
from carecoord.vocab import AuditAction

# Bookkeeping columns that say nothing a reviewer needs.
_UNTRACKED = frozenset({"id", "uid", "created_at", "updated_at", "name_key"})


def os_user() -> str:
    """The operating-system account making the change (from the process, not from $USER)."""
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, OSError):
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"


def _plain(value: Any) -> Any:
    return (
        value.isoformat(timespec="minutes")
        if isinstance(value, time)
        else (value.isoformat() if isinstance(value, date | datetime) else value)
    )


def _columns(obj: Any) -> list[str]:
    """The table's own columns (not values read from other tables, such as a patient's payer since 0011)."""
    return [attr.key for attr in inspect(obj).mapper.column_attrs
            if attr.key not in _UNTRACKED and isinstance(attr.expression, Column)]  # fmt: skip


def _snapshot(obj: Any, *, deleted: bool) -> dict[str, list[Any]]:
    values = {key: _plain(getattr(obj, key)) for key in _columns(obj)}
    return {
        key: ([value, None] if deleted else [None, value]) for key, value in values.items() if value not in (None, "")
    }


def _differences(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            changes[key] = [_plain(old), _plain(new)]
    return changes


def _patient_id(session: Session, obj: Any) -> int | None:
    if isinstance(obj, Patient):
        return obj.id
    if isinstance(obj, AuthorizationUse):  # its patient is its authorization's (issue 15)
        parent = session.get(Authorization, obj.authorization_id)
        return parent.patient_id if parent is not None else None
    if isinstance(obj, ReferralEvent):  # its patient is its referral's (issue 14)
        referral = session.get(Referral, obj.referral_id)
        return referral.patient_id if referral is not None else None
    return getattr(obj, "patient_id", None)


def _stamp_updates(session: Session, _context: Any, _instances: Any) -> None:
    now = utcnow()
    for obj in session.dirty:
        if isinstance(obj, AUDITED_TABLES) and session.is_modified(obj, include_collections=False):
            obj.updated_at = now


def _record(session: Session, _context: Any) -> None:
    now, user = utcnow(), os_user()
    rows: list[dict[str, Any]] = []
    batches: tuple[tuple[AuditAction, Any, Callable[[Any], dict[str, list[Any]]]], ...] = (
        (AuditAction.create, session.new, lambda o: _snapshot(o, deleted=False)),
        (AuditAction.update, session.dirty, _differences),
        (AuditAction.delete, session.deleted, lambda o: _snapshot(o, deleted=True)),
    )
    for action, objects, describe in batches:
        for obj in objects:
            if not isinstance(obj, AUDITED_TABLES):
                continue
            changes = describe(obj)
            if action is AuditAction.update and not changes:
                continue
            rows.append(
                {
                    "at": now,
                    "os_user": user,
                    "table_name": obj.__tablename__,
                    "record_id": obj.id,
                    "patient_id": _patient_id(session, obj),
                    "action": action.value,
                    "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True),
                }
            )
    if rows:
        rows.sort(key=lambda r: (r["table_name"], r["record_id"], r["action"]))
        session.connection().execute(insert(AuditEntry), rows)


def record_created(session: Session, table_name: str, rows: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Audit rows for records added in bulk without the ORM (an import of thousands): one ``create``
    per (id, values), with the changes a flush would have recorded for them."""
    now, user = utcnow(), os_user()
    audit_rows = [
        {"at": now, "os_user": user, "table_name": table_name, "record_id": record_id, "patient_id": None,
         "action": AuditAction.create.value,
         "changes": json.dumps({key: [None, _plain(value)] for key, value in values.items()
                                if key not in _UNTRACKED and value not in (None, "")},
                               ensure_ascii=False, sort_keys=True)}
        for record_id, values in rows
    ]  # fmt: skip
    if audit_rows:
        session.connection().execute(insert(AuditEntry), audit_rows)


def attach(session: Session) -> None:
    """Stamp ``updated_at`` and write audit rows on every flush of ``session``."""
    event.listen(session, "before_flush", _stamp_updates)
    event.listen(session, "after_flush", _record)


def entries(
    session: Session,
    *,
    patient_id: int | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> Sequence[AuditEntry]:
    """Audit rows, newest first, optionally for one patient and from a moment on."""
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    if patient_id is not None:
        query = query.where(AuditEntry.patient_id == patient_id)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    if limit is not None:
        query = query.limit(limit)
    return session.exec(query).all()
