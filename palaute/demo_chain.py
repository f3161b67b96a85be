"""The demo's plumbing: configuration files, service processes, and the phones on the network.

`write_configs` writes what a technician would: one TOML file per device (an SMS
gateway and two kiosks, each with its store, survey and broker account) and one
for the central, plus the broker's configuration from `palaute central
broker-config`'s library. `Processes` runs `palaute …` commands each in its own
process group and stops every one of them, whatever happens. `PhoneNetwork` is the
thin thread between the simulated modem and the people: it reads what the modem
sent, asks `demo_people.on_sms` what each person answers, and delivers the reply
after the person's delay.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from central.broker import DeviceAccount, ListenerOptions, write_broker_config
from hardware.modem_sim import ModemCore
from palaute.demo_people import Persona, Phone, on_sms
from palaute.demo_web import web_section
from survey.definition import shipped_survey_path
from survey.errors import PalauteError
from survey.model import Survey

log = logging.getLogger(__name__)

SITE = "demo"
AREA = "sairaalapalvelut"
GATEWAY, LOBBY, BUTTONS = "demo-gateway-1", "demo-lobby-1", "demo-lobby-2"
# Seconds an SMS session stays open: long enough for the slowest simulated person,
# short enough that a silent one's session (and a half-answered response) closes
# within the demo. [sms] session_hours takes hours.
SESSION_SECONDS = 45.0
STOP_TIMEOUT = 10.0


class DemoError(PalauteError):
    """The demo cannot go on (a service died, a command failed)."""


@dataclass(frozen=True)
class Folders:
    """Where the demo keeps everything (all under `root`)."""

    root: Path

    @property
    def surveys(self) -> Path:
        return self.root / "surveys"

    @property
    def broker(self) -> Path:
        return self.root / "broker"

    @property
    def central(self) -> Path:
        return self.root / "central"

    def device(self, name: str) -> Path:
        return self.root / name

    def config(self, name: str) -> Path:
        return self.root / name / "device.toml" if name != "central" else \
            self.root / "central" / "central.toml"

    def store(self, name: str) -> Path:
        return self.root / name / "store.sqlite"

    @property
    def central_db(self) -> Path:
        return self.central / "central.sqlite"

    @property
    def modem_link(self) -> Path:
        return self.device(GATEWAY) / "modem"

    @property
    def modem_control(self) -> Path:
        return self.device(GATEWAY) / "modem.ctl"


def _device_toml(device: str, unit: str, port: int, extra: str) -> str:
    return f"""# Written by `palaute demo`: the {device} device of the demo site.
[device]
id = "{device}"
site = "{SITE}"
area = "{AREA}"
unit = "{unit}"
store = "store.sqlite"

[survey]
file = "../surveys/national.toml"

[mqtt]
url = "mqtt://127.0.0.1:{port}"
username = "{device}"
password_file = "../broker/passwords/{device}.pass"
reconnect_min = 0.5
reconnect_max = 2

[sync]
poll_interval = 0.5
ack_timeout = 5
heartbeat_seconds = 5
{extra}"""


def register_devices(folders: Folders, units: list[tuple[str, str]]) -> None:
    """Put the demo's devices in the central's registry, as broker-config --db would."""
    from central import registry
    from central.store import open_central

    now = datetime.now(UTC)
    folders.central_db.parent.mkdir(parents=True, exist_ok=True)
    with open_central(f"sqlite:///{folders.central_db}") as store:
        for device, unit in units:
            registry.register(store, registry.DeviceOrigin(device, SITE, AREA, unit),
                              action="register", actor="palaute demo", at=now)


def write_configs(folders: Folders, port: int, web_port: int | None = None) -> str:
    """Write the survey, every config file and the broker's files; returns the broker config.

    With `web_port` the central also serves its web page there (palaute.demo_web)."""
    folders.surveys.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shipped_survey_path("national"), folders.surveys / "national.toml")
    accounts = [DeviceAccount(d, SITE) for d in (GATEWAY, LOBBY, BUTTONS)]
    opts = ListenerOptions(port=port, bind="127.0.0.1",
                           persistence_dir=str(folders.broker / "data"))
    (folders.broker / "data").mkdir(parents=True, exist_ok=True)
    files = write_broker_config(folders.broker, accounts, opts, "central")
    sms = f"""
[sms]
modems = ["{folders.modem_link}"]
hash_key = "{secrets.token_hex(16)}"
# Any time of day: the demo must work at night too (a county uses 8-20).
window_start = 0
window_end = 24
session_hours = {SESSION_SECONDS / 3600:.6f}
rate_per_minute = 600
multipart_timeout_s = 10
scan_interval_s = 5
health_interval_s = 5
retry_port_s = 1
"""
    lobby = """
[kiosk]
scale = "nps"
opening_hours = "always"
"""
    buttons = """
[kiosk]
scale = "smileys5"
# The faces come first (stored as `faces`, 1 saddest .. 5 happiest), then these.
questions = ["s1", "s2"]
buttons = { pins = ["GPIO5", "GPIO6", "GPIO13", "GPIO19", "GPIO26"] }
leds = ["GPIO12", "GPIO16", "GPIO20", "GPIO21", "GPIO7"]
opening_hours = "always"
"""
    placed = ((GATEWAY, "ensiapu", sms), (LOBBY, "ensiapu", lobby),
              (BUTTONS, "terveysasema", buttons))
    # The gateway serves every unit its invitations name.
    register_devices(folders, [(device, "*" if device == GATEWAY else unit)
                               for device, unit, _ in placed])
    for device, unit, extra in placed:
        folders.device(device).mkdir(parents=True, exist_ok=True)
        folders.config(device).write_text(_device_toml(device, unit, port, extra),
                                         encoding="utf-8")
    folders.central.mkdir(parents=True, exist_ok=True)
    folders.config("central").write_text(f"""# Written by `palaute demo`: the central receiver.
[central]
db = "sqlite:///{folders.central_db}"

[mqtt]
url = "mqtt://127.0.0.1:{port}"
username = "central"
password_file = "../broker/passwords/central.pass"
reconnect_min = 0.5
reconnect_max = 2
""" + (web_section(web_port) if web_port else ""), encoding="utf-8")
    return files.conf.read_text(encoding="utf-8")


# -- processes ----------------------------------------------------------------------------


def palaute_argv(*args: str) -> list[str]:
    """The `palaute` command with this interpreter (no PATH needed)."""
    return [sys.executable, "-m", "palaute", *args]


@dataclass
class RunningProcess:
    """A command the demo started: its name, process and log."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class Processes:
    """Commands the demo runs, each in its own process group; `stop_all` ends every one."""

    env: dict[str, str] = field(default_factory=lambda: {**os.environ, "PYTHONUNBUFFERED": "1"})
    running: list[RunningProcess] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], log_path: Path) -> subprocess.Popen[bytes]:
        """Start a long-running service; its output goes to `log_path`."""
        # A Ctrl-C between the fork and the bookkeeping would leave an unknown process behind.
        with _interrupts_deferred():
            with open(log_path, "ab") as out:
                proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=self.env,
                                        start_new_session=True)
            self.running.append(RunningProcess(name, proc, log_path))
        return proc

    def run(self, name: str, argv: Sequence[str], log_path: Path,
            timeout: float = 120.0) -> tuple[int, str]:
        """Run a command to its end; returns its exit code and output (also in `log_path`)."""
        size = log_path.stat().st_size if log_path.exists() else 0
        proc = self.start(name, argv, log_path)
        mine = [p for p in self.running if p.proc is proc]
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._stop(mine)
            raise DemoError(f"{name} did not finish in {timeout:g} s; see {log_path}") from None
        except BaseException:  # Ctrl-C while waiting: the command must not outlive us
            self._stop(mine)
            raise
        finally:
            self.running = [p for p in self.running if p.proc is not proc]
        return code, _tail_from(log_path, size)

    def check(self) -> None:
        """Raise DemoError when a service stopped on its own."""
        for p in self.running:
            code = p.proc.poll()
            if code is not None:
                raise DemoError(f"{p.name} stopped unexpectedly (exit {code}); its log "
                                f"{p.log} ends:\n{tail(p.log)}")

    def stop_all(self) -> None:
        """SIGTERM every process group (last started first), then SIGKILL what is left."""
        self._stop(list(reversed(self.running)))
        self.running = []

    @staticmethod
    def _stop(procs: list[RunningProcess]) -> None:
        for p in procs:
            _signal_group(p.proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for p in procs:
            try:
                p.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time: killed", p.name)
            # Whatever the leader did, nothing of its group may outlive the demo.
            _signal_group(p.proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.proc.wait(5)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block is done, then raise KeyboardInterrupt for them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[signal.Signals] = []
    previous = {s: signal.signal(s, lambda signum, _frame: caught.append(signal.Signals(signum)))
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if any(previous[signum] is not signal.SIG_IGN for signum in caught):
        raise KeyboardInterrupt


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def _tail_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def tail(path: Path, lines: int = 12) -> str:
    """The last lines of a log file (for error messages)."""
    text = _tail_from(path, 0)
    return "\n".join(text.splitlines()[-lines:])


def open_log(path: Path) -> IO[str]:
    """A log file for the demo's own thread messages."""
    return open(path, "a", encoding="utf-8")


# -- the people's phones ------------------------------------------------------------------


@dataclass(order=True)
class _Due:
    at: float
    order: int
    phone: str = field(compare=False)
    text: str = field(compare=False)


class PhoneNetwork:
    """Phones of simulated people on the modem simulator's network (see module doc)."""

    def __init__(self, core: ModemCore, survey: Survey,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.survey = survey
        self.clock = clock
        self.phones: dict[str, Phone] = {}
        self.queue: list[_Due] = []
        self.seen = 0  # messages of core.sent() already read by their recipients
        self.received = 0
        self.replied = 0
        self.strangers = 0  # messages to numbers nobody in the demo has
        # Every message each phone got and sent: (seconds, number, "in"|"out", text).
        self.transcript: list[tuple[float, str, str, str]] = []
        self._lock = threading.Lock()
        self._order = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, people: Sequence[Persona]) -> None:
        """Hand these people their phones."""
        with self._lock:
            for p in people:
                self.phones[p.phone] = Phone(p)

    def pending(self) -> int:
        """Replies people still mean to send."""
        with self._lock:
            return len(self.queue)

    def poll(self) -> None:
        """Read newly sent messages, queue the replies, deliver those that are due."""
        sent = self.core.sent()
        now = self.clock()
        with self._lock:
            # A multipart message is read when all its parts are there (the last one may
            # still be going out: only ever the newest).
            while self.seen < len(sent) and sent[self.seen]["parts"] == sent[self.seen]["total"]:
                self._read(sent[self.seen], now)
                self.seen += 1
            due = []
            while self.queue and self.queue[0].at <= now:
                due.append(heapq.heappop(self.queue))
        for item in due:
            self.core.deliver(item.phone, item.text)
            with self._lock:
                self.replied += 1
                self.transcript.append((self.clock(), item.phone, "out", item.text))

    def _read(self, message: dict[str, object], now: float) -> None:
        number, text = str(message["recipient"]), str(message["text"])
        phone = self.phones.get(number)
        self.received += 1
        self.transcript.append((now, number, "in", text))
        if phone is None:
            self.strangers += 1
            log.warning("the gateway sent a message to %s, whom the demo does not know", number)
            return
        phone, reply = on_sms(phone, self.survey, text)
        self.phones[number] = phone
        if reply is not None:
            self._order += 1
            heapq.heappush(self.queue, _Due(now + reply.delay, self._order, number, reply.text))

    def conversations(self, t0: float = 0.0) -> dict[str, list[str]]:
        """Each phone's messages as lines ("gateway: …" / "person: …"), by number."""
        with self._lock:
            out: dict[str, list[str]] = {}
            for at, number, direction, text in self.transcript:
                who = "gateway" if direction == "in" else "person "
                flat = " / ".join(text.splitlines())
                out.setdefault(number, []).append(f"[{at - t0:5.1f}s] {who}: {flat}")
            return out

    def write_transcript(self, path: Path, t0: float = 0.0) -> None:
        """Every phone's conversation, one block per person (style and language first)."""
        talks = self.conversations(t0)
        with self._lock:
            people = [ph.persona for ph in self.phones.values()]
        blocks = []
        for p in people:
            head = f"{p.phone} ({p.lang}, {p.style}, means {p.nps}/10)"
            blocks.append("\n".join([head, *("  " + line for line in talks.get(p.phone, []))]))
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")

    def start(self) -> PhoneNetwork:
        """Start the thread that polls every 50 ms."""
        self._thread = threading.Thread(target=self._run, name="demo-phones", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.poll()
            except Exception:  # the demo's summary will show what went missing
                log.exception("the simulated phones failed")

    def stop(self) -> None:
        """Stop the thread; may be called twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
