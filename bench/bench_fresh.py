"""Outside check of the three text readers on sets their authors never saw.

Prints JSON. The fresh sets in tests/data (`replies_fresh.tsv`,
`redaction_corpus_fresh.txt`, `topics_fresh.tsv`) were written by someone who had
read neither the readers nor their corpora; nothing is ever tuned on them (fixes
add their own cases to the dev corpora), so these figures say how the readers do
on text they were not shaped by. Same formats and counting as the authors' own
benchmarks (bench_replies, bench_redaction, bench_topics):

* replies: share right by outcome (kind and value) per category (the file's
  `# category:` lines), whether a comment was kept exactly when one was written,
  the exact comment, and how many replies raised (must be none);
* redaction: recall per kind and precision overall;
* topics: topic micro/macro-F1 and tone accuracy, all and per language.

`--failures` adds every miss, for reading.

    .venv/bin/python bench/bench_fresh.py [--failures]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import redaction_corpus
import reply_corpus

from survey.replies import Reply, read_reply
from survey.topics import classify
from survey.topics.evaluation import evaluate, read_labelled

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
REPLIES = DATA / "replies_fresh.tsv"
TOPICS = DATA / "topics_fresh.tsv"
# The project's stated goals (README, bench_redaction, bench_topics).
GOALS = {
    "redaction_recall": {"hetu": 0.99, "phone": 0.99, "email": 0.99, "iban": 0.99,
                         "name": 0.90, "address": 0.90},
    "redaction_precision": 0.98,
    "topic_micro_f1": 0.80,
    "tone_accuracy": 0.85,
}


def reply_categories(path: Path = REPLIES) -> dict[int, str]:
    """The category of each line of the replies file (from its `# category:` lines)."""
    out: dict[int, str] = {}
    current = "uncategorised"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# category:"):
            current = line.partition(":")[2].strip()
        out[number] = current
    return out


def _reply(row: reply_corpus.Row) -> Reply | str:
    try:
        return read_reply(row.text, row.kind, row.lang)
    except Exception as exc:  # the reader promises never to raise: count it, do not stop
        return f"{type(exc).__name__}: {exc}"


def replies(failures: bool) -> dict[str, Any]:
    """Per-category accuracy of the reply reader on the fresh set."""
    rows = reply_corpus.load("fresh")
    category = reply_categories()
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    raised = comment_right = exact = 0
    misses: list[str] = []
    for row in rows:
        got = _reply(row)
        cat = category[row.line]
        tally[cat][1] += 1
        if isinstance(got, str):
            raised += 1
            misses.append(f"{row.line} [{cat}] {row.kind} {row.text!r}: raised {got}")
            continue
        right = row.matches(got)
        tally[cat][0] += right
        same_presence = (got.comment is None) == (row.expected.comment is None)
        comment_right += right and same_presence
        exact += got == row.expected
        if not (right and same_presence):
            misses.append(f"{row.line} [{cat}] {row.kind} {row.text!r}: "
                          f"want {row.expected.to_json()} got {got.to_json()}")
    total = len(rows)
    out: dict[str, Any] = {
        "rows": total,
        "raised": raised,
        "outcome": round(sum(t[0] for t in tally.values()) / total, 3),
        "outcome_and_comment_presence": round(comment_right / total, 3),
        "exact": round(exact / total, 3),
        "by_category": {cat: {"rows": n, "outcome": round(ok / n, 3)}
                        for cat, (ok, n) in tally.items()},
    }
    if failures:
        out["failures"] = misses
    return out


def redaction(failures: bool) -> dict[str, Any]:
    """Recall per kind and precision of the redaction on the fresh set."""
    scored = redaction_corpus.score(redaction_corpus.load("fresh"))
    out = scored.figures()
    out["goals_met"] = {
        **{kind: (out["kinds"].get(kind, {}).get("recall") or 0) >= goal
           for kind, goal in GOALS["redaction_recall"].items()},
        "precision": (out["precision"] or 0) >= GOALS["redaction_precision"],
    }
    if failures:
        out["missed_items"] = scored.missed
        out["wrong_findings"] = scored.wrong
    return out


def topics(failures: bool) -> dict[str, Any]:
    """Topic F1 and tone accuracy of the classifier on the fresh set."""
    items = read_labelled(TOPICS)
    out: dict[str, Any] = {lang: s.to_json() for lang, s in evaluate(items, classify).items()}
    overall = out["all"]
    out["goals_met"] = {
        "topic_micro_f1": overall["topic_micro_f1"] >= GOALS["topic_micro_f1"],
        "tone_accuracy": overall["tone_accuracy"] >= GOALS["tone_accuracy"],
    }
    if failures:
        misses = []
        for item in items:
            got = classify(item.text, item.lang)
            if set(got.topics) != item.topics or got.tone is not item.tone:
                misses.append(f"{item.lang} {item.text!r}: want {sorted(item.topics)} "
                              f"{item.tone.value} got {list(got.topics)} {got.tone.value}")
        out["failures"] = misses
    return out


def main() -> None:
    """Run the three checks and print their JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list every miss too")
    args = parser.parse_args()
    print(json.dumps({
        "bench": "fresh",
        "replies": replies(args.failures),
        "redaction": redaction(args.failures),
        "topics": topics(args.failures),
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
