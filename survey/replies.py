"""Reading one SMS reply text: an answer, a decline, an opt-out, or unclear.

Pure: text in, `Reply` out, never an exception.

How a reply is read (the tables of real replies in tests/test_replies.py and
tests/data/replies_dev.tsv are the specification in examples):

* Opt-out wins over everything. The reply opts out when its first word is a
  keyword (STOP, STOPP, LOPETA, SLUTA, AVSLUTA, UNSUBSCRIBE...; "lopetan"
  and "lopetus" only alone or beside the messages: "Lopetan tupakoinnin" is
  none; digits and emoji are no words, so "9 stop" counts), when STOP, LOPETA or SLUTA stands
  anywhere in capitals or ends the reply after punctuation ("9, stop"), or
  when it holds a clear phrase ("älä lähetä", "en halua enää viestejä",
  "sluta skicka", "stop sending"...). Words are compared whole: "bussistop"
  is no keyword. A one-word reply one typo from a keyword of 5+ letters
  ("lopeat") opts out. "Peruuta"/"cancel" do not: they are meant for
  appointments.
* A decline ("ei kiitos", "en halua vastata", "nej tack", "no thanks",
  "don't want to answer") says "not this survey": never for good. On a scale
  question it counts when no value is read and the reply starts with one; a
  free-text answer must be only the decline ("Ei kiitos tarvinnut jonottaa"
  is an answer).
* Text questions: any non-empty text (trimmed, whitespace collapsed) is the answer.
* Scale questions read digits anywhere ("9", "9/10", "10!!", "Hyvä palvelu 9")
  and number words in Finnish, Swedish and English, with or without ä/ö/å,
  colloquial ("ysi", "kymppi", "seiska", "tia") and with one typo ("kymmpi",
  "yhdeksn", "yhdkesän"). The typo rule: one insertion, deletion,
  substitution or swap of neighbours, only between words of 5+ letters, only
  when a single value fits, never for listed real words ("there", "light").
  Cardinal words ("kolme", "three") count only as the whole reply or set off
  by punctuation, because they also start ordinary sentences ("Kolme
  hoitajaa..."). Likert questions also read the label phrases of the three
  languages ("täysin samaa mieltä", "delvis av annan åsikt", "strongly
  agree"); a plain "samaa mieltä", "av samma åsikt", "agree" is 4 and "eri
  mieltä", "disagree" 2, as on any five-point agreement scale. Yes/no and
  adjectives ("kyllä", "erinomainen") are not mapped to values.
* A score that opens the reply (after words like "annan", "täys", "kiitos")
  keeps everything after it as the comment, numbers and all: "10 lääkäri oli
  5/5", "9 (2 käyntiä)", "8, odotin 45 min". Only a second value right after
  it as a range or choice ("9-10", "8 tai 9") or standing alone ("8 9", "9
  kymppi") makes it unclear. "9+", "9-", "ysi plus" are school grades read as
  their number; "pistettä", "poäng", "points" and "täydet pisteet" (the top)
  are understood.
* Numbers that are times, dates, phone numbers, ordinals or quantities
  ("klo 9.30", "2.3.", "040 123", "3:e", "2 tuntia") are not scores.
* Otherwise more than one possible value ("7-8", "5 tai 6", "8,5", "8½",
  "Hoitajat 10, lääkäri 5"), a value outside the scale, or no value at all is
  unclear: never guessed.
  An answer to a scale question always has a value; a comment alone is
  unclear (the caller keeps the message and may re-ask). Emoji are never
  read as values (👍 is unclear, a thumb is no number), only keycap digits.
* The comment is the rest of the reply in the person's own words, with the
  separators around the score (",", "-", ":", "/10") trimmed. Politeness,
  emoji or punctuation alone ("9 kiitos", "10 tack!", "9 😊") is no comment:
  it must not take the place of an answer to the open question. Nor are
  greetings, apologies for a late reply ("sorry, 8", "Moikka! Kasi") and words
  that only frame the score ("kasin antaisin", "I'd say 9").
* `lang` only settles words whose meaning depends on the language: a bare
  "en" is one in Swedish and "I don't" in Finnish.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from survey import _reply_words as W
from survey.model import KINDS, SCALES

ReplyKind = Literal["answer", "optout", "decline", "unclear"]


@dataclass(frozen=True)
class Reply:
    """What a reply says: `answer` (value and/or comment), `optout`, `decline`, or `unclear`.

    `decline` is "not this survey" ("ei kiitos", "nej tack", "no thanks"): the
    survey ends politely and is not asked again; only `optout` is for good.
    """

    kind: ReplyKind
    value: int | None = None
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "comment": self.comment}


_UNCLEAR = Reply("unclear")
_OPTOUT = Reply("optout")
_DECLINE = Reply("decline")

_WORD = re.compile(r"[^\W\d_]+")
_NUMBER = re.compile(r"\d+|" + W.KEYCAP_TEN)
_ANY_TOKEN = re.compile(r"[^\W_]")
# Between a leading score and a second number: a range or a choice ("9-10", "8/9").
_RANGE_MARK = re.compile(r"-|/|~|\.\.")
_RANGE_WORDS = frozenset({"tai", "vai", "or", "eller", "to", "till"})
_AND_WORDS = frozenset({"ja", "och", "and", "&"})
_CONNECTORS = _RANGE_WORDS | _AND_WORDS
# Words before a leading score that are not the score ("Annan", "Kiitos,", "Olen").
_SKIP = W.LEAD_IN | W.POLITE
_SKIP_LIKERT = _SKIP | W.LIKERT_LEAD_IN
_NOTHING = W.PLEASANTRY | W.LEAD_IN | W.SCORE_TALK | W.ARTICLES
_WISH_STARTS = W.PLEASANTRY_PHRASE_STARTS
# What may stay attached to a second number and still leave it standing alone.
_SECOND_TAIL = re.compile(r"(?:[ \t]*/[ \t]*\d+)?(?:[ \t]*\++|-(?![ \t]*[^\W_]))?")
# "9+", "9 +", "ysi+", "kasi plus", "ysi miinus", and "9-" at the end: a school
# grade a little above or below the number, read as the number.
_SIGN = re.compile(r"[ \t]*(?:\++|(?:plus|miinus|minus)(?![^\W\d_]))")
_TRAILING_MINUS = re.compile(r"[ \t]*-(?=[\W_]*$)")
# Compounds read at a number's position, before anything else.
# A date, or days of one month ("1.-15.7.", the holiday in an away message).
_DATE = re.compile(r"(?:\d{1,2}\.[ \t]*[-–][ \t]*)?\d{1,2}\.\d{1,2}\.(?:\d{2,4}(?!\d))?"
                   r"|\d{1,2}/\d{1,2}/\d{2,4}(?!\d)")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}(?!\d)")
_DECIMAL = re.compile(r"\d+(?:,\d+|\.\d(?![\d.])|[ \t]?[" + W.FRACTIONS + "])")
_RUN = re.compile(r"\d+(?:[ -]\d+){0,8}")  # bounded: a phone number has few groups
_LEADING_MINUS = re.compile(r"\s*-")
# A number or a range of them, with times ("14-15", "9.30-10", "2 tai 3").
_QUANTITY = re.compile(
    r"\d+(?:[.:]\d+)?(?:[ \t]*(?:-|tai|or|eller|to|till)[ \t]*\d+(?:[.:]\d+)?)?"
)
_DENOM = re.compile(
    r"(\d+)(?:[ \t]*/[ \t]*|[ \t]+(?:out[ \t]+of|of|av)[ \t]+)(\d+)"
    r"(?:[ \t]*:?[ \t]*(?:st[aä]|n)(?![^\W\d_]))?"
)
# After a score on 0-10: "9 10:stä", "9 kymmenestä", "nio av tio", "nine out of ten".
_OUT_OF_TEN = re.compile(
    r"[ \t]*(?:10[ \t]*:?[ \t]*st[aä]|kymmenest[aä]"
    r"|(?:/|av|of|out[ \t]+of)[ \t]*(?:tio|ten|kymmenen))(?![^\W\d_])"
)
# "2nd", Swedish "3:e"/"1:a", Finnish case endings of ordinals/places "3:ssa", "5:llä".
_ORDINAL = re.compile(
    r"(?:st|nd|rd|th|:(?:a|e|s|ssa|ssä|lla|llä|lle|sta|stä|na|nä|ksi|nnen|nnessa|nteen))"
    r"(?![^\W\d_])"
)
_CASE = re.compile(r":(?:n|an|en)(?![^\W\d_])")  # "annan 9:n"
_FI_ORDINAL = re.compile(r"\.[ \t]+[^\W\d_]")  # "2. kerta" (checked for lower case)
_HALF = re.compile(
    r"[ \t]*(?:ja[ \t]+|och[ \t]+|and[ \t]+a[ \t]+|and[ \t]+)?(?:puoli|puol|halv|half)(?![^\W\d_])"
)
_ALTERNATIVE = re.compile(
    r"[ \t]*(?P<sep>-|/|~|\.\.+|(?:tai|vai|or|eller|to|till|ja|och|and)(?![^\W\d_]))[ \t]*"
    r"(?P<other>\d+|[^\W\d_]+)"
)
_OVER = re.compile(
    r"[ \t]*(?:/|(?:out[ \t]+of|of|av)(?![^\W\d_]))[ \t]*(\d+|[^\W\d_]+)"
)
_POINTS = re.compile(
    r"[ \t]*(?:p|pts|pist|pistettä|pistetta|pisteet|poäng|poang|points?)(?![^\W\d_])"
)
_STARS = re.compile(r"[ \t]*(?:tähteä|tahtea|tähtee|stjärnor|stjarnor|stars?)(?![^\W\d_])")
_ONE_LETTER = re.compile(r"[^\W\d_](?![^\W\d_])")
_NEXT_WORD = re.compile(r"[ \t]*([^\W\d_]+)")
_HARD_SEP_AFTER = re.compile(r"[ \t]*(?:[,.!?:;)\-]|\n)")
_HARD_SEP_BEFORE = re.compile(r"(?:[,.!?:;(\-]|\n)[ \t]*$")
_SEP_BEFORE = " \t\r\n,;:/|=(-–—−，：\ufe0f\u20e3\"'«»“”„"
_SEP_AFTER = " \t\r\n,;:/|=.!?)-–—−，：！\ufe0f\u20e3\"'«»“”„"
# A digit group that is the "/10" of a number word ("ysi/10", "nine out of 10").
_WORD_OVER = re.compile(r"([^\W\d_]+)(?:[ \t]*/|[ \t]+(?:out[ \t]+of|of|av))[ \t]*$")


class _Ambiguous(Exception):
    """Internal: the reply names more than one possible value."""


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str  # normalised: lower case, ä/ö/å as typed
    folded: str  # without diacritics


@dataclass(frozen=True)
class _Score:
    value: int
    start: int
    end: int


def read_reply(text: str, kind: str, lang: str | None = None) -> Reply:
    """Read `text` as a reply to a question of `kind` (nps, smileys, likert, text)."""
    if not isinstance(text, str) or kind not in KINDS:
        return _UNCLEAR
    norm = W.normalise(text)
    words = [_Word(m.start(), m.end(), m.group(), W.fold(m.group())) for m in _WORD.finditer(norm)]
    if _is_optout(text, norm, words):
        return _OPTOUT
    if kind == "text":
        if _is_decline(words, whole=True):
            return _DECLINE
        comment = _tidy(text)
        return Reply("answer", None, comment) if comment else _UNCLEAR
    low, high = SCALES[kind]
    try:
        scores = _leading(text, norm, words, kind, high, lang)
        if scores is None:
            scores = _digit_scores(text, norm, high)
            scores += _word_scores(norm, words, kind, high, lang)
    except _Ambiguous:
        return _UNCLEAR
    values = {s.value for s in scores}
    if not values and _is_decline(words, whole=False):
        return _DECLINE
    if len(values) != 1:
        return _UNCLEAR
    value = values.pop()
    if not low <= value <= high:
        return _UNCLEAR
    comment = _comment(text, words, scores)
    return Reply("answer", value, None if comment and _says_nothing(comment) else comment)


# --- opting out ---------------------------------------------------------------


def _is_optout(text: str, norm: str, words: list[_Word]) -> bool:
    if not words:
        return False
    first = words[0].folded
    if first in W.OPTOUT_FIRST and (
        first not in W.OPTOUT_STATEMENTS or all(_says_stop_only(w.folded) for w in words[1:])
    ):
        return True
    last = words[-1]
    if (
        last.folded in W.OPTOUT_LAST
        and _HARD_SEP_BEFORE.search(norm, 0, last.start)
        and not _ANY_TOKEN.search(norm, last.end)
    ):
        return True
    for w in words:
        if w.folded in W.OPTOUT_ANYWHERE:
            return True
        if w.folded.upper() in W.OPTOUT_SHOUTED and text[w.start : w.end].isupper():
            return True
    if W.OPTOUT_PHRASES.search(" ".join(w.folded for w in words)):
        return True
    content = [w.folded for w in words if w.folded not in W.POLITE and w.folded not in _NO]
    if len(content) != 1:
        return False
    word = content[0]
    if word in W.OPTOUT_FIRST:
        return True  # "Kiitos, lopeta"
    if len(word) < W.TYPO_MIN_LEN or word in W.KNOWN_WORDS or W.number_word(word):
        return False
    return any(
        len(key) >= W.TYPO_MIN_LEN and W.within_one_edit(word, key) for key in W.OPTOUT_FIRST
    )


_NO = frozenset({"ei", "en", "nej", "no"})


def _says_stop_only(word: str) -> bool:
    """A word that may follow "lopetan" in an opt-out: politeness or the messages."""
    return word in W.POLITE or word in _NO or W.MESSAGE_WORD.fullmatch(word) is not None


# --- declining, and what says nothing -------------------------------------------------


def _is_decline(words: list[_Word], *, whole: bool) -> bool:
    """"ei kiitos", "en halua vastata", "nej tack", "no thanks"...: not this survey.

    On a scale question (no value read) the reply need only start with a decline;
    a free-text answer must be nothing more than one ("Ei kiitos tarvinnut
    jonottaa" is an answer).
    """
    if not words or len(words) > 16:
        return False
    joined = " ".join(w.folded for w in words)
    m = W.DECLINE.match(joined)
    if m is None:
        return False
    return not whole or all(w in W.DECLINE_FILLER for w in joined[m.end():].split())


def _says_nothing(comment: str) -> bool:
    """A comment of only politeness, emoji or punctuation ("kiitos!", "😊", "thx")."""
    norm = W.normalise(comment)
    if any(c.isdigit() for c in norm):
        return False
    words = [W.fold(w) for w in _WORD.findall(norm)]
    if all(w in _NOTHING or _is_thanks_typo(w) for w in words):
        return True
    if _WISH_STARTS.isdisjoint(words):
        return False
    rest = W.PLEASANTRY_PHRASES.sub(" ", " ".join(words)).split()
    return all(w in _NOTHING or _is_thanks_typo(w) for w in rest)


def _is_thanks_typo(word: str) -> bool:
    return len(word) >= W.TYPO_MIN_LEN and W.within_one_edit(word, "kiitos")


# --- a score that leads the reply ---------------------------------------------------


def _leading(text: str, norm: str, words: list[_Word], kind: str, high: int,
             lang: str | None) -> list[_Score] | None:
    """The score that opens the reply and what repeats it; None when none opens it.

    Everything after a leading score is the comment, numbers and all ("10
    lääkäri oli 5/5", "9 (2 käyntiä)"), unless a second value follows at once as
    a range or a choice ("9-10", "8 tai 9") or stands alone ("8 9", "9 kymppi").
    """
    first = _first_score(text, norm, words, kind, high, lang)
    if first is None:
        return None
    return [first, *_repeats(norm, words, kind, first)]


def _first_score(text: str, norm: str, words: list[_Word], kind: str, high: int,
                 lang: str | None) -> _Score | None:
    digit = _NUMBER.search(norm)
    skip = _SKIP_LIKERT if kind == "likert" else _SKIP
    for k, w in enumerate(words):
        if digit is not None and digit.start() < w.start:
            break
        if w.folded in W.MAX_FIRST and (full := _full_marks(norm, words, k, high)):
            return full
        if kind == "likert" and (label := _likert_label(norm, words, k)) is not None:
            return label
        if w.folded in skip or (w.folded in W.ARTICLES and k + 1 < len(words)
                                and _word_value(words[k + 1].text) is not None):
            continue
        return _number_word_score(norm, words, k, high, lang, leading=True)
    return _read_number(text, norm, digit, high)[1] if digit is not None else None


def _full_marks(norm: str, words: list[_Word], k: int, high: int) -> _Score | None:
    """"täydet pisteet", "full pott", "full marks": the top of the scale."""
    joined = " ".join(w.folded for w in words[k : k + 3])
    full = W.MAX_SCORE.match(joined)
    if full is None:
        return None
    last = words[k + joined[: full.end()].count(" ")]
    return _Score(high, words[k].start, _after_number_word(norm, last.end, high))


def _next_token(norm: str, words: list[_Word], pos: int) -> tuple[int, int, int | None] | None:
    """(start, end, word index or None for digits) of the first token at or after `pos`."""
    k = bisect_left(words, pos, key=lambda w: w.start)
    digit = _NUMBER.search(norm, pos)
    if k < len(words) and (digit is None or words[k].start < digit.start()):
        return words[k].start, words[k].end, k
    return (digit.start(), digit.end(), None) if digit is not None else None


def _repeats(norm: str, words: list[_Word], kind: str, first: _Score) -> list[_Score]:
    """Second values right after a leading score: the same value again, or raise."""
    found: list[_Score] = []
    pos = first.end
    while (token := _next_token(norm, words, pos)) is not None:
        start, end, k = token
        ranged = bool(_RANGE_MARK.search(norm, pos, start))
        if k is not None and words[k].folded in _CONNECTORS:
            ranged = ranged or words[k].folded in _RANGE_WORDS
            token = _next_token(norm, words, end)
            if token is None:
                break
            start, end, k = token
        second = _second_value(norm, words, kind, start, end, k)
        if second is None or W.UNIT_AFTER.match(norm, end):
            break  # a word, or "9 - 2 tuntia jonossa": a quantity in the comment
        if second.value == first.value:
            found.append(second)
            pos = second.end
            continue
        if ranged or not _ANY_TOKEN.search(norm, second.end):
            raise _Ambiguous  # "9-10", "8 tai 9", "8 9", "9 kymppi", "5 täysin eri mieltä"
        break
    return found


def _second_value(norm: str, words: list[_Word], kind: str, start: int, end: int,
                  k: int | None) -> _Score | None:
    """A number, number word or Likert label at start..end, as a score (no typos read)."""
    if k is None:
        token = norm[start:end]
        value = 10 if token == W.KEYCAP_TEN else int(token)
        tail = _SECOND_TAIL.match(norm, end)
        return _Score(value, start, tail.end() if tail else end)
    if kind == "likert":
        label = _likert_label(norm, words, k)
        if label is not None:
            return label
    hit = W.NUMBER_WORDS.get(words[k].text) or W.NUMBER_WORDS.get(words[k].folded)
    if hit is None or hit[1] == W.ARTICLE:
        return None
    return _Score(hit[0], start, end)


# --- digits -------------------------------------------------------------------


def _digit_scores(text: str, norm: str, high: int) -> list[_Score]:
    scores: list[_Score] = []
    done = 0
    for m in _NUMBER.finditer(norm):
        if m.start() < done:
            continue  # already read as part of a date, a phone number, "9/10"...
        done, score = _read_number(text, norm, m, high)
        if score is not None:
            scores.append(score)
    return scores


def _read_number(text: str, norm: str, m: re.Match[str], high: int) -> tuple[int, _Score | None]:
    """Read the number at `m`: (where reading stopped, the score or None if no score)."""
    start, token = m.start(), m.group()
    if token == W.KEYCAP_TEN:
        return m.end(), _Score(10, start, m.end())
    if start > 0 and _is_letter(norm[start - 1]):
        return m.end(), None  # "b12", "m2": a code, not a score
    before = norm[max(0, start - 24) : start]
    if W.PREFIX_BEFORE.search(before):  # "klo 9", "klo 14-15", "huone 5"
        span = _QUANTITY.match(norm, start)
        return (span.end() if span else m.end()), None
    compound = _DATE.match(norm, start) or _TIME.match(norm, start)
    if compound:
        return compound.end(), None
    run = _RUN.match(norm, start)
    if run and _is_phone(norm, start, run.group()):
        return run.end(), None
    if len(token) >= 4:
        return m.end(), None  # a year, an id
    if _DECIMAL.match(norm, start) or _HALF.match(norm, m.end()):
        raise _Ambiguous  # "8,5", "9½", "8 ja puoli"
    denom = _DENOM.match(norm, start)
    if denom:
        if int(denom.group(2)) != high:
            raise _Ambiguous  # "7/8", "1/2", "4/5" on 0-10
        return denom.end(), _Score(int(denom.group(1)), start, denom.end())
    quantity = _QUANTITY.match(norm, start)
    if quantity and W.UNIT_AFTER.match(norm, quantity.end()):
        return quantity.end(), None  # "1-2 viikkoa", "2 tai 3 tuntia"
    over = _WORD_OVER.search(before)
    if over and int(token) == high and _word_value(over.group(1)) is not None:
        return m.end(), None  # the word's "/10": read with the word
    end = m.end()
    if W.UNIT_AFTER.match(norm, end) or _ORDINAL.match(norm, end):
        return end, None  # "2 tuntia", "3:e", "2nd"
    points = _POINTS.match(norm, end)
    if points:
        end = points.end()  # "10p", "9 pistettä"
    elif stars := _STARS.match(norm, end):
        if high != 5:
            raise _Ambiguous  # "4 tähteä" is on a five-star scale, not 0-10
        end = stars.end()
    elif _ONE_LETTER.match(norm, end):
        raise _Ambiguous  # "1O" (a letter O for a zero?), "5x"
    ordinal = _FI_ORDINAL.match(text, end)
    if ordinal and text[ordinal.end() - 1].islower() and _WORD.search(norm, 0, start):
        return end, None  # "...ja 2. kerta": a Finnish ordinal
    return _finish_score(norm, start, end, int(token), high)


def _finish_score(norm: str, start: int, end: int, value: int, high: int) -> tuple[int, _Score]:
    """Extend a plain score over its case ending, "/10" words, "+" and sign."""
    for pattern in (_CASE, _OUT_OF_TEN if high == 10 else None):
        extra = pattern.match(norm, end) if pattern else None
        if extra:
            end = extra.end()
    sign = _SIGN.match(norm, end) or _TRAILING_MINUS.match(norm, end)
    if sign:
        end = sign.end()  # "9+", "9-": a school grade, read as its number
    if start > 0 and _LEADING_MINUS.fullmatch(norm, 0, start):
        start -= 1
        value = -value  # "-1": out of every scale
    return end, _Score(value, start, end)


def _is_phone(norm: str, start: int, run: str) -> bool:
    if start > 0 and norm[start - 1] == "+":
        return True
    # Finnish numbers start with 0 (or +358): "040 123", "09 1234 5678", "050-1234567".
    first = re.split("[ -]", run, maxsplit=1)[0]
    return len(first) > 1 and first[0] == "0"


def _is_letter(c: str) -> bool:
    return c.isalpha()


# --- words --------------------------------------------------------------------


def _word_scores(
    norm: str, words: list[_Word], kind: str, high: int, lang: str | None
) -> list[_Score]:
    if not words:
        return []
    scores: list[_Score] = []
    first = _skip(words, 0, W.LEAD_IN)
    if kind == "likert":
        label = _likert_label(norm, words, _skip(words, 0, W.LEAD_IN | W.LIKERT_LEAD_IN))
        label = label or _trailing_likert_label(norm, words)
        if label is not None:
            scores.append(label)
    if not scores and first < len(words):
        lead = _number_word_score(norm, words, first, high, lang, leading=True)
        if lead is not None:
            scores.append(lead)
    last = len(words) - 1
    if last > first and all(s.end <= words[last].start for s in scores):
        trail = _number_word_score(norm, words, last, high, lang, leading=False)
        if trail is not None:
            scores.append(trail)
    return scores


def _skip(words: list[_Word], i: int, vocabulary: frozenset[str]) -> int:
    while i < len(words) and words[i].folded in vocabulary:
        i += 1
    return i


def _word_value(word: str) -> int | None:
    """The value of a digit group or a number word (not the article "en")."""
    if word.isdigit():
        return int(word)
    hit = W.number_word(word)
    return hit[0] if hit is not None and hit[1] != W.ARTICLE else None


def _number_word_score(
    norm: str, words: list[_Word], k: int, high: int, lang: str | None, *, leading: bool
) -> _Score | None:
    word = words[k]
    hit = W.number_word(word.text)
    if hit is None:
        return None
    value, cls = hit
    end = _after_number_word(norm, word.end, high)
    alone_after = not _ANY_TOKEN.search(norm, end)
    if cls == W.ARTICLE:
        alone = leading and alone_after and not _ANY_TOKEN.search(norm, 0, word.start)
        return _Score(value, word.start, end) if alone and lang == "sv" else None
    if leading:
        if alone_after or cls == W.GRADE or _HARD_SEP_AFTER.match(norm, end):
            return _Score(value, word.start, end)
        return None
    if not alone_after:
        return None
    before = norm[: word.start]
    if _HARD_SEP_BEFORE.search(before) or (k > 0 and words[k - 1].folded in W.LEAD_IN):
        return _Score(value, word.start, end)
    return None


def _after_number_word(norm: str, end: int, high: int) -> int:
    """Where a number word's score ends: over "/10", "kymmenestä"; raise on "7 tai 8"."""
    if high == 10:
        out_of = _OUT_OF_TEN.match(norm, end)
        if out_of:
            return out_of.end()
    if _HALF.match(norm, end):
        raise _Ambiguous
    over = _OVER.match(norm, end)
    if over and _word_value(over.group(1)) is not None:
        if _word_value(over.group(1)) != high:
            raise _Ambiguous  # "kolme/viisi" on 0-10
        return over.end()  # "ysi/10", "fyra av fem", "nine out of 10"
    alt = _ALTERNATIVE.match(norm, end)
    if alt and _word_value(alt.group("other")) is not None:
        raise _Ambiguous  # "kasi tai ysi", "seven-eight", "tre eller fyra"
    for extra in (_POINTS, _SIGN, _TRAILING_MINUS):
        more = extra.match(norm, end)
        if more:
            end = more.end()  # "kymmenen pistettä", "tio poäng", "ysi+", "kasi miinus"
    following = _NEXT_WORD.match(norm, end)
    if following and _word_value(following.group(1)) is not None:
        raise _Ambiguous  # "ysi kymppi", "kaksi kolme"
    return end


def _likert_label(norm: str, words: list[_Word], i: int) -> _Score | None:
    """A Likert label phrase starting at word `i` ("täysin samaa mieltä, ...")."""
    if i >= len(words):
        return None
    window = words[i : i + 8]
    joined = " ".join(_likert_word(w.folded) for w in window)
    for value, pattern in W.LIKERT_LABELS:
        m = pattern.match(joined)
        if m:
            last = window[joined[: m.end()].count(" ")]
            alt = _ALTERNATIVE.match(norm, last.end)
            if alt and alt.group("sep") != "-":
                raise _Ambiguous  # "täysin samaa mieltä tai osittain"
            return _Score(value, words[i].start, last.end)
    return None


def _trailing_likert_label(norm: str, words: list[_Word]) -> _Score | None:
    """A label that ends the reply after punctuation ("Hyvä hoitaja. Täysin samaa mieltä")."""
    for i in range(max(1, len(words) - 8), len(words)):
        if not _HARD_SEP_BEFORE.search(norm[: words[i].start]):
            continue
        label = _likert_label(norm, words, i)
        if label is not None and not _ANY_TOKEN.search(norm, label.end):
            return label
    return None


@lru_cache(maxsize=4096)
def _likert_word(word: str) -> str:
    if len(word) < W.TYPO_MIN_LEN or word in W.LIKERT_VOCAB:
        return word
    close = [v for v in W.LIKERT_VOCAB if W.within_one_edit(word, v)]
    return close[0] if len(close) == 1 else word


# --- the comment ---------------------------------------------------------------


def _comment(text: str, words: list[_Word], scores: list[_Score]) -> str | None:
    """The reply without its score, in the person's words; None when nothing is left."""
    spans = sorted((_over_lead_in(text, words, s.start), s.end) for s in scores)
    pieces: list[str] = []
    pos = 0
    for start, end in spans:
        pieces.append(text[pos:start] if start > pos else "")
        pos = max(pos, end)
    pieces.append(text[pos:])
    head = pieces[0]
    lead_in = W.LEAD_IN | W.LIKERT_LEAD_IN
    head_words = [w.folded for w in words if w.end <= spans[0][0]]
    if head_words and all(w in lead_in for w in head_words) and not any(map(str.isdigit, head)):
        head = ""  # "Jag ger 9", "I give it 9": no comment
    kept = [head.rstrip(_SEP_BEFORE)]
    kept += [p.lstrip(_SEP_AFTER).rstrip(_SEP_BEFORE) for p in pieces[1:-1]]
    kept.append(pieces[-1].lstrip(_SEP_AFTER))
    return _tidy(" ".join(kept))


def _tidy(text: str) -> str | None:
    """Whitespace collapsed and control characters dropped; None when nothing is left."""
    if not text.isprintable():
        text = "".join(map(_storable, text))
    return " ".join(text.split()) or None


def _storable(c: str) -> str:
    # A lone surrogate (a UCS-2 pair split across SMS segments) cannot be stored
    # as UTF-8: keep a U+FFFD in its place. Controls other than whitespace go.
    if c.isprintable() or c.isspace():
        return c
    category = unicodedata.category(c)
    if category == "Cs":
        return "\ufffd"
    return "" if category == "Cc" else c


def _over_lead_in(text: str, words: list[_Word], start: int) -> int:
    """Move a score's start back over words that only introduce it ("..., annan 9")."""
    before = bisect_right(words, start, key=lambda w: w.end)
    for w in reversed(words[max(0, before - 4) : before]):
        if w.folded not in W.SCORE_LEAD_IN or text[w.end : start].strip(_SEP_BEFORE):
            break
        start = w.start
    return start
