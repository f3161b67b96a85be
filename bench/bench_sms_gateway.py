"""Benchmark of the SMS gateway's own work per event, by how many sessions are alive.

Prints JSON. For each size (live sessions already in the store: 100, 10,000, 100,000 by
default), the service loop (`Gateway.step`, the real store in WAL with
synchronous=FULL, the conversation state machine, the reply reader) against the
in-process modem twin (the modem's own seconds left out):
  - `us_per_event`: `--events` invitations sent, then each answered once (its reply
    received, processed, and the next question sent): the time per invitation or reply;
  - `replies_per_s`: the same number of replies arriving at once, through the whole
    path until every next question is sent (one AT+CMGS at a time, each claimed and
    recorded durably, so the sends set the pace); `replies_processed_per_s`: until every
    one is stored, answered and its next question queued (one pass of the loop: one
    durable transaction for all it read, each reply a savepoint in it).
The ceiling, in the same run and folder: a bare durable commit (one small INSERT in
its own transaction, WAL, synchronous=FULL). `ratio` is the time per event in such
commits. `cpu_us_per_event` and `durable_writes_per_event` (commits that wrote, and log
checkpoints) stay the same from the smallest size to the largest when a step touches
only what is due (`flat`); the wall time follows the disk.

    .venv/bin/python bench/bench_sms_gateway.py [--sizes 100 10000 100000] [--events 100]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sms_helpers import Clock, TwinModem, invite, make_gateway, utc

from sms_gateway import conversation as conv
from sms_gateway.service import Gateway

START = utc(2025, 3, 4, 7, 0)  # 09:00 in Helsinki: inside the sending window
REPLIES = ("9", "kymppi", "8 hyvä palvelu", "yhdeksn", "7", "10 kiitos")


def seed_sessions(gw: Gateway, n: int) -> None:
    """`n` live sessions of other people, written straight into the store."""
    state = conv.begin(gw.survey, "fi", START, gw.settings.lifetime)
    text = state.to_json()
    expires = state.expires_at.isoformat(timespec="seconds")
    at = START.isoformat(timespec="seconds")
    rows = [(hashlib.sha256(f"seed{i}".encode()).hexdigest(), f"seed-{i:08d}", text, at, at,
             expires) for i in range(n)]
    with gw.store.write() as c:
        c.executemany(
            "INSERT INTO sms_sessions (invitation_id, phone, phone_hash, unit, survey, "
            "survey_version, lang, response_id, state, started_at, updated_at, expires_at) "
            "VALUES (NULL, NULL, ?, 'ensiapu', 'national', 1, 'fi', ?, ?, ?, ?, ?)", rows)


class DurableWrites:
    """Counts, from the connection's statement trace, the commits that changed rows and
    the log checkpoints: the operations that wait for the disk."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.count = 0
        self._changes = conn.total_changes

    def __call__(self, sql: str) -> None:
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if word == "BEGIN":
            self._changes = self.conn.total_changes
        elif word == "COMMIT":
            # Traced before it runs: the transaction's statements have all run.
            self.count += self.conn.total_changes != self._changes
        elif "wal_checkpoint" in sql:
            self.count += 1


def run_size(folder: Path, live: int, events: int) -> dict[str, float]:
    """Seconds per event and replies per second with `live` other sessions alive."""
    clock = Clock(START)
    modem = TwinModem()
    gw = make_gateway(folder / "gateway.sqlite", clock, [modem], rate=600)
    # Expiry looked at on every step (the worst case; the service's default is every 5 s),
    # the modem's health every 30 s as in service.
    gw.settings = replace(gw.settings, health_interval=30.0)
    seed_sessions(gw, live)
    gw.start()

    def drain() -> None:
        while gw.step() or gw.gs.has_outbox(clock()):
            clock.advance(seconds=0.2)  # under the rate limit of 600 a minute

    first = [f"+35840{1000000 + i}" for i in range(events)]
    second = [f"+35850{1000000 + i}" for i in range(events)]
    for phone in first:
        invite(gw, phone, clock() - timedelta(minutes=30))
    # One at a time: each invitation sent, then each reply taken and answered.
    writes = DurableWrites(gw.store.conn)
    gw.store.conn.set_trace_callback(writes)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in first:
        gw.step()
        clock.advance(seconds=0.2)
    for i, phone in enumerate(first):
        modem.deliver(phone, REPLIES[i % len(REPLIES)], clock().isoformat())
        drain()
    one_by_one, cpu = time.perf_counter() - start, time.process_time() - cpu
    gw.store.conn.set_trace_callback(None)
    for phone in second:
        invite(gw, phone, clock() - timedelta(minutes=30))
    for _ in second:
        gw.step()
        clock.advance(seconds=0.2)
    # A burst: every reply in the modem at once, through to the next questions sent.
    sent_before = len(modem.sent)
    for i, phone in enumerate(second):
        modem.deliver(phone, REPLIES[i % len(REPLIES)], clock().isoformat())
    start = time.perf_counter()
    gw.step()  # every reply taken in and answered, the first next question sent
    processed = time.perf_counter() - start
    answered = gw.gs.counters().get("answered", 0)
    assert answered == 2 * events, f"{answered} of {2 * events} replies answered in one pass"
    drain()
    burst = time.perf_counter() - start
    assert len(modem.sent) - sent_before == events, "not every next question was sent"
    gw.close()
    gw.store.close()
    return {"s_per_event": one_by_one / (2 * events), "cpu_s_per_event": cpu / (2 * events),
            "durable_per_event": writes.count / (2 * events), "replies_per_s": events / burst,
            "processed_per_s": events / processed}


def durable_commit_s(folder: Path, seconds: float = 1.0) -> float:
    """Seconds of one bare durable commit (WAL, synchronous=FULL) in `folder`."""
    conn = sqlite3.connect(folder / "ceiling.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES ('a reply')")
        conn.execute("COMMIT")
        done += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / done


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 100_000])
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for live in args.sizes:
            folder = Path(tmp) / f"live-{live}"
            folder.mkdir()
            before = durable_commit_s(folder, 0.5)
            got = run_size(folder, live, args.events)
            commit = (before + durable_commit_s(folder, 0.5)) / 2
            rows.append({
                "live_sessions": live, "us_per_event": round(got["s_per_event"] * 1e6),
                "cpu_us_per_event": round(got["cpu_s_per_event"] * 1e6),
                "durable_writes_per_event": round(got["durable_per_event"], 2),
                "ceiling_us_per_event": round(commit * 1e6),
                "ratio": round(got["s_per_event"] / commit, 2),
                "replies_per_s": round(got["replies_per_s"]),
                "replies_processed_per_s": round(got["processed_per_s"]),
                "durable_commits_per_s": round(1 / commit),
                "replies_ratio": round(got["replies_per_s"] * commit, 2),
            })
    cpu = [r["cpu_us_per_event"] for r in rows]
    print(json.dumps({
        "bench": "sms_gateway", "python": platform.python_version(), "events": args.events,
        "sizes": rows,
        # Flat: the CPU time per event (the disk's waits vary from minute to minute on a
        # shared machine; the gateway's own work does not) at most half as much again at
        # the largest size as at the smallest, and the same durable writes per event.
        "flat": max(cpu) <= 1.5 * min(cpu) and len({r["durable_writes_per_event"]
                                                     for r in rows}) == 1,
    }, indent=2))


if __name__ == "__main__":
    main()
