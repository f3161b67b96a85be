"""`palaute central broker-config` output on a stock Mosquitto: each device only its own topics."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from services import free_port, wait_port, wait_until

from central.broker import (
    BrokerConfigError,
    acl_text,
    hash_password,
    parse_device_list,
)
from palaute.cli import main


@dataclass
class Client:
    """A paho client that records what it receives."""

    client: mqtt.Client
    received: list[tuple[str, bytes]] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    refused: threading.Event = field(default_factory=threading.Event)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        # The callbacks refer back to this object: without them paho's own __del__ closes
        # its internal socket pair as soon as the test lets go (not at a later garbage
        # collection, where an unclosed socket is a warning that fails the run).
        self.client.on_connect = self.client.on_message = self.client.on_subscribe = None


@pytest.fixture
def broker_home(tmp_path: Path) -> Iterator[Path]:
    """A folder for broker files that a stock Mosquitto started as root can use.

    As root Mosquitto drops to the `mosquitto` user: like on a server, its files must
    be readable and its persistence folder writable by that user (pytest's are not).
    """
    if os.geteuid() != 0:
        yield tmp_path
        return
    home = Path(tempfile.mkdtemp(prefix="palaute-broker-"))
    home.chmod(0o755)
    (home / "data").mkdir()
    shutil.chown(home / "data", "mosquitto")
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def fleet(tmp_path: Path, broker_home: Path) -> Iterator[tuple[int, Path]]:
    devices = tmp_path / "devices.txt"
    devices.write_text("# lobby kiosks\ntays/tays-lobby-3\ntays/tays-lobby-4  # second floor\n")
    out = broker_home / "broker"
    port = free_port()
    assert main(["central", "broker-config", "--devices", str(devices), "--device", "oys/oys-sms-1",
                 "--out", str(out), "--port", str(port), "--bind", "127.0.0.1",
                 "--persistence-dir", str(broker_home / "data")]) == 0
    conf = out / "mosquitto.conf"
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_port(port, proc=proc)
        yield port, out
    finally:
        proc.terminate()
        proc.wait(10)
        assert proc.stderr is not None
        proc.stderr.close()


def connect(port: int, user: str | None, password: str | None = None,
            out: Path | None = None) -> Client:
    if user and password is None and out is not None:
        password = (out / "passwords" / f"{user}.pass").read_text().strip()
    c = Client(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{free_port()}"))
    if user:
        c.client.username_pw_set(user, password)

    def on_connect(client: mqtt.Client, u: object, f: object, rc: mqtt.ReasonCode,
                   p: object) -> None:
        (c.refused if rc.is_failure else c.connected).set()

    c.client.on_connect = on_connect
    c.client.on_message = lambda cl, u, m: c.received.append((m.topic, bytes(m.payload)))
    c.client.reconnect_delay_set(5, 5)
    c.client.connect("127.0.0.1", port)
    c.client.loop_start()
    wait_until(lambda: c.connected.is_set() or c.refused.is_set(), 5, message="CONNACK")
    return c


def test_devices_only_reach_their_own_topics(fleet: tuple[int, Path]) -> None:
    port, out = fleet
    central = connect(port, "central", out=out)
    lobby3 = connect(port, "tays-lobby-3", out=out)
    lobby4 = connect(port, "tays-lobby-4", out=out)
    clients = [central, lobby3, lobby4]
    try:
        assert all(c.connected.is_set() for c in clients)
        central.subscribe("palaute/v1/+/+/responses")
        central.subscribe("palaute/v1/+/+/status")
        lobby3.subscribe("palaute/v1/tays/tays-lobby-3/ack")
        # lobby-3 tries to read lobby-4's acks and configs: the broker gives it nothing.
        lobby3.subscribe("palaute/v1/tays/tays-lobby-4/ack")
        lobby3.subscribe("palaute/v1/tays/tays-lobby-4/config")
        lobby4.subscribe("palaute/v1/tays/tays-lobby-4/ack")

        lobby3.publish("palaute/v1/tays/tays-lobby-4/responses", b"forged")
        lobby3.publish("palaute/v1/tays/tays-lobby-4/status", b"forged")
        lobby3.publish("palaute/v1/tays/tays-lobby-3/ack", b"self-ack")
        lobby3.publish("palaute/v1/tays/tays-lobby-3/responses", b"own batch")
        central.publish("palaute/v1/tays/tays-lobby-4/ack", b"ack for 4")
        central.publish("palaute/v1/tays/tays-lobby-3/ack", b"ack for 3")

        wait_until(lambda: len(lobby4.received) == 1 and len(central.received) == 1, 5,
                   message="the allowed messages")
        wait_until(lambda: len(lobby3.received) == 1, 5, message="lobby-3's own ack")
        assert central.received == [("palaute/v1/tays/tays-lobby-3/responses", b"own batch")]
        assert lobby4.received == [("palaute/v1/tays/tays-lobby-4/ack", b"ack for 4")]
        assert lobby3.received == [("palaute/v1/tays/tays-lobby-3/ack", b"ack for 3")]
    finally:
        for c in clients:
            c.close()


def test_unauthenticated_and_wrong_password_are_refused(fleet: tuple[int, Path]) -> None:
    port, _ = fleet
    for c in (connect(port, None), connect(port, "tays-lobby-3", "guess"),
              connect(port, "nobody", "x")):
        try:
            assert c.refused.is_set() and not c.connected.is_set()
        finally:
            c.close()


def test_rerun_keeps_passwords_and_adds_devices(tmp_path: Path) -> None:
    out = tmp_path / "b"
    args = ["central", "broker-config", "--out", str(out), "--bind", "127.0.0.1"]
    assert main([*args, "--device", "tays/a"]) == 0
    first = (out / "passwords" / "a.pass").read_text()
    assert main([*args, "--device", "tays/a", "--device", "tays/b"]) == 0
    assert (out / "passwords" / "a.pass").read_text() == first
    assert (out / "passwords" / "a.pass").stat().st_mode & 0o077 == 0
    users = [line.split(":")[0] for line in (out / "passwd").read_text().splitlines()]
    assert users == ["central", "a", "b"]


def test_plain_listener_off_loopback_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["central", "broker-config", "--out", str(tmp_path), "--device", "a"]) == 1
    assert "only allowed on loopback" in capsys.readouterr().err


def test_a_refused_broker_config_makes_no_folder(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "broker"
    assert main(["central", "broker-config", "--out", str(out), "--device", "a"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "new").exists()


def test_a_failure_while_writing_takes_back_what_it_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b"
    args = ["central", "broker-config", "--out", str(out), "--bind", "127.0.0.1"]
    assert main([*args, "--device", "tays/a"]) == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "mosquitto.conf").unlink()
    (out / "mosquitto.conf").mkdir()  # the last file cannot be written
    del before[Path("mosquitto.conf")]
    capsys.readouterr()
    assert main([*args, "--device", "tays/a", "--device", "tays/b"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mosquitto.conf" in err and "nothing was written" in err
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # b's account and password are gone, a's passwd line is back


def test_device_list_errors_name_the_line() -> None:
    with pytest.raises(BrokerConfigError, match=r"devices\.txt:2: expected .SITE/DEVICE AREA UNIT"):
        parse_device_list("tays/ok\ntays/bad id\n", "devices.txt")
    with pytest.raises(BrokerConfigError, match="listed twice"):
        parse_device_list("a\nsite/a\n", "devices.txt")


def test_hash_matches_mosquitto_format() -> None:
    h = hash_password("secret", salt=b"0123456789ab", iterations=101)
    assert h.startswith("$7$101$MDEyMzQ1Njc4OWFi$") and len(h.split("$")[-1]) == 88
    assert "user d\ntopic write palaute/v1/s/d/responses" in acl_text(
        parse_device_list("s/d", "x"), "central")


def test_services_run_from_their_configs_with_generated_accounts(
        fleet: tuple[int, Path], tmp_path: Path) -> None:
    from services import add_final_responses, central_ids, device_ids, queue_depth

    from survey.config import DeviceIdentity
    from survey.store import Store

    port, out = fleet
    central_cfg = tmp_path / "central.toml"
    central_cfg.write_text(
        '[central]\ndb = "sqlite:///central.sqlite"\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{port}"\nusername = "central"\n'
        f'password_file = "{out / "passwords" / "central.pass"}"\n'
    )
    device = tmp_path / "dev"
    device.mkdir()
    origin = DeviceIdentity("tays-lobby-3", "tays", "sairaalapalvelut", "ensiapu")
    with Store(device / "store.sqlite") as s:
        add_final_responses(s, origin, 120)
    device_cfg = device / "device.toml"
    device_cfg.write_text(
        '[device]\nid = "tays-lobby-3"\nsite = "tays"\narea = "sairaalapalvelut"\n'
        'unit = "ensiapu"\nstore = "store.sqlite"\n'
        f'[mqtt]\nurl = "mqtt://localhost:{port}"\nusername = "tays-lobby-3"\n'
        f'password_file = "{out / "passwords" / "tays-lobby-3.pass"}"\n'
        "[sync]\nack_timeout = 1.0\nbackoff_max = 2.0\npoll_interval = 0.05\n"
        "batch_max_count = 50\n"
    )
    palaute = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "palaute")
    procs = [subprocess.Popen([palaute, "central", "serve", "--config", str(central_cfg)]),
             subprocess.Popen([palaute, "sync", "run", "--config", str(device_cfg)])]
    try:
        # Batches sent before the receiver has subscribed are lost and re-sent (backoff_max).
        wait_until(lambda: queue_depth(device / "store.sqlite") == 0, 40, message="drained")
    finally:
        for p in procs:
            p.terminate()
        codes = [p.wait(15) for p in procs]
    assert codes == [0, 0]
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    assert central_ids(url) == device_ids(device / "store.sqlite")


def test_tls_listener_with_generated_config(tmp_path: Path, broker_home: Path) -> None:
    from services import AgentThread, ReceiverThread, add_final_responses, make_test_pki

    from central.store import open_central
    from survey.config import DeviceIdentity
    from survey.store import Store

    pki = make_test_pki(broker_home / "pki")
    if os.geteuid() == 0:
        # As on a server: the broker's key is readable by its group, not by everyone.
        shutil.chown(pki["key"], group="mosquitto")
        pki["key"].chmod(0o640)
    out, port, local = broker_home / "broker", free_port(), free_port()
    assert main(["central", "broker-config", "--device", "tays/tays-lobby-3", "--out", str(out),
                 "--port", str(port), "--bind", "127.0.0.1", "--local-port", str(local),
                 "--tls-ca", str(pki["ca"]), "--tls-cert", str(pki["cert"]),
                 "--tls-key", str(pki["key"]), "--persistence-dir", str(broker_home / "data")]) == 0
    conf = out / "mosquitto.conf"
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        device = tmp_path / "dev"
        device.mkdir()
        origin = DeviceIdentity("tays-lobby-3", "tays", "sairaalapalvelut", "ensiapu")
        with Store(device / "store.sqlite") as s:
            ids = set(add_final_responses(s, origin, 50))
        cfg = device / "device.toml"
        cfg.write_text(
            '[device]\nid = "tays-lobby-3"\nsite = "tays"\narea = "a"\nunit = "u"\n'
            'store = "store.sqlite"\n'
            f'[mqtt]\nurl = "mqtts://localhost:{port}"\nca_file = "{pki["ca"]}"\n'
            f'username = "tays-lobby-3"\npassword_file = "{out / "passwords/tays-lobby-3.pass"}"\n'
            "[sync]\npoll_interval = 0.05\n"
        )
        url = f"sqlite:///{tmp_path / 'c.sqlite'}"
        central_pw = (out / "passwords" / "central.pass").read_text().strip()
        with ReceiverThread(url, local, username="central", password=central_pw), \
                AgentThread(cfg) as agent:
            wait_until(lambda: agent.agent.stats.acks >= 1, 15, message="an ack over TLS")
            assert agent.agent.mqtt_settings.tls
            with open_central(url) as db:
                wait_until(lambda: db.response_ids() == ids, 10, message="all stored")
    finally:
        proc.terminate()
        proc.wait(10)


def test_enrolled_device_gets_a_working_account_limited_to_its_topics(
        tmp_path: Path, broker_home: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from central.enroll import EnrolmentServer, EnrolmentSettings
    from survey.config import load_config

    out = broker_home / "broker"
    port = free_port()
    assert main(["central", "broker-config", "--device", "tays/tays-lobby-3", "--out", str(out),
                 "--port", str(port), "--bind", "127.0.0.1",
                 "--persistence-dir", str(broker_home / "data")]) == 0
    cfg = tmp_path / "central.toml"
    cfg.write_text(f'[enrol]\ntokens = "{tmp_path / "t.sqlite"}"\nlisten = "127.0.0.1:0"\n'
                   'broker_url = "mqtts://central.example.fi"\n'
                   f'password_file = "{out / "passwd"}"\nacl_file = "{out / "acl"}"\n')
    settings = EnrolmentSettings.from_config(load_config(cfg))
    assert settings is not None
    server = EnrolmentServer(settings)  # not started: enrol() is what the endpoint calls
    try:
        token = server.book.make({"device_id": "oys-lobby-1", "site": "oys", "area": "a",
                                  "unit": "u", "roles": ["kiosk", "sync"]},
                                 datetime.now(UTC), timedelta(hours=1))
        enrolled = server.enrol(token)
        again = server.book.make({"device_id": "oys-lobby-1", "site": "oys", "area": "a",
                                  "unit": "u", "roles": ["kiosk", "sync"]},
                                 datetime.now(UTC), timedelta(hours=1))
        enrolled = server.enrol(again)  # re-enrolment replaces the account, never duplicates
    finally:
        server.close()
    assert (out / "passwd").read_text().count("oys-lobby-1:") == 1
    assert (out / "acl").read_text().count("user oys-lobby-1") == 1
    proc = subprocess.Popen(["mosquitto", "-c", str(out / "mosquitto.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        central = connect(port, "central", out=out)
        device = connect(port, "oys-lobby-1", enrolled["password"])
        old = connect(port, "tays-lobby-3", out=out)
        try:
            assert central.connected.is_set() and device.connected.is_set()
            central.subscribe("palaute/v1/+/+/responses")
            device.publish("palaute/v1/tays/tays-lobby-3/responses", b"forged")
            device.publish("palaute/v1/oys/oys-lobby-1/responses", b"own batch")
            old.publish("palaute/v1/tays/tays-lobby-3/responses", b"still works")
            wait_until(lambda: len(central.received) == 2, 5, message="both own batches")
            assert sorted(central.received) == [
                ("palaute/v1/oys/oys-lobby-1/responses", b"own batch"),
                ("palaute/v1/tays/tays-lobby-3/responses", b"still works")]
        finally:
            for c in (central, device, old):
                c.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_secrets_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # token_urlsafe's alphabet has "-": a token "-abc" after --token reads as an option.
    from central import broker

    values = iter(["-first", "_second"])
    monkeypatch.setattr(broker.secrets, "token_urlsafe", lambda n: next(values))
    assert broker.new_secret() == "_second"
