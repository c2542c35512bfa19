"""Typer's private copy of Click (``typer._click``) is used in one module, and what it takes still exists."""

from __future__ import annotations

import ast
import importlib
import tomllib
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

import carecoord
from carecoord import clickcompat

PACKAGE = Path(carecoord.__file__).parent
PRIVATE = "typer._click"


def private_imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, names) of every import from typer._click in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PRIVATE):
            yield node.module or "", [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            yield from ((alias.name, []) for alias in node.names if alias.name.startswith(PRIVATE))


def test_every_name_clickcompat_takes_still_exists_in_this_typer():
    imports = list(private_imports(PACKAGE / "clickcompat.py"))
    assert {name for _, names in imports for name in names} == set(clickcompat.__all__)
    for module, names in imports:
        source = importlib.import_module(module)
        for name in names:
            assert hasattr(source, name), f"{module}.{name} is gone from typer {version('typer')}"
            assert getattr(clickcompat, name) is getattr(source, name)


def test_no_other_module_imports_typers_click():
    for path in PACKAGE.rglob("*.py"):
        if path.name != "clickcompat.py":
            assert not list(private_imports(path)), f"{path}: import it from carecoord.clickcompat"


def test_pyproject_bounds_typer_to_the_releases_clickcompat_was_checked_against():
    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    [typer] = [r for r in map(Requirement, pyproject["project"]["dependencies"]) if r.name == "typer"]
    assert any(spec.operator == "<" for spec in typer.specifier), typer  # a private API: bounded above
    assert typer.specifier.contains(version("typer")), (str(typer), version("typer"))
