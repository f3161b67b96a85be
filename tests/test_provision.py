"""`palaute provision`: writes a working config, is idempotent, refuses bad input cleanly."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from palaute.cli import main
from survey.config import load_config
from survey.store import Store


def _argv(tmp: Path, *extra: str) -> list[str]:
    return ["provision", "--id", "tays-lobby-3", "--site", "tays", "--area", "sairaalapalvelut",
            "--unit", "ensiapu", "--roles", "kiosk,sync", "--broker", "mqtts://central.example.fi",
            "--password", "s3cret", "--etc", str(tmp / "etc"), "--data", str(tmp / "data"),
            "--units-dir", str(tmp / "units"), "--survey", "national", "--no-prompts", *extra]


def test_provision_writes_config_store_and_units(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(tmp_path)) == 0
    config_path = tmp_path / "etc" / "device.toml"
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "etc" / "mqtt.pass").stat().st_mode) == 0o600
    config = load_config(config_path)
    ident = config.identity()
    assert (ident.id, ident.site, ident.area, ident.unit) == (
        "tays-lobby-3", "tays", "sairaalapalvelut", "ensiapu")
    assert config.section("mqtt").get_str("url") == "mqtts://central.example.fi"
    assert config.survey_path().is_file()
    with Store(config.store_path(), create=False) as store:
        assert store.integrity_check() == "ok"
    assert sorted(p.name for p in (tmp_path / "units").iterdir()) == [
        "palaute-kiosk.service", "palaute-sync.service"]


def test_second_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(tmp_path)) == 0
    config_path = tmp_path / "etc" / "device.toml"
    before = (config_path.read_bytes(), config_path.stat().st_mtime_ns)
    capsys.readouterr()
    assert main(_argv(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "create" not in out and "update" not in out
    assert (config_path.read_bytes(), config_path.stat().st_mtime_ns) == before


def test_changed_value_updates_only_the_config(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(tmp_path)) == 0
    capsys.readouterr()
    argv = _argv(tmp_path)
    argv[argv.index("ensiapu")] = "lastenpoli"
    assert main(argv) == 0
    updates = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith("update")]
    assert len(updates) == 1 and "device.toml" in updates[0]
    assert load_config(tmp_path / "etc" / "device.toml").identity().unit == "lastenpoli"


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(tmp_path, "--dry-run")) == 0
    out = capsys.readouterr().out
    assert "would create file" in out and "device.toml" in out
    assert not (tmp_path / "etc").exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--broker", "http://central.example.fi", "not an mqtts://"),
    ("--broker", "mqtt://central.example.fi", "only on loopback"),
    ("--roles", "kiosk,printer", "unknown role"),
    ("--survey", "no-such-survey", "neither a shipped survey"),
])
def test_bad_input_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    argv = _argv(tmp_path)
    argv[argv.index(flag) + 1] = value
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("palaute: error: ") and message in err[0]
    assert not (tmp_path / "etc").exists()


def test_unreachable_enrolment_writes_nothing(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["provision", "--enroll", "https://127.0.0.1:9/enroll", "--token", "x",
                 "--etc", str(tmp_path / "etc"), "--data", str(tmp_path / "data")])
    assert code == 1
    assert "cannot reach" in capsys.readouterr().err
    assert not (tmp_path / "etc").exists()
