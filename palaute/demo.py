"""`palaute demo`: the whole chain on simulated hardware, ending in a report."""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from survey.config import DeviceIdentity
from survey.scoring import distribution, nps_summary
from survey.store import Store


def register_command(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of `palaute demo`."""
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="keep the chain running this long (default: one pass)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the demo's files (default: a temporary folder)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated people")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    out = args.out or Path(tempfile.mkdtemp(prefix="palaute-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    origin = DeviceIdentity("demo-lobby-1", "demo", "sairaalapalvelut", "ensiapu")
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with Store(out / "store.sqlite") as store:
        for _ in range(40):
            rid = store.start_response(origin, channel="kiosk", survey="national",
                                       survey_version=1, lang="fi", started_at=now)
            score = rng.choices(range(11), weights=[1, 1, 1, 1, 1, 2, 2, 4, 8, 14, 30])[0]
            store.set_answer(rid, "nps", value=score, at=now)
            store.finalise(rid, "complete", now + timedelta(seconds=20))
            now += timedelta(minutes=7)
        scores = [r["answers"]["nps"]["value"] for r in store.unsynced(limit=1000)]
    summary = nps_summary(distribution(scores))
    print(f"demo: {summary.n} kiosk answers stored in {out / 'store.sqlite'}")
    print("answer " + " ".join(f"{i:>4}" for i in range(11)))
    print("count  " + " ".join(f"{c:>4}" for c in summary.counts))
    print(f"n = {summary.n}, mean = {summary.mean}, NPS = {summary.nps}")
    return 0
