from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from survey.config import DeviceIdentity
from survey.errors import StoreError
from survey.response import Answer, Channel, Status, encode_response
from survey.store import SCHEMA_VERSION, Store


def _answer(store: Store, origin: DeviceIdentity, now: datetime, score: int) -> str:
    rid = store.start_response(origin, channel="kiosk", survey="national", survey_version=3,
                               lang="fi", started_at=now)
    store.set_answer(rid, "nps", value=score, at=now)
    return rid


def test_pragmas_wal_full_and_schema_version(store: Store) -> None:
    c = store.conn
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.schema_version == SCHEMA_VERSION


def test_response_written_at_first_answer_and_final_with_seq(
    store: Store, origin: DeviceIdentity, now: datetime
) -> None:
    rid = _answer(store, origin, now, 9)
    row = store.get(rid)
    assert row is not None and row.status is Status.OPEN and row.seq is None
    assert row.answers == {"nps": Answer(value=9)} and row.finished_at is None
    assert store.unsynced() == []  # only final responses sync
    store.set_answer(rid, "open", text="Ystävällinen hoitaja", at=now)
    store.add_flags(rid, "repeat_press")
    seq = store.finalise(rid, Status.COMPLETE, now + timedelta(seconds=38))
    final = store.unsynced()
    assert [r.id for r in final] == [rid] and final[0].status is Status.COMPLETE
    assert final[0].channel is Channel.KIOSK and final[0].flags == {"repeat_press"}
    w = encode_response(final[0])  # the wire form (DESIGN.md)
    assert w["seq"] == seq == 1
    assert w["answers"] == {"nps": {"value": 9}, "open": {"text": "Ystävällinen hoitaja"}}
    assert w["flags"] == ["repeat_press"]
    assert w["started_at"] == "2025-03-04T08:15:02+00:00"
    assert (w["device"], w["site"], w["area"], w["unit"]) == (
        "tays-lobby-3", "tays", "sairaalapalvelut", "ensiapu")
    with pytest.raises(StoreError):
        store.set_answer(rid, "nps", value=3, at=now)  # final responses do not change


def test_sequence_is_monotonic_in_finalise_order(
    store: Store, origin: DeviceIdentity, now: datetime
) -> None:
    a = _answer(store, origin, now, 1)
    b = _answer(store, origin, now, 2)
    store.finalise(b, "abandoned", now)
    store.finalise(a, "complete", now)
    assert [(r.id, r.seq) for r in store.unsynced()] == [(b, 1), (a, 2)]


def test_mark_synced_by_batch(store: Store, origin: DeviceIdentity, now: datetime) -> None:
    ids = [_answer(store, origin, now, i) for i in range(5)]
    for rid in ids:
        store.finalise(rid, "complete", now)
    assert store.queue_depth() == 5
    assert store.mark_synced(ids[:3], "batch-1", now) == 3
    assert store.mark_synced(ids[:3], "batch-1", now) == 0  # an ack seen twice changes nothing
    assert [r.id for r in store.unsynced()] == ids[3:]
    assert store.counts()["synced"] == 3 and store.queue_depth() == 2


def test_corrupt_file_is_a_clear_error_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="damaged"):
        Store(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_store_is_a_clear_error(tmp_path: Path, origin: DeviceIdentity,
                                          now: datetime) -> None:
    path = tmp_path / "s.sqlite"
    Store(path).close()
    for p in tmp_path.iterdir():
        p.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="read-only"):
            s = Store(path)
            _answer(s, origin, now, 5)
    finally:
        tmp_path.chmod(0o755)


def test_read_only_connection_is_a_clear_error(tmp_path: Path, origin: DeviceIdentity,
                                               now: datetime) -> None:
    # Works as root too: the file is opened through a read-only URI.
    path = tmp_path / "s.sqlite"
    Store(path).close()
    store = Store(path)
    store.conn.close()
    store.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    with pytest.raises(StoreError, match="read-only"):
        _answer(store, origin, now, 5)


def _read_lines(fd: int, count: int) -> bytes:
    """Read from `fd` until `count` full lines arrived (blocking) or the writer is gone."""
    data = b""
    while data.count(b"\n") < count:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data


def _writer(path: Path, fd: int, origin: DeviceIdentity, now: datetime) -> None:
    store = Store(path)
    i = 0
    while True:
        rid = _answer(store, origin, now, i % 11)
        store.finalise(rid, "complete", now)
        os.write(fd, (rid + "\n").encode())  # reported only after the commit returned
        i += 1


def test_sigkill_at_random_moments_loses_nothing_committed(
    tmp_path: Path, origin: DeviceIdentity, now: datetime
) -> None:
    path = tmp_path / "store.sqlite"
    Store(path).close()
    rng = random.Random(2025)
    reported: list[str] = []
    awaited = 0
    for _ in range(200):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: write until killed
            os.close(r)
            try:
                _writer(path, w, origin, now)
            finally:
                os._exit(1)
        os.close(w)
        # Kill at a random moment after a random number (0-2) of reported commits, so the
        # kills land before the first commit, between commits and mid-write whatever the
        # machine's speed: the count of commits does not depend on how fast it runs.
        wait_for = rng.randint(0, 2)
        awaited += wait_for
        data = _read_lines(r, wait_for)
        select.select([], [], [], rng.uniform(0.0, 0.01))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        reported += [line for line in data.decode().splitlines() if len(line) == 36]
    with Store(path) as store:
        assert store.integrity_check() == "ok"
        present = {row[0] for row in store.conn.execute(
            "SELECT id FROM responses WHERE status = 'complete'")}
        assert len(reported) >= awaited > 100
        assert set(reported) <= present
        seqs = [row[0] for row in store.conn.execute("SELECT seq FROM responses WHERE seq "
                                                     "IS NOT NULL ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1))  # no gap, no repeat


def test_what_the_central_would_refuse_is_refused_before_it_is_written(
    store: Store, origin: DeviceIdentity, now: datetime
) -> None:
    rid = _answer(store, origin, now, 9)
    with pytest.raises(ValueError, match=r"answers\.nps\.value: must be an integer from 0 to 10"):
        store.set_answer(rid, "nps", value=11, at=now)
    with pytest.raises(ValueError, match=r"answers\.s1\.value"):
        store.set_answer(rid, "s1", value=-1, at=now)
    with pytest.raises(ValueError, match="not a flag name"):
        store.add_flags(rid, "Repeat Press")
    with pytest.raises(ValueError, match="not a flag name"):
        store.start_response(origin, channel=Channel.SMS, survey="national", survey_version=3,
                             lang="fi", started_at=now, flags=["x" * 65])
    with pytest.raises(ValueError, match="fax"):
        store.start_response(origin, channel="fax", survey="national",  # type: ignore[arg-type]
                             survey_version=3, lang="fi", started_at=now)
    resp = store.get(rid)
    assert resp is not None and resp.answers == {"nps": Answer(value=9)} and not resp.flags
    assert [r.id for r in store.open_responses()] == [rid]  # nothing half-written


def test_a_group_commits_its_writes_at_once_or_none_of_them(
        store: Store, origin: DeviceIdentity, now: datetime) -> None:
    rid = store.start_response(origin, channel=Channel.SMS, survey="national", survey_version=1,
                               lang="fi", started_at=now)
    other = sqlite3.connect(store.path)
    try:
        with store.group():
            store.set_answer(rid, "nps", value=9, at=now)
            assert store.get(rid) is not None  # reads inside see the group's own writes
            # Another connection sees nothing of it before the group commits.
            assert other.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 0
        assert other.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 1
        with pytest.raises(RuntimeError), store.group():
            store.set_answer(rid, "s1", value=4, at=now)
            store.finalise(rid, Status.COMPLETE, now)
            raise RuntimeError("the second write of the event failed")
    finally:
        other.close()
    resp = store.get(rid)
    assert resp is not None and resp.status is Status.OPEN and set(resp.answers) == {"nps"}


def test_a_group_inside_a_group_takes_back_only_its_own_writes(
        store: Store, origin: DeviceIdentity, now: datetime) -> None:
    with store.group():
        rid = store.start_response(origin, channel=Channel.SMS, survey="national",
                                   survey_version=1, lang="fi", started_at=now)
        with pytest.raises(RuntimeError), store.group():
            store.set_answer(rid, "nps", value=9, at=now)
            raise RuntimeError("this event's processing failed")
        store.set_answer(rid, "s1", value=4, at=now)
    resp = store.get(rid)
    assert resp is not None and set(resp.answers) == {"s1"}
