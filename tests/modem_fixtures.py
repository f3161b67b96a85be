"""Shared fixtures for tests that need a GSM modem: the simulator on a real pty.

`sim_modem(tmp_path)` is a context manager yielding (port path, control); `control` is the
simulator's `ModemCore` (deliver, sent, stored, status, fault, clear, control(line)).
The `modem_sim` fixture does the same for one test; `fast_settings` are driver settings
with short timeouts and no real waiting.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.modem_sim import ModemCore, SimConfig
from hardware.modem_sim_profiles import sim_config
from hardware.modem_sim_pty import PtyModem, simulated_modem
from sms_gateway.at import AtChannel
from sms_gateway.modem import Modem, ModemSettings, WaitClock


class FakeTime:
    """A test's own time: the driver's waits advance it at once, the simulated SIM's busy
    time after power-on counts in it. `clock` is the driver's WaitClock on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.clock = WaitClock(sleep=self.sleep, monotonic=self.monotonic)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@contextlib.contextmanager
def sim_modem(
    directory: Path, *, latency: float = 0.0, profile: str = "standard",
    time_source: FakeTime | None = None, **config: Any
) -> Iterator[tuple[str, ModemCore]]:
    """Start the simulated modem on a pty at `directory`/modem; yields (path, control).
    `profile` names a modem family (hardware.modem_sim_profiles); `time_source` is the
    fake time its SIM's busy window counts in (real time without one)."""
    monotonic = time_source.monotonic if time_source else time.monotonic
    with simulated_modem(directory / "modem", config=sim_config(profile, **config),
                         latency=latency, monotonic=monotonic) as (path, core, _runner):
        yield path, core


@contextlib.contextmanager
def sim_modem_runner(
    directory: Path, **config: Any
) -> Iterator[tuple[str, ModemCore, PtyModem]]:
    """Like sim_modem, also yielding the pty runner (to wait for a vanished port)."""
    with simulated_modem(directory / "modem", config=SimConfig(**config)) as started:
        yield started


def fast_settings(url: str, **overrides: Any) -> ModemSettings:
    """Driver settings for tests: short timeouts, short backoff."""
    values: dict[str, Any] = {
        "command_timeout": 1.0, "send_timeout": 2.0, "retries": 6, "retry_delay": 0.02,
        "reopen_attempts": 30, "reopen_delay": 0.05, "reopen_max_delay": 0.2,
    }
    values.update(overrides)
    return ModemSettings(url=url, **values)


@contextlib.contextmanager
def started_modem(url: str, *, clock: WaitClock | None = None,
                  **overrides: Any) -> Iterator[Modem]:
    """A started driver on `url` with fast settings; closed afterwards."""
    modem = Modem(AtChannel(url), fast_settings(url, **overrides), clock=clock)
    try:
        modem.start()
        yield modem
    finally:
        modem.close()


@pytest.fixture
def modem_sim(tmp_path: Path) -> Iterator[tuple[str, ModemCore]]:
    """A simulated modem on a pty for one test: (port path, control)."""
    with sim_modem(tmp_path) as started:
        yield started
