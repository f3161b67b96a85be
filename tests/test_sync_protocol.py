"""Protocol v1 as pure functions: topics, codec, batch checks, acks, configs, the outbox."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from wire_helpers import raw_batch

from survey.response import decode_response, encode_response
from sync import protocol
from sync.outbox import Outbox
from sync.protocol import Ack, ProtocolError, RemoteConfig, Topic

TOPIC = Topic("tays", "tays-lobby-3", "responses")
NOW = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def wire(**over: Any) -> dict[str, Any]:
    resp: dict[str, Any] = {
        "id": str(uuid.uuid4()), "device": "tays-lobby-3", "site": "tays",
        "area": "sairaalapalvelut", "unit": "ensiapu", "channel": "kiosk",
        "survey": "national", "survey_version": 3, "lang": "fi",
        "started_at": "2025-03-04T10:15:02+02:00", "finished_at": "2025-03-04T10:15:40+02:00",
        "status": "complete", "seq": 1042,
        "answers": {"nps": {"value": 9}, "open": {"text": "Ystävällinen hoitaja"}},
        "flags": ["repeat_press"],
    }
    resp.update(over)
    return resp


def batch_payload(rs: list[Any], device: str = "tays-lobby-3", **over: Any) -> bytes:
    """A batch of raw wire objects (good or not) as a device would send it."""
    body = {"v": 1, "batch": str(uuid.uuid4()), "device": device,
            "sent_at": datetime.now(UTC).isoformat(timespec="seconds"), "responses": rs, **over}
    return protocol.encode(body)


# -- topics -----------------------------------------------------------------------------------


def test_topic_round_trip_and_sibling() -> None:
    t = Topic.parse("palaute/v1/tays/tays-lobby-3/responses")
    assert t == TOPIC
    assert str(t.sibling("ack")) == "palaute/v1/tays/tays-lobby-3/ack"


@pytest.mark.parametrize("text", [
    "palaute/v2/tays/d/responses", "palaute/v1/tays/d/other", "palaute/v1/tays/responses",
    "palaute/v1/+/d/responses", "palaute/v1/tays/#/ack", "palaute/v1//d/status", "",
    "palaute/v1/tays/d/responses/extra",
])
def test_bad_topics_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError):
        Topic.parse(text)


def test_shared_subscription_filter() -> None:
    assert protocol.shared(protocol.RESPONSES_FILTER) == "$share/central/palaute/v1/+/+/responses"


# -- codec ------------------------------------------------------------------------------------


def test_small_payloads_stay_json_large_ones_gzip() -> None:
    small = {"a": 1}
    assert protocol.encode(small) == b'{"a":1}'
    big = {"responses": [wire() for _ in range(50)]}
    packed = protocol.encode(big)
    assert packed[:2] == b"\x1f\x8b"
    assert len(packed) < len(json.dumps(big)) / 3
    assert protocol.decode(packed) == big


def test_incompressible_payload_is_not_gzipped() -> None:
    noise = {"x": uuid.uuid4().hex + "".join(chr(0x4E00 + i * 7919 % 20000) for i in range(400))}
    out = protocol.encode(noise, gzip_min=0)
    assert protocol.decode(out) == noise
    assert len(out) <= len(json.dumps(noise, ensure_ascii=False).encode())


@pytest.mark.parametrize("payload, reason", [
    (b"", "not JSON"), (b"\xff\xfe", "not UTF-8"), (b"[1,2]", "JSON object"),
    (b"\x1f\x8b\x08garbage", "gzip"), (gzip.compress(b"not json"), "not JSON"),
    (gzip.compress(b'{"a": 1}')[:-6], "truncated"),
])
def test_decode_reasons(payload: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        protocol.decode(payload)


def test_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip.compress(b"{" + b" " * (50 * 1024 * 1024) + b"}")
    assert len(bomb) < 100_000
    with pytest.raises(ProtocolError, match="larger than"):
        protocol.decode(bomb)


# -- batches ----------------------------------------------------------------------------------


def test_good_batch_is_accepted() -> None:
    rs = [wire(seq=i) for i in range(1, 6)]
    check = protocol.check_batch(TOPIC, batch_payload(rs))
    assert check.error is None and check.rejected == []
    assert [r.id for r in check.accepted] == [r["id"] for r in rs]
    assert [encode_response(r) for r in check.accepted] == rs  # the wire form, unchanged


def test_bad_responses_are_rejected_one_by_one() -> None:
    good = wire()
    bad_nps = wire(answers={"nps": {"value": "yhdeksän"}})
    other_device = wire(device="tays-lobby-9")
    no_zone = wire(finished_at="2025-03-04T10:15:40")
    check = protocol.check_batch(TOPIC, batch_payload([good, bad_nps, other_device, no_zone, 7]))
    assert [r.id for r in check.accepted] == [good["id"]]
    reasons = dict(check.rejected)
    assert "answers.nps.value" in reasons[bad_nps["id"]]
    assert "topic" in reasons[other_device["id"]]
    assert "finished_at" in reasons[no_zone["id"]]
    assert reasons["#4"] == "response must be an object"


@pytest.mark.parametrize("over, reason", [
    ({"v": 2}, "protocol version"), ({"batch": "x"}, "batch"),
    ({"device": "tays-lobby-9"}, "differs from the topic"), ({"responses": {}}, "list"),
])
def test_whole_batch_errors(over: dict[str, Any], reason: str) -> None:
    r = wire()
    check = protocol.check_batch(TOPIC, batch_payload([r], **over))
    assert check.error is not None and reason in check.error
    assert check.accepted == []
    if isinstance(over.get("responses", []), list):
        assert check.rejected == [(r["id"], check.error)]


def test_duplicate_in_one_batch_counts_once() -> None:
    r = wire()
    check = protocol.check_batch(TOPIC, batch_payload([r, r]))
    assert len(check.accepted) == 1 and check.rejected == []


def test_fit_batch_bounds_count_and_bytes() -> None:
    rs = [decode_response(wire(seq=i)) for i in range(1, 101)]
    size = protocol.response_size(rs[0])
    assert protocol.fit_batch(rs, 30, 10**9) == 30
    n = protocol.fit_batch(rs, 100, 200 + size * 10 + 5)
    assert n == 10
    assert protocol.fit_batch(rs, 100, 10) == 1  # one response always goes


# -- acks and configs -------------------------------------------------------------------------


def test_ack_round_trip() -> None:
    ack = Ack("b1", ("a", "b"), (("c", "bad nps"),), None)
    assert protocol.parse_ack(protocol.encode(ack.to_dict())) == ack


@pytest.mark.parametrize("payload", [b'{"accepted": []}', b'{"batch": "b", "accepted": [1]}',
                                     b'{"batch": "b", "accepted": [], "rejected": ["x"]}'])
def test_bad_acks(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        protocol.parse_ack(payload)


def test_config_round_trip_and_checks() -> None:
    cfg = protocol.RemoteConfig(3, "[survey]\n", {"heartbeat_seconds": 300})
    assert protocol.parse_config(protocol.encode(cfg.to_dict())) == cfg
    for bad in ({"v": 1, "version": 0}, {"v": 1, "version": 2, "settings": {"nope": 1}},
                {"v": 1, "version": 2, "settings": {"heartbeat_seconds": True}},
                {"v": 1, "version": 2, "survey": 5}):
        with pytest.raises(ProtocolError):
            protocol.parse_config(json.dumps(bad).encode())


# -- outbox -----------------------------------------------------------------------------------


def test_outbox_is_bounded_and_backs_off_with_jitter() -> None:
    box = Outbox(max_inflight=2, ack_timeout=10, backoff_max=60, rand=lambda: 1.0)
    b = box.add("b1", ("x",), 5, b"p", now=0.0)
    box.add("b2", ("y",), 9, b"q", now=0.0)
    assert box.capacity == 0
    with pytest.raises(RuntimeError):
        box.add("b3", (), 10, b"", now=0.0)
    assert box.after_seq() == 9
    assert b.due == 10.0
    assert box.due(9.9) == [] and [x.batch_id for x in box.due(10.0)] == ["b1", "b2"]
    waits = []
    for n in range(6):
        box.resent(b, now=100.0 * n)
        waits.append(b.due - 100.0 * n)
    assert waits == [20.0, 40.0, 60.0, 60.0, 60.0, 60.0]
    low = Outbox(ack_timeout=10, rand=lambda: 0.0)
    assert low.wait_for(1) == 5.0  # jitter never goes below half the base


def test_outbox_acks_in_any_order_and_unknown_batches_still_count() -> None:
    box = Outbox(max_inflight=3, rand=lambda: 0.5)
    box.add("b1", ("a", "b"), 2, b"", now=0)
    box.add("b2", ("c",), 3, b"", now=0)
    ids, batch = box.on_ack(Ack("b2", ("c",)))
    assert ids == ["c"] and batch is not None and batch.batch_id == "b2"
    assert box.after_seq() == 2
    ids, batch = box.on_ack(Ack("old-batch", ("z",), (("y", "bad"),)))
    assert ids == ["z", "y"] and batch is None
    ids, batch = box.on_ack(Ack("b1", ("a", "b")))
    assert ids == ["a", "b"] and len(box) == 0 and box.after_seq() == 0


def test_outbox_resends_everything_after_reconnect() -> None:
    box = Outbox(ack_timeout=30, rand=lambda: 0.5)
    box.add("b1", ("a",), 1, b"", now=0)
    assert box.due(1.0) == []
    box.resend_all_soon(1.0)
    assert [b.batch_id for b in box.due(1.0)] == ["b1"]


def test_unstorable_text_is_refused() -> None:
    for bad in (wire(answers={"open": {"text": "a\x00b"}}), wire(unit="ensi\ud800apu")):
        assert protocol.response_problems(bad) == ["contains a NUL character or a lone surrogate"]


@pytest.mark.parametrize("settings", [
    {"batch_max_count": protocol.MAX_BATCH_RESPONSES + 1},
    {"batch_max_bytes": 64 * 1024 * 1024},
    {"batch_max_bytes": 10},
])
def test_remote_settings_out_of_range_are_refused(settings: dict[str, int]) -> None:
    # A batch of more than 1000 is refused whole by the central and its ids come back as
    # "rejected", which the device marks synced: those answers never reach the reports.
    payload = protocol.encode(RemoteConfig(4, None, settings).to_dict())
    with pytest.raises(ProtocolError, match=next(iter(settings))):
        protocol.parse_config(payload)


def test_responses_answered_before_a_site_change_are_accepted() -> None:
    # The device was re-provisioned from "oys" to "tays"; its unsynced rows keep the site
    # where they were answered. Refusing them made the device mark them synced: lost.
    earlier = wire(site="oys")
    topic = Topic("tays", "tays-lobby-3", "responses")
    body = raw_batch(str(uuid.uuid4()), "tays-lobby-3", NOW, [earlier])
    check = protocol.check_batch(topic, protocol.encode(body))
    assert [r.id for r in check.accepted] == [earlier["id"]] and check.rejected == []
    other = wire(device="oys-lobby-1", site="tays")
    body = raw_batch(str(uuid.uuid4()), "tays-lobby-3", NOW, [other])
    assert protocol.check_batch(topic, protocol.encode(body)).accepted == []


def test_unhashable_channel_or_status_is_rejected_not_raised() -> None:
    # Found by the receiver fuzz test: `[] in frozenset(...)` raised TypeError, so the batch
    # was neither acked nor quarantined.
    a, b = wire(channel=[]), wire(status={"x": 1})
    topic = Topic("tays", "tays-lobby-3", "responses")
    body = raw_batch(str(uuid.uuid4()), "tays-lobby-3", NOW, [a, b])
    reasons = dict(protocol.check_batch(topic, protocol.encode(body)).rejected)
    assert "channel" in reasons[a["id"]] and "status" in reasons[b["id"]]


def test_unstorable_text_in_a_batch_is_refused_and_escaped_backslashes_are_text() -> None:
    nul, surrogate = wire(answers={"open": {"text": "a\x00b"}}), wire(unit="ensi\ud800apu")
    quoted = wire(answers={"open": {"text": "tiedosto C:\\u0000 ja \\ud800"}})
    body = {"v": 1, "batch": str(uuid.uuid4()), "device": "tays-lobby-3",
            "sent_at": "2025-03-04T10:16:00+02:00", "responses": [nul, surrogate, quoted]}
    # As an older or foreign encoder may send it: every non-ASCII character escaped.
    check = protocol.check_batch(TOPIC, json.dumps(body).encode())
    assert [r.id for r in check.accepted] == [quoted["id"]]
    assert check.accepted[0].answers["open"].text == "tiedosto C:\\u0000 ja \\ud800"
    assert sorted(check.rejected) == sorted(
        (r["id"], "contains a NUL character or a lone surrogate") for r in (nul, surrogate))


def test_packed_batch_is_the_whole_batch_encoded_once_and_fits_its_limits() -> None:
    rs = [decode_response(wire(seq=i, answers={"nps": {"value": i % 11},
                                              "open": {"text": f"Kiitos {i} ✓ \"lainaus\""}}))
          for i in range(1, 201)]
    at = datetime(2025, 3, 4, 8, 0, tzinfo=UTC)
    batch_id = str(uuid.uuid4())
    n, payload = protocol.pack_batch(batch_id, "tays-lobby-3", at, rs, max_count=150,
                                     max_bytes=10**6)
    assert n == 150
    assert protocol.decode(payload) == protocol.decode(
        protocol.encode(protocol.make_batch(batch_id, "tays-lobby-3", at, rs[:150])))
    size = protocol.response_size(rs[0])
    n, payload = protocol.pack_batch(batch_id, "tays-lobby-3", at, rs, max_bytes=200 + 10 * size)
    assert 8 <= n <= 10 and len(protocol.decode(payload)["responses"]) == n
