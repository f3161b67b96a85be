"""`modem-info`, `selftest` and `simulate-modem --profile` against modems as they behave:
a SIM busy for 15 s after power-on, a modem without ATS7 (issue 15). Waits on fake time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from modem_fixtures import FakeTime, sim_modem
from services import wait_until

from hardware.modem_sim_pty import control_request
from palaute.cli import main
from sms_gateway import modem as modem_module


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Fake time for every Modem the commands build (they take it from WAIT_CLOCK)."""
    fake = FakeTime()
    monkeypatch.setattr(modem_module, "WAIT_CLOCK", fake.clock, raising=False)
    return fake


def test_modem_info_waits_for_a_sim800_sim_busy_15_s(tmp_path: Path, fake: FakeTime,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with sim_modem(tmp_path, profile="sim800", time_source=fake) as (path, _core):
        assert main(["sms", "modem-info", "--port", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sim"] == "READY" and data["model"] == "SIMCOM_SIM800L"
    assert 15.0 <= fake.now - 1000.0 <= 17.0


def test_modem_info_sim_wait_is_bounded_and_says_why(tmp_path: Path, fake: FakeTime,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with sim_modem(tmp_path, profile="sim800", time_source=fake) as (path, _core):
        assert main(["sms", "modem-info", "--port", path, "--sim-wait", "5"]) == 1
    err = capsys.readouterr().err
    assert "still busy after 5 s (+CME ERROR: 14)" in err and "does not answer" not in err
    assert fake.now - 1000.0 <= 6.0


@pytest.mark.parametrize("value", ["0", "-3", "601", "soon"])
def test_modem_info_refuses_a_bad_sim_wait(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sms", "modem-info", "--port", "/dev/null", "--sim-wait", value])
    assert "--sim-wait" in capsys.readouterr().err


def test_modem_info_on_a_modem_without_s7(tmp_path: Path, fake: FakeTime,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with sim_modem(tmp_path, profile="qualcomm-stick", time_source=fake) as (path, _core):
        assert main(["sms", "modem-info", "--port", path]) == 0
    out = capsys.readouterr().out
    assert "manufacturer: QUALCOMM INCORPORATED" in out and "SIM:          READY" in out


def _sms_config(tmp_path: Path, port: str, extra: str = "") -> Path:
    from test_selftest import _config  # the selftest tests' device config

    path = _config(tmp_path, kiosk=False)
    path.write_text(path.read_text() + f'[sms]\nmodems = ["{port}"]\nhash_key = "k"\n{extra}')
    return path


def test_selftest_waits_for_a_busy_sim_as_configured(tmp_path: Path, fake: FakeTime,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with sim_modem(tmp_path, profile="sim800", time_source=fake) as (port, _core):
        config = _sms_config(tmp_path, port)
        assert main(["selftest", "--config", str(config), "--json", "--only", "modem"]) == 0
        capsys.readouterr()
        # The same modem, rebooted, with [sms] sim_wait_s shorter than its busy SIM.
        _core.reboot()
        config = _sms_config(tmp_path, port, "sim_wait_s = 4\n")
        assert main(["selftest", "--config", str(config), "--json", "--only", "modem"]) == 1
    detail = json.loads(capsys.readouterr().out)["checks"][0]["detail"]
    assert "still busy after 4 s" in detail


def test_selftest_refuses_a_bad_sim_wait(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = _sms_config(tmp_path, "/dev/null", "sim_wait_s = 0\n")
    main(["selftest", "--config", str(config), "--json", "--only", "modem"])
    captured = capsys.readouterr()
    assert "sim_wait_s" in captured.out + captured.err


def test_simulate_modem_profile_by_name(tmp_path: Path) -> None:
    link, control = tmp_path / "modem", tmp_path / "control.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "palaute", "sms", "simulate-modem", "--link", str(link),
         "--control", str(control), "--profile", "huawei-e3372"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ},
    )
    try:
        wait_until(lambda: link.is_symlink() and control.exists(), timeout=15)
        assert json.loads(control_request(control, "status"))["profile"] == "huawei-e3372"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def test_simulate_modem_unknown_profile(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    assert main(["sms", "simulate-modem", "--link", str(tmp_path / "m"), "--profile",
                 "nokia-3310"]) == 1
    err = capsys.readouterr().err
    assert "unknown modem profile 'nokia-3310'" in err and "huawei-e3372" in err


def test_profiles_by_other_names() -> None:
    from hardware.modem_sim_profiles import sim_config

    assert sim_config("Huawei").profile == "huawei-e3372"
    assert sim_config("SIM800L").sim_busy_s == 15.0
    assert sim_config("ec25").busy_cpin == "NOT READY"


def test_demo_refuses_an_unknown_modem_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--modem-profile", "nokia-3310"]) == 1
    assert "unknown modem profile 'nokia-3310'" in capsys.readouterr().err
