"""The unit files verify with systemd-analyze and keep a low exposure score."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).resolve().parent.parent / "palaute" / "systemd"  # shipped in the wheel
UNITS = sorted(UNIT_DIR.glob("palaute-*.service"))
PALAUTE = Path(sys.executable).parent / "palaute"

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed")


def _local_copy(unit: Path, tmp_path: Path) -> Path:
    # verify checks that ExecStart exists: point it at this checkout's palaute.
    text = unit.read_text().replace("/opt/palaute/venv/bin/palaute", str(PALAUTE))
    copy = tmp_path / unit.name
    copy.write_text(text)
    return copy


def test_every_role_has_a_unit() -> None:
    assert {u.stem for u in UNITS} == {f"palaute-{r}" for r in ("kiosk", "sms", "sync", "central")}


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_unit_verifies(unit: Path, tmp_path: Path) -> None:
    result = subprocess.run(["systemd-analyze", "verify", str(_local_copy(unit, tmp_path))],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "palaute" not in result.stderr  # no warning about our unit


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_unit_exposure_is_at_most_2_5(unit: Path) -> None:
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                            capture_output=True, text=True)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.5


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_unit_is_notify_with_watchdog_and_dedicated_user(unit: Path) -> None:
    text = unit.read_text()
    for line in ("Type=notify", "Restart=on-failure", "User=palaute", "ProtectSystem=strict",
                 "ReadWritePaths=/var/lib/palaute", "NoNewPrivileges=yes", "PrivateTmp=yes",
                 "ProtectHome=yes"):
        assert line in text.splitlines(), line
    assert re.search(r"^WatchdogSec=\d+$", text, re.M)
