"""Benchmark of the free-text redaction: recall and precision per kind, and throughput.

Prints JSON. The figures come from the corpus in tests/data (redaction_corpus_dev.txt,
tuned against, and redaction_corpus_heldout.txt, never tuned against); see
tests/redaction_corpus.py for how they are counted. Throughput is texts per second
over the whole corpus, "cold" with the name look-up cache cleared before every pass,
against the same texts through one `re.sub` of digits (the least any redaction does),
measured in the same run.

    .venv/bin/python bench/bench_redaction.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
from pathlib import Path

from benchlib import rate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from redaction_corpus import PARTS, load, score

from survey import redact_names
from survey.redact import redact

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
    }, indent=2))


if __name__ == "__main__":
    main()
