"""Benchmark of the SMS reply reader: accuracy on the reply corpus, and speed.

Prints JSON. Accuracy is over tests/data/replies_{dev,heldout}.tsv (see
tests/reply_corpus.py): `outcome` counts the kind and value right, `exact` also
the comment; the held-out part was written first and is never tuned on.
The speed baseline is the same corpus through `str.strip().isdigit()`
(the least any reader does), measured in the same run, so the ratio says what
reading words, labels, opt-outs and comments costs. "cold" clears the word
caches before every pass (first sight of each word), "warm" keeps them.

    .venv/bin/python bench/bench_replies.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from benchlib import rate

from survey import _reply_words as words
from survey.replies import read_reply

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import reply_corpus  # test data, shared with tests/test_replies.py

CORPUS: list[tuple[str, str]] = [
    ("nps", "9"),
    ("nps", "10"),
    ("nps", " 8 "),
    ("nps", "9/10"),
    ("nps", "10!!"),
    ("nps", "9 hyvä palvelu"),
    ("nps", "Hyvä palvelu, mutta odotin 2 tuntia. 7"),
    ("nps", "kymppi"),
    ("nps", "ysi, ystävällinen hoitaja"),
    ("nps", "yhdeksan"),
    ("nps", "7-8"),
    ("nps", "klo 9.30 aika, 8"),
    ("nps", "STOP"),
    ("nps", "en halua enää viestejä"),
    ("nps", "nio av tio"),
    ("nps", "１０"),
    ("smileys", "5"),
    ("smileys", "fyra"),
    ("likert", "täysin samaa mieltä"),
    ("likert", "osittian samaa mieltää, hoitaja oli kiva"),
    ("likert", "strongly agree"),
    ("likert", "samaa mieltä"),
    ("text", "Hoitaja oli ystävällinen ja lääkäri selitti asiat hyvin. " * 5),
    ("nps", "Lääkäri kuunteli ja selitti hoidon hyvin, sain ajan nopeasti. " * 3 + "10"),
]


def _clear_caches() -> None:
    for cached in (words.norm_char, words.fold, words.number_word):
        cached.cache_clear()


def accuracy(part: str) -> dict[str, float | int]:
    """Share of a corpus part read right: by outcome (kind, value) and exactly."""
    rows = reply_corpus.load(part)
    got = [read_reply(r.text, r.kind, r.lang) for r in rows]
    outcome = sum(r.matches(g) for r, g in zip(rows, got, strict=True))
    exact = sum(r.expected == g for r, g in zip(rows, got, strict=True))
    return {"rows": len(rows), "outcome": round(outcome / len(rows), 3),
            "exact": round(exact / len(rows), 3)}


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    def warm() -> int:
        for kind, text in CORPUS:
            read_reply(text, kind)
        return len(CORPUS)

    def cold() -> int:
        _clear_caches()
        return warm()

    def baseline() -> int:
        for _kind, text in CORPUS:
            text.strip().isdigit()
        return len(CORPUS)

    dev_rows = reply_corpus.load("dev")

    def dev_corpus() -> int:
        for row in dev_rows:
            read_reply(row.text, row.kind, row.lang)
        return len(dev_rows)

    warm_rate = rate(warm, args.seconds)
    dev_rate = rate(dev_corpus, args.seconds)
    cold_rate = rate(cold, args.seconds)
    base_rate = rate(baseline, args.seconds)
    print(json.dumps({
        "bench": "replies",
        "python": platform.python_version(),
        "accuracy": {part: accuracy(part) for part in reply_corpus.PARTS},
        "corpus_replies": len(CORPUS),
        "dev_corpus_per_s": round(dev_rate),
        "reader_warm_per_s": round(warm_rate),
        "reader_cold_per_s": round(cold_rate),
        "baseline_isdigit_per_s": round(base_rate),
        "baseline_over_warm": round(base_rate / warm_rate, 1),
        "baseline_over_cold": round(base_rate / cold_rate, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
