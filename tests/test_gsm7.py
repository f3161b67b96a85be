"""GSM 7-bit default alphabet, extension table and septet packing (TS 23.038 §6.1.2.1, §6.2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms_gateway import gsm7
from sms_gateway.errors import PduError


def reference_pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Packing written out literally from the spec: a bit string, septets LSB first,
    cut into octets whose bit 0 comes first. Independent of gsm7.pack's integer trick."""
    bits = [0] * fill_bits
    for value in septets:
        bits.extend((value >> i) & 1 for i in range(7))
    bits.extend([0] * (-len(bits) % 8))
    return bytes(
        sum(bit << i for i, bit in enumerate(bits[start : start + 8]))
        for start in range(0, len(bits), 8)
    )


def test_table_has_128_codes_and_the_spec_positions() -> None:
    table = gsm7.DEFAULT_ALPHABET
    assert len(table) == 128
    # Spot checks straight from the TS 23.038 table: row 0x0_, 0x1_, 0x5_, 0x7_.
    assert table[0x00] == "@" and table[0x02] == "$" and table[0x0E] == "Å"
    assert table[0x10] == "Δ" and table[0x11] == "_" and table[0x1F] == "É"
    assert table[0x24] == "¤" and table[0x40] == "¡" and table[0x60] == "¿"
    assert table[0x5B] == "Ä" and table[0x5C] == "Ö" and table[0x5E] == "Ü"
    assert table[0x7B] == "ä" and table[0x7C] == "ö" and table[0x7E] == "ü" and table[0x7F] == "à"


def test_finnish_and_swedish_letters_are_one_septet_each() -> None:
    for ch in "äöåÄÖÅéü":
        assert gsm7.is_gsm7(ch)
        assert gsm7.char_septets(ch) == 1


@pytest.mark.parametrize(
    ("ch", "code"),
    [("€", 0x65), ("[", 0x3C), ("]", 0x3E), ("{", 0x28), ("}", 0x29), ("~", 0x3D),
     ("|", 0x40), ("\\", 0x2F), ("^", 0x14), ("\f", 0x0A)],
)
def test_extension_characters_are_escape_pairs(ch: str, code: int) -> None:
    assert gsm7.encode(ch) == [0x1B, code]
    assert gsm7.decode([0x1B, code]) == ch
    assert gsm7.septet_length("a" + ch) == 3


def test_characters_outside_the_alphabet_are_refused_by_name() -> None:
    assert not gsm7.is_gsm7("ç")  # only capital Ç is in the table
    assert not gsm7.is_gsm7("😀")
    with pytest.raises(PduError, match=r"U\+0161.*position 2"):
        gsm7.encode("abšc")


def test_receiver_rules_for_stray_escapes() -> None:
    # ESC + a code the extension table lacks shows the default character of that code;
    # a lone trailing ESC and ESC ESC show as a space.
    assert gsm7.decode([0x1B, 0x41]) == "A"
    assert gsm7.decode([0x41, 0x1B]) == "A "
    assert gsm7.decode([0x1B, 0x1B, 0x41]) == " A"


def test_hellohello_packs_as_derived_by_hand() -> None:
    # h=0x68 1101000, e=0x65 1100101: octet 0 = h's 7 bits + e's bit 0 on top = 1_1101000 = E8;
    # octet 1 = e>>1 (110010) + l's two low bits (00) on top = 0x32; octet 2 = l>>2 (11011)
    # + l's three low bits (100) = 100_11011 = 0x9B; and so on: 10 septets -> 9 octets.
    packed = gsm7.pack(gsm7.encode("hellohello"))
    assert packed.hex().upper() == "E8329BFD4697D9EC37"
    assert gsm7.decode(gsm7.unpack(packed, 10)) == "hellohello"


def test_one_fill_bit_after_a_six_octet_header() -> None:
    # H=0x48 after one zero fill bit: octet 0 = 0x48 << 1 = 0x90; e=0x65 fills octet 1's
    # low 7 bits and i's bit 0 (1) its top: E5; i>>1 = 0x34.
    assert gsm7.pack(gsm7.encode("Hei"), 1).hex().upper() == "90E534"


@given(st.lists(st.integers(0, 127), max_size=200), st.integers(0, 6))
def test_pack_matches_the_literal_bit_string_and_unpacks(septets: list[int], fill: int) -> None:
    packed = gsm7.pack(septets, fill)
    assert packed == reference_pack(septets, fill)
    assert gsm7.unpack(packed, len(septets), fill) == septets


def test_unpack_refuses_to_read_past_the_data() -> None:
    with pytest.raises(PduError, match="septets"):
        gsm7.unpack(b"\x00\x00", 3)


GSM7_CHARS = [ch for ch in gsm7.DEFAULT_ALPHABET if ch != "\x1b"] + list(gsm7.EXTENSION.values())


@given(st.text(alphabet=st.sampled_from(GSM7_CHARS), max_size=300))
def test_text_round_trips_through_septets(text: str) -> None:
    septets = gsm7.encode(text)
    assert len(septets) == gsm7.septet_length(text)
    assert gsm7.decode(septets) == text
