"""Invitations in: HTTP polling of a patient system (a local http.server) and the CSV command."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from sms_helpers import HKI, KEY, Clock, TwinModem, gateway_config, make_gateway

from palaute.cli import main
from sms_gateway.gateway_store import GatewayStore
from sms_gateway.invitations import HttpIntake, IntakeError, IntakeSettings, Invitation
from sms_gateway.privacy import PhoneHasher
from sms_gateway.scheduler import Window
from survey.errors import StoreError
from survey.store import Store

NOW = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)


class PatientSystem:
    """A patient system's intake endpoint: items to hand out, acks received."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.acks: list[dict[str, Any]] = []
        self.fail = False


@pytest.fixture
def patient_system() -> Iterator[tuple[PatientSystem, str]]:
    ps = PatientSystem()

    class Handler(BaseHTTPRequestHandler):
        def _auth(self) -> bool:
            if self.headers.get("Authorization") != "Bearer t0k":
                self.send_response(401)
                self.end_headers()
                return False
            return True

        def do_GET(self) -> None:
            if not self._auth():
                return
            if ps.fail:
                self.send_response(500)
                self.end_headers()
                return
            body = json.dumps({"items": ps.items}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if not self._auth():
                return
            length = int(self.headers["Content-Length"])
            ps.acks.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ps, f"http://127.0.0.1:{server.server_address[1]}/visits"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def gs(tmp_path: Path) -> Iterator[GatewayStore]:
    with Store(tmp_path / "store.sqlite") as store:
        yield GatewayStore(store, PhoneHasher(KEY))


def item(item_id: str, phone: str, **kw: str) -> dict[str, str]:
    return {"id": item_id, "unit": "neuvola", "time": "2025-03-04T09:30:00+02:00",
            "kind": "visit", "phone": phone, "lang": "fi", **kw}


def test_items_stored_then_acknowledged_bad_ones_rejected_with_reason(
        patient_system: tuple[PatientSystem, str], gs: GatewayStore) -> None:
    ps, url = patient_system
    ps.items = [item("v1", "040 123 4567"), item("v2", "09 123 456"),
                item("v3", "+46 70 123 45 67", kind="call")]
    settings = IntakeSettings(url, url + "/ack", "Authorization: Bearer t0k", 60.0)
    window = Window()
    with requests.Session() as session:
        intake = HttpIntake(settings, session, HKI)
        store_item = lambda inv: gs.add_invitation(inv, NOW, window)  # noqa: E731
        reject = lambda src, why: gs.add_reject(src, why, NOW)  # noqa: E731
        assert intake.poll(store_item, reject) == (2, 1)
        assert ps.acks == [{"accepted": ["v1", "v3"], "rejected": [
            {"id": "v2", "error": "phone is not a Finnish mobile number (SMS cannot reach it)"}]}]
        # The ack was lost and the same items come again: no second invitation.
        assert intake.poll(store_item, reject) == (2, 1)
    assert gs.counters()["invited"] == 2
    st = gs.status()
    assert st["invitations"] == {"queued": 2} and st["rejected_items"] == 2


def test_nothing_acknowledged_when_storing_fails(
        patient_system: tuple[PatientSystem, str], gs: GatewayStore) -> None:
    ps, url = patient_system
    ps.items = [item("v1", "0401234567")]
    settings = IntakeSettings(url, url + "/ack", "Bearer t0k", 60.0)

    def broken(inv: Invitation) -> str:
        raise StoreError("disk full")

    with requests.Session() as session:
        intake = HttpIntake(settings, session, HKI)
        with pytest.raises(StoreError):
            intake.poll(broken, lambda s, r: None)
        assert ps.acks == []
        ps.fail = True
        with pytest.raises(IntakeError, match="500"):
            intake.poll(broken, lambda s, r: None)
        bad_auth = HttpIntake(IntakeSettings(url, url + "/ack", None, 60.0), session, HKI)
        with pytest.raises(IntakeError, match="401"):
            bad_auth.poll(broken, lambda s, r: None)


def write_config(tmp_path: Path, extra: str = 'hash_key = "a-test-key-of-enough-length"') -> Path:
    return gateway_config(tmp_path, extra)


def test_cli_invite_keeps_good_rows_and_reports_bad_by_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path)
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    csv = tmp_path / "visits.csv"
    csv.write_text("unit,time,kind,phone,lang\n"
                   f"ensiapu,{when},visit,040 123 4567,fi\n"
                   f"ensiapu,{when},visit,0401234567,fi\n"
                   f"ensiapu,{when},visit,040 12,fi\n"
                   f"ensiapu,eilen,visit,0501234567,sv\n")
    assert main(["sms", "invite", "--csv", str(csv), "--config", str(cfg)]) == 1
    out, err = capsys.readouterr()
    assert "2 good row(s): 1 added, 1 duplicate; 2 bad row(s)" in out
    assert f"{csv}:4: phone has 5 digits" in err and f"{csv}:5: time 'eilen'" in err
    assert main(["sms", "status", "--config", str(cfg), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["invitations"] == {"queued": 1} and st["counters"]["invited"] == 1
    assert st["rejected_items"] == 2
    assert main(["sms", "release", "1", "--config", str(cfg)]) == 1
    assert "is queued, not unknown" in capsys.readouterr().err


def test_cli_names_the_missing_hash_key(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, extra="")
    csv = tmp_path / "v.csv"
    csv.write_text("unit,time,kind,phone,lang\n")
    assert main(["sms", "invite", "--csv", str(csv), "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("palaute: error: ") and "[sms] hash_key_file: is missing" in err


def test_service_polls_and_sends_what_it_stored(
        patient_system: tuple[PatientSystem, str], tmp_path: Path) -> None:
    ps, url = patient_system
    ps.items = [item("v1", "040 123 4567"), item("v2", "not a number")]
    clock = Clock(NOW)
    modem = TwinModem()
    gw = make_gateway(tmp_path / "s.sqlite", clock, [modem])
    gw.intake = HttpIntake(IntakeSettings(url, url + "/ack", "Bearer t0k", 60.0),
                           requests.Session(), HKI)
    try:
        gw.start()
        gw.step()
        gw.step()
    finally:
        gw.close()
        gw.store.close()
    assert [n for n, _ in modem.sent] == ["+358401234567"]
    assert ps.acks[0]["accepted"] == ["v1"] and ps.acks[0]["rejected"][0]["id"] == "v2"


def test_a_rejected_item_leaves_no_number_in_the_log_or_the_store(
        patient_system: tuple[PatientSystem, str], gs: GatewayStore,
        caplog: pytest.LogCaptureFixture) -> None:
    ps, url = patient_system
    bad = item("v7", "x")
    bad["phone"] = 401234567  # type: ignore[assignment]  # a JSON number, as systems do send
    ps.items = [bad]
    settings = IntakeSettings(url, url + "/ack", "Authorization: Bearer t0k", 60.0)
    with requests.Session() as session, caplog.at_level("INFO"):
        intake = HttpIntake(settings, session, HKI)
        assert intake.poll(lambda inv: "added",
                           lambda src, why: gs.add_reject(src, why, NOW)) == (0, 1)
    # The patient system is told what was wrong with its item, without the number echoed ...
    assert ps.acks[0]["rejected"] == [{"id": "v7", "error": "phone must be text, not a number"}]
    # ... and neither the journal nor the device's store keeps the number.
    assert "intake item v7 rejected" in caplog.text
    assert "401234567" not in caplog.text
    dump = "\n".join(str(r) for r in gs.store.conn.execute("SELECT * FROM sms_rejects"))
    assert dump and "401234567" not in dump
