"""Benchmark of the sync drain: device store -> sync agent -> Mosquitto -> receiver(s) ->
central SQLite (WAL, synchronous=FULL), every response acked only after its commit.

Prints JSON. For 3 queue sizes, the responses per second from the agent's start until
the device store holds nothing unacknowledged, with one receiver and with two on the
shared subscription (each its own process), against ceilings measured in the same run:
  - `bulk_insert_per_s`: the same rows inserted with executemany in one transaction
    (the storage's own limit for this work);
  - `text_work_per_s`: the central's work on the texts alone (redaction and topic
    labels of the same responses), which no batching removes.
Also the bytes per response on the wire as the agent packs the reference mix
(NPS, two statements, free text in 25 %).

    .venv/bin/python bench/bench_sync_drain.py [--sizes 1000 3000 6000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from mix import fill_device_store, responses

from central.store import RESPONSE_COLUMNS, SqliteCentralStore, open_central, response_row
from palaute.services import Mosquitto
from survey.config import DeviceIdentity
from survey.redact import redact_response
from survey.response import Response
from survey.store import Store
from sync import protocol
from sync.agent import SyncAgent, SyncSettings
from sync.mqtt import MqttSettings

ORIGIN = DeviceIdentity("tays-lobby-0", "tays", "sairaalapalvelut", "ensiapu")
LIMIT_S = 120.0  # one drain never runs longer than this


def _receiver(url: str, port: int, name: str, ready: Any, stop: Any) -> None:
    """One receiver process (as `palaute central serve` runs it) until `stop` is set."""
    from central.receiver import Receiver

    with open_central(url) as store:
        receiver = Receiver(store, MqttSettings(host="127.0.0.1", port=port, tls=False,
                                                client_id=name))
        receiver.start()
        receiver.connected.wait(20)
        ready.set()
        stop.wait(LIMIT_S + 60)
        receiver.stop()


def drain(folder: Path, n: int, receivers: int) -> float:
    """Responses per second draining `n` responses of one device through `receivers`."""
    folder.mkdir()
    ctx = mp.get_context("spawn")
    with Mosquitto(folder / "broker") as broker:
        url = f"sqlite:///{folder}/central.sqlite"
        open_central(url).close()  # the schema, before two processes race to create it
        stop = ctx.Event()
        procs = []
        for i in range(receivers):
            ready = ctx.Event()
            proc = ctx.Process(target=_receiver, args=(url, broker.port, f"bench-recv-{i}",
                                                       ready, stop))
            proc.start()
            procs.append((proc, ready))
        for _proc, ready in procs:
            ready.wait(60)
        store = Store(folder / "store.sqlite")
        fill_device_store(store, ORIGIN, n)
        agent = SyncAgent(store, ORIGIN, MqttSettings(host="127.0.0.1", port=broker.port,
                                                      tls=False, client_id="bench-device"),
                          SyncSettings(batch_max_count=1000, poll_interval=0.01))
        agent_stop = threading.Event()
        thread = threading.Thread(target=agent.run, args=(agent_stop,), daemon=True)
        start = time.perf_counter()
        thread.start()
        with Store(folder / "store.sqlite") as probe:
            while probe.queue_depth() and time.perf_counter() - start < LIMIT_S:
                time.sleep(0.01)
            left = probe.queue_depth()
        elapsed = time.perf_counter() - start
        agent_stop.set()
        thread.join(20)
        store.close()
        stop.set()
        for proc, _ready in procs:
            proc.join(30)
        if left:
            raise SystemExit(f"drain of {n} with {receivers} receiver(s): {left} left after "
                             f"{LIMIT_S} s")
    return n / elapsed


def bulk_insert(folder: Path, n: int) -> float:
    """Responses per second: the same rows by executemany in one transaction (the ceiling)."""
    data = responses(n)
    now = datetime.now(UTC)
    rows = [response_row(r, now) for r in data]
    values = [tuple(SqliteCentralStore._sqlite_value(row.values[k]) for k in RESPONSE_COLUMNS)
              for row in rows]
    statements = [(row.id, q, v) for row in rows for q, v in row.statements]
    cols = ", ".join(RESPONSE_COLUMNS)
    marks = ", ".join("?" * len(RESPONSE_COLUMNS))
    with open_central(f"sqlite:///{folder}/bulk.sqlite") as store:
        conn = store.conn  # type: ignore[attr-defined]
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(f"INSERT INTO responses ({cols}) VALUES ({marks}) "
                         "ON CONFLICT (id) DO NOTHING", values)
        conn.executemany("INSERT INTO statement_answers VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                         statements)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
    return n / elapsed


def text_work(n: int) -> float:
    """Responses per second of the central's text work alone (redaction, topic labels)."""
    from central.text_labels import labels_for

    data = responses(n)
    start = time.perf_counter()
    for r in data:
        clean = redact_response(r)
        labels_for(clean.id, clean.lang, clean.answers)
    return n / (time.perf_counter() - start)


def _packed_bytes(data: list[Response]) -> tuple[int, int]:
    """(bytes, batches) of `data` packed as the agent packs it."""
    s = SyncSettings(batch_max_count=1000)
    total, sent, batches = 0, 0, 0
    while sent < len(data):
        rest = data[sent:]
        k, payload = protocol.pack_batch(
            "01955a97-0000-7000-8000-000000000000", ORIGIN.id, datetime.now(UTC), rest,
            max_count=s.batch_max_count, max_bytes=s.batch_max_bytes)
        total += len(payload)
        sent += k
        batches += 1
    return total, batches


def wire_bytes(n: int) -> dict[str, float]:
    """Bytes per response of the batches the agent sends for `n` responses of the mix, and
    what the ids and the texts take of them (the same batches with every id the same,
    and without texts): the ids are random by design (74 random bits each, 9.25 bytes
    at the least), the texts are the patients' own."""
    data = [protocol.wire_safe(r) for r in responses(n)]
    total, batches = _packed_bytes(data)
    same_id, _ = _packed_bytes([replace(r, id=data[0].id) for r in data])
    no_text, _ = _packed_bytes([replace(r, answers={q: a for q, a in r.answers.items()
                                                    if a.text is None}) for r in data])
    return {"bytes_per_response": round(total / n, 1), "batches": batches,
            "responses_per_batch": round(n / batches),
            "ids_bytes_per_response": round((total - same_id) / n, 1),
            "texts_bytes_per_response": round((total - no_text) / n, 1)}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 6000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            one = drain(Path(tmp) / f"one-{n}", n, 1)
            two = drain(Path(tmp) / f"two-{n}", n, 2)
            (Path(tmp) / f"bulk-{n}").mkdir()
            ceiling = bulk_insert(Path(tmp) / f"bulk-{n}", n)
            text = text_work(n)
            rows.append({
                "responses": n, "one_receiver_per_s": round(one),
                "two_receivers_per_s": round(two), "two_over_one": round(two / one, 2),
                "bulk_insert_per_s": round(ceiling), "ratio_to_bulk": round(one / ceiling, 3),
                "text_work_per_s": round(text), "ratio_to_text_work": round(one / text, 2),
            })
    print(json.dumps({
        "bench": "sync_drain", "python": platform.python_version(),
        "sizes": rows, "wire": wire_bytes(max(args.sizes)),
    }, indent=2))


if __name__ == "__main__":
    main()
