"""Guard rails that keep the code as DESIGN.md describes it: pyflakes-clean (through ruff),
and no lower layer importing a higher one."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHECKED_FOLDERS = ("rekcli", "tests", "tools", "benchmarks")

# layer -> the rekcli packages it must never import (DESIGN.md, "The shape of the code")
FORBIDDEN = {
    "engine": {"service", "cli", "batch", "server"},
    "store": {"service", "cli", "batch", "server"},
    "service": {"cli", "batch", "server"},
    "batch": {"cli", "server"},
}

# Upward imports still allowed: none. It stays a ratchet: a new one fails the test, and so does
# one that is gone but still listed, so the list only shrinks.
KNOWN_UPWARD: set[tuple[str, str]] = set()


def imported_modules(path: Path) -> set[str]:
    """Every absolute module `path` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def upward_imports() -> set[tuple[str, str]]:
    upward = set()
    for path in sorted((REPO / "rekcli").rglob("*.py")):
        relative = path.relative_to(REPO)
        layer = relative.parts[1] if len(relative.parts) > 2 else None
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "rekcli" and len(parts) > 1 and parts[1] in FORBIDDEN.get(layer, ()):
                upward.add((relative.as_posix(), module))
    return upward


def test_no_lower_layer_imports_a_higher_one():
    found = upward_imports()
    assert found - KNOWN_UPWARD == set(), "a lower layer imports a higher one"
    assert KNOWN_UPWARD - found == set(), "removed: take it off KNOWN_UPWARD"


def test_the_layering_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from rekcli.cli.errors import CliError\n")
    assert "rekcli.cli.errors" in imported_modules(module)


def test_pyflakes_finds_nothing():
    """Unused imports and variables, undefined names, f-strings without fields (ruff's F
    rules, which are pyflakes') and syntax errors (E9)."""
    try:
        import ruff  # noqa: F401 - only to know whether the test extra is installed
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ruff (test extra) is not installed")
        pytest.skip("ruff (test extra) is not installed")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F,E9",
                             "--output-format", "concise", "--no-cache", *CHECKED_FOLDERS],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
