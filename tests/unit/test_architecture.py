"""core/ must import only the standard library (and itself)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def imported_roots(path: Path) -> set[str]:
    roots = set()
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
