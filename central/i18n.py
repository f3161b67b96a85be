"""The report's language: one message catalogue per language, and Finnish number formats.

Messages are gettext catalogues (`central/locale/LANG/LC_MESSAGES/report.po`), read with
Babel when first needed: the msgid is the English text, so English needs no catalogue. A
message may carry `{name}` fields, filled by `Lang.t(msgid, name=…)`. Numbers and dates
are formatted by Babel in the language's Finnish locale (fi_FI, sv_FI; en_GB), so a
Finnish or Swedish reader sees "73,6" and "112 224", and "4.3.2025".
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from babel.dates import format_date, format_skeleton
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from survey.errors import PalauteError

log = logging.getLogger(__name__)

LANGS = ("fi", "sv", "en")
LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "report"


class LanguageError(PalauteError, ValueError):
    """A report language that has no catalogue."""


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation of `lang` (empty for English: the msgids are English)."""
    if lang not in LANGS:
        raise LanguageError(f"no report language {lang!r} (use {', '.join(LANGS)})")
    if lang == "en":
        return {}
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as f:
        cat = read_po(f, locale=LOCALES[lang], domain=DOMAIN)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy}


@dataclass
class Lang:
    """Translations and number/date formats of one language; records what it missed."""

    code: str
    missing: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.messages = catalogue(self.code)
        self.locale = LOCALES[self.code]

    def t(self, msgid: str, **fields: object) -> str:
        """The message in this language with its `{fields}` filled in."""
        text = msgid
        if self.code != "en":
            found = self.messages.get(msgid)
            if found is None:
                if msgid not in self.missing:
                    log.warning("report: no %s translation for %r", self.code, msgid)
                self.missing.add(msgid)
            else:
                text = found
        return text.format(**fields) if fields else text

    def num(self, value: float | None, places: int = 1, dash: str = "–",
            sign: bool = False) -> str:
        """A decimal in the language's format ("73,6"); `sign` writes "+" on a rise."""
        if value is None:
            return dash
        value = round(value + 0.0, places) + 0.0  # no "-0,0"
        pattern = "0" + ("." + "0" * places if places else "")
        text = format_decimal(value, format=("+" + pattern + ";-" + pattern) if sign
                              else pattern, locale=self.locale)
        return text.replace("\u2212", "-")  # one minus sign, as typed in the counties' reports

    def count(self, n: int) -> str:
        """A whole number with the language's grouping ("112 224", "112,224")."""
        return format_decimal(n, format="#,##0", locale=self.locale).replace("\xa0", "\u202f")

    def day(self, d: date) -> str:
        """A date as the language writes it ("4.3.2025", "4 Mar 2025")."""
        return format_date(d, format="short" if self.code == "fi" else "medium",
                           locale=self.locale)

    def month(self, label: str) -> str:
        """A month label "YYYY-MM" as "maalis 2025" / "mars 2025" / "Mar 2025"."""
        d = date.fromisoformat(label + "-01")
        return format_skeleton("yMMM", d, locale=self.locale)

    def month_short(self, label: str) -> str:
        """A month label "YYYY-MM" for a chart axis: "3/25"."""
        return f"{int(label[5:7])}/{label[2:4]}"
