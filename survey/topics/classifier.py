"""Topics and tone of one free text, from the lexicons over its words' base forms.

Pure: a text and its language in, a Classification out. The text is cut into
segments at sentence marks, commas and contrast words ("mutta", "men", "but");
topics are the union of every word's and phrase's topics; a segment that asks for
something ("toivoisin", "voisiko", a conditional passive, "borde", "please") adds
`ehdotus`. Tone adds the words' weights: a negator up to three words before a word
turns its weight over ("ei ollut ystävällinen"), an intensifier raises it, praise
inside a request does not count ("olisi kiva jos..."), and praise and complaint
together make `mixed`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from survey.errors import PalauteError
from survey.topics import lexicon as lex
from survey.topics.analysis import Analyser, Word, analyser
from survey.topics.taxonomy import LANGUAGES, SERVICE_TOPICS, TOPICS, Tone

NEGATION_REACH = 3        # words before a tone word that a negator still turns over
INTENSIFIER_REACH = 2
INTENSIFIER_GAIN = 1.5
PHRASE_REACH = 4          # the parts of a phrase lie within this many words
EMOJI_CAP = 2.0           # a row of hearts counts as two, not twenty
GOOD_GRADE, BAD_GRADE = 0.8, 0.4   # "10/10", "5/5" praise; "2/10", "1/5" complain
CACHE_WORDS = 50_000      # per language; a word's matches are worked out once
TOPIC_ORDER = {topic.slug: index for index, topic in enumerate(TOPICS)}

_EMOJI = (
    r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\u2764\u2763]\uFE0F?"
    r"|[:;=]-?[()DPp]|<3|\(:|\):"
)
_TOKEN_RE = re.compile(rf"({_EMOJI})|([^\W\d_]+(?:[-'’][^\W\d_]+)*)|(\d+)", re.UNICODE)
_GRADE_RE = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(10|5)(?![\d/])")
_BREAK_RE = re.compile(r"[.!?;,\n]+|\s[-–—]+\s")


class TopicsError(PalauteError, ValueError):
    """A text that cannot be classified as asked (e.g. an unknown language)."""

    exit_code = 2


@dataclass(frozen=True)
class Classification:
    """What a text is about (topic slugs in the county's order) and its tone."""

    topics: tuple[str, ...]
    tone: Tone

    def to_json(self) -> dict[str, object]:
        """`{"topics": [...], "tone": "..."}`."""
        return {"topics": list(self.topics), "tone": self.tone.value}


@dataclass(frozen=True)
class _Token:
    ids: frozenset[int]
    word: Word
    # Lexicon words this one is the antonym of by its prefix ("epäasiallinen": asiallinen).
    antonym_of: frozenset[int] = frozenset()


class _Language:
    """One language's analyser, lexicon and word cache."""

    def __init__(self, lang: str) -> None:
        self.analyser: Analyser = analyser(lang)
        self.lexicon = lex.load(lang, self.analyser.normalise)
        self.fuzzy = lang == "fi"
        self.negation_follows = lang == "sv"
        self._cache: dict[str, _Token] = {}
        self._lock = threading.Lock()
        roles: dict[str, set[int]] = {role: set() for role in lex.ROLES}
        for ident, effects in self.lexicon.effects.items():
            for effect in effects:
                if effect.role:
                    roles[effect.role].add(ident)
        self.roles = {role: frozenset(ids) for role, ids in roles.items()}

    def token(self, surface: str) -> _Token:
        found = self._cache.get(surface)
        if found is None:
            word = self.analyser.word(surface)
            found = _Token(self._match(word), word, self._antonym_of(word))
            with self._lock:
                if len(self._cache) >= CACHE_WORDS:
                    self._cache.clear()
                self._cache[surface] = found
        return found

    def _match(self, word: Word) -> frozenset[int]:
        lexicon = self.lexicon
        ids: set[int] = set()
        antonyms = lex.ANTONYM_PREFIXES[lexicon.lang]
        min_head = lex.MIN_HEAD.get(lexicon.lang, len(word.surface) + 1)
        for key in word.lemmas:
            for start in range(lex.MIN_MODIFIER, len(key) - min_head + 1):
                if key[:start] not in antonyms:
                    ids.update(lexicon.heads.get(key[start:], ()))
        for key in word.keys:
            ids.update(lexicon.exact.get(key, ()))
            for end in range(1, len(key) + 1):
                ids.update(lexicon.prefixes.get(key[:end], ()))
            for start in range(len(key)):
                ids.update(lexicon.suffixes.get(key[start:], ()))
        if not word.known and self.fuzzy and not ids:
            folded = lex.fold(word.surface)
            ids.update(lexicon.folded.get(folded, ()))
            if not ids and len(folded) >= lex.MIN_FUZZY:
                for variant in lex.deletions(folded):
                    ids.update(lexicon.fuzzy.get(variant, ()))
        return frozenset(ids)

    def _antonym_of(self, word: Word) -> frozenset[int]:
        lexicon = self.lexicon
        min_head = lex.MIN_HEAD.get(lexicon.lang)
        if min_head is None:
            return frozenset()
        ids: set[int] = set()
        for key in word.lemmas:
            for prefix in lex.ANTONYM_PREFIXES[lexicon.lang]:
                if key.startswith(prefix) and len(key) - len(prefix) >= min_head:
                    ids.update(lexicon.heads.get(key[len(prefix):], ()))
        return frozenset(ids)

    def has(self, token: _Token, role: str) -> bool:
        return not token.ids.isdisjoint(self.roles[role])


class Classifier:
    """Classifies texts in fi, sv and en; each language is loaded when first needed."""

    def __init__(self) -> None:
        self._languages: dict[str, _Language] = {}
        self._lock = threading.Lock()

    def _language(self, lang: str) -> _Language:
        if lang not in LANGUAGES:
            raise TopicsError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
        with self._lock:
            if lang not in self._languages:
                self._languages[lang] = _Language(lang)
            return self._languages[lang]

    def classify(self, text: str, lang: str) -> Classification:
        """Topics and tone of one text written in `lang`."""
        language = self._language(lang)
        topics: set[str] = set()
        positive = negative = emoji_positive = emoji_negative = 0.0
        contrast = False
        for segment in _segments(language, text):
            found, tone, suggestion = _read_segment(language, segment)
            topics |= found
            if suggestion:
                topics.add("ehdotus")
            for weight, is_emoji in tone:
                if is_emoji:
                    emoji_positive += max(weight, 0.0)
                    emoji_negative += max(-weight, 0.0)
                else:
                    positive += max(weight, 0.0)
                    negative += max(-weight, 0.0)
            contrast = contrast or any(language.has(t, "contrast") for t in segment[:1])
        for grade in _GRADE_RE.finditer(text):
            share = int(grade.group(1)) / int(grade.group(2))
            emoji_positive += share >= GOOD_GRADE
            emoji_negative += share <= BAD_GRADE
        positive += min(emoji_positive, EMOJI_CAP)
        negative += min(emoji_negative, EMOJI_CAP)
        ordered = tuple(sorted(topics, key=TOPIC_ORDER.__getitem__))
        return Classification(ordered, decide_tone(positive, negative, contrast))


def decide_tone(positive: float, negative: float, contrast: bool) -> Tone:
    """Tone from the summed praise and complaint (contrast words make a weak side count)."""
    if positive == 0 and negative == 0:
        return Tone.NEUTRAL
    if positive > 0 and negative > 0 and (min(positive, negative) >= 1.0 or contrast):
        return Tone.MIXED
    # A weak tie leans to the complaint: feedback that hedges praise is asking for a fix.
    return Tone.POSITIVE if positive > negative else Tone.NEGATIVE


def _segments(language: _Language, text: str) -> Iterable[list[_Token]]:
    """Segments of tokens; a contrast word starts a new segment (and stays its first word)."""
    for part in _BREAK_RE.split(text.lower().replace("\ufe0f", "")):
        segment: list[_Token] = []
        for match in _TOKEN_RE.finditer(part):
            token = language.token(match.group(0))
            if segment and language.has(token, "contrast"):
                yield segment
                segment = []
            segment.append(token)
        if segment:
            yield segment


def _read_segment(
    language: _Language, segment: Sequence[_Token]
) -> tuple[set[str], list[tuple[float, bool]], bool]:
    """A segment's topics, its tone weights (weight, is emoji) and whether it asks for something."""
    lexicon = language.lexicon
    suggestion = _is_suggestion(language, segment)
    tone = _tone(language, segment)
    phrases = _phrases(lexicon, segment)
    tone += [(effect.tone, False) for effect, _ in phrases if effect.tone]
    if suggestion:
        tone = [(w, e) for w, e in tone if w < 0]
    evaluated = any(weight for weight, _ in tone)
    # (effect, the positions it stands on); an exclusion cancels its topic on its positions
    found: list[tuple[lex.Effect, frozenset[int]]] = []
    for position, token in enumerate(segment):
        here = frozenset((position,))
        found += [(e, here) for i in token.ids for e in lexicon.effects.get(i, ())]
    found += phrases
    cancelled = {(e.topic, p) for e, where in found if e.exclude for p in where}
    kept = [
        e for e, where in found
        if e.topic and not e.exclude and (evaluated or not e.evaluated)
        and not any((e.topic, p) in cancelled for p in where)
    ]
    topics = {e.topic for e in kept if e.topic and not e.fallback}
    if topics.isdisjoint(SERVICE_TOPICS):
        topics |= {e.topic for e in kept if e.topic and e.fallback}
    return topics, tone, suggestion


def _phrases(
    lexicon: lex.Lexicon, segment: Sequence[_Token]
) -> list[tuple[lex.Effect, frozenset[int]]]:
    """Phrases found in the segment, each with the positions of its words."""
    present: dict[int, list[int]] = {}
    for position, token in enumerate(segment):
        for ident in token.ids:
            present.setdefault(ident, []).append(position)
    found = []
    for parts, effect in lexicon.phrases:
        if not all(part in present for part in parts):
            continue
        reach = lex_reach(len(parts))
        for start in present[parts[0]]:
            near = [[p for p in present[part] if abs(p - start) <= reach] for part in parts[1:]]
            if all(near):
                found.append((effect, frozenset([start, *(min(n, key=lambda p: abs(p - start))
                                                          for n in near)])))
                break
    return found


def lex_reach(parts: int) -> int:
    """How far apart a phrase's parts may be: a little more for longer phrases."""
    return PHRASE_REACH + max(0, parts - 2)


def _is_suggestion(language: _Language, segment: Sequence[_Token]) -> bool:
    if language.has(segment[0], "suggestion_start"):
        return True
    has_praise = any(_weight(language, t) > 0 for t in segment)
    for position, token in enumerate(segment):
        following = segment[position + 1] if position + 1 < len(segment) else None
        if following is not None and language.has(following, "negators"):
            continue
        if language.has(token, "suggestion"):
            return True
        word = token.word
        if word.conditional and (word.passive or language.has(token, "suggestion_verbs")):
            return True
        if word.conditional and has_praise and language.has(token, "suggestion_copula"):
            return True
    return False


def _weight(language: _Language, token: _Token) -> float:
    effects = language.lexicon.effects
    weights = [e.tone for i in token.ids for e in effects.get(i, ()) if e.tone]
    if not weights:
        # "epämukava", "epäselkeä", "otrevlig": the opposite of a word the lexicon weighs
        weights = [-e.tone for i in token.antonym_of for e in effects.get(i, ()) if e.tone]
    return max(weights, key=abs) if weights else 0.0


def _negated(language: _Language, segment: Sequence[_Token], position: int) -> bool:
    """Whether a negator stands shortly before the word, with no "ja", "and" between."""
    following = segment[position + 1] if position + 1 < len(segment) else None
    if language.negation_follows and following and language.has(following, "negators"):
        return True  # Swedish puts "inte" after the verb: "fungerar inte", "lyssnade inte"
    for back in range(position - 1, max(-1, position - NEGATION_REACH - 1), -1):
        if language.has(segment[back], "clause_breaks"):
            return False
        if language.has(segment[back], "negators"):
            return True
    return False


def _tone(language: _Language, segment: Sequence[_Token]) -> list[tuple[float, bool]]:
    """Each tone word's weight, turned over by a negator before it, raised by an intensifier.

    A negated word that has no tone itself but whose negation is a complaint ("ei
    vastattu", "fungerar inte") counts as mild complaint; so does any negated verb
    in a segment with no other tone, unless the lexicon says it is no complaint
    ("en osaa sanoa", "no comment").
    """
    tone: list[tuple[float, bool]] = []
    negated_verb = False
    for position, token in enumerate(segment):
        weight = _weight(language, token)
        negated = _negated(language, segment, position)
        if not weight:
            if negated and language.has(token, "complaint_if_negated"):
                tone.append((lex.COMPLAINT_IF_NEGATED, False))
            elif negated and token.word.verb and not language.has(token, "negators"):
                negated_verb = True
            continue
        is_emoji = not token.word.surface[:1].isalnum()
        if not is_emoji:
            if negated and weight < 0 and language.has(token, "complaint_if_negated"):
                # "ei kukaan vastaa": 'vastaa' is also 'vasta' (mildly negative), but a
                # word whose negation is a complaint never turns into praise
                tone.append((lex.COMPLAINT_IF_NEGATED, False))
                continue
            if negated:
                weight = -weight
            near = segment[max(0, position - INTENSIFIER_REACH):position]
            if any(language.has(t, "intensifiers") for t in near):
                weight *= INTENSIFIER_GAIN
        tone.append((weight, is_emoji))
    calm = any(language.has(t, "no_complaint") for t in segment)
    if negated_verb and not tone and not calm:
        tone.append((lex.COMPLAINT_IF_NEGATED, False))
    return tone


_DEFAULT: Classifier | None = None
_DEFAULT_LOCK = threading.Lock()


def classify(text: str, lang: str) -> Classification:
    """Topics and tone of `text` in `lang` (fi, sv, en) with the shipped lexicons."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Classifier()
    return _DEFAULT.classify(text, lang)
