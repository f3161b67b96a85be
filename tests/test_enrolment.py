"""Enrolment: a one-time token over HTTPS gives a device its config and broker account."""

from __future__ import annotations

import contextlib
import http.client
import os
import pwd
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

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
            "--no-prompts", "--user", pwd.getpwuid(os.geteuid()).pw_name]
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


# -- the server under attack: idle connections, big bodies, floods, a failing reload --------


@contextlib.contextmanager
def serving(tmp_path: Path, tls: tuple[Path, Path], extra: str = "",
            handshake_timeout: float = 10.0) -> Iterator[tuple[Path, EnrolmentServer]]:
    cert, key = tls
    config = tmp_path / "central.toml"
    config.write_text(
        f'[enrol]\ntokens = "{tmp_path / "tokens.sqlite"}"\nlisten = "127.0.0.1:0"\n'
        f'certfile = "{cert}"\nkeyfile = "{key}"\n'
        'broker_url = "mqtts://central.example.fi:8883"\n'
        f'password_file = "{tmp_path / "mosquitto.passwd"}"\n{extra}'
    )
    settings = EnrolmentSettings.from_config(load_config(config))
    assert settings is not None
    server = EnrolmentServer(settings, handshake_timeout=handshake_timeout).start()
    try:
        yield config, server
    finally:
        server.close()


def _provision(server: EnrolmentServer, token: str, tmp_path: Path, cert: Path) -> int:
    return main(["provision", "--enroll", f"https://127.0.0.1:{server.port}/enroll",
                 "--token", token, "--ca-file", str(cert), "--etc", str(tmp_path / "etc"),
                 "--data", str(tmp_path / "data"), "--units-dir", str(tmp_path / "units"),
                 "--no-prompts", "--user", pwd.getpwuid(os.geteuid()).pw_name])


def test_an_idle_connection_does_not_block_enrolment(
        tmp_path: Path, tls: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    with serving(tmp_path, tls, handshake_timeout=1.0) as (config, server):
        token = _token(config, capsys)
        # An attacker opens a TCP connection and never starts TLS.
        idle = socket.create_connection(("127.0.0.1", server.port))
        try:
            assert _provision(server, token, tmp_path, tls[0]) == 0
            # ...and the server gives it up after the handshake timeout.
            idle.settimeout(30)
            with contextlib.suppress(ConnectionResetError):
                assert idle.recv(1) == b""
        finally:
            idle.close()
    assert load_config(tmp_path / "etc" / "device.toml").identity().id == "tays-lobby-9"


def _announce_body(port: int, cafile: Path, length: int) -> tuple[int, bytes]:
    """POST /enroll announcing a body of `length` bytes but sending none: the answer must
    come from the headers alone (sending the body would race the server's early close)."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    try:
        conn.putrequest("POST", "/enroll")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_an_oversized_or_unsized_body_is_refused(tmp_path: Path, tls: tuple[Path, Path]) -> None:
    with serving(tmp_path, tls) as (_, server):
        url = f"https://127.0.0.1:{server.port}/enroll"
        status, body = _announce_body(server.port, tls[0], 100_000)
        chunked = requests.post(url, data=iter([b'{"token": "x"}']), verify=tls[0], timeout=10)
        assert (status, chunked.status_code) == (413, 411)
        assert b"over" in body


def test_too_many_requests_from_one_address_get_429(tmp_path: Path,
                                                    tls: tuple[Path, Path]) -> None:
    with serving(tmp_path, tls, "rate_per_minute = 3\n") as (_, server):
        url = f"https://127.0.0.1:{server.port}/enroll"
        codes = [requests.post(url, json={"token": f"guess-{i}"}, verify=tls[0],
                               timeout=10).status_code for i in range(5)]
    assert codes == [403, 403, 403, 429, 429]


def test_a_failed_broker_reload_is_an_error_and_the_token_stays_valid(
        tmp_path: Path, tls: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    passwd = tmp_path / "mosquitto.passwd"
    passwd.write_text("tays-lobby-1:$7$old\n")
    failing = "reload_command = \"echo 'Error: broker not running' >&2; exit 3\"\n"
    with serving(tmp_path, tls, failing) as (config, server):
        token = _token(config, capsys)
        assert _provision(server, token, tmp_path, tls[0]) == 1
        err = capsys.readouterr().err
        assert "answered 503" in err and "token is still valid" in err
        assert err.count("\n") == 1
    assert passwd.read_text() == "tays-lobby-1:$7$old\n"  # put back as it was
    assert not (tmp_path / "etc").exists()
    with serving(tmp_path, tls, 'reload_command = "true"\n') as (_, server):
        assert _provision(server, token, tmp_path, tls[0]) == 0
    assert "tays-lobby-9:" in passwd.read_text()
