"""Benchmark: the central report over 1 M and 10 M responses in PostgreSQL.

Rows are generated inside PostgreSQL with generate_series (a year of answers from
200 devices in 40 units and 7 areas, county-like NPS distribution, statements on
30 % of responses), then the whole report (every section, grouped by area) is
timed against a baseline measured in the same run on the same table: a plain
`SELECT count(*) FROM responses`. Prints JSON.

    .venv/bin/python bench/bench_report.py [--sizes 1000000,10000000] [--url postgresql://…]

The database named in the URL is used only to create (and drop) `palaute_bench_report`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import psycopg

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from central import report_daily
from central.report_render import render
from central.reports import ReportParams, build_report
from central.store import CentralStore, open_central
from survey.response import decode_response

BENCH_DB = "palaute_bench_report"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# Cumulative thresholds (per mille) of the county distribution 0..10, NPS 83.3.
_COUNTY = (522, 230, 217, 186, 479, 484, 300, 775, 4039, 11079, 39503)


def _nps_case(expr: str) -> str:
    total = sum(_COUNTY)
    acc, parts = 0, []
    for value, count in enumerate(_COUNTY[:-1]):
        acc += count
        parts.append(f"WHEN {expr} < {acc * 100000 // total} THEN {value}")
    return f"(CASE {' '.join(parts)} ELSE 10 END)"


def generate_sql(n: int) -> list[str]:
    """Statements that fill `responses` and `statement_answers` with n responses."""
    h = "((i::bigint * 2654435761) % 100000)"  # a cheap, repeatable scatter of i
    ts = "(timestamptz '2025-01-01 00:00+00' + (i::bigint * 31536 / {n}) * interval '1000 s')"
    ts = ts.format(n=n)
    return [
        f"""INSERT INTO responses (id, device, site, area, unit, channel, survey, survey_version,
            lang, started_at, finished_at, local_date, status, seq, nps, has_text, flags, answers,
            received_at)
        SELECT 'r' || i, 'dev-' || (i % 200), 'site-' || (i % 5), 'area-' || (i % 200 % 7),
            'unit-' || (i % 200 % 40), CASE WHEN i % 10 < 6 THEN 'sms' ELSE 'kiosk' END,
            'national', 1, 'fi', t - interval '40 s', t,
            (t AT TIME ZONE 'Europe/Helsinki')::date, 'complete', i, v, i % 3 = 0,
            CASE WHEN i % 997 = 0 THEN '["repeat_press"]'::jsonb ELSE '[]'::jsonb END,
            CASE WHEN i % 3 = 0
                 THEN jsonb_build_object('nps', jsonb_build_object('value', v),
                                         'open', jsonb_build_object('text', 'teksti ' || i))
                 ELSE jsonb_build_object('nps', jsonb_build_object('value', v)) END,
            t
        FROM (SELECT i, {ts} AS t, {_nps_case(h)} AS v
              FROM generate_series(1, {n}) AS i) g""",
        f"""INSERT INTO statement_answers (response_id, question, value)
        SELECT 'r' || i, q, 1 + (i::bigint * 40503 + length(q)) % 5
        FROM generate_series(1, {n}) AS i, unnest(ARRAY['s1', 's2']) AS q
        WHERE i % 10 < 3""",
        "ANALYZE responses",
        "ANALYZE statement_answers",
    ]


def _url_for(base: str, dbname: str) -> str:
    head, _, _ = base.rpartition("/")
    return f"{head}/{dbname}"


def _timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _ingest(store: CentralStore, n: int) -> dict[str, Any]:
    """Time one batch of 1000 new responses through insert_responses, with the triggers on."""
    t = datetime(2025, 6, 1, 9, tzinfo=UTC).isoformat()
    batch = [decode_response({"id": str(uuid.uuid4()), "device": f"dev-{i % 200}", "site": "site-0",
              "area": "area-0", "unit": "unit-0", "channel": "kiosk", "survey": "national",
              "survey_version": 1, "lang": "fi", "started_at": t, "finished_at": t,
              "status": "complete", "seq": i + 1, "answers": {"nps": {"value": i % 11},
                                                             "s1": {"value": 1 + i % 5}},
              "flags": []}) for i in range(1000)]
    t0 = time.perf_counter()
    store.insert_responses(batch)
    return {"insert_1000_with_aggregates_s": round(time.perf_counter() - t0, 3)}


def bench_size(base: str, n: int, repeat: int, direct: bool) -> dict[str, Any]:
    """Fill a fresh database with n responses and time the report against count(*).

    `direct`: also time the report read straight from `responses` (no aggregates)."""
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    url = _url_for(base, BENCH_DB)
    try:
        with open_central(url) as store:
            t0 = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as gen:  # no parameters: % is modulo
                for sql in generate_sql(n):
                    gen.execute(sql.encode())
            generate_s = time.perf_counter() - t0
            baseline_s, count = _timed(
                lambda: store.execute("SELECT count(*) FROM responses")[0][0], repeat)
            params = ReportParams(date(2025, 1, 1), date(2025, 12, 31),
                                  now=datetime(2026, 1, 1, tzinfo=UTC), by="area")
            unit_params = ReportParams(date(2025, 12, 1), date(2025, 12, 31),
                                       now=datetime(2026, 1, 1, tzinfo=UTC), by="channel",
                                       filters=(("unit", "unit-7"),),
                                       trend_from=date(2025, 1, 1))
            out: dict[str, Any] = {"responses": int(count), "generate_s": round(generate_s, 2),
                                   "baseline_count_s": round(baseline_s, 3)}
            if direct:
                direct_s, _ = _timed(lambda: build_report(store, params, texts=False,
                                                          aggregates=False), 1)
                out["report_direct_s"] = round(direct_s, 3)
                out["ratio_direct_to_count"] = round(direct_s / baseline_s, 2)
            t0 = time.perf_counter()
            report_daily.install(store)
            out["aggregates_install_s"] = round(time.perf_counter() - t0, 2)
            out["aggregate_rows"] = int(store.execute("SELECT count(*) FROM report_daily")[0][0])
            report_s, report = _timed(lambda: build_report(store, params, texts=False), repeat)
            html_s, _ = _timed(lambda: render(build_report(store, params), "html"), 1)
            unit_s, _ = _timed(lambda: build_report(store, unit_params), repeat)
            out.update({
                "report_s": round(report_s, 3),
                "ratio_report_to_count": round(report_s / baseline_s, 2),
                "report_with_texts_and_html_s": round(html_s, 3),
                "monthly_unit_report_s": round(unit_s, 3),
                "total_nps": report.total.summary.nps if report.total.summary else None,
                "anomalies": len(report.anomalies),
            })
            out.update(_ingest(store, n))
        return out
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each size and print one JSON document."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000",
                    help="comma-separated numbers of responses (default 1 M and 10 M)")
    ap.add_argument("--url", default=os.environ.get("PALAUTE_BENCH_PG_URL",
                                                    os.environ.get("PALAUTE_TEST_PG_URL",
                                                                   DEFAULT_URL)),
                    help="a PostgreSQL server (any database; the bench makes its own)")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    ap.add_argument("--no-direct", action="store_true",
                    help="skip timing the report without aggregates (slow at 10 M)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    url, server = args.url, None  # server: a tests.services.Postgres when we start one
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error:
        # No server there (a bare machine): a throwaway cluster, as the tests use.
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
        server = importlib.import_module("services").Postgres().start()
        url = server.url()
    try:
        results = [bench_size(url, n, args.repeat, not args.no_direct) for n in sizes]
    finally:
        if server is not None:
            server.stop()
    print(json.dumps({"benchmark": "central report (PostgreSQL)",
                      "server": "throwaway cluster" if server else "given", "results": results},
                     indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
