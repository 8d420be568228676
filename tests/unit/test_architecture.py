"""core/ must import only the standard library (and itself)."""

from __future__ import annotations

import ast
import re
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


# -- adapters use the engine's public surface and the query side ----------------------------
BOTS = CORE.parent / "bots"
COMPOSITION_ROOT = {"bots/app.py"}  # builds Services and registers the messengers


def _imports_tables(node: ast.AST) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name == "storage.tables" for a in node.names)
    return isinstance(node, ast.ImportFrom) and node.level == 0 and (
        node.module == "storage.tables"
        or (node.module == "storage" and any(a.name == "tables" for a in node.names)))


def adapter_offences(path: Path, name: str) -> list[str]:
    """What bots/ must not do: reach into the engine's `Services` (`engine.s`), query the
    tables themselves (`storage.tables`), build (partial) `Interview` aggregates, or swap the
    engine's messengers outside the composition root."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr == "s":
            found.append(f"{where}: .s (the engine's Services; use Engine.views)")
        elif _imports_tables(node):
            found.append(f"{where}: storage.tables (use a storage repository or query)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "Interview":
            found.append(f"{where}: Interview(...) (read a core.queries read model)")
        elif isinstance(node, ast.Assign | ast.AugAssign) and name not in COMPOSITION_ROOT:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute)
                   and t.value.attr == "messengers" for t in targets):
                found.append(f"{where}: messengers[...] = (only the composition root)")
    return found


def test_adapters_read_through_the_query_side_not_the_engines_insides() -> None:
    files = sorted(BOTS.rglob("*.py"))
    assert len(files) > 20
    offences = [o for path in files
                for o in adapter_offences(path, str(path.relative_to(CORE.parent)))]
    assert offences == []


def test_the_adapter_check_finds_each_kind_of_offence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from storage.tables import InterviewRow\nimport storage.tables\n"
                   "from storage import tables\nx = engine.s.scripts\n"
                   "i = Interview(id='1', candidate_name='', token_hash='')\n"
                   "app.services.messengers['slack'] = m\n")
    assert len(adapter_offences(bad, "bots/x.py")) == 6
    assert len(adapter_offences(bad, "bots/app.py")) == 5
def platform_names() -> set[str]:
    """Every registered channel's platform name (bots/channels.py)."""
    from bots.channels import declarations

    return {d.name for d in declarations()}


def named_platforms(path: Path, names: set[str], root: Path = CORE.parent) -> list[str]:
    """`file:line: name` for each mention of a platform name (code, strings, comments)."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b", re.I)
    return [f"{path.relative_to(root)}:{n}: {m.group(1)}"
            for n, line in enumerate(path.read_text().splitlines(), 1)
            for m in pattern.finditer(line)]


def test_core_names_no_platform() -> None:
    """The engine asks capabilities (core/capabilities.py), never compares platform names:
    no module of core/ mentions a registered channel, not even in a docstring."""
    names = platform_names()
    assert {"telegram", "slack", "console"} <= names
    offenders = [hit for path in sorted(CORE.rglob("*.py")) for hit in named_platforms(path, names)]
    assert offenders == []


def test_the_check_finds_a_platform_name(tmp_path: Path) -> None:
    bad = tmp_path / "core" / "bad.py"
    bad.parent.mkdir()
    bad.write_text('if user.platform != "telegram":  # Slack knows the zone\nslackness = 1\n')
    assert named_platforms(bad, {"telegram", "slack"}, tmp_path) == [
        "core/bad.py:1: telegram", "core/bad.py:1: Slack"]
