"""The response: one typed, frozen value from the kiosk or the SMS gateway to the central.

`Response` and `Answer` are what the device store returns, what the sync agent
packs, what the receiver and `central import` accept and what the central store
writes. The wire form (DESIGN.md, also the line format of `palaute central
import`) is made by `encode_response` and read back, validated, by
`decode_response`; nothing else turns a response into JSON or back.

The decoder is strict where a bad value would reach the central's tables: ids are
canonical lower-case UUIDs (so that one response cannot be stored twice under two
spellings), timestamps carry their zone, integer answers lie on a survey scale,
texts and flags are bounded. Each problem is one line naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TypeGuard

from survey.errors import PalauteError
from survey.model import SCALES


class Channel(StrEnum):
    """Where a response was given."""

    KIOSK = "kiosk"
    KIOSK_AUDIO = "kiosk-audio"
    SMS = "sms"


class Status(StrEnum):
    """Where a response stands: open on the device until it becomes final."""

    OPEN = "open"
    COMPLETE = "complete"
    ABANDONED = "abandoned"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """Whether the response is final (complete, abandoned or expired) and may sync."""
        return self is not Status.OPEN


FINAL_STATUSES = frozenset(s for s in Status if s.is_final)

# Limits of what a response may carry (the central refuses more).
MAX_TEXT_CHARS = 5000                    # one free-text answer
MAX_ANSWERS = 100
MAX_FLAGS = 32
MAX_NAME_CHARS = 100                     # area, unit, survey, lang
# The NPS question is known by its id everywhere (the central's reports read it).
NPS_QUESTION = "nps"
# A face kiosk's faces (1 saddest … 5 happiest; four faces store 1, 2, 4, 5): a scale of
# its own under its own question id, never an NPS value.
FACES_QUESTION = "faces"
NPS_RANGE = SCALES["nps"]
# Any other integer answer lies on some survey scale (the central does not hold every
# device's survey definition, so it checks the widest one).
VALUE_RANGE = (min(lo for lo, _ in SCALES.values()), max(hi for _, hi in SCALES.values()))
YEARS = (1990, 2200)

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_FLAG = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ResponseError(PalauteError, ValueError):
    """A wire-format response that cannot be used; `problems` has one line per field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def valid_segment(value: object) -> bool:
    """Whether `value` may be a site, device or question id (letters, digits, . _ -)."""
    return isinstance(value, str) and bool(_SEGMENT.match(value))


def valid_uuid(value: object) -> TypeGuard[str]:
    """Whether `value` is a UUID in its canonical form (lower-case hex, 8-4-4-4-12)."""
    return isinstance(value, str) and bool(_UUID.match(value))


@dataclass(frozen=True)
class Answer:
    """One answer: an integer on the question's scale and/or a free text."""

    value: int | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if self.value is None and self.text is None:
            raise ValueError("an answer needs a value or a text")


def _frozen_answers(answers: Mapping[str, Answer]) -> Mapping[str, Answer]:
    return MappingProxyType(dict(answers))


@dataclass(frozen=True)
class Response:
    """One response (DESIGN.md "Data"): who, where, which survey, when, its answers and flags."""

    id: str
    device: str
    site: str
    area: str
    unit: str
    channel: Channel
    survey: str
    survey_version: int
    lang: str
    started_at: datetime
    finished_at: datetime | None
    status: Status
    seq: int | None
    answers: Mapping[str, Answer] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # A response cannot change after it is made: nor can its answers.
        object.__setattr__(self, "answers", _frozen_answers(self.answers))
        object.__setattr__(self, "flags", frozenset(self.flags))
        object.__setattr__(self, "channel", Channel(self.channel))
        object.__setattr__(self, "status", Status(self.status))

    def __hash__(self) -> int:
        return hash(self.id)  # equal responses share their id (the answers are a mapping)

    @property
    def nps(self) -> int | None:
        """The NPS answer's value, when given."""
        answer = self.answers.get(NPS_QUESTION)
        return answer.value if answer is not None else None

    @property
    def has_text(self) -> bool:
        """Whether any answer carries a non-empty text."""
        return any(a.text is not None and a.text.strip() != "" for a in self.answers.values())

    def with_texts(self, texts: Mapping[str, str]) -> Response:
        """This response with the texts of some answers replaced (question → new text)."""
        answers = {q: replace(a, text=texts[q]) if q in texts else a
                   for q, a in self.answers.items()}
        return replace(self, answers=answers)


# -- the wire form ---------------------------------------------------------------------

WireValue = str | int | None | list[str] | dict[str, dict[str, str | int]]


def _timestamp(ts: datetime) -> str:
    return ts.isoformat()


def encode_answers(answers: Mapping[str, Answer]) -> dict[str, dict[str, str | int]]:
    """Answers in wire form: question → {"value": n} and/or {"text": "…"}."""
    out: dict[str, dict[str, str | int]] = {}
    for question, answer in answers.items():
        entry: dict[str, str | int] = {}
        if answer.value is not None:
            entry["value"] = answer.value
        if answer.text is not None:
            entry["text"] = answer.text
        out[question] = entry
    return out


def encode_response(resp: Response) -> dict[str, WireValue]:
    """The wire form of a response (a JSON object, keys in DESIGN.md's order)."""
    return {
        "id": resp.id, "device": resp.device, "site": resp.site, "area": resp.area,
        "unit": resp.unit, "channel": str(resp.channel), "survey": resp.survey,
        "survey_version": resp.survey_version, "lang": resp.lang,
        "started_at": _timestamp(resp.started_at),
        "finished_at": None if resp.finished_at is None else _timestamp(resp.finished_at),
        "status": str(resp.status), "seq": resp.seq, "answers": encode_answers(resp.answers),
        "flags": sorted(resp.flags),
    }


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def has_unstorable(value: object) -> bool:
    """Whether a NUL or a lone surrogate hides in a JSON value (no database text can hold it)."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(has_unstorable(k) or has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_unstorable(v) for v in value)
    return False


class _Reader:
    """Reads the fields of one wire object, collecting one line per bad field."""

    def __init__(self, obj: dict[str, object]) -> None:
        self.obj = obj
        self.problems: list[str] = []

    def bad(self, problem: str) -> None:
        self.problems.append(problem)

    def segment(self, key: str) -> str:
        value = self.obj.get(key)
        if valid_segment(value):
            assert isinstance(value, str)
            return value
        self.bad(f"{key}: must be an id of letters, digits, '.', '_' or '-'")
        return ""

    def name(self, key: str) -> str:
        value = self.obj.get(key)
        if isinstance(value, str) and value.strip() and len(value) <= MAX_NAME_CHARS:
            return value
        self.bad(f"{key}: must be a non-empty string of at most {MAX_NAME_CHARS} characters")
        return ""

    def timestamp(self, key: str) -> datetime | None:
        value = self.obj.get(key)
        if not isinstance(value, str):
            self.bad(f"{key}: must be an ISO 8601 timestamp string")
            return None
        try:
            ts = datetime.fromisoformat(value)
        except ValueError:
            self.bad(f"{key}: is not an ISO 8601 timestamp: {value[:40]!r}")
            return None
        if ts.tzinfo is None:
            self.bad(f"{key}: has no time zone")
            return None
        if not YEARS[0] <= ts.year <= YEARS[1]:
            self.bad(f"{key}: year {ts.year} is out of range")
            return None
        return ts

    def choice(self, key: str, allowed: frozenset[str]) -> str | None:
        value = self.obj.get(key)
        # isinstance first: a list or object here is unhashable and would raise on `in`.
        if isinstance(value, str) and value in allowed:
            return value
        self.bad(f"{key}: must be one of {', '.join(sorted(allowed))}")
        return None


def value_problem(question: str, value: object) -> str | None:
    """Why `value` cannot be the integer answer to `question` (None when it can)."""
    low, high = NPS_RANGE if question == NPS_QUESTION else VALUE_RANGE
    if _is_int(value) and low <= value <= high:
        return None
    return f"answers.{question}.value: must be an integer from {low} to {high}"


def valid_flag(name: object) -> bool:
    """Whether `name` may be a flag (lower-case letters, digits and _, at most 64)."""
    return isinstance(name, str) and bool(_FLAG.match(name))


def _answer(question: str, entry: object) -> Answer | str:
    if not isinstance(entry, dict) or not entry or set(entry) - {"value", "text"}:
        return f"answers.{question}: must be an object with value and/or text"
    value, text = entry.get("value"), entry.get("text")
    problem = value_problem(question, value) if "value" in entry else None
    if problem:
        return problem
    if "text" in entry and not (isinstance(text, str) and len(text) <= MAX_TEXT_CHARS):
        return f"answers.{question}.text: must be a string of at most {MAX_TEXT_CHARS} chars"
    return Answer(value if _is_int(value) else None, text if isinstance(text, str) else None)


def decode_answers(answers: object) -> dict[str, Answer] | str:
    """Wire answers as Answer values, or the (first) problem with them."""
    if not isinstance(answers, dict):
        return "answers: must be an object"
    if len(answers) > MAX_ANSWERS:
        return f"answers: more than {MAX_ANSWERS}"
    out: dict[str, Answer] = {}
    for question, entry in answers.items():
        if not valid_segment(question):
            return f"answers: bad question id {str(question)[:40]!r}"
        answer = _answer(question, entry)
        if isinstance(answer, str):
            return answer
        out[question] = answer
    return out


def _flags(value: object) -> frozenset[str] | str:
    if not isinstance(value, list) or len(value) > MAX_FLAGS:
        return f"flags: must be a list of at most {MAX_FLAGS} names"
    for flag in value:
        if not valid_flag(flag):
            return f"flags: {str(flag)[:40]!r} is not a flag name (a-z, 0-9, _; at most 64)"
    return frozenset(value)


def decode_response(obj: object, *, text_checked: bool = False) -> Response:
    """A wire-format response as a Response; ResponseError naming each bad field.

    Only final responses travel: the status must be complete, abandoned or expired.
    `text_checked`: the caller has made sure no string in `obj` holds a NUL or a lone
    surrogate (a batch's JSON without such an escape), so they are not searched again.
    """
    if not isinstance(obj, dict):
        raise ResponseError(["response must be an object"])
    if not text_checked and has_unstorable(obj):
        raise ResponseError(["contains a NUL character or a lone surrogate"])
    r = _Reader(obj)
    rid = obj.get("id")
    if not valid_uuid(rid):
        r.bad("id: must be a UUID in lower case (8-4-4-4-12 hex digits)")
    device, site = r.segment("device"), r.segment("site")
    area, unit, survey, lang = r.name("area"), r.name("unit"), r.name("survey"), r.name("lang")
    channel = r.choice("channel", frozenset(Channel))
    status = r.choice("status", FINAL_STATUSES)
    version = obj.get("survey_version")
    if not (_is_int(version) and 0 <= version < 2**31):
        r.bad("survey_version: must be a non-negative integer")
    seq = obj.get("seq")
    if seq is not None and not (_is_int(seq) and 1 <= seq < 2**62):
        r.bad("seq: must be a positive integer")
    started, finished = r.timestamp("started_at"), r.timestamp("finished_at")
    answers = decode_answers(obj.get("answers", {}))
    if isinstance(answers, str):
        r.bad(answers)
    flags = _flags(obj.get("flags", []))
    if isinstance(flags, str):
        r.bad(flags)
    if r.problems:
        raise ResponseError(r.problems)
    assert isinstance(rid, str) and _is_int(version) and channel and status and started
    assert not isinstance(answers, str) and not isinstance(flags, str)
    return Response(
        id=rid, device=device, site=site, area=area, unit=unit, channel=Channel(channel),
        survey=survey, survey_version=version, lang=lang, started_at=started,
        finished_at=finished, status=Status(status), seq=seq if _is_int(seq) else None,
        answers=answers, flags=flags,
    )


def response_problems(obj: object) -> list[str]:
    """Why a wire-format response is unusable (empty when it is fine)."""
    try:
        decode_response(obj)
    except ResponseError as exc:
        return exc.problems
    return []
