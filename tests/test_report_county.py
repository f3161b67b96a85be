"""The monthly report a county leader reads: in their language, against the previous
period, the same month a year before and the unit's targets; the page in a real browser,
the PDF read back as text."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from report_data import insert, response

from central import report_html, report_render
from central.faces import FacesError, face_mapping, move_to_faces
from central.i18n import LANGS, Lang, catalogue
from central.registry import DeviceOrigin, audit_trail, register
from central.report_html import render_html, render_pdf
from central.report_model import (
    ReportError,
    ReportParams,
    Target,
    parse_targets,
    previous_period,
    year_before,
)
from central.reports import Report, build_report
from central.store import CentralStore, open_central
from palaute.cli import main

ROOT = Path(__file__).resolve().parent.parent
MARCH = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
TARGETS = parse_targets({"nps": 70, "unit": {"ensiapu": {"nps": 15, "s1_top": 74}}})


def _month(db: CentralStore, start: datetime, values: list[int],
           s1: list[int] | None = None, text: str | None = None) -> None:
    insert(db, [response(start + timedelta(hours=i), v, text=text if i == 0 else None,
                         statements={"s1": s1[i]} if s1 else None)
                for i, v in enumerate(values)])


@pytest.fixture
def db(tmp_path: Path) -> Iterator[CentralStore]:
    """ensiapu: March 2025 (10 answers, NPS 20.0), February 2025 (5, NPS 100.0) and
    March 2024 (8, NPS 25.0), with statement s1 in March 2025."""
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as store:
        # promoters 5, detractors 3 of 10 -> NPS 20.0; mean 77 / 10 = 7.7
        # s1: fives 4 of 10 = 40.0 %, 4-5: 7 of 10 = 70.0 %, mean 38 / 10 = 3.8
        _month(store, MARCH, [10, 10, 10, 9, 9, 8, 7, 6, 5, 3],
               s1=[5, 5, 5, 5, 4, 4, 4, 3, 2, 1], text="Hoitaja oli ystävällinen")
        _month(store, MARCH - timedelta(days=28), [10, 10, 9, 9, 9])  # NPS 100.0, mean 9.4
        # a year before: promoters 4, detractors 2 of 8 -> NPS 25.0; mean 56 / 8 = 7.0
        _month(store, MARCH - timedelta(days=365), [10, 10, 10, 10, 0, 0, 8, 8])
        yield store


def _report(db: CentralStore, lang: str = "fi", targets: tuple[Target, ...] = TARGETS,
            **kw: object) -> Report:
    params = ReportParams(date(2025, 3, 1), date(2025, 3, 31),
                          now=datetime(2025, 4, 2, tzinfo=UTC), by="unit",
                          filters=(("unit", "ensiapu"),), lang=lang, targets=targets,
                          trend_from=date(2024, 3, 1), **kw)  # type: ignore[arg-type]
    return build_report(db, params)


def test_periods_to_compare_with() -> None:
    assert previous_period(date(2025, 3, 1), date(2025, 3, 31)) == (date(2025, 2, 1),
                                                                    date(2025, 2, 28))
    assert previous_period(date(2025, 1, 1), date(2025, 3, 31)) == (date(2024, 10, 1),
                                                                    date(2024, 12, 31))
    assert previous_period(date(2025, 3, 5), date(2025, 3, 14)) == (date(2025, 2, 23),
                                                                    date(2025, 3, 4))
    assert year_before(date(2024, 2, 29), date(2024, 3, 31)) == (date(2023, 2, 28),
                                                                date(2023, 3, 31))


def test_comparison_figures_by_value(db: CentralStore) -> None:
    data = report_render.report_json(_report(db))
    rows = {r["key"]: r for r in data["comparison"]["rows"]}
    total = rows["total"]
    assert total["now"] == {"n": 10, "nps": 20.0, "mean": 7.7}
    assert total["previous"] == {"n": 5, "nps": 100.0, "mean": 9.4}
    assert total["last_year"] == {"n": 8, "nps": 25.0, "mean": 7.0}
    assert (total["change_previous"], total["change_last_year"]) == (-80.0, -5.0)
    assert data["comparison"]["previous_period"] == {"from": "2025-02-01", "to": "2025-02-28"}
    assert data["comparison"]["last_year_period"] == {"from": "2024-03-01", "to": "2024-03-31"}


def test_a_small_earlier_period_is_suppressed_not_compared(db: CentralStore) -> None:
    _month(db, MARCH - timedelta(days=365 + 31), [0, 10, 10])  # February 2024: 3 answers
    params = ReportParams(date(2025, 2, 1), date(2025, 2, 28), now=datetime(2025, 4, 2,
                          tzinfo=UTC), by="unit", lang="en")
    total = next(r for r in report_render.report_json(build_report(db, params))
                 ["comparison"]["rows"] if r["key"] == "total")
    assert total["last_year"] == {"n": "<5", "nps": None, "mean": None}
    assert total["change_last_year"] is None


def test_targets_by_value_the_units_own_wins(db: CentralStore) -> None:
    data = report_render.report_json(_report(db))
    by = {(t["key"], t["measure"]): t for t in data["targets"]}
    nps = by[("total", "nps")]
    # The unit's own 15 wins over the general 70: 20.0 meets it.
    assert (nps["target"], nps["scope"], nps["actual"], nps["met"]) == (15.0, "unit", 20.0, True)
    top = by[("total", "top")]
    assert (top["question"], top["target"], top["actual"], top["met"]) == ("s1", 74.0, 40.0,
                                                                          False)
    general = report_render.report_json(_report(db, targets=parse_targets({"nps": 70})))
    assert [(t["target"], t["met"]) for t in general["targets"] if t["key"] == "total"] == [
        (70.0, False)]


@pytest.mark.parametrize(("table", "message"), [
    ({"nps": "70"}, "[targets] nps: must be a number, not '70'"),
    ({"nps": 170}, "[targets] nps: 170 is outside -100..100"),
    ({"s1_best": 5}, "[targets] s1_best: unknown target"),
    ({"unit": {"ensiapu": 5}}, "[targets].unit.ensiapu: must be a table of targets"),
    ({"s1_mean": 6}, "[targets] s1_mean: 6 is outside 1..5"),
])
def test_bad_targets_are_one_clear_line(table: dict[str, object], message: str) -> None:
    with pytest.raises(ReportError) as err:
        parse_targets(table)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_statements_show_their_distribution_and_share_of_fives(db: CentralStore) -> None:
    data = report_render.report_json(_report(db))
    s1 = next(s for s in data["statements"] if s["key"] == "total" and s["question"] == "s1")
    assert s1["shares"] == [10.0, 10.0, 10.0, 30.0, 40.0]
    assert (s1["top_share"], s1["agree_share"], s1["mean"]) == (40.0, 70.0, 3.8)


def test_finnish_page_headline_comparison_and_target(db: CentralStore) -> None:
    page = render_html(_report(db, "fi"))
    assert '<html lang="fi">' in page
    assert "Palauteraportti: ensiapu, 1.3.2025–31.3.2025" in page
    assert "NPS <strong>20,0</strong>, N = 10, keskiarvo 7,70" in page
    assert "edellinen jakso: NPS 100,0, N = 5 (muutos -80,0)" in page
    assert "vuotta aiemmin: NPS 25,0, N = 8 (muutos -5,0)" in page
    assert 'tavoite 15,0: <span class="met">tavoite saavutettu</span>' in page
    # Free texts carry their score and channel.
    assert re.search(r"pisteet 10</span>.*?palautelaite</span> Hoitaja oli ystävällinen", page)


# -- every text in the reader's language ----------------------------------------------------


def _msgids() -> set[str]:
    """Every message the report can show: the literal tr.t("…") calls and the labels
    kept in tables of messages."""
    found: set[str] = set()
    for name in ("report_render.py", "report_html.py"):
        tree = ast.parse((ROOT / "central" / name).read_text("utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "t" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found.add(str(node.args[0].value))
    r = report_render
    for table in (r.SMS_COUNTER_LABELS, r.GROUP_LABELS, r.ANOMALY_SENTENCES, r.ANOMALY_KINDS,
                  r.EVIDENCE_LABELS):
        found |= set(table.values())
    found |= {name for name, _ in r.SECTIONS}
    found.add(report_html.FACES_NOTE)
    return found


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_every_message_has_its_translation(lang: str) -> None:
    missing = sorted(_msgids() - set(catalogue(lang)))
    assert missing == []


def test_every_anomaly_kind_has_a_sentence_and_a_name() -> None:
    tree = ast.parse((ROOT / "central" / "anomalies.py").read_text("utf-8"))
    kinds = {str(kw.value.value) for node in ast.walk(tree) if isinstance(node, ast.Call)
             for kw in node.keywords if kw.arg == "kind" and isinstance(kw.value, ast.Constant)}
    kinds |= {str(node.args[0].value) for node in ast.walk(tree)
              if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Anomaly"
              and node.args and isinstance(node.args[0], ast.Constant)}
    assert kinds and kinds <= set(report_render.ANOMALY_SENTENCES)
    assert kinds <= set(report_render.ANOMALY_KINDS)


@pytest.mark.parametrize("lang", LANGS)
def test_all_formats_render_without_a_missing_message(db: CentralStore, lang: str) -> None:
    report = _report(db, lang)
    tr = Lang(lang)
    for fmt in ("table", "csv", "html"):
        report_render.render(report, fmt, "2025-04-02 08:00", tr)
    assert tr.missing == set()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = """<script>
window.addEventListener('load', () => {
  document.body.setAttribute('data-text', document.body.innerText);
  document.body.setAttribute('data-alt', document.getElementById('chart').alt);
});
</script>"""


def _words_of(msgid: str) -> list[str]:
    """The fixed parts of a message (between its {fields}) worth looking for: whole
    phrases of at least two words, or one word of five letters or more."""
    parts = [p.strip(" .,:;()%–-") for p in re.split(r"\{[a-z_]+\}", msgid)]
    return [p for p in parts if (" " in p and len(p) >= 8) or re.fullmatch(r"[A-Za-z]{5,}", p)]


def _visible_text(page: str, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"), "utf-8")
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--no-first-run", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / ('profile-' + name)}",
           "--virtual-time-budget=3000", "--dump-dom", path.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    text = re.search(r'data-text="(.*?)"', done.stdout, re.S)
    alt = re.search(r'data-alt="(.*?)"', done.stdout, re.S)
    assert text and alt, done.stdout[:500]
    import html

    return html.unescape(text.group(1)) + "\n" + html.unescape(alt.group(1))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (dev.sh installs it)")
def test_monthly_page_in_chromium_has_no_untranslated_text(
        db: CentralStore, tmp_path: Path) -> None:
    """The monthly page of a unit, as `central report --monthly` writes it, read by a real
    browser in fi, sv and en: no English phrase of the catalogue is left on a Finnish or
    Swedish page, and the English page has them."""
    db_url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    cfg = tmp_path / "central.toml"
    cfg.write_text(f'[central]\ndb = "{db_url}"\n[targets]\nnps = 70\n[targets.unit.ensiapu]\n'
                   "nps = 15\ns1_top = 74\n", "utf-8")
    english = {m: _words_of(m) for m in _msgids()}
    texts = {}
    for lang in LANGS:
        folder = tmp_path / lang
        assert main(["central", "report", "--config", str(cfg), "--monthly", "--out",
                     str(folder), "--now", "2025-04-15", "--lang", lang]) == 0
        page = (folder / "ensiapu-2025-03.html").read_text("utf-8")
        texts[lang] = _visible_text(page, tmp_path, lang)
    for lang in ("fi", "sv"):
        translations = catalogue(lang)
        left = sorted(w for m, words in english.items() for w in words
                      if translations.get(m) != m and w not in translations.get(m, "")
                      and re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", texts[lang]))
        where = [texts[lang][max(0, m.start() - 80):m.end() + 40] for w in left
                 for m in re.finditer(re.escape(w), texts[lang])]
        assert left == [], f"{lang}: {left} in {where}"
    assert "Feedback report" in texts["en"] and "Monthly NPS of the total" in texts["en"]
    assert "Palauteraportti" in texts["fi"] and "Responsrapport" in texts["sv"]
    assert "maalis 2025: NPS 20,0 (n 10)" in texts["fi"]  # the chart's text alternative


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext (poppler-utils) is not installed (dev.sh installs it)")
def test_pdf_of_the_same_page_reads_back(db: CentralStore, tmp_path: Path) -> None:
    pdf = render_pdf(_report(db, "fi"), generated_at="2.4.2025 8.00")
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    assert "Palauteraportti: ensiapu" in text
    assert "NPS 20,0, N = 10" in text
    assert "Hoitaja oli ystävällinen" in text and "Väittämät (1–5)" in text


def test_cli_pdf_and_monthly_pdf(db: CentralStore, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    out = tmp_path / "r.pdf"
    assert main(["central", "report", "--db", url, "--from", "2025-03-01", "--to", "2025-03-31",
                 "--format", "pdf", "--out", str(out), "--now", "2025-04-02"]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    folder = tmp_path / "m"
    assert main(["central", "report", "--db", url, "--monthly", "--pdf", "--out", str(folder),
                 "--now", "2025-04-15"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["ensiapu-2025-03.html",
                                                          "ensiapu-2025-03.pdf"]


def test_monthly_covers_the_registrys_units_and_names_them(db: CentralStore,
                                                           tmp_path: Path) -> None:
    # A kiosk enrolled for `lastenpkl` has sent nothing yet: its leader still gets a page.
    register(db, DeviceOrigin("lasten-lobby-1", "tays", "lapset", "lastenpkl"),
             action="enrol", actor="test", at=datetime(2025, 2, 1, tzinfo=UTC))
    cfg = tmp_path / "central.toml"
    cfg.write_text(f'[central]\ndb = "sqlite:///{tmp_path / "c.sqlite"}"\n[report]\n'
                   'lang = "fi"\nnames = { ensiapu = "Ensiapu", sairaalapalvelut = '
                   '"Sairaalapalvelut", tays = "TAYS", lastenpkl = "Lasten poliklinikka", '
                   'lapset = "Lasten ja nuorten palvelut" }\n', "utf-8")
    folder = tmp_path / "m"
    assert main(["central", "report", "--config", str(cfg), "--monthly", "--out",
                 str(folder), "--now", "2025-04-15"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["ensiapu-2025-03.html",
                                                          "lastenpkl-2025-03.html"]
    empty = (folder / "lastenpkl-2025-03.html").read_text("utf-8")
    assert ("Palauteraportti: Lasten poliklinikka, Lasten ja nuorten palvelut, TAYS, "
            "1.3.2025–31.3.2025") in empty
    assert "Tältä jaksolta ei ole vastauksia." in empty
    full = (folder / "ensiapu-2025-03.html").read_text("utf-8")
    assert "Palauteraportti: Ensiapu, Sairaalapalvelut, TAYS" in full


def test_json_says_its_language(db: CentralStore) -> None:
    assert json.loads(report_render.render(_report(db, "sv"), "json"))["lang"] == "sv"


# -- face buttons: their own scale ----------------------------------------------------------


def test_face_answers_are_their_own_scale_never_nps(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with open_central(url) as db:
        # A five-face kiosk's answers as it stores them now: faces 1..5, no NPS.
        faces = [5, 5, 4, 4, 4, 3, 2, 1, 5, 4]
        rows = [response(MARCH + timedelta(minutes=i), None, device="tays-buttons-1",
                         statements={"faces": f}) for i, f in enumerate(faces)]
        rows += [response(MARCH + timedelta(hours=2, minutes=i), 9) for i in range(6)]
        insert(db, rows)
        report = _report(db, "en")
    data = report_render.report_json(report)
    assert data["total"]["n"] == 6 and data["total"]["nps"] == 100.0  # the faces are not in
    assert not any(s["question"] == "faces" for s in data["statements"])
    total = next(f for f in data["faces"] if f["key"] == "total")
    # 1: 1, 2: 1, 3: 1, 4: 4, 5: 3 of 10; the two happiest 7 of 10
    assert total["shares"] == [10.0, 10.0, 10.0, 40.0, 30.0] and total["happy_share"] == 70.0
    page = render_html(_report_of(url, "fi"))
    assert "Hymiönaamat" in page and "kaksi iloisinta %" in page and "5 tosi hyvä %" in page


def _report_of(url: str, lang: str) -> Report:
    with open_central(url) as db:
        return _report(db, lang)


def test_move_faces_turns_an_old_button_kiosks_nps_values_into_faces(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with open_central(url) as db:
        # An older five-button kiosk stored its faces as 0, 4, 7, 9, 10.
        old = [10, 10, 9, 7, 4, 0, 10, 9]
        insert(db, [response(MARCH + timedelta(minutes=i), v, device="tays-buttons-1")
                    for i, v in enumerate(old)])
        insert(db, [response(MARCH + timedelta(hours=3, minutes=i), 8) for i in range(5)])
        assert main(["central", "report", "--db", url, "--from", "2025-03-01", "--to",
                     "2025-03-31", "--format", "json", "--now", "2025-04-02",
                     "--out", str(tmp_path / "before.json")]) == 0
    assert json.loads((tmp_path / "before.json").read_text())["total"]["n"] == 13
    code = main(["central", "move-faces", "--db", url, "--device", "tays-buttons-1",
                 "--values", "0,4,7,9,10", "--by", "tester"])
    assert code == 0
    # The aggregates the first report installed were rebuilt: NPS now counts only the 5.
    assert main(["central", "report", "--db", url, "--from", "2025-03-01", "--to",
                 "2025-03-31", "--format", "json", "--now", "2025-04-02",
                 "--out", str(tmp_path / "after.json")]) == 0
    after = json.loads((tmp_path / "after.json").read_text())
    assert after["total"]["n"] == 5
    total = next(f for f in after["faces"] if f["key"] == "total")
    # faces 5, 5, 4, 3, 2, 1, 5, 4: 1: 1, 2: 1, 3: 1, 4: 2, 5: 3 of 8
    assert total["n"] == 8 and total["shares"] == [12.5, 12.5, 12.5, 25.0, 37.5]
    with open_central(url) as db:
        trail = [a for a in audit_trail(db) if a.action == "move-faces"]
        assert [(a.device, a.actor, a.new["responses"]) for a in trail] == [
            ("tays-buttons-1", "tester", "8")]
        assert move_to_faces(db, "tays-buttons-1", [0, 4, 7, 9, 10], actor="t",
                             at=datetime(2025, 4, 3, tzinfo=UTC)) == 0  # nothing left


def test_move_faces_refuses_a_device_that_was_no_face_kiosk(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with open_central(url) as db:
        insert(db, [response(MARCH + timedelta(minutes=i), v) for i, v in
                    enumerate([10, 8, 6, 9])])
        with pytest.raises(FacesError, match="has NPS answers 6, 8 that are not among"):
            move_to_faces(db, "tays-lobby-1", [0, 4, 7, 9, 10], actor="t",
                          at=datetime(2025, 4, 3, tzinfo=UTC))
        assert sorted(r[0] for r in db.execute("SELECT nps FROM responses")) == [6, 8, 9, 10]
    for bad, message in (([0, 5, 10], "4 or 5 faces"), ([0, 4, 4, 9, 10], "each once"),
                         ([0, 4, 7, 9, 11], "0-10")):
        with pytest.raises(FacesError, match=message):
            face_mapping(bad)
