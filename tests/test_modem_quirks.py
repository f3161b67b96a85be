"""The driver against modems as they behave (issue 15): Huawei reports inside replies,
a SIM busy for seconds after power-on, a modem without ATS7. Waits run on fake time."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from modem_fixtures import FakeTime, sim_modem, started_modem
from services import wait_until

from hardware.modem_sim_profiles import profile_names
from sms_gateway.errors import CmeError, CmsError, ModemError, PinRequired
from sms_gateway.modem import Modem, NewMessage, StatusReport, sim_busy

CLIENT = "+358401234567"


def _arrived(modem: Modem, count: int) -> None:
    seen: list[object] = []
    wait_until(lambda: seen.extend(e for e in modem.poll_events(0.05)
                                 if isinstance(e, NewMessage)) or len(seen) >= count)


def test_huawei_reports_between_header_and_pdu_do_not_stop_replies(tmp_path: Path) -> None:
    """A Huawei firmware without AT^CURC keeps writing ^RSSI/^HCSQ/^MODE into every reply,
    between each +CMGL header and its PDU: every message still decodes and is deleted."""
    with sim_modem(tmp_path, profile="huawei-e3372", curc=False) as (path, core), \
            started_modem(path) as modem:
        assert core.periodic_on  # the reports never stop on this firmware
        for text in ("9", "Ystävällinen hoitaja", "5"):
            core.deliver(CLIENT, text)
        _arrived(modem, 3)
        listed = modem.list_messages()
        assert [m.error for m in listed] == [None, None, None]
        assert sorted(m.message.text for m in listed if m.message) == sorted(
            ["9", "Ystävällinen hoitaja", "5"])
        for m in listed:
            modem.delete(m.index)
        assert core.stored() == []
        assert modem.channel.urcs_dropped == 0 and modem.channel.urc_lines >= 3


def test_huawei_reports_are_turned_off_with_curc(tmp_path: Path) -> None:
    with sim_modem(tmp_path, profile="huawei-e3372") as (path, core), \
            started_modem(path) as modem:
        assert modem.manufacturer == "huawei"
        assert not core.periodic_on  # AT^CURC=0 was sent
        core.fault("boot")  # a silent reboot turns them on again
        assert core.periodic_on
        modem.health_check()  # finds the settings gone and configures it again
        assert not core.periodic_on


def test_curc_refused_by_a_huawei_is_fine(tmp_path: Path) -> None:
    with sim_modem(tmp_path, profile="huawei-e3372", curc=False) as (path, core), \
            started_modem(path) as modem:
        assert modem.manufacturer == "huawei" and core.periodic_on
        assert modem.send(CLIENT, "Kiitos") == core.sent()[0]["message_refs"]


@pytest.mark.parametrize("profile", ["sim800", "slow-sim", "quectel-ec25", "qualcomm-stick"])
def test_sim_busy_after_power_on_is_waited_for(tmp_path: Path, profile: str) -> None:
    """SIM800: +CME ERROR: 14 / +CMS ERROR: 314 for 15 s; a slow SIM 515 for 25 s;
    Quectel +CPIN: NOT READY and +CMS ERROR: 310: all within the default 30 s."""
    fake = FakeTime()
    with sim_modem(tmp_path, profile=profile, time_source=fake) as (path, core):
        busy = core.config.sim_busy_s
        with started_modem(path, clock=fake.clock, sim_wait=30.0) as modem:
            assert modem.sim_state() == "READY" and core.cnmi[1] == 1
            assert busy <= fake.now - 1000.0 <= busy + 2.0  # waited as long as it was busy
            assert max(fake.slept) <= 2.0


def test_sim_busy_longer_than_the_wait_fails_in_bounded_time_saying_so(tmp_path: Path) -> None:
    fake = FakeTime()
    with sim_modem(tmp_path, profile="slow-sim", time_source=fake) as (path, _core):
        with pytest.raises(ModemError, match=r"still busy after 20 s .*515.*sim_wait_s"), \
                started_modem(path, clock=fake.clock, sim_wait=20.0, retry_delay=1.0):
            pass
        assert 20.0 <= fake.now - 1000.0 <= 21.0


def test_modem_without_s7_and_with_a_bare_cmee_is_accepted(tmp_path: Path) -> None:
    """ATS7 -> ERROR, AT+CMEE? -> OK without +CMEE, plain AT -> OK: a usable modem."""
    fake = FakeTime()
    with sim_modem(tmp_path, profile="qualcomm-stick", time_source=fake) as (path, core), \
            started_modem(path, clock=fake.clock) as modem:
        assert modem.manufacturer == "QUALCOMM INCORPORATED"
        assert modem.send(CLIENT, "Kiitos") == core.sent()[0]["message_refs"]


def test_a_modem_that_answers_is_never_said_not_to(tmp_path: Path) -> None:
    with sim_modem(tmp_path) as (path, core):
        core.fault("refuse")  # ERROR to everything
        with pytest.raises(ModemError) as info, started_modem(path, retries=2):
            pass
        message = str(info.value)
        assert "does not answer" not in message
        assert "answered" in message and "ATS7 -> ERROR" in message and "AT -> ERROR" in message


def test_twice_echoed_ate0_shifts_no_reply(tmp_path: Path) -> None:
    """SIM800 echoes ATE0 twice; the second echo must not be taken for a reply."""
    fake = FakeTime()
    with sim_modem(tmp_path, profile="sim800", time_source=fake) as (path, _core), \
            started_modem(path, clock=fake.clock) as modem:
        info = modem.info()
        assert (info.manufacturer, info.model, info.imei, info.sim) == (
            "SIMCOM_Ltd", "SIMCOM_SIM800L", "356938035643809", "READY")


def test_status_reports_kept_in_sr_memory_on_a_cinterion(tmp_path: Path) -> None:
    with sim_modem(tmp_path, profile="cinterion-mc75") as (path, core), \
            started_modem(path) as modem:
        assert core.cpms[2] == "SM" and core.cnmi[3] == 2
        refs = modem.send(CLIENT, "Kiitos")
        got: list[StatusReport] = []
        wait_until(lambda: got.extend(e for e in modem.poll_events(0.05)
                                    if isinstance(e, StatusReport)) or got)
        assert [r.message_ref for r in got] == refs and not core.storage["SR"]


@pytest.mark.parametrize("profile", profile_names())
def test_every_profile_sends_receives_and_deletes(tmp_path: Path, profile: str,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTime()
    caplog.set_level(logging.WARNING)
    with sim_modem(tmp_path, profile=profile, time_source=fake) as (path, core), \
            started_modem(path, clock=fake.clock) as modem:
        modem.poll_events(0)
        assert modem.send(CLIENT, "Kiitos käynnistä!") == core.sent()[0]["message_refs"]
        core.deliver(CLIENT, "9 hyvä palvelu")
        _arrived(modem, 1)
        (stored,) = modem.list_messages()
        assert stored.message is not None and stored.message.text == "9 hyvä palvelu"
        modem.delete(stored.index)
        assert core.stored() == []
    assert not [r for r in caplog.records if "did not decode" in r.getMessage()]


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (CmeError("AT+CPIN?", 14, "+CME ERROR: 14"), True),
        (CmeError("AT+CPIN?", 515, "+CME ERROR: 515"), True),
        (CmsError("AT+CMGL=4", 314, "+CMS ERROR: 314"), True),
        (CmsError("AT+CMGL=4", 310, "+CMS ERROR: 310"), True),
        (CmsError("AT+CPMS?", 515, "+CMS ERROR: 515"), True),
        (CmeError("AT+CPIN?", None, "+CME ERROR: SIM busy"), True),
        (CmeError("AT+CPIN?", None, "+CME ERROR: SIM not ready"), True),
        (CmsError("AT+CMGL=4", None, "+CMS ERROR: SIM not inserted"), True),
        (CmeError("AT+CPIN?", None,
                  "+CME ERROR: Please wait, init or command processing in progress."), True),
        (CmeError("AT+CPIN?", 10, "+CME ERROR: 10"), False),  # no SIM: never waited for
        (CmeError("AT+CPIN?", None, "+CME ERROR: SIM not inserted"), False),
        (CmsError("AT+CMGS=20", 500, "+CMS ERROR: 500"), False),
        (CmeError("AT+CPIN=\"1234\"", 16, "+CME ERROR: 16"), False),
    ],
)
def test_sim_busy_by_code_and_in_words(error: CmeError | CmsError, busy: bool) -> None:
    assert sim_busy(error) is busy


def test_sim_busy_in_words_is_waited_for(tmp_path: Path) -> None:
    """A modem left in AT+CMEE=2 (it refuses AT+CMEE=1) says +CME ERROR: SIM busy."""
    fake = FakeTime()
    with sim_modem(tmp_path, profile="sim800", time_source=fake, cmee_words=True) as (
            path, core), started_modem(path, clock=fake.clock) as modem:
        assert modem.sim_state() == "READY" and core.cmee == 2
        assert fake.now - 1000.0 >= 15.0


def test_absent_sim_is_said_in_words_too(tmp_path: Path) -> None:
    with sim_modem(tmp_path, cmee_words=True) as (path, core):
        core.fault("no-sim")
        with pytest.raises(PinRequired, match="ABSENT"), started_modem(path):
            pass


def test_messages_left_in_another_memory_are_read_from_there(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A modem that restarted stored in its default memory (SM) before it was configured
    again for ME: those messages are read and deleted there, nothing is left behind."""
    with sim_modem(tmp_path) as (path, core):
        core.deliver(CLIENT, "saapui ennen asetuksia")  # power-on storage: SM
        assert [m["memory"] for m in core.stored()] == ["SM"]
        with caplog.at_level(logging.WARNING), started_modem(path) as modem:
            core.deliver(CLIENT, "saapui asetusten jälkeen")  # now in ME
            _arrived(modem, 1)
            listed = modem.list_messages()
            assert sorted((m.message.text, m.index) for m in listed if m.message) == [
                ("saapui asetusten jälkeen", 1), ("saapui ennen asetuksia", 100_001)]
            assert modem.read(100_001).message.text == "saapui ennen asetuksia"  # type: ignore[union-attr]
            for m in listed:
                modem.delete(m.index)
            assert core.stored() == [] and modem.list_messages() == []
            assert core.cpms == ["ME", "ME", "ME"]  # its own storage selected again
        assert "1 message(s) were stored in SM before the modem was configured" in caplog.text


def test_new_message_announced_in_another_memory_is_read_there(tmp_path: Path) -> None:
    """+CMTI names the memory: a message a modem stored elsewhere than asked is still read."""
    with sim_modem(tmp_path) as (path, core), started_modem(path) as modem:
        modem.poll_events(0)
        core.cpms[2] = "SM"  # the modem stores in SM after all (and says so in +CMTI)
        core.deliver(CLIENT, "väärässä muistissa")
        (event,) = [e for e in _events(modem) if isinstance(e, NewMessage)]
        assert event.memory == "SM"
        (stored,) = modem.list_messages()
        assert stored.message is not None and stored.message.text == "väärässä muistissa"
        modem.delete(stored.index)
        assert core.stored() == []


def _events(modem: Modem) -> list[object]:
    seen: list[object] = []
    wait_until(lambda: seen.extend(modem.poll_events(0.05)) or seen)
    return seen
