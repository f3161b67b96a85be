"""Review of the SMS gateway: each test pins one bug found against issue 4's promises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sms_helpers import HKI, Clock, TwinModem, invite, make_gateway

from sms_gateway.errors import SendError
from sms_gateway.gateway_store import ReleaseError
from sms_gateway.scheduler import Window, deadline, decide
from sms_gateway.service import Gateway
from survey.redact import redact_text

ANNA = "+358401234567"


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


@pytest.mark.parametrize("text", [
    "10 0401234567",
    "kello 14 040-123 4567",
    "1.5.2024 0401234567 soittakaa",
    "2 +358 40 123 4567",
    "soita 040 - 123 4567",
    "050–1234567 (iltaisin)",
])
def test_phone_number_after_other_digits_is_redacted(text: str) -> None:
    out = redact_text(text, "fi")
    assert "[puhelinnumero]" in out
    assert "0401234567" not in out.replace(" ", "").replace("-", "")
    assert "401234567" not in out.replace(" ", "").replace("-", "")


def test_a_lone_score_or_date_is_not_redacted() -> None:
    assert redact_text("10 hyvä", "fi") == "10 hyvä"
    assert redact_text("1.5.2024 kiitos", "fi") == "1.5.2024 kiitos"


@pytest.mark.parametrize("local, kind", [
    (datetime(2025, 10, 25, 10, 0), "visit"),  # EEST -> EET across the window
    (datetime(2025, 3, 29, 10, 0), "visit"),   # EET -> EEST
    (datetime(2025, 10, 26, 3, 30), "call"),   # the repeated hour (fold 0: EEST)
    (datetime(2025, 10, 26, 3, 30, fold=1), "call"),
])
def test_deadline_is_real_elapsed_time_across_dst(local: datetime, kind: str) -> None:
    window = Window()
    event = local.replace(tzinfo=HKI)
    within = window.within(kind)
    assert deadline(event, kind, window).astimezone(UTC) == event.astimezone(UTC) + within


def test_visit_survey_not_sent_49_hours_after_the_visit_over_autumn_change() -> None:
    window = Window()
    event = datetime(2025, 10, 25, 10, 0, tzinfo=HKI)  # Saturday, EEST
    late = event.astimezone(UTC) + timedelta(hours=48, minutes=30)  # Monday 09:30 EET
    assert decide(event, "visit", late, window).action == "expire"


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


def _dump(gw: Gateway) -> str:
    tables = [r[0] for r in gw.store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    return "\n".join(repr(row) for t in tables
                     for row in gw.store.conn.execute(f"SELECT * FROM {t}"))


def test_number_of_an_unknown_send_is_forgotten_when_the_session_ends(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    """Unknown outcomes cannot be released once the session has ended: keep no number."""
    modem.fail = [SendError("AT+CMGS: timeout", [], unknown=True),
                  SendError("AT+CMGS: timeout", [], unknown=True)]
    invite(gw, ANNA, clock() - timedelta(hours=1))
    gw.step()  # the invitation: outcome unknown (it did arrive)
    for text in ("9 hyvä palvelu", "4"):  # the question's send is unknown too
        clock.advance(seconds=30)
        modem.deliver(ANNA, text, clock().isoformat())
        gw.step()
        gw.step()
    assert gw.gs.status()["live_sessions"] == 0
    assert gw.store.unsynced()[0].status == "complete"
    assert ANNA not in _dump(gw) and ANNA[1:] not in _dump(gw)
    inv_id = gw.gs.status()["unknown_invitations"][0]["id"]
    with pytest.raises(ReleaseError, match="did reach the client"):
        gw.gs.release(inv_id, clock(), gw.settings.window)


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
    assert ANNA not in _dump(gw)
