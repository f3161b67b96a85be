"""The GSM modem driver: start-up, SMS in PDU mode, status reports, recovery.

A `Modem` is given an `AtChannel` (it does not inherit one). It survives the races of a
modem starting up (no answer yet, SIM busy, PIN wanted, no SMSC yet), chooses message
storage (+CPMS) and indications (+CNMI) from what the modem says it supports, sends
single and multipart messages (one AT+CMGS per part), lists, reads and deletes stored
messages, turns unsolicited codes into events, and recovers from a modem that stops
answering (probe, reconfigure) or a port that disappears (reopen by URL with backoff).
Every retry is bounded: a SIM still busy after power-on is waited for at most `sim_wait`
seconds, by a `WaitClock` (real time, or a test's). Phone numbers appear masked, and only
in DEBUG logs. The values it returns and the pure reply parsers are in `modem_values`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sms_gateway.at import AtChannel, Urc, first_line, split_params
from sms_gateway.errors import (
    AtCommandError,
    AtTimeout,
    CmeError,
    CmsError,
    ModemError,
    PinRequired,
    PortError,
    SendError,
)
from sms_gateway.modem_values import (
    REG_STATES,
    IncomingMessage,
    ModemEvent,
    ModemInfo,
    NetworkChange,
    NewMessage,
    Registration,
    Rescan,
    Signal,
    StatusReport,
    StorageUse,
    StoredMessage,
    all_params,
    choose_cnmi,
    choose_storage,
    decode_stored,
    int_or_none,
    last_int,
    parse_signal,
    records,
    report,
)
from sms_gateway.pdu import encode_submit
from sms_gateway.phones import mask

__all__ = [
    "SIM_WAIT_DEFAULT", "WAIT_CLOCK", "IncomingMessage", "Modem", "ModemEvent", "ModemInfo",
    "ModemSettings", "NetworkChange", "NewMessage", "PinRequired", "Registration", "Rescan",
    "Signal", "StatusReport", "StorageUse", "StoredMessage", "WaitClock", "choose_cnmi",
    "choose_storage", "decode_stored", "parse_signal", "sim_busy",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

# The SIM (or the modem reading it) is still starting: wait, bounded by sim_wait.
# CME 14 SIM busy, CME 515 / CMS 515 "please wait, init in progress", CMS 314 SIM busy,
# CMS 310 "SIM not inserted" (SIMCom and Qualcomm sticks say it while the SIM starts).
SIM_BUSY = {("cme", 14), ("cme", 515), ("cms", 310), ("cms", 314), ("cms", 515)}
# The same in words (AT+CMEE=2, or a modem that keeps it so): +CME ERROR: SIM busy.
SIM_BUSY_TEXTS = {
    ("cme", "sim busy"), ("cms", "sim busy"), ("cme", "sim not ready"),
    ("cms", "sim not ready"), ("cms", "sim not inserted"),
    ("cme", "please wait, init or command processing in progress."),
    ("cme", "please wait, init or command processing in progress"),
    ("cms", "please wait, init or command processing in progress"),
}
SIM_STARTING = {"NOT READY", "BUSY", "SIM BUSY"}  # +CPIN: answers while the SIM starts
SIM_WAIT_DEFAULT = 30.0  # seconds a SIM may stay busy after power-on (10-20 s are seen)
# A message found in a memory other than ours (stored there before the modem was configured
# again) is known by (position of its memory in AT+CPMS=?, plus one) * STRAY_BASE + index.
STRAY_BASE = 100_000
# +CMS codes after which the part was certainly not sent and may be tried again.
SEND_RETRY_CODES = {None, 302, 304, 314, 330, 331, 332, 500, 512, 513, 515}
# A modem that (re)started says so: SIMCom/Quectel RDY, Cinterion ^SYSSTART, SIMCom A76xx
# *ATREADY. Its settings are gone: configure it again.
BOOT_URCS = {"RDY", "^SYSSTART", "*ATREADY", "+ATREADY"}
# Storage-full codes (Huawei ^SMMEMFULL, SIMCom +CIEV "SMSFULL"/"MESSAGE" style).
FULL_URCS = {"^SMMEMFULL", "+CIEV"}


@dataclass(frozen=True)
class WaitClock:
    """How the driver waits between tries: real time, or a test's own time."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic


# The clock every Modem waits by unless it is given one; `palaute sms modem-info`,
# `selftest` and the service build theirs from a URL, so tests swap in a fake clock here.
WAIT_CLOCK = WaitClock()


@dataclass(frozen=True)
class ModemSettings:
    """How to reach and drive one modem; times in seconds."""

    url: str
    pin: str | None = None
    smsc: str | None = None  # written with AT+CSCA when the SIM has none
    baudrate: int = 115200
    command_timeout: float = 10.0
    send_timeout: float = 120.0  # AT+CMGS may take this long on a busy network
    retries: int = 5  # start-up tries: no answer, no SMSC yet
    retry_delay: float = 2.0
    sim_wait: float = SIM_WAIT_DEFAULT  # how long a SIM may stay busy after power-on
    send_retries: int = 2  # a part the modem refused is tried this many more times
    reopen_attempts: int = 8
    reopen_delay: float = 0.5  # first backoff, doubling up to reopen_max_delay
    reopen_max_delay: float = 10.0
    validity: timedelta | None = timedelta(days=2)


class Modem:
    """One GSM modem behind an AtChannel. Use from one thread; close() may be called twice."""

    def __init__(
        self,
        channel: AtChannel,
        settings: ModemSettings,
        *,
        clock: WaitClock | None = None,
    ) -> None:
        self.channel = channel
        self.settings = settings
        clock = clock or WAIT_CLOCK
        self._sleep = clock.sleep
        self._monotonic = clock.monotonic
        self.manufacturer: str | None = None
        self._events: deque[ModemEvent] = deque()
        self._undecodable: set[int] = set()
        self._cnmi: str | None = None
        self._cpms: list[str] = ["SM", "SM", "SM"]
        self._readable: list[str] = []  # the memories AT+CPMS=? lets us read, in its order
        self._strays: set[str] = set()  # other memories that held messages at configuration
        self._sms = True
        self._pdu_smsc: str | None = None
        self._concat_ref = int(time.time()) % 255 + 1
        self._token = int(time.time()) % 250
        self.recoveries = 0
        self.reopens = 0

    @classmethod
    def from_url(cls, url: str, *, clock: WaitClock | None = None, **settings: Any) -> Modem:
        """A Modem on a new AtChannel for `url` (not yet started)."""
        config = ModemSettings(url=url, **settings)
        return cls(AtChannel(url, baudrate=config.baudrate), config, clock=clock)

    def __enter__(self) -> Modem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the port."""
        self.channel.close()

    # -- start-up ---------------------------------------------------------------
    def start(self, *, sms: bool = True) -> None:
        """Open the port (with backoff) and bring the modem up; `sms=False` stops after
        the SIM is ready (enough for modem-info)."""
        self._sms = sms
        if self.channel.is_lost:
            self._open_with_backoff()
        self._initialise()
        self._events.append(Rescan("start"))

    def _initialise(self) -> None:
        self._wake()
        self._tolerate(self._retry_timeout, "ATZ")  # some answer ERROR and reset anyway
        self._cmd("ATE0")
        self._tolerate(self._cmd, "AT+CMEE=1")
        self._quiet_reports()
        self._unlock_sim()
        if self._sms:
            self._setup_sms()
        log.info("modem on %s ready", self.settings.url)

    def _tolerate(self, action: Callable[[str], object], command: str) -> None:
        try:
            action(command)
        except AtCommandError as exc:
            log.info("%s refused (%s); going on", command, exc.text)

    def _quiet_reports(self) -> None:
        """Who made the modem (AT+CGMI); on Huawei, AT^CURC=0 stops the periodic reports
        (^RSSI, ^HCSQ, ^MODE, ^DSFLOWRPT...) that otherwise come in the middle of replies."""
        try:
            lines = self._cmd("AT+CGMI")
        except AtCommandError as exc:
            log.info("AT+CGMI refused (%s): maker unknown", exc.text)
            return
        self.manufacturer = lines[0].split(":", 1)[-1].strip().strip('"') if lines else None
        if self.manufacturer and "HUAWEI" in self.manufacturer.upper():
            self._tolerate(self._cmd, "AT^CURC=0")

    def _wake(self) -> None:
        """ESC (leave a prompt a crashed run left open), then probe until the modem answers.
        A modem that answered, but not as expected, is never said not to answer: the
        error says what it answered."""
        probe = min(self.settings.command_timeout, 2.0)
        answers: list[str] = []  # what the modem answered, in order, once each
        for attempt in range(1, self.settings.retries + 1):
            try:
                self.channel.write_raw(b"\x1b")
                if self._sync(probe, answers):
                    return
            except AtTimeout as exc:
                log.info("modem does not answer yet (try %d/%d): %s", attempt,
                         self.settings.retries, exc)
                _note(answers, f"{exc.command} -> no answer within {exc.timeout:g} s")
            self._sleep(self.settings.retry_delay)
        if any("no answer" not in a for a in answers):
            raise ModemError(f"modem on {self.settings.url} answered, but not to the probe, "
                             f"in {self.settings.retries} tries: {'; '.join(answers)}")
        raise ModemError(f"modem on {self.settings.url} does not answer "
                         f"after {self.settings.retries} tries")

    def _sync(self, timeout: float, answers: list[str]) -> bool:
        """Probe with a reply no earlier command can have given: S7 (V.250, the carrier
        wait, unused for SMS) set to a fresh value and read back. Late answers to commands
        that timed out are skipped (AtChannel.command `expect`), never taken for ours.
        Without S7, +CMEE? tells our answer apart; a modem that has neither is accepted
        when it answers plain AT with OK. What it answered is noted in `answers`."""
        self._token = self._token % 250 + 1
        token = self._token
        try:
            self._cmd(f"ATS7={token}", timeout)
            self.channel.command("ATS7?", timeout, expect=lambda line: int_or_none(line) == token)
            return True
        except AtCommandError as exc:
            _note(answers, f"ATS7 -> {exc.text}")
        try:
            lines = self.channel.command("AT+CMEE?", timeout)
            if first_line(lines, "+CMEE") is not None:
                return True
            _note(answers, "AT+CMEE? -> " + " / ".join([*lines, "OK"]))
        except AtCommandError as exc:
            _note(answers, f"AT+CMEE? -> {exc.text}")
        try:
            self.channel.command("AT", timeout)
        except AtCommandError as exc:
            _note(answers, f"AT -> {exc.text}")
            return False
        log.info("modem answers plain AT only (%s)", "; ".join(answers))
        return True

    def _retry_timeout(self, command: str) -> list[str]:
        for attempt in range(1, self.settings.retries + 1):
            try:
                return self._cmd(command)
            except AtTimeout:
                if attempt == self.settings.retries:
                    raise
                log.info("%s timed out (try %d/%d)", command, attempt, self.settings.retries)
                self._sleep(self.settings.retry_delay)
        raise AssertionError("unreachable")

    def _cmd(self, command: str, timeout: float | None = None) -> list[str]:
        return self.channel.command(command, timeout or self.settings.command_timeout)

    def _sim_cmd(self, command: str, timeout: float | None = None) -> list[str]:
        """A command that fails while the SIM is busy starting: wait and retry, for at
        most `sim_wait` seconds (a SIM can stay busy 10-20 s after power-on)."""
        deadline = self._monotonic() + self.settings.sim_wait
        while True:
            try:
                return self._cmd(command, timeout)
            except (CmeError, CmsError) as exc:
                if not sim_busy(exc):
                    raise
                left = deadline - self._monotonic()
                if left <= 0:
                    raise ModemError(
                        f"{exc.command}: the SIM is still busy after "
                        f"{self.settings.sim_wait:g} s ({exc.text}); if it needs longer, "
                        "raise sim_wait_s in [sms]") from exc
                log.info("%s: SIM busy (%s), waiting (%.0f s left)", command, exc.text, left)
                self._sleep(min(self.settings.retry_delay, left))

    def _settled_sim_state(self) -> str:
        """AT+CPIN? until the SIM has finished starting (NOT READY), within sim_wait."""
        deadline = self._monotonic() + self.settings.sim_wait
        while True:
            state = self.sim_state()
            left = deadline - self._monotonic()
            if state.upper() not in SIM_STARTING:
                return state
            if left <= 0:
                raise ModemError(f"the SIM is still starting after {self.settings.sim_wait:g} "
                                 f"s (+CPIN: {state}); if it needs longer, raise sim_wait_s "
                                 "in [sms]")
            log.info("SIM not ready yet (+CPIN: %s), waiting (%.0f s left)", state, left)
            self._sleep(min(self.settings.retry_delay, left))

    def _unlock_sim(self) -> None:
        state = self._settled_sim_state()
        if state == "READY":
            return
        if state == "SIM PIN" and self.settings.pin:
            log.info("entering the SIM PIN from the configuration")
            try:
                self._sim_cmd(f'AT+CPIN="{self.settings.pin}"')
            except CmeError as exc:  # never try again: the SIM locks after three
                raise PinRequired(f"the SIM refused the configured PIN (+CME ERROR: "
                                  f"{exc.code})") from exc
            if self._settled_sim_state() == "READY":
                return
            raise ModemError("the SIM did not become ready after the PIN")
        if state == "SIM PIN":
            raise PinRequired("the SIM wants a PIN: set it in the configuration (--pin)")
        raise PinRequired(f"the SIM is not usable: {state} (not guessing codes)")

    def _setup_sms(self) -> None:
        self._sim_cmd("AT+CMGF=0")
        self._check_smsc()
        supported = first_line(self._sim_cmd("AT+CPMS=?"), "+CPMS")
        self._cpms = choose_storage(supported or '("SM"),("SM"),("SM")')
        self._look_in_other_memories(supported or "")
        self._sim_cmd("AT+CPMS=" + ",".join(f'"{m}"' for m in self._cpms))
        try:
            cnmi = choose_cnmi(first_line(self._cmd("AT+CNMI=?"), "+CNMI") or "")
        except AtCommandError:
            cnmi = "2,1,0,1,0"
        for candidate in (cnmi, "2,1,0,2,0", "2,1,0,0,0", "1,1,0,0,0"):
            try:
                self._sim_cmd(f"AT+CNMI={candidate}")
                self._cnmi = candidate
                break
            except AtCommandError as exc:
                log.info("AT+CNMI=%s refused (%s)", candidate, exc.text)
        else:
            raise ModemError("the modem accepts no new-message indications (AT+CNMI)")
        try:
            self._cmd("AT+CREG=1")  # registration changes as +CREG: <stat>
        except AtCommandError as exc:
            log.info("no unsolicited registration codes: %s", exc.text)
        log.info("storage %s, indications AT+CNMI=%s", "/".join(self._cpms), self._cnmi)

    def _look_in_other_memories(self, supported: str) -> None:
        """Messages in a memory we do not store in (a modem that restarted stores in its
        default memory until it is configured again): read them from there too, until it
        is empty (list_messages, read and delete know them by their own indexes)."""
        self._readable = split_params(split_params(supported)[0].strip("()")) if supported \
            else []
        self._strays = set()
        for memory in self._readable:
            if memory in (self._cpms[0], "SR", "MT", ""):
                continue
            try:
                params = split_params(first_line(self._sim_cmd(f'AT+CPMS="{memory}"'),
                                                 "+CPMS") or "")
            except AtCommandError:
                continue
            if params and params[0].isdigit() and int(params[0]) > 0:
                self._strays.add(memory)
                log.warning("%s message(s) were stored in %s before the modem was configured "
                            "(it now stores in %s): reading them from there", params[0],
                            memory, self._cpms[0])

    def _where(self, index: int) -> tuple[str | None, int]:
        """(the other memory, its index) of a message known by a stray index; else
        (None, index)."""
        if index < STRAY_BASE or not self._readable:
            return None, index
        return self._readable[min(index // STRAY_BASE - 1, len(self._readable) - 1)], \
            index % STRAY_BASE

    def _in_memory(self, memory: str, command: str, timeout: float | None = None) -> list[str]:
        """`command` with `memory` selected for reading and deleting, then ours again."""
        self._sim_cmd("AT+CPMS=" + ",".join(f'"{m}"' for m in [memory, *self._cpms[1:]]))
        try:
            return self._sim_cmd(command, timeout)
        finally:
            self._sim_cmd("AT+CPMS=" + ",".join(f'"{m}"' for m in self._cpms))

    def _check_smsc(self) -> None:
        """No SMSC yet: some SIMs load it late, so wait; then use the configured one."""
        for attempt in range(1, self.settings.retries + 1):
            params = first_line(self._sim_cmd("AT+CSCA?"), "+CSCA")
            if params and split_params(params)[0]:
                self._pdu_smsc = None
                return
            if attempt < self.settings.retries:
                log.info("no SMSC address on the SIM yet (try %d/%d)", attempt,
                         self.settings.retries)
                self._sleep(self.settings.retry_delay)
        if self.settings.smsc:
            self._sim_cmd(f'AT+CSCA="{self.settings.smsc}",145')
            self._pdu_smsc = self.settings.smsc  # also put it in each PDU
            log.warning("SIM had no SMSC address: using the configured one")
        else:
            log.warning("SIM has no SMSC address and none is configured: sending will fail")

    # -- recovery -----------------------------------------------------------------
    def _call(self, action: Callable[[], T], what: str) -> T:
        """Run `action`; after a timeout reset the modem, after a lost port reopen it, then
        run it once more (only idempotent actions come here)."""
        try:
            return action()
        except PortError as exc:
            log.warning("%s: %s; reopening the port", what, exc)
            self._reopen()
        except AtTimeout as exc:
            log.warning("%s: %s; resetting the modem", what, exc)
            self._recover()
        return action()

    def _recover(self) -> None:
        """The modem stopped answering: probe it (bounded), reopen if the port went, and
        configure it again (a silent reboot loses every setting)."""
        self.recoveries += 1
        try:
            self._initialise()
        except PortError:
            self._reopen()
            return
        self._events.append(Rescan("modem reset"))

    def _reopen(self) -> None:
        self.reopens += 1
        self.channel.close()
        self._open_with_backoff()
        self._initialise()
        self._events.append(Rescan("port reopened"))

    def _open_with_backoff(self) -> None:
        delay = self.settings.reopen_delay
        attempts = self.settings.reopen_attempts
        for attempt in range(1, attempts + 1):
            try:
                self.channel.open()
                if attempt > 1:
                    log.warning("modem port %s open again (try %d)", self.settings.url, attempt)
                return
            except PortError as exc:
                if attempt == attempts:
                    raise PortError(f"{exc} (gave up after {attempts} tries)") from exc
                log.warning("%s (try %d/%d, next in %.1f s)", exc, attempt, attempts, delay)
                self._sleep(delay)
                delay = min(delay * 2, self.settings.reopen_max_delay)

    def health_check(self) -> None:
        """Probe the modem; reconfigure it when it rebooted silently (indications gone)."""
        lines = self._call(lambda: self._cmd("AT+CNMI?"), "health check")
        current = (first_line(lines, "+CNMI") or "").replace(" ", "")
        if self._sms and self._cnmi and current != self._cnmi:
            log.warning("modem lost its settings (rebooted?): configuring it again")
            self._call(self._initialise, "reconfigure")
            self._events.append(Rescan("modem rebooted"))

    # -- sending --------------------------------------------------------------------
    def send(self, to: str, text: str, *, status_report: bool = True) -> list[int]:
        """Send `text` to `to` (several AT+CMGS when multipart); the message references.

        Raises SendError: `sent_refs` are the parts that went out, `unknown` is True when
        the last part may have gone out too (then never send it again blindly)."""
        ref, self._concat_ref = self._concat_ref, self._concat_ref % 255 + 1
        parts = encode_submit(to, text, smsc=self._pdu_smsc, status_report=status_report,
                              validity=self.settings.validity, concat_ref=ref)
        refs: list[int] = []
        for number, part in enumerate(parts, 1):
            refs.append(self._send_part(part.hex, part.tpdu_length, refs))
            log.debug("part %d/%d to %s sent: mr %d", number, len(parts), mask(to), refs[-1])
        log.info("sent a %d-part message (refs %s)", len(parts), refs)
        return refs

    def _send_part(self, pdu_hex: str, length: int, refs: list[int]) -> int:
        command = f"AT+CMGS={length}"
        if self.channel.is_lost:
            self._reopen()
        for attempt in range(self.settings.send_retries + 1):
            last = attempt == self.settings.send_retries
            try:
                lines = self.channel.send_pdu(
                    command, pdu_hex, prompt_timeout=self.settings.command_timeout,
                    timeout=self.settings.send_timeout)
            except AtCommandError as exc:  # the modem refused: certainly not sent
                code = exc.code if isinstance(exc, CmsError | CmeError) else None
                if last or code not in SEND_RETRY_CODES:
                    raise SendError(f"{command}: {exc.text}", list(refs)) from exc
                log.warning("%s refused (%s); trying again (%d/%d)", command, exc.text,
                            attempt + 1, self.settings.send_retries)
                self._sleep(self.settings.retry_delay)
                continue
            except (AtTimeout, PortError) as exc:
                if getattr(exc, "written", False):  # set by send_pdu once the PDU is out
                    self._recover_quietly()
                    raise SendError(f"{command}: {exc}; the outcome is unknown", list(refs),
                                    unknown=True) from exc
                log.warning("%s: %s before the PDU went out; recovering", command, exc)
                self._recover_quietly()
                if last:
                    raise SendError(f"{command}: {exc}", list(refs)) from exc
                continue
            mr = first_line(lines, "+CMGS")
            if mr is None or not split_params(mr)[0].isdigit():
                raise SendError(f"{command}: no message reference in {lines!r}", list(refs),
                                unknown=True)
            return int(split_params(mr)[0])
        raise AssertionError("unreachable")

    def _recover_quietly(self) -> None:
        """Recover after a failed send without masking the send's own error."""
        try:
            if self.channel.is_lost:
                self._reopen()
            else:
                self._recover()
        except ModemError as exc:
            log.error("modem recovery failed: %s", exc)

    # -- storage ------------------------------------------------------------------
    def list_messages(self, status: int = 4) -> list[StoredMessage]:
        """AT+CMGL=<status> (4: all): every stored message, decoded or kept raw; also those
        left in another memory from before the modem was configured (see STRAY_BASE)."""
        lines = self._call(lambda: self._sim_cmd(f"AT+CMGL={status}", self._long()), "list")
        messages = self._listed(lines, 0)
        for memory in sorted(self._strays, key=self._readable.index):
            base = (self._readable.index(memory) + 1) * STRAY_BASE
            found = self._listed(self._call(_bind(
                lambda m: self._in_memory(m, f"AT+CMGL={status}", self._long()), memory),
                "list"), base)
            if not found:
                self._strays.discard(memory)
                log.info("no more messages in %s", memory)
            messages.extend(found)
        return messages

    def _listed(self, lines: list[str], base: int) -> list[StoredMessage]:
        messages = []
        for header, pdu_hex in records(lines, "+CMGL"):
            params = split_params(header)
            if not params[0].isdigit():
                log.warning("unreadable +CMGL header kept aside: %r", header)
                continue
            messages.append(self._stored(base + int(params[0]), params[1:], pdu_hex))
        return messages

    def read(self, index: int) -> StoredMessage:
        """AT+CMGR=<index>: one stored message (it becomes "read" on the modem)."""
        memory, at = self._where(index)
        command = f"AT+CMGR={at}"
        lines = self._call(lambda: self._in_memory(memory, command) if memory
                           else self._sim_cmd(command), "read")
        for header, pdu_hex in records(lines, "+CMGR"):
            return self._stored(index, split_params(header), pdu_hex)
        raise ModemError(f"{command}: no message in the reply")

    def delete(self, index: int, *, force: bool = False) -> None:
        """AT+CMGD=<index>. A message that did not decode is refused unless `force`
        (its raw PDU must have been saved first)."""
        if index in self._undecodable and not force:
            raise ModemError(f"message {index} did not decode; it is kept on the modem "
                             "(save its raw PDU, then delete with force=True)")
        memory, at = self._where(index)
        command = f"AT+CMGD={at}"
        self._call(lambda: self._in_memory(memory, command) if memory
                   else self._sim_cmd(command), "delete")
        self._undecodable.discard(index)

    def _stored(self, index: int, params: list[str], pdu_hex: str) -> StoredMessage:
        stat = int(params[0]) if params and params[0].isdigit() else -1
        length = int(params[-1]) if params and params[-1].isdigit() else None
        message, error = decode_stored(pdu_hex, length)
        if message is None:
            self._undecodable.add(index)
            log.warning("stored message %d did not decode (kept raw): %s", index, error)
        else:
            self._undecodable.discard(index)
        return StoredMessage(index, stat, pdu_hex, message, error)

    def _long(self) -> float:
        return max(self.settings.command_timeout, 30.0)  # a full SIM lists slowly

    # -- events ---------------------------------------------------------------------
    def poll_events(self, timeout: float = 1.0) -> list[ModemEvent]:
        """Turn waiting unsolicited codes into events, waiting up to `timeout` for the
        first; reopens a lost port (then a Rescan event says storage must be listed)."""
        if self.channel.is_lost:
            self._reopen()
        events: list[ModemEvent] = list(self._events)
        self._events.clear()
        urc = self.channel.get_urc(0 if events else timeout)
        while urc is not None:
            events.extend(self._interpret(urc))
            urc = self.channel.get_urc(0)
        events.extend(self._events)
        self._events.clear()
        if self.channel.is_lost:
            self._reopen()
            events.extend(self._events)
            self._events.clear()
        return events

    def _interpret(self, urc: Urc) -> list[ModemEvent]:
        params = split_params(urc.args) if urc.args else []
        if urc.name == "+CMTI" and len(params) >= 2 and params[1].isdigit():
            memory = params[0].upper()
            if memory != self._cpms[0] and memory in self._readable and memory != "SR":
                self._strays.add(memory)  # stored where we do not store: read it there
            return [NewMessage(params[0], int(params[1]))]
        if urc.name == "+CMT" and urc.data:
            length = int(params[-1]) if params and params[-1].isdigit() else None
            message, error = decode_stored(urc.data, length)
            return [IncomingMessage(urc.data, message, error)]
        if urc.name == "+CDS" and urc.data:
            length = int(params[0]) if params and params[0].isdigit() else None
            return [report(urc.data, length)]
        if urc.name == "+CDSI" and len(params) >= 2 and params[1].isdigit():
            return self._stored_report(params[0], int(params[1]))
        if urc.name in ("+CREG", "+CEREG", "+CGREG") and params and params[0].isdigit():
            stat = int(params[0])
            return [NetworkChange(stat, REG_STATES.get(stat, "unknown"))]
        if urc.name in FULL_URCS and (urc.name != "+CIEV" or "FULL" in urc.line.upper()):
            log.warning("modem storage is full (%s): messages wait in the network", urc.line)
            return [Rescan("storage full")]
        if urc.name in BOOT_URCS:
            log.warning("modem rebooted (%s): configuring it again", urc.line)
            self._call(self._initialise, "reconfigure after reboot")
            return [Rescan("modem rebooted")]
        log.debug("unsolicited code not used: %s", urc.line)
        return []

    def _stored_report(self, memory: str, index: int) -> list[ModemEvent]:
        """+CDSI: read the report from its memory, delete it, go back to our storage."""
        mems = [memory, *self._cpms[1:]]
        try:
            self._sim_cmd("AT+CPMS=" + ",".join(f'"{m}"' for m in mems))
            lines = self._sim_cmd(f"AT+CMGR={index}")
            reports = [report(pdu, last_int(header)) for header, pdu in
                       records(lines, "+CMGR")]
            self._sim_cmd(f"AT+CMGD={index}")
            return list(reports)
        except AtCommandError as exc:
            log.warning("status report %s/%d unreadable: %s", memory, index, exc)
            return []
        finally:
            self._sim_cmd("AT+CPMS=" + ",".join(f'"{m}"' for m in self._cpms))

    # -- queries (methods, never properties: each does I/O) ---------------------------
    def signal(self) -> Signal:
        """AT+CSQ."""
        lines = self._call(lambda: self._cmd("AT+CSQ"), "signal")
        return parse_signal(first_line(lines, "+CSQ") or "99,99")

    def registration(self) -> Registration:
        """AT+CREG? and AT+CEREG? (when supported); the better of the two."""
        found: list[Registration] = []
        for prefix, tech in (("+CREG", "gsm"), ("+CEREG", "lte")):
            try:
                lines = self._call(_bind(self._cmd, f"AT{prefix}?"), "registration")
            except AtCommandError:
                continue
            for params in all_params(lines, prefix):  # <n>,<stat>: not a +CREG: <stat> URC
                if len(params) >= 2 and params[0].isdigit() and params[1].isdigit():
                    stat = int(params[1])
                    found.append(Registration(stat, REG_STATES.get(stat, "unknown"), tech))
                    break
        if not found:
            raise ModemError("the modem reports no registration (AT+CREG?)")
        return next((r for r in found if r.registered), found[0])

    def sim_state(self) -> str:
        """AT+CPIN?: READY, SIM PIN, SIM PUK, ... (ABSENT when there is no SIM)."""
        try:
            lines = self._sim_cmd("AT+CPIN?")
        except CmeError as exc:
            if exc.code == 10 or exc.text.upper().endswith("SIM NOT INSERTED"):
                return "ABSENT"
            raise
        return (first_line(lines, "+CPIN") or "UNKNOWN").strip('"')

    def storage(self) -> list[StorageUse]:
        """AT+CPMS?: use of each selected memory."""
        params = split_params(first_line(self._call(lambda: self._sim_cmd("AT+CPMS?"),
                                                    "storage"), "+CPMS") or "")
        out = []
        for i in range(0, len(params) - 2, 3):
            if params[i + 1].isdigit() and params[i + 2].isdigit():
                out.append(StorageUse(params[i], int(params[i + 1]), int(params[i + 2])))
        return out

    def info(self) -> ModemInfo:
        """Manufacturer, model, IMEI, SIM, signal, registration, storage; None where the
        modem would not say."""

        def ask(action: Callable[[], T]) -> T | None:
            try:
                return action()
            except (AtCommandError, AtTimeout) as exc:
                log.info("modem info: %s", exc)
                return None

        def plain(command: str) -> str | None:
            lines = ask(lambda: self._cmd(command))
            return lines[0].split(":", 1)[-1].strip() if lines else None

        return ModemInfo(
            manufacturer=plain("AT+CGMI"), model=plain("AT+CGMM"), imei=plain("AT+CGSN"),
            sim=ask(self.sim_state), signal=ask(self.signal),
            registration=ask(self.registration), storage=ask(self.storage) or [],
        )


def _bind(function: Callable[[str], T], argument: str) -> Callable[[], T]:
    return lambda: function(argument)


def sim_busy(exc: AtCommandError) -> bool:
    """True when `exc` says the SIM is still starting (by code, or in words)."""
    kind = "cme" if isinstance(exc, CmeError) else "cms" if isinstance(exc, CmsError) else ""
    words = exc.text.partition(":")[2].strip().lower()
    return (kind, exc.code) in SIM_BUSY or (kind, words) in SIM_BUSY_TEXTS


def _note(answers: list[str], answer: str) -> None:
    if answer not in answers:
        answers.append(answer)
