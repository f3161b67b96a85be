"""GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), septet packing.

Text is turned into septet values (0..127) and back; the extension table's characters
take two septets, ESC (0x1B) and their code. Packing puts septets into octets LSB first
(TS 23.038 §6.1.2.1), optionally after a number of fill bits (TS 23.040 §9.2.3.24).
"""

from __future__ import annotations

from collections.abc import Sequence

from sms_gateway.errors import PduError
from survey.gsm import GSM7_BASIC, GSM7_EXTENSION_CODES

ESC = 0x1B

# The tables live in the survey core (survey checks count SMS lengths with them too).
DEFAULT_ALPHABET = GSM7_BASIC
EXTENSION = GSM7_EXTENSION_CODES

_ENCODE: dict[str, tuple[int, ...]] = {
    ch: (code,) for code, ch in enumerate(DEFAULT_ALPHABET) if code != ESC
}
_ENCODE.update({ch: (ESC, code) for code, ch in EXTENSION.items()})


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the default alphabet or its extension."""
    enc = _ENCODE
    return all(ch in enc for ch in text)


def char_septets(ch: str) -> int:
    """Septets one character takes (1, or 2 for extension-table characters)."""
    try:
        return len(_ENCODE[ch])
    except KeyError:
        raise PduError(f"character {ch!r} (U+{ord(ch):04X}) is not in the GSM 7-bit alphabet") \
            from None


def septet_length(text: str) -> int:
    """Septets `text` takes in the GSM 7-bit alphabet (extension characters count twice)."""
    return sum(char_septets(ch) for ch in text)


def encode(text: str) -> list[int]:
    """Text -> septet values; PduError naming the first character the alphabet lacks."""
    out: list[int] = []
    enc = _ENCODE
    for index, ch in enumerate(text):
        codes = enc.get(ch)
        if codes is None:
            raise PduError(
                f"character {ch!r} (U+{ord(ch):04X}) at position {index} is not in the "
                "GSM 7-bit alphabet"
            )
        out.extend(codes)
    return out


def decode(septets: Sequence[int]) -> str:
    """Septet values -> text, best effort as TS 23.038 asks of a receiver.

    An escape followed by a code the extension table lacks shows the default-alphabet
    character of that code; ESC ESC and a trailing lone ESC show as a space.
    """
    out: list[str] = []
    escaped = False
    for value in septets:
        value &= 0x7F
        if escaped:
            escaped = False
            if value == ESC:
                out.append(" ")
            else:
                out.append(EXTENSION.get(value, DEFAULT_ALPHABET[value]))
        elif value == ESC:
            escaped = True
        else:
            out.append(DEFAULT_ALPHABET[value])
    if escaped:
        out.append(" ")
    return "".join(out)


def pack(septets: Sequence[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first into octets, after `fill_bits` zero bits (0..6)."""
    acc = 0
    for index, value in enumerate(septets):
        acc |= (value & 0x7F) << (7 * index)
    total_bits = 7 * len(septets) + fill_bits
    acc <<= fill_bits
    return acc.to_bytes((total_bits + 7) // 8, "little")


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Read `count` septets from packed `data`, skipping `fill_bits` leading bits.

    PduError when `data` holds fewer than `count` septets.
    """
    if 7 * count + fill_bits > 8 * len(data):
        raise PduError(
            f"user data holds {(8 * len(data) - fill_bits) // 7} septets, "
            f"its length says {count}"
        )
    acc = int.from_bytes(data, "little") >> fill_bits
    return [(acc >> (7 * i)) & 0x7F for i in range(count)]
