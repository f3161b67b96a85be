"""Phone numbers to E.164: the one form the gateway stores, hashes and dials.

Pure. Finnish numbers come in every shape (040 123 4567, 0401234567,
+358 40 123 4567, +358 (0)40…, 00358…, 358…); numbers of other countries
must carry their country code (+46…, 0046…). Only mobile numbers are useful to
an SMS survey, so Finnish landline numbers are refused with that reason.
"""

from __future__ import annotations

import re

from sms_gateway.errors import SmsGatewayError

FINLAND = "358"
# Characters people put between digits; anything else (letters, commas) is refused.
_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
_TRUNK_ZERO = re.compile(r"^\+358\s*\(0\)")
E164_MAX_DIGITS = 15
E164_MIN_DIGITS = 8


class PhoneError(SmsGatewayError, ValueError):
    """A phone number that cannot be used, with the reason."""

    def __init__(self, number: str, reason: str) -> None:
        self.number = number
        self.reason = reason
        super().__init__(reason)


def _finnish(nsn: str, raw: str) -> str:
    """Check a Finnish national significant number (without the 0) and return E.164."""
    # Mobile ranges: 4x (040-046, 048, 049, 0457…) and 50; 6-10 digits after the 0.
    if not (nsn.startswith("4") or nsn.startswith("50")):
        raise PhoneError(raw, "is not a Finnish mobile number (SMS cannot reach it)")
    if not 6 <= len(nsn) <= 10:
        raise PhoneError(raw, f"has {len(nsn) + 1} digits; a Finnish mobile number has 7-11")
    return "+" + FINLAND + nsn


def normalise(raw: str) -> str:
    """The E.164 form (+358401234567) of `raw`, or PhoneError with the reason."""
    text = raw.strip()
    if not text:
        raise PhoneError(raw, "is empty")
    text = _TRUNK_ZERO.sub("+358", text)
    plus = text.startswith("+")
    body = _SEPARATORS.sub("", text[1:] if plus else text)
    bad = [ch for ch in body if not ch.isdigit() or not ch.isascii()]
    if bad:
        raise PhoneError(raw, f"contains {bad[0]!r}; only digits, spaces, - and a leading +")
    if not body:
        raise PhoneError(raw, "has no digits")
    if plus:
        digits = body
    elif body.startswith("00"):
        digits = body[2:]
    elif body.startswith(FINLAND) and len(body) >= 9:
        # 358401234567 written without the plus: no Finnish national number starts with 358.
        digits = body
    elif body.startswith("0"):
        return _finnish(body[1:], raw)
    else:
        raise PhoneError(raw, "has no country code (+358…) and no leading 0")
    if not digits or digits[0] == "0":
        raise PhoneError(raw, "country code cannot start with 0")
    if digits.startswith(FINLAND):
        nsn = digits[len(FINLAND):]
        return _finnish(nsn[1:] if nsn.startswith("0") else nsn, raw)
    if not E164_MIN_DIGITS <= len(digits) <= E164_MAX_DIGITS:
        raise PhoneError(
            raw, f"has {len(digits)} digits; an international number has "
            f"{E164_MIN_DIGITS}-{E164_MAX_DIGITS}")
    return "+" + digits


def is_e164(number: str) -> bool:
    """True when `number` is already in the stored form (+ and 8-15 digits)."""
    return bool(re.fullmatch(r"\+[1-9]\d{7,14}", number))


def mask(number: str) -> str:
    """A form safe for DEBUG logs and operator screens: +35840…67."""
    if len(number) <= 6:
        return "…"
    return number[:6] + "…" + number[-2:]
