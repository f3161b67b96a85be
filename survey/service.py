"""One way to run a service under systemd (kiosk, SMS gateway, sync agent, receiver).

The runner owns what every service loop needs and nothing else: READY=1 once
the service has started, WATCHDOG=1 only while the service says it is healthy
(so systemd restarts one that can no longer do its work), STATUS= lines when
they change, STOPPING=1 at the end, and SIGTERM/SIGINT turned into a stop flag
that the service's step sees. The service does its own work in `step`; the
runner's clock is injected so its tests do not wait in real time.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Protocol

from survey import systemd

log = logging.getLogger(__name__)

# Without WATCHDOG_USEC the pings go out this often (systemd ignores them then; one code path).
DEFAULT_PING_SECONDS = 1.0

Notify = Callable[[str], None]


class Service(Protocol):
    """What the runner needs of a service's main loop."""

    @property
    def healthy(self) -> bool:
        """False while the service cannot do its work (the watchdog is then not pinged)."""

    def start(self) -> str:
        """Open ports, connect; the status line to send with READY=1."""

    def step(self, stop: threading.Event) -> bool:
        """One pass of the loop, waiting at most about a second (less once `stop` is set).

        False when the service has ended on its own (the loop then stops).
        """

    def status_line(self) -> str:
        """A one-line status for `systemctl status`."""

    def close(self) -> None:
        """Release everything `start` opened; safe to call twice."""


@dataclass
class Runner:
    """Runs a `Service` until stopped (see module doc). `stop` may be set from any thread."""

    notify: Notify = systemd.send
    monotonic: Callable[[], float] = time.monotonic
    watchdog: float | None = field(default_factory=systemd.watchdog_interval)
    stop: threading.Event = field(default_factory=threading.Event)
    handle_signals: bool = True
    _last_ping: float | None = field(default=None, init=False)
    _status: str = field(default="", init=False)
    _sick_since: float | None = field(default=None, init=False)

    def run(self, service: Service) -> None:
        """start → READY → step until stopped or ended → STOPPING → close."""
        with self._signals():
            try:
                self._status = service.start()
                self.notify("READY=1" + (f"\nSTATUS={self._status}" if self._status else ""))
                while not self.stop.is_set():
                    going_on = service.step(self.stop)
                    self._beat(service)
                    if not going_on:
                        break
            finally:
                self.notify("STOPPING=1")
                service.close()

    def _beat(self, service: Service) -> None:
        now = self.monotonic()
        if service.healthy:
            if self._sick_since is not None:
                log.info("healthy again after %.0f s: watchdog pings resume",
                         now - self._sick_since)
                self._sick_since = None
            every = self.watchdog or DEFAULT_PING_SECONDS
            if self._last_ping is None or now - self._last_ping >= every:
                self.notify("WATCHDOG=1")
                self._last_ping = now
        elif self._sick_since is None:
            log.error("not healthy: the watchdog is no longer pinged")
            self._sick_since = now
        status = service.status_line()
        if status != self._status:
            self.notify(f"STATUS={status}")
            self._status = status

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        # Handlers can only be set from the main thread; a runner in another thread
        # (tests, the demo) is stopped through `stop` instead.
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return

        def _stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: stopping", signal.Signals(signum).name)
            self.stop.set()

        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
