"""How many GSM-7 characters a text takes in an SMS (3GPP TS 23.038 default alphabet).

Survey checks use it to keep every SMS prompt inside one 160-character segment.
"""

from __future__ import annotations

# The basic table in septet order (index = code); 0x1B is the escape to the extension
# table, not a character of its own.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table (code after ESC -> character): each costs an escape septet plus its own.
GSM7_EXTENSION_CODES = {
    0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}
GSM7_EXTENSION = "".join(GSM7_EXTENSION_CODES.values())
SEGMENT_SEPTETS = 160

_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)


def gsm7_length(text: str) -> int | None:
    """Septets `text` needs in GSM-7 (extension characters count 2); None if not encodable."""
    length = 0
    for char in text:
        if char in _BASIC:
            length += 1
        elif char in _EXTENSION:
            length += 2
        else:
            return None
    return length


def first_non_gsm7(text: str) -> str | None:
    """The first character of `text` that GSM-7 cannot carry, or None."""
    for char in text:
        if char not in _BASIC and char not in _EXTENSION:
            return char
    return None
