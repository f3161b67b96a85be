"""`palaute central report` as a person runs it: options, config, monthly files, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from report_data import insert, response
from services import free_port

from central.store import open_central
from palaute.cli import main


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A store with two units in March 2025 and one in February."""
    u = f"sqlite:///{tmp_path / 'central.sqlite'}"
    march = datetime(2025, 3, 12, 9, tzinfo=UTC)
    with open_central(u) as db:
        insert(db, [response(march + timedelta(minutes=i), 10 - i % 3, unit="ensiapu",
                             text="Hyvä palvelu" if i == 0 else None) for i in range(8)])
        insert(db, [response(march + timedelta(minutes=i), 9, unit="lasten/päivystys",
                             device="lobby-9", text="Lasten oma") for i in range(6)])
        insert(db, [response(march - timedelta(days=30), 2, unit="vanha") for _ in range(5)])
    return u


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    # In English unless a test says otherwise (the default, Finnish, has tests of its own).
    lang = [] if "--lang" in args or "--config" in args else ["--lang", "en"]
    code = main(["central", "report", *lang, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_to_stdout_by_unit(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", url, "--from", "2025-03-01", "--to", "2025-03-31",
                         "--by", "unit", "--now", "2025-04-02")
    assert code == 0 and err == ""
    nps_section = out.split("\n\nNPS\n", 1)[1].split("\n\n", 1)[0]
    rows = {ln.split()[0]: ln.split() for ln in nps_section.splitlines()}
    # ensiapu: 10, 9, 8, 10, 9, 8, 10, 9 -> promoters 6 of 8, no detractors -> 75.0
    assert rows["ensiapu"][1] == "8" and rows["ensiapu"][-1] == "75.0"
    assert rows["lasten/päivystys"][-1] == "100.0"
    assert "vanha" not in rows  # February is outside the period


def test_config_names_the_database(url: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "central.toml"
    cfg.write_text(f'[central]\ndb = "{url}"\nreport_silent_hours = 1\n[report]\nlang = "en"\n',
                   "utf-8")
    out = tmp_path / "r.csv"
    code, _, err = run(capsys, "--config", str(cfg), "--from", "2025-03-01", "--to",
                       "2025-03-31", "--format", "csv", "--out", str(out), "--now",
                       "2025-04-02")
    assert code == 0 and err == ""
    text = out.read_text("utf-8")
    assert text.startswith("# NPS\narea,n,0,")
    assert "silent for" in text  # the config's 1-hour limit made every device silent


def test_relative_db_is_taken_from_the_configs_folder(url: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # As `central serve` reads it: sqlite:///central.sqlite beside central.toml, whatever
    # folder the report is run from.
    cfg = tmp_path / "central.toml"
    cfg.write_text('[central]\ndb = "sqlite:///central.sqlite"\n', "utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run(capsys, "--config", str(cfg), "--from", "2025-03-01", "--to",
                         "2025-03-31", "--by", "unit", "--now", "2025-04-02")
    assert code == 0 and err == "" and "ensiapu" in out
    assert list(elsewhere.iterdir()) == []


def test_monthly_writes_one_html_per_unit_for_the_last_full_month(
        url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "monthly"
    code, out, err = run(capsys, "--db", url, "--monthly", "--out", str(folder),
                         "--now", "2025-04-15")
    assert code == 0 and err == ""
    names = sorted(p.name for p in folder.iterdir())
    # Every unit the central knows, also `vanha`, whose answers are from February only.
    assert names == ["ensiapu-2025-03.html", "lasten_päivystys-2025-03.html",
                     "vanha-2025-03.html"]
    assert sorted(out.split()) == sorted(str(folder / n) for n in names)
    page = (folder / "ensiapu-2025-03.html").read_text("utf-8")
    assert "Feedback report: ensiapu, sairaalapalvelut, tays, 1 Mar 2025 – 31 Mar 2025" in page
    assert "Hyvä palvelu" in page and "Lasten oma" not in page  # only its own unit
    assert "Mar 2024" in page and "Feb 2024" not in page  # 13 months of trend
    assert "No answers in this period." in (folder / "vanha-2025-03.html").read_text("utf-8")


def test_monthly_without_answers_still_writes_every_unit_a_page(
        url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A scheduled run in a quiet month succeeds: every unit gets a page saying so.
    folder = tmp_path / "m"
    code, out, err = run(capsys, "--db", url, "--monthly", "--out", str(folder),
                         "--now", "2025-08-15", "--lang", "fi")
    assert code == 0 and err == ""
    assert len(out.split()) == 3
    page = (folder / "ensiapu-2025-07.html").read_text("utf-8")
    assert "Tältä jaksolta ei ole vastauksia." in page and '<html lang="fi">' in page


@pytest.mark.parametrize(("args", "message"), [
    (["--by", "ward"], "unknown group key 'ward' for --by"),
    (["--format", "docx"], "unknown format 'docx'"),
    (["--format", "pdf"], "--format pdf writes a file: give --out FILE.pdf"),
    (["--from", "2025-03-31", "--to", "2025-03-01"], "the period runs backwards"),
    (["--from", "2024-01-01", "--to", "2024-01-31"],
     "no responses between 2024-01-01 and 2024-01-31"),
    (["--from", "1.3.2025"], "--from '1.3.2025' is not a date (YYYY-MM-DD)"),
    (["--now", "yesterday"], "--now 'yesterday' is not an ISO date or time"),
])
def test_bad_input_is_one_clear_line(url: str, args: list[str], message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", url, "--now", "2025-04-02", *args)
    assert code == 1 and out == ""
    assert err.startswith("palaute: error: ") and err.count("\n") == 1
    assert message in err


def test_unreachable_databases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.sqlite"
    code, _, err = run(capsys, "--db", f"sqlite:///{missing}")
    assert code == 1 and err == f"palaute: error: no central database at {missing}\n"
    assert not missing.exists()  # a report never creates a store
    port = free_port()
    code, _, err = run(capsys, "--db", f"postgresql://nobody:secret@127.0.0.1:{port}/x")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("palaute: error: cannot connect to PostgreSQL")
    assert "secret" not in err
    code, _, err = run(capsys)
    assert err == "palaute: error: no database: give --db URL or --config FILE with " \
                  "[central] db\n"


def test_first_report_installs_aggregates_that_later_inserts_keep_current(
        url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from central import report_daily

    args = ["--db", url, "--from", "2025-03-01", "--to", "2025-03-31", "--format", "csv",
            "--now", "2025-04-02"]
    assert run(capsys, *args)[0] == 0
    with open_central(url) as db:
        assert report_daily.installed(db)
        insert(db, [response(datetime(2025, 3, 20, 9, tzinfo=UTC), 0, unit="uusi")
                    for _ in range(5)])
    code, out, _ = run(capsys, *args)
    assert code == 0
    total = next(ln for ln in out.splitlines() if ln.startswith("total,"))
    assert total.split(",")[1:3] == ["19", "5"]  # 8 + 6 + 5 new answers, five of them 0
