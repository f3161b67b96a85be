"""Report formats: suppression in every format, escaped texts, and the HTML in a real browser."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from report_data import NOON, insert, report_params, response

from central.report_html import chart_png
from central.report_render import render
from central.reports import Report, ReportParams, build_report
from central.store import CentralStore, open_central

SMALL_TEXT = "Pienen ryhmän teksti"
TEXTS = ["<script>alert('x')</script> & muuta", "Ystävällinen hoitaja", "Nopea palvelu"]


@pytest.fixture
def report(tmp_path: Path) -> Iterator[Report]:
    """Three areas in March: `perhe` with 12 answers (3 with text), `vanhus` with 3, and
    `koti` with 6 (so that koti, not perhe, is the one protected for vanhus's sake)."""
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        rows = [response(NOON + timedelta(minutes=i), v, area="perhe",
                         text=TEXTS[i] if i < 3 else None, statements={"s1": 4})
                for i, v in enumerate([10, 9, 9, 8, 7, 10, 10, 6, 3, 10, 9, 8])]
        rows += [response(NOON + timedelta(days=1, minutes=i), 10, area="vanhus",
                          text=SMALL_TEXT) for i in range(3)]
        rows += [response(NOON + timedelta(days=2, minutes=i), 8, area="koti") for i in range(6)]
        insert(db, rows)
        params = ReportParams(date(2025, 2, 1), date(2025, 3, 31),
                              now=datetime(2025, 4, 1, tzinfo=UTC), lang="en")
        yield build_report(db, params)


def test_table_shows_small_groups_only_as_suppressed(report: Report) -> None:
    text = render(report, "table")
    line = next(ln for ln in text.splitlines() if ln.startswith("vanhus"))
    assert "<5" in line and "3" not in line.replace("<5", "")
    perhe = next(ln for ln in text.splitlines() if ln.startswith("perhe"))
    # perhe: 12 answers, promoters 7, detractors 2 -> NPS 41.7, mean 99/12 = 8.25
    assert perhe.split()[1] == "12" and perhe.split()[-2:] == ["8.25", "41.7"]


def test_csv_sections_and_suppression(report: Report) -> None:
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    assert rows[0] == ["# NPS"]
    assert rows[1][:2] == ["area", "n"] and rows[1][-2:] == ["mean", "NPS"]
    vanhus = rows[4]
    assert vanhus[0] == "vanhus" and vanhus[1] == "<5"
    assert set(vanhus[2:]) == {"–"}
    sections = [r[0] for r in rows if r and r[0].startswith("# ")]
    assert sections == ["# NPS", "# Shares of answers", "# Comparison", "# Targets",
                        "# Monthly NPS", "# Rolling 30-day NPS", "# Statements", "# Faces",
                        "# Free text", "# Topics of free text", "# Tone of free text",
                        "# Topics by month", "# SMS funnel", "# Anomalies"]


def test_html_is_self_contained_escaped_and_newest_first(report: Report) -> None:
    page = render(report, "html")
    assert "<script>" not in page  # the hostile text is escaped, and the page has no script
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; muuta" in page
    # A group under 5 never has its texts under its name: they join the other hidden
    # groups' texts (vanhus 3 + koti 6, protected), named by none of them.
    others = page.index("Other groups together")
    assert page.index(SMALL_TEXT) > others
    vanhus = page.split("<h3>vanhus</h3>", 1)[1].split("<h3>", 1)[0]
    assert SMALL_TEXT not in vanhus and "Fewer than 5 responses" in vanhus
    order = [page.index(t) for t in ("Nopea palvelu", "Ystävällinen hoitaja", "&lt;script")]
    assert order == sorted(order)  # newest first
    assert ">10 Mar 2025 12:00</time>" in page  # 10:00 UTC, shown in Helsinki time
    assert "@media print" in page and "<style>" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)  # nothing fetched
    assert 'src="data:image/png;base64,' in page


def test_chart_is_a_png(report: Report) -> None:
    png = chart_png(report)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script>
window.addEventListener('load', () => {
  const img = document.getElementById('chart');
  document.body.setAttribute('data-chart', img.complete + ':' + img.naturalWidth + 'x'
                             + img.naturalHeight);
  document.body.setAttribute('data-tables', document.querySelectorAll('table').length);
  document.body.setAttribute('data-nps-rows',
                             document.querySelectorAll('#nps-table tbody tr').length);
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (dev.sh installs it)")
def test_html_renders_in_headless_chromium(report: Report, tmp_path: Path) -> None:
    page = render(report, "html").replace("</body>", PROBE + "</body>")
    path = tmp_path / "report.html"
    path.write_text(page, "utf-8")
    profile = tmp_path / "profile"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--no-first-run", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=3000",
           "--dump-dom", path.as_uri()]
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=env)
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    chart = re.search(r'data-chart="true:(\d+)x(\d+)"', dom)
    assert chart, dom[:500]
    assert (int(chart.group(1)), int(chart.group(2))) == (900, 640)  # 9 x 6.4 in at 100 dpi
    tables = re.search(r'data-tables="(\d+)"', dom)
    assert tables and int(tables.group(1)) >= 6
    assert 'data-nps-rows="4"' in dom  # koti, perhe, vanhus, total
    assert "NPS <strong>" in dom


@pytest.fixture
def db(central_url: str) -> Iterator[CentralStore]:
    with open_central(central_url) as store:
        yield store


def test_html_in_finnish_writes_a_decimal_comma_and_csv_json_stay_machine_readable(
        db: CentralStore) -> None:
    # Six answers 10, 10, 9, 8, 6, 0: promoters 3, detractors 2 -> NPS 1/6 = 16.7;
    # mean 43/6 = 7.17; share of 10s 2/6 = 33.3 %. A Finnish reader (and Finnish Excel,
    # where a pasted "1.5" becomes the 1st of May) expects "16,7", as the counties write.
    insert(db, [response(NOON + timedelta(minutes=i), v) for i, v in
                enumerate([10, 10, 9, 8, 6, 0])])
    fi = build_report(db, report_params(date(2025, 3, 1), date(2025, 3, 31), lang="fi"))
    page = render(fi, "html")
    assert "NPS <strong>16,7</strong>, N = 6, keskiarvo 7,17" in page
    row = re.search(r'<table id="nps-table">.*?<tr class="total">(.*?)</tr>', page, re.S)
    assert row and re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[-2:] == ["7,17", "16,7"]
    assert "<td>33,3</td>" in page and "<td>33.3</td>" not in page
    en = render(build_report(db, report_params(date(2025, 3, 1), date(2025, 3, 31), lang="en")),
                "html")
    assert "NPS <strong>16.7</strong>" in en and "<td>33,3</td>" not in en
    assert '"nps": 16.7' in render(fi, "json")
    total = next(r for r in csv.reader(io.StringIO(render(fi, "csv"))) if r[:1] == ["yhteensä"])
    assert total[-2:] == ["7.17", "16.7"]
    assert render(fi, "table").count("16.7") >= 1  # the terminal table, as before


def test_an_nps_just_below_zero_reads_0_0_not_minus_0_0(db: CentralStore) -> None:
    # 1001 answers 0 and 1000 answers 10: NPS = -1/2001 = -0.05 points, rounded 0.0
    # (shown "-0.0" it reads as a negative score); mean 10000/2001 = 5.00.
    insert(db, [response(NOON + timedelta(seconds=20 * i), 0 if i < 1001 else 10)
                for i in range(2001)])
    report = build_report(db, report_params(date(2025, 3, 1), date(2025, 3, 31)))
    for fmt in ("table", "csv", "html"):
        assert "-0.0" not in render(report, fmt) and "-0,0" not in render(report, fmt), fmt
    total = next(r for r in csv.reader(io.StringIO(render(report, "csv"))) if r[:1] == ["total"])
    assert total[-2:] == ["5.00", "0.0"]
