"""PDU vectors derived by hand from 3GPP TS 23.040 / 23.038; each comment shows the octets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sms_gateway import gsm7
from sms_gateway.errors import PduError
from sms_gateway.pdu import Concat, decode_pdu, encode_deliver, encode_status_report, encode_submit

# SMSC +358405202000: 12 digits -> 6 octets; pairs 35 84 05 20 20 00 swapped -> 53 48 50 02 02 00;
# length octet 07 = type octet + 6; type 91 = international, ISDN plan.
SMSC = "07" "91" "534850020200"
# +358401234567: length 0C (12 semi-octets), type 91, pairs 35 84 01 23 45 67 swapped.
OA_INTL = "0C" "91" "534810325476"
# 2025-03-04 10:15:02 +02:00: each two-digit value nibble-swapped (25 -> 52, 03 -> 30, ...),
# zone +8 quarter hours -> "08" swapped -> 80 (sign bit 3 clear).
SCTS_0203 = "52" "30" "40" "01" "51" "20" "80"
HELSINKI_WINTER = timezone(timedelta(hours=2))


def test_deliver_gsm7_international_sender_with_smsc() -> None:
    # FO 04: TP-MTI 00 (deliver), TP-MMS bit 2 set (no more messages); PID 00; DCS 00 GSM-7;
    # UDL 06 septets; "Kiitos" packed: K(4B)|i.bit0<<7 = CB, i>>1|i<<6 = 74, 9A, FE, 9E, 03.
    pdu = decode_pdu(SMSC + "04" + OA_INTL + "00" "00" + SCTS_0203 + "06" "CB749AFE9E03")
    assert pdu.type == "deliver"
    assert pdu.smsc == "+358405202000"
    assert pdu.sender == "+358401234567"
    assert pdu.text == "Kiitos"
    assert pdu.encoding == "gsm7"
    assert pdu.timestamp == datetime(2025, 3, 4, 10, 15, 2, tzinfo=HELSINKI_WINTER)
    assert pdu.timestamp is not None and pdu.timestamp.utcoffset() == timedelta(hours=2)
    assert pdu.concat is None
    assert pdu.to_json() == {
        "type": "deliver", "sender": "+358401234567", "smsc": "+358405202000", "text": "Kiitos",
        "encoding": "gsm7", "timestamp": "2025-03-04T10:15:02+02:00", "concat": None,
    }


def test_deliver_ucs2_short_odd_sender_negative_zone() -> None:
    # No SMSC (00). OA "18220": 5 digits -> length 05, type 81 (unknown/ISDN), 81 22 F0
    # (the odd last digit padded with F). DCS 08 = UCS2. SCTS 2025-12-31 23:59:59 with zone
    # octet 4A: sign bit 3 set -> negative; tens = 4A & 7 = 2, units = 4 -> 24 quarters = -6 h.
    # UDL 04 octets: U+00E4 "ä", U+20AC "€".
    pdu = decode_pdu("00" "04" "05" "81" "8122F0" "00" "08" "52211332959" "54A" "04" "00E420AC")
    assert pdu.smsc is None
    assert pdu.sender == "18220"
    assert pdu.encoding == "ucs2"
    assert pdu.text == "ä€"
    assert pdu.timestamp == datetime(2025, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=6)))


def test_deliver_alphanumeric_sender_and_class_1_dcs() -> None:
    # Alphanumeric "Palaute": 7 septets = 49 bits -> 13 useful semi-octets -> length 0D,
    # type D0 (TON 101 alphanumeric, NPI 0000), 7 packed octets. DCS 11 = general group,
    # bit 4 (class meaning) set, alphabet 00 GSM-7, class 01.
    oa = "0D" "D0" + gsm7.pack(gsm7.encode("Palaute")).hex()
    pdu = decode_pdu("00" "04" + oa + "00" "11" + SCTS_0203 + "03" + gsm7.pack(
        gsm7.encode("Hei")).hex())
    assert pdu.sender == "Palaute"
    assert pdu.text == "Hei"
    assert pdu.message_class == 1


def test_deliver_national_number_and_star_hash_digits() -> None:
    # Type A1 = TON 010 national: digits without "+". Digits *1#: semi-octets A(*) 1 B(#) F.
    national = decode_pdu("00" "04" "0A" "A1" "4010325476" "00" "00" + SCTS_0203 + "00")
    assert national.sender == "0401234567"
    assert national.text == ""
    stars = decode_pdu("00" "04" "03" "81" "1AFB" "00" "00" + SCTS_0203 + "00")
    assert stars.sender == "*1#"


def test_deliver_8bit_concat_header_with_fill_bit() -> None:
    # FO 44 = deliver + TP-UDHI. UD: UDHL 05, IEI 00 (8-bit ref concat), IEDL 03, ref 2A,
    # total 02, seq 01. Header 6 octets = 48 bits; 1 fill bit makes 49 = 7 septets, so
    # UDL = 7 + 3 = 0A. "Hei" after one fill bit: 90 E5 34 (see test_gsm7).
    pdu = decode_pdu("00" "44" + OA_INTL + "00" "00" + SCTS_0203 + "0A" "0500032A0201" "90E534")
    assert pdu.text == "Hei"
    assert pdu.concat == Concat(ref=0x2A, total=2, seq=1)
    assert pdu.to_json()["concat"] == {"ref": 42, "total": 2, "seq": 1}


def test_deliver_16bit_concat_ucs2_and_unknown_element_skipped() -> None:
    # UDHL 0C: IEI 05 (application port, 16-bit), IEDL 04, 0B84 23F0 — skipped (6 octets);
    # then IEI 08 (16-bit ref concat), IEDL 04, ref 1234, total 03, seq 02 (6 octets).
    # UCS2 body U+00F6 "ö". UDL = 1 + 12 + 2 = 0F octets.
    ud = "0C" "05040B8423F0" "080412340302" "00F6"
    pdu = decode_pdu("00" "44" + OA_INTL + "00" "08" + SCTS_0203 + "0F" + ud)
    assert pdu.text == "ö"
    assert pdu.concat == Concat(ref=0x1234, total=3, seq=2)


def test_concat_element_with_part_zero_is_ignored_as_the_spec_says() -> None:
    # seq 00 makes the element void (TS 23.040 §9.2.3.24.1): the text still reads.
    pdu = decode_pdu("00" "44" + OA_INTL + "00" "00" + SCTS_0203 + "0A" "0500032A0200" "90E534")
    assert pdu.concat is None
    assert pdu.text == "Hei"


def test_published_hellohello_submit_re_derived() -> None:
    # 00 no SMSC; FO 11 = MTI 01 (submit) + VPF 10 (relative); MR 00; DA length 0B (11 digits)
    # type 91, 46 70 82 51 35 8(F) swapped -> 64 07 28 15 53 F8; PID 00; DCS 00;
    # VP AA = 170 -> (170 - 166) = 4 days; UDL 0A; "hellohello" packed (see test_gsm7).
    hexstr = "00" "11" "00" "0B" "91" "6407281553F8" "00" "00" "AA" "0A" "E8329BFD4697D9EC37"
    pdu = decode_pdu(hexstr)
    assert (pdu.type, pdu.recipient, pdu.text) == ("submit", "+46708251358", "hellohello")
    assert pdu.validity == timedelta(days=4)
    assert pdu.message_ref == 0
    encoded = encode_submit("+46708251358", "hellohello", validity=timedelta(days=4))
    assert [p.hex for p in encoded] == [hexstr]
    assert encoded[0].tpdu_length == len(hexstr) // 2 - 1  # all but the SMSC octet


def test_submit_with_status_report_request_and_smsc() -> None:
    # FO 21 = MTI 01 + TP-SRR (bit 5); MR 07; DA +358401234567; no VP; UDL 06 "Kiitos".
    tpdu = "21" "07" + OA_INTL + "00" "00" "06" "CB749AFE9E03"
    encoded = encode_submit(
        "+358401234567", "Kiitos", smsc="+358405202000", status_report=True, message_ref=7
    )
    assert [p.hex for p in encoded] == [SMSC + tpdu]
    assert encoded[0].tpdu_length == len(tpdu) // 2
    pdu = decode_pdu(SMSC + tpdu)
    assert pdu.status_report_request and pdu.message_ref == 7


@pytest.mark.parametrize(
    ("validity", "octet"),
    [
        (timedelta(minutes=5), 0x00),  # (0 + 1) * 5 min
        (timedelta(minutes=7), 0x01),  # rounded up to 10 min
        (timedelta(hours=12), 143),  # (143 + 1) * 5 min = 720 min
        (timedelta(hours=13), 145),  # 12 h + (145 - 143) * 30 min
        (timedelta(days=1), 167),  # 12 h + 24 * 30 min
        (timedelta(days=2), 168),  # (168 - 166) days
        (timedelta(days=30), 196),
        (timedelta(days=31), 197),  # rounded up to 5 weeks = (197 - 192)
        (timedelta(weeks=63), 255),
    ],
)
def test_relative_validity_octet(validity: timedelta, octet: int) -> None:
    (part,) = encode_submit("+358401234567", "x", validity=validity)
    # No SMSC (00), FO 11 (VPF 10), MR, 8-octet DA, PID, DCS: VP is octet 1+1+1+8+2 = 13.
    assert bytes.fromhex(part.hex)[13] == octet
    decoded = decode_pdu(part.hex).validity
    assert decoded is not None and decoded >= validity


def test_status_report_vector() -> None:
    # FO 06 = MTI 10 (status report) + MMS; MR 2A; RA +358401234567; SCTS 10:15:02 +02:00;
    # DT 10:25:02 +02:00 ("52" "20" for minute 25, second 02); ST 00 (delivered).
    hexstr = SMSC + "06" "2A" + OA_INTL + SCTS_0203 + "52304001522080" + "00"
    pdu = decode_pdu(hexstr)
    assert pdu.type == "status-report"
    assert (pdu.recipient, pdu.message_ref, pdu.status) == ("+358401234567", 42, 0)
    assert pdu.discharge_time == datetime(2025, 3, 4, 10, 25, 2, tzinfo=HELSINKI_WINTER)
    assert set(pdu.to_json()) >= {"recipient", "message_ref", "status", "timestamp"}
    built = encode_status_report(
        "+358401234567", 42, 0,
        datetime(2025, 3, 4, 10, 15, 2, tzinfo=HELSINKI_WINTER),
        datetime(2025, 3, 4, 10, 25, 2, tzinfo=HELSINKI_WINTER),
        smsc="+358405202000",
    )
    assert built == hexstr
    # With TP-PI 04 (UDL present) and UDL 00 the report still reads; PI 02 brings a DCS.
    assert decode_pdu(hexstr + "04" "00").status == 0
    assert decode_pdu(hexstr + "06" "08" "02" "00E4").text == "ä"
    # TP-PI FF has reserved bits 3-6 set (padding some SCs send): the report still reads.
    assert decode_pdu(hexstr + "FF" "FF").status == 0
    with pytest.raises(PduError, match="unexpected octets"):
        decode_pdu(hexstr + "02" "08" "00")


@pytest.mark.parametrize(
    ("dcs", "ud", "encoding", "text"),
    [
        # "Hei": 48 | e.bit0 << 7 = C8; 65 >> 1 | (69 & 3) << 6 = 72; 69 >> 2 = 1A.
        ("00", "03" "C8721A", "gsm7", "Hei"),
        ("F0", "03" "C8721A", "gsm7", "Hei"),  # 1111 group, bit 2 clear: GSM-7, class 0
        ("40", "03" "C8721A", "gsm7", "Hei"),  # 01xx automatic deletion group, GSM-7
        ("C0", "03" "C8721A", "gsm7", "Hei"),  # message waiting, discard: GSM-7
        ("D8", "03" "C8721A", "gsm7", "Hei"),  # message waiting, store: GSM-7
        ("80", "03" "C8721A", "gsm7", "Hei"),  # reserved group: read as GSM-7 (TS 23.038)
        ("0C", "03" "C8721A", "gsm7", "Hei"),  # reserved alphabet 11: read as GSM-7
        ("08", "02" "00F6", "ucs2", "ö"),
        ("18", "02" "00F6", "ucs2", "ö"),  # UCS2, class 0
        ("E0", "02" "00F6", "ucs2", "ö"),  # message waiting, store, UCS2
        ("04", "02" "6F6B", "8bit", "ok"),  # 8-bit data that is UTF-8 text
        ("F4", "02" "00FF", "8bit", ""),  # 8-bit class 0, binary: no text
    ],
)
def test_dcs_groups(dcs: str, ud: str, encoding: str, text: str) -> None:
    pdu = decode_pdu("00" "04" + OA_INTL + "00" + dcs + SCTS_0203 + ud)
    assert pdu.encoding == encoding
    assert pdu.text == text
    assert pdu.dcs == int(dcs, 16)


def test_8bit_data_is_kept_raw_and_shown_in_json() -> None:
    pdu = decode_pdu("00" "04" + OA_INTL + "00" "04" + SCTS_0203 + "02" "00FF")
    assert pdu.data == b"\x00\xff"
    assert pdu.to_json()["data"] == "00FF"


def test_encode_deliver_matches_the_hand_vector() -> None:
    # The simulator's deliver for "Kiitos" is the first vector, byte for byte.
    (hexstr,) = encode_deliver(
        "+358401234567", "Kiitos", datetime(2025, 3, 4, 10, 15, 2, tzinfo=HELSINKI_WINTER),
        smsc="+358405202000",
    )
    assert hexstr == SMSC + "04" + OA_INTL + "00" "00" + SCTS_0203 + "06" "CB749AFE9E03"


def test_alphanumeric_sender_encodes_with_type_d0() -> None:
    (hexstr,) = encode_deliver("Palaute", "x", datetime(2025, 1, 1, tzinfo=UTC))
    octets = bytes.fromhex(hexstr)
    # 00 SMSC, FO, then OA: 0D semi-octets (7 septets = 49 bits), type D0.
    assert octets[2:4] == bytes([0x0D, 0xD0])
    assert decode_pdu(hexstr).sender == "Palaute"


def test_timestamp_zone_utc_and_quarter_hours() -> None:
    # Zone +5:45 = 23 quarters -> BCD "23" swapped -> 32.
    when = datetime(2024, 2, 29, 0, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    (hexstr,) = encode_deliver("+358401234567", "x", when)
    assert hexstr[2 + 2 + 16 + 4 : 2 + 2 + 16 + 4 + 14] == "42" "20" "92" "00" "00" "00" "32"
    assert decode_pdu(hexstr).timestamp == when
    utc = decode_pdu(encode_deliver("1", "x", datetime(2025, 1, 1, tzinfo=UTC))[0])
    assert utc.timestamp is not None and utc.timestamp.utcoffset() == timedelta(0)
