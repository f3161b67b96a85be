"""The import graph runs one way (DESIGN.md "Packages"), read from the source, not by importing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Which other parts each package may import (DESIGN.md): core <- hardware <- kiosk/gateway,
# survey <- sync <- central; `palaute` (the command and the demo) puts them all together.
ALLOWED: dict[str, set[str]] = {
    "survey": set(),
    "hardware": {"survey"},
    "kiosk": {"survey", "hardware"},
    "sms_gateway": {"survey", "hardware"},
    "sync": {"survey"},
    "central": {"survey", "sync"},
    "palaute": {"survey", "hardware", "kiosk", "sms_gateway", "sync", "central"},
}
# The modem simulator may use the gateway's pure PDU codec and nothing else of it.
EXCEPTIONS = {("hardware", "sms_gateway.pdu"), ("hardware", "sms_gateway.errors")}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in a file, type-checking ones included."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def _string_imports(path: Path) -> list[int]:
    """Lines that import a module named by a string (importlib.import_module, __import__)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                node.func.id if isinstance(node.func, ast.Name) else ""
            if name in ("import_module", "__import__"):
                lines.append(node.lineno)
    return lines


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_parts_below_it(package: str) -> None:
    wrong = []
    for path in _modules(package):
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in ALLOWED and top != package and top not in ALLOWED[package] \
                    and (package, module) not in EXCEPTIONS:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert wrong == [], f"{package} may import only {sorted(ALLOWED[package])}"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_module_is_imported_by_a_string(package: str) -> None:
    found = [f"{path.relative_to(REPO)}:{line}"
             for path in _modules(package) for line in _string_imports(path)]
    assert found == [], "import it directly: a renamed module must fail mypy and the import"


def test_the_rule_catches_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "agent.py"
    bad.write_text("import importlib\nfrom sms_gateway.status import status_extras\n"
                   "mod = importlib.import_module('sms_gateway.status')\n")
    assert (2, "sms_gateway.status") in _imports(bad)
    assert _string_imports(bad) == [3]
    assert "sms_gateway" not in ALLOWED["sync"]
