"""Forgetting is real on the gateway: a forgotten number is in neither the store file nor
its write-ahead log, and texts of replies that never became answers go after a while."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sms_helpers import Clock, TwinModem, dump_tables, invite, make_gateway, utc

from sms_gateway.errors import SendError
from sms_gateway.gateway_store import ReleaseError
from sms_gateway.service import Gateway, settings_from_config
from survey.config import Section

ANNA = "+358401234567"
BO = "+358507654321"
# Every way the numbers and the raw reply could sit in the file's bytes.
FORMS = ("+358401234567", "358401234567", "0401234567", "401234567", "+358507654321",
         "507654321", "131052-308T", "040 765 4321")


@pytest.fixture
def clock() -> Clock:
    return Clock(utc(2025, 3, 4, 9))


def reply(gw: Gateway, modem: TwinModem, clock: Clock, phone: str, text: str) -> None:
    clock.advance(seconds=30)
    modem.deliver(phone, text, clock().isoformat())
    gw.step()


def raw_bytes(folder: Path) -> bytes:
    """The store file and its write-ahead log, as the disk holds them."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob("store.sqlite*"))
                    if not p.name.endswith("-shm"))


def test_a_forgotten_number_is_in_neither_the_store_file_nor_its_wal(
        tmp_path: Path, clock: Clock) -> None:
    modem = TwinModem()
    gw = make_gateway(tmp_path / "store.sqlite", clock, [modem])
    try:
        invite(gw, ANNA, clock() - timedelta(hours=1))
        gw.step()
        assert b"401234567" in raw_bytes(tmp_path)  # live: the session needs the number
        reply(gw, modem, clock, ANNA, "9 hetu 131052-308T, soita 040 765 4321")
        reply(gw, modem, clock, ANNA, "4")  # the last answer: the session ends
        reply(gw, modem, clock, BO, "10")   # a number with no session: logged, forgotten
        assert gw.gs.live_sessions() == []
        data = raw_bytes(tmp_path)
        assert len(data) > 10_000  # the file is there, with its rows
        for form in FORMS:
            assert form.encode() not in data, form
    finally:
        gw.store.close()


def test_texts_of_replies_that_never_became_answers_go_after_the_retention(
        tmp_path: Path, clock: Clock) -> None:
    modem = TwinModem()
    gw = make_gateway(tmp_path / "store.sqlite", clock, [modem])
    try:
        invite(gw, ANNA, clock() - timedelta(hours=1))
        gw.step()
        reply(gw, modem, clock, ANNA, "en ymmärrä mitä kysytte")  # unclear: re-asked
        reply(gw, modem, clock, ANNA, "8")                         # an answer
        reply(gw, modem, clock, BO, "kuka olette?")                # no session

        def texts() -> list[tuple[str, str]]:
            return gw.gs._all("SELECT outcome, text FROM sms_messages ORDER BY id")

        assert [o for o, _ in texts()] == ["unclear", "answer", "no_session"]
        clock.advance(days=29)
        gw.step()
        assert len(texts()) == 3
        clock.advance(days=2)
        gw.step()
        assert texts() == [("answer", "8")]
        assert b"kuka olette" not in raw_bytes(tmp_path)
    finally:
        gw.store.close()


def test_retention_is_configurable_and_checked(tmp_path: Path) -> None:
    assert settings_from_config(Section(tmp_path / "d.toml", "sms", {})).reply_retention \
        == timedelta(days=30)
    section = Section(tmp_path / "d.toml", "sms", {"reply_retention_days": 7})
    assert settings_from_config(section).reply_retention == timedelta(days=7)
    with pytest.raises(ValueError, match="reply_retention_days"):
        settings_from_config(Section(tmp_path / "d.toml", "sms", {"reply_retention_days": -1}))


def test_a_reader_of_another_service_delays_the_forgetting_only_until_it_lets_go(
        tmp_path: Path, clock: Clock) -> None:
    mono = [0.0]
    modem = TwinModem()
    gw = make_gateway(tmp_path / "store.sqlite", clock, [modem], monotonic=lambda: mono[0])
    reader = sqlite3.connect(tmp_path / "store.sqlite", isolation_level=None)
    try:
        invite(gw, ANNA, clock() - timedelta(hours=1))
        gw.step()
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM responses").fetchone()  # holds its snapshot
        reply(gw, modem, clock, ANNA, "9 hyvä")
        reply(gw, modem, clock, ANNA, "4")
        assert gw.gs.live_sessions() == []  # the gateway went on, not waiting for the reader
        assert b"401234567" in raw_bytes(tmp_path)  # the log could not be emptied yet
        reader.execute("COMMIT")
        gw.step()
        assert b"401234567" in raw_bytes(tmp_path)  # the next try waits its turn…
        mono[0] += 1.0
        gw.step()
        assert b"401234567" not in raw_bytes(tmp_path)  # …and then empties the log
    finally:
        reader.close()
        gw.store.close()


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
    assert ANNA not in dump_tables(gw) and ANNA[1:] not in dump_tables(gw)
    inv_id = gw.gs.status()["unknown_invitations"][0]["id"]
    with pytest.raises(ReleaseError, match="did reach the client"):
        gw.gs.release(inv_id, clock(), gw.settings.window)
