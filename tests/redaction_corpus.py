"""The redaction corpus (tests/data/redaction_corpus_*.txt) and its scoring.

Two parts, fixed before any tuning: `heldout` (written first, never tuned against) and
`dev`. Each line is `LANG|TEXT`; `[[kind:text]]` marks personal data that must go,
`{{text}}` words that must stay.

Scoring, per kind: recall is the share of marked items whose every non-space character
was covered by some finding (of any kind: a hetu taken for a phone number is still gone);
precision is the share of findings that lie on a marked item and touch no word to keep.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from survey.redact import Finding, Kind, find

DATA = Path(__file__).parent / "data"
PARTS = ("dev", "heldout")
_MARK = re.compile(r"\[\[(\w+):(.+?)\]\]|\{\{(.+?)\}\}")


@dataclass(frozen=True)
class Item:
    """A marked span of a corpus text: personal data of `kind`, or (kind None) a keep."""

    kind: Kind | None
    start: int
    end: int


@dataclass(frozen=True)
class Sample:
    """One corpus text with its marks."""

    part: str
    line: int
    lang: str
    text: str
    items: tuple[Item, ...]


def load(part: str) -> list[Sample]:
    """The samples of one part of the corpus."""
    path = DATA / f"redaction_corpus_{part}.txt"
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        lang, _, marked = raw.partition("|")
        marked = marked.replace("\\n", "\n")
        text, items = _parse(marked)
        out.append(Sample(part, number, lang, text, tuple(items)))
    return out


def _parse(marked: str) -> tuple[str, list[Item]]:
    text: list[str] = []
    items = []
    at = 0
    length = 0
    for m in _MARK.finditer(marked):
        text.append(marked[at:m.start()])
        length += m.start() - at
        inner = m.group(2) if m.group(1) else m.group(3)
        kind = Kind(m.group(1)) if m.group(1) else None
        items.append(Item(kind, length, length + len(inner)))
        text.append(inner)
        length += len(inner)
        at = m.end()
    text.append(marked[at:])
    return "".join(text), items


@dataclass
class Score:
    """Counts of one part: per kind the items and those removed; findings right and wrong."""

    items: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    removed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missed: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """Recall and precision per kind and overall, as JSON-ready numbers."""
        kinds = sorted(set(self.items) | set(self.found))
        per = {k: {"items": self.items[k],
                   "recall": _ratio(self.removed[k], self.items[k]),
                   "findings": self.found[k],
                   "precision": _ratio(self.right[k], self.found[k])} for k in kinds}
        found = sum(self.found.values())
        return {"kinds": per,
                "recall": _ratio(sum(self.removed.values()), sum(self.items.values())),
                "precision": _ratio(sum(self.right.values()), found),
                "findings": found, "missed": len(self.missed), "wrong": len(self.wrong)}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score(samples: list[Sample]) -> Score:
    """Run the redaction over `samples` and count."""
    s = Score()
    for sample in samples:
        findings = find(sample.text, sample.lang)
        covered = set()
        for f in findings:
            covered.update(range(f.start, f.end))
        for item in sample.items:
            if item.kind is None:
                continue
            s.items[item.kind] += 1
            chars = [i for i in range(item.start, item.end) if not sample.text[i].isspace()]
            if all(i in covered for i in chars):
                s.removed[item.kind] += 1
            else:
                s.missed.append(f"{sample.line}: {item.kind}: "
                                f"{sample.text[item.start:item.end]!r} in {sample.text!r}")
        for f in findings:
            s.found[f.kind] += 1
            if _right(f, sample.items):
                s.right[f.kind] += 1
            else:
                s.wrong.append(f"{sample.line}: {f.kind}: "
                               f"{sample.text[f.start:f.end]!r} in {sample.text!r}")
    return s


def _right(f: Finding, items: tuple[Item, ...]) -> bool:
    overlaps = [i for i in items if i.start < f.end and f.start < i.end]
    return any(i.kind is not None for i in overlaps) and all(
        i.kind is not None for i in overlaps)
