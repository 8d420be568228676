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
