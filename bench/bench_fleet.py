"""Benchmark of a fleet at one broker: simulated devices, each with its own broker
account, sending batches in protocol v1 to a real Mosquitto and waiting for the acks.

Prints JSON. A load generator in this process speaks protocol v1 as the sync agent
does (one MQTT connection per device with the device's own username, password and
ACL as `palaute central broker-config` writes them; a batch of the reference mix every
`--interval` seconds from each device, their phases spread over the interval, gzip when
it pays; a batch only after the ack of the last, as an agent with one batch in
flight), against the central's receivers (`--receivers` processes on the
shared subscription, one SQLite central store, WAL, synchronous=FULL, acks after the
commit). For each fleet size, over `--seconds` once every device is connected: the
acked responses per second and the ack latency (p50, p99) from the publish to its
ack. The ceiling is the bulk insert of the same number of rows (executemany in one
transaction) measured in the same run.

    .venv/bin/python bench/bench_fleet.py [--devices 100 300 1000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import selectors
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync_drain import bulk_insert
from mix import wire_responses

from central.broker import DeviceAccount, ListenerOptions, write_broker_config
from central.store import open_central
from palaute.services import Mosquitto, free_port
from sync import protocol
from sync.mqtt import MqttSettings

SITE = "tays"


def _receiver(url: str, port: int, user: str, password: str, ready: Any, stop: Any) -> None:
    """One receiver process with its own central account, until `stop` is set."""
    from central.receiver import Receiver

    with open_central(url) as store:
        receiver = Receiver(store, MqttSettings(host="127.0.0.1", port=port, tls=False,
                                                client_id=user, username=user,
                                                password=password))
        receiver.start()
        receiver.connected.wait(30)
        ready.set()
        stop.wait(600)
        receiver.stop()


@dataclass
class Device:
    """One simulated device: its connection, its batch in flight, its figures."""

    name: str
    client: mqtt.Client
    seq: int = 1
    sent_at: float | None = None
    batch: str = ""
    ready: bool = False
    latencies: list[float] = field(default_factory=list)
    acked: int = 0
    due: float = 0.0  # when its next batch is due (perf_counter)


class Fleet:
    """Devices on one selector loop (paho's own loop functions, no thread per device)."""

    def __init__(self, port: int, passwords: Path, names: list[str], batch: int,
                 interval: float) -> None:
        self.port = port
        self.batch = batch
        self.interval = interval
        self.selector = selectors.DefaultSelector()
        self.counting = False
        self.devices = [self._device(name, (passwords / f"{name}.pass").read_text().strip())
                        for name in names]

    def _device(self, name: str, password: str) -> Device:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name,
                             protocol=mqtt.MQTTv311, clean_session=True)
        client.username_pw_set(name, password)
        device = Device(name, client)
        client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            f"{protocol.ROOT}/{SITE}/{name}/ack", qos=1)
        client.on_subscribe = lambda c, u, mid, rc, p: setattr(device, "ready", True)
        client.on_message = lambda c, u, msg: self._on_ack(device, msg.payload)
        return device

    def connect(self, limit_s: float = 120.0) -> float:
        """Connect every device; seconds until all are subscribed."""
        start = time.perf_counter()
        for d in self.devices:
            d.client.connect("127.0.0.1", self.port, keepalive=120)
            self.selector.register(d.client.socket(), selectors.EVENT_READ, d)
            d.client.loop_write()
            self.run(0.0)
        while not all(d.ready for d in self.devices):
            if time.perf_counter() - start > limit_s:
                raise SystemExit("the fleet did not connect in time")
            self.run(0.05)
        return time.perf_counter() - start

    def send(self, d: Device) -> None:
        responses = wire_responses(self.batch, d.name, SITE, d.seq)
        d.seq += self.batch
        d.batch = str(uuid.uuid4())
        body = {"v": protocol.PROTOCOL_VERSION, "batch": d.batch, "device": d.name,
                "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "responses": responses}
        d.sent_at = time.perf_counter()
        d.client.publish(f"{protocol.ROOT}/{SITE}/{d.name}/responses", protocol.encode(body),
                         qos=1)
        d.client.loop_write()

    def _on_ack(self, d: Device, payload: bytes) -> None:
        ack = protocol.parse_ack(payload)
        if ack.batch != d.batch or d.sent_at is None:
            return
        if self.counting:
            d.latencies.append(time.perf_counter() - d.sent_at)
            d.acked += len(ack.accepted)
        d.sent_at = None

    def start_sending(self) -> None:
        """Each device's first batch at its own phase of the interval."""
        now = time.perf_counter()
        for i, d in enumerate(self.devices):
            d.due = now + self.interval * i / len(self.devices)

    def run(self, seconds: float) -> None:
        """Serve the sockets for `seconds` (at least one pass)."""
        end = time.perf_counter() + seconds
        next_misc = 0.0
        while True:
            for key, _ in self.selector.select(timeout=0.01):
                key.data.client.loop_read()
            for d in self.devices:
                if d.client.want_write():
                    d.client.loop_write()
            now = time.perf_counter()
            for d in self.devices:
                if d.due and d.sent_at is None and now >= d.due:
                    d.due += self.interval
                    self.send(d)
            if now >= next_misc:
                next_misc = now + 1.0
                for d in self.devices:
                    d.client.loop_misc()
            if now >= end:
                return

    def close(self) -> None:
        for d in self.devices:
            d.client.disconnect()
            d.client.loop_write()


def fleet(folder: Path, devices: int, seconds: float, receivers: int,
          batch: int, interval: float) -> dict[str, Any]:
    """Acked responses per second and ack latency of `devices` devices over `seconds`."""
    folder.mkdir()
    names = [f"fleet-{i:04d}" for i in range(devices)]
    port = free_port()
    recv_users = [f"central{i}" for i in range(1, receivers)]
    files = write_broker_config(
        folder / "broker", [DeviceAccount(n, SITE) for n in names],
        ListenerOptions(port=port, bind="127.0.0.1",
                        persistence_dir=str(folder / "broker" / "data")),
        "central", broker_group=None, receivers=recv_users)
    (folder / "broker" / "data").mkdir()
    url = f"sqlite:///{folder}/central.sqlite"
    open_central(url).close()
    ctx = mp.get_context("spawn")
    with Mosquitto(folder / "broker", base_config=files.conf.read_text(), port=port):
        stop = ctx.Event()
        procs = []
        for user in ["central", *recv_users]:
            ready = ctx.Event()
            password = (files.passwords / f"{user}.pass").read_text().strip()
            proc = ctx.Process(target=_receiver, args=(url, port, user, password, ready, stop))
            proc.start()
            procs.append((proc, ready))
        for _proc, ready in procs:
            ready.wait(60)
        load = Fleet(port, files.passwords, names, batch, interval)
        try:
            connect_s = load.connect()
            load.start_sending()
            load.run(interval)  # warm up: every device has sent once
            load.counting = True
            start = time.perf_counter()
            load.run(seconds)
            elapsed = time.perf_counter() - start
            load.counting = False
        finally:
            load.close()
            stop.set()
            for proc, _ready in procs:
                proc.join(30)
    latencies = sorted(x for d in load.devices for x in d.latencies)
    acked = sum(d.acked for d in load.devices)
    if not latencies:
        raise SystemExit(f"{devices} devices: no ack within {seconds} s")

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    return {"devices": devices, "connect_s": round(connect_s, 1),
            "offered_per_s": round(devices * batch / interval),
            "acked_per_s": round(acked / elapsed), "p50_ack_ms": pct(0.50),
            "p99_ack_ms": pct(0.99), "batches_acked": len(latencies),
            "devices_acked": sum(1 for d in load.devices if d.acked)}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--receivers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=5, help="responses per batch")
    parser.add_argument("--interval", type=float, default=10.0,
                        help="seconds between a device's batches")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [fleet(Path(tmp) / f"fleet-{n}", n, args.seconds, args.receivers, args.batch,
                      args.interval) for n in args.devices]
        (Path(tmp) / "bulk").mkdir()
        ceiling = bulk_insert(Path(tmp) / "bulk", max(r["acked_per_s"] for r in rows) * 2)
    largest = rows[-1]
    print(json.dumps({
        "bench": "fleet", "python": platform.python_version(), "receivers": args.receivers,
        "batch": args.batch, "interval_s": args.interval, "sizes": rows,
        "devices": largest["devices"],
        "seconds": args.seconds, "acked_per_s": largest["acked_per_s"],
        "p99_ack_ms": largest["p99_ack_ms"], "ceiling": round(ceiling),
        "ratio": round(largest["acked_per_s"] / ceiling, 3),
    }, indent=2))


if __name__ == "__main__":
    main()
