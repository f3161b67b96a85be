"""Words of a text in their dictionary forms: Voikko for Finnish, Snowball stems otherwise.

Finnish: libvoikko with the voikko-fi morphology (Debian packages libvoikko1 and
voikko-fi) gives each word's base form, mood and person, and splits compounds, so
"terveyskeskuslääkärin" is known as "terveyskeskuslääkäri" ending in "lääkäri".
Spoken forms it does not know ("vastannu", "oottaa", "nopeesti") are tried again in
their written shape. Swedish and English: the Snowball stemmers (pure Python).
Measured choices are in the README ("Free-text topics").
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import snowballstemmer  # type: ignore[import-untyped]

from survey.errors import PalauteError


class AnalyserUnavailable(PalauteError):
    """The Finnish morphology (Voikko) is not installed on this machine."""


@dataclass(frozen=True)
class Word:
    """One word of a text: what it is matched by, and the grammar the rules use."""

    surface: str
    keys: tuple[str, ...]
    known: bool = True
    conditional: bool = False
    passive: bool = False
    verb: bool = False

    @property
    def lemmas(self) -> tuple[str, ...]:
        """The keys a compound's last part is looked for in (the surface only if unknown)."""
        if not self.known:
            return self.keys
        return tuple(key for key in self.keys if key != self.surface) or self.keys


class Analyser(Protocol):
    """Turns one lower-case word into a Word; also normalises lexicon patterns."""

    def word(self, surface: str) -> Word: ...

    def normalise(self, pattern: str) -> str: ...


_SWEDISH_ENDINGS = ("n", "en", "an", "et", "na", "orna", "arna", "erna", "a", "e", "t")


class StemAnalyser:
    """Swedish or English: a word is known by its Snowball stem and its own form."""

    def __init__(self, lang: str) -> None:
        self._lang = lang
        self._stemmer = snowballstemmer.stemmer({"sv": "swedish", "en": "english"}[lang])
        self._lock = threading.Lock()

    def normalise(self, pattern: str) -> str:
        """The stem a word is matched by; a stem under four letters is too loose
        ("härlig" and "här" share "här"), so such a word stands for itself."""
        word = pattern.lower()
        with self._lock:
            stem = str(self._stemmer.stemWord(word))
        return stem if len(stem) >= 4 or stem == word else word

    def word(self, surface: str) -> Word:
        """The word's stem and its own form."""
        core = surface.replace("’", "'")
        core = core.split("'")[0] if core.endswith("'s") else core
        stems = [self.normalise(core)]
        if self._lang == "sv":
            # Snowball keeps many definite forms whole ("sköterskan"): try without them too.
            stems += [
                self.normalise(core[: -len(end)])
                for end in _SWEDISH_ENDINGS
                if core.endswith(end) and len(core) - len(end) >= 3
            ]
        return Word(surface, tuple(dict.fromkeys((*stems, core))), verb=True)


# Spoken Finnish written down, tried in this order on words Voikko does not know.
_SPOKEN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(n|nn|ll|rr|ss|t)(u|y)$"), r"\1\2t"),     # vastannu -> vastannut
    (re.compile(r"^oot"), "odot"),                             # oottaa -> odottaa
    (re.compile(r"ee(t|n|sti|lla|ssa)?$"), r"eä\1"),         # hirveet -> hirveät
    (re.compile(r"ee(t|n|sti|lla|ssa)?$"), r"ea\1"),         # nopeesti -> nopeasti
    (re.compile(r"aa(t|n|sti)?$"), r"ea\1"),                  # pitkaa (typo) -> pitkea
    (re.compile(r"eet([aä])$"), r"e\1\1"),                    # nopeeta -> nopeaa
    (re.compile(r"([^aeiouyäö][aeiouyäö])s$"), r"\1si"),      # kohtas -> kohtasi
    (re.compile(r"ii$"), "iin"),                               # jonotettii -> jonotettiin
)


_PAST_PARTICIPLES = ("past_active", "past_passive")
_FIRST_BASE = re.compile(r"^\+[^+(]*\(([^)+]+)\)")


class FinnishAnalyser:
    """Finnish through libvoikko: base forms, compound parts, mood (for requests)."""

    def __init__(self) -> None:
        try:
            import libvoikko  # type: ignore[import-untyped]

            self._voikko: Any = libvoikko.Voikko("fi")
        except (ImportError, OSError, Exception) as exc:  # libvoikko raises its own types
            raise AnalyserUnavailable(
                f"Finnish text analysis needs Voikko ({exc}): install the Debian packages "
                "libvoikko1 and voikko-fi (./dev.sh and scripts/install.sh do)"
            ) from None
        self._lock = threading.Lock()

    def normalise(self, pattern: str) -> str:
        """Finnish lexicon words are written as base forms already."""
        return pattern.lower()

    def _analyse(self, surface: str) -> list[dict[str, str]]:
        with self._lock:
            return list(self._voikko.analyze(surface))

    def word(self, surface: str) -> Word:
        """Base forms (the first three readings), compound parts, conditional mood."""
        analyses = self._analyse(surface)
        if not analyses:
            for pattern, replacement in _SPOKEN:
                written = pattern.sub(replacement, surface, count=1)
                if written != surface and (analyses := self._analyse(written)):
                    break
        if not analyses and "-" in surface:
            parts = [self.word(part) for part in surface.split("-") if part]
            joined = dict.fromkeys([*(key for part in parts for key in part.keys), surface])
            return Word(surface, tuple(joined), all(part.known for part in parts))
        if not analyses:
            return Word(surface, (surface,), known=False)
        keys: list[str] = []
        conditional = passive = verb = False
        for analysis in analyses[:3]:
            base = analysis.get("BASEFORM", surface).lower()
            keys.append(base)
            if "-" in base:
                keys.append(base.rsplit("-", 1)[1])
            verb = verb or analysis.get("CLASS") == "teonsana"
            if analysis.get("PARTICIPLE") in _PAST_PARTICIPLES:
                # "ei kerrottu", "ei auttanut": the verb itself is what the lexicon knows
                verb_base = _FIRST_BASE.search(analysis.get("WORDBASES", ""))
                if verb_base:
                    keys.append(verb_base.group(1).lower())
                    verb = True
            if analysis.get("MOOD") == "conditional":
                conditional = True
                passive = passive or analysis.get("PERSON") == "4"
        keys.append(surface)
        return Word(surface, tuple(dict.fromkeys(keys)), True, conditional, passive, verb)


def analyser(lang: str) -> Analyser:
    """The analyser of `lang` (fi, sv or en)."""
    if lang == "fi":
        return FinnishAnalyser()
    return StemAnalyser(lang)
