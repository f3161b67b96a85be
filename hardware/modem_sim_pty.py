"""The simulated modem on a real pseudo-terminal, and its control socket.

`PtyModem` opens a pty in raw mode, points a symlink at its slave side (what a client
opens, like /dev/serial/by-id/...), and moves bytes between the master side and a
`ModemCore` in one thread, with an optional latency. The `vanish` fault closes the pty
and removes the link; after the given time a new pty appears behind the same link and
the modem announces its reboot, as a USB modem re-enumerating does.
`ControlServer` serves `ModemCore.control` on a Unix socket, one line per request.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import socketserver
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from hardware.modem_sim import ModemCore, SimConfig

log = logging.getLogger(__name__)

MAX_BACKLOG = 1 << 20  # bytes of output kept while no client reads the port


class PtyModem:
    """A `ModemCore` behind a pty whose slave is reachable at `link`."""

    def __init__(self, core: ModemCore, link: str | Path, *, latency: float = 0.0) -> None:
        self.core = core
        self.link = Path(link)
        self.latency = latency
        self._master = -1
        self._slave = -1
        self._wake_r, self._wake_w = os.pipe()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._backlog: deque[tuple[float, bytes]] = deque()
        self.vanished = threading.Event()  # set while the port is gone (tests wait on it)
        self.returned = 0  # how many times the port came back
        core.set_output_listener(self._wake)

    def start(self) -> PtyModem:
        """Create the pty and the link and start serving."""
        self._open_pty()
        self._thread = threading.Thread(target=self._run, name="modem-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the pty and remove the link; may be called twice."""
        self._stop.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._close_pty()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> PtyModem:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or CR/LF translation by the line discipline
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        tmp = self.link.with_name(self.link.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)  # atomic: a client never sees a half-made link
        log.info("simulated modem at %s -> %s", self.link, os.ttyname(slave))

    def _close_pty(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.core.vanish_request is not None:
                self._vanish(self.core.vanish_request)
                continue
            self._step()

    def _step(self) -> None:
        now = time.monotonic()
        timeout = 0.5
        if self._backlog:
            timeout = max(0.0, min(timeout, self._backlog[0][0] - now))
        readable, _, _ = select.select([self._master, self._wake_r], [], [], timeout)
        if self._wake_r in readable:
            os.read(self._wake_r, 4096)
        if self._master in readable:
            try:
                data = os.read(self._master, 4096)
            except (BlockingIOError, InterruptedError):
                data = b""
            except OSError as exc:  # EIO: no slave open (should not happen: we hold one)
                log.debug("pty read: %s", exc)
                data = b""
            if data:
                self.core.receive(data)
        now = time.monotonic()
        for delay, chunk in self.core.take_timed_output():
            # Output keeps its order: a late chunk holds back what the modem said after it.
            due = max(now + self.latency + delay, self._backlog[-1][0] if self._backlog else 0)
            self._backlog.append((due, chunk))
        self._flush()

    def _flush(self) -> None:
        now = time.monotonic()
        while self._backlog and self._backlog[0][0] <= now:
            due, chunk = self._backlog[0]
            try:
                written = os.write(self._master, chunk)
            except (BlockingIOError, InterruptedError):
                return
            if written < len(chunk):
                self._backlog[0] = (due, chunk[written:])
                return
            self._backlog.popleft()
        size = sum(len(c) for _, c in self._backlog)
        while size > MAX_BACKLOG and self._backlog:
            size -= len(self._backlog.popleft()[1])
            log.warning("no client reads the simulated modem: output dropped")

    def _vanish(self, seconds: float) -> None:
        log.info("simulated modem port vanishes for %.1f s", seconds)
        self.core.vanish_request = None
        self._close_pty()
        self.core.link_lost()
        self._backlog.clear()
        self.vanished.set()
        if self._stop.wait(seconds):
            return
        self._open_pty()
        self.core.reboot()
        self.returned += 1
        self.vanished.clear()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        core: ModemCore = self.server.core  # type: ignore[attr-defined]
        for raw in self.rfile:
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                self.wfile.write(core.control(line).encode() + b"\n")
                self.wfile.flush()


class ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The control verbs of `ModemCore.control` on a Unix socket (one line each way)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, path: str | Path, core: ModemCore) -> None:
        self.path = Path(path)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.core = core
        super().__init__(str(self.path), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, name="modem-sim-control",
                                        kwargs={"poll_interval": 0.2}, daemon=True)

    def start(self) -> ControlServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the socket file."""
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join(timeout=2.0)
        self.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def control_request(path: str | Path, line: str, timeout: float = 5.0) -> str:
    """Send one control line to a running simulator's socket; return its reply line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(line.strip().encode() + b"\n")
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply.decode().strip()


@contextlib.contextmanager
def simulated_modem(
    link: str | Path,
    *,
    config: SimConfig | None = None,
    latency: float = 0.0,
    control_path: str | Path | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[tuple[str, ModemCore, PtyModem]]:
    """Run a simulated modem on a pty at `link`; yields (port path, control, runner).
    `monotonic` is what the SIM's busy time after power-on counts in (a test's clock)."""
    core = ModemCore(config, monotonic=monotonic)
    server = ControlServer(control_path, core).start() if control_path else None
    try:
        with PtyModem(core, link, latency=latency) as runner:
            yield str(link), core, runner
    finally:
        if server is not None:
            server.stop()
