"""systemd notifications for the services (Type=notify, watchdog).

Outside systemd (NOTIFY_SOCKET unset) every call does nothing, so the same
service loop runs in tests, in the demo and on a device.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import sdnotify

log = logging.getLogger(__name__)

# One notifier per socket address (sdnotify reads NOTIFY_SOCKET when it is made).
_notifiers: dict[str, sdnotify.SystemdNotifier] = {}


def _send(message: str) -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    notifier = _notifiers.get(address)
    if notifier is None:
        notifier = _notifiers[address] = sdnotify.SystemdNotifier()
    notifier.notify(message)


def notify_ready(status: str = "") -> None:
    """Tell systemd the service has started (after its start-up checks passed)."""
    _send("READY=1" + (f"\nSTATUS={status}" if status else ""))


def notify_watchdog() -> None:
    """Ping the watchdog; call only from a main loop that is healthy."""
    _send("WATCHDOG=1")


def notify_stopping() -> None:
    """Tell systemd the service is shutting down."""
    _send("STOPPING=1")


def notify_status(status: str) -> None:
    """A one-line status shown by `systemctl status`."""
    _send(f"STATUS={status}")


def watchdog_interval() -> float | None:
    """Half of WatchdogSec (the ping interval to use), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    if not usec or not usec.isdigit():
        return None
    pid = os.environ.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2_000_000


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (systemd's stop) or SIGINT (Ctrl-C), for a service's main loop."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop
