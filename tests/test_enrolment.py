"""Enrolment: a one-time token over HTTPS gives a device its config and broker account."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.enroll import EnrolmentServer, EnrolmentSettings
from palaute.cli import main
from survey.config import load_config


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def central(tmp_path: Path, tls: tuple[Path, Path]) -> Iterator[tuple[Path, EnrolmentServer]]:
    cert, key = tls
    config = tmp_path / "central.toml"
    config.write_text(
        "[enrol]\n"
        f'tokens = "{tmp_path / "tokens.sqlite"}"\n'
        'listen = "127.0.0.1:0"\n'
        f'certfile = "{cert}"\nkeyfile = "{key}"\n'
        'broker_url = "mqtts://central.example.fi:8883"\n'
        f'password_file = "{tmp_path / "mosquitto.passwd"}"\n'
    )
    settings = EnrolmentSettings.from_config(load_config(config))
    assert settings is not None
    server = EnrolmentServer(settings).start()
    try:
        yield config, server
    finally:
        server.close()


def _token(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["central", "enroll-token", "--config", str(config), "--device", "tays-lobby-9",
                 "--site", "tays", "--area", "sairaalapalvelut", "--unit", "ensiapu",
                 "--roles", "kiosk,sync"]) == 0
    return capsys.readouterr().out.strip()


def test_enrol_writes_config_and_broker_account_once(
    tmp_path: Path, tls: tuple[Path, Path], central: tuple[Path, EnrolmentServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, server = central
    token = _token(config, capsys)
    argv = ["provision", "--enroll", f"https://127.0.0.1:{server.port}/enroll", "--token", token,
            "--ca-file", str(tls[0]), "--etc", str(tmp_path / "etc"),
            "--data", str(tmp_path / "data"), "--units-dir", str(tmp_path / "units"),
            "--no-prompts"]
    assert main(argv) == 0
    device = load_config(tmp_path / "etc" / "device.toml")
    assert device.identity().id == "tays-lobby-9"
    assert device.section("mqtt").get_str("url") == "mqtts://central.example.fi:8883"
    password = (tmp_path / "etc" / "mqtt.pass").read_text().strip()
    assert len(password) >= 24
    assert (tmp_path / "mosquitto.passwd").read_text().startswith("tays-lobby-9:")
    capsys.readouterr()
    # The same token again is refused, and nothing is rewritten.
    before = (tmp_path / "etc" / "device.toml").read_bytes()
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "token was refused" in err and err.count("\n") == 1
    assert (tmp_path / "etc" / "device.toml").read_bytes() == before


def test_untrusted_certificate_is_a_clear_error(
    tmp_path: Path, central: tuple[Path, EnrolmentServer], capsys: pytest.CaptureFixture[str],
) -> None:
    config, server = central
    token = _token(config, capsys)
    code = main(["provision", "--enroll", f"https://127.0.0.1:{server.port}/enroll",
                 "--token", token, "--etc", str(tmp_path / "etc"),
                 "--data", str(tmp_path / "data")])
    assert code == 1
    assert "TLS check" in capsys.readouterr().err
    assert not (tmp_path / "etc").exists()
