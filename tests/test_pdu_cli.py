"""`palaute sms decode-pdu` and `palaute sms encode-pdu`, invoked as a person would."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from palaute.cli import main
from sms_gateway.pdu import decode_pdu

SMSC = "07" "91" "534850020200"
DELIVER = SMSC + "04" "0C91534810325476" "00" "00" "52304001512080" "06" "CB749AFE9E03"


def test_decode_pdu_prints_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sms", "decode-pdu", DELIVER]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "type": "deliver", "sender": "+358401234567", "smsc": "+358405202000", "text": "Kiitos",
        "encoding": "gsm7", "timestamp": "2025-03-04T10:15:02+02:00", "concat": None,
    }


def test_decode_pdu_no_smsc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sms", "decode-pdu", "--no-smsc", DELIVER[len(SMSC):]]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["smsc"] is None and out["text"] == "Kiitos"


def test_decode_status_report_has_ref_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    report = "00" "06" "2A" "0C91534810325476" "52304001512080" "52304001522080" "00"
    assert main(["sms", "decode-pdu", report]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["type"], out["recipient"], out["message_ref"], out["status"]) == (
        "status-report", "+358401234567", 42, 0)


def test_bad_hex_is_one_error_line_and_exit_1() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "palaute", "sms", "decode-pdu", "0791XYZ"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("palaute: error: ") and "invalid hex" in lines[0]
    assert proc.stdout == ""


def test_encode_pdu_prints_one_line_per_part(capsys: pytest.CaptureFixture[str]) -> None:
    text = "Kuinka todennäköisesti suosittelisit saamaasi palvelua läheisellesi? " * 3
    code = main(["sms", "encode-pdu", "--to", "+358401234567", "--smsc", "+358405202000",
                 "--status-report", text])
    assert code == 0
    lines = capsys.readouterr().out.split()
    assert len(lines) == 2
    parts = [decode_pdu(line) for line in lines]
    assert all(p.recipient == "+358401234567" and p.smsc == "+358405202000" for p in parts)
    assert all(p.status_report_request for p in parts)
    assert "".join(p.text for p in parts) == text


def test_encode_pdu_refuses_a_bad_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sms", "encode-pdu", "--to", "Palautekysely", "x"]) == 1
    assert "palaute: error:" in capsys.readouterr().err
