"""Helpers of the SMS gateway tests: an in-process modem twin, a clock, a gateway builder."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from modem_fixtures import fast_settings

from hardware.modem_sim import ModemCore
from sms_gateway.at import AtChannel
from sms_gateway.gateway_store import DEFAULT_REST, GatewayStore
from sms_gateway.invitations import Invitation
from sms_gateway.modem import Modem, WaitClock
from sms_gateway.privacy import PhoneHasher
from sms_gateway.scheduler import RateLimit, Window
from sms_gateway.service import (
    DeliveryReport,
    DriverPort,
    Gateway,
    GatewaySettings,
    Health,
    Link,
    PortEvent,
    ReadStorage,
    Received,
)
from survey.config import DeviceIdentity
from survey.definition import load_survey, shipped_survey_path
from survey.model import Survey
from survey.store import Store

HKI = ZoneInfo("Europe/Helsinki")
KEY = b"test-key-0123456789abcdef"


class Clock:
    """A settable clock for the service (UTC)."""

    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


@dataclass
class TwinModem:
    """An in-process modem twin: storage, sent messages, injected send failures."""

    name: str = "twin0"
    storage: dict[int, Received | DeliveryReport] = field(default_factory=dict)
    sent: list[tuple[str, str]] = field(default_factory=list)
    pending: list[PortEvent] = field(default_factory=list)
    fail: list[BaseException] = field(default_factory=list)
    next_index: int = 0
    next_ref: int = 0
    healthy: bool = True
    keep_deleted: bool = False  # a modem whose delete silently does nothing

    def deliver(self, sender: str, text: str, scts: str,
                concat: tuple[int, int, int] | None = None) -> None:
        self.next_index += 1
        self.storage[self.next_index] = Received(self.next_index, sender, text, scts, concat)
        self.pending.append(ReadStorage("delivered"))

    def send(self, number: str, text: str) -> list[int]:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((number, text))
        self.next_ref = (self.next_ref + 1) % 256
        return [self.next_ref]

    def stored(self) -> list[Received | DeliveryReport]:
        return list(self.storage.values())

    def delete(self, index: int) -> None:
        if not self.keep_deleted:
            self.storage.pop(index, None)

    def events(self) -> list[PortEvent]:
        out, self.pending = self.pending, []
        return out

    def health(self) -> Health:
        return Health(ok=self.healthy, signal=20, registration="home")

    def close(self) -> None:
        pass

    def texts_to(self, number: str) -> list[str]:
        return [t for n, t in self.sent if n == number]


def survey_national() -> Survey:
    return load_survey(shipped_survey_path("national"))


def make_gateway(path: Path, clock: Clock, modems: list[TwinModem], *,
                 rate: int = 60, window: Window | None = None,
                 multipart_timeout: timedelta = timedelta(minutes=5),
                 monotonic: Callable[[], float] | None = None,
                 rest: timedelta = DEFAULT_REST) -> Gateway:
    store = Store(path)
    gs = GatewayStore(store, PhoneHasher(KEY))
    settings = GatewaySettings(window=window or Window(), multipart_timeout=multipart_timeout,
                        scan_interval=0.0, health_interval=0.0, expire_interval=0.0,
                        rest=rest)
    links = [Link(m.name, (lambda m=m: m), RateLimit(rate)) for m in modems]  # type: ignore[misc]
    origin = DeviceIdentity(id="tays-sms-1", site="tays", area="sairaalapalvelut", unit="sms")
    return Gateway(gs, survey_national(), origin, links, settings, clock=clock,
                   monotonic=monotonic or time.monotonic)


def invite(gw: Gateway, phone: str, at: datetime, kind: str = "visit", lang: str = "fi",
           unit: str = "ensiapu") -> str:
    return gw.gs.add_invitation(Invitation(unit, at, kind, phone, lang, "test"), gw.clock(),
                                gw.settings.window)


def gateway_config(tmp_path: Path, extra: str = "") -> Path:
    """A gateway's device.toml in `tmp_path` (national survey, a modem at /dev/null) with
    `extra` lines in its [sms] section."""
    cfg = tmp_path / "device.toml"
    cfg.write_text(f"""
[device]
id = "tays-sms-1"
site = "tays"
area = "sairaalapalvelut"
unit = "sms"
store = "{tmp_path / 'store.sqlite'}"

[survey]
file = "{shipped_survey_path('national')}"

[sms]
modems = ["/dev/null"]
{extra}
""")
    return cfg


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def open_fast(url: str, wait_clock: WaitClock | None = None) -> DriverPort:
    """The real driver on `url` with the modem tests' short timeouts, started; its waits
    (a busy SIM) by `wait_clock` (a test's fake time) when given."""
    modem = Modem(AtChannel(url), fast_settings(url), clock=wait_clock)
    try:
        modem.start()
    except BaseException:
        modem.close()
        raise
    return DriverPort(modem, url)


def sim_gateway(path: Path, clock: Clock, urls: list[str], *, rate: int = 600,
                multipart_timeout: timedelta = timedelta(minutes=5),
                wait_clock: WaitClock | None = None) -> Gateway:
    """A gateway on the real driver and simulated modems behind `urls`."""
    gs = GatewayStore(Store(path), PhoneHasher(KEY))
    settings = GatewaySettings(window=Window(), multipart_timeout=multipart_timeout,
                        scan_interval=2.0, health_interval=0.5, retry_port=0.05,
                        expire_interval=0.0)
    links = [Link(u, functools.partial(open_fast, u, wait_clock), RateLimit(rate))
             for u in urls]
    origin = DeviceIdentity(id="tays-sms-1", site="tays", area="sairaalapalvelut", unit="sms")
    return Gateway(gs, survey_national(), origin, links, settings, clock=clock)


def sent_to(core: ModemCore, number: str) -> list[str]:
    """Texts the simulated modem sent to `number` (multipart joined)."""
    return [str(m["text"]) for m in core.sent() if m["recipient"] == number]


def dump_tables(gw: Gateway) -> str:
    """Every row of every table of the gateway's store, as text (to look for a number)."""
    tables = [r[0] for r in gw.store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return "\n".join(repr(row) for t in tables
                      for row in gw.store.conn.execute(f"SELECT * FROM {t}"))


# -- fixtures of the service tests (imported by name where used) -------------------

@pytest.fixture
def clock() -> Clock:
    return Clock(utc(2025, 3, 4, 8, 0))  # 10:00 in Helsinki


@pytest.fixture
def modem() -> TwinModem:
    return TwinModem()


@pytest.fixture
def gw(tmp_path: Path, clock: Clock, modem: TwinModem) -> Iterator[Gateway]:
    g = make_gateway(tmp_path / "store.sqlite", clock, [modem])
    g.start()
    yield g
    g.close()
    g.store.close()
