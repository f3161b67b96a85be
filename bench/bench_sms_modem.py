"""Benchmark of the SMS service against its modem: gateway time over the modem's own time.

Prints JSON. The simulated modem runs on a real pty in this process and takes
`--send-seconds` (1 s) to answer each AT+CMGS, as a real network does; `palaute sms run`
runs as the service does (its own process, its store in WAL with synchronous=FULL),
with invitations already queued. For 3 numbers of invitations:
  - `startup_s`: from starting the command until its first AT+CMGS reaches the modem;
    the ceiling `modem_startup_s` is the modem's own part of it, the driver's start-up
    sequence against the same modem timed in this process;
  - `ratio`: from the first AT+CMGS to the modem having answered the last, over the
    modem's own time (sends x send seconds); `ratio_steady` is the same over the sends
    after the first of the largest run. Between two sends the service makes its writes
    durable (the last send's outcome, the log emptied of the number it forgot, the next
    claim before AT+CMGS): `durable_commit_ms` is one bare durable commit in the same
    folder, measured in the same run, to weigh the gap against.

    .venv/bin/python bench/bench_sms_modem.py [--sizes 4 8 16] [--send-seconds 1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sms_gateway import durable_commit_s

from hardware.modem_sim import SimConfig
from hardware.modem_sim_pty import simulated_modem
from sms_gateway.gateway_store import GatewayStore
from sms_gateway.invitations import Invitation
from sms_gateway.privacy import PhoneHasher
from sms_gateway.scheduler import Window
from sms_gateway.service import open_modem
from survey.definition import shipped_survey_path
from survey.store import Store

KEY = "00112233445566778899aabbccddeeff"


def write_config(folder: Path, link: Path) -> Path:
    path = folder / "device.toml"
    path.write_text(f"""
[device]
id = "bench-sms-1"
site = "tays"
area = "sairaalapalvelut"
unit = "sms"
store = "{folder / "store.sqlite"}"

[survey]
file = "{shipped_survey_path("national")}"

[sms]
modems = ["{link}"]
hash_key = "{KEY}"
window_start = 0
window_end = 24
rate_per_minute = 600
""", encoding="utf-8")
    return path


def queue(folder: Path, n: int) -> None:
    """`n` invitations in the store, as `palaute sms invite` leaves them."""
    now = datetime.now(UTC)
    with Store(folder / "store.sqlite") as store:
        gs = GatewayStore(store, PhoneHasher(bytes.fromhex(KEY)))
        for i in range(n):
            gs.add_invitation(Invitation("ensiapu", now - timedelta(minutes=20), "visit",
                                         f"+35840{2000000 + i}", "fi", "bench"), now, Window())


def run(folder: Path, n: int, send_seconds: float) -> dict[str, Any]:
    """Start-up and send times of `palaute sms run` for `n` queued invitations."""
    folder.mkdir()
    queue(folder, n)
    config = SimConfig(send_seconds=send_seconds)
    with simulated_modem(folder / "modem", config=config) as (path, core, _runner):
        modem_start = time.perf_counter()
        open_modem(str(path)).close()
        modem_startup = time.perf_counter() - modem_start
        core.sent_parts.clear()
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", "from palaute.cli import main; import sys; "
             f"sys.exit(main(['sms', 'run', '--config', {str(write_config(folder, path))!r}]))"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"})
        seen: list[float] = []
        try:
            limit = start + 60 + n * send_seconds * 2
            while len(seen) < n and time.perf_counter() < limit and proc.poll() is None:
                while len(seen) < len(core.sent_parts):
                    seen.append(time.perf_counter())
                time.sleep(0.002)
            time.sleep(send_seconds)  # the last +CMGS answer
            done = seen[-1] + send_seconds if seen else float("nan")
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        if len(seen) < n:
            raise SystemExit(f"{len(seen)} of {n} sent; the service said: {err[-800:]!r}")
    gaps = [b - a for a, b in itertools.pairwise(seen)]
    return {"sends": n, "startup_s": round(seen[0] - start, 2),
            "durable_commit_ms": round(durable_commit_s(folder, 0.5) * 1000, 1),
            "modem_startup_s": round(modem_startup, 3),
            "ratio": round((done - seen[0]) / (n * send_seconds), 3),
            "steady_s_per_send": round(sum(gaps) / len(gaps), 3) if gaps else None}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--send-seconds", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(Path(tmp) / f"n{n}", n, args.send_seconds) for n in args.sizes]
    largest = rows[-1]
    print(json.dumps({
        "bench": "sms_modem", "python": platform.python_version(),
        "send_seconds": args.send_seconds, "sizes": rows,
        "ratio_steady": round(largest["steady_s_per_send"] / args.send_seconds, 3),
        "startup_s": max(r["startup_s"] for r in rows),
        "modem_startup_s": max(r["modem_startup_s"] for r in rows),
        "modem_s_per_send": args.send_seconds,
        "gap_ms_per_send": round((largest["steady_s_per_send"] - args.send_seconds) * 1000, 1),
        "durable_commit_ms": largest["durable_commit_ms"],
    }, indent=2))


if __name__ == "__main__":
    main()
