"""Word tables and patterns for survey.replies (Finnish, Swedish, English).

Kept apart from the reader's logic so the vocabulary can be reviewed (and
extended) by someone who reads the languages, not the code. Everything here is
lower case; `variants` adds the forms typed without ä/ö/å.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# --- normalising ---------------------------------------------------------------

_DASHES = frozenset("‐‑‒–—―−﹣－")
_QUOTES = frozenset("’‘`´ʼ")
FRACTIONS = "½¼¾⅓⅔⅛"
KEYCAP_TEN = "\U0001f51f"  # 🔟


@lru_cache(maxsize=8192)
def norm_char(c: str) -> str:
    """One character, lower-cased and compatibility-folded, still one character.

    Keeping the length lets spans found in the normalised text cut the
    person's original text (comments keep their words).
    """
    if c in _DASHES:
        return "-"
    if c in _QUOTES:
        return "'"
    if c.isascii():
        return c.lower()
    digit = unicodedata.decimal(c, None)  # full-width, Arabic-Indic, Devanagari...
    if digit is not None:
        return str(digit)
    nfkc = unicodedata.normalize("NFKC", c)
    if len(nfkc) == 1:
        c = nfkc
        if c.isdecimal():
            return str(unicodedata.decimal(c, 0))
    low = c.lower()
    return low if len(low) == 1 else c


def normalise(text: str) -> str:
    """`text` lower-cased with digits in ASCII, dashes as '-', same length as `text`."""
    if text.isascii():
        return text.lower()
    return "".join(map(norm_char, text))


@lru_cache(maxsize=8192)
def fold(word: str) -> str:
    """`word` without diacritics (ä -> a, å -> a, é -> e) for phrase matching."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def word_set(text: str) -> frozenset[str]:
    """The words of `text` (tables below are written as prose for review)."""
    return frozenset(text.split())


def variants(word: str) -> set[str]:
    """`word` and the form people type without ä/ö/å."""
    return {word, fold(word)}


# --- edit distance ---------------------------------------------------------------


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution
    or swap of two neighbouring letters (optimal string alignment distance <= 1)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # one substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


# Typos are matched only between words of at least this many letters: shorter
# words collide too easily ("yks"/"yksi" are listed explicitly instead).
TYPO_MIN_LEN = 5

# Real words one edit away from a number word; never read as numbers.
TYPO_BLOCK = word_set(
    """there threw these those where light night fight right sight tight might
    weight height eighth seventh sever kaski kaksin kolmas neljas viides kuudes
    kuusta viisas nollaa kasin"""
)

# --- number words --------------------------------------------------------------

# Cardinals ("kolme", "three") start many ordinary sentences ("Kolme hoitajaa...",
# "One of the best"), so they are read as a score only when they are the whole
# reply or are set off by punctuation. Grade names ("kasi", "kymppi", "tia")
# have no other meaning, so they count wherever they lead the reply.
CARDINAL = "cardinal"
GRADE = "grade"
ARTICLE = "article"  # Swedish "en": also an article, and Finnish "I don't"

_NUMBER_TABLE: dict[str, list[str]] = {
    CARDINAL: [
        "nolla noll zero nil",
        "yksi yks yhden ett etta ettan one",
        "kaksi kaks kahden kahta två two",
        "kolme kolmen kolmea tre three",
        "neljä neljän neljää fyra four",
        "viisi viis viiden viittä fem five",
        "kuusi kuus kuuden kuutta sex six",
        "seitsemän seittemän seitsemää sju seven",
        "kahdeksan kaheksan kahdeksaa åtta eight",
        "yhdeksän yheksän yhdeksää nio nine",
        "kymmenen kymmene kymmentä tio ten",
    ],
    GRADE: [
        "nollan nollaa nollanen nollis",
        "ykkönen ykköne ykkösen ykköstä ykkösii ykköset",
        "kakkonen kakkone kakkosen kakkosta tvåa tvåan",
        "kolmonen kolmone kolmosen kolmosta trea trean",
        "nelonen nelone nelosen nelosta fyran",
        "vitonen vitone vitosen vitosta viitonen viitosen femma femman",
        "kutonen kutone kutosen kutosta sexa sexan",
        "seiska seiskan seiskaa sjua sjuan",
        "kasi kasin kasii kasia åttan",
        "ysi ysin ysii ysiä nia nian",
        "kymppi kympin kymppiä kymppii kybä täyskymppi täyskympin tia tian",
    ],
    ARTICLE: ["", "en"],
}
# Before a number word and not the number: "en tia", "ett nia", "a ten".
ARTICLES = frozenset({"en", "ett", "a", "an"})


def _build_numbers() -> dict[str, tuple[int, str]]:
    table: dict[str, tuple[int, str]] = {}
    for cls, rows in _NUMBER_TABLE.items():
        for value, row in enumerate(rows):
            for word in row.split():
                for form in variants(word):
                    table.setdefault(form, (value, cls))
    return table


NUMBER_WORDS: dict[str, tuple[int, str]] = _build_numbers()
_TYPO_KEYS = tuple(w for w in NUMBER_WORDS if len(w) >= TYPO_MIN_LEN)


@lru_cache(maxsize=8192)
def number_word(word: str) -> tuple[int, str] | None:
    """(value, class) of a number word as typed, allowing one typo in long words."""
    hit = NUMBER_WORDS.get(word)
    if hit is not None:
        return hit
    if len(word) < TYPO_MIN_LEN or fold(word) in TYPO_BLOCK or word in KNOWN_WORDS:
        return None
    found = {NUMBER_WORDS[k] for k in _TYPO_KEYS if within_one_edit(word, k)}
    values = {v for v, _ in found}
    if len(values) != 1:
        return None  # no match, or a typo that could be two numbers
    # A typo of a grade name is still a grade name; otherwise a cardinal.
    classes = {c for _, c in found}
    return values.pop(), GRADE if classes == {GRADE} else CARDINAL


# Words that may come before the score and are not a comment
# ("Annan 9", "Arvosana: kasi", "Jag ger 10", "I give it 9", "Täysi kymppi").
LEAD_IN = word_set(
    """annan annoin arvosana arvosanani arvio arvioni vastaus vastaukseni vastaan
    numero pisteet täysi täys täyden täydet taysi tays tayden taydet ehdottomasti ehdoton
    varmaan ehkä ehka
    ger betyg betyget svar mitt jag ger absolut kanske nog
    i give it score rating my answer is id would definitely on arvosanaksi numeroksi
    a solid perfect say probably maybe"""
)

# Before a Likert label: "Olen täysin samaa mieltä", "Jag är helt av samma
# åsikt", "I strongly agree", "Kyllä, osittain samaa mieltä".
# Of those, the words that only introduce a score: dropped from the comment
# also in mid-reply ("Hyvä hoito, annan kympin" -> comment "Hyvä hoito").
SCORE_LEAD_IN = word_set(
    """annan annoin arvosana arvosanani arvosanaksi numeroksi vastaus vastaukseni numero
    pisteet täysi täys täyden taysi tays tayden ger betyg betyget svar score rating"""
)
LIKERT_LEAD_IN = word_set(
    "olen olin kyllä kylla joo jag är ar ja i im am yes"
)

# --- Likert labels (DOMAIN.md), matched on folded words ---------------------------

_FI_AGREE = r"(?:(?:samaa|saamaa|sama)(?: mielta)?|samaamielta)"
_FI_DIS = r"(?:eri(?: mielta)?|erimielta)"
# "täysin", also typed "täys"; "osittain", also "osin", "hieman", "vähän", "melko"
_FI_FULLY = r"(?:taysin|tays)"
_FI_PARTLY = r"(?:osittain|jokseenkin|osin|hieman|vahan|melko)"
_FI_HALF_AGREE = r"(?:(?:samaa|saamaa|sama) mielta|samaamielta)"
# Tried in this order at one position: the full labels first, then negated and
# half labels ("samaa mieltä", "agree"), which on a 1-5 agreement scale are the
# plain agree (4) and disagree (2) of every standard five-point Likert scale.
LIKERT_LABELS: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (value, re.compile(rf"(?:{pattern})(?= |$)"))
    for value, pattern in (
        (3, r"(?:ei|en) (?:samaa|sama) (?:eika|enka|eli|tai) eri(?: mielta)?"
            r"|varken (?:av )?samma eller (?:av )?annan(?: asikt)?|varken eller"
            r"|neither agree nor disagree|neither agree or disagree|neither nor"),
        (5, rf"{_FI_FULLY} {_FI_AGREE}|{_FI_AGREE} taysin|ehdottomasti {_FI_AGREE}"
            r"|helt (?:av )?samma(?: asikt)?|helt enig|instammer helt"
            r"|haller (?:helt|fullstandigt|absolut) med"
            r"|(?:completely|strongly|fully|totally|absolutely) agree"
            r"|agree (?:completely|strongly|fully|totally)"),
        (4, rf"{_FI_PARTLY} {_FI_AGREE}"
            r"|delvis (?:av )?samma(?: asikt)?|delvis enig|instammer delvis|haller delvis med"
            r"|(?:partly|partially|somewhat) agree|agree partly"),
        (2, rf"{_FI_PARTLY} {_FI_DIS}"
            r"|delvis (?:av )?annan(?: asikt)?|delvis oenig|haller delvis inte med"
            r"|(?:partly|partially|somewhat) disagree|disagree partly"),
        (1, rf"{_FI_FULLY} {_FI_DIS}"
            r"|helt (?:av )?annan(?: asikt)?|helt oenig|haller inte alls med"
            r"|en ole (?:yhtaan|ollenkaan|lainkaan) samaa mielta"
            r"|(?:completely|strongly|fully|totally) disagree"
            r"|disagree (?:completely|strongly|fully|totally)"
            r"|(?:don t|dont|do not) agree at all"),
        (2, rf"(?:en ole|ei ole|ei) {_FI_HALF_AGREE}|inte (?:av )?samma asikt"
            r"|haller inte med|instammer inte|inte enig|(?:don t|dont|do not) agree"),
        (4, rf"{_FI_HALF_AGREE}|av samma asikt|haller med|instammer|enig|agree"),
        (2, r"eri mielta|erimielta|av annan asikt|oenig|disagree"),
    )
)

# Long words of the labels, for one-typo correction ("osittian", "mieltää").
LIKERT_VOCAB = tuple(sorted(word_set(
    """taysin samaa mielta osittain jokseenkin samma annan asikt delvis varken
    eller completely strongly fully totally agree disagree partly partially
    somewhat neither instammer ehdottomasti haller absolutely"""
)))

# --- opting out ------------------------------------------------------------------

# A reply whose first word is one of these opts out (folded forms). Not "peruuta",
# "avbryt" or "cancel": people answer the survey number to cancel an appointment.
OPTOUT_FIRST = word_set(
    """stop stopp stoppa stoppaa stopall lopeta lopettakaa lopetan lopetus
    lopettaa lopetetaan sluta avsluta avregistrera unsubscribe quit optout"""
)
# Of those, the forms that are also ordinary Finnish ("Lopetan tupakoinnin", "Lopetus
# jäi kesken"): they opt out only when the rest is politeness or names the messages.
OPTOUT_STATEMENTS = word_set("lopetan lopetus lopettaa lopetetaan")
# The keywords people are told to send: in capitals, anywhere, they opt out.
OPTOUT_SHOUTED = frozenset({"STOP", "STOPP", "LOPETA", "SLUTA", "UNSUBSCRIBE"})
# These end a reply after punctuation and opt out ("9, stop", "Kiitos. Lopeta!").
OPTOUT_LAST = frozenset({"stop", "stopp", "lopeta", "lopettakaa", "sluta", "avsluta"})
# These are unambiguous anywhere in a reply.
OPTOUT_ANYWHERE = frozenset({"unsubscribe", "stopall", "optout", "avregistrera"})
# Only with the reply's other words being politeness.
POLITE = word_set(
    """kiitos kiitti kitos kii heti nyt pliis please thanks thank you tack
    nu ok okei"""
)

_MSG = (
    r"(?:viesteja|viestit|viestia|viestien|kyselyja|kyselyita|kyselyt|kyselya|kyselyjen"
    r"|tekstiviesteja|tekstiviestit|tekstareita|sms|smssia|palautekyselyja|naita|tallaisia)"
)
_SV_MSG = r"(?:sms|smser|meddelanden|meddelande|enkater|enkat|fragor|utskick)"
_EN_MSG = r"(?:texts|text messages|messages|surveys|sms|texting|me texts|me messages)"
# A word that names the messages ("Lopetan nämä viestit"), folded.
MESSAGE_WORD = re.compile(
    rf"{_MSG}|{_SV_MSG}|{_EN_MSG}|nama|naa|naiden|tama|taman|tilaus|tilauksen|kysely|kyselyn"
    r"|jo|enaa|tahan"
)
OPTOUT_PHRASES = re.compile(
    "|".join(
        (
            # Finnish
            r"\bala (?:enaa |enempaa |mulle |minulle )*(?:laheta|lahettako|laita)\b",
            r"\balkaa (?:enaa |mulle |minulle )*(?:lahettako|laittako)\b",
            rf"\ben halua (?:enaa |enempaa |lisaa |naita |tallaisia |mitaan )*{_MSG}\b",
            r"^en halua enaa$",
            rf"\bei (?:kiitos )?(?:enaa|enempaa|lisaa|mitaan) (?:naita )?{_MSG}\b",
            rf"\blopeta(?:kaa)? (?:naiden |nama )?(?:{_MSG}|lahettaminen|lahettamasta)\b",
            r"\bpoista(?:kaa)? (?:minut|numeroni|mun numero|minun numeroni)\b",
            r"\bkiellan (?:kyselyt|viestit)\b",
            # Swedish
            r"\bsluta (?:skicka|smsa|sms|messa|mejla)\b",
            rf"\bvill inte (?:ha |fa )?(?:fler|mer|nagra|flera)(?: {_SV_MSG})?\b",
            rf"\b(?:inga|ej|inte) fler {_SV_MSG}\b",
            r"\bskicka (?:inte|inga) (?:fler|mer|nagot)\b",
            r"\bta bort (?:mig|mitt nummer)\b",
            rf"\bavsluta (?:prenumerationen|{_SV_MSG})\b",
            # English
            r"\bstop (?:sending|texting|messaging|the messages|these messages|"
            r"messages|texts|the texts|the surveys|surveys)\b",
            rf"\bno more {_EN_MSG}\b",
            r"\bdon ?t (?:text|send|message|contact)\b",
            r"\bdo not (?:text|send|message|contact)\b",
            r"\bopt (?:me )?out\b",
            r"\bremove me\b",
        )
    )
)

# --- what is said after (or before) a score and is no comment --------------------

# "9 kiitos", "10 tack så mycket", "9 thanks!": politeness is not an answer to the
# open question. Only when every word of the rest is one of these.
PLEASANTRY = word_set(
    """kiitos kiitti kiitoksia kiitokset kiitos kitos kiits kiitti kiitokset paljon
    vaan vain ja nain moi hei terveisin ok okei oki okay okey joo juu jep
    tack tackar tusen sa mycket och hej halsningar
    thanks thank thx ty tnx you very much so a lot lots and cheers for asking bye regards
    anteeksi anteeks sori sorry soz apologies pahoittelut pahoittelen forlat ursakta
    oops hups hupsis oho ai jaa no niin terve moikka moro heippa hi hello hey hejsan tjena
    kysymasta fragan unohdin unohtui unohtu unohin glomde forgot myohastys myohastyksesta"""
)
# Words that only frame the score ("Mun arvio 7", "Kympin arvoinen", "I'd say 9",
# "Kymppi tietty"), or excuse it ("myöhäinen", "sent" when "vastaus"/"svar" before the
# score went as a lead-in): with politeness they are no comment either.
SCORE_TALK = word_set(
    """mun minun ma mina d arvoinen arvoisen verran antaisin antaa tietty tietysti
    tottakai totta kai varmasti skulle ge worth course of vastata
    myohainen myohaisesta myohastynyt myohastyneesta sent"""
)
# Wishes that are politeness as a whole, though their words are not ("hyvää").
PLEASANTRY_PHRASES = re.compile(
    r"\b(?:hyvaa (?:paivanjatkoa|paivaa|jatkoa|viikonloppua|joulua|kesaa|syksya)"
    r"|ha en (?:bra|trevlig|fin) (?:dag|helg)|have a (?:nice|good|great) (?:day|weekend)"
    # a late reply excused ("anteeksi myöhäinen vastaus", "sorry for the late reply")
    r"|(?:the |a |ett )?(?:myohainen|myohaisesta|myohastynyt|myohastyneesta|late|delayed"
    r"|sent|sena) (?:vastaus|vastauksesta|vastaukseni|reply|response|answer|svar|svaret)"
    r"|vastaus (?:myohassa|myohastyi|myohastynyt))\b"
)
# The words PLEASANTRY_PHRASES begin with (the phrases are tried only where one is).
PLEASANTRY_PHRASE_STARTS = frozenset(
    {"hyvaa", "ha", "have", "the", "a", "ett", "myohainen", "myohastynyt", "late", "delayed",
     "sent", "sena", "vastaus", "myohaisesta", "myohastyneesta"}
)

# The highest score in words ("täydet pisteet", "full pott", "full marks").
MAX_SCORE = re.compile(
    r"(?:taydet pisteet|tayden pisteet|full pott|fullt pott|full marks|full score"
    r"|top marks|maximum|maksimi|max)(?= |$)"
)

MAX_FIRST = frozenset({"taydet", "tayden", "full", "fullt", "top", "maximum", "maksimi", "max"})

# --- declining this survey (not an opt-out) ------------------------------------------

# A reply that starts with one of these says "not this survey" (matched on the
# folded words joined by one space). It ends the survey politely; only the
# opt-out keywords and phrases above stop the number's surveys for good.
DECLINE = re.compile(
    r"^(?:(?:hei|moi|hej|hi|hello|sorry|anteeksi|forlat|kiitos|kiitti|tack|thanks|thank you)"
    r" )*(?:"
    # Finnish
    r"(?:ei|en) (?:kiitos|kiitti|kitos|kiits|kiitoksia)(?: |$)"
    r"|kiitos (?:ei|mutta ei)(?: |$)"
    r"|(?:mina |ma )?en (?:nyt |enaa )?(?:halua|jaksa|ehdi|aio|viitsi|taho|tahdo|ala)"
    r"(?: (?:nyt|enaa|tahan))? (?:vastata|vastaa|vastailla|osallistua|osallistu)(?: |$)"
    r"|(?:mina |ma )?en (?:vastaa|osallistu|jaksa|halua|viitsi)$"
    r"|ei (?:kiinnosta|huvita|nappaa|jaksa|oo aikaa|ole aikaa|nyt)(?: |$)"
    r"|jatan (?:valiin|vastaamatta)(?: |$)"
    # Swedish
    r"|(?:nej|nä|nä|na) tack(?: |$)|tack men nej(?: |$)"
    r"|(?:jag )?(?:vill|tanker|orkar|hinner) inte (?:svara|delta|vara med)(?: |$)"
    r"|(?:jag )?vill inte$|(?:inte|ej) intresserad(?: |$)|avstar(?: |$)"
    # English
    r"|no (?:thanks|thank you|thx|ty|thankyou)(?: |$)|thanks but no(?: |$)"
    r"|(?:i )?(?:don t|dont|do not|would rather not|d rather not|rather not|won t|will not)"
    r"(?: (?:want|wish|like) to)? (?:answer|reply|respond|participate|take part)(?: |$)"
    r"|(?:i )?(?:d|would) rather not(?: |$)|(?:i m |im |i am )?not interested(?: |$)"
    r"|(?:i )?decline$|(?:i ll |ill |i will )pass$"
    r")"
)
# Words that may follow a decline of a free-text question and still leave it a
# decline ("en halua vastata tähän kyselyyn", "no thanks, not now").
DECLINE_FILLER = word_set(
    """tahan kyselyyn kyselyihin nyt enaa kiitos kiitti tassa vaiheessa
    nu pa enkaten detta den tack inte just
    now this survey to the thanks not right at moment"""
)

# --- numbers that are not scores ------------------------------------------------

# Words after a number that make it a quantity ("2 tuntia", "85-vuotias", "3 dagar").
_UNITS = (
    "h min mins minute minutes minuutti minuuttia minuutin minsa tunti tuntia tunnin tuntii "
    "tuntei tunniksi pv päivä päivää päivän päiviä vrk vk viikko viikkoa viikon viikkoja kk "
    "kuukausi kuukautta kuukauden v vuotta vuoden vuotias vuotiaana vuotiaalle kertaa krt "
    "kerran kpl eur euro euroa prosenttia sek timme timmar timmen minuter minut dag dagar "
    "dagen vecka veckor månad månader år året gång gånger st kr kronor hour hours hr hrs day "
    "days week weeks month months year years yrs times km kg mg ml cm mm henkeä henkilöä "
    "hoitajaa lääkäriä potilasta ihmistä people persons personer sivua x"
)
UNIT_AFTER = re.compile(
    r"\s*-?\s*(?:[%€$£]|(?:"
    + "|".join(sorted({re.escape(f) for u in _UNITS.split() for f in variants(u)}, key=len,
                      reverse=True))
    + r")(?![^\W\d_]))"
)
# Words before a number that make it a time, a room or a year ("klo 9", "huone 5").
PREFIX_BEFORE = re.compile(
    r"(?:(?<![^\W\d_])(?:klo|kello|kl|at|huone|huoneessa|rum|room|vuonna|sivu|page|ikä|ika|"
    r"ålder|age|linja|bussi|buss|bus|nr|nro|n:o)\s*[.:]?\s*|[#€$£+]\s*)$"
)

# Words that are never "corrected" into a number word.
KNOWN_WORDS = frozenset(
    LEAD_IN | LIKERT_LEAD_IN | OPTOUT_FIRST | POLITE | PLEASANTRY | frozenset(LIKERT_VOCAB)
)
