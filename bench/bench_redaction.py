"""Benchmark of the free-text redaction: recall and precision per kind, and throughput.

Prints JSON. The figures come from the corpus in tests/data (redaction_corpus_dev.txt,
tuned against, and redaction_corpus_heldout.txt, never tuned against); see
tests/redaction_corpus.py for how they are counted. Throughput is texts per second
over the whole corpus, "cold" with the name look-up cache cleared before every pass,
against the same texts through one `re.sub` of digits (the least any redaction does),
measured in the same run; and the time of one 5000-character text (the longest an
answer may be) in shapes that would make a careless pattern quadratic.

    .venv/bin/python bench/bench_redaction.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

from benchlib import rate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from redaction_corpus import PARTS, load, score

from survey import redact_names
from survey.redact import redact

# The longest text a response may carry, in shapes that make a careless pattern quadratic.
WORST = {"one long word": "ö" * 5000, "spaced digits": "1 " * 2500,
         "letters and digits": "a1" * 2500, "at signs": "a@" * 2500, "names": "Maija " * 833,
         "iban starts": "FI21 " * 1000,
         "dates": "01.01.2024 " * 454, "streets": "Koivutie 1 " * 454}
GOALS = {"hetu": 0.99, "phone": 0.99, "email": 0.99, "iban": 0.99, "name": 0.90,
         "address": 0.90, "precision": 0.98}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    parts = {part: load(part) for part in PARTS}
    samples = [s for part in PARTS for s in parts[part]]
    digits = re.compile(r"\d{7,}")

    def warm() -> int:
        for s in samples:
            redact(s.text, s.lang)
        return len(samples)

    def cold() -> int:
        redact_names.name_info.cache_clear()
        return warm()

    def baseline() -> int:
        for s in samples:
            digits.sub("#", s.text)
        return len(samples)

    worst = {}
    for name, text in WORST.items():
        start = time.perf_counter()
        redact(text[:5000], "fi")
        worst[name] = round(1000 * (time.perf_counter() - start), 1)
    warm_rate = rate(warm, args.seconds)
    cold_rate = rate(cold, args.seconds)
    base_rate = rate(baseline, args.seconds)
    print(json.dumps({
        "bench": "redaction",
        "python": platform.python_version(),
        "goals": GOALS,
        "parts": {part: {"texts": len(parts[part]), **score(parts[part]).figures()}
                  for part in PARTS},
        "texts_per_s_warm": round(warm_rate),
        "texts_per_s_cold": round(cold_rate),
        "baseline_resub_per_s": round(base_rate),
        "baseline_over_warm": round(base_rate / warm_rate, 1),
        "worst_case_ms_5000_chars": worst,
    }, indent=2))


if __name__ == "__main__":
    main()
