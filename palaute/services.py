"""Local services for the demo (and tests): free ports, and a Mosquitto broker process.

The broker listens on 127.0.0.1 on a port nobody uses (a machine may already run
its own Mosquitto on 1883), keeps its persistence and log in its folder, and runs
in its own process group so that stopping it never touches anything else.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from survey.errors import PalauteError


class ServiceError(PalauteError):
    """A local service that cannot be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0,
              proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"the process exited with {proc.returncode} before listening "
                               f"on port {port}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise ServiceError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def mosquitto_binary() -> str:
    """Path of the mosquitto executable (Debian puts it in /usr/sbin)."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise ServiceError("mosquitto is not installed (apt-get install mosquitto, or run "
                           "./dev.sh demo, which installs it)")
    return found


class Mosquitto:
    """A Mosquitto broker on a free port with persistence in `folder`; restartable.

    Without `base_config` the broker listens on 127.0.0.1:`port` with persistence in
    `folder` and `extra_config` (default: anonymous clients allowed). With
    `base_config` (e.g. what `palaute central broker-config` writes, with its own
    listener, persistence and ACL) only the log and run-as lines are added.
    """

    def __init__(self, folder: Path, extra_config: str = "", port: int | None = None, *,
                 base_config: str | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.config = self.folder / "mosquitto.conf"
        self.log = self.folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        if base_config is None:
            base_config = (
                f"listener {self.port} 127.0.0.1\n"
                "persistence true\n"
                f"persistence_location {self.folder}/\n"
                "autosave_interval 1\n"
                "max_queued_messages 100000\n"
                + (extra_config if extra_config.strip() else "allow_anonymous true\n")
            )
        tail = f"log_dest file {self.log}\nlog_type all\n"
        if os.geteuid() == 0:
            # As root Mosquitto drops to the `mosquitto` user, who cannot enter private folders.
            tail += "user root\n"
        self.config.write_text(base_config.rstrip("\n") + "\n" + tail, encoding="utf-8")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Mosquitto:
        """Start (or restart) the broker and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(self.config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            wait_port(self.port, proc=self.proc)
        except ServiceError as exc:
            self.kill()
            raise ServiceError(f"mosquitto did not start ({exc}); see {self.log}") from None
        return self

    def stop(self) -> None:
        """Stop gracefully (SIGTERM: persistence is saved); may be called twice."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """Kill at once (SIGKILL: only what was autosaved survives)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
