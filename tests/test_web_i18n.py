"""Every text of the web pages has its Finnish and Swedish translation in the report's
catalogues (central/locale/*/LC_MESSAGES/report.po)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from central.i18n import Lang, catalogue
from central.web import common, fleet_pages

WEB = Path(__file__).resolve().parent.parent / "central" / "web"


def page_msgids() -> set[str]:
    """Literal t("…") of the templates and the web modules, the fleet table's column names,
    the problems' labels and the messages shown through a variable."""
    found: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        text = template.read_text("utf-8")
        found |= set(re.findall(r'\bt\(\s*"([^"]+)"', text))
        found |= set(re.findall(r"\bt\(\s*'([^']+)'", text))
        found |= set(re.findall(r'\("[a-z_]+", "([A-Z][^"]+)"\)', text))  # (key, column)
    for module in WEB.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "t" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.add(str(node.args[0].value))
    return found | set(fleet_pages.LABELS.values()) | set(common.MESSAGES)


def test_the_pages_have_texts_to_translate() -> None:
    found = page_msgids()
    assert {"Fleet", "Log in", "Problems", "Quarantine today", "offline"} <= found
    assert len(found) > 80


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_every_page_text_has_its_translation(lang: str) -> None:
    translations = catalogue(lang)
    assert sorted(page_msgids() - set(translations)) == []
    tr = Lang(lang)
    assert tr.t("Last 7 days: {n} status messages, offline for {hours} h, queue depth at "
                "most {depth}.", n=3, hours="1,5", depth=4).count("3") == 1
