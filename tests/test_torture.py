"""The torture run's audit: what a device holds final and the central does not (lost), one
answer stored twice (duplicated), and a damaged file, each counted from real stores."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from central.store import open_central
from palaute.torture import audit
from survey.config import DeviceIdentity
from survey.response import Channel, Status
from survey.store import Store


def _device(path: Path, origin: DeviceIdentity, now: datetime, n: int) -> list[str]:
    ids = []
    with Store(path) as store:
        for i in range(n):
            rid = store.start_response(origin, channel=Channel.KIOSK, survey="national",
                                       survey_version=1, lang="fi", started_at=now)
            store.set_answer(rid, "nps", value=i % 11, at=now)
            store.finalise(rid, Status.COMPLETE, now)
            ids.append(rid)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ids


def _deliver(central: Path, device: Path, skip: int = 0) -> None:
    with Store(device) as store:
        responses = store.unsynced(limit=1000)[skip:]
    with open_central(f"sqlite:///{central}") as db:
        db.insert_responses(responses)


def test_everything_delivered_is_ok(tmp_path: Path, origin: DeviceIdentity,
                                    now: datetime) -> None:
    _device(tmp_path / "d.sqlite", origin, now, 5)
    _deliver(tmp_path / "c.sqlite", tmp_path / "d.sqlite")
    result = audit({"d": tmp_path / "d.sqlite"}, tmp_path / "c.sqlite")
    assert result.ok and (result.device_final, result.central_responses) == (5, 5)


def test_a_response_the_central_lacks_is_lost(tmp_path: Path, origin: DeviceIdentity,
                                              now: datetime) -> None:
    ids = _device(tmp_path / "d.sqlite", origin, now, 5)
    _deliver(tmp_path / "c.sqlite", tmp_path / "d.sqlite", skip=2)
    with Store(tmp_path / "d.sqlite") as store:  # as if acked: the worst kind of loss
        store.mark_synced(ids[:1], "b1", now)
    result = audit({"d": tmp_path / "d.sqlite"}, tmp_path / "c.sqlite")
    assert (result.lost, result.duplicated, result.ok) == (2, 0, False)
    assert any("marked synced but not at the central" in d for d in result.details)


def test_one_sequence_number_stored_twice_is_duplicated(tmp_path: Path, origin: DeviceIdentity,
                                                        now: datetime) -> None:
    _device(tmp_path / "d.sqlite", origin, now, 3)
    _deliver(tmp_path / "c.sqlite", tmp_path / "d.sqlite")
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        row = db.execute("SELECT id FROM responses WHERE seq = 2")[0][0]
        db.execute("INSERT INTO responses SELECT 'f' || substr(id, 2), device, site, area, "
                   "unit, channel, survey, survey_version, lang, started_at, finished_at, "
                   "local_date, status, seq, nps, has_text, flags, answers, received_at "
                   "FROM responses WHERE id = ?", [row])
    result = audit({"d": tmp_path / "d.sqlite"}, tmp_path / "c.sqlite")
    assert (result.lost, result.duplicated) == (0, 1)


def test_a_damaged_store_counts_as_an_integrity_error(tmp_path: Path, origin: DeviceIdentity,
                                                      now: datetime) -> None:
    path = tmp_path / "d.sqlite"
    _device(path, origin, now, 200)
    _deliver(tmp_path / "c.sqlite", path)
    data = bytearray(path.read_bytes())
    # Scribble over the middle of the file (an index page): SQLite's own check notices.
    for i in range(len(data) // 2, len(data) // 2 + 2000):
        data[i] = 0x55
    path.write_bytes(bytes(data))
    result = audit({"d": path}, tmp_path / "c.sqlite")
    assert result.integrity_errors > 0 and not result.ok
