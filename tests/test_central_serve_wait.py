"""`palaute central serve` waits for an unreachable database instead of exiting."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from services import Mosquitto


def _messages(sock: socket.socket, until: float, want: str) -> list[str]:
    out: list[str] = []
    while time.monotonic() < until and not any(want in m for m in out):
        with contextlib.suppress(TimeoutError):
            out.append(sock.recv(4096).decode())
    return out


def test_serve_retries_until_the_database_is_there(tmp_path: Path) -> None:
    # The database's folder cannot be made while a plain file sits where it should be
    # (as when the disk holding it is not mounted yet).
    blocker = tmp_path / "disk"
    blocker.write_text("not mounted\n")
    with Mosquitto(tmp_path / "broker") as broker:
        config = tmp_path / "central.toml"
        config.write_text(f'[central]\ndb = "sqlite:///disk/central.sqlite"\ndb_retry_s = 0.1\n'
                          f'[mqtt]\nurl = "{broker.url}"\n', encoding="utf-8")
        notify = tmp_path / "notify.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(notify))
            sock.settimeout(0.2)
            env = {**os.environ, "NOTIFY_SOCKET": str(notify)}
            proc = subprocess.Popen([sys.executable, "-m", "palaute", "central", "serve",
                                     "--config", str(config)], env=env,
                                    stderr=subprocess.PIPE, text=True)
            try:
                waiting = _messages(sock, time.monotonic() + 30, "attempt 3")
                assert proc.poll() is None  # still there, waiting
                blocker.unlink()  # the disk appears
                ready = _messages(sock, time.monotonic() + 30, "READY=1")
            finally:
                proc.send_signal(signal.SIGTERM)
                _, err = proc.communicate(timeout=30)
    statuses = [m for m in waiting if m.startswith("STATUS=")]
    assert [s.split("(attempt ")[1].split(")")[0] for s in statuses[:3]] == ["1", "2", "3"]
    assert all("database not reachable" in s and "retrying in" in s for s in statuses)
    assert any(m.startswith("EXTEND_TIMEOUT_USEC=") for m in waiting)
    assert any("READY=1" in m for m in ready), ready
    assert err.count("database not reachable (attempt 1)") == 1
    assert "database not reachable (attempt 3)" in err
    assert proc.returncode == 0 and (tmp_path / "disk" / "central.sqlite").is_file()
