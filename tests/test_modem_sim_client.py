"""The simulated modem is close enough to hardware that a widely used AT-modem client,
python-gsmmodem-new, works with it unchanged: connect, send an SMS, receive one."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from modem_fixtures import sim_modem
from services import wait_until

gsmmodem = pytest.importorskip(
    "gsmmodem", reason="python-gsmmodem-new is not installed (pip install -e .[dev])"
)


def test_python_gsmmodem_sends_and_receives(tmp_path: Path) -> None:
    received: list[Any] = []
    arrived = threading.Event()

    def on_sms(sms: Any) -> None:
        received.append(sms)
        arrived.set()

    with sim_modem(tmp_path) as (path, core):
        client = gsmmodem.GsmModem(path, 115200, smsReceivedCallbackFunc=on_sms)
        try:
            client.connect()
            assert core.cmgf == 0 and not core.echo  # it set the modem up its own way
            sent = client.sendSms("+358401234567", "Kiitos käynnistä! Vastaa 0-10.")
            assert sent.reference == core.sent()[0]["message_refs"][0]
            assert core.sent()[0]["text"] == "Kiitos käynnistä! Vastaa 0-10."
            # It reads its status report (+CDSI) with several commands; python-gsmmodem
            # takes any code arriving meanwhile for a reply line, so let it finish first.
            wait_until(lambda: core.status()["storage"] == {"SM": 0, "ME": 0, "SR": 0})
            core.deliver("+358409876543", "9 hyvä palvelu")
            assert arrived.wait(10)
            assert (received[0].number, received[0].text) == ("+358409876543", "9 hyvä palvelu")
            wait_until(lambda: core.stored() == [])  # the client deleted what it read
            # The client handles each notification in a thread of its own: let them end here,
            # so that nothing of this test is still running (or failing) in a later one.
            wait_until(lambda: not _notification_threads(), timeout=15)
        finally:
            client.close()
            for thread in _notification_threads():
                thread.join(10)


def _notification_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "ModemNotification" in t.name]
