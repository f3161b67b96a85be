"""The receiver pings systemd's watchdog only while its MQTT network thread runs."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import pytest
from services import Mosquitto, ReceiverThread


def _beats(rx: ReceiverThread, sock: socket.socket) -> list[str]:
    """Run the receiver's main loop for 0.3 s after it is ready; what it told systemd."""
    out: list[str] = []
    done = threading.Event()
    stop = threading.Event()

    def listen() -> None:  # as systemd does: a datagram queue holds only a few messages
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                message = sock.recv(4096).decode()
                out.append(message)
                if "READY=1" in message:
                    threading.Timer(0.3, stop.set).start()

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        rx.receiver.run(stop, interval=0.02)
    finally:
        stop.set()
        done.set()
        listener.join(5)
    return out


def test_watchdog_pings_only_while_the_network_thread_runs(
        tmp_path: Path, central_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(0.1)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        with Mosquitto(tmp_path / "broker") as broker:
            with ReceiverThread(central_url, broker.port) as rx:
                assert rx.receiver.network_alive
                healthy = _beats(rx, sock)  # run() stops the client at its end
            with ReceiverThread(central_url, broker.port) as rx:
                rx.receiver.stop()  # as if the network thread had died
                monkeypatch.setattr(rx.receiver, "start", lambda: None)
                assert not rx.receiver.network_alive
                dead = _beats(rx, sock)
    assert any("WATCHDOG=1" in m for m in healthy), healthy
    assert any("READY=1" in m for m in dead)
    assert not any("WATCHDOG=1" in m for m in dead)
