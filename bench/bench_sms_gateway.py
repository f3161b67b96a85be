"""Benchmark of the SMS gateway's own work: a day of a county's SMS traffic, in seconds.

Prints JSON. One county sends ~1,350 invitations a day and ~20 % answer (DOMAIN.md).
The service loop (`Gateway.step`, the real store in WAL/FULL, the conversation state
machine, the reply reader) runs that traffic against the in-process modem twin, so the
modem's own seconds are left out. Baseline in the same run: the bare store writes the
same answers need (`start_response`, `set_answer`, `finalise`), as a kiosk makes them.

    .venv/bin/python bench/bench_sms_gateway.py [--invitations 1350] [--answer-rate 0.2]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sms_helpers import Clock, TwinModem, invite, make_gateway, utc

from survey.config import DeviceIdentity
from survey.store import Store

REPLIES = [["9 hyvä palvelu", "4"], ["kymppi", "Nopea ja ystävällinen", "5"],
           ["mitä?", "8", "ok", "viis"], ["yhdeksn", "Jonotus kesti", "3"], ["STOP"]]


def gateway_day(folder: Path, invitations: int, answer_rate: float, seed: int) -> dict[str, float]:
    """Seconds the gateway needs for one day's invitations and conversations."""
    rng = random.Random(seed)
    clock = Clock(utc(2025, 3, 4, 6, 0))  # 08:00 in Helsinki
    modem = TwinModem()
    gw = make_gateway(folder / "gateway.sqlite", clock, [modem], rate=10_000)
    phones = [f"+35840{1000000 + i}" for i in range(invitations)]
    start = time.perf_counter()
    gw.start()
    for phone in phones:
        invite(gw, phone, clock() - timedelta(hours=1))
    while gw.gs.status()["invitations"].get("queued"):
        gw.step()
    sent_at = time.perf_counter()
    answering = [p for p in phones if rng.random() < answer_rate]
    for phone in answering:
        for text in rng.choice(REPLIES):
            clock.advance(seconds=5)
            modem.deliver(phone, text, clock().isoformat())
            gw.step()
    done = time.perf_counter()
    completed = gw.gs.counters()["completed"]
    gw.close()
    gw.store.close()
    return {"seconds": done - start, "send_seconds": sent_at - start,
            "conversations": len(answering), "completed": completed}


def baseline_day(folder: Path, responses: int) -> float:
    """Seconds for the bare store writes of `responses` three-answer responses."""
    origin = DeviceIdentity("bench", "tays", "sairaalapalvelut", "ensiapu")
    at = utc(2025, 3, 4, 6, 0)
    start = time.perf_counter()
    with Store(folder / "baseline.sqlite") as store:
        for _ in range(responses):
            rid = store.start_response(origin, channel="sms", survey="national",
                                       survey_version=1, lang="fi", started_at=at)
            store.set_answer(rid, "nps", value=9, at=at)
            store.set_answer(rid, "open", text="hyvä", at=at)
            store.set_answer(rid, "s1", value=4, at=at)
            store.finalise(rid, "complete", at)
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=1350)
    parser.add_argument("--answer-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        day = gateway_day(folder, args.invitations, args.answer_rate, args.seed)
        base = baseline_day(folder, int(day["conversations"]))
    print(json.dumps({
        "bench": "sms_gateway",
        "python": platform.python_version(),
        "invitations": args.invitations,
        "conversations": day["conversations"],
        "completed": day["completed"],
        "gateway_day_s": round(day["seconds"], 2),
        "gateway_send_phase_s": round(day["send_seconds"], 2),
        "baseline_store_writes_s": round(base, 2),
        "gateway_over_baseline": round(day["seconds"] / base, 1) if base else None,
        "day_share_of_24h_pct": round(100 * day["seconds"] / 86400, 4),
    }, indent=2))


if __name__ == "__main__":
    main()
