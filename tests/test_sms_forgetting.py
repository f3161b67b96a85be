"""Forgetting is real on the gateway: a forgotten number is in neither the store file nor
its write-ahead log, and texts of replies that never became answers go after a while."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sms_helpers import Clock, TwinModem, invite, make_gateway, utc

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
