"""What a modem says, as values: stored messages, signal, registration, storage use,
events, and the pure parsers that read AT replies into them (no I/O)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sms_gateway.at import split_params
from sms_gateway.errors import PduError
from sms_gateway.pdu import Pdu, decode_pdu

REG_STATES = {0: "not-registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown",
              5: "roaming"}
PREFERRED_STORAGE = ("ME", "SM", "MT")


@dataclass(frozen=True)
class StoredMessage:
    """A message in the modem's storage; `message` None means it did not decode
    (`error` says why) and it is kept raw, never deleted unread."""

    index: int
    status: int
    pdu: str
    message: Pdu | None
    error: str | None = None


@dataclass(frozen=True)
class Signal:
    """AT+CSQ: rssi 0..31 (99 unknown), bit error rate 0..7, and the level in dBm."""

    rssi: int | None
    ber: int | None
    dbm: int | None


@dataclass(frozen=True)
class Registration:
    """AT+CREG? / AT+CEREG?: <stat> and its name; registered means home or roaming."""

    stat: int
    state: str
    technology: str

    @property
    def registered(self) -> bool:
        """True when the modem can send and receive (home or roaming)."""
        return self.stat in (1, 5)


@dataclass(frozen=True)
class StorageUse:
    """One message memory of AT+CPMS?: name, messages in it, capacity."""

    memory: str
    used: int
    total: int


@dataclass(frozen=True)
class ModemInfo:
    """What `palaute sms modem-info` shows; a field is None when the modem did not say."""

    manufacturer: str | None
    model: str | None
    imei: str | None
    sim: str | None
    signal: Signal | None
    registration: Registration | None
    storage: list[StorageUse] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        if self.registration is not None:
            data["registration"]["registered"] = self.registration.registered
        return data


@dataclass(frozen=True)
class NewMessage:
    """+CMTI: a message was stored at `index` of `memory`."""

    memory: str
    index: int


@dataclass(frozen=True)
class IncomingMessage:
    """+CMT: a message routed straight to us (not stored)."""

    pdu: str
    message: Pdu | None
    error: str | None = None


@dataclass(frozen=True)
class StatusReport:
    """+CDS / +CDSI: the network's report on the sent part `message_ref` (TS 23.040 TP-ST:
    0-31 delivered, 32-63 still trying, 64+ failed)."""

    message_ref: int | None
    status: int | None
    recipient: str | None
    pdu: str
    message: Pdu | None
    error: str | None = None


@dataclass(frozen=True)
class Rescan:
    """Indications may have been missed (start-up, reset, port reopened): list storage."""

    reason: str


@dataclass(frozen=True)
class NetworkChange:
    """+CREG / +CEREG: registration changed."""

    stat: int
    state: str


ModemEvent = NewMessage | IncomingMessage | StatusReport | Rescan | NetworkChange


def decode_stored(pdu_hex: str, length: int | None) -> tuple[Pdu | None, str | None]:
    """Decode a PDU from the modem; `length` (the TPDU octets it announced) tells whether
    an SMSC part leads it. Returns (pdu, None) or (None, the error)."""
    has_smsc = length is None or len(pdu_hex) // 2 != length
    try:
        return decode_pdu(pdu_hex, has_smsc=has_smsc), None
    except PduError as exc:
        return None, str(exc)


def parse_ranges(text: str) -> set[int]:
    """`(0-2)` or `(0,2)` or `1` -> the set of values it lists."""
    values: set[int] = set()
    for part in text.strip("()").split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit():
            values.update(range(int(low), int(high or low) + 1))
    return values


def choose_cnmi(supported: str) -> str:
    """AT+CNMI settings from the AT+CNMI=? reply: buffer while busy (mode 2), store and
    indicate (+CMTI, never +CMT which needs an ack), reports by +CDS, else +CDSI."""
    groups = [parse_ranges(g) for g in split_params(supported)] + [set()] * 5

    def pick(group: set[int], wanted: tuple[int, ...]) -> int:
        return next((w for w in wanted if w in group), wanted[-1])

    mode = pick(groups[0], (2, 1, 3, 0))
    mt = pick(groups[1], (1, 3, 0))
    ds = pick(groups[3], (1, 2, 0))
    bfr = pick(groups[4], (0, 1)) if groups[4] else 0
    return f"{mode},{mt},0,{ds},{bfr}"


def choose_storage(supported: str) -> list[str]:
    """AT+CPMS memories from the AT+CPMS=? reply: where messages arrive (mem3, ME before
    SM) is also where we read and delete (mem1)."""
    groups = [split_params(g.strip("()")) for g in split_params(supported)]
    while len(groups) < 3:
        groups.append(groups[-1] if groups else ["SM"])
    arrive = next((m for m in PREFERRED_STORAGE if m in groups[2]), groups[2][0])
    read = arrive if arrive in groups[0] else groups[0][0]
    write = arrive if arrive in groups[1] else groups[1][0]
    return [read, write, arrive]


def parse_signal(params: str) -> Signal:
    """`20,99` -> Signal(20, None, -73)."""
    values = [int(v) if v.isdigit() else 99 for v in split_params(params)[:2]] + [99, 99]
    rssi, ber = values[0], values[1]
    dbm = -113 + 2 * rssi if 0 <= rssi <= 31 else None
    return Signal(None if rssi == 99 else rssi, None if ber == 99 else ber, dbm)


def int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def all_params(lines: list[str], prefix: str) -> list[list[str]]:
    """The parameters of every response line carrying `prefix`."""
    return [split_params(line.split(":", 1)[1]) for line in lines
            if line.split(":", 1)[0].strip().upper() == prefix]


def records(lines: list[str], prefix: str) -> list[tuple[str, str]]:
    """(header parameters, data line) pairs of a +CMGL / +CMGR reply; a header whose
    data line never came is paired with an empty one (it stays on the modem)."""
    out: list[tuple[str, str]] = []
    header: str | None = None
    for line in lines:
        if line.upper().startswith(prefix + ":") and not _is_hex(line):
            if header is not None:
                out.append((header, ""))
            header = line.split(":", 1)[1].strip()
        elif header is not None:
            out.append((header, line.strip()))
            header = None
    if header is not None:
        out.append((header, ""))
    return out


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text.strip())


def last_int(header: str) -> int | None:
    params = split_params(header)
    return int(params[-1]) if params and params[-1].isdigit() else None


def report(pdu_hex: str, length: int | None) -> StatusReport:
    message, error = decode_stored(pdu_hex, length)
    if message is None or message.type != "status-report":
        return StatusReport(None, None, None, pdu_hex, message, error or "not a status report")
    return StatusReport(message.message_ref, message.status, message.recipient, pdu_hex, message)

