"""Review findings on the sync agent and the central receiver, each pinned by a test."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from services import (
    AgentThread,
    Mosquitto,
    ReceiverThread,
    add_final_responses,
    central_ids,
    device_ids,
    queue_depth,
    wait_until,
    write_device_config,
)
from wire_helpers import raw_batch

from central.receiver import Receiver, handle_message
from central.store import open_central
from survey.config import DeviceIdentity
from survey.response import Answer
from survey.store import Store
from sync import protocol
from sync.agent import META_CONFIG_VERSION, SyncAgent, SyncSettings
from sync.mqtt import MqttSettings
from sync.protocol import ProtocolError, RemoteConfig, Topic

NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
TOPIC = "palaute/v1/tays/tays-lobby-3/responses"


def wire(**over: Any) -> dict[str, Any]:
    resp: dict[str, Any] = {
        "id": str(uuid.uuid4()), "device": "tays-lobby-3", "site": "tays",
        "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "kiosk",
        "survey": "national", "survey_version": 3, "lang": "fi",
        "started_at": "2025-03-04T10:15:02+02:00", "finished_at": "2025-03-04T10:15:40+02:00",
        "status": "complete", "seq": 7, "answers": {"nps": {"value": 9}}, "flags": [],
    }
    resp.update(over)
    return resp


def make_agent(tmp_path: Path, origin: DeviceIdentity, **settings: Any) -> SyncAgent:
    store = Store(tmp_path / "store.sqlite")
    mqtt_settings = MqttSettings(host="127.0.0.1", port=1, tls=False)
    return SyncAgent(store, origin, mqtt_settings, SyncSettings(**settings),
                     status_extras=[], survey_checker=lambda text, source: [])


# -- remote settings are bounded like [sync] -------------------------------------------------


@pytest.mark.parametrize("settings", [
    {"batch_max_count": protocol.MAX_BATCH_RESPONSES + 1},
    {"batch_max_bytes": 64 * 1024 * 1024},
    {"batch_max_bytes": 10},
])
def test_remote_settings_out_of_range_are_refused(settings: dict[str, int]) -> None:
    # A batch of more than 1000 is refused whole by the central and its ids come back as
    # "rejected", which the device marks synced: those answers never reach the reports.
    payload = protocol.encode(RemoteConfig(4, None, settings).to_dict())
    with pytest.raises(ProtocolError, match=next(iter(settings))):
        protocol.parse_config(payload)


# -- a batch never exceeds what the broker and the central take ----------------------------------


def test_agent_keeps_each_batch_within_the_wire_limit(tmp_path: Path,
                                                      origin: DeviceIdentity) -> None:
    # Gzip off (allowed by [sync]) and batch_max_bytes at its allowed maximum: the JSON of one
    # batch is ~2 MB, over the broker's message_size_limit and the central's MAX_WIRE_BYTES,
    # so it would be dropped or refused without an ack and re-sent for ever.
    agent = make_agent(tmp_path, origin, gzip_min_bytes=1 << 30, max_inflight=16,
                       batch_max_count=1000, batch_max_bytes=protocol.MAX_PAYLOAD_BYTES // 2)
    try:
        ids = add_final_responses(agent.store, origin, 400)
        with agent.store.write() as c:
            c.execute("INSERT INTO answers (response_id, question, value, text, answered_at) "
                      "SELECT id, 'long', NULL, ?, finished_at FROM responses", ("ö" * 2500,))
        agent._fill_outbox(0.0)
        batches = sorted(agent.outbox._batches.values(), key=lambda b: b.last_seq)
        assert batches
        sent: list[str] = []
        for b in batches:
            assert len(b.payload) <= protocol.MAX_WIRE_BYTES
            check = protocol.check_batch(Topic.parse(str(agent._topic)), b.payload)
            assert check.error is None and check.rejected == []
            assert [r.id for r in check.accepted] == list(b.ids)
            sent += b.ids
        assert sent == ids[:len(sent)] and len(sent) >= 300
    finally:
        agent.store.close()


# -- unstorable ids: quarantined with a reason and acked on both stores --------------------------


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


# -- a topic that is not UTF-8 is kept, and paho's thread survives -------------------------------


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


# -- a retained config older than the applied one is not applied ---------------------------------


def test_older_config_does_not_replace_a_newer_one(tmp_path: Path,
                                                    origin: DeviceIdentity) -> None:
    agent = make_agent(tmp_path, origin)
    try:
        agent._handle_config(protocol.encode(
            RemoteConfig(5, None, {"heartbeat_seconds": 120}).to_dict()))
        assert agent.store.get_meta(META_CONFIG_VERSION) == "5"
        agent._handle_config(protocol.encode(
            RemoteConfig(3, None, {"heartbeat_seconds": 7}).to_dict()))
        assert agent.store.get_meta(META_CONFIG_VERSION) == "5"
        assert agent.settings.heartbeat_seconds == 120
    finally:
        agent.store.close()


# -- a device moved to another site still delivers what it holds ---------------------------------


def test_responses_answered_before_a_site_change_are_accepted() -> None:
    # The device was re-provisioned from "oys" to "tays"; its unsynced rows keep the site
    # where they were answered. Refusing them made the device mark them synced: lost.
    earlier = wire(site="oys")
    topic = Topic("tays", "tays-lobby-3", "responses")
    body = raw_batch(str(uuid.uuid4()), "tays-lobby-3", NOW, [earlier])
    check = protocol.check_batch(topic, protocol.encode(body))
    assert [r.id for r in check.accepted] == [earlier["id"]] and check.rejected == []
    other = wire(device="oys-lobby-1", site="tays")
    body = raw_batch(str(uuid.uuid4()), "tays-lobby-3", NOW, [other])
    assert protocol.check_batch(topic, protocol.encode(body)).accepted == []


# -- a list or object where a string belongs is a reason, not a crash ------------------------------


def test_unhashable_channel_or_status_is_rejected_not_raised() -> None:
    # Found by the receiver fuzz test: `[] in frozenset(...)` raised TypeError, so the batch
    # was neither acked nor quarantined.
    a, b = wire(channel=[]), wire(status={"x": 1})
    topic = Topic("tays", "tays-lobby-3", "responses")
    body = raw_batch(str(uuid.uuid4()), "tays-lobby-3", NOW, [a, b])
    reasons = dict(protocol.check_batch(topic, protocol.encode(body)).rejected)
    assert "channel" in reasons[a["id"]] and "status" in reasons[b["id"]]


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


def test_out_of_range_settings_stored_earlier_are_not_applied(tmp_path: Path,
                                                              origin: DeviceIdentity) -> None:
    # Settings accepted before remote settings were bounded stay in the store's meta and
    # were applied again at every start (the same version is never re-parsed).
    with Store(tmp_path / "store.sqlite") as store:
        store.set_meta("sync.settings", json.dumps({"batch_max_count": 5000,
                                                    "heartbeat_seconds": 90}))
    agent = make_agent(tmp_path, origin)
    try:
        assert agent.settings.batch_max_count == SyncSettings().batch_max_count
        assert agent.settings.heartbeat_seconds == 90
    finally:
        agent.store.close()


def test_import_of_a_file_with_a_byte_order_mark_keeps_its_first_line(tmp_path: Path) -> None:
    # Files saved by Windows tools start with U+FEFF; json.loads refused line 1 as "not JSON".
    from central.importer import import_jsonl

    first, second = wire(), wire()
    path = tmp_path / "history.jsonl"
    path.write_text("\ufeff" + json.dumps(first) + "\n" + json.dumps(second) + "\n",
                    encoding="utf-8")
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        report = import_jsonl(db, path, progress=False, now=NOW)
        assert report.errors == [] and report.inserted == 2
        assert db.response_ids() == {first["id"], second["id"]}


def test_overlong_or_nul_text_does_not_cost_the_whole_response(tmp_path: Path,
                                                                 origin: DeviceIdentity) -> None:
    # An SMS comment is stored as received (a long concatenated SMS, a UCS-2 U+0000): the
    # central refused the whole response, the device then marked it synced, and its NPS
    # never reached the reports.
    agent = make_agent(tmp_path, origin)
    try:
        rid = agent.store.start_response(origin, channel="sms", survey="national",
                                         survey_version=3, lang="fi", started_at=NOW)
        agent.store.set_answer(rid, "nps", value=2, at=NOW)
        agent.store.set_answer(rid, "open", text="huono\x00" + "x" * 9000, at=NOW)
        agent.store.finalise(rid, "complete", NOW)
        agent._fill_outbox(0.0)
        [batch] = agent.outbox._batches.values()
        check = protocol.check_batch(Topic.parse(str(agent._topic)), batch.payload)
        assert check.rejected == [] and [r.id for r in check.accepted] == [rid]
        [resp] = check.accepted
        assert resp.answers["nps"] == Answer(value=2)
        text = resp.answers["open"].text
        assert text is not None and text.startswith("huono\ufffdxxx")
        assert len(text) == protocol.MAX_TEXT_CHARS
    finally:
        agent.store.close()


# -- end to end: real Mosquitto, both stores -----------------------------------------------------


@pytest.fixture
def limited_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    # The message size limit that `palaute central broker-config` writes.
    with Mosquitto(tmp_path / "broker", "allow_anonymous true\nmessage_size_limit 1048576\n") as b:
        yield b


def _delivered(central_url: str, store: Path) -> None:
    wait_until(lambda: queue_depth(store) == 0, 30, message="device drained")
    assert central_ids(central_url) == device_ids(store)


def test_device_moved_to_another_site_delivers_its_backlog(
        tmp_path: Path, limited_broker: Mosquitto, central_url: str,
        origin: DeviceIdentity) -> None:
    folder = tmp_path / "dev"
    folder.mkdir()
    before = DeviceIdentity(origin.id, "oys", origin.area, origin.unit)
    with Store(folder / "store.sqlite") as s:
        old = add_final_responses(s, before, 40)
        add_final_responses(s, origin, 10)
    config = write_device_config(folder, origin, limited_broker.port, batch_max_count=15)
    with ReceiverThread(central_url, limited_broker.port), AgentThread(config):
        _delivered(central_url, folder / "store.sqlite")
    with open_central(central_url) as db:
        sites = dict(db.execute("SELECT id, site FROM responses"))
    assert {sites[i] for i in old} == {"oys"}


def test_big_batches_get_through_a_broker_with_a_size_limit(
        tmp_path: Path, limited_broker: Mosquitto, central_url: str,
        origin: DeviceIdentity) -> None:
    folder = tmp_path / "dev"
    folder.mkdir()
    with Store(folder / "store.sqlite") as s:
        add_final_responses(s, origin, 400)
        with s.write() as c:
            c.execute("INSERT INTO answers (response_id, question, value, text, answered_at) "
                      "SELECT id, 'long', NULL, ?, finished_at FROM responses", ("ö" * 2500,))
    config = write_device_config(folder, origin, limited_broker.port, batch_max_count=1000,
                                 batch_max_bytes=protocol.MAX_PAYLOAD_BYTES // 2,
                                 gzip_min_bytes=1 << 30)
    with ReceiverThread(central_url, limited_broker.port), AgentThread(config):
        _delivered(central_url, folder / "store.sqlite")
