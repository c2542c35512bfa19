"""The team's directory of community resources: add, correct, retire, find (issue 14).

A resource belongs to the whole team, not to a patient. It is never deleted: a retired resource
takes no new referrals but keeps the history of those made to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, func, select

from carecoord.dates import today
from carecoord.errors import ConflictError, NotFoundError
from carecoord.fields import RESOURCE
from carecoord.models import Referral, Resource
from carecoord.services import text
from carecoord.services.lookup import as_id, pick_one, require_ref
from carecoord.services.patients import phone_matches
from carecoord.vocab import RESOURCE_CATEGORIES, ResourceStatus

ACTIVE = ResourceStatus.active.value
RETIRED = ResourceStatus.retired.value


def validate_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Clean and check the fields a person set (see ``fields.RESOURCE``); empty text clears a field."""
    return text.clean_fields(RESOURCE, fields)


def add_resource(session: Session, **fields: Any) -> Resource:
    """Add a resource to the directory; a name and a category are required."""
    values = validate_fields({"name": None, **fields})
    if not values.get("category"):
        raise_missing_category(values["name"])
    resource = Resource(**values)
    session.add(resource)
    session.flush()
    return resource


def raise_missing_category(name: str) -> None:
    from carecoord.errors import ValidationError

    raise ValidationError(
        f"give the resource '{name}' a category with --category, e.g. food-insecurity or home-health "
        "(see 'carecoord resource categories')"
    )


def update_resource(session: Session, resource: Resource, fields: Mapping[str, Any]) -> Resource:
    """Change any fields of a resource; empty text clears a field (not the name or category)."""
    values = validate_fields(fields)
    if "category" in values and not values["category"]:
        raise_missing_category(resource.name)
    for key, value in values.items():
        setattr(resource, key, value)
    session.flush()
    return resource


def retire(session: Session, resource: Resource, on: date | None = None) -> Resource:
    """Take a resource out of use: no new referrals; its referrals keep it in their history."""
    if resource.status == RETIRED:
        raise ConflictError(f"resource {describe(resource)} is already retired (since {resource.retired_on})")
    resource.status, resource.retired_on = RETIRED, on or today()
    session.flush()
    return resource


def restore(session: Session, resource: Resource) -> Resource:
    """Put a retired resource back in use."""
    if resource.status == ACTIVE:
        raise ConflictError(f"resource {describe(resource)} is not retired")
    resource.status, resource.retired_on = ACTIVE, None
    session.flush()
    return resource


def describe(resource: Resource) -> str:
    """``#4 Weekly Food Pantry (Second Harvest)``."""
    org = f" ({resource.organization})" if resource.organization and resource.organization != resource.name else ""
    return f"#{resource.id} {resource.name}{org}"


def resolve(session: Session, ref: str, *, active_only: bool = False) -> Resource:
    """A resource from its id, or an unambiguous part of its name or organization (every word must
    match); ``active_only`` leaves retired ones out of a name search."""
    cleaned = require_ref(ref, "resource")
    resource_id = as_id(cleaned)
    if resource_id is not None:
        found = session.get(Resource, resource_id)
        if found is None:
            raise NotFoundError(f"no resource #{resource_id} (see 'carecoord resource list')")
        return found
    query = select(Resource).order_by(col(Resource.name), col(Resource.id)).limit(50)
    for word in cleaned.replace(",", " ").split():
        query = query.where(or_(col(Resource.name).icontains(word, autoescape=True),
                                col(Resource.organization).icontains(word, autoescape=True)))  # fmt: skip
    if active_only:
        query = query.where(Resource.status == ACTIVE)
    matches = session.exec(query).all()
    exact = [r for r in matches if r.name.casefold() == cleaned.casefold()]
    return pick_one(cleaned, "resource", exact if len(exact) == 1 else matches, describe, limit=50)


@dataclass(frozen=True)
class ResourceFilter:
    """What ``resource list`` narrows by."""

    category: str | None = None
    search: str | None = None
    language: str | None = None
    include_retired: bool = False
    limit: int | None = None


def _filtered(query: Any, wanted: ResourceFilter) -> Any:
    if wanted.category is not None:
        query = query.where(Resource.category == wanted.category)
    if not wanted.include_retired:
        query = query.where(Resource.status == ACTIVE)
    if wanted.language:
        query = query.where(col(Resource.languages).icontains(wanted.language.strip(), autoescape=True))
    search = wanted.search or ""
    words = [
        or_(*(col(column).icontains(word, autoescape=True) for column in (
            Resource.name, Resource.organization, Resource.notes, Resource.eligibility, Resource.address,
            Resource.taxonomy)))
        for word in search.split()
    ]  # fmt: skip
    by_phone = phone_matches(col(Resource.phone), search) if search else []  # a number however it is typed
    if by_phone:
        return query.where(or_(and_(*words), *by_phone))
    return query.where(*words) if words else query


def list_resources(session: Session, wanted: ResourceFilter) -> Sequence[Resource]:
    """Resources by category and name (active only unless asked), in one query."""
    query = _filtered(select(Resource), wanted).order_by(col(Resource.category), col(Resource.name), col(Resource.id))
    if wanted.limit:
        query = query.limit(wanted.limit)
    found: Sequence[Resource] = session.exec(query).all()
    return found


def count_resources(session: Session, wanted: ResourceFilter) -> int:
    """How many resources match ``wanted``."""
    return int(session.exec(_filtered(select(func.count()).select_from(Resource), wanted)).one())


def category_counts(session: Session) -> dict[str, int]:
    """Active resources per category (every category listed, zero included)."""
    found = session.exec(
        select(Resource.category, func.count()).where(Resource.status == ACTIVE).group_by(col(Resource.category))
    ).all()
    counts = dict.fromkeys(RESOURCE_CATEGORIES, 0)
    counts.update({category: int(n) for category, n in found})
    return counts


def referral_count(session: Session, resource: Resource) -> int:
    """How many referrals (that the signed-in person may see) were made to ``resource``."""
    return int(
        session.exec(select(func.count()).select_from(Referral).where(Referral.resource_id == resource.id)).one()
    )


RESOURCES_PER_NEED = 5  # a screening lists this many resources for each need it found


def for_needs(session: Session, needs: Sequence[str], per_need: int = RESOURCES_PER_NEED) -> list[Resource]:
    """Active resources for each of ``needs`` (SDOH category codes), the first ``per_need`` of each by
    name, in the order of ``needs``: what a screening that found them suggests (issue 14, item 7)."""
    found: list[Resource] = []
    for need in needs:
        query = (
            select(Resource)
            .where(Resource.category == need, Resource.status == ACTIVE)
            .order_by(col(Resource.name), col(Resource.id))
            .limit(per_need)
        )
        found += session.exec(query).all()
    return found
