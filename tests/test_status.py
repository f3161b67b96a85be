"""`palaute status`: the technician's one screen reads the real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from palaute.cli import main
from survey.config import DeviceIdentity
from survey.definition import shipped_survey_path
from survey.store import Store
from sync.agent import META_LAST_SYNC


def test_status_shows_queue_last_sync_and_sms(tmp_path: Path, origin: DeviceIdentity,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "device.toml"
    config.write_text(
        f'[device]\nid = "{origin.id}"\nsite = "{origin.site}"\narea = "{origin.area}"\n'
        f'unit = "{origin.unit}"\nstore = "{tmp_path / "store.sqlite"}"\n'
        f'[survey]\nfile = "{shipped_survey_path("national")}"\n'
        '[sms]\nmodems = ["loop://"]\nhash_key = "0123456789abcdef0123"\n'
    )
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with Store(tmp_path / "store.sqlite") as store:
        for score in (9, 10, 3):
            rid = store.start_response(origin, channel="kiosk", survey="national",
                                       survey_version=1, lang="fi", started_at=now)
            store.set_answer(rid, "nps", value=score, at=now)
            store.finalise(rid, "complete", now)
        store.mark_synced([r.id for r in store.unsynced()][:1], "b1", now)
        store.set_meta(META_LAST_SYNC, "2026-11-02T09:00:05+00:00")
    assert main(["status", "--config", str(config)]) == 0
    screen = capsys.readouterr().out
    assert "complete 3" in screen and "waiting 2" in screen and "synced 1" in screen
    assert "last sync 2026-11-02T09:00:05+00:00" in screen
    assert "sms      invited 0" in screen
    assert main(["status", "--config", str(config), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["responses"]["unsynced"] == 2 and info["roles"] == ["sms"]
    assert info["survey"].startswith("national v")


def test_status_without_config_is_one_clear_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--config", str(tmp_path / "missing.toml")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "config file not found" in err[0]


def test_status_refuses_what_the_service_refuses(tmp_path: Path, origin: DeviceIdentity,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "device.toml"
    config.write_text(
        f'[device]\nid = "{origin.id}"\nsite = "{origin.site}"\narea = "{origin.area}"\n'
        f'unit = "{origin.unit}"\nstore = "{tmp_path / "store.sqlite"}"\n'
        f'[survey]\nfile = "{shipped_survey_path("national")}"\n'
        '[sms]\nmodems = ["loop://"]\nhash_key = "short"\n'
    )
    assert main(["sms", "status", "--config", str(config)]) == 1
    service = capsys.readouterr().err
    assert main(["status", "--json", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == service and err.count("\n") == 1
    assert f"{config}:11: [sms] hash_key: the key must have at least 16 bytes" in err
