"""Survey definitions as values: questions, per-channel order, texts per language.

A survey is data (a TOML file, see survey/definition.py); these classes are
what the loader returns and what the kiosk and the SMS gateway read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("fi", "sv", "en")
KINDS = ("nps", "smileys", "likert", "text")
SMS_MAX_QUESTIONS = 4
# The value range of each scale kind (inclusive); text has none.
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "smileys": (1, 5), "likert": (1, 5)}


@dataclass(frozen=True)
class Question:
    """One question: its id, kind, prompt per language, and for text its maximum length."""

    id: str
    kind: str
    text: dict[str, str]
    # A shorter prompt for SMS, per language; falls back to `text`.
    sms_text: dict[str, str] = field(default_factory=dict)
    max_length: int | None = None

    @property
    def scale(self) -> tuple[int, int] | None:
        """(lowest, highest) value, or None for free text."""
        return SCALES.get(self.kind)

    def prompt(self, lang: str, channel: str = "kiosk") -> str:
        """The prompt in `lang` for `channel`."""
        if channel == "sms" and lang in self.sms_text:
            return self.sms_text[lang]
        return self.text[lang]


@dataclass(frozen=True)
class Survey:
    """A survey definition: questions by id and, per channel, which are asked in what order."""

    id: str
    version: int
    languages: tuple[str, ...]
    title: dict[str, str]
    questions: dict[str, Question]
    channels: dict[str, tuple[str, ...]]
    # Other texts per language, by name: messages[name][lang]
    # (e.g. sms_intro, sms_thanks, sms_optout, kiosk_welcome, kiosk_thanks).
    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = ""

    def questions_for(self, channel: str) -> list[Question]:
        """The questions asked on `channel` ("kiosk" or "sms"), in order."""
        return [self.questions[qid] for qid in self.channels.get(channel, ())]

    def message(self, name: str, lang: str) -> str:
        """A named message in `lang`, falling back to the survey's first language."""
        texts = self.messages.get(name, {})
        if lang in texts:
            return texts[lang]
        if self.languages and self.languages[0] in texts:
            return texts[self.languages[0]]
        raise KeyError(f"survey {self.id} has no message {name!r}")
