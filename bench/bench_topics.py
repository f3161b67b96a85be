"""Benchmark of the free-text classifier: quality on the labelled set, speed, memory.

Prints JSON: per part (dev, which the lexicons were tuned on, and held-out, which
they never were) and per language, topic micro-/macro-F1 and tone accuracy; texts
per second with a cold word cache (every pass a new classifier, its lexicons and
analysers already loaded) and warm; and the peak resident memory of this process
after loading all three languages. The baseline is the same texts through
`str.lower().split()` (the least any reader does), measured in the same run.

    .venv/bin/python bench/bench_topics.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
from pathlib import Path

from benchlib import rate

from survey.topics import LANGUAGES, MODEL_VERSION, Classifier
from survey.topics.evaluation import evaluate, read_labelled

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
PARTS = {"dev": DATA / "topics_dev.tsv", "heldout": DATA / "topics_heldout.tsv"}
GOALS = {"topic_micro_f1": 0.80, "tone_accuracy": 0.85, "texts_per_s": 200, "peak_rss_mb": 200}


def _loaded() -> Classifier:
    classifier = Classifier()
    for lang in LANGUAGES:
        classifier.classify("", lang)
    return classifier


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    parts = {name: read_labelled(path) for name, path in PARTS.items()}
    quality = {
        name: {lang: s.to_json() for lang, s in evaluate(items, _loaded().classify).items()}
        for name, items in parts.items()
    }
    texts = [(item.text, item.lang) for items in parts.values() for item in items]
    warm_classifier = _loaded()

    def warm() -> int:
        for text, lang in texts:
            warm_classifier.classify(text, lang)
        return len(texts)

    fresh = [_loaded() for _ in range(3)]

    def cold() -> int:
        classifier = fresh.pop() if fresh else _loaded()
        for text, lang in texts:
            classifier.classify(text, lang)
        return len(texts)

    def baseline() -> int:
        for text, _lang in texts:
            text.lower().split()
        return len(texts)

    cold_rate = rate(cold, args.seconds)
    warm_rate = rate(warm, args.seconds)
    base_rate = rate(baseline, args.seconds)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "bench": "topics",
        "python": platform.python_version(),
        "model_version": MODEL_VERSION,
        "goals": GOALS,
        "quality": quality,
        "texts": len(texts),
        "texts_per_s_cold": round(cold_rate),
        "texts_per_s_warm": round(warm_rate),
        "baseline_split_per_s": round(base_rate),
        "baseline_over_cold": round(base_rate / cold_rate, 1),
        "peak_rss_mb": round(peak_kb / 1024 if sys.platform != "darwin" else peak_kb / 2**20, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
