"""The modem driver against the simulated modem on a real pty: send, receive, delete,
multipart, status reports, storage and indication choice, undecodable messages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from modem_fixtures import sim_modem, started_modem
from services import wait_until

from hardware.modem_sim import ModemCore
from sms_gateway.errors import ModemError, PduError
from sms_gateway.modem import (
    Modem,
    ModemEvent,
    NewMessage,
    Rescan,
    StatusReport,
    StoredMessage,
    choose_cnmi,
    choose_storage,
    parse_signal,
)
from sms_gateway.pdu import count_segments, reassemble

CLIENT = "+358401234567"
LONG_FI = ("Kiitos käynnistäsi päivystyksessä. Kuinka todennäköisesti suosittelisit "
           "saamaasi palvelua läheisellesi, jos hän olisi samankaltaisessa tilanteessa? "
           "Vastaa numerolla 0-10. Vastaaminen on maksutonta.")


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[str, ModemCore]]:
    with sim_modem(tmp_path) as started:
        yield started


@pytest.fixture
def modem(sim: tuple[str, ModemCore]) -> Iterator[Modem]:
    with started_modem(sim[0]) as m:
        yield m


def collect(modem: Modem, kind: type, count: int, timeout: float = 5.0) -> list[ModemEvent]:
    """Poll events until `count` of type `kind` came (or fail)."""
    got: list[ModemEvent] = []

    def enough() -> bool:
        got.extend(e for e in modem.poll_events(0.05) if isinstance(e, kind))
        return len(got) >= count

    wait_until(enough, timeout)
    return got


def test_start_configures_pdu_mode_storage_and_indications(
    modem: Modem, sim: tuple[str, ModemCore]
) -> None:
    _, core = sim
    assert (core.echo, core.cmee, core.cmgf) == (False, 1, 0)
    assert core.cpms == ["ME", "ME", "ME"]  # ME offered for every memory: preferred
    assert core.cnmi == [2, 1, 0, 1, 0]  # +CMTI for messages, +CDS for reports
    assert any(isinstance(e, Rescan) for e in modem.poll_events(0))


@pytest.mark.parametrize(
    ("supported", "expected"),
    [
        ("(0-2),(0-3),(0,2),(0-2),(0,1)", "2,1,0,1,0"),
        ("(0-2),(0-3),(0,2),(0,2),(0,1)", "2,1,0,2,0"),
        ("(1),(1),(0),(0),(1)", "1,1,0,0,1"),
        ("(0-3),(0-3),(0,2,3),(0-2),(1)", "2,1,0,1,1"),
    ],
)
def test_cnmi_choice(supported: str, expected: str) -> None:
    assert choose_cnmi(supported) == expected


@pytest.mark.parametrize(
    ("supported", "expected"),
    [
        ('("SM","ME","SR"),("SM","ME"),("SM","ME")', ["ME", "ME", "ME"]),
        ('("SM","BM","SR"),("SM"),("SM")', ["SM", "SM", "SM"]),
        ('("ME","MT","SM","SR"),("ME","MT","SM"),("ME","MT","SM")', ["ME", "ME", "ME"]),
    ],
)
def test_storage_choice(supported: str, expected: list[str]) -> None:
    assert choose_storage(supported) == expected


def test_signal_in_dbm() -> None:
    assert parse_signal("20,99").dbm == -113 + 40
    assert parse_signal("99,99").rssi is None


def test_send_single_returns_the_modems_reference(modem: Modem,
                                                  sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    refs = modem.send(CLIENT, "Kiitos vastauksesta!")
    sent = core.sent()
    assert len(sent) == 1
    assert sent[0]["recipient"] == CLIENT and sent[0]["text"] == "Kiitos vastauksesta!"
    assert sent[0]["message_refs"] == refs and sent[0]["status_report"] is True


@pytest.mark.parametrize("text", [LONG_FI, "Kiitos 🙂 " * 12, "€ [x] " * 40])
def test_send_multipart(modem: Modem, sim: tuple[str, ModemCore], text: str) -> None:
    _, core = sim
    refs = modem.send(CLIENT, text, status_report=False)
    assert len(refs) == count_segments(text) > 1
    (sent,) = core.sent()
    assert sent["text"] == text and sent["message_refs"] == refs
    assert sent["parts"] == sent["total"] == len(refs)


def test_status_reports_match_sent_references(modem: Modem) -> None:
    refs = modem.send(CLIENT, LONG_FI)
    reports = collect(modem, StatusReport, len(refs))
    assert sorted(r.message_ref for r in reports if isinstance(r, StatusReport)) == sorted(refs)
    assert all(isinstance(r, StatusReport) and r.status == 0 and r.recipient == CLIENT
               for r in reports)


def test_status_reports_stored_in_sr_memory(tmp_path: Path) -> None:
    """A modem that can only store reports (+CDSI): read from SR, delete, back to storage."""
    with sim_modem(tmp_path, cnmi_supported="(0-2),(0-3),(0,2),(0,2),(0,1)") as (path, core), \
            started_modem(path) as modem:
        assert core.cnmi[3] == 2
        refs = modem.send(CLIENT, "Kiitos")
        (report,) = collect(modem, StatusReport, 1)
        assert isinstance(report, StatusReport) and report.message_ref == refs[0]
        assert core.storage["SR"] == {} and core.cpms[0] == "ME"


def test_receive_read_delete(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.deliver(CLIENT, "9 hyvä palvelu")
    (event,) = collect(modem, NewMessage, 1)
    assert isinstance(event, NewMessage)
    stored = modem.read(event.index)
    assert stored.message is not None
    assert (stored.message.sender, stored.message.text) == (CLIENT, "9 hyvä palvelu")
    modem.delete(event.index)
    assert core.stored() == [] and modem.list_messages() == []


def test_sms_reading_ok_is_a_message(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.deliver(CLIENT, "OK")
    core.deliver(CLIENT, "ERROR")
    collect(modem, NewMessage, 2)
    texts = [m.message.text for m in modem.list_messages() if m.message]
    assert texts == ["OK", "ERROR"]


def _assemble(messages: list[StoredMessage]) -> dict[int, list[StoredMessage]]:
    groups: dict[int, list[StoredMessage]] = {}
    for m in messages:
        assert m.message is not None and m.message.concat is not None
        groups.setdefault(m.message.concat.ref, []).append(m)
    return groups


def test_multipart_arriving_out_of_order(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("reorder")
    parts = core.deliver(CLIENT, LONG_FI * 2)
    collect(modem, NewMessage, parts)
    listed = modem.list_messages()
    seqs = [m.message.concat.seq for m in listed if m.message and m.message.concat]
    assert seqs == sorted(seqs, reverse=True)  # stored in arrival order: last part first
    (group,) = _assemble(listed).values()
    assert reassemble([m.message for m in group if m.message]) == LONG_FI * 2


def test_multipart_with_a_missing_part_is_kept(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("drop-part", "2")
    parts = core.deliver(CLIENT, LONG_FI * 2)
    assert parts == count_segments(LONG_FI * 2) - 1
    collect(modem, NewMessage, parts)
    (group,) = _assemble(modem.list_messages()).values()
    with pytest.raises(PduError, match="lacks part"):
        reassemble([m.message for m in group if m.message])
    assert len(core.stored()) == parts  # nothing deleted while incomplete


def test_undecodable_message_kept_raw_and_not_deleted(modem: Modem,
                                                      sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    broken = "0791534850020200040C91534810325476000062113271959400FF41"  # UDL beyond data
    core.deliver_pdu(broken)
    (event,) = collect(modem, NewMessage, 1)
    assert isinstance(event, NewMessage)
    (stored,) = modem.list_messages()
    assert stored.message is None and stored.error and stored.pdu == broken
    with pytest.raises(ModemError, match="kept"):
        modem.delete(stored.index)
    assert len(core.stored()) == 1
    modem.delete(stored.index, force=True)  # once the caller saved the raw PDU
    assert core.stored() == []


def test_queries(modem: Modem) -> None:
    assert modem.signal().rssi == 20
    reg = modem.registration()
    assert reg.registered and reg.state == "home"
    assert modem.sim_state() == "READY"
    info = modem.info()
    assert (info.manufacturer, info.model, info.imei) == ("Palaute", "SIM-GSM 1",
                                                          "356938035643809")
    assert [s.memory for s in info.storage] == ["ME", "ME", "ME"]
    assert info.to_json()["registration"]["registered"] is True


def test_no_phone_numbers_in_info_logs(modem: Modem, sim: tuple[str, ModemCore],
                                       caplog: pytest.LogCaptureFixture) -> None:
    _, core = sim
    caplog.set_level(logging.INFO)
    modem.send(CLIENT, LONG_FI)
    core.deliver(CLIENT, "10")
    collect(modem, NewMessage, 1)
    modem.list_messages()
    infos = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert infos and not any("401234567" in text for text in infos)


def test_silent_reboot_found_by_health_check(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    modem.poll_events(0)
    core.reboot(announce=False)  # settings lost, no RDY
    assert core.cnmi == [0, 0, 0, 0, 0]
    modem.health_check()
    assert core.cnmi == [2, 1, 0, 1, 0] and core.echo is False
    assert any(isinstance(e, Rescan) for e in modem.poll_events(0))
