"""The simulated modem's own behaviour (TS 27.005 / 27.007 as modems speak it) and its
control interface, on the pure core and over the pty and control socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hardware.modem_sim import ModemCore, SimConfig
from hardware.modem_sim_pty import ControlServer, control_request
from sms_gateway.pdu import decode_pdu, encode_submit


def at(core: ModemCore, command: str) -> bytes:
    core.receive(command.encode() + b"\r")
    return b"".join(core.take_output())


def test_echo_until_ate0_and_crlf_framing() -> None:
    core = ModemCore()
    assert at(core, "AT") == b"AT\r\r\nOK\r\n"
    assert at(core, "ATE0") == b"ATE0\r\r\nOK\r\n"
    assert at(core, "AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert at(core, "AT+NOPE") == b"\r\nERROR\r\n"


def test_cmee_decides_the_error_form() -> None:
    core = ModemCore()
    at(core, "ATE0")
    assert at(core, "AT+CMGR=5") == b"\r\nERROR\r\n"
    at(core, "AT+CMEE=1")
    assert at(core, "AT+CMGR=5") == b"\r\n+CMS ERROR: 321\r\n"


def test_pdu_send_with_prompt_and_escape() -> None:
    core = ModemCore()
    at(core, "ATE0")
    part = encode_submit("+358401234567", "Moi")[0]
    assert at(core, f"AT+CMGS={part.tpdu_length}") == b"\r\n> "
    core.receive(b"\x1b")  # ESC: abandon, nothing sent
    assert core.sent() == [] and b"OK" in b"".join(core.take_output())
    at(core, f"AT+CMGS={part.tpdu_length}")
    core.receive(part.hex.encode() + b"\x1a")
    assert b"".join(core.take_output()) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    at(core, f"AT+CMGS={part.tpdu_length + 1}")  # wrong length: rejected as modems do
    core.receive(part.hex.encode() + b"\x1a")
    at(core, "AT+CMEE=1")
    assert len(core.sent()) == 1


def test_text_mode_send_and_list() -> None:
    core = ModemCore()
    for command in ("ATE0", "AT+CMGF=1", 'AT+CPMS="SM","SM","SM"'):
        at(core, command)
    assert at(core, 'AT+CMGS="+358401234567"') == b"\r\n> "
    core.receive(b"Kiitos\x1a")
    assert b"+CMGS: 0" in b"".join(core.take_output())
    assert core.sent()[0]["text"] == "Kiitos" and core.sent()[0]["recipient"] == "+358401234567"
    core.deliver("+358409876543", "OK")
    core.take_output()
    listing = at(core, 'AT+CMGL="ALL"').decode()
    assert '+CMGL: 1,"REC UNREAD","+358409876543"' in listing
    assert "\r\nOK\r\n\r\nOK\r\n" in listing  # the SMS text "OK", then the final OK


def test_storage_slots_fill_and_arrivals_wait_in_the_network() -> None:
    core = ModemCore(SimConfig(slots=2))
    for command in ("ATE0", "AT+CMEE=1", "AT+CNMI=2,1,0,1,0"):
        at(core, command)
    for n in range(3):
        core.deliver("+358401234567", f"m{n}")
    out = b"".join(core.take_output()).decode()
    assert out.count("+CMTI:") == 2 and core.status()["waiting"] == 1
    assert at(core, "AT+CPMS?") == b'\r\n+CPMS: "SM",2,2,"SM",2,2,"SM",2,2\r\n\r\nOK\r\n'
    out = at(core, "AT+CMGD=1").decode()
    assert '+CMTI: "SM",1' in out and core.status()["waiting"] == 0
    at(core, "AT+CMGL=4")  # marks both read
    at(core, "AT+CMGD=1,1")  # delete all read
    assert core.stored() == []


def test_sent_joins_multipart_and_status_reports_follow_cmgs() -> None:
    core = ModemCore()
    for command in ("ATE0", "AT+CNMI=2,1,0,1,0"):
        at(core, command)
    text = "Kiitos palautteestasi! " * 10
    for part in encode_submit("+358401234567", text, status_report=True, concat_ref=9):
        at(core, f"AT+CMGS={part.tpdu_length}")
        core.receive(part.hex.encode() + b"\x1a")
        out = b"".join(core.take_output()).decode()
        assert out.index("+CMGS:") < out.index("+CDS:")
        report = decode_pdu(out.split("+CDS:")[1].split("\r\n")[1])
        assert report.type == "status-report" and report.recipient == "+358401234567"
    (sent,) = core.sent()
    assert sent["text"] == text and sent["message_refs"] == [0, 1] and sent["parts"] == 2


def test_control_lines() -> None:
    core = ModemCore()
    assert core.control("deliver +358401234567 Hei vaan, tässä pitkä viesti") == "ok 1"
    assert core.control("deliver +358401234567 " + "x" * 400) == "ok 3"
    assert core.control("fault urc-mid 2") == "ok"
    assert json.loads(core.control("status"))["faults"] == ["urc-mid"]
    assert core.control("clear") == "ok"
    assert json.loads(core.control("status"))["faults"] == []
    assert len(json.loads(core.control("stored"))) == 4
    assert json.loads(core.control("sent")) == []
    assert core.control("fault nosuch").startswith("error: unknown fault")
    assert core.control("deliver onlysender").startswith("error: usage")
    assert core.control("deliver-pdu XYZ").startswith("error:")
    assert core.control("frobnicate").startswith("error: unknown request")


def test_control_socket(tmp_path: Path) -> None:
    core = ModemCore()
    server = ControlServer(tmp_path / "ctl", core).start()
    try:
        assert control_request(tmp_path / "ctl", "deliver +358401234567 Moi") == "ok 1"
        assert json.loads(control_request(tmp_path / "ctl", "status"))["storage"]["SM"] == 1
    finally:
        server.stop()
    assert not (tmp_path / "ctl").exists()


@pytest.mark.parametrize("fault", ["sim-busy 1", "pin 1234"])
def test_sim_faults_answer_cme_errors(fault: str) -> None:
    core = ModemCore()
    at(core, "ATE0")
    at(core, "AT+CMEE=1")
    core.fault(*fault.split())
    expected = b"14" if fault.startswith("sim-busy") else b"SIM PIN"
    assert expected in at(core, "AT+CPIN?")


def test_cmgw_into_full_storage_is_cms_322() -> None:
    core = ModemCore(SimConfig(slots=1))
    for command in ("ATE0", "AT+CMEE=1"):
        at(core, command)
    part = encode_submit("+358401234567", "luonnos")[0]
    assert at(core, f"AT+CMGW={part.tpdu_length}") == b"\r\n> "
    core.receive(part.hex.encode() + b"\x1a")
    assert b"".join(core.take_output()) == b"\r\n+CMGW: 1\r\n\r\nOK\r\n"
    assert at(core, f"AT+CMGW={part.tpdu_length}") == b"\r\n+CMS ERROR: 322\r\n"
    at(core, "AT+CNMI=2,1,0,1,0")
    core.deliver("+358409876543", "ei mahdu")
    assert b'^SMMEMFULL: "SM"' in b"".join(core.take_output())
    assert core.status()["waiting"] == 1
