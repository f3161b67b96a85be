"""The topic and tone lexicons: TOML files per language, read into match indexes.

A pattern is a lemma (Finnish), a word (Swedish, English; stemmed on load) or a
phrase of them separated by spaces (all parts within a few words of each other,
in any order). Marks: `=word` only the whole word (not as a compound's last
part); `word*` any word that starts so; `*word` any word that ends so; `!word`
(topics only) a word that does not count for that topic even if another pattern
matches it. The files are data: README "Free-text topics" says how to extend them.
"""

from __future__ import annotations

import enum
import hashlib
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources

from survey.errors import PalauteError
from survey.topics.taxonomy import LANGUAGES, TOPIC_BY_SLUG

# Raise when the matching rules change (the data files' own hash is added to it).
ALGORITHM_VERSION = "1"
# A compound's last part must be this long to count alone (Finnish "ovi" is no head,
# Swedish "ring" in "parkering" neither); English compounds are separate words.
MIN_HEAD: dict[str, int] = {"fi": 4, "sv": 5}
# ... and what stands before it this long ("lääkäri" is not a compound of "äri").
MIN_MODIFIER = 2
# The fuzzy match (one letter off) is tried only on words at least this long.
MIN_FUZZY = 5
TONE_WEIGHTS: dict[str, float] = {
    "positive": 1.0, "negative": -1.0, "mild_positive": 0.5, "mild_negative": -0.5,
}
# Words with no tone of their own whose negation is a complaint ("ei vastattu").
COMPLAINT_IF_NEGATED = -0.5
ROLES: tuple[str, ...] = (
    "negators", "contrast", "intensifiers", "suggestion", "suggestion_verbs",
    "suggestion_start", "suggestion_copula", "complaint_if_negated", "no_complaint",
    "clause_breaks",
)
# A word made of one of these and a lexicon word is its opposite ("epäsiisti").
ANTONYM_PREFIXES: dict[str, tuple[str, ...]] = {"fi": ("epä",), "sv": ("o",), "en": ()}



class LexiconError(PalauteError, ValueError):
    """A lexicon file that cannot be used (unknown topic, bad pattern, bad TOML)."""


class Mode(enum.Enum):
    """How a pattern word meets a text word."""

    WORD = "word"        # the whole word, or the last part of a compound
    WHOLE = "whole"      # only the whole word
    PREFIX = "prefix"
    SUFFIX = "suffix"


@dataclass(frozen=True)
class Effect:
    """What a matched pattern means: a topic (or its exclusion), a tone weight, a role."""

    topic: str | None = None
    exclude: bool = False
    tone: float = 0.0
    role: str | None = None
    evaluated: bool = False   # "~word": only in a segment that praises or complains
    fallback: bool = False    # "?word": only when no named service is in the segment


@dataclass
class Lexicon:
    """One language's patterns, indexed for matching a word in a few dict look-ups."""

    lang: str
    normalise: Callable[[str], str]
    exact: dict[str, set[int]] = field(default_factory=dict)
    heads: dict[str, set[int]] = field(default_factory=dict)
    prefixes: dict[str, set[int]] = field(default_factory=dict)
    suffixes: dict[str, set[int]] = field(default_factory=dict)
    folded: dict[str, set[int]] = field(default_factory=dict)
    fuzzy: dict[str, set[int]] = field(default_factory=dict)
    effects: dict[int, list[Effect]] = field(default_factory=dict)
    phrases: list[tuple[tuple[int, ...], Effect]] = field(default_factory=list)
    _ids: dict[tuple[Mode, str], int] = field(default_factory=dict)

    def word_id(self, pattern: str, source: str) -> int:
        """The id of one pattern word (made and indexed on first sight)."""
        mode, word = _mode(pattern, source)
        key = self.normalise(word) if mode in (Mode.WORD, Mode.WHOLE) else word.lower()
        if not key:
            raise LexiconError(f"{source}: empty pattern {pattern!r}")
        ident = self._ids.get((mode, key))
        if ident is not None:
            return ident
        ident = len(self._ids)
        self._ids[(mode, key)] = ident
        if mode in (Mode.WORD, Mode.WHOLE):
            self.exact.setdefault(key, set()).add(ident)
            self.folded.setdefault(fold(word.lower()), set()).add(ident)
        if mode is Mode.WORD and len(key) >= MIN_HEAD.get(self.lang, len(key) + 1):
            self.heads.setdefault(key, set()).add(ident)
        if mode is Mode.PREFIX:
            self.prefixes.setdefault(key, set()).add(ident)
        if mode is Mode.SUFFIX:
            self.suffixes.setdefault(key, set()).add(ident)
        if mode in (Mode.WORD, Mode.WHOLE) and len(word) >= MIN_FUZZY:
            for variant in deletions(fold(word.lower())):
                self.fuzzy.setdefault(variant, set()).add(ident)
        return ident

    def add(self, pattern: str, effect: Effect, source: str) -> None:
        """Add one pattern (a word or a phrase) with what it means."""
        parts = pattern.split()
        if not parts:
            raise LexiconError(f"{source}: empty pattern")
        ids = tuple(self.word_id(part, source) for part in parts)
        if len(ids) == 1:
            self.effects.setdefault(ids[0], []).append(effect)
        else:
            self.phrases.append((ids, effect))


def _mode(pattern: str, source: str) -> tuple[Mode, str]:
    if pattern.startswith("=") and len(pattern) > 1:
        return Mode.WHOLE, pattern[1:]
    if pattern.endswith("*") and len(pattern) > 1:
        return Mode.PREFIX, pattern[:-1]
    if pattern.startswith("*") and len(pattern) > 1:
        return Mode.SUFFIX, pattern[1:]
    if any(mark in pattern for mark in "*=!?~"):
        raise LexiconError(
            f"{source}: bad pattern {pattern!r} (marks: =word, word*, *word, and for topics "
            "!word, ?word, ~word before the rest)"
        )
    return Mode.WORD, pattern


_FOLD = str.maketrans("äöåéü", "aoaeu")


def fold(word: str) -> str:
    """The word without Nordic letters' dots and rings (typed on a phone without them)."""
    return word.translate(_FOLD)


def deletions(word: str) -> set[str]:
    """The word and every form of it with one letter left out (for one-letter typos)."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def data_files() -> dict[str, bytes]:
    """The shipped lexicon files by name (what the model version is a hash of)."""
    folder = resources.files("survey.topics") / "data"
    return {
        entry.name: entry.read_bytes()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    }


def model_version(files: Mapping[str, bytes] | None = None) -> str:
    """The version stored with every label: the rules' version and the lexicons' hash."""
    digest = hashlib.sha256(ALGORITHM_VERSION.encode())
    for name, data in sorted((data_files() if files is None else files).items()):
        digest.update(name.encode() + b"\0" + data + b"\0")
    return f"lex{ALGORITHM_VERSION}-{digest.hexdigest()[:12]}"


def parse(lang: str, text: str, emoji_text: str, normalise: Callable[[str], str]) -> Lexicon:
    """Read one language's TOML (and the shared emoji file) into a Lexicon."""
    source = f"{lang}.toml"
    try:
        data = tomllib.loads(text)
        emoji = tomllib.loads(emoji_text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"{source}: {exc}") from None
    lexicon = Lexicon(lang=lang, normalise=normalise)
    for slug, patterns in _table(data, "topics", source).items():
        if slug not in TOPIC_BY_SLUG:
            raise LexiconError(f"{source}: [topics] {slug}: not one of the county's 20 topics")
        for pattern in _strings(patterns, f"{source}: [topics] {slug}"):
            if pattern.startswith("!"):
                lexicon.add(pattern[1:], Effect(topic=slug, exclude=True), source)
                continue
            flags = pattern[: len(pattern) - len(pattern.lstrip("?~"))]
            effect = Effect(topic=slug, evaluated="~" in flags, fallback="?" in flags)
            lexicon.add(pattern[len(flags):], effect, source)
    tone = _table(data, "tone", source)
    for name, weight in TONE_WEIGHTS.items():
        for pattern in _strings(tone.get(name, []), f"{source}: [tone] {name}"):
            lexicon.add(pattern, Effect(tone=weight), source)
    for role in ROLES:
        for pattern in _strings(tone.get(role, []), f"{source}: [tone] {role}"):
            lexicon.add(pattern, Effect(role=role), source)
    unknown = set(tone) - set(TONE_WEIGHTS) - set(ROLES)
    if unknown:
        raise LexiconError(f"{source}: [tone] unknown keys {sorted(unknown)}")
    _add_emoji(lexicon, emoji)
    return lexicon


def _add_emoji(lexicon: Lexicon, emoji: dict[str, object]) -> None:
    for name, weight in (("positive", 1.0), ("negative", -1.0)):
        for symbol in _strings(emoji.get(name, []), f"emoji.toml: {name}"):
            ident = len(lexicon._ids)
            lexicon._ids[(Mode.WHOLE, "\0" + symbol)] = ident
            lexicon.exact.setdefault(symbol, set()).add(ident)
            lexicon.effects.setdefault(ident, []).append(Effect(tone=weight))


def _table(data: dict[str, object], name: str, source: str) -> dict[str, object]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise LexiconError(f"{source}: [{name}] must be a table")
    return table


def _strings(value: object, where: str) -> Iterable[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: must be a list of strings")
    return value


def load(lang: str, normalise: Callable[[str], str]) -> Lexicon:
    """The shipped lexicon of `lang`."""
    if lang not in LANGUAGES:
        raise LexiconError(f"no lexicon for language {lang!r}: use one of {', '.join(LANGUAGES)}")
    files = data_files()
    return parse(lang, files[f"{lang}.toml"].decode(), files["emoji.toml"].decode(), normalise)
