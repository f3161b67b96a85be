"""Personal data out of free text: the one redaction of every channel and the central.

`redact(text, lang)` finds Finnish personal identity codes (henkilötunnus, in any written
form, valid check character or not), phone numbers (Finnish and international, any
separators, glued to words), e-mail addresses (also 'matti at example.fi'), IBANs (any
country, spaced or not), Finnish and Swedish street addresses and postcodes, and person
names (survey.redact_names), and replaces each with a typed placeholder in the text's
language: "[hetu]", "[puhelinnumero]"… It keeps what is not personal: times, durations,
dates, room numbers, prices, years and scores.

Pure: text in, text and findings out. Redacting a redacted text changes nothing, so the
central may redact again what a device already did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from survey import redact_patterns as p
from survey.redact_names import find_names
from survey.response import Response


class Kind(StrEnum):
    """The kinds of personal data found in free text."""

    HETU = "hetu"
    PHONE = "phone"
    EMAIL = "email"
    IBAN = "iban"
    ADDRESS = "address"
    NAME = "name"


PLACEHOLDERS: dict[str, dict[Kind, str]] = {
    "fi": {Kind.HETU: "[hetu]", Kind.PHONE: "[puhelinnumero]", Kind.EMAIL: "[sähköposti]",
           Kind.IBAN: "[tilinumero]", Kind.ADDRESS: "[osoite]", Kind.NAME: "[nimi]"},
    "sv": {Kind.HETU: "[personbeteckning]", Kind.PHONE: "[telefonnummer]",
           Kind.EMAIL: "[e-post]", Kind.IBAN: "[kontonummer]", Kind.ADDRESS: "[adress]",
           Kind.NAME: "[namn]"},
    "en": {Kind.HETU: "[id-number]", Kind.PHONE: "[phone]", Kind.EMAIL: "[email]",
           Kind.IBAN: "[account]", Kind.ADDRESS: "[address]", Kind.NAME: "[name]"},
}
FALLBACK_LANGUAGE = "en"
_ALL_PLACEHOLDERS = re.compile(
    "|".join(re.escape(p) for marks in PLACEHOLDERS.values() for p in marks.values()))
# When two findings overlap, the one of the kind listed first wins.
_PRIORITY = (Kind.EMAIL, Kind.IBAN, Kind.HETU, Kind.PHONE, Kind.ADDRESS, Kind.NAME)


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind and where it is in the original text."""

    kind: Kind
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """A redacted text and what was taken out of it."""

    text: str
    findings: tuple[Finding, ...]


def redact(text: str, lang: str) -> Redaction:
    """`text` with each piece of personal data replaced by its placeholder in `lang`.

    A language without placeholders of its own (a Sámi survey, an old import) gets the
    English ones: the data goes whatever the language.
    """
    findings = find(text, lang)
    marks = PLACEHOLDERS.get(lang, PLACEHOLDERS[FALLBACK_LANGUAGE])
    out: list[str] = []
    at = 0
    for f in findings:
        out.append(text[at:f.start])
        out.append(marks[f.kind])
        at = f.end
    out.append(text[at:])
    return Redaction("".join(out), tuple(findings))


def redact_text(text: str, lang: str) -> str:
    """Just the redacted text (see `redact`)."""
    return redact(text, lang).text


def redact_response(resp: Response) -> Response:
    """`resp` with the text of every answer redacted (the same response when none changes)."""
    texts = {q: redact_text(a.text, resp.lang) for q, a in resp.answers.items()
             if a.text is not None}
    changed = {q: t for q, t in texts.items() if t != resp.answers[q].text}
    return resp.with_texts(changed) if changed else resp


def find(text: str, lang: str) -> list[Finding]:
    """The personal data in `text` (written in `lang`), in order, without overlaps."""
    protected = [(m.start(), m.end()) for m in _ALL_PLACEHOLDERS.finditer(text)]
    found: list[Finding] = []
    found += [Finding(Kind.EMAIL, s, e) for s, e in p.find_emails(text)]
    found += [Finding(Kind.IBAN, s, e) for s, e in p.find_ibans(text)]
    found += [Finding(Kind.HETU, s, e) for s, e in p.find_hetus(text)]
    found += [Finding(Kind.PHONE, s, e) for s, e in p.find_phones(text)]
    found += [Finding(Kind.ADDRESS, s, e) for s, e in p.find_addresses(text)]
    found += [Finding(Kind.NAME, s, e) for s, e in find_names(text, lang)]
    rank = {k: i for i, k in enumerate(_PRIORITY)}
    found.sort(key=lambda f: (rank[f.kind], -(f.end - f.start), f.start))
    chosen: list[Finding] = []
    for f in found:
        if any(f.start < e and s < f.end for s, e in protected):
            continue
        if any(f.start < c.end and c.start < f.end for c in chosen):
            continue
        chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)
