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
_CODED_FINAL = re.compile(r"^\+(CME|CMS) ERROR:\s*(.*)$")
_CONNECT = re.compile(r"^CONNECT(\s.*)?$")

# Unsolicited codes by prefix (the part before ':' or the whole line).
URC_PREFIXES = frozenset(
    {
        "+CMTI", "+CMT", "+CDS", "+CDSI", "+CBM", "+CREG", "+CEREG", "+CGREG", "+C5GREG",
        "+CRING", "+CLIP", "+CUSD", "+CPIN", "+CFUN", "+QIND", "+PACSP",
        "RING", "RDY", "SMS READY", "CALL READY", "NORMAL POWER DOWN", "+CIEV", "+CSQN",
    }
)
# Codes whose first line is followed by one data line (a PDU, or the text in text mode).
_TWO_LINE_URCS = frozenset({"+CMT", "+CBM"})
_CDS_PDU_HEADER = re.compile(r"^\+CDS:\s*\d+\s*$")
# Listing replies whose header line is followed by one data line that may read "OK".
_RECORD_HEADERS = frozenset({"+CMGL", "+CMGR"})
# Characters that line noise puts around a real line: controls, DEL, replacement char.
_PIN = re.compile(r'(\+CPIN=)"?[^",]*"?', re.IGNORECASE)  # never log the PIN
_NOISE = "".join(chr(c) for c in range(0x20)) + "\x7f\ufffd "


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
    match = re.match(r"^([+^$%][A-Za-z0-9]+)", body)
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


@dataclass
class AtFramer:
    """Pure framing of the modem's byte stream into events (no I/O, no clock)."""

    noise_lines: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _command: str | None = None
    _own_prefix: str = ""
    _expect_prompt: bool = False
    _echoes: set[str] = field(default_factory=set)
    _want_data: str | None = None  # "record" (CMGL/CMGR body) or a two-line URC's name
    _held: str = ""  # header line of a two-line URC waiting for its data line

    def begin(self, command: str, *, expect_prompt: bool = False) -> None:
        """A command was written: its echo is ignored, its own prefix is a reply."""
        self._command = command
        self._own_prefix = command_prefix(command)
        self._expect_prompt = expect_prompt
        self._echoes = {command.strip().upper()}
        if self._want_data == "record":
            self._want_data = None

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
        if self._want_data == "record":
            self._want_data = None

    def reset(self) -> None:
        """Forget partial input (after the port was reopened)."""
        self._buffer.clear()
        self._want_data = None
        self._held = ""
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
            event = self._line(raw)
            if event is not None:
                events.append(event)
        rest = self._buffer.lstrip(b"\r\n\x00")
        if self._expect_prompt and rest.startswith(b">"):
            # The prompt has no line end: it is recognised by its place, right after
            # the command, never by waiting for silence.
            rest = rest[2:] if rest.startswith(b"> ") else rest[1:]
            self._buffer[:] = rest
            self._expect_prompt = False
            events.append(Prompt())
        return events

    def _line(self, raw: bytes) -> Event | None:
        text = raw.replace(CTRL_Z, b"").decode("utf-8", errors="replace").strip(_NOISE)
        if not text:
            return None
        if self._want_data is not None:
            return self._data_line(text)
        if text.upper() in self._echoes or (self._command is None and text.upper() == "AT"):
            return None
        if not text.isprintable() or "\ufffd" in text:  # noise: replies are printable text
            self.noise_lines += 1
            log.debug("noise line skipped: %r", text)
            return None
        final = parse_final(text)
        if final is not None:
            if self._command is None:
                log.debug("stray final result code outside a command: %r", text)
                return None
            return final
        prefix = _prefix(text)
        if self._command is not None and prefix == self._own_prefix:
            if prefix in _RECORD_HEADERS:
                self._want_data = "record"
            return Line(text)
        if is_urc_prefix(prefix):
            if prefix in _TWO_LINE_URCS or (prefix == "+CDS" and _CDS_PDU_HEADER.match(text)):
                self._want_data, self._held = prefix, text
                return None
            return Urc(prefix, text)
        if self._command is not None:
            return Line(text)
        log.debug("line outside a command ignored: %r", text)
        return None

    def _data_line(self, text: str) -> Event:
        want, self._want_data = self._want_data, None
        if want == "record":
            return Line(text)
        header, self._held = self._held, ""
        return Urc(want or "", header, text)


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
