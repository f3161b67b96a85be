"""The sync agent's status, last will, remote configuration and bounded resends (real broker)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
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
    SteppedAgent,
    add_final_responses,
    central_ids,
    device_ids,
    kill_process,
    queue_depth,
    wait_until,
    write_device_config,
)

from palaute import __version__
from palaute.cli import main
from survey.config import DeviceIdentity
from survey.definition import load_survey, shipped_survey_path
from survey.errors import StoreError
from survey.response import Answer
from survey.store import Store
from sync import protocol
from sync.agent import META_CONFIG_VERSION, META_LAST_SYNC, SyncAgent, SyncSettings
from sync.mqtt import MqttSettings
from sync.protocol import RemoteConfig, Topic

PALAUTE = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "palaute")
NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "broker") as b:
        yield b


@pytest.fixture
def device(tmp_path: Path, origin: DeviceIdentity, broker: Mosquitto) -> Path:
    folder = tmp_path / "dev"
    folder.mkdir()
    (folder / "survey.toml").write_text(shipped_survey_path("national").read_text())
    return write_device_config(folder, origin, broker.port)


class Watcher:
    """Subscribes to a device's topics and keeps the last payload of each."""

    def __init__(self, port: int, topic: str) -> None:
        self.last: dict[str, bytes] = {}
        self.count = 0
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{port}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.last[msg.topic] = bytes(msg.payload)
            self.count += 1

    def status(self, origin: DeviceIdentity) -> dict[str, Any] | None:
        raw = self.last.get(str(Topic(origin.site, origin.id, "status")))
        return protocol.decode(raw) if raw else None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_retained(port: int, topic: str, payload: bytes) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="publisher")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def test_status_heartbeat_reports_queue_sync_and_extras(
        device: Path, broker: Mosquitto, origin: DeviceIdentity, tmp_path: Path) -> None:
    with Store(device.parent / "store.sqlite") as s:
        add_final_responses(s, origin, 30)

    def broken(store: Store) -> dict[str, Any]:
        raise RuntimeError("modem gone")

    watcher = Watcher(broker.port, "palaute/v1/+/+/status")
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    try:
        extras = [lambda store: {"sms": {"sent": 5, "signal": -71}}, broken]
        with AgentThread(device, status_extras=extras) as agent:
            wait_until(lambda: watcher.status(origin) is not None, 10, message="first status")
            first = watcher.status(origin)
            assert first is not None
            assert first["state"] == "online" and first["software"] == __version__
            assert first["queue_depth"] == 30 and first["last_sync"] is None
            assert first["oldest_unsynced_age_s"] > 0 and first["disk_free_bytes"] > 0
            shipped = load_survey(shipped_survey_path("national"))
            assert first["survey"] == {"id": "national", "version": shipped.version}
            assert first["sms"] == {"sent": 5, "signal": -71}
            with ReceiverThread(url, broker.port) as rx:
                # The ack marks rows, then records the sync time: wait for both before this
                # thread asks for a status (the agent's own heartbeats run after both).
                def drained() -> bool:
                    with Store(device.parent / "store.sqlite") as s:
                        return s.queue_depth() == 0 and s.get_meta(META_LAST_SYNC) is not None

                wait_until(drained, 10, message="drained")
                agent.agent.publish_status()
                wait_until(lambda: (watcher.status(origin) or {}).get("queue_depth") == 0, 5,
                           message="status after the drain")
                later = watcher.status(origin)
                assert later is not None and later["last_sync"] is not None
                wait_until(lambda: origin.id in rx.store.device_statuses(), 5,
                           message="status at the centre")
        # A clean stop leaves "offline" retained.
        wait_until(lambda: (watcher.status(origin) or {}).get("state") == "offline", 5,
                   message="offline status")
    finally:
        watcher.close()


def test_last_will_says_offline_after_sigkill(device: Path, broker: Mosquitto,
                                              origin: DeviceIdentity) -> None:
    watcher = Watcher(broker.port, "palaute/v1/+/+/status")
    proc = subprocess.Popen([PALAUTE, "sync", "run", "--config", str(device)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: (watcher.status(origin) or {}).get("state") == "online", 10,
                   message="online status")
        kill_process(proc)
        wait_until(lambda: (watcher.status(origin) or {}).get("state") == "offline", 10,
                   message="the broker publishing the last will")
    finally:
        kill_process(proc)
        watcher.close()
    # Retained: a central that subscribes later still learns the device is offline.
    late = Watcher(broker.port, "palaute/v1/+/+/status")
    try:
        wait_until(lambda: late.status(origin) is not None, 5, message="retained status")
        assert (late.status(origin) or {})["state"] == "offline"
    finally:
        late.close()


def test_remote_config_applied_atomically_or_kept(device: Path, broker: Mosquitto,
                                                   origin: DeviceIdentity) -> None:
    survey = device.parent / "survey.toml"
    original = survey.read_text()
    config_topic = str(Topic(origin.site, origin.id, "config"))
    watcher = Watcher(broker.port, "palaute/v1/+/+/status")
    try:
        with AgentThread(device) as agent:
            wait_until(lambda: watcher.status(origin) is not None, 10, message="status")
            broken = original.replace('kind = "nps"', 'kind = "stars"', 1)
            publish_retained(broker.port, config_topic,
                             protocol.encode(RemoteConfig(2, broken, {}).to_dict()))
            wait_until(lambda: (watcher.status(origin) or {}).get("config_error"), 10,
                       message="refusal reported")
            status = watcher.status(origin) or {}
            assert "version 2" in status["config_error"] and "stars" in status["config_error"]
            assert status["config_version"] is None
            assert survey.read_text() == original

            newer = re.sub(r"(?m)^version = \d+$", "version = 7", original, count=1)
            publish_retained(broker.port, config_topic, protocol.encode(
                RemoteConfig(3, newer, {"heartbeat_seconds": 120}).to_dict()))
            wait_until(lambda: (watcher.status(origin) or {}).get("config_version") == 3, 10,
                       message="version 3 applied")
            status = watcher.status(origin) or {}
            assert status["config_error"] in (None, "")
            assert status["survey"] == {"id": "national", "version": 7}
            assert survey.read_text() == newer
            assert agent.agent.settings.heartbeat_seconds == 120
            assert [p.name for p in survey.parent.iterdir() if p.name.endswith(".tmp")] == []
        # A restart sees the retained config again and does not re-apply it.
        survey.write_text(newer + "\n# local edit\n")
        with AgentThread(device) as again:
            wait_until(lambda: again.agent.stats.configs >= 1, 10, message="retained config")
            assert again.agent.settings.heartbeat_seconds == 120
        assert survey.read_text().endswith("# local edit\n")
    finally:
        watcher.close()


def test_resends_are_bounded_while_the_central_is_away(
        device: Path, broker: Mosquitto, origin: DeviceIdentity, tmp_path: Path) -> None:
    store_path = device.parent / "store.sqlite"
    with Store(store_path) as s:
        add_final_responses(s, origin, 500)
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with SteppedAgent(device) as sa:
        a = sa.agent
        wait_until(a.connected.is_set, 10, message="connected")
        sa.step()
        inflight = a.settings.max_inflight
        assert a.stats.batches_sent == inflight and a.stats.resends == 0
        sa.step(advance=a.settings.ack_timeout * 0.4)  # under the shortest first wait
        assert a.stats.resends == 0
        for n in (1, 2, 3):
            sa.step(advance=a.settings.backoff_max)  # past the longest wait
            assert a.stats.resends == n * inflight
        # No ack: nothing beyond the in-flight window was sent, nothing marked.
        assert a.stats.batches_sent == inflight
        assert queue_depth(store_path) == 500
        with ReceiverThread(url, broker.port):
            wait_until(lambda: sa.step(advance=1.0) or queue_depth(store_path) == 0, 20,
                       message="drained")
    assert central_ids(url) == device_ids(store_path)


def test_store_errors_make_the_agent_unhealthy_until_the_store_answers(
        device: Path, broker: Mosquitto, origin: DeviceIdentity,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(device.parent / "store.sqlite") as s:
        add_final_responses(s, origin, 5)
    with SteppedAgent(device) as sa:
        a = sa.agent
        a.store_retry_seconds = 0.0
        wait_until(a.connected.is_set, 10, message="connected")
        sa.step()
        assert a.healthy and a.stats.batches_sent == 1

        def failing(*args: object, **kwargs: object) -> None:
            raise StoreError("database is locked")

        monkeypatch.setattr(a.store, "unsynced", failing)
        sa.step()
        assert not a.healthy  # the runner stops pinging the watchdog (test_service_runner)
        monkeypatch.undo()
        sa.step()
        assert a.healthy


def test_plain_mqtt_off_loopback_is_a_config_error(tmp_path: Path, origin: DeviceIdentity,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_device_config(tmp_path, origin, 1883)
    cfg.write_text(cfg.read_text().replace("127.0.0.1", "broker.example.fi"))
    assert main(["sync", "run", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "[mqtt] url: " in err and "only allowed on loopback" in err


def test_unknown_sync_key_is_named(tmp_path: Path, origin: DeviceIdentity,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_device_config(tmp_path, origin, 1883, ack_timeuot=3)
    assert main(["sync", "run", "--config", str(cfg)]) == 1
    assert "[sync] ack_timeuot: unknown key (did you mean ack_timeout?)" in capsys.readouterr().err


def test_sms_gateway_counters_join_the_status_by_default(device: Path) -> None:
    import sms_gateway.status
    from palaute.cli import device_status_extras

    assert sms_gateway.status.status_extras in device_status_extras()
    with AgentThread(device) as agent:
        # A device that never ran the gateway reports no SMS part at all.
        assert "sms" not in agent.agent.status()


def test_agent_started_while_the_broker_is_down(device: Path, broker: Mosquitto,
                                                origin: DeviceIdentity, tmp_path: Path) -> None:
    store_path = device.parent / "store.sqlite"
    with Store(store_path) as s:
        add_final_responses(s, origin, 100)
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    broker.stop()
    with SteppedAgent(device) as sa:
        for _ in range(5):  # the outage itself: minutes on the agent's clock
            sa.step(advance=60.0)
        assert not sa.agent.connected.is_set()
        assert sa.agent.stats.batches_sent == 0  # nothing published before CONNACK
        broker.start()
        with ReceiverThread(url, broker.port):
            wait_until(lambda: sa.step(advance=1.0) or queue_depth(store_path) == 0, 20,
                       message="drained")
    assert central_ids(url) == device_ids(store_path)


def make_agent(tmp_path: Path, origin: DeviceIdentity, **settings: Any) -> SyncAgent:
    store = Store(tmp_path / "store.sqlite")
    mqtt_settings = MqttSettings(host="127.0.0.1", port=1, tls=False)
    return SyncAgent(store, origin, mqtt_settings, SyncSettings(**settings),
                     status_extras=[], survey_checker=lambda text, source: [])


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
