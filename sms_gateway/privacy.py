"""Privacy of SMS clients: keyed phone hashes and redaction of free text.

A phone number is kept only while its invitation or session is live; after
that the gateway remembers a number only as HMAC-SHA256(key, E.164), with the
key from the device config, so opt-outs and de-duplication still work and a
leaked store reveals no numbers (a plain hash of a 10-digit number space is
reversible by brute force; a keyed one is not without the key).

Free text that will be synced is redacted first: a Finnish personal identity
code (henkilötunnus) with a valid check character, or anything shaped like a
phone number, is replaced by a marker.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from survey.config import Section

HETU_MARK = "[hetu]"
PHONE_MARK = "[puhelinnumero]"
MIN_KEY_BYTES = 16
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})([-+A-FU-Y])(\d{3})([0-9A-Y])(?![0-9A-Za-z])", re.IGNORECASE
)
# A run of 7-15 digits with at most three separators between digits ("040 - 123", and the
# en dash a phone's keyboard may put for a hyphen); checked further below.
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d(?:[ \-\u2013()]{0,3}\d){6,14}(?!\w)")
_LEAD = re.compile(r"\+?\(?\d+[ \-\u2013()]{1,3}")


@dataclass(frozen=True)
class PhoneHasher:
    """HMAC-SHA256 of E.164 numbers under the device's key."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < MIN_KEY_BYTES:
            raise ValueError(f"the hash key must have at least {MIN_KEY_BYTES} bytes")

    def __call__(self, e164: str) -> str:
        # UTF-8 (the same bytes as ASCII for numbers): an alphanumeric sender may hold 'Ä'.
        return hmac.new(self.key, e164.encode("utf-8"), hashlib.sha256).hexdigest()


def hasher_from_config(sms: Section) -> PhoneHasher:
    """The hasher from `[sms] hash_key` or `[sms] hash_key_file` (one of them is required)."""
    if "hash_key" in sms and "hash_key_file" in sms:
        raise sms.error("hash_key", "give hash_key or hash_key_file, not both")
    if "hash_key" in sms:
        key = sms.get_str("hash_key").encode("utf-8")
        name = "hash_key"
    elif "hash_key_file" in sms:
        path: Path = sms.get_path("hash_key_file")
        try:
            key = path.read_bytes().strip()
        except OSError as exc:
            raise sms.error("hash_key_file", f"cannot read {path}: {exc.strerror}") from None
        name = "hash_key_file"
    else:
        raise sms.error(
            "hash_key_file", "is missing (the key of the phone-number hashes; e.g. 32 random "
            "bytes made with `head -c 32 /dev/urandom | base64 > /etc/palaute/sms.key`)")
    if len(key) < MIN_KEY_BYTES:
        raise sms.error(name, f"the key must have at least {MIN_KEY_BYTES} bytes")
    return PhoneHasher(key)


def hetu_is_valid(code: str) -> bool:
    """True when `code` (DDMMYY, century sign, NNN, check) has the right check character."""
    m = _HETU.fullmatch(code)
    if not m:
        return False
    number = int(m.group(1) + m.group(3))
    return _HETU_CHECK[number % 31] == m.group(4).upper()


def _looks_like_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    # Scores, years and counts do not start with 0 or a + (or Finland's 358).
    return candidate.startswith(("+", "(+")) or digits.startswith(("0", "358"))


def redact(text: str) -> str:
    """`text` with identity codes and phone numbers replaced by markers."""

    def hetu(m: re.Match[str]) -> str:
        return HETU_MARK if hetu_is_valid(m.group(0)) else m.group(0)

    def phone(m: re.Match[str]) -> str:
        candidate = m.group(0)
        if _looks_like_phone(candidate):
            return PHONE_MARK
        # A score, time or year may run into a number ("10 0401234567"): look again
        # from the next digit group.
        lead = _LEAD.match(candidate)
        if lead is None:
            return candidate
        return lead.group(0) + _PHONE.sub(phone, candidate[lead.end():])

    return _PHONE.sub(phone, _HETU.sub(hetu, text))
