"""Bad input: every malformed PDU or unencodable request is a PduError naming the problem."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_gateway.errors import PduError, SmsGatewayError
from sms_gateway.pdu import decode_pdu, encode_deliver, encode_submit

OA = "0C91534810325476"
SCTS = "52304001512080"
GOOD_DELIVER = "00" "04" + OA + "00" "00" + SCTS + "06" "CB749AFE9E03"


@pytest.mark.parametrize(
    ("hexstr", "pattern"),
    [
        ("", "empty PDU"),
        ("   ", "empty PDU"),
        ("0G", r"invalid hex digit 'G' at position 1"),
        ("000", "odd number of hex digits"),
        ("00", "offset 1 where first octet"),
        ("0004", "offset 2 where TP-OA length"),
        # SMSC length 07 but only 2 octets follow
        ("07915348", "SMSC address at offset 2 needs 6 octets"),
        # OA says 20 digits (10 octets) but 1 follows
        ("00" "04" "14" "91" "12", "TP-OA at offset 4 needs 10 octets"),
        # truncated: the last user-data octet is missing (UDL is octet 19: 1+1+8+1+1+7)
        (GOOD_DELIVER[:-2], r"TP-UDL 6 at offset 19 means 6 octets of user data, but 5 follow"),
        # UDL too large for the data (wrong UDL)
        ("00" "04" + OA + "00" "00" + SCTS + "09" "CB749AFE9E03", "TP-UDL 9"),
        # trailing junk after the user data
        (GOOD_DELIVER + "FF", "but 7 follow"),
        # UDL over 140 octets
        ("00" "04" + OA + "00" "08" + SCTS + "FF" + "00" * 255, "over 140"),
        # month 13 in the timestamp
        ("00" "04" + OA + "00" "00" "523140015120" "80" "00", r"TP-SCTS at offset 12: month"),
        # a non-BCD timestamp octet
        ("00" "04" + OA + "00" "00" "5A3040015120" "80" "00", "TP-SCTS at offset 12: 5A"),
        # TP-MTI 11 is reserved
        ("00" "03", r"TP-MTI 3"),
        # compressed text (DCS 0x20)
        ("00" "04" + OA + "00" "20" + SCTS + "00", "compressed"),
        # UDHI set, UDHL 09 longer than the 3-octet user data
        ("00" "44" + OA + "00" "04" + SCTS + "03" "090000", "UDH length 9"),
        # concatenation element with length 2 instead of 3
        ("00" "44" + OA + "00" "04" + SCTS + "05" "04000201" "01", "expected 3"),
        # an element whose length runs past the header
        ("00" "44" + OA + "00" "04" + SCTS + "04" "03" "0005" "00", "only 1 octets left"),
        # UCS2 with an odd number of octets
        ("00" "04" + OA + "00" "08" + SCTS + "03" "00E400", "odd number of octets"),
        # UDHI set with empty user data
        ("00" "44" + OA + "00" "04" + SCTS + "00", "UDHI is set"),
        # GSM-7 UDL smaller than its own header (7 septets)
        ("00" "44" + OA + "00" "00" + SCTS + "06" "050003010201", "shorter than the UDH"),
    ],
)
def test_malformed_pdus_name_the_problem(hexstr: str, pattern: str) -> None:
    with pytest.raises(PduError, match=pattern):
        decode_pdu(hexstr)


def test_pdu_error_is_a_gateway_error_and_a_value_error() -> None:
    with pytest.raises(SmsGatewayError):
        decode_pdu("zz")
    with pytest.raises(ValueError):
        decode_pdu("zz")


def test_direction_restricts_the_message_types() -> None:
    (submit,) = encode_submit("+358401234567", "x")
    assert decode_pdu(submit.hex, direction="mo").type == "submit"
    with pytest.raises(PduError, match="direction mt"):
        decode_pdu(submit.hex, direction="mt")
    with pytest.raises(PduError, match="direction mo"):
        decode_pdu(GOOD_DELIVER, direction="mo")


def test_pdu_without_smsc_part() -> None:
    assert decode_pdu(GOOD_DELIVER[2:], has_smsc=False).text == "Kiitos"


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: encode_submit("", "x"), "recipient '' is not a phone number"),
        (lambda: encode_submit("+" + "1" * 21, "x"), "21 digits"),
        (lambda: encode_submit("Palaute", "x"), "not a phone number"),
        (lambda: encode_submit("040-123 4567", "x"), "not a phone number"),
        (lambda: encode_deliver("Palautekysely", "x", datetime(2025, 1, 1, tzinfo=UTC)),
         "over 11"),
        (lambda: encode_deliver("Šabc", "x", datetime(2025, 1, 1, tzinfo=UTC)),
         "not in the GSM 7-bit alphabet"),
        (lambda: encode_submit("1", "x", smsc="SMSC"), "not a phone number"),
        (lambda: encode_submit("1", "x", message_ref=256), "0..255"),
        (lambda: encode_submit("1", "a" * 500, concat_ref=300), "0..255"),
        (lambda: encode_submit("1", "x", validity=timedelta(0)), "not positive"),
        (lambda: encode_submit("1", "x", validity=timedelta(weeks=64)), "63 weeks"),
        (lambda: encode_submit("1", "a" * 153 * 256), "at most 255"),
        (lambda: encode_deliver("1", "x", datetime(2025, 1, 1)), "no time zone"),
        (lambda: encode_deliver(
            "1", "x", datetime(2025, 1, 1, tzinfo=timezone(timedelta(minutes=10)))),
         "quarter hour"),
        (lambda: encode_deliver("1", "x", datetime(2025, 1, 1, tzinfo=UTC),
                                encoding="utf-8"), "unknown encoding"),
        (lambda: encode_deliver("1", "ж", datetime(2025, 1, 1, tzinfo=UTC),
                                encoding="gsm7"), "U\\+0436"),
    ],
)
def test_unencodable_requests_are_pdu_errors(call: object, pattern: str) -> None:
    with pytest.raises(PduError, match=pattern):
        call()  # type: ignore[operator]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200), st.booleans(), st.sampled_from(["auto", "mt", "mo"]))
def test_random_bytes_give_a_pdu_or_a_pdu_error(data: bytes, smsc: bool, direction: str) -> None:
    try:
        pdu = decode_pdu(data.hex(), has_smsc=smsc, direction=direction)  # type: ignore[arg-type]
    except PduError:
        return
    pdu.to_json()  # whatever decodes can also be shown


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_random_strings_give_a_pdu_or_a_pdu_error(text: str) -> None:
    with contextlib.suppress(PduError):
        decode_pdu(text)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_valid_pdus_give_a_pdu_or_a_pdu_error(data: st.DataObject) -> None:
    # Start from real PDUs (multipart UCS2, GSM-7 with UDH, status report) and damage them:
    # random cuts and octet changes reach much deeper into the decoder than random bytes.
    when = datetime(2025, 3, 4, 10, 15, 2, tzinfo=timezone(timedelta(hours=2)))
    seeds = [
        *encode_deliver("Palaute", "Kiitos! " * 30 + "€", when, smsc="+358405202000"),
        *encode_deliver("+358401234567", "Hyvä 😀 " * 20, when),
        encode_submit("+358401234567", "Vastaa 0-10", validity=timedelta(days=2))[0].hex,
        "0006050C91534810325476" + "5230400151208052304001512080" "00" "06" "08" "02" "00E4",
    ]
    raw = bytearray.fromhex(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(raw) - 1))
        raw[where] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    with contextlib.suppress(PduError):
        decode_pdu(raw[:cut].hex()).to_json()
