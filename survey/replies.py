"""Reading one SMS reply text: an answer, an opt-out, or unclear.

Pure: text in, `Reply` out, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ReplyKind = Literal["answer", "optout", "unclear"]


@dataclass(frozen=True)
class Reply:
    """What a reply says: `answer` (value and/or comment), `optout`, or `unclear`."""

    kind: ReplyKind
    value: int | None = None
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "comment": self.comment}


def read_reply(text: str, kind: str, lang: str | None = None) -> Reply:
    """Read `text` as a reply to a question of `kind` (nps, smileys, likert, text)."""
    raise NotImplementedError  # built in the reply-reader change
