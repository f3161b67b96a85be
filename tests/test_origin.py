"""The central owns the origin: a stolen device's password cannot file answers elsewhere.

A thief with one device's broker account sends batches claiming another area and
unit, times from 1991 to 2199, an id in upper case beside its lower-case twin and
NPS values of -1000 and 1000. Against a real Mosquitto with broker-config's ACL,
the central stores the answers under the device's registered origin, flags the
claims and the times (visible in the report's anomalies) and refuses the rest.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from services import ReceiverThread, free_port, wait_port, wait_until
from test_broker_acl import broker_home  # noqa: F401  (a fixture)

from central import origin, registry
from central.registry import DeviceOrigin
from central.store import open_central
from palaute.cli import main
from survey.response import decode_response
from sync import protocol

NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def wire(**over: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(minutes=5)
    resp: dict[str, Any] = {
        "id": str(uuid.uuid4()), "device": "tays-lobby-3", "site": "tays",
        "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "kiosk",
        "survey": "national", "survey_version": 3, "lang": "fi",
        "started_at": at.isoformat(), "finished_at": (at + timedelta(seconds=40)).isoformat(),
        "status": "complete", "seq": 1, "answers": {"nps": {"value": 9}}, "flags": [],
    }
    resp.update(over)
    return resp


# -- the pure judgement ----------------------------------------------------------------------


REGISTERED = DeviceOrigin("tays-lobby-3", "tays", "sairaalapalvelut", "ensiapu",
                          enrolled_at=NOW - timedelta(days=30))


def judged(**over: Any) -> tuple[Any, origin.Claim | None]:
    at = NOW - timedelta(hours=1)
    resp = decode_response(wire(started_at=at.isoformat(), finished_at=at.isoformat(), **over))
    return origin.judge(resp, REGISTERED, NOW)


def test_the_registry_decides_where_an_answer_is_filed() -> None:
    resp, claim = judged(area="x", unit="fake-unit")
    assert (resp.site, resp.area, resp.unit) == ("tays", "sairaalapalvelut", "ensiapu")
    assert resp.flags == {origin.ORIGIN_MISMATCH}
    assert claim is not None and (claim.area, claim.unit) == ("x", "fake-unit")
    resp, claim = judged(flags=["repeat_press", "origin_mismatch", "clock_suspect"])
    assert resp.flags == {"repeat_press"} and claim is None  # the central's flags are its own
    unregistered, _ = origin.judge(decode_response(wire(unit="u2")), None, datetime.now(UTC))
    assert unregistered.unit == "u2" and origin.UNREGISTERED in unregistered.flags


def test_a_gateway_keeps_the_unit_of_each_invitation_but_not_its_area() -> None:
    gateway = DeviceOrigin("tays-sms-1", "tays", "sairaalapalvelut", registry.ANY_UNIT)
    resp = decode_response(wire(device="tays-sms-1", channel="sms", unit="kardiologia"))
    kept, claim = origin.judge(resp, gateway, datetime.now(UTC))
    assert kept.unit == "kardiologia" and not kept.flags and claim is None
    moved, claim = origin.judge(decode_response(wire(device="tays-sms-1", area="x")), gateway,
                                datetime.now(UTC))
    assert (moved.area, moved.flags) == ("sairaalapalvelut", {origin.ORIGIN_MISMATCH})


@pytest.mark.parametrize(("started", "finished", "suspect"), [
    (NOW - timedelta(days=1), NOW - timedelta(days=1), False),
    (NOW + timedelta(minutes=5), NOW + timedelta(minutes=6), False),  # within the skew
    (NOW - timedelta(minutes=5), NOW + timedelta(hours=2), True),     # finished in the future
    (NOW - timedelta(days=31), NOW - timedelta(days=31), True),       # before its enrolment
    (datetime(1991, 1, 1, tzinfo=UTC), NOW, True),
])
def test_implausible_times_are_flagged(started: datetime, finished: datetime,
                                       suspect: bool) -> None:
    assert origin.clock_suspect(started, finished, REGISTERED.enrolled_at, NOW) is suspect


# -- the attack, through a real broker -------------------------------------------------------


def test_a_thief_cannot_file_answers_elsewhere_or_elsewhen(
        tmp_path: Path, broker_home: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    out, port = broker_home / "broker", free_port()
    devices = tmp_path / "devices.txt"
    devices.write_text("tays/tays-lobby-3 sairaalapalvelut ensiapu\n")
    assert main(["central", "broker-config", "--devices", str(devices), "--out", str(out),
                 "--port", str(port), "--bind", "127.0.0.1", "--db", url,
                 "--persistence-dir", str(broker_home / "data")]) == 0
    import subprocess

    proc = subprocess.Popen(["mosquitto", "-c", str(out / "mosquitto.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    twin = str(uuid.uuid4())
    forged = [
        wire(area="fake-area", unit="fake-unit"),
        wire(started_at="1991-01-01T10:00:00+02:00", finished_at="1991-01-01T10:01:00+02:00"),
        wire(finished_at="2199-12-31T10:00:00+02:00"),
        wire(id=twin), wire(id=twin.upper()),
        wire(answers={"nps": {"value": -1000}}), wire(answers={"nps": {"value": 1000}}),
        wire(answers={"nps": {"value": 9}, "s1": {"value": 7}}),  # a statement is 1-5
        wire(answers={"nps": {"value": 9}, "open": {"value": 3}}),  # a text has no value
    ]
    try:
        wait_port(port, proc=proc)
        thief = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tays-lobby-3")
        thief.username_pw_set("tays-lobby-3", (out / "passwords" / "tays-lobby-3.pass")
                              .read_text().strip())
        acks: list[bytes] = []
        subscribed = threading.Event()
        thief.on_message = lambda c, u, m: acks.append(bytes(m.payload))
        thief.on_subscribe = lambda *a: subscribed.set()
        thief.connect("127.0.0.1", port)
        thief.loop_start()
        central_pw = (out / "passwords" / "central.pass").read_text().strip()
        with ReceiverThread(url, port, username="central", password=central_pw,
                            client_id="central"):
            thief.subscribe("palaute/v1/tays/tays-lobby-3/ack", qos=1)
            assert subscribed.wait(5)
            # The thief writes the JSON itself: nothing of our encoder stands in its way.
            batch = {**protocol.make_batch(str(uuid.uuid4()), "tays-lobby-3",
                                           datetime.now(UTC), []), "responses": forged}
            thief.publish("palaute/v1/tays/tays-lobby-3/responses", protocol.encode(batch),
                          qos=1).wait_for_publish(5)
            wait_until(lambda: acks, 10, message="the central's ack")
        thief.disconnect()
        thief.loop_stop()
    finally:
        proc.terminate()
        proc.wait(10)
    ack = protocol.parse_ack(acks[0])
    assert set(ack.accepted) == {forged[i]["id"] for i in (0, 1, 2, 3)}
    assert {rid for rid, _ in ack.rejected} == {twin.upper(), *(f["id"] for f in forged[5:])}
    with open_central(url) as db:
        rows = {r[0]: (r[1], r[2], set(json.loads(r[3]))) for r in db.execute(
            "SELECT id, area, unit, flags FROM responses")}
        assert len(db.response_ids()) == 4
        [claim] = db.execute("SELECT response_id, unit FROM origin_claims")
    assert rows[forged[0]["id"]] == ("sairaalapalvelut", "ensiapu", {"origin_mismatch"})
    assert rows[forged[1]["id"]][2] == {"clock_suspect"}
    assert rows[forged[2]["id"]][2] == {"clock_suspect"}
    assert rows[forged[3]["id"]][2] == set()
    assert claim == (forged[0]["id"], "fake-unit")
    capsys.readouterr()
    assert main(["central", "report", "--db", url, "--by", "unit", "--format", "json",
                 "--from", "1990-01-01", "--to", "2199-12-31"]) == 0
    report = json.loads(capsys.readouterr().out)
    groups = json.dumps(report["groups"])
    assert "ensiapu" in groups and "fake-unit" not in groups
    kinds = {a["kind"]: a for a in report["anomalies"]}
    assert kinds["origin_mismatch"]["evidence"]["claimed"] == "tays/fake-area/fake-unit"
    assert kinds["clock_suspect"]["evidence"]["responses"] == 2
    assert main(["central", "report", "--db", url, "--by", "unit", "--lang", "fi",
                 "--from", "1990-01-01", "--to", "2199-12-31"]) == 0
    table = capsys.readouterr().out
    assert "väitti muuta alkuperää (tays/fake-area/fake-unit)" in table
    assert "ennen laitteen käyttöönottoa" in table


def test_answers_must_fit_their_questions_scale_in_the_surveys_the_central_knows() -> None:
    from central.scales import scale_problems, shipped_scales

    scales = shipped_scales()

    def problems(survey: str, **answers: int) -> list[str]:
        return scale_problems(decode_response(wire(
            survey=survey, answers={q: {"value": v} for q, v in answers.items()})), scales)

    assert problems("national", nps=0, s1=1, s9=5) == []
    assert problems("national", nps=10, s1=0) == [
        "answers.s1: 0 is off its scale 1-5 in survey national"]
    assert len(problems("children", mood=6, c1=9)) == 2
    assert problems("own-survey", s1=9) == []  # a survey the central does not know
