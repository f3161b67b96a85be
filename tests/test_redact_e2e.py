"""End to end through a real Mosquitto: personal data typed on a kiosk, sent in an SMS
comment, or kept unredacted by an older device reaches the central store redacted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from services import (
    AgentThread,
    Mosquitto,
    ReceiverThread,
    add_final_responses,
    queue_depth,
    wait_until,
    write_device_config,
)
from sms_helpers import Clock, TwinModem, invite, make_gateway

from central.store import open_central
from kiosk.simulation import simulate
from survey.config import DeviceIdentity
from survey.definition import shipped_survey_path
from survey.store import Store

HEL = ZoneInfo("Europe/Helsinki")
# One of each kind, written the awkward way people write them.
PERSONAL = ("hoitaja Maija Virtanen, soita 040.765.4321 tai matti.m@example.fi, hetu "
            "131052–308T, tili FI21 1234 5600 0007 85, Hämeenkatu 12 B 3, 33100 Tampere")
REDACTED = ("hoitaja [nimi], soita [puhelinnumero] tai [sähköposti], hetu [hetu], "
            "tili [tilinumero], [osoite]")
SECRETS = ("Virtanen", "765", "example.fi", "308T", "5600", "Hämeenkatu", "33100", "Tampere")


def _kiosk_device(folder: Path, origin: DeviceIdentity, port: int) -> Path:
    config = write_device_config(folder, origin, port)
    config.write_text(config.read_text().replace(
        f'file = "{folder / "survey.toml"}"', f'file = "{shipped_survey_path("national")}"')
        + '\n[kiosk]\nopening_hours = "07:00-21:00"\n', encoding="utf-8")
    return config


def _kiosk_patient_types(config: Path, shots: Path) -> None:
    # The welcome's Suomi button, then NPS 7, statement 1, skip, skip, the text, send.
    script = ["touch 0.2 0.7", "touch 0.65 0.55", "touch 0.1 0.6",
              "touch 0.9 0.95", "touch 0.9 0.95", f"type {PERSONAL}", "touch 0.9 0.95",
              "wait 10"]
    result = simulate(config, script, shots, start=datetime(2025, 3, 4, 10, 0, tzinfo=HEL))
    assert [r.answers["open"].text for r in result.rows] == [REDACTED]


def _sms_client_replies(store: Path) -> None:
    clock = Clock(datetime(2025, 3, 4, 9, 0, tzinfo=UTC))
    modem = TwinModem()
    gw = make_gateway(store, clock, [modem])
    try:
        invite(gw, "+358401112233", clock() - timedelta(hours=1))
        gw.step()
        for text in ("9 " + PERSONAL, "4"):
            clock.advance(seconds=30)
            modem.deliver("+358401112233", text, clock().isoformat())
            gw.step()
        (resp,) = [r for r in gw.store.unsynced() if r.channel == "sms"]
        assert resp.answers["open"].text == REDACTED
    finally:
        gw.store.close()


def _older_device_keeps_it_unredacted(store: Path, origin: DeviceIdentity) -> set[str]:
    with Store(store) as s:
        ids = set(add_final_responses(s, origin, 2))
        with s.write() as c:  # what a device from before the redaction wrote
            c.execute("UPDATE answers SET text = ? WHERE question = 'open'", (PERSONAL,))
            c.execute("INSERT INTO answers (response_id, question, text, answered_at) "
                      "SELECT id, 'open', ?, finished_at FROM responses "
                      "WHERE id NOT IN (SELECT response_id FROM answers WHERE question = 'open')",
                      (PERSONAL,))
    return ids


def test_personal_data_from_every_channel_reaches_the_central_redacted(
        tmp_path: Path, central_url: str) -> None:
    kiosk_origin = DeviceIdentity("tays-lobby-3", "tays", "sairaalapalvelut", "ensiapu")
    sms_origin = DeviceIdentity("tays-sms-1", "tays", "sairaalapalvelut", "sms")  # make_gateway's
    old_origin = DeviceIdentity("oys-lobby-1", "oys", "perhepalvelut", "neuvola")
    dirs = [tmp_path / name for name in ("kiosk", "sms", "old")]
    for folder in dirs:
        folder.mkdir()
    kiosk_dir, sms_dir, old_dir = dirs
    with Mosquitto(tmp_path / "broker", "allow_anonymous true\n") as broker:
        kiosk_config = _kiosk_device(kiosk_dir, kiosk_origin, broker.port)
        _kiosk_patient_types(kiosk_config, tmp_path / "shots")
        _sms_client_replies(sms_dir / "store.sqlite")
        old_ids = _older_device_keeps_it_unredacted(old_dir / "store.sqlite", old_origin)
        configs = [kiosk_config, write_device_config(sms_dir, sms_origin, broker.port),
                   write_device_config(old_dir, old_origin, broker.port)]
        with ReceiverThread(central_url, broker.port), AgentThread(configs[0]), \
                AgentThread(configs[1]), AgentThread(configs[2]):
            for folder in dirs:
                wait_until(lambda f=folder: queue_depth(f / "store.sqlite") == 0, 30,
                           message=f"{folder.name} drained")
    with open_central(central_url) as db:
        rows = db.execute("SELECT id, channel, answers FROM responses")
    texts = {}
    for rid, channel, answers in rows:
        decoded = json.loads(answers) if isinstance(answers, str) else answers
        texts[rid if rid in old_ids else channel] = decoded["open"]["text"]
    assert texts == {"kiosk": REDACTED, "sms": REDACTED, **dict.fromkeys(old_ids, REDACTED)}
    dump = repr([answers for _, _, answers in rows])  # the ids are hex: they may hold '765'
    for secret in SECRETS:
        assert secret not in dump, secret
