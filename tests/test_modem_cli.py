"""`palaute sms simulate-modem` and `palaute sms modem-info`, invoked as a person would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from modem_fixtures import sim_modem
from services import wait_until

from hardware.modem_sim_pty import control_request
from palaute.cli import main


def test_modem_info_human_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sim_modem(tmp_path) as (path, core):
        core.fault("pin", "2468")
        assert main(["sms", "modem-info", "--port", path, "--pin", "2468"]) == 0
        out = capsys.readouterr().out
        for expected in ("manufacturer: Palaute", "IMEI:         356938035643809",
                         "SIM:          READY", "signal:       20/31 (-73 dBm)",
                         "registration: home (gsm)", "storage:      SM 0/10"):
            assert expected in out
        assert main(["sms", "modem-info", "--port", path, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["model"] == "SIM-GSM 1" and data["signal"]["rssi"] == 20
        assert data["registration"]["registered"] is True


def test_modem_info_without_pin_shows_the_sim_state(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with sim_modem(tmp_path) as (path, core):
        core.fault("pin", "2468")
        assert main(["sms", "modem-info", "--port", path]) == 0
        out = capsys.readouterr().out
        assert "SIM:          SIM PIN" in out and "IMEI:         356938035643809" in out
        assert main(["sms", "modem-info", "--port", path, "--pin", "1111"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == ("palaute: error: the SIM refused the configured PIN "
                           "(+CME ERROR: 16)")
        assert "1111" not in "".join(err)


def test_modem_info_missing_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sms", "modem-info", "--port", str(tmp_path / "ttyUSB9")]) == 1
    assert "palaute: error: cannot open modem port" in capsys.readouterr().err


def test_simulate_modem_runs_until_sigterm(tmp_path: Path) -> None:
    link, control = tmp_path / "modem", tmp_path / "control.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "palaute", "sms", "simulate-modem", "--link", str(link),
         "--control", str(control)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ},
    )
    try:
        wait_until(lambda: link.is_symlink() and control.exists(), timeout=15)
        assert control_request(control, "deliver +358401234567 Moi") == "ok 1"
        assert main(["sms", "modem-info", "--port", str(link), "--json"]) == 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert not link.exists() and not link.is_symlink() and not control.exists()
