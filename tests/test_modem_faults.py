"""Every fault of issue 3 injected into the simulated modem, and survived by the driver:
no message lost, the driver recovers (bounded), sends are never blindly repeated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from modem_fixtures import sim_modem, sim_modem_runner, started_modem
from services import wait_until

from hardware.modem_sim import ModemCore
from sms_gateway.errors import ModemError, SendError
from sms_gateway.modem import (
    Modem,
    ModemEvent,
    NetworkChange,
    NewMessage,
    PinRequired,
    Rescan,
    StatusReport,
)

CLIENT = "+358401234567"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[str, ModemCore]]:
    with sim_modem(tmp_path) as started:
        yield started


@pytest.fixture
def modem(sim: tuple[str, ModemCore]) -> Iterator[Modem]:
    with started_modem(sim[0], command_timeout=0.3, send_timeout=0.5) as m:
        m.poll_events(0)
        yield m


def events_until(modem: Modem, done: type, timeout: float = 8.0) -> list[ModemEvent]:
    got: list[ModemEvent] = []

    def seen() -> bool:
        got.extend(modem.poll_events(0.05))
        return any(isinstance(e, done) for e in got)

    wait_until(seen, timeout)
    return got


def texts(modem: Modem) -> list[str]:
    return sorted(m.message.text for m in modem.list_messages() if m.message)


# -- stops answering ---------------------------------------------------------------
def test_modem_that_stops_answering_is_reset(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("hang", "3")  # CSQ, then the first probes of the recovery, are swallowed
    core.deliver(CLIENT, "viesti katkon aikana")
    assert modem.signal().rssi == 20
    assert modem.recoveries == 1
    events = modem.poll_events(0.1)
    assert any(isinstance(e, Rescan) for e in events)  # indications may have been missed
    assert texts(modem) == ["viesti katkon aikana"]


def test_late_answers_do_not_shift_replies(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    # CSQ and the first recovery probe answer after the driver gave up on each: their
    # late replies must not be taken for the answers to the commands that follow.
    core.fault("slow", "3", "0.8")
    assert modem.signal().rssi == 20
    assert modem.recoveries >= 1
    assert modem.sim_state() == "READY" and modem.registration().registered
    assert modem.send(CLIENT, "Kiitos") == core.sent()[0]["message_refs"]


def test_modem_that_never_answers_fails_in_bounded_time(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    core.fault("hang")
    with pytest.raises(ModemError, match="does not answer"), \
            started_modem(path, retries=2, command_timeout=0.2):
        pass


@pytest.mark.parametrize("fault", [("hang", "2"), ("hang", "2", "ATZ")])
def test_no_answer_at_start_up(sim: tuple[str, ModemCore], fault: tuple[str, ...]) -> None:
    path, core = sim
    core.fault(*fault)  # the first AT probes, or the first ATZs, go unanswered
    with started_modem(path, command_timeout=0.3) as modem:
        assert modem.sim_state() == "READY" and core.cnmi[1] == 1
    assert core.faults.hang == 0


# -- port vanishes -----------------------------------------------------------------
def test_port_that_vanishes_is_reopened_and_nothing_is_lost(tmp_path: Path) -> None:
    with sim_modem_runner(tmp_path) as (path, core, runner), started_modem(path) as modem:
        modem.poll_events(0)
        core.fault("vanish", "0.3")
        wait_until(runner.vanished.is_set)
        core.deliver(CLIENT, "saapui kun portti oli poissa")  # its +CMTI is lost
        events = events_until(modem, Rescan)
        assert modem.reopens == 1
        assert [e.reason for e in events if isinstance(e, Rescan)] == ["port reopened"]
        assert texts(modem) == ["saapui kun portti oli poissa"]
        core.deliver(CLIENT, "toinen")
        events_until(modem, NewMessage)  # indications work again after the reboot


def test_send_while_the_port_is_gone_waits_for_it(tmp_path: Path) -> None:
    with sim_modem_runner(tmp_path) as (path, core, _runner), started_modem(path) as modem:
        core.fault("vanish", "0.3")
        wait_until(lambda: modem.channel.is_lost)
        refs = modem.send(CLIENT, "Kiitos")
        assert [s["message_refs"] for s in core.sent()] == [refs]  # once, not twice


# -- garbage -------------------------------------------------------------------------
def test_garbage_bytes(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("garbage", "10")
    refs = modem.send(CLIENT, "Kiitos")
    core.deliver(CLIENT, "8")
    events_until(modem, NewMessage)
    assert texts(modem) == ["8"]
    assert modem.signal().rssi == 20
    assert core.sent()[0]["message_refs"] == refs
    assert modem.channel.noise_lines >= 3


# -- send errors -----------------------------------------------------------------------
@pytest.mark.parametrize("code", ["ERROR", "500", "302"])
def test_refused_send_is_retried(modem: Modem, sim: tuple[str, ModemCore], code: str) -> None:
    _, core = sim
    core.fault("send-error", code, "1")
    refs = modem.send(CLIENT, "Kiitos")
    assert [s["message_refs"] for s in core.sent()] == [refs]


def test_persistent_send_error_is_reported_not_lost(modem: Modem,
                                                    sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("send-error", "500", "9")
    with pytest.raises(SendError) as exc:
        modem.send(CLIENT, "Kiitos")
    assert (exc.value.sent_refs, exc.value.unknown) == ([], False)
    assert core.sent() == []


def test_multipart_failing_midway_says_which_parts_went(modem: Modem,
                                                        sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.faults.send_error = ["OK"] + ["500"] * 5  # part 1 goes, part 2 keeps failing
    with pytest.raises(SendError) as exc:
        modem.send(CLIENT, "Kiitos palautteestasi! " * 12)
    assert not exc.value.unknown
    assert exc.value.sent_refs == core.sent()[0]["message_refs"] and len(core.sent()) == 1


def test_send_without_answer_is_unknown_and_not_repeated(modem: Modem,
                                                         sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("send-hang")
    with pytest.raises(SendError) as exc:
        modem.send(CLIENT, "Kiitos")
    assert exc.value.unknown and exc.value.sent_refs == []
    assert len(core.sent()) == 1  # it did go out: the driver must not (and did not) repeat
    assert modem.signal().rssi == 20  # and the modem is usable again


# -- SIM ----------------------------------------------------------------------------------
def test_sim_busy_at_start_up(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    core.fault("sim-busy", "4")
    with started_modem(path) as modem:
        assert modem.sim_state() == "READY" and core.cmgf == 0


def test_pin_from_config(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    core.fault("pin", "4321")
    with started_modem(path, pin="4321") as modem:
        assert modem.sim_state() == "READY" and core.sim_ready
        assert modem.send(CLIENT, "Kiitos")


def test_pin_required_but_missing_or_wrong(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    core.fault("pin", "4321")
    with pytest.raises(PinRequired), started_modem(path):
        pass
    with pytest.raises(PinRequired, match="refused"), started_modem(path, pin="0000"):
        pass
    assert core.pin == "4321" and not core.sim_ready


# -- network ------------------------------------------------------------------------------
def test_no_network(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("no-network", "2")
    events = events_until(modem, NetworkChange)
    assert [e.state for e in events if isinstance(e, NetworkChange)] == ["searching"]
    assert modem.registration().state == "searching"
    with pytest.raises(SendError) as exc:
        modem.send(CLIENT, "Kiitos")
    assert not exc.value.unknown and core.sent() == []
    core.clear()
    assert modem.registration().registered
    assert modem.send(CLIENT, "Kiitos")
    assert len(core.sent()) == 1


def test_no_smsc_yet_at_start_up(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    core.fault("no-smsc", "2")
    with started_modem(path) as modem:
        assert modem.send(CLIENT, "Kiitos")


def test_no_smsc_at_all_uses_the_configured_one(sim: tuple[str, ModemCore]) -> None:
    path, core = sim
    core.fault("no-smsc")
    with started_modem(path, smsc="+358405202000", retries=2) as modem:
        assert modem.send(CLIENT, "Kiitos")
    assert len(core.sent()) == 1


# -- storage full -----------------------------------------------------------------------
def test_full_storage_loses_nothing(tmp_path: Path) -> None:
    with sim_modem(tmp_path, slots=3) as (path, core), started_modem(path) as modem:
        sent = [f"vastaus {n}" for n in range(7)]
        for text in sent:
            core.deliver(CLIENT, text)
        assert core.status()["waiting"] == 4
        received: list[str] = []

        def drain() -> bool:
            modem.poll_events(0.05)
            for m in modem.list_messages():
                assert m.message is not None
                received.append(m.message.text)
                modem.delete(m.index)
            return len(received) == len(sent)

        wait_until(drain)
        assert sorted(received) == sorted(sent)


def test_storage_full_fault(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("storage-full")
    core.deliver(CLIENT, "odottaa verkossa")
    events = events_until(modem, Rescan)  # the modem said so (^SMMEMFULL): list, delete
    assert [e.reason for e in events if isinstance(e, Rescan)] == ["storage full"]
    assert modem.list_messages() == [] and core.status()["waiting"] == 1
    core.clear()
    events_until(modem, NewMessage)
    assert texts(modem) == ["odottaa verkossa"]


# -- unsolicited codes inside responses, reboot -------------------------------------------
def test_urc_in_the_middle_of_responses(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.deliver(CLIENT, "OK")
    core.deliver(CLIENT, "kaksi")
    events_until(modem, NewMessage)
    core.fault("urc-mid", "5")
    assert texts(modem) == ["OK", "kaksi"]
    assert modem.signal().rssi == 20
    refs = modem.send(CLIENT, "Kiitos")
    events = events_until(modem, StatusReport)
    assert [e.message_ref for e in events if isinstance(e, StatusReport)] == refs
    assert any(isinstance(e, NetworkChange) for e in events + modem.poll_events(0.1))


def test_reboot_announced_by_rdy_reconfigures(modem: Modem, sim: tuple[str, ModemCore]) -> None:
    _, core = sim
    core.fault("boot")
    events = events_until(modem, Rescan)
    assert [e.reason for e in events if isinstance(e, Rescan)] == ["modem rebooted"]
    assert core.cnmi == [2, 1, 0, 1, 0] and not core.echo
    core.deliver(CLIENT, "uudelleenkäynnistyksen jälkeen")
    events_until(modem, NewMessage)
