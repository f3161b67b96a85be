"""The SMS service loop with an in-process modem twin and a settable clock."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sms_helpers import Clock, TwinModem, dump_tables, invite, make_gateway, utc

from sms_gateway.errors import AtTimeout, CmsError, PduError, SendError
from sms_gateway.gateway_store import ReleaseError
from sms_gateway.service import DeliveryReport, Gateway
from sms_gateway.status import status_extras
from survey.replies import Reply
from survey.response import Answer, encode_answers
from survey.store import Store

ANNA = "+358401234567"
BO = "+358507654321"


def scts(clock: Clock) -> str:
    return clock().isoformat()


def reply(gw: Gateway, modem: TwinModem, clock: Clock, phone: str, text: str) -> None:
    clock.advance(seconds=30)
    modem.deliver(phone, text, scts(clock))
    gw.step()


def dump_all(path: Path) -> str:
    """Every value of every table, as one text (to look for phone numbers)."""
    conn = sqlite3.connect(path)
    try:
        out = []
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in conn.execute(f"SELECT * FROM {name}"):
                out.append(repr(row))
        return "\n".join(out)
    finally:
        conn.close()


def test_full_conversation_score_with_comment_fills_open_question(
        gw: Gateway, modem: TwinModem, clock: Clock, tmp_path: Path) -> None:
    assert invite(gw, ANNA, clock() - timedelta(hours=1)) == "added"
    gw.step()
    survey = gw.survey
    (first,) = modem.texts_to(ANNA)
    assert first.startswith(survey.message("sms_intro", "fi"))
    assert survey.questions["nps"].prompt("fi", "sms") in first
    reply(gw, modem, clock, ANNA, "9 hyvä palvelu")
    # The comment answered the open question, so the next one is the statement s1.
    assert modem.texts_to(ANNA)[-1] == survey.questions["s1"].prompt("fi", "sms")
    reply(gw, modem, clock, ANNA, "4")
    assert modem.texts_to(ANNA)[-1] == survey.message("sms_thanks", "fi")
    (resp,) = gw.store.unsynced()
    assert resp.channel == "sms" and resp.status == "complete"
    assert resp.unit == "ensiapu" and resp.survey == "national"
    assert encode_answers(resp.answers) == {"nps": {"value": 9}, "open": {"text": "hyvä palvelu"},
                               "s1": {"value": 4}}
    counts = gw.gs.counters()
    assert (counts["invited"], counts["sent"], counts["answered"], counts["completed"]) == (
        1, 1, 1, 1)
    assert not modem.storage  # deleted from the modem once stored
    everything = dump_all(tmp_path / "store.sqlite")
    assert "401234567" not in everything  # the number is gone once the session ended


def test_personal_data_in_a_reply_is_redacted_in_the_answer_and_the_message_log(
        gw: Gateway, modem: TwinModem, clock: Clock, tmp_path: Path) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    comment = ("hoitaja Maija Virtanen, soita 040.765.4321 tai m.v@example.fi, hetu "
               "131052–308T, tili FI21 1234 5600 0007 85, Hämeenkatu 12 B 3")
    reply(gw, modem, clock, ANNA, "9 " + comment)
    text = gw.store.get(gw.store.open_responses()[0].id).answers["open"].text
    assert text == ("hoitaja [nimi], soita [puhelinnumero] tai [sähköposti], hetu [hetu], "
                    "tili [tilinumero], [osoite]")
    everything = dump_all(tmp_path / "store.sqlite")
    for secret in ("Virtanen", "765", "example.fi", "308T", "5600", "Hämeenkatu"):
        assert secret not in everything, secret


def test_unclear_gets_one_clarifying_reask_then_moves_on(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    reply(gw, modem, clock, ANNA, "mitä?")
    clarify = modem.texts_to(ANNA)[-1]
    assert "0-10" in clarify
    reply(gw, modem, clock, ANNA, "en tiedä")
    # Second unclear: no more re-asks, the open question comes next.
    assert modem.texts_to(ANNA)[-1] == gw.survey.questions["open"].prompt("fi", "sms")
    reply(gw, modem, clock, ANNA, "Hoitaja oli ystävällinen, soita 040 765 4321")
    reply(gw, modem, clock, ANNA, "viisi")
    (resp,) = gw.store.unsynced()
    assert "nps" not in resp.answers
    assert resp.answers["open"].text == "Hoitaja oli ystävällinen, soita [puhelinnumero]"
    assert resp.answers["s1"] == Answer(value=5)


def test_optout_ends_for_good_with_one_confirmation(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    reply(gw, modem, clock, ANNA, "8")
    reply(gw, modem, clock, ANNA, "STOP")
    assert modem.texts_to(ANNA)[-1] == gw.survey.message("sms_optout", "fi")
    n = len(modem.sent)
    reply(gw, modem, clock, ANNA, "5")  # after the opt-out: no answer, no message
    assert len(modem.sent) == n
    assert invite(gw, ANNA, clock()) == "opted out"
    (resp,) = gw.store.unsynced()
    assert resp.status == "abandoned" and encode_answers(resp.answers) == {"nps": {"value": 8}}
    assert resp.flags == {"optout"}
    assert gw.gs.counters()["opted_out"] == 1


def test_number_without_session_gets_no_answer_but_is_logged(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    reply(gw, modem, clock, BO, "10")
    assert modem.sent == []
    rows = gw.store.conn.execute("SELECT outcome, text FROM sms_messages").fetchall()
    assert rows == [("no_session", "10")]


def test_late_reply_within_lifetime_accepted_after_it_expired(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    invite(gw, BO, clock() - timedelta(hours=1))
    gw.step()
    gw.step()
    clock.advance(hours=70)
    reply(gw, modem, clock, ANNA, "10")  # 70 h later: still taken
    assert modem.texts_to(ANNA)[-1] == gw.survey.questions["open"].prompt("fi", "sms")
    clock.advance(hours=3)
    gw.step()  # both sessions now past 72 h
    n = len(modem.sent)
    reply(gw, modem, clock, BO, "7")  # too late: no session any more
    assert len(modem.sent) == n
    finals = gw.store.unsynced()
    assert [(r.status, encode_answers(r.answers)) for r in finals] == [
        ("expired", {"nps": {"value": 10}})]


def test_window_waits_and_deadline_expires(gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    clock.t = utc(2025, 3, 4, 18, 30)  # 20:30 in Helsinki: outside the window
    invite(gw, ANNA, clock() - timedelta(minutes=10), kind="visit")
    invite(gw, BO, clock() - timedelta(minutes=10), kind="call")
    gw.step()
    assert modem.sent == []
    assert gw.gs.counters()["expired"] == 1  # the call cannot go before its deadline
    clock.t = utc(2025, 3, 5, 6, 0)  # 08:00 next morning
    gw.step()
    assert [n for n, _ in modem.sent] == [ANNA]


def test_refused_send_is_retried_unknown_is_never_repeated_until_released(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    invite(gw, BO, clock() - timedelta(hours=1), unit="neuvola")
    modem.fail = [CmsError("AT+CMGS", 500, "+CMS ERROR: 500"),
                  SendError("timed out after part 1", [7], unknown=True)]
    gw.step()  # Anna: refused -> queued again for later
    gw.step()  # Bo: outcome unknown
    clock.advance(minutes=5)
    for _ in range(3):
        gw.step()
    assert modem.texts_to(ANNA) and not modem.texts_to(BO)
    st = gw.gs.status()
    assert [u["unit"] for u in st["unknown_invitations"]] == ["neuvola"]
    assert st["counters"]["unknown"] == 1
    inv_id = st["unknown_invitations"][0]["id"]
    gw.gs.release(inv_id, clock(), gw.settings.window)
    gw.step()
    assert len(modem.texts_to(BO)) == 1
    with pytest.raises(ReleaseError):
        gw.gs.release(inv_id, clock(), gw.settings.window)


def test_timeout_during_send_is_unknown_and_survives_restart(
        tmp_path: Path, clock: Clock) -> None:
    modem = TwinModem(fail=[AtTimeout("AT+CMGS", 120)])
    gw = make_gateway(tmp_path / "s.sqlite", clock, [modem])
    gw.start()
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    gw.close()
    gw.store.close()
    gw = make_gateway(tmp_path / "s.sqlite", clock, [modem])
    gw.start()
    for _ in range(3):
        gw.step()
    assert modem.sent == []
    assert gw.gs.status()["invitations"] == {"unknown": 1}
    # The client did get it after all: their reply is taken.
    reply(gw, modem, clock, ANNA, "9")
    assert modem.texts_to(ANNA) == [gw.survey.questions["open"].prompt("fi", "sms")]
    gw.store.close()


def test_same_message_read_twice_counts_once(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    modem.keep_deleted = True  # delete does nothing: the next scan reads it again
    reply(gw, modem, clock, ANNA, "9")
    gw.step()
    gw.step()
    assert gw.store.conn.execute("SELECT COUNT(*) FROM sms_messages").fetchone()[0] == 1
    assert modem.texts_to(ANNA)[1:] == [gw.survey.questions["open"].prompt("fi", "sms")]


def test_multipart_reassembled_in_order_and_incomplete_after_timeout(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    invite(gw, BO, clock() - timedelta(hours=1))
    gw.step()
    gw.step()
    t = scts(clock)
    modem.deliver(ANNA, " palvelu 😀", t, (42, 2, 2))
    modem.deliver(ANNA, "10 Loistava", t, (42, 2, 1))
    modem.deliver(BO, "8 ok ", t, (9, 3, 1))
    modem.deliver(BO, "kiitos", t, (9, 3, 3))
    gw.step()
    (resp,) = [r for r in gw.store.open_responses("sms")]
    row = gw.store.get(resp.id)
    assert row is not None and row.answers["open"] == Answer(text="Loistava palvelu 😀")
    clock.advance(minutes=6)  # Bo's part 2 never came
    gw.step()
    rows = gw.store.conn.execute("SELECT parts, missing FROM sms_messages ORDER BY id").fetchall()
    assert rows == [(2, 0), (3, 1)]


def test_delivery_report_updates_invitation(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    ref = modem.next_ref
    modem.pending.append(DeliveryReport(None, ref, 0))
    gw.step()
    assert gw.gs.counters()["delivered"] == 1
    row = gw.store.conn.execute("SELECT delivery FROM sms_invitations").fetchone()
    assert row == ("delivered",)


def test_rate_limit_per_modem_and_two_modems_share_the_queue(
        tmp_path: Path, clock: Clock) -> None:
    a, b = TwinModem("a"), TwinModem("b")
    gw = make_gateway(tmp_path / "s.sqlite", clock, [a, b], rate=1)
    gw.start()
    for i in range(4):
        invite(gw, f"+35840100000{i}", clock() - timedelta(hours=1))
    for _ in range(3):
        gw.step()
    assert (len(a.sent), len(b.sent)) == (1, 1)
    clock.advance(seconds=61)
    gw.step()
    assert (len(a.sent), len(b.sent)) == (2, 2)
    assert len({n for n, _ in a.sent + b.sent}) == 4
    gw.store.close()


def test_unhealthy_modem_sends_nothing(gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    modem.healthy = False
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    assert modem.sent == [] and not gw.healthy
    modem.healthy = True
    gw.step()
    assert len(modem.sent) == 1 and gw.healthy


def test_heartbeat_extras_have_counters_and_no_numbers(
        gw: Gateway, modem: TwinModem, clock: Clock, tmp_path: Path) -> None:
    with Store(tmp_path / "other.sqlite") as empty:
        assert status_extras(empty) == {}  # a kiosk: nothing about SMS
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    extras = status_extras(gw.store)
    daily = extras["sms"].pop("daily")
    assert extras["sms"] == {"invited": 1, "sent": 1, "delivered": 0, "answered": 0,
                             "completed": 0, "opted_out": 0, "expired": 0, "unknown": 0,
                             "rested": 0, "declined": 0, "unknown_waiting": 0}
    # The same counts per Helsinki day, for the central's funnel of a period.
    day = clock().astimezone(ZoneInfo("Europe/Helsinki")).date().isoformat()
    assert list(daily) == [day]
    assert (daily[day]["invited"], daily[day]["sent"], daily[day]["answered"]) == (1, 1, 0)
    assert extras["modems"][0]["ok"] is True and extras["modems"][0]["signal"] == 20
    assert "401234567" not in json.dumps(extras)


def test_optout_without_session_confirmed_in_the_numbers_language(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, BO, clock() - timedelta(hours=2), kind="call", lang="sv")
    gw.step()  # the call survey expires unsent: there is no session
    assert gw.gs.status()["invitations"] == {"expired": 1}
    reply(gw, modem, clock, BO, "sluta")
    assert modem.texts_to(BO)[-1] == gw.survey.message("sms_optout", "sv")
    reply(gw, modem, clock, ANNA, "stop")  # never invited: confirmed in the first language
    assert modem.texts_to(ANNA) == [gw.survey.message("sms_optout", "fi")]


def test_unencodable_send_fails_for_good_and_a_bad_message_is_kept(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    modem.fail = [PduError("recipient: not a phone number")] * 3
    for _ in range(3):
        gw.step()
        clock.advance(minutes=3)
    assert modem.sent == [] and gw.gs.status()["invitations"] == {"failed": 1}

    def broken_reader(text: str, kind: str, lang: str | None) -> Reply:
        raise RuntimeError("reader bug")

    gw.reader = broken_reader
    reply(gw, modem, clock, BO, "9")
    rows = gw.store.conn.execute("SELECT outcome, text FROM sms_messages").fetchall()
    assert rows == [("error", "9")]
    assert "reader bug" in gw.gs.last_errors()[-1]["error"]


def test_one_session_per_number_second_invitation_waits(
        tmp_path: Path, modem: TwinModem, clock: Clock) -> None:
    # No rest period here (rest_days = 0): the second survey follows the first.
    gw = make_gateway(tmp_path / "s.sqlite", clock, [modem], rest=timedelta(0))
    gw.start()
    try:
        invite(gw, ANNA, clock() - timedelta(hours=2))
        invite(gw, ANNA, clock() - timedelta(hours=1), unit="neuvola")
        for _ in range(3):
            gw.step()
        assert len(modem.texts_to(ANNA)) == 1 and gw.gs.status()["live_sessions"] == 1
        for text in ("9", "ok", "5"):
            reply(gw, modem, clock, ANNA, text)
        gw.step()
        # The first survey ended with thanks; the second one starts now.
        assert modem.texts_to(ANNA)[-2] == gw.survey.message("sms_thanks", "fi")
        assert modem.texts_to(ANNA)[-1].startswith(gw.survey.message("sms_intro", "fi"))
    finally:
        gw.close()
        gw.store.close()


def test_optout_drops_questions_still_queued_for_the_number(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    """A question queued (modem down) before the client's STOP must never go out after it."""
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    assert len(modem.texts_to(ANNA)) == 1  # the invitation
    modem.healthy = False  # the next question waits in the outbox
    clock.advance(seconds=30)
    modem.deliver(ANNA, "9", clock().isoformat())
    gw.step()
    clock.advance(seconds=30)
    modem.deliver(ANNA, "STOP", clock().isoformat())
    gw.step()
    modem.healthy = True
    for _ in range(4):
        clock.advance(seconds=5)
        gw.step()
    assert modem.texts_to(ANNA)[1:] == [gw.survey.message("sms_optout", "fi")]
    assert gw.gs.status()["outbox"].get("queued", 0) == 0


def test_non_ascii_alphanumeric_sender_is_kept_and_does_not_stop_the_loop(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    """An operator's alphanumeric sender with 'Ä' must not crash every step (crash loop)."""
    modem.deliver("Ärrä-Info", "Tervetuloa", clock().isoformat())
    modem.deliver(ANNA, "STOP", clock().isoformat())
    gw.step()
    gw.step()
    assert modem.storage == {}  # both stored and then deleted
    assert gw.gs.status()["inbox_pending"] == 0
    assert modem.texts_to(ANNA) == [gw.survey.message("sms_optout", "fi")]


def test_reply_received_before_expiry_counts_though_its_parts_complete_after(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    """A multipart reply whose first part came 2 min before the 72 h end is still an answer."""
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    clock.advance(hours=72, minutes=-2)
    modem.deliver(ANNA, "9 hyvä", clock().isoformat(), (5, 2, 1))
    gw.step()  # waits for part 2
    clock.advance(minutes=6)  # part 2 never comes; the session's lifetime ends meanwhile
    gw.step()
    gw.step()
    outcomes = [r[0] for r in gw.store.conn.execute("SELECT outcome FROM sms_messages")]
    assert outcomes == ["answer"]
    finals = gw.store.unsynced()
    assert [r.answers["nps"].value for r in finals] == [9]


def test_two_multipart_messages_with_one_concat_ref_both_kept(gw: Gateway,
                                                             clock: Clock) -> None:
    """A sender reusing a concatenation reference: neither message's text is dropped."""
    gs = gw.gs
    t1, t2 = clock().isoformat(), (clock() + timedelta(seconds=40)).isoformat()
    gs.store_part("twin0", ANNA, t1, 7, 2, 1, "eka ", clock())
    gs.store_part("twin0", ANNA, t2, 7, 2, 1, "toka ", clock())
    gs.store_part("twin0", ANNA, t1, 7, 2, 2, "viesti", clock())
    gs.store_part("twin0", ANNA, t2, 7, 2, 2, "teksti", clock())
    ready = gs.ready_messages(clock(), timedelta(minutes=5))
    assert sum(len(m.part_ids) for m in ready) == 4
    assert sorted(m.text for m in ready) == ["eka viesti", "toka teksti"]


def test_part_arriving_after_its_set_was_processed_is_not_a_new_reply(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    """The straggler of a timed-out multipart reply must not answer the next question."""
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    t = clock().isoformat()
    modem.deliver(ANNA, "10 Loistava", t, (42, 2, 1))
    gw.step()
    clock.advance(minutes=6)  # part 2 is late: part 1 is processed as what arrived
    gw.step()
    s1 = gw.survey.questions["s1"].prompt("fi", "sms")
    assert modem.texts_to(ANNA)[-1] == s1
    modem.deliver(ANNA, " palvelu", t, (42, 2, 2))
    for _ in range(2):
        gw.step()
        clock.advance(minutes=6)
    gw.step()
    assert modem.texts_to(ANNA)[-1] == s1  # no clarifying re-ask for a fragment
    rows = gw.store.conn.execute("SELECT outcome, text FROM sms_messages ORDER BY id").fetchall()
    assert rows == [("answer", "10 Loistava"), ("late_part", " palvelu")]
    (resp,) = gw.store.open_responses("sms")
    row = gw.store.get(resp.id)
    assert row is not None and set(row.answers) == {"nps", "open"}


def test_reply_sent_in_time_but_read_after_a_restart_past_expiry_counts(
        tmp_path: Path, clock: Clock) -> None:
    """The service was down over the 72 h end: the SMSC's timestamp shows the reply was in time."""
    modem = TwinModem()
    gw = make_gateway(tmp_path / "s.sqlite", clock, [modem])
    gw.start()
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    gw.close()
    gw.store.close()
    clock.advance(hours=72, minutes=-5)
    modem.deliver(ANNA, "9", clock().isoformat())  # kept on the modem while we are down
    clock.advance(minutes=15)
    gw = make_gateway(tmp_path / "s.sqlite", clock, [modem])
    try:
        gw.start()
        gw.step()
        gw.step()
        outcomes = [r[0] for r in gw.store.conn.execute("SELECT outcome FROM sms_messages")]
        assert outcomes == ["answer"]
        finals = gw.store.unsynced()
        assert [r.answers["nps"].value for r in finals] == [9]
    finally:
        gw.close()
        gw.store.close()


def test_question_still_queued_when_the_session_expires_is_not_sent(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    """After expiry a reply gets no answer, so the question must not go out either."""
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    modem.healthy = False
    clock.advance(seconds=30)
    modem.deliver(ANNA, "9", clock().isoformat())
    gw.step()  # the next question waits for the modem
    clock.advance(hours=73)
    gw.step()  # the session expires
    modem.healthy = True
    for _ in range(3):
        gw.step()
    assert len(modem.texts_to(ANNA)) == 1  # the invitation only
    assert gw.gs.status()["outbox"] == {"failed": 1}
    assert ANNA not in dump_tables(gw)


def test_a_reply_is_one_transaction_a_failure_keeps_no_half_of_it(
        gw: Gateway, modem: TwinModem, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    finish = gw.gs.finish_message

    def failing(msg: object, outcome: str, *args: object, **kwargs: object) -> None:
        if outcome == "answer":
            raise RuntimeError("the disk went away between the answer and the state")
        finish(msg, outcome, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gw.gs, "finish_message", failing)
    reply(gw, modem, clock, ANNA, "9")
    # The answer was written before the failure, in the same transaction: rolled back.
    assert gw.store.open_responses() == [] and gw.store.unsynced() == []
    (session,) = gw.gs.live_sessions()
    assert session.state.index == 0 and gw.gs.counters().get("answered", 0) == 0
    monkeypatch.setattr(gw.gs, "finish_message", finish)
    reply(gw, modem, clock, ANNA, "9")  # answered again, whole this time
    (resp,) = gw.store.open_responses()
    assert encode_answers(resp.answers) == {"nps": {"value": 9}}


def test_expiry_reads_only_the_sessions_that_are_due(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    clock.advance(hours=1)
    invite(gw, BO, clock() - timedelta(minutes=10))
    gw.step()
    anna, bo = gw.gs.live_sessions()
    assert gw.gs.sessions_due(anna.state.expires_at - timedelta(seconds=1)) == []
    assert [s.id for s in gw.gs.sessions_due(anna.state.expires_at)] == [anna.id]
    assert [s.id for s in gw.gs.sessions_due(bo.state.expires_at)] == [anna.id, bo.id]
    clock.t = anna.state.expires_at
    gw.step()
    assert [s.id for s in gw.gs.live_sessions()] == [bo.id]


def test_live_sessions_of_an_older_file_are_found_by_expiry_in_utc(tmp_path: Path) -> None:
    """Expiry times written with another offset (before the index) are turned to UTC."""
    from sms_gateway.schema import SMS_SCHEMA
    from survey.db import migrate

    clock = Clock(utc(2025, 3, 4, 8, 0))
    gw = make_gateway(tmp_path / "store.sqlite", clock, [TwinModem()])
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    (session,) = gw.gs.live_sessions()
    local = session.state.expires_at.astimezone(ZoneInfo("Europe/Helsinki"))
    with gw.store.write() as c:  # as version 3 left it, with the offset of the clock used
        c.execute("DROP INDEX sms_sessions_expiry")
        c.execute("UPDATE sms_sessions SET expires_at = ?", (local.isoformat(),))
        c.execute("UPDATE schema_versions SET version = 3 WHERE component = 'sms_gateway'")
        migrate(c, SMS_SCHEMA, "test")
    (stored,) = gw.store.conn.execute("SELECT expires_at FROM sms_sessions").fetchone()
    assert stored == session.state.expires_at.isoformat(timespec="seconds")
    assert [s.id for s in gw.gs.sessions_due(session.state.expires_at)] == [session.id]
    gw.close()
    gw.store.close()


def test_parts_leave_the_modem_only_after_the_pass_that_stored_them_committed(
        gw: Gateway, modem: TwinModem, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    from survey.errors import StoreError

    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()
    finish = gw.gs.finish_message

    def disk_full(*args: object, **kwargs: object) -> None:
        raise StoreError("database or disk is full")

    monkeypatch.setattr(gw.gs, "finish_message", disk_full)
    clock.advance(seconds=30)
    modem.deliver(ANNA, "9", scts(clock))
    with pytest.raises(StoreError):
        gw.step()
    assert len(modem.storage) == 1  # the pass rolled back: the reply stays on the modem
    assert gw.store.conn.execute("SELECT COUNT(*) FROM sms_inbox").fetchone()[0] == 0
    monkeypatch.setattr(gw.gs, "finish_message", finish)
    gw.step()  # read again from the modem's storage (the scan), answered, then deleted
    assert not modem.storage and gw.gs.counters()["answered"] == 1
    assert modem.texts_to(ANNA)[-1] == gw.survey.questions["open"].prompt("fi", "sms")
