"""The three text readers on the fresh sets, written by an outsider who had read neither
the readers nor their corpora (tests/data/*_fresh.*; bench/bench_fresh.py prints the figures).

Only the project's stated goals are asserted here, and only those the readers meet on
this set; what they miss is reported by the bench, never tuned on this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import redaction_corpus
import reply_corpus

from survey.model import KINDS
from survey.replies import read_reply
from survey.topics import classify
from survey.topics.evaluation import evaluate, read_labelled

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_fresh  # the goals and the categories of the fresh replies

ROWS = reply_corpus.load("fresh")
CATEGORY = bench_fresh.reply_categories()
# The cases: scores in words, a score with a comment, pleasantries beside a
# score, "ei kiitos" and its kin as a decline, STOP/LOPETA/SLUTA and their kin as an opt-out.
STATED = ("words", "score_comment", "pleasantry", "decline", "optout")


def test_fresh_sets_are_large() -> None:
    assert len(ROWS) >= 250
    assert len(redaction_corpus.load("fresh")) >= 250
    assert len(read_labelled(bench_fresh.TOPICS)) >= 200
    assert set(STATED) <= set(CATEGORY.values())


def test_no_reply_raises_whatever_the_question_or_language() -> None:
    for row in ROWS:
        for kind in (*KINDS, "bogus"):
            for lang in ("fi", "sv", "en", None, "xx"):
                read_reply(row.text, kind, lang)


@pytest.mark.parametrize("row", [r for r in ROWS if CATEGORY[r.line] in STATED],
                         ids=lambda r: f"{r.line}")
def test_stated_reply_cases(row: reply_corpus.Row) -> None:
    got = read_reply(row.text, row.kind, row.lang)
    assert row.matches(got), (row.text, got)


def test_redaction_meets_its_goals_on_fresh_text() -> None:
    figures = redaction_corpus.score(redaction_corpus.load("fresh")).figures()
    for kind, goal in bench_fresh.GOALS["redaction_recall"].items():
        assert figures["kinds"][kind]["recall"] >= goal, (kind, figures["kinds"][kind])
    assert figures["precision"] >= bench_fresh.GOALS["redaction_precision"], figures


def test_topics_meet_their_goals_on_fresh_text() -> None:
    scores = evaluate(read_labelled(bench_fresh.TOPICS), classify)["all"]
    assert scores.topic_micro_f1 >= bench_fresh.GOALS["topic_micro_f1"], scores
    assert scores.tone_accuracy >= bench_fresh.GOALS["tone_accuracy"], scores
