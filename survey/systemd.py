"""systemd notifications for the services (Type=notify, watchdog).

Outside systemd (NOTIFY_SOCKET unset) every call does nothing, so the same
service loop runs in tests, in the demo and on a device. The services use these
through survey.service.Runner, which decides when to send what.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from types import FrameType

log = logging.getLogger(__name__)


def send(message: str) -> None:
    """Send one notification (lines like READY=1) to systemd; nothing outside systemd."""
    # The sd_notify protocol is one datagram to the socket systemd names; abstract
    # addresses start with "@". A notification that cannot be sent is not an error.
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(1.0)
            sock.sendto(message.encode("utf-8"), address)
    except OSError as exc:
        log.debug("systemd notification %r not sent: %s", message.split("=")[0], exc)


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
