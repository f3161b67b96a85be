"""The table corpus of SMS replies as people write them (tests/data/replies_*.tsv).

Two parts: `dev` (the reader is tuned on it; tests assert every row) and
`heldout` (written first and never tuned on; only bench/bench_replies.py reports
it). One row a line: kind, lang, text, expected, separated by tabs. Expected is
`unclear`, `optout`, `decline`, a value (`9`), a value and the comment
(`9|hyvä palvelu`), or `-|text` for a free-text answer. `\\n` in a text is a
line break; `-` as lang means none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from survey.replies import Reply

DATA = Path(__file__).resolve().parent / "data"
PARTS = ("dev", "heldout")


@dataclass(frozen=True)
class Row:
    """One reply with what it says; `line` is where it is in its file."""

    kind: str
    lang: str | None
    text: str
    expected: Reply
    line: int

    def matches(self, got: Reply) -> bool:
        """The same outcome (kind and value); the comment is compared by `==`."""
        return (got.kind, got.value) == (self.expected.kind, self.expected.value)


def expected_reply(field: str) -> Reply:
    """The Reply an expectation column stands for."""
    if field in ("unclear", "optout", "decline"):
        return Reply(field)  # type: ignore[arg-type]
    value, _, comment = field.partition("|")
    return Reply("answer", None if value == "-" else int(value), comment or None)


def load(part: str) -> list[Row]:
    """Every row of one part (`dev` or `heldout`)."""
    path = DATA / f"replies_{part}.tsv"
    rows: list[Row] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, lang, text, expected = line.split("\t")
        rows.append(Row(kind, None if lang == "-" else lang, text.replace("\\n", "\n"),
                        expected_reply(expected), number))
    return rows
