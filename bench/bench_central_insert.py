"""Benchmark of the central store's ingest (PostgreSQL and SQLite), against COPY /
executemany of the same rows in the same run.

Prints JSON. For 3 sizes, the same reference-mix responses (bench/mix.py) go in
batches of `--batch` (what one device batch holds), one transaction each, into:
  - PostgreSQL with the report aggregates' triggers installed (central/report_daily.py):
    `storage_per_s` is the store's own insert (`CentralStore._insert_rows`: COPY into
    staging, one INSERT ... ON CONFLICT per table), `with_text_work_per_s` the whole
    `insert_responses` (redaction and topic labels of the texts included);
    the ceiling `copy_per_s` is a bare COPY of the same rows into `responses` and
    `statement_answers`, no aggregates, one transaction per batch;
  - SQLite (WAL, synchronous=FULL): the same, the ceiling one executemany per table.
The PostgreSQL cluster is a throwaway one with fsync on (an ack means on disk), or
PALAUTE_TEST_PG_URL.

    .venv/bin/python bench/bench_central_insert.py [--sizes 1200 3000 9000] [--batch 300]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from mix import responses

from central import report_daily
from central.store import (
    RESPONSE_COLUMNS,
    CentralStore,
    ResponseRow,
    SqliteCentralStore,
    open_central,
    response_row,
)
from survey.redact import redact_response
from survey.response import Response


def _durable_postgres() -> Any:
    """A throwaway cluster as the tests make one, but with fsync and synchronous commits."""
    import os

    import services

    if os.environ.get("PALAUTE_TEST_PG_URL"):
        return services.start_postgres()

    class Durable(services.Postgres):
        def start(self) -> services.Postgres:
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user,
                      "--auth=trust", "-E", "UTF8", "--locale=C")
            opts = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                      str(self.folder / "log"), "-o", opts, "-w", "start")
            return self

    server = Durable()
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise


def bare_copy(store: CentralStore, rows: list[ResponseRow]) -> None:
    """The PostgreSQL ceiling: COPY straight into the tables, one transaction."""
    pg: Any = store.conn  # type: ignore[attr-defined]
    cols = ", ".join(RESPONSE_COLUMNS)
    with pg.transaction(), pg.cursor() as cur:
        with cur.copy(f"COPY responses ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row.values[k] for k in RESPONSE_COLUMNS])
        with cur.copy("COPY statement_answers (response_id, question, value) FROM STDIN") as copy:
            for row in rows:
                for q, v in row.statements:
                    copy.write_row((row.id, q, v))


def bare_executemany(store: CentralStore, rows: list[ResponseRow]) -> None:
    """The SQLite ceiling: one executemany per table, one transaction."""
    conn: Any = store.conn  # type: ignore[attr-defined]
    cols = ", ".join(RESPONSE_COLUMNS)
    marks = ", ".join("?" * len(RESPONSE_COLUMNS))
    value = SqliteCentralStore._sqlite_value
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO responses ({cols}) VALUES ({marks})",
                     [tuple(value(row.values[k]) for k in RESPONSE_COLUMNS) for row in rows])
    conn.executemany("INSERT INTO statement_answers VALUES (?, ?, ?)",
                     [(row.id, q, v) for row in rows for q, v in row.statements])
    conn.execute("COMMIT")


def bench_size(n: int, batch: int, make_url: Callable[[str], str],
               ceiling: Callable[[CentralStore, list[ResponseRow]], None]) -> dict[str, Any]:
    """The three inserts of `n` responses, batch by batch in turn (so that the disk's and
    the machine's moods fall on all three alike), each into its own fresh store."""
    data: list[Response] = responses(n)
    now = datetime.now(UTC)
    rows = [response_row(redact_response(r), now) for r in data]
    ways: dict[str, tuple[Callable[[CentralStore, list[Any]], Any], list[Any], bool]] = {
        "ceiling": (ceiling, rows, False),
        "storage": (lambda s, b: s._insert_rows(b), rows, True),
        "whole": (lambda s, b: s.insert_responses(b, received_at=now), data, True),
    }
    stores = {name: open_central(make_url(f"{name}{n}")) for name in ways}
    seconds = dict.fromkeys(ways, 0.0)
    try:
        for name, (_insert, _items, aggregates) in ways.items():
            if aggregates:
                report_daily.install(stores[name])
        for i in range(0, n, batch):
            for name, (insert, items, _aggregates) in ways.items():
                start = time.perf_counter()
                insert(stores[name], items[i:i + batch])
                seconds[name] += time.perf_counter() - start
        for store in stores.values():
            assert store.count_responses() == n
    finally:
        for store in stores.values():
            store.close()
    top, storage, whole = (n / seconds[k] for k in ("ceiling", "storage", "whole"))
    return {"responses": n, "storage_per_s": round(storage), "ceiling_per_s": round(top),
            "ratio": round(storage / top, 2), "with_text_work_per_s": round(whole),
            "with_text_work_ratio": round(whole / top, 2)}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1200, 3000, 9000])
    parser.add_argument("--batch", type=int, default=300)
    args = parser.parse_args()
    result: dict[str, Any] = {"bench": "central_insert", "python": platform.python_version(),
                              "batch": args.batch, "aggregates": True}
    server = _durable_postgres()
    try:
        result["postgresql"] = [bench_size(n, args.batch, server.create_database, bare_copy)
                                for n in args.sizes]
    finally:
        server.stop()
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = [
            bench_size(n, args.batch, lambda name: f"sqlite:///{tmp}/{name}.sqlite",
                       bare_executemany) for n in args.sizes]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
