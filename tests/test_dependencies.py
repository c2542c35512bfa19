"""The suite runs on what `pip install .` gives a user: nothing the test tools bring may hold a
runtime dependency back (as recurring-ical-events once held python-dateutil below 3 while users got 4).

.ci/run also compares the test environment with a fresh resolution of `pip install .`.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
UPPER = {"<", "<=", "==", "===", "~="}
# Caps that hold nothing back today, each with why. A cap here still fails CI the day a plain
# `pip install .` gets a version past it: .ci/same_versions.py compares the versions installed.
TOLERATED_CAPS = {
    # fhir.resources 8 (tests validate FHIR exports with it) is built on fhir-core, which caps
    # pydantic below 3; no pydantic 3 is released (2.14 is the newest), so users and the suite get
    # the same pydantic.
    ("fhir-core", "pydantic"),
}


def closure(requirements: list[str]) -> dict[str, list[Requirement]]:
    """Every installed distribution these requirements pull in -> what it requires in turn."""
    found: dict[str, list[Requirement]] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        try:
            needs = [Requirement(r) for r in distribution(name).requires or []]
        except PackageNotFoundError:
            raise AssertionError(f"{name} is not installed: pip install -e '.[test]'") from None
        found[name] = [r for r in needs if not r.marker or r.marker.evaluate({"extra": ""})]
        todo += found[name]
    return found


def test_the_test_tools_cap_no_dependency_a_user_installs():
    runtime = closure(PYPROJECT["dependencies"])
    tools = closure(PYPROJECT["optional-dependencies"]["test"])
    caps = [
        f"{tool} requires {requirement}"
        for tool, needs in tools.items()
        if tool not in runtime
        for requirement in needs
        if canonicalize_name(requirement.name) in runtime
        and {s.operator for s in requirement.specifier} & UPPER
        and (tool, canonicalize_name(requirement.name)) not in TOLERATED_CAPS
    ]
    assert not caps, caps


def test_the_installed_dependencies_are_in_the_ranges_carecoord_declares():
    for requirement in map(Requirement, PYPROJECT["dependencies"]):
        assert requirement.specifier.contains(version(requirement.name), prereleases=True), (
            str(requirement),
            version(requirement.name),
        )
