"""The import graph runs one way: core <- hardware <- kiosk/gateway; sync <- central.

Read from the source with `ast`, so a new import that breaks the layering fails here
before it becomes a coupling; modules are never imported by a string.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("survey", "hardware", "kiosk", "sms_gateway", "sync", "central", "palaute")

# What each package may import of the others (beside itself, the stdlib and its libraries).
ALLOWED: dict[str, frozenset[str]] = {
    "survey": frozenset(),
    "hardware": frozenset({"survey"}),
    "kiosk": frozenset({"survey", "hardware"}),
    "sms_gateway": frozenset({"survey", "hardware"}),
    "sync": frozenset({"survey"}),
    "central": frozenset({"survey", "sync"}),
    # The command line joins every part.
    "palaute": frozenset(PACKAGES) - {"palaute"},
}
# The modem simulator may use the gateway's pure PDU codec and nothing else of it.
NARROW: dict[tuple[str, str], frozenset[str]] = {
    ("hardware", "sms_gateway"): frozenset({"sms_gateway.pdu", "sms_gateway.errors"}),
}


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _violations(root: Path = ROOT) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            where = path.relative_to(root)
            for line, module in _imports(path):
                top = module.split(".")[0]
                if top not in PACKAGES or top == package:
                    continue
                narrow = NARROW.get((package, top))
                if narrow is not None:
                    if module not in narrow:
                        found.append(f"{where}:{line}: {package} may import only "
                                     f"{sorted(narrow)} of {top}, not {module}")
                elif top not in ALLOWED[package]:
                    found.append(f"{where}:{line}: {package} must not import {module}")
    return found


def _string_imports() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in {"import_module", "__import__"}:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: import by string")
    return found


def test_packages_import_only_downwards() -> None:
    assert _violations() == []


def test_no_module_is_imported_by_a_string() -> None:
    assert _string_imports() == []


@pytest.mark.parametrize(("package", "source", "expected"), [
    ("survey", "import kiosk.session\n", "survey must not import kiosk.session"),
    ("sync", "from central.store import CentralStore\n", "sync must not import central.store"),
    ("hardware", "from sms_gateway.modem import Modem\n", "may import only"),
])
def test_the_rule_catches_an_upward_import(
    tmp_path: Path, package: str, source: str, expected: str
) -> None:
    # A copy of the tree with one bad module added: the check must name it.
    fake_root = tmp_path / "tree"
    for name in PACKAGES:
        (fake_root / name).mkdir(parents=True)
    (fake_root / package / "bad.py").write_text(source, encoding="utf-8")
    assert any(expected in v for v in _violations(fake_root))
