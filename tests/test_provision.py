"""`palaute provision`: writes a working config, is idempotent, refuses bad input cleanly."""

from __future__ import annotations

import io
import os
import pwd
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
            "--units-dir", str(tmp / "units"), "--survey", "national", "--no-prompts",
            "--user", ME, *extra]


ME = pwd.getpwuid(os.geteuid()).pw_name  # the service user of these tests: whoever runs them


def test_provision_writes_config_store_and_units(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(tmp_path)) == 0
    config_path = tmp_path / "etc" / "device.toml"
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "etc" / "mqtt.pass").stat().st_mode) == 0o640
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


def _one_error_nothing_written(tmp: Path, capsys: pytest.CaptureFixture[str],
                               argv: list[str], *messages: str) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("palaute: error: "), err
    assert all(m in err[0] for m in messages), err
    assert not (tmp / "etc").exists() and not (tmp / "data").exists()
    assert not (tmp / "units").exists()


def test_a_unit_name_the_central_would_refuse_is_refused_here(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _argv(tmp_path)
    argv[argv.index("ensiapu")] = "u" * 135
    _one_error_nothing_written(tmp_path, capsys, argv, "--unit: is 135 characters; at most 100")
    argv = _argv(tmp_path)
    argv[argv.index("tays-lobby-3")] = "kioski-ä"
    _one_error_nothing_written(tmp_path, capsys, argv, "--id: 'kioski-ä' is not a valid id")


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp / "missing.pem", "missing.pem: no such file"),
    (lambda tmp: tmp, "cannot read: Is a directory"),
    (lambda tmp: tmp / "units.txt", "not a PEM certificate"),
])
@pytest.mark.parametrize("enroll", [False, True])
def test_a_bad_ca_file_is_one_line_before_anything(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, message: str,
        enroll: bool) -> None:
    (tmp_path / "units.txt").write_text("not a certificate\n")
    ca = make(tmp_path)  # type: ignore[operator]
    if enroll:
        # Port 9 (discard) would be an unreachable central: the CA is refused before that.
        argv = ["provision", "--enroll", "https://127.0.0.1:9/enroll", "--token", "t",
                "--ca-file", str(ca), "--etc", str(tmp_path / "etc"),
                "--data", str(tmp_path / "data"), "--units-dir", str(tmp_path / "units")]
    else:
        argv = _argv(tmp_path, "--ca-file", str(ca))
    _one_error_nothing_written(tmp_path, capsys, argv, f"--ca-file: {ca}", message)


def test_the_ca_is_copied_beside_the_config(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    (tmp_path / "ca-in.pem").write_bytes(pem)
    assert main(_argv(tmp_path, "--ca-file", str(tmp_path / "ca-in.pem"))) == 0
    copied = tmp_path / "etc" / "ca.pem"
    assert copied.read_bytes() == pem and stat.S_IMODE(copied.stat().st_mode) == 0o640
    config = load_config(tmp_path / "etc" / "device.toml")
    assert config.section("mqtt").get_path("ca_file") == copied


def test_relative_folders_work_from_where_provision_ran(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = _argv(Path("."))
    assert main(argv) == 0
    config = load_config(tmp_path / "etc" / "device.toml")
    assert config.store_path() == tmp_path / "data" / "store.sqlite"
    assert config.store_path().is_file() and config.survey_path().is_file()
    assert config.section("mqtt").get_path("password_file") == tmp_path / "etc" / "mqtt.pass"


def test_password_from_a_file_or_stdin_never_from_argv(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("-starts-with-a-dash\n")
    argv = [a for a in _argv(tmp_path) if a not in ("--password", "s3cret")]
    assert main([*argv, "--password-file", str(secret)]) == 0
    assert (tmp_path / "etc" / "mqtt.pass").read_text() == "-starts-with-a-dash\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin\n"))
    assert main([*argv, "--password-file", "-"]) == 0
    assert (tmp_path / "etc" / "mqtt.pass").read_text() == "from-stdin\n"


@pytest.mark.parametrize(("content", "message"), [
    (None, "nothing.txt: no such file"),
    ("\n", "the first line is empty"),
])
def test_a_bad_password_file_is_one_line_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        message: str) -> None:
    path = tmp_path / "nothing.txt"
    if content is not None:
        path.write_text(content)
    argv = [a for a in _argv(tmp_path) if a not in ("--password", "s3cret")]
    _one_error_nothing_written(tmp_path, capsys, [*argv, "--password-file", str(path)],
                               f"--password-file: {path}", message)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another user needs root")
def test_as_root_the_service_user_can_read_and_owns_the_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _argv(tmp_path)
    argv[argv.index("--user") + 1] = "nobody"
    assert main(argv) == 0
    nobody = pwd.getpwnam("nobody")
    etc, data = tmp_path / "etc", tmp_path / "data"
    for path in (etc / "device.toml", etc / "mqtt.pass", etc / "surveys" / "national.toml"):
        st = path.stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, nobody.pw_gid, 0o640)
    for folder in (etc, etc / "surveys"):
        st = folder.stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, nobody.pw_gid, 0o750)
    for path in (data, data / "store.sqlite"):
        assert (path.stat().st_uid, path.stat().st_gid) == (nobody.pw_uid, nobody.pw_gid)
    capsys.readouterr()
    assert main(argv) == 0  # a second run finds everything as it should be
    assert "update" not in capsys.readouterr().out


def test_provision_refuses_a_service_user_that_does_not_exist(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root gives files to the service user")
    argv = _argv(tmp_path)
    argv[argv.index("--user") + 1] = "no-such-user-here"
    _one_error_nothing_written(tmp_path, capsys, argv, "does not exist; run `sudo "
                               "scripts/install.sh ROLES` first")


def test_password_twice_is_refused_before_anything(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw\n")
    _one_error_nothing_written(tmp_path, capsys, _argv(tmp_path, "--password-file", str(secret)),
                               "give --password or --password-file, not both")
