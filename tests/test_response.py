"""The response model and its one wire codec: round trips, and each field the decoder refuses."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wire_helpers import raw_batch

from central.receiver import handle_message
from central.store import open_central
from survey.response import (
    MAX_TEXT_CHARS,
    Answer,
    Channel,
    Response,
    ResponseError,
    Status,
    decode_response,
    encode_response,
)
from sync import protocol

# The example of DESIGN.md ("A response on the wire").
DESIGN_EXAMPLE: dict[str, Any] = {
    "id": "0193a4b2-7c1d-7e5f-8a9b-0c1d2e3f4a5b", "device": "tays-lobby-3", "site": "tays",
    "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "kiosk",
    "survey": "national", "survey_version": 3, "lang": "fi",
    "started_at": "2025-03-04T10:15:02+02:00", "finished_at": "2025-03-04T10:15:40+02:00",
    "status": "complete", "seq": 1042,
    "answers": {"nps": {"value": 9}, "open": {"text": "Ystävällinen hoitaja"}, "s1": {"value": 5}},
    "flags": ["repeat_press"],
}


def wire(**over: Any) -> dict[str, Any]:
    return {**DESIGN_EXAMPLE, "id": str(uuid.uuid4()), **over}


def problems(obj: object) -> list[str]:
    with pytest.raises(ResponseError) as caught:
        decode_response(obj)
    assert str(caught.value) == "; ".join(caught.value.problems)
    assert "\n" not in str(caught.value)
    return caught.value.problems


def test_design_example_decodes_to_typed_fields_and_encodes_back_unchanged() -> None:
    resp = decode_response(DESIGN_EXAMPLE)
    assert resp.channel is Channel.KIOSK and resp.status is Status.COMPLETE
    assert resp.started_at == datetime(2025, 3, 4, 8, 15, 2, tzinfo=UTC)
    assert resp.finished_at is not None and resp.finished_at.utcoffset() == timedelta(hours=2)
    assert resp.answers == {"nps": Answer(value=9), "open": Answer(text="Ystävällinen hoitaja"),
                            "s1": Answer(value=5)}
    assert resp.flags == frozenset({"repeat_press"}) and resp.seq == 1042
    assert resp.nps == 9 and resp.has_text
    assert encode_response(resp) == DESIGN_EXAMPLE
    assert list(encode_response(resp)) == list(DESIGN_EXAMPLE)  # DESIGN.md's key order


def test_a_response_cannot_be_changed() -> None:
    resp = decode_response(DESIGN_EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        resp.seq = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        resp.answers["nps"] = Answer(value=0)  # type: ignore[index]
    again = decode_response(DESIGN_EXAMPLE)
    assert again.answers["nps"] == Answer(value=9)
    assert again == resp and len({resp, again}) == 1  # a value: equal, and one in a set


def test_an_answer_needs_a_value_or_a_text() -> None:
    with pytest.raises(ValueError, match="value or a text"):
        Answer()


@pytest.mark.parametrize("rid", [
    "0193A4B2-7C1D-7E5F-8A9B-0C1D2E3F4A5B",     # upper case: the same UUID spelt twice
    "{0193a4b2-7c1d-7e5f-8a9b-0c1d2e3f4a5b}",   # braces
    "0193a4b27c1d7e5f8a9b0c1d2e3f4a5b",         # no hyphens
    "urn:uuid:0193a4b2-7c1d-7e5f-8a9b-0c1d2e3f4a5b", "x", 7, None,
])
def test_only_a_canonical_lower_case_uuid_is_an_id(rid: object) -> None:
    assert problems(wire(id=rid)) == ["id: must be a UUID in lower case (8-4-4-4-12 hex digits)"]


def test_one_response_in_two_spellings_is_stored_once(tmp_path: Any) -> None:
    lower = wire()
    upper = {**lower, "id": lower["id"].upper()}
    body = raw_batch(str(uuid.uuid4()), "tays-lobby-3", datetime.now(UTC), [lower, upper])
    topic = "palaute/v1/tays/tays-lobby-3/responses"
    with open_central(f"sqlite:///{tmp_path / 'c.sqlite'}") as db:
        out = handle_message(db, topic, protocol.encode(body), datetime.now(UTC))
        assert out is not None
        ack = protocol.parse_ack(out.payload)
        assert ack.accepted == (lower["id"],)
        assert [rid for rid, _ in ack.rejected] == [upper["id"]]
        assert db.response_ids() == {lower["id"]}


@pytest.mark.parametrize("question, value", [
    ("nps", -1), ("nps", 11), ("nps", 1000), ("nps", -1000), ("s1", 11), ("s1", -1),
    ("mood", 10**9), ("nps", True), ("nps", 9.0), ("nps", "9"),
])
def test_integer_answers_outside_every_scale_are_refused(question: str, value: object) -> None:
    [problem] = problems(wire(answers={question: {"value": value}}))
    assert problem == f"answers.{question}.value: must be an integer from 0 to 10"


@pytest.mark.parametrize("question, value", [("nps", 0), ("nps", 10), ("s1", 1), ("mood", 5)])
def test_integer_answers_on_a_scale_are_kept(question: str, value: int) -> None:
    assert decode_response(wire(answers={question: {"value": value}})).answers[question].value \
        == value


def test_text_longer_than_the_limit_is_refused_and_the_limit_itself_kept() -> None:
    assert decode_response(wire(answers={"open": {"text": "x" * MAX_TEXT_CHARS}})).has_text
    [problem] = problems(wire(answers={"open": {"text": "x" * (MAX_TEXT_CHARS + 1)}}))
    assert problem.startswith("answers.open.text:") and str(MAX_TEXT_CHARS) in problem


@pytest.mark.parametrize("answers, field", [
    ({"nps": {}}, "answers.nps"), ({"nps": {"value": 9, "note": 1}}, "answers.nps"),
    ({"nps": 9}, "answers.nps"), ({"bad id!": {"value": 1}}, "answers"), ([], "answers"),
])
def test_malformed_answers_are_named(answers: object, field: str) -> None:
    [problem] = problems(wire(answers=answers))
    assert problem.startswith(field + ":")


@pytest.mark.parametrize("key, value, reason", [
    ("started_at", "2025-03-04T10:15:02", "has no time zone"),
    ("finished_at", "yesterday", "is not an ISO 8601 timestamp: 'yesterday'"),
    ("finished_at", None, "must be an ISO 8601 timestamp string"),
    ("started_at", "1899-03-04T10:15:02+02:00", "year 1899 is out of range"),
])
def test_timestamps_must_carry_their_zone(key: str, value: object, reason: str) -> None:
    assert problems(wire(**{key: value})) == [f"{key}: {reason}"]


@pytest.mark.parametrize("seq", [0, -1, True, "5", 2**62])
def test_seq_is_a_positive_integer(seq: object) -> None:
    assert problems(wire(seq=seq)) == ["seq: must be a positive integer"]


def test_seq_may_be_absent_for_history_from_earlier_systems() -> None:
    assert decode_response({k: v for k, v in wire().items() if k != "seq"}).seq is None


@pytest.mark.parametrize("flags", [["Repeat Press"], [""], [7], "repeat_press",
                                   ["x" * 65], [f"f{i}" for i in range(33)]])
def test_flags_are_a_short_list_of_names(flags: object) -> None:
    [problem] = problems(wire(flags=flags))
    assert problem.startswith("flags:")


def test_open_responses_and_unknown_channels_do_not_travel() -> None:
    assert problems(wire(status="open")) == [
        "status: must be one of abandoned, complete, expired"]
    assert problems(wire(channel="fax")) == ["channel: must be one of kiosk, kiosk-audio, sms"]


def test_every_bad_field_is_named_on_one_line() -> None:
    found = problems(wire(id="X", device="", unit="", survey_version=-1, lang=""))
    assert [p.split(":")[0] for p in found] == ["id", "device", "unit", "lang", "survey_version"]


_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö -", min_size=1, max_size=20).filter(
    lambda s: s.strip() != "")
_answers = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    st.builds(lambda v, t: Answer(v, t if v is None or t else None),
              st.none() | st.integers(0, 10),
              st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                      max_size=40)),
    max_size=6)


@given(resp=st.builds(
    Response, id=st.uuids().map(str), device=st.just("tays-lobby-3"), site=st.just("tays"),
    area=_names, unit=_names, channel=st.sampled_from(Channel), survey=st.just("national"),
    survey_version=st.integers(0, 2**31 - 1), lang=st.sampled_from(["fi", "sv", "en"]),
    started_at=st.datetimes(datetime(1991, 1, 1), datetime(2199, 1, 1),
                            timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])),
    finished_at=st.datetimes(datetime(1991, 1, 1), datetime(2199, 1, 1), timezones=st.just(UTC)),
    status=st.sampled_from([Status.COMPLETE, Status.ABANDONED, Status.EXPIRED]),
    seq=st.none() | st.integers(1, 2**62 - 1), answers=_answers,
    flags=st.frozensets(st.sampled_from(["repeat_press", "burst"])),
))
def test_every_final_response_survives_the_wire(resp: Response) -> None:
    assert decode_response(encode_response(resp)) == resp
