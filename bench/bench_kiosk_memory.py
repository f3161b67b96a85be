"""Benchmark of the kiosk's memory over a simulated busy week: RSS stays flat.

Prints JSON. Drives the production KioskCore (the configured audio twin keeps only
its last prompts, nothing else is recorded) through --sessions scripted patients
(touch, audio mode with a held key, headphones out and back, walk-aways) on a
simulated clock, with a real store. RSS is read after a warm-up (the store's page
cache filled, every screen built once) and at the end; the growth must stay under
the ceiling (2 MB), in the same run.

    .venv/bin/python bench/bench_kiosk_memory.py [--sessions 20000] [--warmup 3000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hardware.audio import SimulatedAudio
from kiosk.app import TWIN_KEEP, KioskCore, load_kiosk
from kiosk.script import ScriptLine, parse_script
from kiosk.simulation import run_steps
from palaute.demo_scripts import Kiosk, script, touch_kiosk_patients
from survey.definition import shipped_survey_path
from survey.store import Store

CEILING_MIB = 2.0
START = datetime(2025, 3, 2, 8, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
# A patient who pulls the headphones out mid-session and plugs them back in.
UNPLUGGED = ["headphones in", "key enter", "key 8", "key enter", "key enter", "headphones out",
             "touch 0.2 0.7", "wait 5", "headphones in", "key 4", "key enter", "key enter",
             "headphones out", "wait 30"]


def rss_mib() -> float:
    """Resident set size of this process now, in MiB."""
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_config(folder: Path) -> Path:
    path = folder / "device.toml"
    path.write_text(f"""
[device]
id = "bench-lobby-1"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"

[survey]
file = "{shipped_survey_path("national")}"

[kiosk]
opening_hours = "always"
simulate_audio = true
""", encoding="utf-8")
    return path


def week_of_patients(kiosk: Kiosk, waves: int) -> list[ScriptLine]:
    """Patients of `waves` waves (five each, plus one who unplugs), as parsed script lines."""
    lines: list[str] = []
    for wave in range(waves):
        lines += script(touch_kiosk_patients(kiosk, 11, wave)).splitlines()
        lines += UNPLUGGED
    return parse_script(lines, "bench")


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=3000)
    args = parser.parse_args()
    per_wave = 6
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) \
            as tmp:
        loaded = load_kiosk(write_config(Path(tmp)))
        kiosk = Kiosk(loaded.kiosk.settings, loaded.kiosk.resolution)
        wave_lines = week_of_patients(kiosk, 20)  # 20 different waves, repeated
        speech = SimulatedAudio(loaded.kiosk.settings.volume_db, keep=TWIN_KEEP)
        with Store(loaded.config.store_path()) as store:
            core = KioskCore(loaded, store, speech, now=START)
            now, done, started = START, 0, time.perf_counter()
            warm = None
            while done < args.sessions + args.warmup:
                now = run_steps(core, wave_lines, now)
                done += per_wave * 20
                if warm is None and done >= args.warmup:
                    gc.collect()
                    warm, warm_done = rss_mib(), done
            gc.collect()
            end = rss_mib()
            counts = store.counts()
        seconds = time.perf_counter() - started
    growth = end - (warm or end)
    print(json.dumps({
        "benchmark": "kiosk_memory", "python": platform.python_version(),
        "sessions_measured": done - warm_done, "sessions_total": done,
        "simulated_days": round((now - START).total_seconds() / 86400, 1),
        "responses": {k: counts[k] for k in ("complete", "abandoned")},
        "rss_after_warmup_mib": round(warm or 0.0, 2), "rss_end_mib": round(end, 2),
        "rss_growth_mib": round(growth, 2), "ceiling_mib": CEILING_MIB,
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seconds": round(seconds, 1), "ok": growth < CEILING_MIB,
    }, indent=2))


if __name__ == "__main__":
    main()
