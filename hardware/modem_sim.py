"""A simulated GSM modem: the AT command set of TS 27.007 / TS 27.005 as real modems speak it.

`ModemCore` is the modem's brain with no I/O (its AT command handlers are in
`hardware.modem_sim_commands`): bytes from the host go in with `receive`, bytes for
the host come out of `take_output`. `hardware.modem_sim_pty` puts it on a
pseudo-terminal (with a symlink, latency, a vanishing port) and serves the control socket.

Behaviour: echo on until ATE0; responses framed `\\r\\nOK\\r\\n`; `> ` prompt after
AT+CMGS, then the PDU (PDU mode, AT+CMGF=0) or text (AT+CMGF=1) and Ctrl-Z (ESC aborts);
+CMGS: <mr>; storages SM/ME (each `slots` messages) and SR; AT+CPMS, AT+CNMI
(+CMTI, +CMT, +CDS, +CDSI), AT+CMGL/CMGR/CMGD, CSQ, CREG/CEREG, CPIN (PIN), CSCA, CGMI,
CGMM, CGSN, CIMI, CFUN, COPS, CLAC, CSCS, CMGW (+CMS ERROR: 322 when full). Unknown
commands answer ERROR. Incoming messages wait in the "network" while storage is full
(announced once with ^SMMEMFULL) and arrive (+CMTI) once a slot is freed.

How it differs from the standard is configurable (SimConfig: periodic vendor reports
anywhere in replies, a SIM busy after power-on, no ATS7, a bare prompt, lower-case hex...);
`hardware.modem_sim_profiles` names sets of these after the modem families that do them.

Control interface (the same verbs from Python, `ModemCore.control(line)`, and from the
shell over the `--control PATH` Unix socket, one request line, one reply line):

    deliver FROM TEXT      an SMS from FROM (any length: multipart) -> "ok PARTS"
    deliver-pdu HEX        a raw SMS-DELIVER PDU (with SMSC part; may be malformed)
    sent                   JSON list of what the modem sent: recipient, text,
                           message_refs, parts, status_report
    stored                 JSON list of stored messages: memory, index, stat, pdu
    status                 JSON: storage use, waiting messages, faults, settings
    fault NAME [ARGS]      inject a fault (below) -> "ok"
    clear                  remove every fault -> "ok"

Faults (counts apply to the next N occurrences; no count means until `clear`):
    hang [N] [PREFIX]      stop answering (swallow N command lines [starting with PREFIX])
    refuse [N]             answer ERROR to every command (the next N)
    slow N [SECONDS]       the next N answers come SECONDS late (after the host gave up)
    vanish [SECONDS]       the port disappears and comes back at the same link (a reboot)
    garbage [N]            binary noise / invalid UTF-8 before the next N responses (and now)
    send-error [CODE] [N]  AT+CMGS fails: CODE is ERROR or a +CMS code (500, 302, ...)
    send-hang [N]          AT+CMGS sends the message but never answers (outcome unknown)
    sim-busy [N]           SIM commands answer +CME ERROR: 14 (+CMS ERROR: 314)
    no-sim                 no SIM in the holder: +CME ERROR: 10 (+CMS ERROR: 310)
    pin PIN                the SIM wants PIN (AT+CPIN? -> SIM PIN) until AT+CPIN="PIN"
    no-network [STATE]     registration STATE (0 not searching, 2 searching, 3 denied)
    no-smsc [N]            AT+CSCA? empty for N queries; sends without SMSC fail (330)
    storage-full           storage counts as full: arrivals wait in the network
    urc-mid [N]            an unsolicited code inside the next N multi-line responses
    reorder                the next multipart message arrives with its parts reversed
    drop-part K            the next multipart message arrives without part K
    boot                   reboot: settings reset, RDY / +CPIN: READY / SMS Ready sent

Shell example: `printf 'deliver +358401234567 Kiitos 9\\n' | socat - UNIX-CONNECT:ctl.sock`,
or without socat: `python -c "from hardware.modem_sim_pty import control_request as r;
print(r('ctl.sock', 'sent'))"`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hardware.modem_sim_commands import (
    HANDLERS,
    MEMORIES,
    SIMPLE,
    NoReply,
    SimError,
    Slot,
    take,
    tpdu_length,
)
from sms_gateway.errors import PduError
from sms_gateway.pdu import decode_pdu, encode_deliver, encode_status_report

log = logging.getLogger(__name__)

CTRL_Z, ESC = 0x1A, 0x1B
# Error codes in words, as modems write them with AT+CMEE=2 (TS 27.007 §9.2, 27.005 §3.2.5).
ERROR_WORDS = {
    ("cme", 10): "SIM not inserted", ("cme", 11): "SIM PIN required",
    ("cme", 14): "SIM busy", ("cme", 16): "incorrect password",
    ("cme", 50): "Incorrect parameters",
    ("cme", 515): "Please wait, init or command processing in progress.",
    ("cms", 302): "operation not allowed", ("cms", 303): "operation not supported",
    ("cms", 304): "invalid PDU mode parameter", ("cms", 310): "SIM not inserted",
    ("cms", 311): "SIM PIN required", ("cms", 314): "SIM busy",
    ("cms", 321): "invalid memory index", ("cms", 322): "memory full",
    ("cms", 330): "SMSC address unknown", ("cms", 331): "no network service",
    ("cms", 500): "unknown error",
    ("cms", 515): "Please wait, init or command processing in progress.",
}
GARBAGE = b"\xff\xfe\x00\x9c\x80\xc3(noise\x1b[\x07\xe2\x82"


class ControlError(ValueError):
    """A control request that cannot be carried out."""


@dataclass
class SimConfig:
    """What the simulated modem is: identity, SIM, storage size, network."""

    slots: int = 10
    smsc: str = "+358405202000"
    manufacturer: str = "Palaute"
    model: str = "SIM-GSM 1"
    revision: str = "Revision:1.0.0"
    imei: str = "356938035643809"
    imsi: str = "244051234567890"
    operator: str = "Palaute Net"
    rssi: int = 20
    sim_pin: str | None = None  # a PIN the SIM wants at power-on
    cnmi_supported: str = "(0-2),(0-3),(0,2),(0-2),(0,1)"  # the AT+CNMI=? reply
    cpms_supported: str = '("SM","ME","SR"),("SM","ME"),("SM","ME")'  # the AT+CPMS=? reply
    # -- how real modems differ (hardware.modem_sim_profiles names sets of these) --
    profile: str = "standard"
    boot_urcs: tuple[str, ...] = ("RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready",
                                  "SMS Ready")
    periodic_urcs: tuple[str, ...] = ()  # written anywhere in replies, until AT^CURC=0
    curc: bool = False  # AT^CURC (Huawei) switches the periodic codes off
    sim_busy_s: float = 0.0  # after power-on the SIM answers "busy" this many seconds
    busy_cme: int = 14  # what SIM commands answer meanwhile (+CME ERROR: 14 SIM busy)
    busy_cms: int = 314  # and SMS commands (+CMS ERROR: 314 SIM busy)
    busy_cpin: str | None = None  # AT+CPIN? answers +CPIN: <this> instead of an error
    s7: bool = True  # ATS7 (V.250) supported; ERROR otherwise
    cmee_query: bool = True  # AT+CMEE? answers +CMEE: <n>; a bare OK otherwise
    atz_error: bool = False  # ATZ answers ERROR (and resets all the same)
    echo_twice: bool = False  # the echo of ATE0 comes twice
    prompt: bytes = b"\r\n> "  # the AT+CMGS prompt (some write a bare ">" line)
    lower_hex: bool = False  # PDUs in replies and indications in lower-case hex
    record_alpha: str | None = ""  # <alpha> of +CMGL/+CMGR: empty, '""', None: no field
    first_index: int = 1  # the first storage index (0 on Quectel and SIMCom ME)
    cmee_words: bool = False  # errors in words (+CME ERROR: SIM busy); AT+CMEE=1 refused
    plain_error: str = "ERROR"  # what an unknown command answers (older Huawei, ZTE:
    # "COMMAND NOT SUPPORT")
    send_seconds: float = 0.0  # the network's time for one AT+CMGS: +CMGS comes this late


@dataclass
class Faults:
    """Injected faults; counts of None mean "until cleared", 0 means off."""

    hang: int | None = 0
    hang_match: str = ""  # swallow only command lines starting with this
    refuse: int | None = 0
    slow: int | None = 0
    slow_delay: float = 0.0
    garbage: int = 0
    send_error: list[str] = field(default_factory=list)
    send_hang: int = 0
    sim_busy: int | None = 0
    no_sim: bool = False
    no_network: int | None = None
    no_smsc: int | None = 0
    storage_full: bool = False
    urc_mid: int | None = 0
    reorder: bool = False
    drop_part: int | None = None

    def names(self) -> list[str]:
        """The faults now active, for `status`."""
        active = {
            "hang": self.hang != 0, "refuse": self.refuse != 0, "slow": self.slow != 0,
            "garbage": self.garbage > 0,
            "send-error": bool(self.send_error), "send-hang": self.send_hang > 0,
            "sim-busy": self.sim_busy != 0, "no-sim": self.no_sim,
            "no-network": self.no_network is not None, "no-smsc": self.no_smsc != 0,
            "storage-full": self.storage_full, "urc-mid": self.urc_mid != 0,
            "reorder": self.reorder, "drop-part": self.drop_part is not None,
        }
        return [name for name, on in active.items() if on]


class ModemCore:
    """The simulated modem's state machine: host bytes in, modem bytes out (thread-safe)."""

    def __init__(
        self, config: SimConfig | None = None, clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config: SimConfig = config or SimConfig()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._monotonic = monotonic  # what the SIM's busy time after power-on counts in
        self.booted_at = monotonic()
        self.periodic_on = bool(self.config.periodic_urcs)
        self._turn = 0  # which place the next periodic code goes to
        self._lock = threading.RLock()
        self._out: list[tuple[float, bytes]] = []  # (extra delay in seconds, bytes)
        self._on_output: Callable[[], None] = lambda: None
        self.faults = Faults()
        self.storage: dict[str, dict[int, Slot]] = {m: {} for m in MEMORIES}
        self.network: list[str] = []  # deliver PDUs waiting for a free slot
        self.sent_parts: list[dict[str, object]] = []
        self.pin = self.config.sim_pin
        self.sim_ready = self.pin is None
        self.vanish_request: float | None = None
        self._next_mr = 0
        self._next_ref = 1
        self._report_due: list[tuple[str, int]] = []
        self._full_announced = False
        self.reboot(announce=False)

    # -- plumbing ------------------------------------------------------------
    def set_output_listener(self, listener: Callable[[], None]) -> None:
        """`listener()` is called (without I/O of ours) whenever output is waiting."""
        self._on_output = listener

    def take_output(self) -> list[bytes]:
        """Everything the modem has said since the last call."""
        return [data for _, data in self.take_timed_output()]

    def take_timed_output(self) -> list[tuple[float, bytes]]:
        """Like take_output, each chunk with the extra delay (seconds) it is due after."""
        with self._lock:
            out, self._out = self._out, []
            return out

    def _emit(self, data: bytes, delay: float = 0.0) -> None:
        self._out.append((delay, data))
        self._on_output()

    def _urc(self, line: str, data: str | None = None) -> None:
        if data is not None and self.config.lower_hex:
            data = data.lower()
        text = f"\r\n{line}\r\n" + (f"{data}\r\n" if data is not None else "")
        self._emit(text.encode())

    def _periodic(self) -> str | None:
        """The next periodic report (Huawei ^RSSI, ^HCSQ...), or None when they are off."""
        if not self.periodic_on:
            return None
        self._turn += 1
        codes = self.config.periodic_urcs
        return codes[self._turn % len(codes)]

    def sim_busy(self) -> bool:
        """True while the SIM is still starting after power-on."""
        return self._monotonic() - self.booted_at < self.config.sim_busy_s

    def reboot(self, *, announce: bool = True) -> None:
        """Power-on settings (echo on, PDU mode, no indications); storage is kept."""
        with self._lock:
            self._inbuf = bytearray()
            self._prompt_for: str | None = None
            self.echo = True
            self.cmee = 2 if self.config.cmee_words else 0
            self.cmgf = 0
            self.cscs = "GSM"
            self.s_registers: dict[int, int] = {}
            self.cnmi = [0, 0, 0, 0, 0]
            self.creg_n = 0
            self.cereg_n = 0
            self.cpms = ["SM", "SM", "SM"]
            self.sim_ready = self.pin is None
            self.booted_at = self._monotonic()
            self.periodic_on = bool(self.config.periodic_urcs)
            if announce:
                for line in self.config.boot_urcs:
                    if line == "+CPIN: READY" and not self.sim_ready:
                        self._urc("+CPIN: SIM PIN")
                        break
                    self._urc(line)

    def link_lost(self) -> None:
        """The port went away: partial input and unread output are gone."""
        with self._lock:
            self._inbuf.clear()
            self._prompt_for = None
            self._out.clear()
            if self.faults.hang is None:
                self.faults.hang = 0  # a re-enumeration is a power cycle

    # -- host input ------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        """Bytes written by the host."""
        with self._lock:
            for byte in data:
                self._byte(byte)

    def _byte(self, byte: int) -> None:
        if self._prompt_for is not None:
            self._prompt_byte(byte)
            return
        if byte in (0x0A, 0x00) and not self._inbuf:
            return
        if byte == 0x0D:
            line = self._inbuf.decode("latin-1").strip()
            self._inbuf.clear()
            if line:
                self._command_line(line)
            return
        if byte == ESC:
            self._inbuf.clear()
            return
        self._inbuf.append(byte)

    def _command_line(self, line: str) -> None:
        hang = False
        if line.upper().startswith(self.faults.hang_match):
            hang, self.faults.hang = take(self.faults.hang)
        if hang:
            log.debug("hanging: swallowed %r", line)
            return
        if self.echo:
            self._echo(line)
        if not line.upper().startswith("AT"):
            return  # modems ignore lines that are not commands
        body = line[2:]
        refuse, self.faults.refuse = take(self.faults.refuse)
        try:
            if refuse:
                raise SimError("error")
            groups, final = self._dispatch(body)
        except SimError as exc:
            groups, final = [], self._error_text(exc)
        except (ValueError, IndexError, KeyError) as exc:  # a malformed command: as modems do
            log.info("command %r failed: %s", line, exc)
            groups, final = [], "ERROR"
        if final is not None:
            self._respond(groups, final)

    def _echo(self, line: str) -> None:
        urc = self._periodic() if len(line) > 2 and self._turn % 3 == 0 else None
        if urc is not None:  # as a Huawei stick does: a report inside the echo
            self._emit(f"{line[:1]}\r\n{urc}\r\n\r\n{line[1:]}\r".encode("latin-1"))
        else:
            self._emit(line.encode("latin-1") + b"\r")
        if self.config.echo_twice and line.upper() == "ATE0":
            self._emit(line.encode("latin-1") + b"\r")

    def _prompt_byte(self, byte: int) -> None:
        if self.echo:
            self._emit(bytes([byte]))
        if byte == ESC:
            self._prompt_for, self._inbuf = None, bytearray()
            self._respond([], "OK")
        elif byte == CTRL_Z:
            target, payload = self._prompt_for, self._inbuf.decode("latin-1").strip()
            self._prompt_for, self._inbuf = None, bytearray()
            try:
                lines, final = self._finish_send(target or "", payload)
            except SimError as exc:
                lines, final = [], self._error_text(exc)
            except (ValueError, IndexError, KeyError) as exc:
                log.info("send failed: %s", exc)
                lines, final = [], "ERROR"
            if self.faults.send_hang > 0 and final == "OK":
                self.faults.send_hang -= 1  # sent, but the answer never comes
                self._report_due.clear()
                return
            self._respond(lines, final, self.config.send_seconds)
            while self._report_due:  # the network reports after +CMGS, never before
                self._status_report(*self._report_due.pop(0))
        elif byte not in (0x0D, 0x0A):
            self._inbuf.append(byte)

    def _respond(self, groups: list[list[str]], final: str, delay: float = 0.0) -> None:
        out = bytearray()
        if self.faults.garbage > 0:
            self.faults.garbage -= 1
            out += b"\r\n" + GARBAGE + b"\r\n"
        for i, group in enumerate(groups):
            lines = list(group)
            if len(lines) == 2 and lines[0].startswith(("+CMGL:", "+CMGR:")):
                urc = self._periodic()  # between the header and its PDU
                if urc is not None:
                    lines.insert(1, urc)
            out += ("\r\n" + "\r\n".join(lines) + "\r\n").encode("utf-8")
            if i == 0:
                inject, self.faults.urc_mid = take(self.faults.urc_mid)
                if inject:  # vendor and registration codes land between reply lines
                    out += b"\r\n^RSSI: 18\r\n\r\n+CEREG: 1\r\n"
        urc = self._periodic() if self._turn % 2 == 0 else None
        if urc is not None:
            out += f"\r\n{urc}\r\n".encode()
        out += f"\r\n{final}\r\n".encode()
        slow, self.faults.slow = take(self.faults.slow)
        self._emit(bytes(out), max(delay, self.faults.slow_delay if slow else 0.0))

    # -- command dispatch -----------------------------------------------------
    def _dispatch(self, body: str) -> tuple[list[list[str]], str | None]:
        """(response line groups, final result code); final None: answered elsewhere."""
        upper = body.upper()
        register = re.match(r"^S(\d{1,2})(\?|=(\d{1,3}))$", upper)
        if register:  # V.250 S-registers: stored, read back as three digits
            number = int(register.group(1))
            if number == 7 and not self.config.s7:
                raise SimError("error")
            if register.group(3) is None:
                return [[f"{self.s_registers.get(number, 0):03d}"]], "OK"
            self.s_registers[number] = int(register.group(3)) % 256
            return [], "OK"
        simple = SIMPLE.get(upper)
        if simple is not None:
            if upper in ("Z", "Z0") and self.config.atz_error:
                simple(self)
                raise SimError("error")
            return simple(self), "OK"
        match = re.match(r"^([+^][A-Z0-9]+|[A-Z&])(.*)$", upper)
        handler = HANDLERS.get(match.group(1)) if match else None
        if match is None or handler is None:
            raise SimError("error")
        result = handler(self, body[len(match.group(1)) :])
        if isinstance(result, NoReply):
            return [], None
        if isinstance(result, str):
            return [], result
        return result or [], "OK"

    def _error_text(self, exc: SimError) -> str:
        if exc.kind == "error":
            return self.config.plain_error
        if self.cmee == 0:
            return "ERROR"
        words = ERROR_WORDS.get((exc.kind, exc.code)) if self.cmee == 2 else None
        return f"+{exc.kind.upper()} ERROR: {words or exc.code}"

    def _need_sim(self, sms: bool = False) -> None:
        busy, self.faults.sim_busy = take(self.faults.sim_busy)
        if busy:
            raise SimError("cms", 314) if sms else SimError("cme", 14)
        if self.faults.no_sim:
            raise SimError("cms", 310) if sms else SimError("cme", 10)
        if self.sim_busy():
            c = self.config
            raise SimError("cms", c.busy_cms) if sms else SimError("cme", c.busy_cme)
        if not self.sim_ready:
            raise SimError("cms", 311) if sms else SimError("cme", 11)

    # -- deliveries from the network ------------------------------------------
    def deliver(self, sender: str, text: str) -> int:
        """An SMS from `sender` arrives (multipart when long); returns its part count."""
        with self._lock:
            ref, self._next_ref = self._next_ref, self._next_ref % 255 + 1
            try:
                parts = encode_deliver(sender, text, self._clock(), smsc=self.config.smsc,
                                       concat_ref=ref)
            except PduError as exc:
                raise ControlError(f"cannot deliver: {exc}") from exc
            if len(parts) > 1 and self.faults.reorder:
                self.faults.reorder = False
                parts.reverse()
            if len(parts) > 1 and self.faults.drop_part is not None:
                drop, self.faults.drop_part = self.faults.drop_part, None
                parts = [p for i, p in enumerate(parts, 1) if i != drop]
            self.network.extend(parts)
            self._drain_network()
            return len(parts)

    def deliver_pdu(self, pdu_hex: str) -> None:
        """A raw SMS-DELIVER (hex with SMSC part, not checked: it may be broken) arrives."""
        if not pdu_hex or len(pdu_hex) % 2 or any(c not in "0123456789abcdefABCDEF"
                                                   for c in pdu_hex):
            raise ControlError("deliver-pdu wants an even number of hex digits")
        with self._lock:
            self.network.append(pdu_hex.upper())
            self._drain_network()

    def _drain_network(self) -> None:
        mem = self.cpms[2]
        while self.network:
            if self.cnmi[1] == 2:
                pdu = self.network.pop(0)
                self._urc(f"+CMT: ,{tpdu_length(pdu)}", pdu)
                continue
            index = self._free_slot(mem)
            if index is None:
                if not self._full_announced:  # as Huawei sticks say it, once per filling
                    self._full_announced = True
                    self._urc(f'^SMMEMFULL: "{mem}"')
                return
            self._full_announced = False
            self.storage[mem][index] = Slot(0, self.network.pop(0))
            if self.cnmi[1] in (1, 3):
                self._urc(f'+CMTI: "{mem}",{index}')

    def _free_slot(self, mem: str) -> int | None:
        if self.faults.storage_full and mem != "SR":
            return None
        used = self.storage[mem]
        first = self.config.first_index
        return next((i for i in range(first, first + self.config.slots) if i not in used), None)

    # -- sending ------------------------------------------------------------------
    def _finish_send(self, target: str, payload: str) -> tuple[list[list[str]], str]:
        self._need_sim(sms=True)
        if self.faults.no_network is not None:
            raise SimError("cms", 331)
        failing = self.faults.send_error.pop(0) if self.faults.send_error else None
        if failing is not None and failing.upper() != "OK":  # "OK": this one goes through
            raise SimError("error") if failing.upper() == "ERROR" else SimError("cms", int(failing))
        if target.startswith("W:"):
            return self._write_to_storage(target[2:], payload)
        if self.cmgf == 0:
            record = self._decode_submit(target, payload)
        else:
            record = {"recipient": target, "text": payload, "concat": None, "srr": False}
        mr, self._next_mr = self._next_mr, (self._next_mr + 1) % 256
        record["mr"] = mr
        self.sent_parts.append(record)
        if record["srr"] and self.cnmi[3]:
            self._report_due.append((str(record["recipient"]), mr))
        return [[f"+CMGS: {mr}"]], "OK"

    def _write_to_storage(self, length: str, payload: str) -> tuple[list[list[str]], str]:
        """AT+CMGW: keep a message in mem2 as STO UNSENT; +CMS ERROR 322 when full."""
        index = self._free_slot(self.cpms[1])
        if index is None:
            raise SimError("cms", 322)
        if self.cmgf == 0 and (not length.isdigit() or tpdu_length(payload) != int(length)):
            raise SimError("cms", 304)
        self.storage[self.cpms[1]][index] = Slot(2, payload)
        return [[f"+CMGW: {index}"]], "OK"

    def _decode_submit(self, length: str, pdu_hex: str) -> dict[str, object]:
        try:
            pdu = decode_pdu(pdu_hex, direction="mo")
        except PduError as exc:
            log.info("rejected PDU: %s", exc)
            raise SimError("cms", 304) from exc
        if not length.isdigit() or tpdu_length(pdu_hex) != int(length):
            raise SimError("cms", 304)
        if pdu.smsc is None and self.faults.no_smsc != 0:
            raise SimError("cms", 330)
        concat = pdu.concat
        return {
            "recipient": pdu.recipient, "text": pdu.text, "srr": pdu.status_report_request,
            "concat": (concat.ref, concat.total, concat.seq) if concat else None,
        }

    def _status_report(self, recipient: str, mr: int) -> None:
        now = self._clock()
        pdu = encode_status_report(recipient, mr, 0, now, now, smsc=self.config.smsc)
        if self.cnmi[3] == 1:
            self._urc(f"+CDS: {tpdu_length(pdu)}", pdu)
            return
        index = self._free_slot("SR")
        if index is not None:
            self.storage["SR"][index] = Slot(0, pdu)
            self._urc(f'+CDSI: "SR",{index}')

    # -- control interface -------------------------------------------------------
    def control(self, line: str) -> str:
        """One control request line -> one reply line (see the module docstring)."""
        verb, _, rest = line.strip().partition(" ")
        try:
            if verb == "deliver":
                sender, _, text = rest.strip().partition(" ")
                if not sender or not text:
                    raise ControlError("usage: deliver FROM TEXT")
                return f"ok {self.deliver(sender, text)}"
            if verb == "deliver-pdu":
                self.deliver_pdu(rest.strip())
                return "ok 1"
            if verb == "sent":
                return json.dumps(self.sent())
            if verb == "stored":
                return json.dumps(self.stored())
            if verb == "status":
                return json.dumps(self.status())
            if verb == "fault":
                self.fault(*rest.split())
                return "ok"
            if verb == "clear":
                self.clear()
                return "ok"
            raise ControlError(f"unknown request {verb!r}")
        except (ControlError, ValueError, TypeError) as exc:
            return f"error: {exc}"

    def sent(self) -> list[dict[str, object]]:
        """Messages the modem sent, multipart joined: recipient, text, message_refs, parts."""
        with self._lock:
            groups: dict[object, dict[str, object]] = {}
            texts: dict[object, dict[int, str]] = {}
            for n, part in enumerate(self.sent_parts):
                concat = part["concat"]
                key = (part["recipient"], concat[0], concat[1]) if isinstance(concat, tuple) else n
                seq = concat[2] if isinstance(concat, tuple) else 1
                group = groups.setdefault(key, {
                    "recipient": part["recipient"], "message_refs": [], "parts": 0,
                    "total": concat[1] if isinstance(concat, tuple) else 1,
                    "status_report": part["srr"],
                })
                refs = group["message_refs"]
                assert isinstance(refs, list)
                refs.append(part["mr"])
                texts.setdefault(key, {})[seq] = str(part["text"])
            for gkey, record in groups.items():
                record["parts"] = len(texts[gkey])
                record["text"] = "".join(texts[gkey][s] for s in sorted(texts[gkey]))
            return list(groups.values())

    def stored(self) -> list[dict[str, object]]:
        """Every stored message: memory, index, stat, pdu."""
        with self._lock:
            return [
                {"memory": mem, "index": i, "stat": slot.stat, "pdu": slot.pdu}
                for mem, slots in self.storage.items() for i, slot in sorted(slots.items())
            ]

    def status(self) -> dict[str, object]:
        """Storage use, waiting messages, active faults, settings."""
        with self._lock:
            return {
                "storage": {m: len(s) for m, s in self.storage.items()}, "slots": self.config.slots,
                "waiting": len(self.network), "faults": self.faults.names(),
                "echo": self.echo, "cmgf": self.cmgf, "cnmi": self.cnmi, "cpms": self.cpms,
                "sim_ready": self.sim_ready, "sim_busy": self.sim_busy(),
                "profile": self.config.profile, "periodic_reports": self.periodic_on,
            }

    def fault(self, name: str, *args: str) -> None:
        """Inject fault `name` (see the module docstring)."""
        with self._lock:
            count = int(args[0]) if args and args[0].isdigit() else None
            f = self.faults
            if name == "hang":
                rest = args[1:] if count is not None else args
                f.hang, f.hang_match = count, (rest[0].upper() if rest else "")
            elif name == "refuse":
                f.refuse = count
            elif name == "slow":
                f.slow = count
                f.slow_delay = float(args[1]) if len(args) > 1 else 1.0
            elif name == "vanish":
                self.vanish_request = float(args[0]) if args else 0.3
                self._on_output()
            elif name == "garbage":
                f.garbage = count or 1
                self._emit(b"\r\n" + GARBAGE + b"\r\n")
            elif name == "send-error":
                code = args[0] if args else "ERROR"
                f.send_error = [code] * (int(args[1]) if len(args) > 1 else 1)
            elif name == "send-hang":
                f.send_hang = count or 1
            elif name == "sim-busy":
                f.sim_busy = count
            elif name == "no-sim":
                f.no_sim = True
            elif name == "pin":
                self.pin, self.sim_ready = (args[0] if args else "1234"), False
            elif name == "no-network":
                f.no_network = count if count is not None else 0
                self._registration_urc()
            elif name == "no-smsc":
                f.no_smsc = count
            elif name == "storage-full":
                f.storage_full = True
            elif name == "urc-mid":
                f.urc_mid = count
            elif name == "reorder":
                f.reorder = True
            elif name == "drop-part":
                f.drop_part = int(args[0]) if args else 2
            elif name == "boot":
                self.reboot()
            else:
                raise ControlError(f"unknown fault {name!r}")

    def clear(self) -> None:
        """Remove every fault; waiting messages arrive if there is room."""
        with self._lock:
            had_network = self.faults.no_network is not None
            self.faults = Faults()
            if had_network:
                self._registration_urc()
            self._drain_network()

    def _registration_urc(self) -> None:
        stat = self.reg_stat()
        if self.creg_n:
            self._urc(f"+CREG: {stat}")
        if self.cereg_n:
            self._urc(f"+CEREG: {stat}")

    def reg_stat(self) -> int:
        """Registration <stat>: 1 home unless the no-network fault says otherwise."""
        return 1 if self.faults.no_network is None else self.faults.no_network
