"""The one service runner: READY, watchdog only while healthy, STATUS, STOPPING, signals.

A real datagram socket stands in for systemd's notify socket; the runner's clock is
a counter the test moves, so nothing here waits in real time.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from survey.service import Runner


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Scripted:
    """A service whose health, status and end follow a script, one entry per step."""

    def __init__(self, clock: FakeClock, health: list[bool], *, tick: float = 10.0,
                 on_step: dict[int, signal.Signals] | None = None) -> None:
        self.clock = clock
        self.script = health
        self.tick = tick
        self.on_step = on_step or {}
        self.steps = 0
        self.healthy = True
        self.closed = 0

    def start(self) -> str:
        return "starting"

    def step(self, stop: threading.Event) -> bool:
        self.healthy = self.script[self.steps]
        self.steps += 1
        self.clock.now += self.tick
        if self.steps in self.on_step:
            signal.raise_signal(self.on_step[self.steps])
        return self.steps < len(self.script)

    def status_line(self) -> str:
        return "ok" if self.healthy else "store failing"

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
        yield sock


def received(sock: socket.socket) -> list[str]:
    sock.setblocking(False)
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_ready_then_watchdog_only_while_healthy_then_stopping(
        notify_socket: socket.socket) -> None:
    clock = FakeClock()
    service = Scripted(clock, [True, True, False, False, True])
    Runner(monotonic=clock, watchdog=10.0).run(service)
    assert received(notify_socket) == [
        "READY=1\nSTATUS=starting",
        "WATCHDOG=1", "STATUS=ok",
        "WATCHDOG=1",
        "STATUS=store failing",  # two unhealthy steps: no pings, one status line
        "WATCHDOG=1", "STATUS=ok",
        "STOPPING=1",
    ]
    assert service.closed == 1


def test_pings_are_paced_by_the_watchdog_interval(notify_socket: socket.socket,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "60000000")  # WatchdogSec=60: a ping every 30 s
    clock = FakeClock()
    Runner(monotonic=clock).run(Scripted(clock, [True] * 7, tick=10.0))
    pings = received(notify_socket).count("WATCHDOG=1")
    assert pings == 3  # at 110, 140 and 170 of 110..170


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_loop_and_the_handlers_are_put_back(
        notify_socket: socket.socket, sig: signal.Signals) -> None:
    before = signal.getsignal(sig)
    clock = FakeClock()
    service = Scripted(clock, [True] * 10, on_step={3: sig})
    runner = Runner(monotonic=clock)
    runner.run(service)
    assert service.steps == 3 and runner.stop.is_set() and service.closed == 1
    assert received(notify_socket)[-1] == "STOPPING=1"
    assert signal.getsignal(sig) is before


def test_a_failing_start_still_says_stopping_and_closes(notify_socket: socket.socket) -> None:
    clock = FakeClock()
    service = Scripted(clock, [True])

    def broken() -> str:
        raise OSError("no modem")

    service.start = broken  # type: ignore[method-assign]
    with pytest.raises(OSError):
        Runner(monotonic=clock).run(service)
    assert received(notify_socket) == ["STOPPING=1"] and service.closed == 1


def test_off_the_main_thread_it_is_stopped_by_its_event(notify_socket: socket.socket) -> None:
    before = signal.getsignal(signal.SIGTERM)

    class Endless(Scripted):
        def step(self, stop: threading.Event) -> bool:
            self.steps += 1
            stop.wait(0.01)
            return True

    runner = Runner()
    service = Endless(FakeClock(), [])
    thread = threading.Thread(target=runner.run, args=(service,))
    thread.start()
    runner.stop.set()
    thread.join(5)
    assert not thread.is_alive() and service.closed == 1
    assert signal.getsignal(signal.SIGTERM) is before
    assert received(notify_socket)[-1] == "STOPPING=1"
