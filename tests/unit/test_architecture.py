"""core/ must import only the standard library (and itself)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_only_the_standard_library() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 10
    offenders = {
        f"{path.relative_to(CORE.parent)}: {root}"
        for path in files
        for root in imported_roots(path)
        if root != "core" and root not in sys.stdlib_module_names and root != "__future__"
    }
    assert offenders == set()


def test_the_check_detects_a_third_party_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import telegram\nfrom sqlmodel import Field\nimport json\n")
    assert imported_roots(bad) - sys.stdlib_module_names == {"telegram", "sqlmodel"}


def test_the_wheel_ships_no_fakes_tests_or_benchmarks() -> None:
    """fakes/, tests/ and bench/ import each other from the repository; none goes into the
    package that `pip install` builds."""
    import tomllib

    from setuptools import find_packages

    root = CORE.parent
    config = tomllib.loads((root / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = set(find_packages(str(root), include=include))
    assert {"core", "bots", "storage"} <= shipped
    assert not {p for p in shipped if p.split(".")[0] in {"fakes", "tests", "bench"}}
    assert {"fakes", "fakes.telegram", "fakes.slack"} <= set(find_packages(str(root)))


def test_production_code_never_imports_the_fakes() -> None:
    offenders = {
        f"{path.relative_to(CORE.parent)}"
        for package in ("core", "bots", "storage")
        for path in sorted((CORE.parent / package).rglob("*.py"))
        if {"fakes", "tests", "bench"} & imported_roots(path)
    }
    assert not offenders
