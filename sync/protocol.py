"""Wire protocol v1 between devices and the central (pure: values in, values out).

Topics are `palaute/v1/{site}/{device}/{kind}` with kind one of responses, ack,
status, config. Payloads are JSON objects, gzip-compressed when that makes them
smaller (a payload is gzip exactly when it starts with the gzip magic bytes, as
JSON never does). Every check returns reasons instead of raising, so that the
receiver can answer a bad batch with an ack that says what was wrong.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from survey.errors import PalauteError
from survey.limits import GZIP_MIN_BYTES, MAX_BATCH_RESPONSES, MAX_PAYLOAD_BYTES
from survey.response import (
    MAX_TEXT_CHARS,
    UNSTORABLE,
    Response,
    ResponseError,
    decode_response,
    encode_response,
    has_unstorable,
    valid_segment,
    valid_uuid,
)
from survey.response import response_problems as _response_problems

PROTOCOL_VERSION = 1
ROOT = "palaute/v1"
KINDS = ("responses", "ack", "status", "config")
SHARED_GROUP = "central"
# Where the central's receivers listen (a shared subscription: several may run at once).
RESPONSES_FILTER = f"{ROOT}/+/+/responses"
STATUS_FILTER = f"{ROOT}/+/+/status"

# Limits (bytes of uncompressed JSON unless said otherwise).
MAX_WIRE_BYTES = 1024 * 1024             # a message as it travels
# Batches are sent once and kept for resends: the strongest level is ~5 % smaller on a
# batch of responses and costs the device a few milliseconds a batch.
GZIP_LEVEL = 9

_GZIP_MAGIC = b"\x1f\x8b"


class ProtocolError(PalauteError, ValueError):
    """A topic or payload that does not follow protocol v1."""


@dataclass(frozen=True)
class Topic:
    """A protocol topic `palaute/v1/{site}/{device}/{kind}`, validated on creation."""

    site: str
    device: str
    kind: str

    def __post_init__(self) -> None:
        if not valid_segment(self.site):
            raise ProtocolError(f"bad site id in topic: {self.site!r}")
        if not valid_segment(self.device):
            raise ProtocolError(f"bad device id in topic: {self.device!r}")
        if self.kind not in KINDS:
            raise ProtocolError(f"unknown topic kind {self.kind!r} (known: {', '.join(KINDS)})")

    def __str__(self) -> str:
        return f"{ROOT}/{self.site}/{self.device}/{self.kind}"

    def sibling(self, kind: str) -> Topic:
        """The topic of the same device with another kind (e.g. the ack of a batch)."""
        return Topic(self.site, self.device, kind)

    @classmethod
    def parse(cls, text: str) -> Topic:
        """Read a topic string; ProtocolError when it is not a protocol v1 topic."""
        parts = text.split("/")
        if len(parts) != 5 or "/".join(parts[:2]) != ROOT:
            raise ProtocolError(f"not a {ROOT} topic: {text!r}")
        return cls(parts[2], parts[3], parts[4])


def shared(filter_: str, group: str = SHARED_GROUP) -> str:
    """A shared-subscription filter (`$share/GROUP/FILTER`)."""
    return f"$share/{group}/{filter_}"


# -- payload codec -------------------------------------------------------------------


def _json(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode(obj: Mapping[str, object], *, gzip_min: int = GZIP_MIN_BYTES) -> bytes:
    """Compact JSON, gzipped when that is smaller and the JSON is at least `gzip_min` bytes."""
    return _packed(_json(obj), gzip_min)


def _packed(raw: bytes, gzip_min: int) -> bytes:
    if len(raw) >= gzip_min:
        packed = gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0)
        if len(packed) < len(raw):
            return packed
    return raw


def decode(payload: bytes, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """A payload back to its JSON object; ProtocolError saying why when it is not one."""
    return _parse(_unpack(payload, max_bytes))


def _unpack(payload: bytes, max_bytes: int) -> bytes:
    data = bytes(payload)
    if data[:2] == _GZIP_MAGIC:
        # Bounded inflation: a small bomb must not become gigabytes in memory.
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(data, max_bytes + 1)
        except zlib.error as exc:
            raise ProtocolError(f"bad gzip data: {exc}") from None
        if len(data) > max_bytes or inflater.unconsumed_tail:
            raise ProtocolError(f"payload larger than {max_bytes} bytes when unpacked")
        if not inflater.eof:
            raise ProtocolError("truncated gzip data")
    elif len(data) > max_bytes:
        raise ProtocolError(f"payload larger than {max_bytes} bytes")
    return data


def _parse(data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError("payload is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"payload is not JSON: {str(exc)[:120]}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"payload must be a JSON object, not {type(obj).__name__}")
    return obj


# Strict UTF-8 holds no surrogate and JSON no raw control character: a NUL or a lone
# surrogate can reach a decoded string only through a \u escape. JSON without such an
# escape needs no search of every string (one with it is searched: `\\u0000` is text).
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89abcdefABCDEF])")


# -- responses -------------------------------------------------------------------------


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def wire_safe(resp: Response) -> Response:
    """`resp` with each answer text made storable: NUL/lone surrogate → U+FFFD, cut to limit.

    Texts are stored on the device as received (a long SMS, a UCS-2 U+0000); the
    central refuses such a response whole, and the device would then count it as done,
    losing its scores with the text. Other fields are the device's own and left as they are.
    """
    fixed = {}
    for question, answer in resp.answers.items():
        if answer.text is not None:
            clean = UNSTORABLE.sub("\ufffd", answer.text)[:MAX_TEXT_CHARS]
            if clean != answer.text:
                fixed[question] = clean
    return resp.with_texts(fixed) if fixed else resp


def response_problems(resp: object) -> list[str]:
    """Why a wire-format response is unusable (empty when it is fine)."""
    return _response_problems(resp)


# -- batches ------------------------------------------------------------------------------


def make_batch(
    batch_id: str, device: str, sent_at: datetime, responses: Sequence[Response]
) -> dict[str, object]:
    """A batch message (to be `encode`d)."""
    return {
        "v": PROTOCOL_VERSION, "batch": batch_id, "device": device,
        "sent_at": sent_at.isoformat(timespec="seconds"),
        "responses": [encode_response(r) for r in responses],
    }


def response_json(resp: Response) -> bytes:
    """One response as it stands in a batch's JSON (compact UTF-8)."""
    return _json(encode_response(resp))


def response_size(resp: Response) -> int:
    """Bytes a response takes in a batch's JSON (uncompressed)."""
    return len(response_json(resp)) + 1


def _fit(sizes: Sequence[int], max_count: int, max_bytes: int) -> int:
    total = 200  # the envelope
    for n, size in enumerate(sizes[:max_count]):
        total += size + 1
        if total > max_bytes and n > 0:
            return n
    return min(len(sizes), max_count)


def fit_batch(responses: Sequence[Response], max_count: int, max_bytes: int) -> int:
    """How many of `responses` (a prefix; at least one) fit in one batch."""
    return _fit([response_size(r) - 1 for r in responses[:max_count]], max_count, max_bytes)


def batch_json(batch_id: str, device: str, sent_at: datetime, pieces: Sequence[bytes]) -> bytes:
    """The JSON of `make_batch` from responses already encoded by `response_json`
    (byte for byte what encoding the whole batch at once gives)."""
    head = _json({"v": PROTOCOL_VERSION, "batch": batch_id, "device": device,
                  "sent_at": sent_at.isoformat(timespec="seconds")})
    return head[:-1] + b',"responses":[' + b",".join(pieces) + b"]}"


def pack_batch(
    batch_id: str, device: str, sent_at: datetime, responses: Sequence[Response], *,
    gzip_min: int = GZIP_MIN_BYTES, max_wire: int = MAX_WIRE_BYTES,
    max_count: int = MAX_BATCH_RESPONSES, max_bytes: int = MAX_PAYLOAD_BYTES,
) -> tuple[int, bytes]:
    """(how many of `responses`, payload): the longest prefix within `max_count` and
    `max_bytes` of JSON whose message also fits `max_wire`; each response is encoded once.

    The broker drops (and the central refuses without an ack) a larger message, which
    would then be re-sent for ever; halving keeps the rest of the queue moving. A single
    response that cannot fit is returned as it is (nothing smaller exists).
    """
    pieces = [response_json(r) for r in responses[:max_count]]
    n = _fit([len(p) for p in pieces], max_count, max_bytes)
    while True:
        payload = _packed(batch_json(batch_id, device, sent_at, pieces[:n]), gzip_min)
        if len(payload) <= max_wire or n <= 1:
            return n, payload
        n //= 2


@dataclass
class BatchCheck:
    """What the receiver makes of one message on a responses topic."""

    batch_id: str | None = None
    accepted: list[Response] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # A reason when the whole batch is unusable.
    error: str | None = None


def check_batch(topic: Topic, payload: bytes) -> BatchCheck:
    """Validate one batch against its topic; good responses are kept, each bad one has a reason."""
    out = BatchCheck()
    if len(payload) > MAX_WIRE_BYTES:
        out.error = f"message larger than {MAX_WIRE_BYTES} bytes"
        return out
    try:
        data = _unpack(payload, MAX_PAYLOAD_BYTES)
        obj = _parse(data)
    except ProtocolError as exc:
        out.error = str(exc)
        return out
    plain = _UNSTORABLE_ESCAPE.search(data) is None
    batch_id = obj.get("batch")
    if valid_uuid(batch_id):
        out.batch_id = batch_id
    responses = obj.get("responses")
    error = _envelope_problem(topic, obj, batch_id=out.batch_id, responses=responses)
    if error:
        out.error = error
        if isinstance(responses, list):
            ids = [r["id"] for r in responses
                   if isinstance(r, dict) and isinstance(r.get("id"), str)]
            out.rejected = [(_label(rid), error) for rid in ids[:MAX_BATCH_RESPONSES]]
        return out
    assert isinstance(responses, list)
    seen: set[str] = set()
    for index, item in enumerate(responses):
        try:
            resp = decode_response(item, text_checked=plain)
        except ResponseError as exc:
            rid = item.get("id") if isinstance(item, dict) else None
            label = _label(rid) if isinstance(rid, str) else f"#{index}"
            out.rejected.append((label, str(exc)))
            continue
        # Only the device must match: the site is where the answer was given, and a
        # device moved to another site still holds answers of the old one.
        if resp.device != topic.device:
            out.rejected.append((resp.id, "device differs from the topic's"))
        elif resp.id not in seen:  # the same response twice in one batch counts once
            seen.add(resp.id)
            out.accepted.append(resp)
    return out


def _label(rid: str) -> str:
    """A rejected id as it can go into an ack and a database (NUL, lone surrogates escaped)."""
    return storable_text(rid)[:80]


def storable_text(text: str) -> str:
    """`text` with NULs and lone surrogates escaped, so any database and UTF-8 can hold it."""
    if UNSTORABLE.search(text) is None:
        return text
    return UNSTORABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _envelope_problem(
    topic: Topic, obj: dict[str, object], *, batch_id: str | None, responses: object
) -> str | None:
    if obj.get("v") != PROTOCOL_VERSION:
        return f"unsupported protocol version {str(obj.get('v'))[:20]!r} (this is v1)"
    if batch_id is None:
        return "batch: must be a UUID string"
    if obj.get("device") != topic.device:
        return f"device {str(obj.get('device'))[:64]!r} differs from the topic's {topic.device!r}"
    if not isinstance(responses, list):
        return "responses: must be a list"
    if len(responses) > MAX_BATCH_RESPONSES:
        return f"responses: more than {MAX_BATCH_RESPONSES} in one batch"
    return None


# -- acks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """The central's answer to a batch: ids stored (or already there) and ids refused."""

    batch: str
    accepted: tuple[str, ...]
    rejected: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "batch": self.batch, "accepted": list(self.accepted),
            "rejected": [{"id": i, "error": e} for i, e in self.rejected],
        }
        if self.error:
            out["error"] = self.error
        return out


def parse_ack(payload: bytes) -> Ack:
    """Read an ack message; ProtocolError when it is not one."""
    obj = decode(payload)
    batch = obj.get("batch")
    accepted = obj.get("accepted")
    rejected = obj.get("rejected", [])
    if not isinstance(batch, str):
        raise ProtocolError("ack: batch must be a string")
    if not isinstance(accepted, list) or not all(isinstance(i, str) for i in accepted):
        raise ProtocolError("ack: accepted must be a list of ids")
    if not isinstance(rejected, list) or not all(
        isinstance(r, dict) and isinstance(r.get("id"), str) for r in rejected
    ):
        raise ProtocolError("ack: rejected must be a list of {id, error}")
    error = obj.get("error")
    return Ack(
        batch, tuple(accepted), tuple((r["id"], str(r.get("error", ""))) for r in rejected),
        error if isinstance(error, str) else None,
    )


# -- status and config ---------------------------------------------------------------------


def offline_status(device: str, site: str) -> dict[str, Any]:
    """The retained status the broker publishes as the device's last will."""
    return {"v": PROTOCOL_VERSION, "device": device, "site": site, "state": "offline"}


def status_problems(topic: Topic, obj: dict[str, Any]) -> list[str]:
    """Why a status message cannot be recorded (empty when fine)."""
    problems = []
    if has_unstorable(obj):
        problems.append("contains a NUL character or a lone surrogate")
    if obj.get("state") not in ("online", "offline"):
        problems.append("state: must be online or offline")
    if obj.get("device") != topic.device:
        problems.append("device differs from the topic's")
    return problems


@dataclass(frozen=True)
class RemoteConfig:
    """A configuration the central publishes (retained) for a device."""

    version: int
    survey: str | None
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": PROTOCOL_VERSION, "version": self.version,
                               "settings": self.settings}
        if self.survey is not None:
            out["survey"] = self.survey
        return out


# Settings a remote config may carry, with their types (the agent applies these live).
SETTINGS_TYPES: dict[str, type[int]] = {
    "heartbeat_seconds": int, "batch_max_count": int, "batch_max_bytes": int,
}
# Their allowed ranges, the same as `[sync]` allows: a batch the central refuses whole
# comes back with every id "rejected", and the device then marks them all synced.
SETTINGS_RANGES: dict[str, tuple[int, int]] = {
    "heartbeat_seconds": (1, 86400), "batch_max_count": (1, MAX_BATCH_RESPONSES),
    "batch_max_bytes": (1024, MAX_PAYLOAD_BYTES // 2),
}


def parse_config(payload: bytes) -> RemoteConfig:
    """Read a config message; ProtocolError naming the first problem."""
    obj = decode(payload)
    if obj.get("v") != PROTOCOL_VERSION:
        raise ProtocolError("config: unsupported protocol version")
    version = obj.get("version")
    if not (_is_int(version) and version >= 1):
        raise ProtocolError("config: version must be a positive integer")
    survey = obj.get("survey")
    if survey is not None and not isinstance(survey, str):
        raise ProtocolError("config: survey must be the TOML text of a survey definition")
    settings = obj.get("settings", {})
    if not isinstance(settings, dict):
        raise ProtocolError("config: settings must be an object")
    for key, value in settings.items():
        problem = setting_problem(key, value)
        if problem:
            raise ProtocolError(f"config: {problem}")
    return RemoteConfig(version, survey, dict(settings))


def setting_problem(key: str, value: object) -> str | None:
    """Why `value` cannot be the remote setting `key` (None when it can)."""
    kind = SETTINGS_TYPES.get(key)
    if kind is None:
        return f"unknown setting {key!r}"
    low, high = SETTINGS_RANGES[key]
    if not (_is_int(value) and low <= value <= high):
        return f"setting {key} must be {kind.__name__} from {low} to {high}"
    return None
