"""The central's device registry: written by broker-config and enrolment, moved by an operator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from central import registry
from central.enroll import Enrolment, EnrolmentSettings
from central.registry import DeviceOrigin, RegistryError
from central.store import open_central
from palaute.cli import main

NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def test_move_device_is_audited(central_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["central", "move-device", "tays-lobby-3", "--db", central_url]
    assert main([*base, "--site", "tays", "--area", "sairaalapalvelut", "--unit", "ensiapu",
                 "--by", "anna"]) == 0
    assert "(registered)" in capsys.readouterr().out
    assert main([*base, "--unit", "kardiologia", "--by", "ville"]) == 0
    assert main([*base, "--unit", "kardiologia"]) == 0  # no change: no audit row
    assert main([*base, "--site", "oys"]) == 0
    assert "still lets tays-lobby-3 publish only under site tays" in capsys.readouterr().out
    with open_central(central_url) as db:
        origin = registry.lookup(db, "tays-lobby-3")
        trail = registry.audit_trail(db, "tays-lobby-3")
    assert origin == DeviceOrigin("tays-lobby-3", "oys", "sairaalapalvelut", "kardiologia")
    assert [(a.action, a.actor) for a in trail][:2] == [("register", "anna"), ("move", "ville")]
    assert [a.new["unit"] for a in trail] == ["ensiapu", "kardiologia", "kardiologia"]
    assert trail[1].old == {"site": "tays", "area": "sairaalapalvelut", "unit": "ensiapu"}


def test_move_device_errors_are_one_line(central_url: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["central", "move-device", "ghost", "--db", central_url, "--unit", "x"]) == 1
    assert "not registered: give --site, --area and --unit" in capsys.readouterr().err
    assert main(["central", "move-device", "a", "--db", central_url, "--site", "bad site",
                 "--area", "a", "--unit", "u"]) == 1
    err = capsys.readouterr().err
    assert "bad site 'bad site'" in err and err.count("\n") == 1


def test_a_device_id_differing_only_in_case_is_refused(central_url: str) -> None:
    with open_central(central_url) as db:
        registry.register(db, DeviceOrigin("lobby-1", "a", "ar", "u"), action="register",
                          actor="t", at=NOW)
        with pytest.raises(RegistryError, match="regardless of case"):
            registry.register(db, DeviceOrigin("Lobby-1", "b", "ar", "u"), action="register",
                              actor="t", at=NOW)


def test_broker_config_registers_the_listed_origins(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    devices = tmp_path / "devices.txt"
    devices.write_text("tays/tays-lobby-3 sairaalapalvelut ensiapu\ntays/tays-lobby-4\n")
    assert main(["central", "broker-config", "--devices", str(devices), "--out",
                 str(tmp_path / "b"), "--bind", "127.0.0.1", "--db", url]) == 0
    assert "1 devices with an area and unit, 1 new or changed" in capsys.readouterr().out
    with open_central(url) as db:
        origin = registry.lookup(db, "tays-lobby-3")
        assert origin is not None and origin.place() == {
            "site": "tays", "area": "sairaalapalvelut", "unit": "ensiapu"}
        assert origin.enrolled_at is not None  # registered now: older answers are implausible
        assert registry.lookup(db, "tays-lobby-4") is None
        [row] = registry.audit_trail(db)
    assert row.action == "broker-config"


def test_enrolment_registers_the_device_and_keeps_the_first_enrolment_time(
        tmp_path: Path) -> None:
    settings = EnrolmentSettings(
        tokens=tmp_path / "t.sqlite", listen_host="127.0.0.1", listen_port=0, certfile=None,
        keyfile=None, broker_url="mqtts://central.example.fi", password_file=None,
        acl_file=None, reload_command="")
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        enrolment = Enrolment(settings, db)
        try:
            for at, unit in ((NOW, "ensiapu"), (NOW + timedelta(days=30), "kardiologia")):
                token = enrolment.book.make(
                    {"device_id": "oys-lobby-1", "site": "oys", "area": "a", "unit": unit,
                     "roles": ["kiosk"], "made_by": "anna"}, at, timedelta(hours=1))
                reply = enrolment.enrol(token, at)
                assert "made_by" not in reply
        finally:
            enrolment.close()
        origin = registry.lookup(db, "oys-lobby-1")
        trail = registry.audit_trail(db)
    assert origin == DeviceOrigin("oys-lobby-1", "oys", "a", "kardiologia", enrolled_at=NOW)
    assert [(a.action, a.actor) for a in trail] == [("enrol", "anna"), ("enrol", "anna")]


def test_a_token_for_a_bad_id_or_a_central_account_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from central.enroll import EnrolmentError

    out = tmp_path / "broker"
    assert main(["central", "broker-config", "--out", str(out), "--bind", "127.0.0.1",
                 "--device", "tays/tays-lobby-3"]) == 0
    settings = EnrolmentSettings(
        tokens=tmp_path / "t.sqlite", listen_host="127.0.0.1", listen_port=0, certfile=None,
        keyfile=None, broker_url="mqtts://central.example.fi", password_file=out / "passwd",
        acl_file=out / "acl", reload_command="")
    enrolment = Enrolment(settings)
    try:
        with pytest.raises(EnrolmentError, match="bad --device"):
            enrolment.book.make({"device_id": "x\nuser central", "site": "s", "area": "a",
                                 "unit": "u", "roles": ["kiosk"]}, NOW, timedelta(hours=1))
        passwd = (out / "passwd").read_bytes()
        token = enrolment.book.make({"device_id": "central", "site": "s", "area": "a",
                                     "unit": "u", "roles": ["kiosk"]}, NOW, timedelta(hours=1))
        with pytest.raises(EnrolmentError, match="central account"):
            enrolment.enrol(token, NOW)
        assert (out / "passwd").read_bytes() == passwd
    finally:
        enrolment.close()


def test_devices_lists_the_registry_and_its_audit(central_url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["central", "move-device", "tays-lobby-3", "--db", central_url, "--site", "tays",
                 "--area", "sairaalapalvelut", "--unit", "ensiapu", "--by", "anna"]) == 0
    capsys.readouterr()
    assert main(["central", "devices", "--db", central_url, "--audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "tays-lobby-3\ttays\tsairaalapalvelut\tensiapu\tenrolled -"
    assert lines[1].endswith("tays-lobby-3\tregister by anna\t- -> tays/sairaalapalvelut/ensiapu")
