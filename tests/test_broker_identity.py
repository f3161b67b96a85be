"""Identities bound at a real Mosquitto: one stolen device password cannot take over others.

The thief has one device's own account (the password file found on a stolen
kiosk). Connecting with the receiver's client id or another device's client id
must not disconnect them; a receiver that dies gives its share of the batches
back to the live ones within its session expiry; broker-config refuses a device
id used at two sites.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from services import ReceiverThread, free_port, wait_port, wait_until
from test_broker_acl import broker_home  # noqa: F401  (a fixture)

from palaute.cli import main

DEVICES = ("tays/tays-lobby-3", "tays/tays-lobby-4", "oys/oys-sms-1")


@dataclass
class Fleet:
    port: int
    out: Path

    def password(self, user: str) -> str:
        return (self.out / "passwords" / f"{user}.pass").read_text().strip()


@pytest.fixture
def fleet(broker_home: Path) -> Iterator[Fleet]:  # noqa: F811
    out, port = broker_home / "broker", free_port()
    args = ["central", "broker-config", "--out", str(out), "--port", str(port),
            "--bind", "127.0.0.1", "--receiver", "central-2",
            "--persistence-dir", str(broker_home / "data")]
    for d in DEVICES:
        args += ["--device", d]
    assert main(args) == 0
    proc = subprocess.Popen(["mosquitto", "-c", str(out / "mosquitto.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        yield Fleet(port, out)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Peer:
    """A paho client that counts its connections and records what it receives."""

    client: mqtt.Client
    connects: int = 0
    refused: bool = False
    received: list[tuple[str, bytes]] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.client.on_connect = self.client.on_message = None


def peer(fleet: Fleet, user: str, client_id: str, *, will: tuple[str, bytes] | None = None,
         subscribe: str | None = None) -> Peer:
    """Connect as `user` asking for `client_id` (persistent session, like the sync agent)."""
    p = Peer(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         clean_session=False))
    p.client.username_pw_set(user, fleet.password(user))
    if will:
        p.client.will_set(will[0], will[1], qos=1, retain=True)

    def on_connect(c: mqtt.Client, u: object, f: object, rc: mqtt.ReasonCode, pr: object) -> None:
        if rc.is_failure:
            p.refused = True
        else:
            p.connects += 1
            if subscribe:
                c.subscribe(subscribe, qos=1)
        p.ready.set()

    p.client.on_connect = on_connect
    p.client.on_message = lambda c, u, m: p.received.append((m.topic, bytes(m.payload)))
    p.client.reconnect_delay_set(1, 1)
    p.client.connect("127.0.0.1", fleet.port)
    p.client.loop_start()
    assert p.ready.wait(5), "no CONNACK"
    return p


def test_thief_cannot_knock_the_receiver_off(fleet: Fleet, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    victim = peer(fleet, "tays-lobby-3", "tays-lobby-3")
    with ReceiverThread(url, fleet.port, username="central", password=fleet.password("central"),
                        client_id="palaute-central-host1") as rt:
        thieves = [peer(fleet, "tays-lobby-4", cid)
                   for cid in ("palaute-central-host1", "central")]
        try:
            assert all(t.connects == 1 for t in thieves)  # the thief is let in, as itself
            # A round trip through the receiver after the thief's CONNACK: had the broker
            # dropped the receiver for the thief, it would have reconnected by now.
            victim.client.publish("palaute/v1/tays/tays-lobby-3/responses", b"junk",
                                  qos=1).wait_for_publish(5)
            wait_until(lambda: rt.receiver.stats.batches == 1, 10, message="the batch")
            assert rt.receiver.stats.connects == 1
            assert rt.receiver.connected.is_set()
        finally:
            for t in (*thieves, victim):
                t.close()


def test_thief_cannot_take_another_devices_connection(fleet: Fleet) -> None:
    status = "palaute/v1/tays/tays-lobby-3/status"
    observer = peer(fleet, "central", "observer", subscribe="palaute/v1/+/+/status")
    # The client id that sync agents asked for before the broker bound ids to usernames.
    victim = peer(fleet, "tays-lobby-3", "palaute-sync-tays-lobby-3",
                  will=(status, b'{"state": "offline"}'))
    thieves = [peer(fleet, "tays-lobby-4", cid)
               for cid in ("palaute-sync-tays-lobby-3", "tays-lobby-3")]
    try:
        assert all(t.connects == 1 for t in thieves)
        victim.client.publish(status, b'{"state": "online"}', qos=1,
                              retain=True).wait_for_publish(5)
        wait_until(lambda: (status, b'{"state": "online"}') in observer.received, 5,
                   message="the victim's status")
        assert victim.connects == 1
        assert not [m for m in observer.received if b"offline" in m[1]]
    finally:
        for p in (*thieves, victim, observer):
            p.close()


def test_a_dead_receivers_share_goes_back_to_the_live_one(fleet: Fleet, tmp_path: Path) -> None:
    device = peer(fleet, "tays-lobby-3", "tays-lobby-3")
    topic = "palaute/v1/tays/tays-lobby-3/responses"
    live = ReceiverThread(f"sqlite:///{tmp_path / 'live.sqlite'}", fleet.port,
                          username="central-2", password=fleet.password("central-2"),
                          client_id="central-2", session_expiry=1)
    dead = ReceiverThread(f"sqlite:///{tmp_path / 'dead.sqlite'}", fleet.port,
                          username="central", password=fleet.password("central"),
                          client_id="central", session_expiry=1)

    def a_round_reaches_the_live_one() -> bool:
        before = live.receiver.stats.batches
        for _ in range(10):
            device.client.publish(topic, b"junk", qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if live.receiver.stats.batches - before == 10:
                return True
            time.sleep(0.02)
        return False

    try:
        with live:
            with dead:
                pass  # subscribed, then gone; the broker keeps its session for a while
            wait_until(a_round_reaches_the_live_one, 30, interval=0.1,
                       message="every batch to the live receiver")
    finally:
        device.close()


@pytest.mark.parametrize("devices", [["a/lobby-1", "b/lobby-1"], ["a/lobby-1", "a/Lobby-1"],
                                     ["central", "a/x"]])
def test_device_id_at_two_sites_is_refused_and_nothing_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], devices: list[str]) -> None:
    out = tmp_path / "broker"
    args = ["central", "broker-config", "--out", str(out), "--bind", "127.0.0.1"]
    for d in devices:
        args += ["--device", d]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unique across all sites" in err
    assert not out.exists()


def test_receivers_have_their_own_accounts_and_devices_their_bound_ids(fleet: Fleet) -> None:
    conf = (fleet.out / "mosquitto.conf").read_text()
    assert "use_username_as_clientid true" in conf
    users = [line.split(":")[0] for line in (fleet.out / "passwd").read_text().splitlines()]
    assert users[:2] == ["central", "central-2"]
    acl = (fleet.out / "acl").read_text()
    assert "user central-2\ntopic read palaute/v1/+/+/responses" in acl
