"""The SMS texts exactly as the gateway sends them, and whether each fits one SMS.

The invitation is the survey's intro and its first SMS question in one message;
a re-ask names the valid answers. Composing them here, in the core, lets
`palaute survey check` measure the message that is paid for (one segment is 160
GSM-7 characters, or 70 UTF-16 units once a single character needs UCS-2) and
the gateway send exactly that.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

from survey.gsm import SEGMENT_SEPTETS, first_non_gsm7, gsm7_length
from survey.model import Question, Survey

UCS2_SEGMENT_UNITS = 70


@dataclass(frozen=True)
class SmsFit:
    """How a text goes out: its encoding, its length in that encoding, one SMS's limit."""

    encoding: Literal["GSM-7", "UCS-2"]
    length: int
    limit: int
    forced_by: str | None = None  # the first character GSM-7 cannot carry

    @property
    def fits(self) -> bool:
        return self.length <= self.limit

    def describe(self) -> str:
        """`is 276 GSM-7 characters; one SMS holds 160` (with the UCS-2 reason)."""
        if self.encoding == "GSM-7":
            return f"is {self.length} GSM-7 characters; one SMS holds {self.limit}"
        char = self.forced_by or "?"
        return (f"has {char!r} (U+{ord(char):04X}), which GSM-7 cannot send, so it goes as"
                f" UCS-2: {self.length} characters where one SMS holds {self.limit}")


def sms_fit(text: str) -> SmsFit:
    """The encoding the gateway picks for `text` (GSM-7 when it can) and its length."""
    septets = gsm7_length(text)
    if septets is not None:
        return SmsFit("GSM-7", septets, SEGMENT_SEPTETS)
    units = len(text.encode("utf-16-le", errors="surrogatepass")) // 2
    return SmsFit("UCS-2", units, UCS2_SEGMENT_UNITS, first_non_gsm7(text))


def invitation(survey: Survey, lang: str) -> str:
    """The first SMS: the survey's intro and its first SMS question, one per line."""
    questions = survey.questions_for("sms")
    if not questions:
        raise ValueError(f"survey {survey.id} has no SMS questions")
    return f"{survey.message('sms_intro', lang)}\n{questions[0].prompt(lang, 'sms')}"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def clarify(survey: Survey, question: Question, lang: str) -> str:
    """The one re-ask after an unclear reply: sms_clarify naming the valid answers."""
    if not question.scale:
        return question.prompt(lang, "sms")  # any text answers it: ask it again
    low, high = question.scale
    answers = f"{low}-{high}"
    template = survey.message("sms_clarify", lang)
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    values = _Blank(low=str(low), high=str(high), answers=answers, range=answers,
                    prompt=question.prompt(lang, "sms"))
    text = template.format_map(values) if fields else template
    if not fields & {"low", "high", "answers", "range"}:
        # "…Vastaa numerolla." -> "…Vastaa numerolla 0-10."
        text = f"{text.rstrip().rstrip('.')} {answers}."
    return text


def composed(survey: Survey, lang: str) -> list[tuple[str, str]]:
    """(what, text) of every SMS the survey can send in `lang`, as sent."""
    out: list[tuple[str, str]] = []
    questions = survey.questions_for("sms")
    if questions:
        out.append((f"the invitation (sms_intro.{lang} and question {questions[0].id!r})",
                    invitation(survey, lang)))
    for q in questions[1:]:
        out.append((f"question {q.id!r}", q.prompt(lang, "sms")))
    for q in questions:
        if q.scale:
            out.append((f"the re-ask of question {q.id!r} (sms_clarify.{lang})",
                        clarify(survey, q, lang)))
    for name in sorted(survey.messages):
        if name.startswith("sms_") and name not in ("sms_intro", "sms_clarify"):
            out.append((f"message {name}.{lang}", survey.message(name, lang)))
    return out
