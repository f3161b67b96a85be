"""The reports pages and downloads: the same report as `central report`, never a figure of a
group with fewer than 5 answers, and a leader only sees what is granted."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from report_data import insert, response
from web_helpers import PASSWORD, login, served, write_central_config

from central.registry import DeviceOrigin, register
from central.web.accounts import Grant, Role, add_account
from palaute.cli import main

DAY = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
PERIOD = "from=2025-03-01&to=2025-03-31"
# pieni's three answers 10, 9, 0 would read: NPS 33.3, promoters 66.7 %, mean 6.3. No other
# group, nor the total, has any of these figures (checked in the test).
SMALL_FIGURES = ("33.3", "66.7", "6.3", "6.33")


def _numbers(text: str) -> set[str]:
    """Every decimal figure of a text, with a point (Finnish pages write a comma); in CSV
    (a point, commas between cells) each cell."""
    if text.startswith("# "):
        cells = re.split(r"[,\n]", text.replace('"', ""))
        return {c for c in cells if re.fullmatch(r"\d+\.\d+", c)}
    return {m.replace(",", ".") for m in re.findall(r"(?<![\d.,])\d+[.,]\d+(?![\d.,]?\d)", text)}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    cfg = write_central_config(tmp_path, url)
    with served(cfg) as (_, base, db):
        add_account(db, "admin", Role.ADMIN, PASSWORD, DAY, lang="fi")
        add_account(db, "lea", Role.LEADER, PASSWORD, DAY, lang="sv",
                    grants=[Grant("unit", "ensiapu")])
        for device, unit in (("d1", "ensiapu"), ("d2", "toinen"), ("d3", "pieni")):
            register(db, DeviceOrigin(device, "tays", "pohjoinen", unit), action="register",
                     actor="test", at=DAY - timedelta(days=60))
        for device, unit, values in (("d1", "ensiapu", [10, 10, 10, 9, 9, 8, 7, 6, 5, 3]),
                                     ("d2", "toinen", [10, 8, 8, 8, 7, 7, 2]),
                                     ("d3", "pieni", [10, 9, 0])):
            insert(db, [response(DAY + timedelta(hours=i), v, device=device, unit=unit,
                                 area="pohjoinen", text="Hyvä palvelu" if i == 0 else None)
                        for i, v in enumerate(values)])
        yield {"base": base, "db": db, "url": url, "cfg": cfg}


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(data)
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext (poppler-utils) is not installed (dev.sh installs it)")
def test_no_page_or_download_shows_a_suppressed_figure(site: dict[str, Any],
                                                        tmp_path: Path) -> None:
    client, _ = login(site["base"], "admin")
    seen = {}
    for by in ("unit", "device", "channel", "month"):
        query = f"{PERIOD}&by={by}"
        page = client.get(f"{site['base']}/reports?{query}", timeout=60)
        assert page.status_code == 200
        csv = client.get(f"{site['base']}/reports/report.csv?{query}&lang=en", timeout=60)
        pdf = client.get(f"{site['base']}/reports/report.pdf?{query}", timeout=120)
        assert csv.headers["content-type"].startswith("text/csv")
        assert pdf.content.startswith(b"%PDF-")
        seen[by] = (page.text, csv.text, _pdf_text(pdf.content, tmp_path))
    page, csv, pdf = seen["unit"]
    assert "pieni" in page and "&lt;5" in page and "\npieni,<5," in csv
    assert "pieni" in pdf
    assert "20.0" in _numbers(page) & _numbers(csv) & _numbers(pdf)  # ensiapu's NPS is found
    for by, texts in seen.items():
        for kind, text in zip(("page", "csv", "pdf"), texts, strict=True):
            shown = _numbers(text) & set(SMALL_FIGURES)
            assert not shown, f"by {by}, {kind}: {shown}"
    # Narrowed to the small unit itself: nothing but its n.
    small = client.get(f"{site['base']}/reports/report.csv?{PERIOD}&unit=pieni&lang=en",
                       timeout=60).text
    assert not _numbers(small) & set(SMALL_FIGURES) and "<5" in small


def test_the_page_shows_what_central_report_shows(site: dict[str, Any],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    client, _ = login(site["base"], "admin")
    csv = client.get(f"{site['base']}/reports/report.csv?{PERIOD}&by=unit&lang=fi",
                     timeout=60).text
    capsys.readouterr()
    assert main(["central", "report", "--db", site["url"], "--from", "2025-03-01", "--to",
                 "2025-03-31", "--by", "unit", "--format", "csv", "--lang", "fi"]) == 0
    cli = capsys.readouterr().out
    # The same tables; only the anomalies' ages (measured from now) may differ.
    assert csv.split("# ")[:4] == cli.split("# ")[:4]


def test_a_leader_sees_only_the_granted_unit(site: dict[str, Any]) -> None:
    client, _ = login(site["base"], "lea")
    page = client.get(f"{site['base']}/reports?{PERIOD}", timeout=60)
    assert page.status_code == 200 and "Responsrapport" in page.text
    assert "ensiapu" in page.text and "toinen" not in page.text.split('class="report"')[1]
    for query in ("unit=toinen", "area=pohjoinen", "unit=pieni&area=pohjoinen"):
        for path in ("/reports", "/reports/report.csv", "/reports/report.pdf"):
            refused = client.get(f"{site['base']}{path}?{PERIOD}&{query}", timeout=60)
            assert refused.status_code == 400, (path, query)
            assert "not among the ones granted" in refused.text


def test_bad_filters_are_one_clear_line(site: dict[str, Any]) -> None:
    client, _ = login(site["base"], "admin")
    for query, message in (("from=2025-13-01", "is not a date"),
                           ("by=colour", "unknown grouping"),
                           ("channel=fax", "unknown channel"),
                           ("from=2025-04-01&to=2025-03-01", "runs backwards")):
        answer = client.get(f"{site['base']}/reports/report.csv?{query}", timeout=60)
        assert answer.status_code == 400 and message in answer.text, query
    assert date.today()  # the default period needs no filter at all
    assert client.get(f"{site['base']}/reports", timeout=60).status_code == 200
