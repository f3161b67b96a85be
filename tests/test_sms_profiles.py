"""The service's whole conversation through the real driver on every simulated modem
profile (hardware.modem_sim_profiles): Huawei reports in the middle of replies, a SIM busy
after power-on, no ATS7, a bare prompt, lower-case hex, reports kept in SR memory...
The modem reboots in the middle; nothing is lost, nothing is sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from modem_fixtures import FakeTime, sim_modem
from services import wait_until
from sms_helpers import Clock, invite, sent_to, sim_gateway, utc

from hardware.modem_sim import ModemCore
from hardware.modem_sim_profiles import profile_names
from sms_gateway.service import Gateway
from survey.response import encode_answers

PEOPLE = [  # (phone, lang, replies, expected answers)
    ("+358401000001", "fi", ["9", "Ystävällinen hoitaja", "5"],
     {"nps": {"value": 9}, "open": {"text": "Ystävällinen hoitaja"}, "s1": {"value": 5}}),
    ("+358401000002", "sv", ["nio", "Bra bemötande", "4"],
     {"nps": {"value": 9}, "open": {"text": "Bra bemötande"}, "s1": {"value": 4}}),
    ("+358401000003", "fi", ["kymppi", "Nopea palvelu 😀 " * 6, "viis"],
     {"nps": {"value": 10}, "open": {"text": ("Nopea palvelu 😀 " * 6).strip()},
      "s1": {"value": 5}}),
]


@pytest.fixture(params=profile_names())
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sim(tmp_path: Path, profile: str, fake: FakeTime) -> Iterator[tuple[str, ModemCore]]:
    with sim_modem(tmp_path, profile=profile, time_source=fake) as started:
        yield started


@pytest.fixture
def gw(tmp_path: Path, sim: tuple[str, ModemCore], fake: FakeTime) -> Iterator[Gateway]:
    clock = Clock(utc(2025, 3, 4, 8, 0))
    g = sim_gateway(tmp_path / "store.sqlite", clock, [sim[0]],
                    multipart_timeout=timedelta(seconds=30), wait_clock=fake.clock)
    g.start()
    yield g
    g.close()
    g.store.close()


def say(gw: Gateway, core: ModemCore, phone: str, text: str) -> str:
    before = len(sent_to(core, phone))
    assert isinstance(gw.clock, Clock)
    gw.clock.advance(seconds=20)
    core.deliver(phone, text)
    wait_until(lambda: len(sent_to(core, phone)) > before, timeout=15, step=gw.step)
    return sent_to(core, phone)[-1]


def test_whole_conversation_on_every_profile(gw: Gateway, sim: tuple[str, ModemCore],
                                             profile: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    _, core = sim
    for phone, lang, _, _ in PEOPLE:
        invite(gw, phone, gw.clock() - timedelta(hours=2), lang=lang)
    wait_until(lambda: len(core.sent()) == len(PEOPLE), timeout=15, step=gw.step)
    for n, (phone, lang, replies, _) in enumerate(PEOPLE):
        assert sent_to(core, phone)[0].startswith(gw.survey.message("sms_intro", lang))
        for text in replies[:-1]:
            say(gw, core, phone, text)
        if n == 1:
            # The modem restarts: settings gone, the SIM busy again, and the reply comes at
            # once (stored in its power-on memory, unannounced); the driver notices (a boot
            # code, or its health check), configures it again and finds the reply there.
            core.fault("boot")
        assert say(gw, core, phone, replies[-1]) == gw.survey.message("sms_thanks", lang)
    got = sorted((encode_answers(r.answers) for r in gw.store.unsynced()
                  if r.status == "complete"), key=repr)
    assert got == sorted((want for *_, want in PEOPLE), key=repr)
    wait_until(lambda: not core.stored(), timeout=15, step=gw.step)  # read, stored, deleted
    wait_until(lambda: gw.gs.counters()["delivered"] == len(PEOPLE), timeout=15, step=gw.step)
    for phone, *_ in PEOPLE:  # each message went out once
        assert len(sent_to(core, phone)) == 4
    assert not [r.getMessage() for r in caplog.records if "does not decode" in r.getMessage()]
