"""Whole SMS conversations through the real driver and the simulated modem on a pty; the
whole conversation runs on every modem profile (hardware.modem_sim_profiles), the SIM's
busy time after power-on counted in fake time."""

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


@pytest.fixture
def clock() -> Clock:
    return Clock(utc(2025, 3, 4, 8, 0))  # 10:00 in Helsinki


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sim(tmp_path: Path, request: pytest.FixtureRequest,
        fake: FakeTime) -> Iterator[tuple[str, ModemCore]]:
    profile = getattr(request, "param", "standard")  # a modem profile, by name
    with sim_modem(tmp_path, profile=profile, time_source=fake) as started:
        yield started


@pytest.fixture
def gw(tmp_path: Path, clock: Clock, sim: tuple[str, ModemCore],
       fake: FakeTime) -> Iterator[Gateway]:
    # A SIM busy after power-on is waited for in fake time; other waits are real.
    wait_clock = fake.clock if sim[1].config.sim_busy_s else None
    g = sim_gateway(tmp_path / "store.sqlite", clock, [sim[0]],
                    multipart_timeout=timedelta(seconds=30), wait_clock=wait_clock)
    g.start()
    yield g
    g.close()
    g.store.close()


def say(gw: Gateway, core: ModemCore, clock: Clock, phone: str, text: str) -> str:
    """`phone` sends `text`; returns the gateway's answer to it."""
    before = len(sent_to(core, phone))
    clock.advance(seconds=20)
    core.deliver(phone, text)
    wait_until(lambda: len(sent_to(core, phone)) > before, step=gw.step)
    return sent_to(core, phone)[-1]


# (phone, lang, replies, expected answers) -- digits, words, colloquial, typos, sv, en.
PEOPLE = [
    ("+358401000001", "fi", ["9", "Ystävällinen hoitaja", "5"],
     {"nps": {"value": 9}, "open": {"text": "Ystävällinen hoitaja"}, "s1": {"value": 5}}),
    ("+358401000002", "fi", ["kymppi", "Nopea palvelu", "viis"],
     {"nps": {"value": 10}, "open": {"text": "Nopea palvelu"}, "s1": {"value": 5}}),
    ("+358401000003", "fi", ["yhdeksn", "ok", "4"],
     {"nps": {"value": 9}, "open": {"text": "ok"}, "s1": {"value": 4}}),
    ("+358401000004", "sv", ["nio", "Bra bemötande", "4"],
     {"nps": {"value": 9}, "open": {"text": "Bra bemötande"}, "s1": {"value": 4}}),
    ("+358401000005", "en", ["nine", "Kind staff", "5"],
     {"nps": {"value": 9}, "open": {"text": "Kind staff"}, "s1": {"value": 5}}),
    ("+358401000006", "fi", ["mitä?", "7", "Jonotus kesti", "2"],
     {"nps": {"value": 7}, "open": {"text": "Jonotus kesti"}, "s1": {"value": 2}}),
    ("+358401000007", "fi", ["10/10", "Hyvä", "5"],
     {"nps": {"value": 10}, "open": {"text": "Hyvä"}, "s1": {"value": 5}}),
]
LONG = ("8 Loistava palvelu päivystyksessä, kiitos hoitajalle ja lääkärille 😀👍 "
        "tulen mielelläni uudestaan jos tarvitsen")


@pytest.mark.parametrize("sim", profile_names(), indirect=True)
def test_many_phones_whole_conversations(
        gw: Gateway, sim: tuple[str, ModemCore], clock: Clock) -> None:
    _, core = sim
    for phone, lang, _, _ in PEOPLE:
        invite(gw, phone, clock() - timedelta(hours=2), lang=lang)
    invite(gw, "+358401000008", clock() - timedelta(hours=2))
    invite(gw, "+358401000009", clock() - timedelta(hours=2))
    wait_until(lambda: len(core.sent()) == len(PEOPLE) + 2, step=gw.step)
    for phone, lang, replies, _ in PEOPLE:
        assert sent_to(core, phone)[0].startswith(gw.survey.message("sms_intro", lang))
        for text in replies[:-1]:
            say(gw, core, clock, phone, text)
        assert say(gw, core, clock, phone, replies[-1]) == gw.survey.message("sms_thanks", lang)
    # A score with a long comment with emoji: a multipart UCS-2 SMS, both answers filled.
    assert core.deliver("+358401000008", LONG) > 1
    wait_until(lambda: len(sent_to(core, "+358401000008")) == 2, step=gw.step)
    assert sent_to(core, "+358401000008")[-1] == gw.survey.questions["s1"].prompt("fi", "sms")
    # An opt-out: one confirmation, and nothing after it.
    assert say(gw, core, clock, "+358401000009", "Lopeta") == gw.survey.message(
        "sms_optout", "fi")
    core.deliver("+358401000009", "5")
    wait_until(lambda: gw.store.conn.execute(
        "SELECT COUNT(*) FROM sms_messages WHERE outcome = 'no_session'").fetchone()[0] == 1,
        step=gw.step)
    assert len(sent_to(core, "+358401000009")) == 2
    got = sorted((encode_answers(r.answers) for r in gw.store.unsynced() if r.status == "complete"),
                 key=repr)
    assert got == sorted((want for *_, want in PEOPLE), key=repr)
    (open_one,) = gw.store.open_responses("sms")
    assert encode_answers(open_one.answers) == {"nps": {"value": 8}, "open": {"text": LONG[2:]}}
    assert not core.stored()  # everything read was deleted from the modem
    counts = gw.gs.counters()
    assert (counts["sent"], counts["completed"], counts["opted_out"]) == (9, 7, 1)
    # The network's status reports (+CDS) mark the invitations delivered.
    wait_until(lambda: gw.gs.counters()["delivered"] == 9, step=gw.step)
    assert gw.gs.status()["invitations"] == {"sent": 9}


def test_late_reply_and_incomplete_multipart(
        gw: Gateway, sim: tuple[str, ModemCore], clock: Clock) -> None:
    _, core = sim
    invite(gw, "+358401000001", clock() - timedelta(hours=1))
    wait_until(lambda: len(core.sent()) == 1, step=gw.step)
    clock.advance(hours=60)  # two and a half days later
    say(gw, core, clock, "+358401000001", "8")
    core.fault("drop-part", "2")
    # Three parts, the second lost in the network: two arrive.
    assert core.deliver("+358401000001", "Hoitaja oli ihana " * 20) == 2
    wait_until(lambda: gw.gs.status()["inbox_pending"] == 2, step=gw.step)
    gw.step()
    assert len(sent_to(core, "+358401000001")) == 2  # still waiting for the lost part
    clock.advance(seconds=31)  # past the reassembly timeout: processed as what arrived
    wait_until(lambda: len(sent_to(core, "+358401000001")) == 3, step=gw.step)
    (resp,) = gw.store.open_responses("sms")
    assert resp.answers["open"].text.startswith("Hoitaja oli ihana")
    assert gw.store.conn.execute("SELECT missing FROM sms_messages ORDER BY id DESC "
                                 "LIMIT 1").fetchone() == (1,)


def test_modem_faults_mid_conversation_lose_nothing(
        gw: Gateway, sim: tuple[str, ModemCore], clock: Clock) -> None:
    _, core = sim
    phone = "+358401000001"
    invite(gw, phone, clock() - timedelta(hours=1))
    wait_until(lambda: len(core.sent()) == 1, step=gw.step)
    # The port vanishes (USB re-enumeration) while the client answers.
    core.fault("vanish", "0.3")
    core.deliver(phone, "9")
    wait_until(lambda: len(sent_to(core, phone)) == 2, timeout=10, step=gw.step)
    # Garbage on the line and a refused first try of the send.
    core.fault("garbage", "2")
    core.fault("send-error", "500", "1")
    assert say(gw, core, clock, phone, "Hyvää palvelua") == gw.survey.questions[
        "s1"].prompt("fi", "sms")
    assert say(gw, core, clock, phone, "5") == gw.survey.message("sms_thanks", "fi")
    (resp,) = gw.store.unsynced()
    assert encode_answers(resp.answers) == {"nps": {"value": 9}, "open": {"text": "Hyvää palvelua"},
                               "s1": {"value": 5}}
    assert [t for t in sent_to(core, phone)].count(gw.survey.message("sms_thanks", "fi")) == 1
