"""The AT command channel: a pure framing protocol, and the thin I/O shell around it.

`AtFramer` is fed bytes and returns events (response lines, the final result code,
the `> ` prompt, unsolicited result codes); it does no I/O and keeps no clock.
`AtChannel` opens the port with `serial.serial_for_url` (a pty path, `/dev/serial/by-id/…`,
`loop://`, `socket://`, `spy://`), runs one reader thread that only moves bytes into the
framer, routes unsolicited codes to a bounded queue and runs one command at a time under
a lock with an explicit timeout (TS 27.007 §5 framing, TS 27.005 §3 SMS result codes).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import serial

from sms_gateway.errors import (
    AtCommandError,
    AtTimeout,
    CmeError,
    CmsError,
    ModemError,
    PortError,
)

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"

# Final result codes (TS 27.007 §5.7 and §9.2, TS 27.005 §3.2.5); CONNECT [text] too.
_PLAIN_FINALS = {
    "OK": "ok",
    "ERROR": "error",
    "NO CARRIER": "error",
    "BUSY": "error",
    "NO ANSWER": "error",
    "NO DIALTONE": "error",
    "COMMAND NOT SUPPORT": "error",  # ZTE's spelling of ERROR
}
# Call progress codes end only a call command (ATD, ATA, ATO, ATH); during any other
# command, or none, they report a call that came and went (V.250 §6.3.4): unsolicited.
_CALL_CODES = frozenset({"NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE"})
_CALL_COMMAND = re.compile(r"^AT[DAOH]", re.IGNORECASE)
_CODED_FINAL = re.compile(r"^\+(CME|CMS) ERROR:\s*(.*)$")
_CONNECT = re.compile(r"^CONNECT(\s.*)?$")

# Unsolicited codes by prefix (the part before ':' or the whole line): TS 27.005 / 27.007
# indications, and what SIMCom, Quectel, Wavecom/Sierra, Telit, Cinterion, ZTE and u-blox
# modems announce on their own (start-up, SIM state, time zone, calls, USSD).
URC_PREFIXES = frozenset(
    {
        "+CMTI", "+CMT", "+CDS", "+CDSI", "+CBM", "+CBMI", "+CREG", "+CEREG", "+CGREG",
        "+C5GREG", "+CRING", "+CLIP", "+CCWA", "+COLP", "+CUSD", "+CPIN", "+CFUN", "+CGEV",
        "+CIEV", "+CSQN", "+CSSI", "+CSSU", "+CTZV", "+CTZE", "+CTZU", "+CTZR", "+CMGSI",
        "+QIND", "+QUSIM", "+QSTK", "+PACSP", "+WIND", "+STIN", "+UUSIMSTAT", "+ZPASR",
        "+ZUSIMR", "+ZDONR", "+ZEND", "+PSUTTZ", "*PSUTTZ", "DST", "+CPINR", "+SIMCARD",
        "+CSCON", "+CEDRXP", "+CRTDCP", "+NITZ", "+CTZDST", "+CLCC", "+CSSN", "#QSS",
        "+QSIMSTAT", "+CPSMSTATUS", "+SIMREADY", "+ECIND",
        "RING", "RDY", "SMS READY", "CALL READY", "SMS DONE", "PB DONE", "+ATREADY",
        "*ATREADY", "NORMAL POWER DOWN", "UNDER-VOLTAGE WARNNING", "UNDER-VOLTAGE WARNING",
        "UNDER-VOLTAGE POWER DOWN", "OVER-VOLTAGE WARNNING", "OVER-VOLTAGE WARNING",
        "OVER-VOLTAGE POWER DOWN", "POWERED DOWN", "APP RDY", "SIM READY",
    }
)
# Codes whose first line is followed by one data line (a PDU, or the text in text mode).
_TWO_LINE_URCS = frozenset({"+CMT", "+CBM"})
_CDS_PDU_HEADER = re.compile(r"^\+CDS:\s*\d+\s*$")
# Listing replies whose header line is followed by one data line that may read "OK".
_RECORD_HEADERS = frozenset({"+CMGL", "+CMGR"})
# A line in the shape of a result code (`+CSQ: ...`, `^RSSI:17`, `*PSUTTZ: ...`).
_CODED_LINE = re.compile(r"^[+^*#%$!][A-Za-z][A-Za-z0-9_]*:")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")
# Replies that carry another command's prefix (AT+GMI answered as +CGMI: ...).
_ALIASES = {"+GMI": "+CGMI", "+GMM": "+CGMM", "+GMR": "+CGMR", "+GSN": "+CGSN"}
# Characters that line noise puts around a real line: controls, DEL, replacement char.
_PIN = re.compile(r'(\+CPIN=)"?[^",]*"?', re.IGNORECASE)  # never log the PIN
_NOISE = "".join(chr(c) for c in range(0x20)) + "\x7f\ufffd "


def is_pdu_line(text: str, length: int | None) -> bool:
    """True when `text` is a PDU in hex of `length` TPDU octets (with or without the
    leading SMSC part); any even run of hex digits when no length was announced."""
    if not text or len(text) % 2 or not _HEX.match(text):
        return False
    if length is None:
        return True
    octets = len(text) // 2
    return octets == length or octets == length + 1 + int(text[:2], 16)


def _announced_length(header: str) -> int | None:
    """The TPDU length a PDU-mode header ends with (`+CMGL: 1,0,,23` -> 23), or None
    (text mode: no length, the data line is the text)."""
    last = header.partition(":")[2].rpartition(",")[2].strip()  # quoted: never all digits
    return int(last) if last.isdigit() else None


@dataclass(frozen=True)
class Line:
    """One line of a command's response (not the final result code)."""

    text: str


@dataclass(frozen=True)
class Final:
    """The final result code that ends a command: kind ok/error/cme/cms/connect."""

    kind: str
    line: str
    code: int | None = None


@dataclass(frozen=True)
class Prompt:
    """The `> ` prompt after AT+CMGS / AT+CMGW: the modem waits for the PDU."""


@dataclass(frozen=True)
class Urc:
    """An unsolicited result code: its name (`+CMTI`, `RING`, `^RSSI`), the line and,
    for two-line codes (+CMT, +CDS in PDU mode), the data line."""

    name: str
    line: str
    data: str | None = None

    @property
    def args(self) -> str:
        """The text after `NAME:` (empty for bare codes such as RING)."""
        return self.line.partition(":")[2].strip()


Event = Line | Final | Prompt | Urc


def _prefix(line: str) -> str:
    head, sep, _ = line.partition(":")
    return head.strip().upper() if sep else line.strip().upper()


def command_prefix(command: str) -> str:
    """`AT+CREG?` -> `+CREG`: the prefix the command's own reply lines carry."""
    body = command.strip()[2:] if command.strip().upper().startswith("AT") else command
    match = re.match(r"^([+^$%#*!][A-Za-z0-9]+)", body)
    return match.group(1).upper() if match else ""


def parse_final(line: str) -> Final | None:
    """The final result code `line` is, or None."""
    upper = line.upper()
    if upper in _PLAIN_FINALS:
        return Final(_PLAIN_FINALS[upper], line)
    if _CONNECT.match(upper):
        return Final("connect", line)
    match = _CODED_FINAL.match(line)
    if match:
        kind, arg = match.group(1).lower(), match.group(2).strip()
        return Final(kind, line, int(arg) if arg.isdigit() else None)
    return None


def is_urc_prefix(prefix: str) -> bool:
    """True for a known unsolicited code; every `^NAME` vendor code counts (Huawei)."""
    return prefix in URC_PREFIXES or prefix.startswith("^")


def _is_urc_line(text: str) -> bool:
    """A line that is an unsolicited code by its shape or name (never a PDU, never data)."""
    upper = text.upper()
    return (is_urc_prefix(_prefix(text)) or upper in _CALL_CODES
            or bool(_CODED_LINE.match(text)))


@dataclass
class _Wait:
    """A header line seen, its data line awaited: for a record (+CMGL/+CMGR body) or a
    two-line URC (+CMT, +CDS, +CBM). `length` is the PDU's announced TPDU length; None
    in text mode, where the data line is the text itself."""

    kind: str  # "record" or the URC's name
    header: str
    length: int | None
    pdu_mode: bool


@dataclass
class AtFramer:
    """Pure framing of the modem's byte stream into events (no I/O, no clock).

    Unsolicited codes may come anywhere: before or inside the echo, between reply lines,
    between a +CMGL/+CMGR header and its PDU, before the final result code. A PDU line is
    recognised by what it is (hex, of the length the header announced), never only by
    coming next."""

    noise_lines: int = 0
    urc_lines: int = 0  # unsolicited codes seen while a command was in flight
    _buffer: bytearray = field(default_factory=bytearray)
    _command: str | None = None
    _own_prefix: str = ""
    _expect_prompt: bool = False
    _echoes: set[str] = field(default_factory=set)
    _echo_left: str = ""  # what is left of the command's echo when it comes in pieces
    _dialling: bool = False
    # Headers waiting for their data line, innermost last: a +CDS header and its PDU
    # may come between a +CMGL header and the PDU that belongs to it.
    _waits: list[_Wait] = field(default_factory=list)
    _pending_line: str = ""  # what followed the prompt on its line

    def begin(self, command: str, *, expect_prompt: bool = False) -> None:
        """A command was written: its echo is ignored, its own prefix is a reply."""
        self._command = command
        self._own_prefix = command_prefix(command)
        self._expect_prompt = expect_prompt
        self._echoes = {command.strip().upper()}
        self._echo_left = command.strip().upper()
        self._dialling = bool(_CALL_COMMAND.match(command.strip()))
        self._waits = [w for w in self._waits if w.kind != "record"]

    def expect_echo(self, text: str) -> None:
        """`text` (a PDU written after the prompt) may come back as echo; ignore it."""
        self._expect_prompt = False
        self._echoes.add(text.strip().upper())

    def end(self) -> None:
        """The command is over (finished, timed out or abandoned)."""
        self._command = None
        self._own_prefix = ""
        self._expect_prompt = False
        self._echoes = set()
        self._echo_left = ""
        self._dialling = False
        self._waits = [w for w in self._waits if w.kind != "record"]

    def reset(self) -> None:
        """Forget partial input (after the port was reopened)."""
        self._buffer.clear()
        self._waits = []
        self.end()

    def feed(self, data: bytes) -> list[Event]:
        """Bytes from the port in, events out; never raises on any input."""
        self._buffer.extend(data)
        events: list[Event] = []
        while True:
            cut = _line_end(self._buffer)
            if cut < 0:
                break
            raw = bytes(self._buffer[:cut])
            del self._buffer[: cut + 1]
            if raw:  # the empty piece between CR and LF is no line
                events.extend(self._line(raw))
        rest = self._buffer.lstrip(b"\r\n\x00")
        if self._expect_prompt and rest.startswith(b">"):
            # The prompt has no line end: it is recognised by its place, right after
            # the command, never by waiting for silence.
            rest = rest[2:] if rest.startswith(b"> ") else rest[1:]
            self._buffer[:] = rest
            self._expect_prompt = False
            events.append(Prompt())
        return events

    def _line(self, raw: bytes) -> list[Event]:
        text = raw.replace(CTRL_Z, b"").decode("utf-8", errors="replace").strip(_NOISE)
        if not text:
            return []
        if self._waits:
            return self._data_line(text)
        event = self._plain_line(text)
        events = [] if event is None else [event]
        if self._pending_line:
            rest, self._pending_line = self._pending_line, ""
            events.extend(self._line(rest.encode()))
        return events

    def _plain_line(self, text: str) -> Event | None:
        upper = text.upper()
        if upper in self._echoes or (self._command is None and upper == "AT"):
            self._echo_left = ""
            return None
        if not text.isprintable() or "\ufffd" in text:  # noise: replies are printable text
            self.noise_lines += 1
            log.debug("noise line skipped: %r", text)
            return None
        if self._expect_prompt and text.startswith(">"):  # the prompt ended by a line end
            self._expect_prompt = False
            rest = text[1:].strip(_NOISE)
            if rest:  # a code written right after the prompt, on the same line
                self._pending_line = rest
            return Prompt()
        if self._echo_left and self._echo_left.startswith(upper):
            # A piece of the echo: an unsolicited code was written into the middle of it.
            self._echo_left = self._echo_left[len(upper):]
            return None
        final = parse_final(text)
        if final is not None and not (upper in _CALL_CODES and not self._dialling):
            if self._command is None:
                log.debug("stray final result code outside a command: %r", text)
                return None
            return final
        return self._reply_or_urc(text)

    def _reply_or_urc(self, text: str) -> Event | None:
        prefix = _prefix(text)
        own = self._command is not None and prefix in (
            self._own_prefix, _ALIASES.get(self._own_prefix, self._own_prefix))
        if own:
            self._echo_left = ""
            if prefix in _RECORD_HEADERS:
                length = _announced_length(text)
                upper = text.upper()
                pdu_mode = length is not None and '"REC ' not in upper and '"STO ' not in upper
                self._waits.append(_Wait("record", text, length, pdu_mode))
            return Line(text)
        if text.upper() in _CALL_CODES:
            return self._urc(text.upper(), text)
        if is_urc_prefix(prefix):
            return self._urc(prefix, text)
        if self._command is not None and self._own_prefix and _CODED_LINE.match(text):
            # An extended command's information text carries its own name (TS 27.007
            # §4.1): a coded line of another name is an unsolicited code we do not know.
            return self._urc(prefix, text)
        if self._command is not None:
            self._echo_left = ""
            return Line(text)
        log.debug("line outside a command ignored: %r", text)
        return None

    def _urc(self, prefix: str, text: str) -> Urc | None:
        if prefix in _TWO_LINE_URCS or (prefix == "+CDS" and _CDS_PDU_HEADER.match(text)):
            length = _announced_length(text)
            self._waits.append(_Wait(prefix, text, length, length is not None))
            return None
        if self._command is not None:
            self.urc_lines += 1
        return Urc(prefix, text)

    def _data_line(self, text: str) -> list[Event]:
        """The line after a header: the data it announced, or something else that came
        in between (an unsolicited code, the final result code)."""
        wait = self._waits[-1]
        if text.upper() in self._echoes:  # our own PDU coming back after the prompt
            return []
        if not text.isprintable() or "\ufffd" in text:  # line noise: keep waiting
            self.noise_lines += 1
            return []
        if not wait.pdu_mode or (_HEX.match(text) and len(text) % 2 == 0):
            # The innermost header whose announced length it has; else the innermost.
            fits = [w for w in reversed(self._waits) if is_pdu_line(text, w.length)]
            wait = fits[0] if fits and wait.pdu_mode else wait
            self._waits.remove(wait)
            if wait.pdu_mode and not fits:
                log.debug("PDU of another length than %s announced: %r", wait.length, text)
            if wait.kind == "record":
                return [Line(text)]
            return [Urc(wait.kind, wait.header, text)]
        upper = text.upper()
        if self._command is not None and _prefix(text) == self._own_prefix:
            self._waits.pop()  # the next record's header: this one came without data
            log.warning("%s came without its PDU", wait.header)
            return self._line(text.encode())
        call_code = upper in _CALL_CODES and not self._dialling
        if _is_urc_line(text) and (parse_final(text) is None or call_code):
            log.debug("unsolicited code between %r and its PDU: %r", wait.header, text)
            event = self._urc(upper if call_code else _prefix(text), text)
            return [] if event is None else [event]
        # Not the data: the header came without it. Say so, and read the line afresh.
        self._waits.pop()
        log.warning("%s came without its PDU (next: %r)", wait.header, text)
        out: list[Event] = [] if wait.kind == "record" else [Urc(wait.kind, wait.header)]
        out.extend(self._line(text.encode()))
        return out


def _line_end(buffer: bytearray) -> int:
    """Index of the first CR or LF in `buffer`, or -1."""
    cr, lf = buffer.find(b"\r"), buffer.find(b"\n")
    if cr < 0:
        return lf
    if lf < 0:
        return cr
    return min(cr, lf)


class Port(Protocol):
    """What the channel needs of a pyserial port."""

    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes) -> int | None: ...
    def close(self) -> None: ...
    def reset_input_buffer(self) -> None: ...

    @property
    def in_waiting(self) -> int: ...


def open_serial(url: str, baudrate: int) -> Port:
    """Open `url` with pyserial (pty path, by-id path, loop://, socket://, spy://)."""
    try:
        # exclusive: a second palaute process on the same modem fails here, clearly,
        # instead of stealing its replies; write_timeout: a wedged port counts as lost.
        port: Port = serial.serial_for_url(
            url, baudrate=baudrate, timeout=0.1, write_timeout=10, exclusive=True
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PortError(f"cannot open modem port {url}: {exc}") from exc
    return port


@dataclass
class _Pending:
    command: str
    lines: list[str] = field(default_factory=list)
    final: Final | None = None
    lost: str | None = None
    expect: Callable[[str], bool] | None = None  # an OK before such a line is stale
    prompt: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class AtChannel:
    """A modem's AT command channel over one port URL; close() may be called twice."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 115200,
        urc_queue_size: int = 256,
        opener: Callable[[str, int], Port] = open_serial,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.urcs: queue.Queue[Urc] = queue.Queue(maxsize=urc_queue_size)
        self.urcs_dropped = 0
        self._opener = opener
        self._framer = AtFramer()
        self._command_lock = threading.Lock()  # one command at a time
        self._state = threading.Lock()  # guards framer and pending between the two threads
        self._pending: _Pending | None = None
        self._port: Port | None = None
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._lost: str | None = None

    # -- life cycle ---------------------------------------------------------
    def open(self) -> AtChannel:
        """Open the port and start the reader thread."""
        if self._port is not None:
            self.close()
        self._port = self._opener(self.url, self.baudrate)
        self._lost = None
        self._framer.reset()
        self._stop.clear()
        self._reader = threading.Thread(target=self._read_loop, name="at-reader", daemon=True)
        self._reader.start()
        return self

    def close(self) -> None:
        """Stop the reader (bounded join) and close the port."""
        self._stop.set()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=2.0)
        self._reader = None
        if self._port is not None:
            try:
                self._port.close()
            except (OSError, serial.SerialException) as exc:
                log.debug("closing %s: %s", self.url, exc)
            self._port = None

    def reopen(self) -> None:
        """Close and open the same URL again (the device re-enumerated)."""
        self.close()
        self.open()

    def __enter__(self) -> AtChannel:
        return self.open() if self._port is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_lost(self) -> bool:
        """True when the port failed under the reader (it must be reopened)."""
        return self._lost is not None or self._port is None

    @property
    def noise_lines(self) -> int:
        """How many lines of binary noise the framer has skipped."""
        return self._framer.noise_lines

    @property
    def urc_lines(self) -> int:
        """How many unsolicited codes came while a command was in flight."""
        return self._framer.urc_lines

    # -- commands -----------------------------------------------------------
    def command(
        self, command: str, timeout: float = 10.0, *, expect: Callable[[str], bool] | None = None
    ) -> list[str]:
        """Run `command` (without CR) and return its response lines; raise on error codes.

        With `expect` (a test for the reply line this command must give), an OK that comes
        before such a line answered an earlier, timed-out command and is skipped: this
        resynchronises the channel without guessing from timing."""
        with self._command_lock:
            pending = self._start(command, expect_prompt=False)
            pending.expect = expect
            try:
                self._write(command.encode("ascii") + b"\r")
                return self._finish(pending, timeout)
            finally:
                self._clear()

    def send_pdu(
        self, command: str, pdu: str, *, prompt_timeout: float = 10.0, timeout: float = 120.0
    ) -> list[str]:
        """AT+CMGS=<len>, wait for `> `, write PDU + Ctrl-Z; ESC aborts if no prompt comes.

        Any ModemError raised carries `.written`: False means the PDU never left the host,
        True that the modem may have sent it (its outcome is unknown)."""
        written = False
        with self._command_lock:
            pending = self._start(command, expect_prompt=True)
            try:
                self._write(command.encode("ascii") + b"\r")
                if not self._wait(pending.prompt, pending, prompt_timeout):
                    self._write(ESC)  # leave the prompt state; nothing was sent
                    raise AtTimeout(command, prompt_timeout)
                with self._state:
                    self._framer.expect_echo(pdu)
                written = True
                self._write(pdu.encode("ascii") + CTRL_Z)
                return self._finish(pending, timeout)
            except ModemError as exc:
                exc.written = written  # type: ignore[attr-defined]
                raise
            finally:
                self._clear()

    def write_raw(self, data: bytes) -> None:
        """Write bytes outside any command (ESC to leave a stuck prompt)."""
        with self._command_lock:
            self._write(data)

    def get_urc(self, timeout: float | None = None) -> Urc | None:
        """The next unsolicited code, waiting up to `timeout` seconds; None if none came."""
        try:
            return self.urcs.get(timeout=timeout) if timeout else self.urcs.get_nowait()
        except queue.Empty:
            return None

    # -- internals ----------------------------------------------------------
    def _start(self, command: str, *, expect_prompt: bool) -> _Pending:
        if self._lost is not None or self._port is None:
            raise PortError(f"{command}: modem port {self.url} is gone ({self._lost})")
        pending = _Pending(_PIN.sub(r"\1****", command))  # errors name it, PIN hidden
        with self._state:
            self._pending = pending
            self._framer.begin(command, expect_prompt=expect_prompt)
        log.debug("-> %s", pending.command)
        return pending

    def _clear(self) -> None:
        with self._state:
            self._pending = None
            self._framer.end()

    def _write(self, data: bytes) -> None:
        port = self._port
        if port is None or self._lost is not None:
            raise PortError(f"modem port {self.url} is gone ({self._lost})")
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            self._lost = str(exc)
            raise PortError(f"writing to modem port {self.url}: {exc}") from exc

    def _wait(self, event: threading.Event, pending: _Pending, timeout: float) -> bool:
        got = event.wait(timeout)
        if pending.lost is not None:
            raise PortError(f"{pending.command}: modem port {self.url} lost: {pending.lost}")
        return got

    def _finish(self, pending: _Pending, timeout: float) -> list[str]:
        if not self._wait(pending.done, pending, timeout):
            raise AtTimeout(pending.command, timeout)
        final = pending.final
        assert final is not None
        log.debug("<- %s (%d lines)", final.line, len(pending.lines))
        if final.kind in ("ok", "connect"):
            return pending.lines
        if final.kind == "cme":
            raise CmeError(pending.command, final.code, final.line)
        if final.kind == "cms":
            raise CmsError(pending.command, final.code, final.line)
        raise AtCommandError(pending.command, None, final.line)

    def _read_loop(self) -> None:
        port = self._port
        assert port is not None
        while not self._stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                # TypeError/AttributeError: pyserial's posix port after its fd went away.
                if not self._stop.is_set():
                    self._port_lost(str(exc) or type(exc).__name__)
                return
            if data:
                self._dispatch(data)

    def _port_lost(self, reason: str) -> None:
        log.warning("modem port %s lost: %s", self.url, reason)
        with self._state:
            self._lost = reason
            pending = self._pending
        if pending is not None:
            pending.lost = reason
            pending.prompt.set()
            pending.done.set()

    def _dispatch(self, data: bytes) -> None:
        with self._state:
            events = self._framer.feed(data)
            pending = self._pending
            for event in events:
                self._route(event, pending)

    def _route(self, event: Event, pending: _Pending | None) -> None:
        if isinstance(event, Urc):
            self._queue_urc(event)
        elif pending is None or pending.final is not None:
            log.debug("event with no command waiting: %r", event)
        elif isinstance(event, Line):
            pending.lines.append(event.text)
        elif isinstance(event, Prompt):
            pending.prompt.set()
        elif pending.expect and event.kind == "ok" and not any(
            pending.expect(line) for line in pending.lines
        ):
            log.debug("stale %s before the reply to %s skipped", event.line, pending.command)
            pending.lines.clear()
        elif pending.final is None:
            pending.final = event
            pending.done.set()

    def _queue_urc(self, urc: Urc) -> None:
        log.debug("URC %s", urc.line)
        while True:
            try:
                self.urcs.put_nowait(urc)
                return
            except queue.Full:
                try:
                    old = self.urcs.get_nowait()
                except queue.Empty:
                    continue
                self.urcs_dropped += 1
                log.warning(
                    "URC queue full (%d): dropped the oldest %s (%d dropped so far)",
                    self.urcs.maxsize, old.name, self.urcs_dropped,
                )


def strip_prefix(line: str, prefix: str) -> str:
    """`+CSQ: 20,99` with prefix `+CSQ` -> `20,99`."""
    head, _, rest = line.partition(":")
    return rest.strip() if head.strip().upper() == prefix.upper() else line


def split_params(text: str) -> list[str]:
    """Split AT parameters on commas outside quotes and parentheses; unquote strings."""
    out: list[str] = []
    depth, quoted = 0, False
    current: list[str] = []
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and not quoted and depth == 0:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return [p[1:-1] if len(p) >= 2 and p[0] == p[-1] == '"' else p for p in out]


def first_line(lines: list[str], prefix: str) -> str | None:
    """The parameters of the first response line carrying `prefix`, or None."""
    for line in lines:
        if _prefix(line) == prefix.upper():
            return strip_prefix(line, prefix)
    return None
