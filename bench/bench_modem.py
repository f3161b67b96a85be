"""Benchmark of the modem layer: the AT framer's throughput, and sends through the whole
stack (driver -> channel -> real pty -> simulated modem) against bare AT round trips.

Prints JSON. The framer is compared, in the same run, with the least any framer must do
(split the bytes into lines); the send rate with the rate of plain `AT` round trips over
the same pty, so the figures say what framing and the driver cost, not how fast this
machine is.

    .venv/bin/python bench/bench_modem.py [--listing 2000] [--sends 200]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from modem_fixtures import sim_modem, started_modem

from sms_gateway.at import AtFramer
from sms_gateway.pdu import encode_deliver


def listing(records: int) -> bytes:
    """A +CMGL reply of `records` stored messages, with URCs in between, as bytes."""
    from datetime import UTC, datetime

    pdu = encode_deliver("+358401234567", "9 hyvä palvelu, kiitos", datetime.now(UTC))[0]
    out = bytearray()
    for i in range(records):
        out += f"\r\n+CMGL: {i},1,,{len(pdu) // 2 - 8}\r\n{pdu}\r\n".encode()
        if i % 50 == 0:
            out += b'\r\n+CMTI: "ME",3\r\n\r\n^RSSI: 17\r\n'
    return bytes(out + b"\r\nOK\r\n")


def timed(fn: Callable[[], None], repeat: int = 5) -> float:
    """Best of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench_framer(records: int) -> dict[str, float]:
    """Framer over a long listing fed in 64-byte chunks, against plain line splitting."""
    data = listing(records)
    chunks = [data[i : i + 64] for i in range(0, len(data), 64)]  # as a UART delivers

    def framer() -> None:
        f = AtFramer()
        f.begin("AT+CMGL=4")
        for chunk in chunks:
            f.feed(chunk)

    def baseline() -> None:
        buf = b""
        for chunk in chunks:
            buf += chunk
            *_lines, buf = buf.split(b"\r\n")

    t_framer, t_base = timed(framer), timed(baseline)
    return {"bytes": len(data), "framer_mb_s": len(data) / t_framer / 1e6,
            "baseline_mb_s": len(data) / t_base / 1e6, "ratio_to_baseline": t_framer / t_base}


def bench_sends(sends: int) -> dict[str, float]:
    """Driver sends over the pty simulator, against bare AT round trips on it."""
    with tempfile.TemporaryDirectory() as tmp, sim_modem(Path(tmp)) as (path, _core), \
            started_modem(path, command_timeout=5.0) as modem:
        start = time.perf_counter()
        for _ in range(sends):
            modem.channel.command("AT", 5.0)
        t_at = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(sends):
            modem.send("+358401234567", f"Kiitos vastauksestasi {i}", status_report=False)
        t_send = time.perf_counter() - start
    return {"sends": sends, "sends_per_s": sends / t_send, "at_round_trips_per_s": sends / t_at,
            "send_cost_in_round_trips": t_send / t_at}


def main() -> None:
    """Run both measurements and print them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listing", type=int, default=2000, help="records in the +CMGL reply")
    parser.add_argument("--sends", type=int, default=200, help="messages to send")
    args = parser.parse_args()
    print(json.dumps({
        "python": platform.python_version(),
        "framer": bench_framer(args.listing),
        "send": bench_sends(args.sends),
    }, indent=2))


if __name__ == "__main__":
    main()
