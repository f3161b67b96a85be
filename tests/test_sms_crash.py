"""`palaute sms run` as a real process: SIGKILL during a send, restart, SIGTERM; systemd notify.

No invitation may go out twice and no received reply may be lost.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modem_fixtures import sim_modem
from services import wait_until
from sms_helpers import sent_to

from palaute.cli import main
from survey.definition import load_survey, shipped_survey_path

PHONES = [f"+3584010000{i:02d}" for i in range(1, 7)]


def write_config(tmp: Path, port: str) -> Path:
    cfg = tmp / "device.toml"
    cfg.write_text(f"""
[device]
id = "tays-sms-1"
site = "tays"
area = "sairaalapalvelut"
unit = "sms"
store = "{tmp / 'store.sqlite'}"

[survey]
file = "{shipped_survey_path('national')}"

[sms]
modems = ["{port}"]
hash_key = "a-test-key-of-enough-length"
window_start = 0
window_end = 24
rate_per_minute = 600
health_interval_s = 0.2
retry_port_s = 0.2
""")
    return cfg


def start_service(cfg: Path, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "palaute", "-v", "sms", "run", "--config", str(cfg)],
            stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **env})


def test_sigkill_during_send_then_restart(tmp_path: Path, capsys: object) -> None:
    survey = load_survey(shipped_survey_path("national"))
    intro = survey.message("sms_intro", "fi")
    db = tmp_path / "store.sqlite"
    log = tmp_path / "service.log"
    with sim_modem(tmp_path, latency=0.03) as (port, core):
        cfg = write_config(tmp_path, port)
        visit = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
        csv = tmp_path / "visits.csv"
        csv.write_text("unit,time,kind,phone,lang\n" + "".join(
            f"ensiapu,{visit},visit,{p},fi\n" for p in PHONES))
        assert main(["sms", "invite", "--csv", str(csv), "--config", str(cfg)]) == 0

        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(tmp_path / "notify.sock"))
        notify.settimeout(5)
        env = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "200000"}
        proc = start_service(cfg, log, env)
        try:
            assert notify.recv(4096).startswith(b"READY=1")
            wait_until(lambda: sent_to(core, PHONES[0]), timeout=10)
            core.deliver(PHONES[0], "9 hyvä")  # a reply while the others are being sent
            conn = sqlite3.connect(db, timeout=5)
            killed = wait_until(lambda: conn.execute(
                "SELECT id FROM sms_invitations WHERE state = 'sending'").fetchone(), timeout=10)
            proc.send_signal(signal.SIGKILL)
            proc.wait(5)
            conn.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

        proc = start_service(cfg, log, env)
        try:
            conn = sqlite3.connect(db, timeout=5)

            def settled() -> bool:
                states = dict(conn.execute(
                    "SELECT state, COUNT(*) FROM sms_invitations GROUP BY state").fetchall())
                answered = conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
                return states.get("queued", 0) == 0 and states.get("sending", 0) == 0 \
                    and answered >= 1
            wait_until(settled, timeout=15)
            # The watchdog is pinged while the modem is healthy, and not while it is not.
            while b"WATCHDOG=1" not in notify.recv(4096):
                pass
            core.fault("no-network", "2")
            time.sleep(0.5)  # let the service see it (health every 0.2 s)
            notify.settimeout(0.1)
            try:
                while True:
                    notify.recv(4096)
            except TimeoutError:
                pass
            notify.settimeout(0.8)
            got = []
            try:
                while True:
                    got.append(notify.recv(4096))
            except TimeoutError:
                pass
            assert not any(b"WATCHDOG=1" in g for g in got)
            core.clear()
            notify.settimeout(5)
            while b"WATCHDOG=1" not in notify.recv(4096):
                pass
            # SIGTERM in the middle of a send: the send finishes, then the service stops.
            more = tmp_path / "more.csv"
            more.write_text("unit,time,kind,phone,lang\n" + "".join(
                f"neuvola,{visit},visit,+3585020000{i},fi\n" for i in range(3)))
            assert main(["sms", "invite", "--csv", str(more), "--config", str(cfg)]) == 0
            in_flight = wait_until(lambda: conn.execute(
                "SELECT id FROM sms_invitations WHERE state = 'sending'").fetchone(), timeout=10)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(10) == 0
            assert conn.execute("SELECT state FROM sms_invitations WHERE id = ?",
                                in_flight).fetchone() == ("sent",)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            notify.close()
        state, = conn.execute("SELECT state FROM sms_invitations WHERE id = ?",
                              killed).fetchone()
        answers = conn.execute("SELECT question, value, text FROM answers").fetchall()
        conn.close()
        # Every invitation went out at most once; the one cut by the kill is unknown.
        for phone in PHONES:
            assert sum(t.startswith(intro) for t in sent_to(core, phone)) <= 1, phone
        assert state == "unknown"
        # The reply that arrived around the kill was not lost.
        assert ("nps", 9, None) in answers and ("open", None, "hyvä") in answers
    assert main(["sms", "status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert f"invitation {killed[0]}" in out and "release" in out
    assert "+358" not in out
    # Nothing logged at INFO names a phone number.
    text = log.read_text()
    assert "+358" not in text and "4010000" not in text
