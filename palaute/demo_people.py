"""The demo's simulated phone owners: who answers an SMS survey, how, and when.

Pure: a seeded population of personas, and a per-phone state machine that reads
one SMS the gateway sent and decides the reply (text and delay) a real person
might give: digits, number words in Finnish, Swedish or English, colloquial
grades ("kasi", "ysi"), typos, a score with a comment and an emoji, a long
multipart comment, an unclear first try, STOP/LOPETA/SLUTA, a late answer, or
silence. `expected` says, from the persona alone, what the chain should record,
so the demo can check the gateway's counts against what people actually did.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from survey.labels import likert_labels
from survey.model import Survey

# How a person deals with the survey. Every style appears once in any population
# of at least len(STYLES) people; the rest are drawn with WEIGHTS.
STYLES = (
    "digits", "words", "colloquial", "typo", "comment_emoji", "multipart", "unclear_first",
    "late", "optout_first", "optout_mid", "partial", "never",
)
WEIGHTS = (30, 12, 8, 6, 8, 3, 4, 6, 3, 2, 5, 13)
ANSWERING = frozenset(STYLES) - {"optout_first", "never"}
COMPLETING = ANSWERING - {"optout_mid", "partial"}
OPTING_OUT = frozenset({"optout_first", "optout_mid"})

# Intended recommendation scores: most people are pleased, a few are not.
NPS_WEIGHTS = (2, 1, 1, 2, 2, 4, 5, 9, 16, 24, 34)
LANG_WEIGHTS = {"fi": 70, "sv": 20, "en": 10}
PREFIXES = ("40", "44", "45", "50", "46")

NUMBER_WORDS: dict[str, tuple[str, ...]] = {
    "fi": ("nolla", "yksi", "kaksi", "kolme", "neljä", "viisi", "kuusi", "seitsemän",
           "kahdeksan", "yhdeksän", "kymmenen"),
    "sv": ("noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
           "ten"),
}
# School grades as Finns say them (4-10); other values fall back to digits.
COLLOQUIAL = {4: "nelonen", 5: "vitonen", 6: "kutonen", 7: "seiska", 8: "kasi", 9: "ysi",
              10: "kymppi"}
COLLOQUIAL_FORMS = ("{}", "Annan {}", "{}!")
# Misspelt Finnish number words that people really type (a letter dropped).
TYPOS = {7: "seitsemn", 8: "kahdeksn", 9: "yhdeksn", 10: "kymmnen"}
OPTOUT_WORDS = {"fi": ("LOPETA", "Stop", "lopeta"), "sv": ("SLUTA", "Stopp"),
                "en": ("STOP", "Stop please")}
UNCLEAR = {"fi": ("hmm, en osaa sanoa", "mitä?"), "sv": ("vet inte", "va?"),
           "en": ("what?", "not sure")}
COMMENTS = {
    "fi": ("Ystävällinen hoitaja", "Jonotus kesti liian kauan", "Nopea palvelu, kiitos",
           "Lääkäri kuunteli ja selitti hyvin", "Parkkipaikkaa oli vaikea löytää",
           "Selkeät ohjeet kotiin"),
    "sv": ("Vänlig personal", "Lång väntetid", "Snabb service, tack", "Bra bemötande"),
    "en": ("Kind staff", "Long wait at reception", "Clear instructions", "Quick and friendly"),
}
EMOJI_COMMENTS = {"fi": ("Ihana hoitaja 😊", "Kiitos kaikesta 🙏"),
                  "sv": ("Tack för hjälpen 🙏", "Toppen 👍"),
                  "en": ("Great nurse 👍", "Thank you all 😊")}
LONG_COMMENTS = {
    "fi": ("Pääsin nopeasti lääkärin vastaanotolle ja hoitaja jaksoi selittää kaiken "
           "rauhallisesti, vaikka päivystyksessä oli selvästi kiire. Odotustilassa oli "
           "kuitenkin kylmä ja kahviautomaatti rikki. Jos haluatte kysyä lisää, voitte "
           "soittaa 040 765 4321. Kiitos 😊"),
    "sv": ("Jag kom snabbt till läkaren och sjukskötaren förklarade allt lugnt fast det var "
           "mycket att göra på jouren. I väntrummet var det ändå kallt och kaffeautomaten "
           "var trasig. Ring gärna 040 765 4321 om ni vill veta mer. Tack 😊"),
    "en": ("I saw the doctor quickly and the nurse explained everything calmly even though "
           "the emergency department was clearly busy. The waiting room was cold though, "
           "and the coffee machine was broken. Call me on 040 765 4321 if you want to know "
           "more. Thanks 😊"),
}


@dataclass(frozen=True)
class Persona:
    """One simulated phone owner: number, language, intentions and habits."""

    phone: str  # E.164
    local_phone: str  # as the patient system wrote it (040 …, or +358 …)
    lang: str
    style: str
    nps: int  # the score this person means to give
    likert: int  # the agreement (1-5) this person means to give
    comment: str
    first_delay: float  # seconds before the first reply (a late one is long)
    next_delay: float  # seconds before each later reply
    unit: str
    kind: str  # visit | call


@dataclass(frozen=True)
class Expected:
    """What the chain should record for a persona (from the persona alone)."""

    answered: bool
    completed: bool
    opted_out: bool
    status: str | None  # the final response status, None when no response is made
    nps: int | None
    flags: tuple[str, ...] = ()


def expected(p: Persona) -> Expected:
    """What `p` leads to: a response (complete, expired, or abandoned by an opt-out in the
    middle), an opt-out, or nothing."""
    answered = p.style in ANSWERING
    completed = p.style in COMPLETING
    status = "complete" if completed else "expired" if answered else None
    flags: tuple[str, ...] = ()
    if answered and p.style == "optout_mid":
        status, flags = "abandoned", ("optout",)
    return Expected(answered, completed, p.style in OPTING_OUT, status,
                    p.nps if answered else None, flags)


def _phone(rng: random.Random, wave: int, index: int) -> tuple[str, str]:
    prefix = rng.choice(PREFIXES)
    # The wave and index make every number of a run unique; the rest looks random.
    subscriber = f"{rng.randrange(1, 10)}{wave % 100:02d}{index % 10000:04d}"
    e164 = f"+358{prefix}{subscriber}"
    if rng.random() < 0.6:
        return e164, f"0{prefix} {subscriber[:3]} {subscriber[3:]}"
    return e164, e164


def _styles(rng: random.Random, n: int) -> list[str]:
    styles = rng.sample(STYLES, n) if n < len(STYLES) else list(STYLES)
    styles += rng.choices(STYLES, WEIGHTS, k=max(0, n - len(styles)))
    rng.shuffle(styles)
    return styles


def make_population(n: int, seed: int, wave: int = 0,
                    units: tuple[str, ...] = ("ensiapu",)) -> list[Persona]:
    """`n` personas for invitation wave `wave`; the same seed gives the same people."""
    rng = random.Random(f"palaute-demo:{seed}:{wave}")
    people = []
    for index, style in enumerate(_styles(rng, n)):
        lang = rng.choices(list(LANG_WEIGHTS), list(LANG_WEIGHTS.values()))[0]
        e164, local = _phone(rng, wave, index)
        nps = rng.choices(range(11), NPS_WEIGHTS)[0]
        if style == "colloquial":
            lang, nps = "fi", max(nps, 4)  # grades are Finnish and start at 4
        if style == "typo":
            lang, nps = "fi", max(nps, 7)
        likert = max(1, min(5, round(nps / 2.5) + rng.choice((-1, 0, 0, 1))))
        comment = rng.choice(EMOJI_COMMENTS[lang] if style == "comment_emoji"
                             else COMMENTS[lang])
        if style == "multipart":
            comment = LONG_COMMENTS[lang]
        first = rng.uniform(10.0, 16.0) if style == "late" else rng.uniform(0.5, 3.0)
        people.append(Persona(
            phone=e164, local_phone=local, lang=lang, style=style, nps=nps, likert=likert,
            comment=comment, first_delay=round(first, 2),
            next_delay=round(rng.uniform(0.5, 2.5), 2), unit=rng.choice(units),
            kind="call" if rng.random() < 0.15 else "visit",
        ))
    return people


def invitation_csv(people: Sequence[Persona], now: datetime) -> str:
    """The patient system's CSV of these visits and calls (header unit,time,kind,phone,lang)."""
    lines = ["unit,time,kind,phone,lang"]
    for i, p in enumerate(people):
        # Visits earlier today, calls within the last hour (their survey window).
        ago = timedelta(minutes=10 + i) if p.kind == "call" else timedelta(hours=2, minutes=i)
        when = (now - ago).isoformat(timespec="minutes")
        lines.append(f"{p.unit},{when},{p.kind},{p.local_phone},{p.lang}")
    return "\n".join(lines) + "\n"


def tally(people: Sequence[Persona]) -> Counter[str]:
    """Expected gateway counters of a population: invited, sent, answered, completed, opted_out."""
    out: Counter[str] = Counter(invited=len(people), sent=len(people))
    for p in people:
        e = expected(p)
        out["answered"] += e.answered
        out["completed"] += e.completed
        out["opted_out"] += e.opted_out
    return out


# -- one phone's side of the conversation -------------------------------------------


@dataclass(frozen=True)
class Phone:
    """One person's phone: what the last question was and how far they have got."""

    persona: Persona
    asked: str | None = None  # id of the question last asked
    turns: int = 0  # replies sent so far
    done: bool = False  # will not reply to anything any more


@dataclass(frozen=True)
class Reply:
    """An SMS the person sends back after `delay` seconds."""

    text: str
    delay: float


def classify(survey: Survey, text: str) -> tuple[str, str | None]:
    """What an SMS from the gateway is: ("question", id), ("clarify", None), ("thanks", None),
    ("optout", None) or ("other", None)."""
    body = text.strip()
    for lang in survey.languages:
        clarify = survey.message("sms_clarify", lang).rstrip(". ")
        if body.startswith(clarify):
            return "clarify", None
        if body == survey.message("sms_thanks", lang):
            return "thanks", None
        if body == survey.message("sms_optout", lang):
            return "optout", None
        for q in survey.questions_for("sms"):
            if body.endswith(q.prompt(lang, "sms")):
                return "question", q.id
    return "other", None


def _score_text(p: Persona, value: int, kind: str, turn: int) -> str:
    """`value` written the way this person writes numbers."""
    style, lang = p.style, p.lang
    if style == "words":
        if kind == "likert":
            return likert_labels(lang)[value - 1]
        return NUMBER_WORDS[lang][value]
    if style == "colloquial" and value in COLLOQUIAL:
        return COLLOQUIAL_FORMS[turn % len(COLLOQUIAL_FORMS)].format(COLLOQUIAL[value])
    if style == "typo" and kind == "nps" and value in TYPOS:
        return TYPOS[value]
    return str(value)


def _answer(p: Persona, qid: str, survey: Survey, turn: int) -> str | None:
    kind = survey.questions[qid].kind
    if kind == "text":
        return p.comment
    value = p.nps if kind == "nps" else p.likert
    if kind == "nps" and p.style == "comment_emoji":
        return f"{value} {p.comment}"
    return _score_text(p, value, kind, turn)


def on_sms(phone: Phone, survey: Survey, text: str) -> tuple[Phone, Reply | None]:
    """The person reads one SMS from the gateway and maybe answers it."""
    p = phone.persona
    what, qid = classify(survey, text)
    if phone.done or p.style == "never" or what in ("thanks", "optout", "other"):
        return replace(phone, done=phone.done or what in ("thanks", "optout")), None
    if what == "clarify":
        # Asked again: this time a plain number (or, for text, the comment again).
        if phone.asked is None:
            return phone, None
        kind = survey.questions[phone.asked].kind
        value = p.nps if kind == "nps" else p.likert
        answer = p.comment if kind == "text" else str(value)
        return _reply(replace(phone, asked=phone.asked), answer)
    assert qid is not None
    phone = replace(phone, asked=qid)
    if p.style == "optout_first" or (p.style == "optout_mid" and phone.turns >= 1):
        words = OPTOUT_WORDS[p.lang]
        return _reply(replace(phone, done=True), words[phone.turns % len(words)])
    if p.style == "partial" and phone.turns >= 1:
        return replace(phone, done=True), None
    if p.style == "unclear_first" and phone.turns == 0:
        return _reply(phone, UNCLEAR[p.lang][0])
    text_back = _answer(p, qid, survey, phone.turns)
    if text_back is None:
        return phone, None
    return _reply(phone, text_back)


def _reply(phone: Phone, text: str) -> tuple[Phone, Reply]:
    p = phone.persona
    delay = p.first_delay if phone.turns == 0 else p.next_delay
    return replace(phone, turns=phone.turns + 1), Reply(text, delay)
