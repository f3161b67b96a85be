"""Benchmark of the SMS reply reader: replies per second over a mixed corpus.

Prints JSON. The baseline is the same corpus through `str.strip().isdigit()`
(the least any reader does), measured in the same run, so the ratio says what
reading words, labels, opt-outs and comments costs. "cold" clears the word
caches before every pass (first sight of each word), "warm" keeps them.

    .venv/bin/python bench/bench_replies.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import platform

from benchlib import rate

from survey import _reply_words as words
from survey.replies import read_reply

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

    warm_rate = rate(warm, args.seconds)
    cold_rate = rate(cold, args.seconds)
    base_rate = rate(baseline, args.seconds)
    print(json.dumps({
        "bench": "replies",
        "python": platform.python_version(),
        "corpus_replies": len(CORPUS),
        "reader_warm_per_s": round(warm_rate),
        "reader_cold_per_s": round(cold_rate),
        "baseline_isdigit_per_s": round(base_rate),
        "baseline_over_warm": round(base_rate / warm_rate, 1),
        "baseline_over_cold": round(base_rate / cold_rate, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
