"""Privacy of SMS clients: keyed phone hashes, and redaction of the gateway's own texts.

A phone number is kept only while its invitation or session is live; after
that the gateway remembers a number only as HMAC-SHA256(key, E.164), with the
key from the device config, so opt-outs and de-duplication still work and a
leaked store reveals no numbers (a plain hash of a 10-digit number space is
reversible by brute force; a keyed one is not without the key).

Free text is redacted by the core (survey.redact) as it is stored; so are the gateway's
own texts (received messages, errors, refused intake items), in NOTE_LANGUAGE when they
have no language of their own.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from survey.config import Section

MIN_KEY_BYTES = 16
# The placeholders of a text with no language of its own (an error, a message outside any
# session): the operators read Finnish.
NOTE_LANGUAGE = "fi"


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

