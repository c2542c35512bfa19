"""Checks every test applies to an exported FHIR file: valid R4 (fhir.resources' R4B models, see the
comment in pyproject.toml), and every reference resolving inside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _references(element: Any) -> Iterator[str]:
    if isinstance(element, dict):
        if isinstance(element.get("reference"), str):
            yield element["reference"]
        for value in element.values():
            yield from _references(value)
    elif isinstance(element, list):
        for item in element:
            yield from _references(item)


def validate_resource(resource: dict[str, Any]) -> None:
    """Raise if the resource is not valid FHIR (R4B models)."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def check_bundle(path: Path) -> dict[str, Any]:
    """The exported Bundle, validated whole and entry by entry, every reference resolved inside it."""
    from fhir.resources.R4B.bundle import Bundle

    data = json.loads(path.read_text(encoding="utf-8"))
    Bundle.model_validate(data)
    full_urls = {entry["fullUrl"] for entry in data["entry"]}
    assert len(full_urls) == len(data["entry"]), "two entries share a fullUrl"
    for entry in data["entry"]:
        validate_resource(entry["resource"])
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        for reference in _references(entry["resource"]):
            assert reference in full_urls, f"{entry['fullUrl']}: {reference} does not resolve in the Bundle"
    return data


def check_ndjson(path: Path) -> list[dict[str, Any]]:
    """The exported NDJSON, each line validated, every reference (Type/id) resolved in the file."""
    resources = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    known = {f"{r['resourceType']}/{r['id']}" for r in resources}
    for resource in resources:
        validate_resource(resource)
        for reference in _references(resource):
            assert reference in known, f"{resource['resourceType']}/{resource['id']}: {reference} does not resolve"
    return resources


def by_type(data: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The Bundle's resources of one type."""
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == resource_type]
