"""The quarantine is bounded per device and day: junk cannot fill the central's disk.

A thief with one device's broker account floods its own responses topic with junk.
The central keeps what that device sent up to `quarantine_bytes_per_day`, only
counts the rest, raises an alarm (the receiver's status line, the report's
anomalies), and goes on storing every other device's answers.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from services import AgentThread, ReceiverThread, add_final_responses, device_ids, wait_until
from test_broker_acl import broker_home  # noqa: F401  (a fixture)
from test_broker_identity import Fleet, fleet, peer  # noqa: F401  (fixtures)

from central.receiver import ReceiverStats, handle_message, status_line
from central.store import open_central
from palaute.cli import main
from survey.config import DeviceIdentity
from survey.store import Store

NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
TOPIC = "palaute/v1/tays/tays-lobby-3/responses"


def test_each_device_keeps_at_most_its_daily_budget(central_url: str) -> None:
    stats = ReceiverStats()
    with open_central(central_url) as db:
        junk = b"x" * 400
        for _ in range(3):
            handle_message(db, TOPIC, junk, NOW, stats, quarantine_limit=1000)
        # Another device has its own budget; the same device again the next day too.
        handle_message(db, "palaute/v1/oys/oys-sms-1/responses", junk, NOW, stats,
                       quarantine_limit=1000)
        handle_message(db, TOPIC, junk, NOW + timedelta(days=1), stats, quarantine_limit=1000)
        assert len(db.quarantined()) == 4
        assert (stats.quarantined, stats.quarantine_dropped) == (4, 1)
        [over] = db.quarantine_overflows(NOW.date(), NOW.date() + timedelta(days=1))
        assert (over.device, over.day, over.stored, over.dropped) == ("tays-lobby-3",
                                                                      NOW.date(), 2, 1)
        assert over.dropped_bytes > 400
    assert "ALARM quarantine full for 1 device(s)" in status_line(stats)


def _db_bytes(path: Path) -> int:
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def test_a_junk_flood_stays_bounded_and_other_sites_are_still_stored(
        fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    db_path = tmp_path / "central.sqlite"
    url = f"sqlite:///{db_path}"
    limit = 256 * 1024
    device = tmp_path / "oys"
    device.mkdir()
    origin = DeviceIdentity("oys-sms-1", "oys", "sairaalapalvelut", "ensiapu")
    with Store(device / "store.sqlite") as s:
        add_final_responses(s, origin, 60, finished=datetime.now(UTC) - timedelta(hours=1))
    cfg = device / "device.toml"
    cfg.write_text(
        '[device]\nid = "oys-sms-1"\nsite = "oys"\narea = "sairaalapalvelut"\n'
        'unit = "ensiapu"\nstore = "store.sqlite"\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{fleet.port}"\nusername = "oys-sms-1"\n'
        f'password_file = "{fleet.out / "passwords" / "oys-sms-1.pass"}"\n'
        "[sync]\nack_timeout = 1.0\nbackoff_max = 2.0\npoll_interval = 0.05\n"
        "batch_max_count = 10\n")
    thief = peer(fleet, "tays-lobby-3", "tays-lobby-3")
    with ReceiverThread(url, fleet.port, username="central", password=fleet.password("central"),
                        client_id="central", quarantine_limit=limit) as rt:
        before = _db_bytes(db_path)
        with AgentThread(cfg) as agent:
            junk = b"\x00junk" * 4000  # 20 kB a message, 30 MB in all
            infos = [thief.client.publish(TOPIC, junk, qos=1) for _ in range(1500)]
            for info in infos:
                info.wait_for_publish(30)
            wait_until(lambda: rt.receiver.stats.batches >= 1500, 120,
                       message="the receiver handled the flood")
            wait_until(lambda: agent.agent.store.queue_depth() == 0, 60,
                       message="the other site's answers delivered")
        stats = rt.receiver.stats
        assert stats.quarantined + stats.quarantine_dropped == 1500
        assert stats.quarantined <= limit // len(junk)
        assert "ALARM quarantine full for 1 device(s)" in status_line(stats)
    thief.close()
    growth = _db_bytes(db_path) - before
    assert growth < 2 * limit, f"the database grew by {growth} bytes"
    with open_central(url) as db:
        assert db.response_ids() == device_ids(device / "store.sqlite")
    capsys.readouterr()
    assert main(["central", "report", "--db", url, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [alarm] = [a for a in report["anomalies"] if a["kind"] == "quarantine_full"]
    assert alarm["subject"] == "device tays-lobby-3"
    assert alarm["evidence"]["dropped"] == stats.quarantine_dropped
