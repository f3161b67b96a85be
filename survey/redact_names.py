"""Person names in free text, for survey.redact: a name lexicon and the context rules.

The lexicon (survey/data/names.tsv.gz, built by scripts/build_name_lexicon.py) holds
Finnish and Swedish first names and surnames, each marked when it is also an ordinary
word ('Onni', 'Toivo', 'Laine') or a place ('Lahti'). A word is taken for a name when:
- it follows a role word or an introduction (hoitaja, lääkärille, sjuksköterskan,
  doctor, "nimeni on", "jag heter", "my name is", "terveisin", "kiitos"…);
- it stands next to another name ("Maija Virtanen", "maija virtanen");
- it is a capitalised name that is no ordinary word ("Mikolle", "Virtasen").
Finnish inflection is undone by stripping case endings and reversing the consonant
gradation (Pekalle → Pekka, Virtasen → Virtanen, Mattia → Matti) before the look-up.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import IntEnum
from functools import cache
from importlib import resources

# A word: letters, with inner hyphens or apostrophes (Maija-Liisa, O'Brien, Smith's).
WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")

# Role words, matched at the start of a (lower-cased) word so that their inflected
# forms count too: hoitajalle, lääkärin, sjuksköterskan, läkaren, doctor's.
_ROLE = re.compile(
    r"(?:\w*hoitaja|\w*lääkär|tohtor|tri$|dr$|doc$|doctor|nurse|kätilö|\w*terapeut|"
    r"psykolog|kuraattor|sosiaalityöntekijä|farmaseut|proviisor|ensihoitaja|"
    r"\w*sjuksköterska|\w*läkare|doktor|barnmorska|\w*skötare|kurator|professor|prof$|"
    r"midwife|physio|therapist|dentist|surgeon|paramedic|sister$|herra|rouva|mr$|mrs$|"
    r"ms$|miss$|neiti|fru$|herr$|lääk$|sh$|th$|ft$|lh$|"
    # specialists, students and the staff around them
    r"(?:psyko|neuro|kardio|radio|gyneko|uro|onko|reumato|endokrino|gastroentero|"
    r"dermato|hemato|nefro|keuhko)log|\w*kirurg|psykiatr|ortoped|anestesiolog|"
    r"\w*virkailija|\w*sihteeri|\w*opiskelija|harjoittelija|kandi$|kandille|kandin|"
    r"amanuenssi|suuhygienist|optikko|optikolle|bioanalyytik|sosionom|\w*ohjaaja|"
    r"avustaja|kuljettaja|vahtimestar|tulkki|tulkille|tulkin|diakon|\w*sköterska|"
    r"receptionist|sekreterare|consultant|registrar|psychologist|porter$|gp$)"
)
# Phrases after which the next words are a name (lower-cased, words joined by one space).
_INTROS = (
    "nimeni on", "nimi on", "mun nimi on", "minun nimeni on", "olen", "oon", "mä oon",
    "terveisin", "terv", "t", "yst terv", "ystävällisin terveisin", "kiitos", "kiitokset",
    "kiitti", "kiittää", "terkuin", "terkut", "terkkuja", "jag heter", "mitt namn är",
    "jag är", "hälsningar", "hälsar", "vänliga hälsningar", "mvh", "tack",
    "tack till", "my name is", "i am", "i'm", "im", "this is", "regards", "best regards",
    "kind regards", "thanks", "thank you", "thanks to", "cheers",
    "poikani", "tyttäreni", "mieheni", "vaimoni", "äitini", "isäni", "lapseni", "meidän",
    "min son", "min dotter", "min man", "min fru", "my son", "my daughter", "my wife",
    "my husband",
)
_INTRO_WORDS = {tuple(p.split()) for p in _INTROS}
_INTRO_MAX = max(len(p) for p in _INTRO_WORDS)
# Introductions strong enough to take an unknown capitalised word as a name.
_STRONG_INTROS = {("nimeni", "on"), ("nimi", "on"), ("jag", "heter"), ("my", "name", "is"),
                  ("mitt", "namn", "är"), ("mun", "nimi", "on"), ("minun", "nimeni", "on")}
_JOINERS = {"ja", "sekä", "tai", "och", "and", "&", ","}
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$|^\s*$")

# Finnish case endings (longest first), and the Swedish/English genitive.
_ENDINGS = ("lle", "lta", "ltä", "lla", "llä", "ssa", "ssä", "sta", "stä", "na", "nä", "ta",
            "tä", "n", "a", "ä", "s")
_PARTITIVE = {"ta", "tä", "a", "ä"}
# The Swedish and English genitive: only on common names ('Annas', not 'Kallis', 'Miinus').
_GENITIVE_S = {"s", "'s", "’s"}
_AFTER_VOWEL = {"a", "ä", "n"}
# Endings after which a stem shows the weak grade of its consonant (Pekka → Pekan).
_WEAK_GRADE = {"n", "lle", "lta", "ltä", "lla", "llä", "ssa", "ssä", "sta", "stä"}
_GRADE_BACK = (("kk", "k"), ("pp", "p"), ("tt", "t"), ("t", "d"), ("p", "v"), ("nt", "nn"),
               ("lt", "ll"), ("rt", "rr"), ("nk", "ng"), ("mp", "mm"))
_VOWELS = "aeiouyäöå"
_LOCATIVES = {"ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä"}
# Cases a text puts a person in far more than a thing: to, from, of (Maijalle, Pekan).
_NAME_CASES = {"lle", "lta", "ltä", "n", "'s", "’s"}


@dataclass(frozen=True)
class NameInfo:
    """What the lexicon says of a word: a name at all, and what else it may be."""

    known: bool
    word: bool = False            # also an ordinary word: needs context or a capital
    place: bool = False           # also a place (Lahti, Salo): needs context
    inflected_word: bool = False  # its spelling is also an inflected word ('Anna', 'Alan')
    ending: str = ""              # the case ending taken off to find it ("" as written)
    common: bool = False          # among the register's most given names
    first: bool = False           # a first name
    last: bool = False            # a surname

    @property
    def exact(self) -> bool:
        """The word as written is in the lexicon (not inflected)."""
        return self.known and not self.ending

    @property
    def locative(self) -> bool:
        """Inflected in a case that says where (Lahdessa, Imatralla): a place's, not a name's."""
        return self.ending in _LOCATIVES

    @property
    def strong(self) -> bool:
        """A name that is nothing else."""
        return self.known and not (self.word or self.place)


UNKNOWN = NameInfo(False)
# Capitalised words that are never taken for names without context.
_NEVER = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "christmas", "easter", "god", "jumala", "herra",
    "juhannus", "joulu", "pääsiäinen", "kela", "hus", "tays", "oys", "kys", "tyks",
    "mehiläinen", "terveystalo", "pihlajalinna", "attendo", "esperi", "coronaria", "aava",
    "omaolo", "omakanta", "apotti", "kanta", "sote", "hyvinvointialue",
    "äiti", "isä", "mummo", "mummi", "mummu", "pappa", "vaari", "ukki", "isoäiti", "isoisä",
    "mamma", "mormor", "farmor", "morfar", "farfar", "mom", "dad", "mum", "granny",
    "grandma", "grandpa", "tytär", "poika", "vauva",
}
# Words after which a name names a place or an institution: 'Auroran sairaala'.
_INSTITUTION = re.compile(
    r"(?:sairaala|terveysasema|terveyskeskus|keskussairaala|sjukhus|hälsocentral|hospital|"
    r"apteek|koulu|kirkko|sjukhem|health|clinic|kartano|koti$|kodissa|kotiin|kodin|"
    r"klinik|kaupungi|kaupunki|yliopist|kunna|kunta|keskus|keskuks|asema)")


@cache
def _lexicon() -> dict[str, str]:
    data = resources.files("survey").joinpath("data/names.tsv.gz").read_bytes()
    out: dict[str, str] = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        name, _, marks = line.partition("\t")
        out[name.lower()] = marks
    return out


def _stems(low: str) -> list[tuple[str, str]]:
    """(base form, ending) pairs a Finnish (or Swedish/English genitive) word may come from."""
    out = [(low, "")]
    for end in ("'s", "’s", "'", "’"):
        if low.endswith(end):
            out.append((low[: -len(end)], end))
    if len(low) > 4 and low[-1] == "n" and low[-2] == low[-3] and low[-2] in _VOWELS:
        out.append((low[:-2], low[-2:]))  # illative: Pekkaan, Mattiin
    for end in _ENDINGS:
        stem = low[: -len(end)]
        if not low.endswith(end) or len(stem) < 3:
            continue
        if end in _AFTER_VOWEL and stem[-1] not in _VOWELS:
            continue  # 'Sama' is not Sam's partitive (that is Samia)
        out.extend((form, end) for form in _rebuild(stem, end))
    return out


def _rebuild(stem: str, ending: str) -> list[str]:
    """The nominative forms an inflection stem may belong to (Virtase+n → Virtanen)."""
    forms = [stem]
    if stem.endswith("se") and ending not in _PARTITIVE:
        forms.append(stem[:-2] + "nen")
    if stem.endswith("s") and ending in _PARTITIVE:
        forms.append(stem[:-1] + "nen")
    if stem.endswith("kse"):
        forms.append(stem[:-3] + "s")  # Niklakselle, Tuomaksen: Niklas, Tuomas
    if len(stem) > 3 and stem.endswith("i") and stem[-2] not in _VOWELS:
        forms.append(stem[:-1])  # a name ending in a consonant: Ahmedille, Karinin
    if stem.endswith("ee"):
        forms.append(stem[:-1])
    if stem.endswith("e"):
        forms.append(stem[:-1] + "i")
    if ending not in _WEAK_GRADE:
        return forms
    more = []
    for form in forms:
        body, vowel = form[:-1], form[-1]
        if vowel not in _VOWELS:
            continue
        for strong, weak in _GRADE_BACK:
            # The weak grade sits just before the stem's last vowel: Peka → Pekka.
            if body.endswith(weak) and len(body) > len(weak):
                more.append(body[: -len(weak)] + strong + vowel)
    return forms + more


@cache
def name_info(word: str) -> NameInfo:
    """The lexicon's view of `word`, any case, inflected or not (cached: texts repeat words).

    Of the base forms an inflected word may come from, a plain name wins over one that is
    also a word or a place.
    """
    lexicon = _lexicon()
    low = word.lower()
    if low in _NEVER:
        return UNKNOWN
    if "-" in low and low not in lexicon:
        parts = [name_info(p) for p in low.split("-")]
        if all(p.known for p in parts):
            return NameInfo(True, all(p.word for p in parts), all(p.place for p in parts))
        return UNKNOWN
    marks = lexicon.get(low)
    if marks is not None and set(marks) & {"f", "l"}:
        return _info(marks, "")
    found = [_info(m, end) for stem, end in _stems(low)[1:]
             if stem not in _NEVER and (m := lexicon.get(stem)) is not None
             and set(m) & {"f", "l"} and (end not in _GENITIVE_S or "r" in m)]
    if not found:
        return UNKNOWN
    best = min(found, key=lambda i: (i.place, i.word, i.inflected_word))
    return replace(best, common=any(i.common for i in found))


def _info(marks: str, ending: str) -> NameInfo:
    return NameInfo(True, "a" in marks, "p" in marks, "s" in marks, ending, "r" in marks,
                    "f" in marks, "l" in marks)


def is_municipality(word: str) -> bool:
    """Whether `word` (any case) is the name of a Finnish municipality."""
    return "c" in _lexicon().get(word.lower(), "")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def low(self) -> str:
        return self.text.lower()

    @property
    def capital(self) -> bool:
        return self.text[:1].isupper()


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]


def _is_role(token: _Token) -> bool:
    return _ROLE.match(token.low.replace("’", "'").split("'")[0]) is not None


def _sentence_start(text: str, token: _Token) -> bool:
    return _SENTENCE_END.search(text[: token.start]) is not None


class _Cue(IntEnum):
    """How strongly the words before say that a name follows."""

    WEAK = 0    # kiitos, terveisin, olen…
    ROLE = 1    # hoitaja, lääkärille, doctor…
    STRONG = 2  # nimeni on, jag heter, my name is


def _name_like(tok: _Token, *, cue: _Cue, capitals: bool) -> bool:
    """Whether `tok` may be a name where the context already says a name follows."""
    if _is_role(tok) or tok.low in _JOINERS:
        return False
    info = name_info(tok.text)
    capital = capitals and tok.capital
    strong_context = cue is _Cue.STRONG
    if info.known:
        if info.place and info.locative:
            return False  # "lääkäri Lahdessa": where, not who
        if cue is _Cue.WEAK and not (info.exact or info.common) and len(info.ending) == 1:
            return False  # "kiitti vaan": a rare name's genitive is a word more likely
        return capital or strong_context or (
            info.strong and info.exact and not info.inflected_word) or (
            info.common and info.ending in {"lle", "lta", "ltä"})
    return strong_context and (capital or not capitals) and len(tok.text) >= 2


def _initial_after(text: str, end: int) -> int:
    """End of an initial right after a name ending at `end` ("Maija V."), else `end`."""
    m = re.match(r"[ \t]+[A-ZÅÄÖ](?:\.|(?![\w\-]))", text[end:])
    return end + m.end() if m else end


def _capitals_say_nothing(text: str) -> bool:
    """Whether the text is written in capitals or Title Case, so a capital marks no name."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        return True
    # Title Case: the ordinary words (not the names) mostly capitalised.
    words = [w for w in WORD.findall(text) if len(w) > 1 and not name_info(w).known]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.7 * len(words)


def find_names(text: str, lang: str) -> list[tuple[int, int]]:
    """Spans (start, end) of person names in `text`, written in `lang`."""
    spans = _find_names(text)
    if lang == "fi":
        return spans
    # Finnish case endings do not occur in Swedish or English: 'av annan åsikt' is no Anna.
    return [(a, b) for a, b in spans if not any(
        (info := name_info(w)).known and info.ending and info.ending not in _GENITIVE_S
        for w in WORD.findall(text[a:b]))]


def _find_names(text: str) -> list[tuple[int, int]]:
    toks = _tokens(text)
    capitals = not _capitals_say_nothing(text)
    spans: list[tuple[int, int]] = []
    taken: set[int] = set()

    def take(i: int, j: int) -> None:
        # One span per name: "Maijalle ja Pekalle" keeps its 'ja'.
        start = i
        for k in range(i, j + 1):
            if k == j or toks[k].low in _JOINERS:
                if k > start:
                    first = toks[start - 1] if _initial(toks, text, start - 1) else toks[start]
                    spans.append((first.start, _initial_after(text, toks[k - 1].end)))
                start = k + 1
        taken.update(range(i, j))

    for i in range(len(toks)):
        trigger = _trigger_before(toks, text, i)
        if trigger is None or i in taken:
            continue
        j = _before_institution(toks, i, _run(text, toks, i, cue=trigger, capitals=capitals))
        if j > i:
            take(i, j)
    for i, tok in enumerate(toks):
        if i in taken:
            continue
        glued = _glued_role(tok)
        if glued is not None:
            spans.append((tok.start, tok.start + glued))
            taken.add(i)
            continue
        j = _free_run(text, toks, i, capitals=capitals)
        if j > i and not (j < len(toks) and _INSTITUTION.match(toks[j].low)):
            take(i, j)
    _joined(text, toks, taken, take, capitals)
    return spans


def _joined(text: str, toks: list[_Token], taken: set[int],
            take: Callable[[int, int], None], capitals: bool) -> None:
    """Names joined to a found one ("Mervi ja Satu", "Satu ja Mervi") are names too."""
    for i, tok in enumerate(toks):
        if i in taken or not (capitals and tok.capital):
            continue
        info = name_info(tok.text)
        if not info.known or info.place or _is_role(tok):
            continue
        for k in (i - 2, i + 2):
            if 0 <= k < len(toks) and k in taken and toks[(i + k) // 2].low in _JOINERS:
                take(i, i + 1)
                break


def _initial(toks: list[_Token], text: str, k: int) -> bool:
    """Whether token k is an initial ("M." of "M. Salo")."""
    return k >= 0 and len(toks[k].text) == 1 and toks[k].text.isupper() \
        and text[toks[k].end: toks[k].end + 1] == "." and k + 1 < len(toks) \
        and re.fullmatch(r"\. ?", text[toks[k].end: toks[k + 1].start]) is not None


_ABBREVIATED = {"tri", "dr", "prof", "mr", "mrs", "ms", "lääk", "sh", "th", "ft", "lh"}


def _trigger_before(toks: list[_Token], text: str, i: int) -> _Cue | None:
    """None when no role word or introduction ends just before token i, else its strength."""
    if i == 0:
        return None
    if _initial(toks, text, i - 1) and toks[i - 1].low not in {"t"}:
        return _trigger_before(toks, text, i - 1)
    prev = toks[i - 1]
    gap = text[prev.end: toks[i].start]
    allowed = r"[ \t.:,(]*" if prev.low in _ABBREVIATED else r"[ \t:,(]*"
    if _is_role(prev) and re.fullmatch(allowed, gap):
        return _Cue.ROLE
    if not re.fullmatch(r"[ \t.:,\-–]*", gap):
        return None
    for n in range(min(_INTRO_MAX, i), 0, -1):
        words = tuple(t.low for t in toks[i - n: i])
        inner = text[toks[i - n].start: prev.end]
        if words in _INTRO_WORDS and not re.search(r"[.!?\n]", inner):
            if "." in gap and words not in {("t",), ("terv",), ("yst", "terv")}:
                return None
            return _Cue.STRONG if words in _STRONG_INTROS else _Cue.WEAK
    return None


def _run(text: str, toks: list[_Token], i: int, *, cue: _Cue, capitals: bool) -> int:
    """End (exclusive token index) of the names starting at token i after a trigger."""
    j = i
    while j < len(toks) and j - i < 4:
        tok = toks[j]
        if j > i:
            # Later words must be names of their own: "hoitaja Maija oli" stops at 'oli'.
            info = name_info(tok.text)
            if not re.fullmatch(r"[ \t]+", text[toks[j - 1].end: tok.start]):
                break
            if not (info.known and (tok.capital or info.strong)) and not (
                    capitals and tok.capital and toks[i].capital and not info.known
                    and len(tok.text) > 2):
                break
        elif not _name_like(tok, cue=cue, capitals=capitals):
            break
        j += 1
        # "hoitajat Maija ja Liisa": a joined name continues the run.
        if j + 1 < len(toks) and toks[j].low in _JOINERS:
            nxt = toks[j + 1]
            info = name_info(nxt.text)
            if not info.place and _name_like(nxt, cue=_Cue.WEAK, capitals=capitals):
                j += 1
    return j


def _before_institution(toks: list[_Token], i: int, j: int) -> int:
    """End of a run cut before a place's genitive that names an institution after it:
    "lääkäri Salon terveyskeskuksesta", "Tampereen Koskiklinikalta" say where, not who."""
    for k in range(i, min(j, len(toks) - 1)):
        after = toks[k + 1]
        if toks[k].low.endswith("n") and name_info(toks[k].text).place \
                and not name_info(after.text).known and _INSTITUTION.search(after.low):
            return k
    return j


def _free_run(text: str, toks: list[_Token], i: int, *, capitals: bool) -> int:
    """End of a name found without context at token i (i when none)."""
    first = toks[i]
    info = name_info(first.text)
    if not info.known or _is_role(first):
        return i
    capital = capitals and first.capital
    j = i + 1
    infos = [info]
    while j < len(toks) and j - i < 3 and re.fullmatch(
            r"[ \t]+", text[toks[j - 1].end: toks[j].start]):
        nxt = name_info(toks[j].text)
        if not nxt.known or _is_role(toks[j]) or (capitals and toks[j].capital) != capital:
            break
        infos.append(nxt)
        j += 1
    if len(infos) >= 2 and not (
            _sentence_start(text, first) and (info.word or info.inflected_word)
            and not (info.first and infos[1].last
                     and (infos[1].strong or _full_name(info, infos[1], capital)))):
        # A full name: one part at least must be a plain name, both when written small;
        # 'Olin Virtasen vastaanotolla' starts with a verb.
        plain = [x.strong and (x.exact or x.common) for x in infos]
        small = all(x.strong and (x.exact or x.common) for x in infos) and any(
            x.exact for x in infos)  # 'liian kallis' is too expensive, not Liia Kallis
        if (capital and any(plain)) or small:
            return j
        infos = infos[:1]
        j = i + 1
    if info.place or info.word:
        return i  # 'Onni', 'Mummo', 'Lahti' alone: a word or a place as often as a name
    if not capital:
        # Written small ('sanna oli ihana'): only a common name that is nothing else.
        lone = info.exact and info.common and not info.inflected_word
        return j if lone and len(first.text) > 3 else i
    if _sentence_start(text, first):
        # 'Onni oli myötä', 'Anna lisää', 'Liian pitkä' (not Liia's), 'Päiviä meni':
        # at a sentence's start only a plain name, or a common one in a case of its own.
        if info.exact:
            return i if info.inflected_word else j
        if not info.common or info.ending not in _NAME_CASES or (
                info.ending == "n" and info.inflected_word):
            return i
    if not (info.exact or info.common) and len(info.ending) == 1:
        return i  # 'Liian': a rare name's genitive, or just 'too'
    if info.inflected_word and 0 < i < len(toks) - 1 and toks[i - 1].capital \
            and toks[i + 1].capital:
        return i  # 'Ei Ole Valittamista': capitals in a row, a word more likely
    return j


def _full_name(first: NameInfo, last: NameInfo, capital: bool) -> bool:
    """A common first name that is no word, then a surname, both capitalised ("Sari Lehto",
    "Aleksi Nurmi"): a full name even at a sentence's start, though the surname is a word."""
    return capital and first.common and first.exact and not first.word and last.exact


def _glued_role(tok: _Token) -> int | None:
    """Length of the name in "Maija-hoitaja", "Mikko-lääkärille", else None."""
    if "-" not in tok.text:
        return None
    head, _, tail = tok.text.partition("-")
    if _ROLE.match(tail.lower()) and name_info(head).known:
        return len(head)
    return None
