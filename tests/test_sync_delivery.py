"""Every answer reaches the central exactly once: real Mosquitto, SQLite and PostgreSQL.

Each test ends with the set of response UUIDs at the centre equal to the set on the
device(s), and every device row marked synced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from services import (
    AgentThread,
    Mosquitto,
    ReceiverThread,
    add_final_responses,
    central_ids,
    device_ids,
    kill_process,
    queue_depth,
    wait_until,
    write_device_config,
)

from central.store import open_central
from survey.config import DeviceIdentity
from survey.store import Store
from sync import protocol

REPO = Path(__file__).resolve().parent.parent
PALAUTE = [str(REPO / ".venv" / "bin" / "palaute")] if (REPO / ".venv/bin/palaute").exists() \
    else [sys.executable, "-m", "palaute"]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "broker") as b:
        yield b


def make_device(tmp_path: Path, origin: DeviceIdentity, broker: Mosquitto, n: int,
                **sync: float | int) -> Path:
    folder = tmp_path / origin.id
    folder.mkdir()
    config = write_device_config(folder, origin, broker.port, **sync)
    with Store(folder / "store.sqlite") as s:
        add_final_responses(s, origin, n)
    return config


def assert_delivered(central_url: str, *configs: Path) -> None:
    expected: set[str] = set()
    for config in configs:
        store = config.parent / "store.sqlite"
        wait_until(lambda s=store: queue_depth(s) == 0, 30, message=f"{store} drained")
        expected |= device_ids(store)
    assert central_ids(central_url) == expected


def central_count(central_url: str) -> int:
    with open_central(central_url) as db:
        return db.count_responses()


def test_backlog_of_a_week(tmp_path: Path, broker: Mosquitto, central_url: str,
                           origin: DeviceIdentity) -> None:
    # About a week of a busy lobby kiosk, plus a second device draining at the same time.
    other = DeviceIdentity("tays-lobby-4", "tays", "sairaalapalvelut", "ensiapu")
    first = make_device(tmp_path, origin, broker, 5000, batch_max_count=500)
    second = make_device(tmp_path, other, broker, 300)
    with ReceiverThread(central_url, broker.port) as rx, AgentThread(first) as a1, \
            AgentThread(second):
        assert_delivered(central_url, first, second)
        assert rx.receiver.stats.quarantined == 0
        assert a1.agent.stats.batches_sent >= 10


def test_broker_killed_and_restarted_mid_drain(tmp_path: Path, broker: Mosquitto,
                                               central_url: str, origin: DeviceIdentity) -> None:
    config = make_device(tmp_path, origin, broker, 1500, batch_max_count=25)
    with ReceiverThread(central_url, broker.port), AgentThread(config) as agent:
        wait_until(lambda: central_count(central_url) >= 200, 20, message="drain under way")
        broker.kill()
        time.sleep(0.3)  # the outage itself: both sides must notice and wait
        broker.start()
        wait_until(lambda: central_count(central_url) >= 700, 30, message="drain resumed")
        broker.kill()
        broker.start()
        assert_delivered(central_url, config)
        assert agent.agent.stats.connects >= 3


def test_agent_sigkilled_mid_batch(tmp_path: Path, broker: Mosquitto, central_url: str,
                                   origin: DeviceIdentity) -> None:
    config = make_device(tmp_path, origin, broker, 1200, batch_max_count=20)
    env = {**os.environ, "PALAUTE_LOG_LEVEL": "WARNING"}
    with ReceiverThread(central_url, broker.port):
        seen = 0
        for target in (100, 400, 700):
            proc = subprocess.Popen([*PALAUTE, "sync", "run", "--config", str(config)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_until(lambda t=target: central_count(central_url) >= t, 30,
                           message=f"{target} responses at the centre")
            finally:
                kill_process(proc)
            seen = central_count(central_url)
        assert 0 < queue_depth(config.parent / "store.sqlite") < 1200 - 100
        assert seen < 1200
        proc = subprocess.Popen([*PALAUTE, "sync", "run", "--config", str(config)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert_delivered(central_url, config)
        finally:
            proc.terminate()
            assert proc.wait(15) == 0


CRASHING_RECEIVER = """
import os, sys, threading
from central.receiver import Receiver
from central.store import open_central
from sync.mqtt import MqttSettings

url, port, crash_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
count = 0
def after_commit(batch_id):
    global count
    count += 1
    if count == crash_at:
        os._exit(9)  # committed, not yet acked
store = open_central(url)
settings = MqttSettings(host="127.0.0.1", port=port, tls=False, client_id="palaute-central-test")
Receiver(store, settings, after_commit=after_commit).run(threading.Event())
"""


def test_receiver_killed_between_commit_and_ack(tmp_path: Path, broker: Mosquitto,
                                                central_url: str, origin: DeviceIdentity) -> None:
    config = make_device(tmp_path, origin, broker, 300, batch_max_count=30)
    proc = subprocess.Popen([sys.executable, "-c", CRASHING_RECEIVER, central_url,
                             str(broker.port), "3"], cwd=REPO)
    with AgentThread(config) as agent:
        assert proc.wait(30) == 9
        committed = central_count(central_url)
        assert committed >= 30 * 3 - 30  # the crash came after a commit
        store = config.parent / "store.sqlite"
        # The crashed batch is committed at the centre but not marked on the device.
        assert 300 - queue_depth(store) < committed
        with ReceiverThread(central_url, broker.port):
            assert_delivered(central_url, config)
        assert agent.agent.stats.acks >= 10


def test_duplicate_batches_are_stored_once(tmp_path: Path, broker: Mosquitto, central_url: str,
                                           origin: DeviceIdentity) -> None:
    config = make_device(tmp_path, origin, broker, 40)
    with Store(config.parent / "store.sqlite") as s:
        rows = s.unsynced(limit=40)
    batch = protocol.make_batch("3f0c3c1e-6f6b-4c39-9a8e-0d5d0f3b9d11", origin.id,
                                __import__("datetime").datetime.now().astimezone(), rows)
    payload = protocol.encode(batch)
    topic = str(protocol.Topic(origin.site, origin.id, "responses"))
    acks: list[protocol.Ack] = []
    got = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        acks.append(protocol.parse_ack(msg.payload))
        if len(acks) == 3:
            got.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fake-device")
    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.subscribe(str(protocol.Topic(origin.site, origin.id, "ack")), qos=1)
    client.loop_start()
    try:
        with ReceiverThread(central_url, broker.port) as rx:
            for _ in range(3):
                client.publish(topic, payload, qos=1).wait_for_publish(5)
            assert got.wait(15)
            assert rx.receiver.stats.stored == 40
    finally:
        client.disconnect()
        client.loop_stop()
    assert all(set(a.accepted) == {r.id for r in rows} for a in acks)
    assert central_count(central_url) == 40
    # The real agent then finds nothing left to store twice.
    with ReceiverThread(central_url, broker.port), AgentThread(config):
        assert_delivered(central_url, config)


def test_acks_out_of_order(tmp_path: Path, broker: Mosquitto, central_url: str,
                           origin: DeviceIdentity) -> None:
    config = make_device(tmp_path, origin, broker, 30, batch_max_count=10, max_inflight=3,
                         ack_timeout=30.0)
    batches: dict[str, bytes] = {}
    three = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        batches.setdefault(protocol.decode(msg.payload)["batch"], bytes(msg.payload))
        if len(batches) == 3:
            three.set()

    # The test plays the central: it takes three batches in flight and acks them backwards.
    central = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fake-central")
    central.on_message = on_message
    central.connect("127.0.0.1", broker.port)
    central.subscribe(protocol.RESPONSES_FILTER, qos=1)
    central.loop_start()
    store_path = config.parent / "store.sqlite"
    try:
        with AgentThread(config) as agent, open_central(central_url) as db:
            assert three.wait(15)
            topic = protocol.Topic(origin.site, origin.id, "responses")
            checks = [protocol.check_batch(topic, p) for p in batches.values()]
            for check in checks:
                db.insert_responses(check.accepted)
            for check in reversed(checks):
                assert check.batch_id is not None
                ack = protocol.Ack(check.batch_id, tuple(r.id for r in check.accepted))
                central.publish(str(topic.sibling("ack")), protocol.encode(ack.to_dict()), qos=1)
            wait_until(lambda: queue_depth(store_path) == 0, 15, message="all acks applied")
            assert agent.agent.stats.resends == 0
            assert len(batches) == 3
    finally:
        central.disconnect()
        central.loop_stop()
    assert central_ids(central_url) == device_ids(store_path)


def test_two_receivers_share_the_load(tmp_path: Path, broker: Mosquitto, central_url: str,
                                      origin: DeviceIdentity) -> None:
    config = make_device(tmp_path, origin, broker, 600, batch_max_count=20, max_inflight=4)
    with ReceiverThread(central_url, broker.port, client_id="rx-1") as rx1, \
            ReceiverThread(central_url, broker.port, client_id="rx-2") as rx2, \
            AgentThread(config):
        assert_delivered(central_url, config)
        # The shared subscription gave each receiver a part of the batches.
        assert rx1.receiver.stats.batches > 0 and rx2.receiver.stats.batches > 0
        assert rx1.receiver.stats.stored + rx2.receiver.stats.stored == 600


def test_publish_config_reaches_the_device(tmp_path: Path, broker: Mosquitto,
                                           origin: DeviceIdentity) -> None:
    from palaute.cli import main
    from survey.definition import shipped_survey_path

    config = make_device(tmp_path, origin, broker, 0)
    survey = config.parent / "survey.toml"
    survey.write_text(shipped_survey_path("national").read_text())
    new_survey = tmp_path / "relatives.toml"
    new_survey.write_text(shipped_survey_path("relatives").read_text())
    central_cfg = tmp_path / "central.toml"
    central_cfg.write_text(f'[central]\ndb = "sqlite:///c.sqlite"\n'
                           f'[mqtt]\nurl = "mqtt://127.0.0.1:{broker.port}"\n')
    assert main(["central", "publish-config", "--config", str(central_cfg), "--device",
                 f"{origin.site}/{origin.id}", "--version", "5", "--survey", str(new_survey),
                 "--set", "heartbeat_seconds=90"]) == 0
    with AgentThread(config) as agent:
        wait_until(lambda: agent.store.get_meta("sync.config_version") == "5", 10,
                   message="config applied")
        assert survey.read_text() == new_survey.read_text()
        assert agent.agent.settings.heartbeat_seconds == 90


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
