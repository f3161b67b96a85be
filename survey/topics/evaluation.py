"""Scoring a labelled set: topic micro/macro F1 and tone accuracy, per language.

A labelled file has one text a line, `lang<TAB>topics<TAB>tone<TAB>text` (topics
comma-separated, possibly empty); lines starting with # are comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from survey.topics.classifier import Classification
from survey.topics.lexicon import LexiconError
from survey.topics.taxonomy import LANGUAGES, TOPIC_BY_SLUG, Tone


@dataclass(frozen=True)
class Labelled:
    """One text with the topics and tone a person gave it."""

    lang: str
    topics: frozenset[str]
    tone: Tone
    text: str


def read_labelled(path: Path) -> list[Labelled]:
    """Every labelled text of a file; a bad line is an error naming the file and line."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{path}:{number}"
        if len(fields) != 4:
            raise LexiconError(f"{where}: expected lang, topics, tone, text separated by tabs")
        lang, topics, tone, text = fields
        slugs = frozenset(t for t in topics.split(",") if t)
        if lang not in LANGUAGES or not slugs <= TOPIC_BY_SLUG.keys():
            raise LexiconError(f"{where}: unknown language or topic in {lang!r} {topics!r}")
        try:
            items.append(Labelled(lang, slugs, Tone(tone), text))
        except ValueError:
            raise LexiconError(f"{where}: unknown tone {tone!r}") from None
    return items


@dataclass(frozen=True)
class Scores:
    """Figures for one language (or all): how many texts and how well they were read."""

    texts: int
    topic_micro_f1: float
    topic_macro_f1: float
    tone_accuracy: float

    def to_json(self) -> dict[str, float | int]:
        """Rounded figures for the benchmark's JSON."""
        return {
            "texts": self.texts,
            "topic_micro_f1": round(self.topic_micro_f1, 3),
            "topic_macro_f1": round(self.topic_macro_f1, 3),
            "tone_accuracy": round(self.tone_accuracy, 3),
        }


def _f1(tp: int, fp: int, fn: int) -> float:
    # A language with no topics in either gold or prediction has nothing wrong in it.
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def score(pairs: Iterable[tuple[Labelled, Classification]]) -> Scores:
    """Micro-F1 over all topic decisions, macro-F1 over the topics seen, tone accuracy."""
    counts: dict[str, list[int]] = {}
    texts = tone_right = 0
    for gold, got in pairs:
        texts += 1
        tone_right += gold.tone is got.tone
        predicted = set(got.topics)
        for slug in gold.topics | predicted:
            tp_fp_fn = counts.setdefault(slug, [0, 0, 0])
            if slug in gold.topics and slug in predicted:
                tp_fp_fn[0] += 1
            elif slug in predicted:
                tp_fp_fn[1] += 1
            else:
                tp_fp_fn[2] += 1
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    macro = sum(_f1(*c) for c in counts.values()) / len(counts) if counts else 1.0
    return Scores(texts, _f1(tp, fp, fn), macro, tone_right / texts if texts else 0.0)


def evaluate(
    items: list[Labelled], classify: Callable[[str, str], Classification]
) -> dict[str, Scores]:
    """Scores per language and for all texts together ("all")."""
    pairs = [(item, classify(item.text, item.lang)) for item in items]
    result = {"all": score(pairs)}
    for lang in LANGUAGES:
        mine = [pair for pair in pairs if pair[0].lang == lang]
        if mine:
            result[lang] = score(mine)
    return result
