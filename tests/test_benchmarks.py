"""The benchmark script's list of commands builds, and each names a real carecoord command."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from typer.testing import CliRunner

from carecoord.cli import app

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _run_module() -> object:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("benchmark_run", BENCHMARKS / "run.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_every_case_is_a_command_carecoord_knows(tmp_path: Path) -> None:
    run = _run_module()
    cases = run.all_cases(tmp_path)  # type: ignore[attr-defined]
    labels = [case.label for case in cases]
    assert len(labels) == len(set(labels)), "two benchmark cases share a label"
    runner = CliRunner()
    for case in cases:
        args = case.argv[len(run.CARECOORD) :]  # type: ignore[attr-defined]
        if case.argv[: len(run.CARECOORD)] != run.CARECOORD or not args or args[0].startswith("-"):  # type: ignore[attr-defined]
            continue  # a floor, or carecoord's own --help and --version
        words = [word for word in args[:2] if not word.startswith("-")]
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, f"{case.label}: 'carecoord {' '.join(words)}' is not a command"
