"""Benchmark of the central store's ingest: responses per second, SQLite and PostgreSQL.

Prints JSON. For each store, `CentralStore.insert_responses` (SQLite: one transaction
per batch; PostgreSQL: COPY into a staging table and one INSERT … SELECT … ON CONFLICT)
is measured against a baseline in the same run: the obvious row-by-row
`INSERT … ON CONFLICT DO NOTHING` with one round trip per response and one
transaction per batch. Also the wire size of a batch, JSON against gzip.

    .venv/bin/python bench/bench_central_insert.py [--responses 20000] [--batch 200]

PostgreSQL comes from PALAUTE_TEST_PG_URL, or a throwaway cluster as in the tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from central.store import RESPONSE_COLUMNS, CentralStore, open_central, response_row
from survey.db import transaction
from survey.response import Response, decode_response
from sync import protocol

START = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)


def responses(n: int) -> list[Response]:
    """`n` responses (read from their wire form) shaped like a kiosk's (NPS, statements, text)."""
    out = []
    for i in range(n):
        at = (START + timedelta(minutes=3 * i)).isoformat(timespec="seconds")
        answers: dict[str, Any] = {"nps": {"value": i % 11}, "s1": {"value": 1 + i % 5},
                                   "s2": {"value": 1 + (i * 7) % 5}}
        if i % 4 == 0:
            answers["open"] = {"text": f"Hoitaja oli ystävällinen ja nopea, kiitos {i}"}
        out.append(decode_response({
            "id": str(uuid.uuid4()), "device": f"tays-lobby-{i % 5}", "site": "tays",
            "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "kiosk",
            "survey": "national", "survey_version": 3, "lang": "fi", "started_at": at,
            "finished_at": at, "status": "complete", "seq": i + 1, "answers": answers, "flags": [],
        }))
    return out


def naive_insert(store: CentralStore, batch: list[Response]) -> None:
    """The baseline: one INSERT per response and per statement answer, one commit."""
    ph = store.placeholder
    cols = ", ".join(RESPONSE_COLUMNS)
    marks = ", ".join([ph] * len(RESPONSE_COLUMNS))
    now = datetime.now(UTC)
    rows = [response_row(r, now) for r in batch]
    if store.dialect == "sqlite":
        with transaction(store.conn) as conn:  # type: ignore[attr-defined]
            for row in rows:
                values = [store._sqlite_value(row.values[k])  # type: ignore[attr-defined]
                          for k in RESPONSE_COLUMNS]
                conn.execute(f"INSERT INTO responses ({cols}) VALUES ({marks}) "
                             "ON CONFLICT (id) DO NOTHING", values)
                for q, v in row.statements:
                    conn.execute("INSERT INTO statement_answers VALUES (?, ?, ?) "
                                 "ON CONFLICT DO NOTHING", (row.id, q, v))
        return
    pg: Any = store.conn  # type: ignore[attr-defined]
    with pg.transaction(), pg.cursor() as cur:
        for row in rows:
            cur.execute(f"INSERT INTO responses ({cols}) VALUES ({marks}) "
                        "ON CONFLICT (id) DO NOTHING", [row.values[k] for k in RESPONSE_COLUMNS])
            for q, v in row.statements:
                cur.execute("INSERT INTO statement_answers VALUES (%s, %s, %s) "
                            "ON CONFLICT DO NOTHING", (row.id, q, v))


def measure(url: str, data: list[Response], batch: int,
            insert: Callable[[CentralStore, list[Response]], Any]) -> float:
    """Responses per second inserting `data` in batches into a fresh store at `url`."""
    with open_central(url) as store:
        start = time.perf_counter()
        for i in range(0, len(data), batch):
            insert(store, data[i:i + batch])
        elapsed = time.perf_counter() - start
        assert store.count_responses() == len(data)
    return len(data) / elapsed


def bench_store(name: str, make_url: Callable[[str], str], n: int, batch: int) -> dict[str, Any]:
    data = responses(n)
    ours = measure(make_url(f"{name}_ours"), data, batch, lambda s, b: s.insert_responses(b))
    base = measure(make_url(f"{name}_naive"), data, batch, naive_insert)
    return {"responses_per_s": round(ours), "baseline_row_by_row_per_s": round(base),
            "ratio": round(ours / base, 2)}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    from services import start_postgres

    result: dict[str, Any] = {"benchmark": "central_insert", "python": platform.python_version(),
                              "responses": args.responses, "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = bench_store("sqlite", lambda n: f"sqlite:///{tmp}/{n}.sqlite",
                                       args.responses, args.batch)
    server = start_postgres()
    try:
        result["postgresql"] = bench_store("pg", server.create_database, args.responses,
                                           args.batch)
    finally:
        server.stop()
    sample = responses(args.batch)
    body = protocol.make_batch(str(uuid.uuid4()), "tays-lobby-0", START, sample)
    raw = len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    result["wire_batch_bytes"] = {"json": raw, "sent": len(protocol.encode(body)),
                                  "ratio": round(raw / len(protocol.encode(body)), 2)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
