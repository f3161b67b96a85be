"""Pure parts of the SMS gateway by value: phones, privacy, sending windows, CSV and items."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sms_gateway.invitations import IntakeError, parse_csv, parse_items
from sms_gateway.phones import PhoneError, normalise
from sms_gateway.privacy import PhoneHasher
from sms_gateway.scheduler import RateLimit, Window, deadline, decide, next_allowed
from survey.redact import redact_text
from survey.redact_patterns import hetu_is_valid

HKI = ZoneInfo("Europe/Helsinki")


@pytest.mark.parametrize("raw", [
    "0401234567", "040 123 4567", "040-123 4567", "+358 40 123 4567", "+358401234567",
    "00358401234567", "358401234567", "+358 (0)40 123 4567", "(040) 1234567",
])
def test_finnish_forms_normalise_to_one_e164(raw: str) -> None:
    assert normalise(raw) == "+358401234567"


@pytest.mark.parametrize(("raw", "want"), [
    ("+46 70 123 45 67", "+46701234567"), ("0046701234567", "+46701234567"),
    ("050 765 4321", "+358507654321"), ("+1 202 555 0100", "+12025550100"),
])
def test_other_forms(raw: str, want: str) -> None:
    assert normalise(raw) == want


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"), ("09 123 4567", "not a Finnish mobile"), ("040 12x 4567", "contains 'x'"),
    ("401234567", "no country code"), ("+0401234567", "cannot start with 0"),
    ("+46 70", "digits"), ("04", "digits"), ("+1234567890123456", "digits"),
])
def test_invalid_numbers_are_refused_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(PhoneError) as err:
        normalise(raw)
    assert reason in err.value.reason


def _hetu(body: str, sign: str, nnn: str) -> str:
    return f"{body}{sign}{nnn}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(body + nnn) % 31]


def test_hetu_check_character() -> None:
    code = _hetu("131052", "-", "308")
    assert code == "131052-308T"  # the example code published by DVV
    assert hetu_is_valid(code) and hetu_is_valid(_hetu("010203", "A", "123"))
    assert not hetu_is_valid("131052-308U")


def test_redaction_of_identity_codes_and_phone_numbers() -> None:
    code = _hetu("010203", "A", "123")
    text = f"Olen {code}, soita 040 123 4567 tai +358 50 765 4321. Annan 9 ja 10. Klo 8-16."
    out = redact_text(text, "fi")
    assert code not in out and "040 123 4567" not in out and "765 4321" not in out
    assert out.count("[hetu]") == 1 and out.count("[puhelinnumero]") == 2
    assert "Annan 9 ja 10. Klo 8-16." in out
    assert redact_text("131052-308U ok", "fi") == "[hetu] ok"  # a typo is still the number
    assert redact_text("vuonna 2025 käynti 1234567", "fi") == "vuonna 2025 käynti 1234567"


def test_hash_is_keyed() -> None:
    a, b = PhoneHasher(b"k" * 16), PhoneHasher(b"j" * 16)
    assert a("+358401234567") == a("+358401234567") != b("+358401234567")
    assert "358401234567" not in a("+358401234567")
    with pytest.raises(ValueError):
        PhoneHasher(b"short")


def _at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2025, 3, day, hh, mm, tzinfo=HKI)


def test_visit_inside_hours_goes_now() -> None:
    w = Window()
    assert decide(_at(4, 9), "visit", _at(4, 10), w).action == "send"


def test_visit_in_the_evening_waits_for_next_morning() -> None:
    w = Window()
    d = decide(_at(4, 19, 30), "visit", _at(4, 21), w)
    assert d.action == "wait" and d.at == _at(5, 8)


def test_call_after_hours_expires_never_sent_late() -> None:
    w = Window()
    assert decide(_at(4, 21), "call", _at(4, 21, 5), w).action == "expire"
    # A call at 19:30 may go until 20:00 (window end), not until 20:30.
    assert decide(_at(4, 19, 30), "call", _at(4, 19, 50), w).action == "send"
    assert decide(_at(4, 19, 30), "call", _at(4, 20, 10), w).action == "expire"


def test_visit_past_48_hours_expires() -> None:
    w = Window()
    assert decide(_at(4, 10), "visit", _at(6, 9, 59), w).action == "send"
    assert decide(_at(4, 10), "visit", _at(6, 10, 1), w).action == "expire"


def test_window_is_local_time_across_dst() -> None:
    w = Window(start=time(8), end=time(20))
    # 2025-03-30: Finland moves to summer time (UTC+3); 08:00 local is 05:00 UTC.
    t = datetime(2025, 3, 30, 3, 0, tzinfo=UTC)
    assert next_allowed(t, w) == datetime(2025, 3, 30, 5, 0, tzinfo=UTC)


def test_rate_limit_per_sliding_minute() -> None:
    r = RateLimit(2)
    t = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    r.take(t)
    r.take(t + timedelta(seconds=10))
    assert r.next_free(t + timedelta(seconds=20)) == t + timedelta(minutes=1)
    assert r.next_free(t + timedelta(minutes=1)) == t + timedelta(minutes=1)


def test_csv_keeps_good_rows_and_reports_bad_by_line() -> None:
    text = (
        "unit,time,kind,phone,lang\n"
        "ensiapu,2025-03-04T10:15,visit,040 123 4567,fi\n"
        "ensiapu,2025-03-04 10:20,call,+46 70 123 45 67,sv\n"
        "ensiapu,yesterday,visit,0401234567,fi\n"
        "ensiapu,2025-03-04T10:15,walk-in,0401234567,fi\n"
        "ensiapu,2025-03-04T10:15,visit,09 123 4567,fi\n"
        "\n"
        "ensiapu,2025-03-04T10:15,visit\n"
        "neuvola,2025-03-04T10:15+02:00,visit,0507654321,xx\n"
    )
    good, bad = parse_csv(text, "in.csv", HKI)
    assert [(g.phone, g.kind, g.lang) for g in good] == [
        ("+358401234567", "visit", "fi"), ("+46701234567", "call", "sv")]
    assert good[0].event_at == datetime(2025, 3, 4, 10, 15, tzinfo=HKI)
    assert good[0].source == "csv:in.csv:2"
    lines = {p.where: p.reason for p in bad}
    assert set(lines) == {"in.csv:4", "in.csv:5", "in.csv:6", "in.csv:8", "in.csv:9"}
    assert "ISO 8601" in lines["in.csv:4"] and "walk-in" in lines["in.csv:5"]
    assert "not a Finnish mobile" in lines["in.csv:6"] and "fields" in lines["in.csv:8"]
    assert "xx" in lines["in.csv:9"]


def test_csv_without_needed_header_is_refused() -> None:
    with pytest.raises(IntakeError, match="phone"):
        parse_csv("unit,time,kind\nx,2025-03-04T10:00,visit\n", "in.csv", HKI)


def test_http_items_good_and_bad_with_ids() -> None:
    payload = {"items": [
        {"id": "a1", "unit": "u", "time": "2025-03-04T10:00:00+02:00", "kind": "visit",
         "phone": "0401234567", "lang": "en"},
        {"id": 7, "unit": "u", "time": "2025-03-04T10:00", "kind": "call", "phone": "12"},
        {"unit": "u"}, "junk",
    ]}
    good, bad = parse_items(payload, HKI)
    assert [(i, g.lang) for i, g in good] == [("a1", "en")]
    assert [i for i, _ in bad] == ["7", "#3", "#4"]
    assert "phone" in bad[0][1].reason


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
