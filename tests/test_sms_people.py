"""The people's side of the SMS gateway (issue 15): declining a survey, the rest period,
an opt-out in the middle of a survey on the wire, expired sessions in `status`, and
the operator's work with invitations left `unknown` by a crash."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sms_helpers import KEY, Clock, TwinModem, gateway_config, invite, make_gateway, utc

from palaute.cli import main
from sms_gateway import conversation as conv
from sms_gateway.service import Gateway, open_gateway_store
from sms_gateway.status import status_extras
from survey.definition import load_survey, shipped_survey_path
from survey.response import encode_answers, encode_response
from sync import protocol

ANNA = "+358401234567"
BO = "+358507654321"
CAJ = "+358443334444"
T0 = utc(2025, 3, 4, 8, 0)  # 10:00 in Helsinki


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def modem() -> TwinModem:
    return TwinModem()


@pytest.fixture
def gw(tmp_path: Path, clock: Clock, modem: TwinModem) -> Iterator[Gateway]:
    g = make_gateway(tmp_path / "store.sqlite", clock, [modem],
                     monotonic=lambda: clock().timestamp())
    g.start()
    yield g
    g.close()
    g.store.close()


def reply(gw: Gateway, modem: TwinModem, clock: Clock, phone: str, text: str) -> None:
    clock.advance(seconds=30)
    modem.deliver(phone, text, clock().isoformat())
    gw.step()


def invited(gw: Gateway, clock: Clock, phone: str, hours_ago: float = 1.0,
            unit: str = "ensiapu") -> None:
    assert invite(gw, phone, clock() - timedelta(hours=hours_ago), unit=unit) == "added"
    gw.step()


def session_statuses(gw: Gateway) -> dict[str, int]:
    return {k: v for k, v in gw.gs.status(gw.clock())["sessions"].items() if v}


# -- declining this survey ("ei kiitos") --------------------------------------------------


def test_decline_ends_the_survey_politely_keeping_what_was_given(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invited(gw, clock, ANNA)
    reply(gw, modem, clock, ANNA, "9")
    asked = len(modem.texts_to(ANNA))
    reply(gw, modem, clock, ANNA, "Ei kiitos")
    # One polite closing message, no re-ask and no further question.
    assert modem.texts_to(ANNA)[asked:] == [gw.survey.message("sms_decline", "fi")]
    (resp,) = gw.store.unsynced()
    assert resp.status == "complete" and resp.flags == {"declined"}
    assert encode_answers(resp.answers) == {"nps": {"value": 9}}
    counters = gw.gs.counters()
    assert (counters["declined"], counters["completed"], counters["opted_out"]) == (1, 0, 0)
    assert session_statuses(gw) == {"declined": 1}
    # Nothing more is asked: a later reply belongs to no survey.
    reply(gw, modem, clock, ANNA, "5")
    assert modem.texts_to(ANNA)[asked:] == [gw.survey.message("sms_decline", "fi")]
    # Not an opt-out: a visit after the rest period is surveyed again.
    assert not gw.gs.is_opted_out(gw.gs.hash(ANNA))
    clock.advance(days=31)
    invited(gw, clock, ANNA, unit="neuvola")
    assert modem.texts_to(ANNA)[-1] == conv.invitation_text(gw.survey, "fi")


def test_decline_before_any_answer_writes_no_response(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    assert invite(gw, BO, clock() - timedelta(hours=1), lang="sv") == "added"
    gw.step()
    reply(gw, modem, clock, BO, "Nej tack!")
    assert modem.texts_to(BO)[-1] == gw.survey.message("sms_decline", "sv")
    assert gw.store.unsynced() == [] and gw.store.queue_depth() == 0
    assert session_statuses(gw) == {"declined": 1}


def test_decline_at_the_open_question_and_the_message_it_falls_back_to() -> None:
    survey = load_survey(shipped_survey_path("national"))
    s = conv.on_reply(conv.begin(survey, "en", T0), survey, "8", T0).state
    assert s.current == "open"
    step = conv.on_reply(s, survey, "no thanks", T0)
    assert step.outcome == "decline" and step.state.status == "declined"
    assert step.effects == [conv.Send(survey.message("sms_decline", "en"), "decline"),
                            conv.FinaliseSmsResponse("complete", T0, ("declined",))]
    assert conv.on_reply(step.state, survey, "9", T0).outcome == "closed"
    # A unit's own survey without sms_decline ends with its thanks.
    bare = replace(survey, messages={k: v for k, v in survey.messages.items()
                                     if k != "sms_decline"})
    step = conv.on_reply(conv.begin(bare, "fi", T0), bare, "en halua vastata", T0)
    assert step.effects == [conv.Send(bare.message("sms_thanks", "fi"), "decline")]


# -- an opt-out in the middle of a survey, on the wire -----------------------------------


def test_optout_mid_survey_reaches_the_central_as_opted_out(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invited(gw, clock, ANNA)
    reply(gw, modem, clock, ANNA, "7")
    reply(gw, modem, clock, ANNA, "LOPETA")
    (resp,) = gw.store.unsynced()
    wire = encode_response(resp)
    assert (wire["status"], wire["flags"]) == ("abandoned", ["optout"])
    # Still within the wire's statuses: the central takes it as it is.
    assert protocol.response_problems(wire) == []
    assert session_statuses(gw) == {"optedout": 1}
    assert gw.gs.counters()["opted_out"] == 1


# -- the rest period ----------------------------------------------------------------------


def test_a_second_invitation_within_the_rest_period_is_rested(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    invited(gw, clock, ANNA)
    for text in ("9", "hyvä hoito", "5"):
        reply(gw, modem, clock, ANNA, text)
    assert modem.texts_to(ANNA)[-1] == gw.survey.message("sms_thanks", "fi")
    sent = len(modem.texts_to(ANNA))
    # The case: another visit, a new invitation 35 s after the survey ended.
    clock.advance(seconds=35)
    invited(gw, clock, ANNA, hours_ago=0.1, unit="laboratorio")
    gw.step()
    assert len(modem.texts_to(ANNA)) == sent
    st = gw.gs.status(clock())
    assert st["invitations"] == {"rested": 1, "sent": 1}
    assert st["counters"]["rested"] == 1 and st["counters"]["expired"] == 0
    assert status_extras(gw.store)["sms"]["rested"] == 1  # to the central's funnel
    # Kept by the keyed hash only: the rested row has no number.
    row = gw.store.conn.execute("SELECT phone, phone_hash FROM sms_invitations "
                                "WHERE state = 'rested'").fetchone()
    assert row == (None, gw.gs.hash(ANNA))
    # Another person is not held back, and after 30 days Anna is asked again.
    invited(gw, clock, BO)
    assert len(modem.texts_to(BO)) == 1
    clock.advance(days=30)
    invited(gw, clock, ANNA, unit="neuvola")
    assert modem.texts_to(ANNA)[-1] == conv.invitation_text(gw.survey, "fi")


def test_rest_counts_from_a_send_whose_outcome_is_unknown(
        gw: Gateway, modem: TwinModem, clock: Clock) -> None:
    crash_leaves_unknown(gw, modem, clock, ANNA, hours_ago=1)
    clock.advance(hours=73)  # the session of the unknown send expires unanswered
    gw.step()
    invited(gw, clock, ANNA, unit="neuvola")
    assert gw.gs.status(clock())["invitations"] == {"rested": 1, "unknown": 1}
    assert modem.texts_to(ANNA) == []


def config(tmp_path: Path, extra: str = "") -> Path:
    return gateway_config(tmp_path, f'hash_key = "{KEY.decode()}"\n{extra}')


@pytest.mark.parametrize(("line", "days"), [("", 30.0), ("rest_days = 7", 7.0),
                                            ("rest_days = 0", 0.0)])
def test_rest_days_from_the_config(tmp_path: Path, line: str, days: float) -> None:
    _config, gs, settings = open_gateway_store(config(tmp_path, line))
    gs.store.close()
    assert settings.rest == timedelta(days=days)


def test_rest_days_zero_turns_the_rest_period_off(
        tmp_path: Path, modem: TwinModem, clock: Clock) -> None:
    gw = make_gateway(tmp_path / "s.sqlite", clock, [modem], rest=timedelta(0))
    gw.start()
    try:
        invited(gw, clock, ANNA)
        reply(gw, modem, clock, ANNA, "ei kiitos")
        invited(gw, clock, ANNA, unit="neuvola")
        assert modem.texts_to(ANNA)[-1] == conv.invitation_text(gw.survey, "fi")
    finally:
        gw.close()
        gw.store.close()


def test_a_negative_rest_is_refused_naming_key_and_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path, "rest_days = -1")
    assert main(["sms", "status", "--config", str(cfg)]) != 0
    err = capsys.readouterr().err
    assert "rest_days" in err and str(cfg) in err and "at least 0" in err


# -- status: sessions by how they ended, unknown invitations with age and deadline --------


def test_status_counts_expired_sessions(
        tmp_path: Path, gw: Gateway, modem: TwinModem, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    for phone in (ANNA, BO):
        invited(gw, clock, phone)
        reply(gw, modem, clock, phone, "8")
    invited(gw, clock, CAJ)
    reply(gw, modem, clock, CAJ, "STOP")
    clock.advance(hours=73)
    gw.step()
    assert session_statuses(gw) == {"expired": 2, "optedout": 1}
    assert [r.status for r in gw.store.unsynced()] == ["expired", "expired"]
    assert main(["sms", "status", "--config", str(config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "sessions:    live 0, expired 2, optedout 1" in out
    assert "expired unsent 0" in out


def crash_leaves_unknown(gw: Gateway, modem: TwinModem, clock: Clock, phone: str,
                         hours_ago: float) -> int:
    modem.fail = [OSError("port gone")]
    invited(gw, clock, phone, hours_ago=hours_ago)
    clock.advance(seconds=15)
    gw.step()  # the port comes back
    clock.advance(seconds=-15)
    row = gw.store.conn.execute("SELECT id FROM sms_invitations WHERE state = 'unknown' "
                                "ORDER BY id DESC").fetchone()
    return int(row[0])


def test_unknown_invitations_in_status_with_age_and_deadline(
        tmp_path: Path, gw: Gateway, modem: TwinModem, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    first = crash_leaves_unknown(gw, modem, clock, ANNA, hours_ago=47)
    clock.advance(minutes=20)
    second = crash_leaves_unknown(gw, modem, clock, BO, hours_ago=1)
    clock.advance(minutes=10)
    unknown = {u["id"]: u for u in gw.gs.status(clock())["unknown_invitations"]}
    assert unknown[first]["age_s"] == 30 * 60 and unknown[second]["age_s"] == 10 * 60
    # 47 h after the visit plus 30 min: the 48 h deadline is 30 min away.
    assert unknown[first]["left_s"] == 30 * 60 and unknown[first]["releasable"]
    # Invited 20 min in, for a visit an hour before: 48 h from the visit.
    assert datetime.fromisoformat(unknown[second]["deadline"]) == T0 + timedelta(hours=47,
                                                                                 minutes=20)
    clock.advance(hours=1)  # the first one's deadline passes
    st = gw.gs.status(clock())
    assert [u["releasable"] for u in st["unknown_invitations"]] == [False, True]


def test_release_all_unknown_before_a_time_keeps_at_most_once(
        tmp_path: Path, gw: Gateway, modem: TwinModem, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    late = crash_leaves_unknown(gw, modem, clock, ANNA, hours_ago=47.5)
    replied = crash_leaves_unknown(gw, modem, clock, BO, hours_ago=1)
    reply(gw, modem, clock, BO, "8")  # it did reach Bo after all
    plain = crash_leaves_unknown(gw, modem, clock, CAJ, hours_ago=1)
    clock.advance(hours=1)  # the late one is past its deadline
    cutoff = clock()
    newer = crash_leaves_unknown(gw, modem, clock, "+358445556666", hours_ago=1)
    gw.close()
    gw.store.conn.execute("UPDATE sms_invitations SET event_at = ?, deadline = ? "
                          "WHERE state = 'unknown'",  # the CLI runs on the real clock
                          (datetime.now(T0.tzinfo).isoformat(), "2999-01-01T00:00:00+00:00"))
    gw.store.conn.execute("UPDATE sms_invitations SET deadline = '2000-01-01T00:00:00+00:00', "
                          "event_at = '2000-01-01T00:00:00+00:00' WHERE id = ?", (late,))

    assert main(["sms", "release", "--all-unknown", "--before", cutoff.isoformat(),
                 "--config", str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"invitation {plain} released: it will be sent in its next allowed moment" in out
    assert any(line.startswith(f"invitation {late} not released: ") and "deadline" in line
               for line in out)
    assert any(line.startswith(f"invitation {replied} not released: ") and "replied" in line
               for line in out)
    assert out[-1].startswith("1 released, 2 not released")
    states = dict(sqlite3.connect(tmp_path / "store.sqlite").execute(
        "SELECT id, state FROM sms_invitations").fetchall())
    # Only the plain one goes out again; the one after the cutoff stays for the operator.
    assert (states[plain], states[newer], states[late], states[replied]) == (
        "queued", "unknown", "unknown", "unknown")


@pytest.mark.parametrize(("argv", "says"), [
    (["sms", "release"], "give one invitation id, or --all-unknown --before TIME"),
    (["sms", "release", "3", "--all-unknown", "--before", "2025-03-04T10:00"],
     "give one invitation id, or --all-unknown"),
    (["sms", "release", "--all-unknown"], "needs --before TIME"),
    (["sms", "release", "3", "--before", "2025-03-04T10:00"], "only for --all-unknown"),
    (["sms", "release", "--all-unknown", "--before", "eilen"], "is not an ISO time"),
])
def test_release_arguments_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       argv: list[str], says: str) -> None:
    cfg = config(tmp_path)
    _config, gs, _settings = open_gateway_store(cfg)
    gs.store.close()
    assert main([*argv, "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1


def test_status_json_has_sessions_and_unknown_details(
        tmp_path: Path, gw: Gateway, modem: TwinModem, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    inv = crash_leaves_unknown(gw, modem, clock, ANNA, hours_ago=1)
    assert main(["sms", "status", "--json", "--config", str(config(tmp_path))]) == 0
    st = json.loads(capsys.readouterr().out)
    (u,) = st["unknown_invitations"]
    assert u["id"] == inv and {"age_s", "deadline", "left_s", "releasable"} <= set(u)
    assert st["sessions"] == {"live": 1} and "+358" not in json.dumps(st)
    # The heartbeat tells the central how many wait for an operator on this gateway.
    assert status_extras(gw.store)["sms"]["unknown_waiting"] == 1
