"""The receiver's handling of each message: store, quarantine, ack (no broker needed)."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire_helpers import raw_batch

from central.receiver import Receiver, ReceiverStats, handle_message
from central.store import CentralStore, CentralStoreDataError, open_central
from palaute.cli import main
from survey.response import Response
from sync import protocol
from sync.mqtt import MqttSettings
from sync.protocol import Topic

NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
TOPIC = "palaute/v1/tays/tays-lobby-3/responses"


def wire(**over: Any) -> dict[str, Any]:
    resp: dict[str, Any] = {
        "id": str(uuid.uuid4()), "device": "tays-lobby-3", "site": "tays",
        "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "sms",
        "survey": "national", "survey_version": 3, "lang": "sv",
        "started_at": "2025-03-04T10:15:02+02:00", "finished_at": "2025-03-04T10:15:40+02:00",
        "status": "expired", "seq": 7, "answers": {"nps": {"value": 3}}, "flags": [],
    }
    resp.update(over)
    return resp


def batch(rs: list[Any], **over: Any) -> tuple[str, bytes]:
    bid = str(uuid.uuid4())
    body = raw_batch(bid, "tays-lobby-3", NOW, rs)
    body.update(over)
    return bid, protocol.encode(body)


@pytest.fixture
def db(tmp_path: Path) -> Any:
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as store:
        yield store


def test_batch_is_stored_and_acked(db: CentralStore) -> None:
    rs = [wire(), wire()]
    bid, payload = batch(rs)
    out = handle_message(db, TOPIC, payload, NOW)
    assert out is not None and out.topic == "palaute/v1/tays/tays-lobby-3/ack"
    ack = protocol.parse_ack(out.payload)
    assert ack.batch == bid and set(ack.accepted) == {r["id"] for r in rs} and not ack.rejected
    assert db.response_ids() == {r["id"] for r in rs}
    # The same batch again: the same ack, nothing new stored.
    stats = ReceiverStats()
    again = handle_message(db, TOPIC, payload, NOW, stats)
    assert again is not None and protocol.parse_ack(again.payload) == ack
    assert stats.stored == 0 and db.count_responses() == 2


def test_bad_response_rejected_rest_kept_and_payload_quarantined(db: CentralStore) -> None:
    good, bad = wire(), wire(channel="fax")
    _, payload = batch([good, bad])
    out = handle_message(db, TOPIC, payload, NOW)
    assert out is not None
    ack = protocol.parse_ack(out.payload)
    assert ack.accepted == (good["id"],)
    assert ack.rejected[0][0] == bad["id"] and "channel" in ack.rejected[0][1]
    assert db.response_ids() == {good["id"]}
    [(topic, reason, raw)] = db.quarantined()
    assert topic == TOPIC and bad["id"] in reason and raw == payload


def test_batch_of_another_device_is_refused_whole(db: CentralStore) -> None:
    r = wire(device="oys-lobby-1")
    bid, payload = batch([r], device="oys-lobby-1")
    out = handle_message(db, TOPIC, payload, NOW)
    assert out is not None
    ack = protocol.parse_ack(out.payload)
    assert ack.batch == bid and ack.accepted == () and ack.error is not None
    assert "differs from the topic" in ack.error
    assert db.count_responses() == 0 and len(db.quarantined()) == 1


def test_unreadable_payload_is_quarantined_without_ack(db: CentralStore) -> None:
    assert handle_message(db, TOPIC, b"\x1f\x8b\x00\x01broken", NOW) is None
    assert handle_message(db, "palaute/v1/x/y/z", b"{}", NOW) is None
    reasons = [r for _, r, _ in db.quarantined()]
    assert "gzip" in reasons[0] and "unknown topic kind" in reasons[1]


def test_status_is_recorded_per_device(db: CentralStore) -> None:
    status = {"v": 1, "device": "tays-lobby-3", "site": "tays", "state": "online",
              "queue_depth": 4}
    topic = "palaute/v1/tays/tays-lobby-3/status"
    assert handle_message(db, topic, json.dumps(status).encode(), NOW) is None
    handle_message(db, topic, gzip.compress(b'{"state": "sleepy"}'), NOW)
    assert db.device_statuses() == {"tays-lobby-3": status}
    assert "state" in db.quarantined()[0][1]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(
    st.binary(max_size=300),
    st.builds(lambda b: gzip.compress(b), st.binary(max_size=200)),
    st.builds(lambda r: batch([r])[1], st.builds(wire, started_at=st.text(max_size=30),
                                                 area=st.text(max_size=4))),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=4)
                 | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                 max_leaves=20).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({
        "v": st.sampled_from([1, 1, 2, "1", None]),
        "batch": st.one_of(st.just(str(uuid.uuid4())), st.text(max_size=10)),
        "device": st.sampled_from(["tays-lobby-3", "x", ""]),
        "responses": st.lists(st.one_of(
            st.builds(wire), st.dictionaries(st.sampled_from(list(wire())), st.integers()),
            st.builds(lambda k, v: {**wire(), k: v}, st.sampled_from(list(wire())),
                      st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(
                          st.integers(), max_size=2), st.dictionaries(
                          st.text(max_size=3), st.integers(), max_size=2)))),
            max_size=5),
    }).map(lambda d: json.dumps(d).encode()),
), topic=st.sampled_from([TOPIC, "palaute/v1/tays/tays-lobby-3/status", "a/b", "palaute/v1/+"]))
def test_no_payload_crashes_the_receiver(central_url: str, payload: bytes, topic: str) -> None:
    store = _fuzz_store(central_url)
    before = store.count_responses()
    out = handle_message(store, topic, payload, NOW)
    if out is not None:
        ack = protocol.parse_ack(out.payload)
        assert Topic.parse(out.topic).kind == "ack"
        stored = store.response_ids()
        assert set(ack.accepted) <= stored
        assert store.count_responses() >= before


_FUZZ: dict[str, CentralStore] = {}


def _fuzz_store(url: str) -> CentralStore:
    # One store for all examples of a run (hypothesis calls the test many times).
    if url not in _FUZZ:
        _FUZZ[url] = open_central(url)
    return _FUZZ[url]


def teardown_module() -> None:
    for store in _FUZZ.values():
        store.close()
    _FUZZ.clear()


def test_serve_refuses_plain_mqtt_off_loopback(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "central.toml"
    cfg.write_text('[central]\ndb = "sqlite:///c.sqlite"\n[mqtt]\nurl = "mqtt://broker.example:1883"\n')
    assert main(["central", "serve", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("palaute: error: ") and "[mqtt] url: " in err and "loopback" in err


class RefusingStore:
    """A store that refuses one response id as bad data (as PostgreSQL might)."""

    def __init__(self, inner: CentralStore, refused: str) -> None:
        self.inner, self.refused = inner, refused

    def insert_responses(self, rs: list[Response], *, received_at: datetime) -> int:
        if any(r.id == self.refused for r in rs):
            raise CentralStoreDataError("value out of range")
        return self.inner.insert_responses(rs, received_at=received_at)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_response_the_database_refuses_is_rejected_not_retried(db: CentralStore) -> None:
    good, odd = wire(), wire()
    _, payload = batch([good, odd])
    out = handle_message(RefusingStore(db, odd["id"]), TOPIC, payload, NOW)  # type: ignore[arg-type]
    assert out is not None
    ack = protocol.parse_ack(out.payload)
    assert ack.accepted == (good["id"],)
    assert ack.rejected == ((odd["id"], "cannot be stored: value out of range"),)
    assert db.response_ids() == {good["id"]} and len(db.quarantined()) == 1


def test_rejected_id_with_nul_or_surrogate_is_quarantined_and_acked(central_url: str) -> None:
    good = wire()
    nul = wire(id="bad\x00id")
    lone = wire(id="bad\ud800id")
    bid = str(uuid.uuid4())
    body = raw_batch(bid, "tays-lobby-3", NOW, [good, nul, lone])
    payload = json.dumps(body).encode("ascii")  # \u escapes, as any JSON encoder may send
    with open_central(central_url) as db:
        out = handle_message(db, TOPIC, payload, NOW)
        assert out is not None
        ack = protocol.parse_ack(out.payload)
        assert ack.batch == bid and ack.accepted == (good["id"],)
        assert len(ack.rejected) == 2
        assert db.response_ids() == {good["id"]}
        [(topic, reason, kept)] = db.quarantined()
        assert topic == TOPIC and "NUL" in reason and kept == payload


class _NoPublish:
    def publish(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("nothing should be acked")


def test_non_utf8_topic_is_quarantined_without_raising(tmp_path: Path) -> None:
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        rx = Receiver(db, MqttSettings(host="127.0.0.1", port=1, tls=False))
        msg = mqtt.MQTTMessage(topic=b"palaute/v1/t\xffys/dev/responses")
        msg.payload = b'{"v":1}'
        # An exception here would propagate out of paho's loop and stop the network thread.
        rx._on_message(_NoPublish(), None, msg)  # type: ignore[arg-type]
        [(topic, reason, kept)] = db.quarantined()
        assert "UTF-8" in reason and topic.startswith("palaute/v1/t") and kept == b'{"v":1}'


def test_status_with_nul_or_surrogate_is_quarantined(central_url: str) -> None:
    # SQLite's driver raised UnicodeEncodeError, PostgreSQL refused \u0000 in JSONB: the
    # status was neither recorded nor kept.
    topic = "palaute/v1/tays/tays-lobby-3/status"
    with open_central(central_url) as db:
        for bad in ("modem\u0000", "sig\ud800"):
            payload = json.dumps({"v": 1, "device": "tays-lobby-3", "site": "tays",
                                  "state": "online", "modem": bad}).encode("ascii")
            assert handle_message(db, topic, payload, NOW) is None
        kept = db.quarantined()
        assert [p for _, _, p in kept] == [
            json.dumps({"v": 1, "device": "tays-lobby-3", "site": "tays", "state": "online",
                        "modem": bad}).encode("ascii") for bad in ("modem\u0000", "sig\ud800")]
        assert all("NUL" in reason for _, reason, _ in kept)
        assert db.device_statuses() == {}
