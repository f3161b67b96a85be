"""Run every benchmark with short, bounded settings and write one JSON summary.

`./dev.sh bench [--out FILE] [--only NAME ...]` runs this. Each benchmark is a script
printing JSON (its figure and the ceiling measured in the same run); this runs them
one after the other, each with a time limit, and writes their output together with
`table`: one row per line of the speed table (measured, ceiling, ratio, goal), so the
table can be refilled from the summary alone. A benchmark that fails or runs over its
limit is recorded with its error and the others still run (exit status 1).

    .venv/bin/python bench/run_all.py [--out bench/results/summary.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Row = dict[str, Any]


@dataclass(frozen=True)
class Bench:
    """One benchmark script, its arguments for the summary run and its time limit."""

    name: str
    script: str
    args: tuple[str, ...] = ()
    limit_s: float = 120.0


BENCHES = (
    Bench("sms_gateway", "bench_sms_gateway.py", (), 150),
    Bench("sms_modem", "bench_sms_modem.py", (), 150),
    Bench("sync_drain", "bench_sync_drain.py", (), 150),
    Bench("fleet", "bench_fleet.py", (), 120),
    Bench("central_insert", "bench_central_insert.py", (), 120),
    Bench("kiosk_idle_cpu", "bench_kiosk_idle_cpu.py", ("--seconds", "10"), 60),
    Bench("modem", "bench_modem.py", ("--sends", "100"), 60),
    Bench("pdu", "bench_pdu.py", ("--seconds", "0.5"), 60),
    Bench("replies", "bench_replies.py", ("--seconds", "0.5"), 60),
    Bench("redaction", "bench_redaction.py", ("--seconds", "0.5"), 60),
    Bench("topics", "bench_topics.py", ("--seconds", "0.5"), 90),
    Bench("fresh", "bench_fresh.py", (), 60),  # quality on the outside sets, no speed row
)


def run(bench: Bench) -> dict[str, Any]:
    """One benchmark's JSON, or {"error": ...} saying why there is none."""
    path = HERE / bench.script
    if not path.exists():
        return {"error": f"{bench.script} is not there"}
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, str(path), *bench.args], capture_output=True,
                              text=True, timeout=bench.limit_s, check=False, cwd=HERE.parent)
    except subprocess.TimeoutExpired:
        return {"error": f"ran over its limit of {bench.limit_s:.0f} s"}
    seconds = round(time.monotonic() - start, 1)
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-600:]}",
                "seconds": seconds}
    try:
        out = json.loads(done.stdout)
    except ValueError:
        return {"error": f"did not print JSON: {done.stdout[-300:]!r}", "seconds": seconds}
    return {"seconds": seconds, "result": out}


# -- the table: one function per line, reading the benchmarks' JSON ---------------------


def _gateway(r: Row) -> list[Row]:
    sizes = r["sizes"]
    return [
        {"path": "SMS gateway, per event (invitation sent + reply) by live sessions",
         "measured": {str(s["live_sessions"]): s["us_per_event"] for s in sizes},
         "ceiling": {str(s["live_sessions"]): s["ceiling_us_per_event"] for s in sizes},
         "ratio": {str(s["live_sessions"]): s["ratio"] for s in sizes},
         "goal": "cost per event flat from 100 to 100,000 live sessions",
         "met": r["flat"]},
        {"path": "SMS replies through the whole gateway path",
         "measured": {str(s["live_sessions"]): s["replies_per_s"] for s in sizes},
         "processed_per_s": {str(s["live_sessions"]): s["replies_processed_per_s"]
                             for s in sizes},
         "ceiling": {str(s["live_sessions"]): s["durable_commits_per_s"] for s in sizes},
         "ratio": {str(s["live_sessions"]): s["replies_ratio"] for s in sizes},
         "goal": ">= 5,000 replies/s if the storage ceiling allows",
         "met": all(s["replies_processed_per_s"] >= 5000 for s in sizes)},
    ]


def _sms_modem(r: Row) -> list[Row]:
    return [{"path": "gateway time / modem time, 1 s per AT+CMGS",
             "measured": {"ratio_steady": r["ratio_steady"], "startup_s": r["startup_s"]},
             "ceiling": {"modem_startup_s": r["modem_startup_s"], "modem_s_per_send":
                         r["modem_s_per_send"], "durable_commit_ms": r["durable_commit_ms"]},
             "gap_ms_per_send": r["gap_ms_per_send"],
             "ratio": r["ratio_steady"],
             "goal": "<= 1.02 steady, start-up <= 3 s plus the modem's own answers",
             "met": r["ratio_steady"] <= 1.02
             and r["startup_s"] <= 3 + r["modem_startup_s"]}]


def _drain(r: Row) -> list[Row]:
    sizes = r["sizes"]
    return [
        {"path": "sync drain device -> broker -> receiver -> SQLite, with acks",
         "measured": {str(s["responses"]): s["one_receiver_per_s"] for s in sizes},
         "ceiling": {str(s["responses"]): {"bulk_insert": s["bulk_insert_per_s"],
                                           "text_work": s["text_work_per_s"]} for s in sizes},
         "ratio": {str(s["responses"]): s["ratio_to_bulk"] for s in sizes},
         "two_receivers": {str(s["responses"]): s["two_receivers_per_s"] for s in sizes},
         "two_over_one": {str(s["responses"]): s["two_over_one"] for s in sizes},
         "goal": ">= 0.5x bulk insert; >= 10,000/s with several receivers",
         "met": all(s["ratio_to_bulk"] >= 0.5 for s in sizes)},
        {"path": "wire size (nps, two statements, 25 % free text)",
         "measured": r["wire"]["bytes_per_response"],
         "ceiling": {"ids": r["wire"]["ids_bytes_per_response"],
                     "texts": r["wire"]["texts_bytes_per_response"]}, "ratio": None,
         "goal": "<= 40 B/response", "met": r["wire"]["bytes_per_response"] <= 40},
    ]


def _fleet(r: Row) -> list[Row]:
    return [{"path": f"{r['devices']} simulated devices at one Mosquitto, {r['seconds']} s",
             "measured": {"acked_per_s": r["acked_per_s"], "p99_ack_ms": r["p99_ack_ms"]},
             "ceiling": r.get("ceiling"), "ratio": r.get("ratio"),
             "goal": "acked responses/s and p99 ack latency reported", "met": True}]


def _insert(r: Row) -> list[Row]:
    pg = r["postgresql"]
    return [{"path": "PostgreSQL ingest, aggregates' triggers on",
             "measured": {str(s["responses"]): s["storage_per_s"] for s in pg},
             "ceiling": {str(s["responses"]): s["ceiling_per_s"] for s in pg},
             "ratio": {str(s["responses"]): s["ratio"] for s in pg},
             "with_text_work": {str(s["responses"]): s["with_text_work_per_s"] for s in pg},
             "goal": ">= 0.7x COPY with aggregates on",
             "met": all(s["ratio"] >= 0.7 for s in pg)}]


def _kiosk(r: Row) -> list[Row]:
    return [{"path": "kiosk idle CPU (% of a core)",
             "measured": r["kiosk_run_percent_of_a_core"],
             "ceiling": r["sdl_timed_wait_percent_of_a_core"], "ratio": None,
             "goal": f"<= {r['ceiling_percent']} %", "met": r["ok"]}]


TABLE: dict[str, Callable[[Row], list[Row]]] = {
    "sms_gateway": _gateway, "sms_modem": _sms_modem, "sync_drain": _drain, "fleet": _fleet,
    "central_insert": _insert, "kiosk_idle_cpu": _kiosk,
}


def table(results: dict[str, dict[str, Any]]) -> list[Row]:
    """The speed table's lines from the benchmarks that ran."""
    rows: list[Row] = []
    for name, line in TABLE.items():
        result = results.get(name, {}).get("result")
        if result is None:
            rows.append({"path": name, "error": results.get(name, {}).get("error", "not run")})
            continue
        try:
            rows.extend(line(result))
        except (KeyError, TypeError) as exc:
            rows.append({"path": name, "error": f"output lacks {exc}"})
    return rows


def main() -> int:
    """Run the benchmarks and write the summary; 1 when any failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "summary.json")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these (" + ", ".join(b.name for b in BENCHES) + ")")
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    results: dict[str, dict[str, Any]] = {}
    start = time.monotonic()
    for bench in chosen:
        print(f"bench: {bench.name} ...", file=sys.stderr, flush=True)
        results[bench.name] = run(bench)
        print(f"bench: {bench.name}: "
              f"{results[bench.name].get('error') or str(results[bench.name]['seconds']) + ' s'}",
              file=sys.stderr, flush=True)
    summary = {"at": datetime.now(UTC).isoformat(timespec="seconds"),
               "python": platform.python_version(), "machine": platform.machine(),
               "seconds": round(time.monotonic() - start, 1), "table": table(results),
               "benchmarks": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(f"bench: summary in {args.out} ({summary['seconds']} s)", file=sys.stderr)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
