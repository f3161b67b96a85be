"""SMS PDU codec (3GPP TS 23.040 TPDUs in the TS 27.005 PDU-mode form, TS 23.038 alphabets).

Pure functions: encode SMS-SUBMIT (and SMS-DELIVER / SMS-STATUS-REPORT for the modem
simulator), decode SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT. Every malformed input
ends in PduError naming the field and its octet offset; nothing else escapes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from sms_gateway import gsm7
from sms_gateway.errors import PduError

log = logging.getLogger(__name__)

PduType = Literal["deliver", "submit", "status-report"]
Encoding = Literal["gsm7", "ucs2", "8bit"]
Direction = Literal["auto", "mt", "mo"]

MAX_UD_OCTETS = 140  # TS 23.040 §9.2.3.24: user data of one TPDU, header included
MAX_PARTS = 255  # the concatenation IE counts parts in one octet
# (limit of a lone segment, limit of a part with an 8-bit reference, with a 16-bit one)
LIMITS: dict[str, tuple[int, int, int]] = {
    "gsm7": (160, 153, 152),  # septets: 140 octets; a 6- or 7-octet UDH takes 7 or 8
    "ucs2": (70, 67, 66),  # UTF-16 code units: 140 octets; minus the UDH, in whole units
    "8bit": (140, 134, 133),  # octets
}
DCS_OF: dict[str, int] = {"gsm7": 0x00, "8bit": 0x04, "ucs2": 0x08}
_BCD = "0123456789*#abc"  # TS 23.040 §9.1.2.3: semi-octets 0-9, *, #, a, b, c; F = filler
_BCD_CODES = {ch: i for i, ch in enumerate(_BCD)} | {"F": 0x0F}
_MTI_NAMES = {
    "mt": {0: "deliver", 2: "status-report"},
    "mo": {1: "submit"},
    "auto": {0: "deliver", 1: "submit", 2: "status-report"},
}


@dataclass(frozen=True)
class Concat:
    """Concatenation info of one part: reference, number of parts, this part's number (1-based)."""

    ref: int
    total: int
    seq: int

    def to_json(self) -> dict[str, int]:
        """As in the decode-pdu JSON."""
        return {"ref": self.ref, "total": self.total, "seq": self.seq}


@dataclass(frozen=True)
class Pdu:
    """One decoded TPDU. `data` is the user data after the UDH: octets for 8bit and UCS2,
    septet values (one per byte) for GSM-7, so parts can be joined before decoding."""

    type: PduType
    smsc: str | None
    sender: str | None
    recipient: str | None
    text: str
    encoding: Encoding
    timestamp: datetime | None
    concat: Concat | None
    message_ref: int | None
    status: int | None
    discharge_time: datetime | None
    data: bytes
    status_report_request: bool
    validity: timedelta | None
    dcs: int = 0
    message_class: int | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON object `palaute sms decode-pdu` prints."""
        out: dict[str, object] = {"type": self.type}
        if self.type == "deliver":
            out["sender"] = self.sender
        else:
            out["recipient"] = self.recipient
        out["smsc"] = self.smsc
        out["text"] = self.text
        out["encoding"] = self.encoding
        out["timestamp"] = self.timestamp.isoformat() if self.timestamp else None
        out["concat"] = self.concat.to_json() if self.concat else None
        if self.type != "deliver":
            out["message_ref"] = self.message_ref
        if self.type == "submit":
            out["status_report_request"] = self.status_report_request
            out["validity"] = int(self.validity.total_seconds()) if self.validity else None
        if self.type == "status-report":
            out["status"] = self.status
            out["discharge_time"] = (
                self.discharge_time.isoformat() if self.discharge_time else None
            )
        if self.encoding == "8bit":
            out["data"] = self.data.hex().upper()
        return out


@dataclass(frozen=True)
class SubmitPdu:
    """One SMS-SUBMIT ready for AT+CMGS: hex with the SMSC part, and the TPDU length
    (octets after the SMSC part) that AT+CMGS=<n> wants."""

    hex: str
    tpdu_length: int


# ---------------------------------------------------------------- decoding


class _Reader:
    """Octets of one PDU with a cursor; running past the end is a PduError naming the field."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def octet(self, field: str) -> int:
        if self.pos >= len(self.data):
            raise PduError(f"PDU ends at offset {self.pos} where {field} should be")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int, field: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise PduError(
                f"{field} at offset {self.pos} needs {count} octets, "
                f"only {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def remaining(self) -> int:
        return len(self.data) - self.pos


def _parse_hex(hexstr: str) -> bytes:
    clean = "".join(hexstr.split())
    if not clean:
        raise PduError("empty PDU")
    try:
        return bytes.fromhex(clean)
    except ValueError:
        pass  # find the reason to name it
    for index, ch in enumerate(clean):
        if ch not in "0123456789abcdefABCDEF":
            raise PduError(f"invalid hex digit {ch!r} at position {index}") from None
    raise PduError(f"odd number of hex digits ({len(clean)})")


def _bcd_digits(raw: bytes, count: int) -> str:
    """Semi-octets low nibble first; stops at the F filler or after `count` digits."""
    out: list[str] = []
    for octet in raw:
        for nibble in (octet & 0x0F, octet >> 4):
            if nibble == 0x0F or len(out) >= count:
                return "".join(out)
            out.append(_BCD[nibble])
    return "".join(out)


def _address_text(raw: bytes, digits: int, toa: int) -> str:
    ton = (toa >> 4) & 0x07
    if ton == 0b101:  # alphanumeric: GSM-7 packed, `digits` counts the semi-octets used
        return gsm7.decode(gsm7.unpack(raw, min(digits * 4 // 7, len(raw) * 8 // 7)))
    number = _bcd_digits(raw, digits)
    return "+" + number if ton == 0b001 else number


def _read_address(r: _Reader, field: str) -> str:
    """TP-OA/DA/RA: length in semi-octets, type of address, the digits."""
    digits = r.octet(f"{field} length")
    toa = r.octet(f"{field} type of address")
    raw = r.take((digits + 1) // 2, field)
    return _address_text(raw, digits, toa)


def _read_smsc(r: _Reader) -> str | None:
    """The SMSC part of PDU mode: length in octets (type included); 0 means none given."""
    length = r.octet("SMSC length")
    if length == 0:
        return None
    toa = r.octet("SMSC type of address")
    raw = r.take(length - 1, "SMSC address")
    return _address_text(raw, 2 * len(raw), toa) or None


def _read_timestamp(r: _Reader, field: str) -> datetime:
    """TS 23.040 §9.2.3.11: swapped BCD YY MM DD hh mm ss, then the zone in quarter hours
    whose bit 3 is the sign."""
    start = r.pos
    raw = r.take(7, field)
    values: list[int] = []
    for index, octet in enumerate(raw[:6]):
        low, high = octet & 0x0F, octet >> 4
        if low > 9 or high > 9:
            raise PduError(f"{field} at offset {start + index}: {octet:02X} is not BCD")
        values.append(low * 10 + high)
    zone = raw[6]
    if zone >> 4 > 9:
        raise PduError(f"{field} at offset {start + 6}: time zone {zone:02X} is not BCD")
    quarters = (zone & 0x07) * 10 + (zone >> 4)
    sign = -1 if zone & 0x08 else 1
    year, month, day, hour, minute, second = values
    try:
        return datetime(
            2000 + year, month, day, hour, minute, second,
            tzinfo=timezone(timedelta(minutes=sign * 15 * quarters)),
        )
    except ValueError as exc:
        raise PduError(f"{field} at offset {start}: {exc}") from None


def _dcs_info(dcs: int, offset: int) -> tuple[Encoding, int | None]:
    """TS 23.038 §4: the alphabet and message class of a TP-DCS octet.

    Reserved codings are read as the GSM 7-bit alphabet, as the spec tells receivers;
    compressed text cannot be read and is a PduError.
    """
    group = dcs >> 4
    if group < 0x8:  # 00xx general data coding, 01xx the same marked for automatic deletion
        if dcs & 0x20:
            raise PduError(f"TP-DCS {dcs:02X} at offset {offset}: compressed text is not supported")
        alphabet = (dcs >> 2) & 0x03
        klass = dcs & 0x03 if dcs & 0x10 else None
        encoding: Encoding = ("gsm7", "8bit", "ucs2", "gsm7")[alphabet]
        if alphabet == 3:
            log.debug("TP-DCS %02X: reserved alphabet, read as GSM 7-bit", dcs)
        return encoding, klass
    if group in (0xC, 0xD):  # message waiting indication, discard / store: GSM-7
        return "gsm7", None
    if group == 0xE:  # message waiting indication, store: UCS2
        return "ucs2", None
    if group == 0xF:  # data coding / message class: bit 2 picks 8-bit data
        return ("8bit" if dcs & 0x04 else "gsm7"), dcs & 0x03
    log.debug("TP-DCS %02X: reserved coding group, read as GSM 7-bit", dcs)
    return "gsm7", None


def _parse_udh(header: bytes, offset: int) -> Concat | None:
    """Information elements of a UDH; concatenation (IEI 00 and 08) kept, others skipped."""
    concat: Concat | None = None
    i = 0
    while i < len(header):
        if i + 2 > len(header):
            raise PduError(f"UDH information element at offset {offset + i} is truncated")
        iei, iedl = header[i], header[i + 1]
        body = header[i + 2 : i + 2 + iedl]
        if len(body) < iedl:
            raise PduError(
                f"UDH element {iei:02X} at offset {offset + i} has length {iedl}, "
                f"only {len(body)} octets left in the header"
            )
        if iei in (0x00, 0x08):
            want = 3 if iei == 0x00 else 4
            if iedl != want:
                raise PduError(
                    f"UDH concatenation element {iei:02X} at offset {offset + i} has length "
                    f"{iedl}, expected {want}"
                )
            ref = body[0] if iei == 0x00 else (body[0] << 8) | body[1]
            total, seq = body[-2], body[-1]
            # TS 23.040 §9.2.3.24.1: a zero count or an out-of-range number voids the element
            if total == 0 or seq == 0 or seq > total:
                log.debug("ignoring concatenation element with part %d of %d", seq, total)
            else:
                concat = Concat(ref=ref, total=total, seq=seq)
        i += 2 + iedl
    return concat


def _decode_8bit_text(data: bytes) -> str:
    """8-bit data is text only when it is UTF-8 without control characters."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    if any(ord(ch) < 0x20 and ch not in "\n\r\t" for ch in text):
        return ""
    return text


@dataclass(frozen=True)
class _UserData:
    text: str
    data: bytes
    concat: Concat | None


def _read_user_data(r: _Reader, udhi: bool, encoding: Encoding) -> _UserData:
    """TP-UDL and TP-UD: the length in septets (GSM-7) or octets, the UDH, the text."""
    udl_offset = r.pos
    udl = r.octet("TP-UDL")
    need = (udl * 7 + 7) // 8 if encoding == "gsm7" else udl
    left = r.remaining()
    if need > MAX_UD_OCTETS:
        raise PduError(f"TP-UDL {udl} at offset {udl_offset} means {need} octets, over 140")
    if need != left:
        raise PduError(
            f"TP-UDL {udl} at offset {udl_offset} means {need} octets of user data, "
            f"but {left} follow"
        )
    ud_offset = r.pos
    ud = r.take(need, "TP-UD")
    concat: Concat | None = None
    body_start = 0
    if udhi:
        if not ud:
            raise PduError(f"TP-UDHI is set but the user data at offset {ud_offset} is empty")
        udhl = ud[0]
        body_start = 1 + udhl
        if body_start > len(ud):
            raise PduError(
                f"UDH length {udhl} at offset {ud_offset} runs past the user data "
                f"({len(ud) - 1} octets)"
            )
        concat = _parse_udh(ud[1:body_start], ud_offset + 1)
    body = ud[body_start:]
    if encoding == "gsm7":
        header_bits = 8 * body_start
        fill = (7 - header_bits % 7) % 7
        count = udl - (header_bits + fill) // 7
        if count < 0:
            raise PduError(f"TP-UDL {udl} at offset {udl_offset} is shorter than the UDH")
        septets = gsm7.unpack(body, count, fill)
        return _UserData(gsm7.decode(septets), bytes(septets), concat)
    if encoding == "ucs2":
        if len(body) % 2:
            raise PduError(
                f"UCS2 user data at offset {ud_offset + body_start} has an odd number of "
                f"octets ({len(body)})"
            )
        return _UserData(body.decode("utf-16-be", errors="replace"), body, concat)
    return _UserData(_decode_8bit_text(body), body, concat)


def _relative_validity(vp: int) -> timedelta:
    """TS 23.040 §9.2.3.12.1: the relative TP-VP octet as a duration."""
    if vp <= 143:
        return timedelta(minutes=(vp + 1) * 5)
    if vp <= 167:
        return timedelta(hours=12, minutes=(vp - 143) * 30)
    if vp <= 196:
        return timedelta(days=vp - 166)
    return timedelta(weeks=vp - 192)


def _read_dcs(r: _Reader) -> tuple[int, Encoding, int | None]:
    offset = r.pos
    dcs = r.octet("TP-DCS")
    encoding, klass = _dcs_info(dcs, offset)
    return dcs, encoding, klass


def _decode_deliver(r: _Reader, fo: int, smsc: str | None) -> Pdu:
    sender = _read_address(r, "TP-OA")
    r.octet("TP-PID")
    dcs, encoding, klass = _read_dcs(r)
    timestamp = _read_timestamp(r, "TP-SCTS")
    ud = _read_user_data(r, bool(fo & 0x40), encoding)
    return Pdu(
        type="deliver", smsc=smsc, sender=sender, recipient=None, text=ud.text,
        encoding=encoding, timestamp=timestamp, concat=ud.concat, message_ref=None,
        status=None, discharge_time=None, data=ud.data,
        status_report_request=bool(fo & 0x20), validity=None, dcs=dcs, message_class=klass,
    )


def _decode_submit(r: _Reader, fo: int, smsc: str | None) -> Pdu:
    message_ref = r.octet("TP-MR")
    recipient = _read_address(r, "TP-DA")
    r.octet("TP-PID")
    dcs, encoding, klass = _read_dcs(r)
    vpf = (fo >> 3) & 0x03
    validity: timedelta | None = None
    if vpf == 0b10:
        validity = _relative_validity(r.octet("TP-VP"))
    elif vpf:  # enhanced (01) or absolute (11): seven octets we carry but do not interpret
        r.take(7, "TP-VP")
    ud = _read_user_data(r, bool(fo & 0x40), encoding)
    return Pdu(
        type="submit", smsc=smsc, sender=None, recipient=recipient, text=ud.text,
        encoding=encoding, timestamp=None, concat=ud.concat, message_ref=message_ref,
        status=None, discharge_time=None, data=ud.data,
        status_report_request=bool(fo & 0x20), validity=validity, dcs=dcs, message_class=klass,
    )


def _read_report_options(
    r: _Reader, pi: int, fo: int
) -> tuple[int, Encoding, int | None, _UserData]:
    """The optional TP-PID, TP-DCS and TP-UDL/UD of a status report, as TP-PI lists them."""
    dcs, klass = 0, None
    encoding: Encoding = "gsm7"
    ud = _UserData("", b"", None)
    ext = pi
    while ext & 0x80:  # extension octets of TP-PI carry nothing we use
        ext = r.octet("TP-PI extension")
    if pi & 0x01:
        r.octet("TP-PID")
    if pi & 0x02:
        dcs, encoding, klass = _read_dcs(r)
    if pi & 0x04:
        ud = _read_user_data(r, bool(fo & 0x40), encoding)
    elif r.remaining():
        raise PduError(f"{r.remaining()} unexpected octets at offset {r.pos}")
    return dcs, encoding, klass, ud


def _decode_status_report(r: _Reader, fo: int, smsc: str | None) -> Pdu:
    message_ref = r.octet("TP-MR")
    recipient = _read_address(r, "TP-RA")
    timestamp = _read_timestamp(r, "TP-SCTS")
    discharge = _read_timestamp(r, "TP-DT")
    status = r.octet("TP-ST")
    dcs, klass = 0, None
    encoding: Encoding = "gsm7"
    ud = _UserData("", b"", None)
    if r.remaining():
        pi = r.octet("TP-PI")
        if pi & 0x78:
            # Reserved TP-PI bits set: some SCs pad the report (often with FF). The report's
            # meaning is complete without the optional part, so it is ignored, not refused.
            log.debug("status report: TP-PI %02X has reserved bits; optional part ignored", pi)
        else:
            dcs, encoding, klass, ud = _read_report_options(r, pi, fo)
    return Pdu(
        type="status-report", smsc=smsc, sender=None, recipient=recipient, text=ud.text,
        encoding=encoding, timestamp=timestamp, concat=ud.concat, message_ref=message_ref,
        status=status, discharge_time=discharge, data=ud.data,
        status_report_request=False, validity=None, dcs=dcs, message_class=klass,
    )


_DECODERS: dict[str, Callable[[_Reader, int, str | None], Pdu]] = {
    "deliver": _decode_deliver,
    "submit": _decode_submit,
    "status-report": _decode_status_report,
}


def decode_pdu(hexstr: str, *, has_smsc: bool = True, direction: Direction = "auto") -> Pdu:
    """Decode one PDU as AT+CMGL/CMGR/+CMT/+CDS give it (hex, SMSC part first unless
    `has_smsc` is False). `direction` picks how TP-MTI is read: mt, mo, or auto."""
    r = _Reader(_parse_hex(hexstr))
    smsc = _read_smsc(r) if has_smsc else None
    fo_offset = r.pos
    fo = r.octet("first octet")
    mti = fo & 0x03
    kind = _MTI_NAMES.get(direction, {}).get(mti)
    if kind is None:
        raise PduError(
            f"TP-MTI {mti} in first octet {fo:02X} at offset {fo_offset} is not a "
            f"message type this codec reads (direction {direction})"
        )
    return _DECODERS[kind](r, fo, smsc)


def reassemble(parts: Sequence[Pdu]) -> str:
    """The text of a concatenated message from all its parts, in any order.

    Joins the raw user data before decoding, so a surrogate pair or escape split across
    parts by another sender's phone still reads right. PduError when parts are missing.
    """
    if not parts:
        raise PduError("no parts to reassemble")
    if len(parts) == 1 and parts[0].concat is None:
        return parts[0].text
    keys = {(p.concat.ref, p.concat.total) if p.concat else None for p in parts}
    if None in keys or len(keys) != 1:
        raise PduError("parts do not belong to one concatenated message")
    total = parts[0].concat.total if parts[0].concat else 0
    by_seq = {p.concat.seq: p for p in parts if p.concat}
    missing = sorted(set(range(1, total + 1)) - set(by_seq))
    if missing:
        raise PduError(f"concatenated message lacks part(s) {missing} of {total}")
    ordered = [by_seq[seq] for seq in range(1, total + 1)]
    encodings = {p.encoding for p in ordered}
    if encodings == {"ucs2"}:
        return b"".join(p.data for p in ordered).decode("utf-16-be", errors="replace")
    if encodings == {"gsm7"}:
        return gsm7.decode(b"".join(p.data for p in ordered))
    return "".join(p.text for p in ordered)


# ---------------------------------------------------------------- encoding


def _ucs2_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _octets_utf8(ch: str) -> int:
    return len(ch.encode("utf-8", errors="surrogatepass"))


_WEIGHTS: dict[str, Callable[[str], int]] = {
    "gsm7": gsm7.char_septets,
    "ucs2": _ucs2_units,
    "8bit": _octets_utf8,
}


def _split(text: str, encoding: str, concat16: bool) -> list[str]:
    """Cut `text` into parts that fit one TPDU each, never inside a character (so an
    escape pair or a surrogate pair stays whole)."""
    weight = _WEIGHTS[encoding]
    single, multi8, multi16 = LIMITS[encoding]
    weights = [weight(ch) for ch in text]
    if sum(weights) <= single:
        return [text]
    limit = multi16 if concat16 else multi8
    parts: list[str] = []
    start = used = 0
    for index, w in enumerate(weights):
        if used + w > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += w
    parts.append(text[start:])
    if len(parts) > MAX_PARTS:
        raise PduError(f"text needs {len(parts)} SMS parts, at most {MAX_PARTS} can be joined")
    return parts


def choose_encoding(text: str) -> Encoding:
    """GSM-7 when every character is in its alphabet or extension table, else UCS2."""
    return "gsm7" if gsm7.is_gsm7(text) else "ucs2"


def segments(text: str, *, concat16: bool = False) -> tuple[str, list[str]]:
    """The encoding a phone would choose and the text of each part, split as phones do:
    160/153 septets or 70/67 UTF-16 units (152/66 with 16-bit references)."""
    encoding = choose_encoding(text)
    return encoding, _split(text, encoding, concat16)


def count_segments(text: str) -> int:
    """How many SMS parts `text` takes (what each message costs)."""
    return len(segments(text)[1])


def _bcd(digits: str) -> bytes:
    if len(digits) % 2:
        digits += "F"
    table = _BCD_CODES
    return bytes(table[digits[i]] | (table[digits[i + 1]] << 4) for i in range(0, len(digits), 2))


def _numeric(number: str) -> tuple[int, str] | None:
    """(type of address, digits) of a phone number, or None when it is not one."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not digits or any(ch not in "0123456789*#" for ch in digits):
        return None
    # Without "+" the number goes as type 0x81 (unknown numbering, ISDN plan) as phones do.
    return (0x91 if international else 0x81), digits


def encode_address(address: str, field: str = "address") -> bytes:
    """TP-OA/DA octets: international (+358…), national/short numbers, or alphanumeric
    (up to 11 GSM-7 characters, type 0xD0)."""
    if not address:
        raise PduError(f"{field} is empty")
    numeric = _numeric(address)
    if numeric is not None:
        toa, digits = numeric
        if len(digits) > 20:
            raise PduError(f"{field} {address!r} has {len(digits)} digits, at most 20 fit")
        return bytes([len(digits), toa]) + _bcd(digits)
    septets = gsm7.encode(address)
    if len(septets) > 11:
        raise PduError(f"alphanumeric {field} {address!r} is over 11 GSM-7 characters")
    packed = gsm7.pack(septets)
    return bytes([math.ceil(len(septets) * 7 / 4), 0xD0]) + packed


def _encode_smsc(smsc: str | None) -> bytes:
    if smsc is None or smsc == "":
        return b"\x00"  # the modem uses its stored SMSC (AT+CSCA)
    numeric = _numeric(smsc)
    if numeric is None:
        raise PduError(f"SMSC {smsc!r} is not a phone number")
    toa, digits = numeric
    if len(digits) > 20:
        raise PduError(f"SMSC {smsc!r} has {len(digits)} digits, at most 20 fit")
    body = bytes([toa]) + _bcd(digits)
    return bytes([len(body)]) + body


def encode_timestamp(when: datetime) -> bytes:
    """TP-SCTS octets of an aware datetime; its offset must be whole quarter hours."""
    offset = when.utcoffset()
    if offset is None:
        raise PduError(f"timestamp {when.isoformat()} has no time zone")
    minutes = offset.total_seconds() / 60
    quarters = int(abs(minutes) // 15)
    if minutes % 15 or quarters > 79:
        raise PduError(f"time zone of {when.isoformat()} is not a whole quarter hour ≤ 19:45")
    if not 2000 <= when.year <= 2099:
        raise PduError(f"timestamp {when.isoformat()} is outside the years 2000-2099")
    values = [when.year % 100, when.month, when.day, when.hour, when.minute, when.second]
    out = bytearray((v % 10) << 4 | (v // 10) for v in values)
    out.append((quarters % 10) << 4 | (quarters // 10) | (0x08 if minutes < 0 else 0))
    return bytes(out)


def encode_validity(validity: timedelta) -> int:
    """The relative TP-VP octet for `validity`, rounded up to the next value it can say
    (5 min .. 63 weeks), so a message never expires sooner than asked."""
    minutes = math.ceil(validity.total_seconds() / 60)
    if minutes <= 0:
        raise PduError(f"validity {validity} is not positive")
    if minutes <= 12 * 60:
        return max(0, math.ceil(minutes / 5) - 1)
    if minutes <= 24 * 60:
        return 143 + math.ceil((minutes - 12 * 60) / 30)
    if minutes <= 30 * 24 * 60:
        return 166 + math.ceil(minutes / (24 * 60))
    weeks = math.ceil(minutes / (7 * 24 * 60))
    if weeks > 63:
        raise PduError(f"validity {validity} is over the 63 weeks TP-VP can say")
    return 192 + weeks


def _concat_udh(ref: int, total: int, seq: int, concat16: bool) -> bytes:
    if concat16:
        return bytes([6, 0x08, 4, ref >> 8, ref & 0xFF, total, seq])
    return bytes([5, 0x00, 3, ref, total, seq])


def _user_data(encoding: str, part: str, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) of one part, the UDH (with its length octet) in front."""
    if encoding == "gsm7":
        septets = gsm7.encode(part)
        header_bits = 8 * len(udh)
        fill = (7 - header_bits % 7) % 7
        return (header_bits + fill) // 7 + len(septets), udh + gsm7.pack(septets, fill)
    body = part.encode("utf-16-be" if encoding == "ucs2" else "utf-8", errors="surrogatepass")
    return len(udh) + len(body), udh + body


def _check_ref(ref: int, concat16: bool) -> int:
    top = 0xFFFF if concat16 else 0xFF
    if not 0 <= ref <= top:
        raise PduError(f"concatenation reference {ref} is outside 0..{top}")
    return ref


def encode_submit(
    to: str, text: str, *, smsc: str | None = None, status_report: bool = False,
    validity: timedelta | None = None, concat_ref: int | None = None,
    message_ref: int = 0, concat16: bool = False,
) -> list[SubmitPdu]:
    """SMS-SUBMIT PDUs for `text` to `to`, one per part. Parts share `concat_ref`
    (default: `message_ref`) and take message references message_ref, +1, … mod 256."""
    if not 0 <= message_ref <= 0xFF:
        raise PduError(f"message reference {message_ref} is outside 0..255")
    if _numeric(to) is None:
        # A formatted or alphanumeric recipient would go out as a D0 address no network
        # delivers; refuse it so the caller normalises the number first.
        raise PduError(f"recipient {to!r} is not a phone number (digits, optional leading +)")
    encoding, parts = segments(text, concat16=concat16)
    ref = _check_ref(message_ref if concat_ref is None else concat_ref, concat16)
    da = encode_address(to, "recipient")
    sca = _encode_smsc(smsc)
    vp = b"" if validity is None else bytes([encode_validity(validity)])
    out: list[SubmitPdu] = []
    for seq, part in enumerate(parts, 1):
        udh = _concat_udh(ref, len(parts), seq, concat16) if len(parts) > 1 else b""
        fo = 0x01 | (0x10 if vp else 0) | (0x20 if status_report else 0) | (0x40 if udh else 0)
        udl, ud = _user_data(encoding, part, udh)
        tpdu = (
            bytes([fo, (message_ref + seq - 1) & 0xFF]) + da
            + bytes([0x00, DCS_OF[encoding]]) + vp + bytes([udl]) + ud
        )
        out.append(SubmitPdu(hex=(sca + tpdu).hex().upper(), tpdu_length=len(tpdu)))
    return out


def encode_deliver(
    sender: str, text: str, timestamp: datetime, *, smsc: str | None = None,
    concat_ref: int | None = None, encoding: str | None = None,
) -> list[str]:
    """SMS-DELIVER PDUs (hex with the SMSC part) as a network would hand `text` to a
    modem, one per part; `encoding` forces gsm7, ucs2 or 8bit (UTF-8 octets)."""
    if encoding is None:
        encoding = choose_encoding(text)
    if encoding not in DCS_OF:
        raise PduError(f"unknown encoding {encoding!r}; use gsm7, ucs2 or 8bit")
    if encoding == "gsm7" and not gsm7.is_gsm7(text):
        gsm7.encode(text)  # raises, naming the first character GSM-7 lacks
    parts = _split(text, encoding, False)
    ref = _check_ref(0 if concat_ref is None else concat_ref, False)
    oa = encode_address(sender, "sender")
    sca = _encode_smsc(smsc)
    scts = encode_timestamp(timestamp)
    out: list[str] = []
    for seq, part in enumerate(parts, 1):
        udh = _concat_udh(ref, len(parts), seq, False) if len(parts) > 1 else b""
        fo = 0x04 | (0x40 if udh else 0)  # MTI 00 deliver; MMS=1: no more messages waiting
        udl, ud = _user_data(encoding, part, udh)
        tpdu = oa + bytes([0x00, DCS_OF[encoding]]) + scts + bytes([udl]) + ud
        out.append((sca + bytes([fo]) + tpdu).hex().upper())
    return out


def encode_status_report(
    recipient: str, message_ref: int, status: int, scts: datetime, discharge: datetime,
    *, smsc: str | None = None,
) -> str:
    """An SMS-STATUS-REPORT (hex with the SMSC part) for the message `message_ref`;
    `status` is TP-ST (0 = delivered)."""
    if not 0 <= message_ref <= 0xFF or not 0 <= status <= 0xFF:
        raise PduError("message reference and status must each fit one octet")
    tpdu = (
        bytes([0x06, message_ref]) + encode_address(recipient, "recipient")
        + encode_timestamp(scts) + encode_timestamp(discharge) + bytes([status])
    )
    return (_encode_smsc(smsc) + tpdu).hex().upper()
