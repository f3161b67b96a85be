"""`palaute central import FILE.jsonl`: idempotent, line-numbered errors, good lines kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from central.importer import import_jsonl
from central.store import open_central
from palaute.cli import main

NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def wire(i: int, **over: Any) -> dict[str, Any]:
    resp: dict[str, Any] = {
        "id": str(uuid.uuid4()), "device": "legacy-1", "site": "oys",
        "area": "perhepalvelut", "unit": "neuvola", "channel": "kiosk",
        "survey": "national", "survey_version": 1, "lang": "fi",
        "started_at": "2023-11-02T09:00:00+02:00", "finished_at": "2023-11-02T09:01:00+02:00",
        "status": "complete", "seq": i + 1, "answers": {"nps": {"value": i % 11}}, "flags": [],
    }
    resp.update(over)
    return resp


def write_lines(path: Path, items: list[Any]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for item in items:
            f.write((item if isinstance(item, str) else json.dumps(item, ensure_ascii=False))
                    + "\n")


def test_import_cli_keeps_good_lines_and_reports_bad_ones(
        tmp_path: Path, central_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    good = [wire(i) for i in range(2500)]
    bad_status = wire(1, status="open")
    lines: list[Any] = [*good[:1000], "{not json", bad_status, "", *good[1000:], "[1, 2]"]
    path = tmp_path / "history.jsonl"
    write_lines(path, lines)
    assert main(["central", "import", str(path), "--db", central_url]) == 1
    out, err = capsys.readouterr()
    assert f"{path}:1001: not JSON" in err
    assert f"{path}:1002: status: must be one of" in err
    assert f"{path}:2504: response must be an object" in err
    assert "2503 lines: 2500 new, 0 already there, 3 bad" in out
    with open_central(central_url) as db:
        assert db.response_ids() == {r["id"] for r in good}
    # Importing again adds nothing.
    assert main(["central", "import", str(path), "--db", central_url]) == 1
    assert "2500 already there" in capsys.readouterr().out
    with open_central(central_url) as db:
        assert db.count_responses() == 2500


def test_import_reads_db_from_central_config(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.jsonl"
    rows = [wire(1), wire(2)]
    write_lines(path, [*rows, rows[0]])
    cfg = tmp_path / "central.toml"
    cfg.write_text('[central]\ndb = "sqlite:///data/central.sqlite"\n')
    assert main(["central", "import", str(path), "--config", str(cfg)]) == 0
    assert "3 lines: 2 new, 1 already there, 0 bad" in capsys.readouterr().out
    with open_central(f"sqlite:///{tmp_path / 'data' / 'central.sqlite'}") as db:
        assert db.response_ids() == {r["id"] for r in rows}


def test_import_without_database_or_file_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["central", "import", str(tmp_path / "x.jsonl")]) == 1
    assert "--db URL or --config FILE" in capsys.readouterr().err
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    assert main(["central", "import", str(tmp_path / "missing.jsonl"), "--db", url]) == 1
    assert "missing.jsonl: cannot read" in capsys.readouterr().err


def test_progress_bar_goes_to_stderr_when_asked(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.jsonl"
    write_lines(path, [wire(i) for i in range(10)])
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        report = import_jsonl(db, path, progress=True)
    assert report.inserted == 10 and report.errors == []
    captured = capsys.readouterr()
    assert "h.jsonl" in captured.err and "100%" in captured.err and captured.out == ""


def test_import_of_a_file_with_a_byte_order_mark_keeps_its_first_line(tmp_path: Path) -> None:
    # Files saved by Windows tools start with U+FEFF; json.loads refused line 1 as "not JSON".
    first, second = wire(0), wire(1)
    path = tmp_path / "history.jsonl"
    path.write_text("\ufeff" + json.dumps(first) + "\n" + json.dumps(second) + "\n",
                    encoding="utf-8")
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        report = import_jsonl(db, path, progress=False, now=NOW)
        assert report.errors == [] and report.inserted == 2
        assert db.response_ids() == {first["id"], second["id"]}
