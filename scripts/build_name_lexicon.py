"""Build survey/data/names.tsv.gz, the name lexicon of the free-text redaction.

Run on a developer's machine when the lexicon should be refreshed, never on a device:

    python3 -m venv /tmp/lexenv
    /tmp/lexenv/bin/pip install names-dataset faker libvoikko
    apt-get install voikko-fi wswedish wamerican wbritish
    /tmp/lexenv/bin/python scripts/build_name_lexicon.py survey/data/names.tsv.gz

Sources: names-dataset (first names and surnames by country; those ranked in Finland
or Sweden), Faker's fi_FI and sv_SE person lists (from the Finnish population register's
open data) and its Finnish municipalities. A name that is also an ordinary word (Voikko's
Finnish analysis, the Swedish and English word lists, a short list below) is marked
ambiguous: the redaction takes it for a name only where the context says so.

Each line: the name, a tab, its marks: f first name, l surname, c municipality,
p also a place, a also an ordinary word, s also an inflected form of a word
('Anna': give!), r among the register's most given names.
"""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import pickle
import re
import sys
from pathlib import Path

# Finnish names that are also words but that Voikko's analysis knows only as names.
ALSO_WORDS = {
    "aino", "ilo", "lempi", "rauha", "sulo", "armas", "lahja", "tuuli", "valo", "into",
    "sisu", "taimi", "tähti", "kielo", "lumi", "satu", "helmi", "onerva", "aamu", "ruusu",
    "säde", "pilvi", "aalto", "kivi", "mäki", "niemi", "lahti", "ranta", "saari", "järvi",
    "koski", "virta", "laine", "kallio", "salo", "vuori", "nurmi", "metsä", "suo", "harju",
    "hyvä", "kiitos", "tosi", "ihan", "kiva", "paras", "hoitaja", "lääkäri", "meri", "taisto",
    "voitto", "urho", "rohkea", "kaino", "vieno", "siru", "vilja", "mielikki", "kuura",
    "onni", "toivo", "usko", "oiva", "auvo", "tyyne", "hellä", "ihana", "kauko", "lauri",
    "finnish", "swedish", "english", "estonian", "russian", "german", "suomi", "ruotsi",
    "mulle", "sulle", "kuus", "viis", "seittemän", "kaheksan", "yks", "kaks",
    "veli", "sisko", "orvokki", "kanerva", "lilja", "karhu", "kurki",
    "tikka", "varis", "kiuru", "repo", "korpi", "laakso", "lehto", "rinne",
    "will", "mark", "bill", "may", "grace", "hope", "rose", "frank", "guy", "art", "love",
    "joy", "faith", "sky", "storm", "bo", "per", "dag", "björn", "stig", "sten", "rut",
    "linnea", "vide", "saga", "said", "stark", "frisk", "modig", "strand", "berg",
    "skog", "lund", "holm", "blom", "borg", "nord", "palm", "wall", "hall", "green",
}
NAME_CLASSES = {"etunimi", "sukunimi"}
# Voikko's closed word classes: adverbs, conjunctions, pronouns, adpositions, interjections.
LITTLE_WORDS = {"seikkasana", "sidesana", "asemosana", "kieltosana", "suhdesana",
                "huudahdussana"}
MAX_FIRST_RANK = 4000
MAX_LAST_RANK = 12000
MIN_SHARE = 0.05
WORD_LISTS = ("/usr/share/dict/svenska", "/usr/share/dict/american-english",
              "/usr/share/dict/british-english")
_SHAPE = re.compile(r"[A-ZÅÄÖÜÉ][a-zåäöüéèáíóúøæ]+(?:-[A-ZÅÄÖÜÉ][a-zåäöüéèáíóúøæ]+)?")


def _dataset(kind: str) -> dict[str, dict[str, object]]:
    spec = importlib.util.find_spec("names_dataset")
    assert spec and spec.origin
    path = Path(spec.origin).parent / "v3" / f"{kind}.pkl.gz"
    with gzip.open(path) as f:
        data: dict[str, dict[str, object]] = pickle.load(f)
    return data


def _ranked(kind: str, countries: tuple[str, ...], max_rank: int) -> set[str]:
    """Names among the `max_rank` most common in one of `countries`, and not mostly
    elsewhere (the data set's tail has words and nicknames: 'Kuus', 'Ihminen')."""
    out = set()
    for name, info in _dataset(kind).items():
        rank = info.get("rank") or {}
        share = info.get("country") or {}
        assert isinstance(rank, dict) and isinstance(share, dict)
        if any((rank.get(c) or max_rank + 1) <= max_rank and (share.get(c) or 0) >= MIN_SHARE
               for c in countries):
            out.add(name)
    return out


def _faker(locale: str) -> tuple[set[str], set[str], set[str]]:
    person = importlib.import_module(f"faker.providers.person.{locale}").Provider
    first = set(person.first_names_female) | set(person.first_names_male)
    last = set(person.last_names)
    address = importlib.import_module(f"faker.providers.address.{locale}").Provider
    cities = set(getattr(address, "cities", ())) if locale == "fi_FI" else set()
    return first, last, cities


def _words() -> set[str]:
    words: set[str] = set()
    for path in WORD_LISTS:
        raw = Path(path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # Debian's Swedish list is in ISO-8859-1
        for line in text.splitlines():
            word = line.strip()
            if word and word == word.lower() and "'" not in word:
                words.add(word)
    return words


def _word_marks(voikko: object, name: str, words: set[str], common: bool) -> set[str]:
    """'p' when `name` is also a place, 'a' when also an ordinary word (a compound of words
    is not), 's' when its spelling is also an inflected word.

    For a `common` name (the register's most given ones), only a word's base form makes
    it 'a': 'Aleksi' is also 'ale' inflected, but nobody writes that.
    """
    low = name.lower()
    marks = set()
    if low in ALSO_WORDS or (low in words and not common):
        marks.add("a")
    elif low in words:
        marks.add("s")  # Inga, Max, Else: a name, but a word at a sentence's start
    classes = set()
    for form in (name, low):
        for a in voikko.analyze(form):  # type: ignore[attr-defined]
            cls = a.get("CLASS")
            classes.add(cls)
            simple = a.get("STRUCTURE", "=").count("=") == 1
            if cls not in NAME_CLASSES and cls != "paikannimi" and simple:
                # A common name that is also a rare word (Matti: checkmate) stays a name;
                # those whose word is common are in ALSO_WORDS, and a little word (aina:
                # always, vaan: but) is always common.
                marks.add("a" if cls in LITTLE_WORDS or not common else "s")
    if "paikannimi" in classes and not classes & NAME_CLASSES and not common:
        marks.add("p")  # a place before a name (Nieminen is a village too, but a name first)
    return marks


def _little_word(voikko: object, name: str) -> bool:
    """Whether `name` written small is an adverb, conjunction, pronoun or the like."""
    return any(a.get("CLASS") in LITTLE_WORDS
               for a in voikko.analyze(name.lower()))  # type: ignore[attr-defined]


def main(out: Path) -> None:
    import libvoikko

    voikko = libvoikko.Voikko("fi")
    first = _ranked("first_names", ("FI", "SE"), MAX_FIRST_RANK)
    last = _ranked("last_names", ("FI", "SE"), MAX_LAST_RANK)
    cities: set[str] = set()
    register: set[str] = set()
    for locale in ("fi_FI", "sv_SE"):
        f, la, c = _faker(locale)
        register |= f | la
        first |= f
        last |= la
        cities |= c
    words = _words()
    marks: dict[str, set[str]] = {}
    for names, mark in ((first, "f"), (last, "l"), (cities, "c")):
        for name in names:
            name = name.strip()
            if len(name) < 3 or not _SHAPE.fullmatch(name):
                continue
            marks.setdefault(name, set()).add(mark)
    for name, m in marks.items():
        if "c" in m:
            m.add("p")
        if "-" not in name:
            m |= _word_marks(voikko, name, words, name in register)
        if name in register:
            m.add("r")
            if name.endswith("nen") and not name.endswith(("lainen", "läinen")) \
                    and name.lower() not in ALSO_WORDS | words:
                m.discard("a")  # Mäkinen, Järvinen: adjectives on paper, surnames in use
    # A little word that only the data set's tail calls a name (vaan: but, joku: someone)
    # is left out: no context makes it one.
    little = {name for name in marks if name not in register and "-" not in name
              and _little_word(voikko, name)}
    lines = [f"{name}\t{''.join(sorted(m))}" for name, m in sorted(marks.items())
             if name not in little]
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(lines)} names", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
