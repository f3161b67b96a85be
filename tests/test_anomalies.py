"""The anomaly detectors over hand-made aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from central.anomalies import (
    AnomalySettings,
    DeviceActivity,
    HourFlags,
    bursts,
    concentration,
    silent,
    sms_rate_drop,
    volume_drop,
)

MONDAY = date(2025, 3, 3)


def _weeks(dists: list[list[int]]) -> list[tuple[date, list[int]]]:
    return [(MONDAY + timedelta(weeks=i), d) for i, d in enumerate(dists)]


NORMAL = [0, 0, 0, 0, 0, 1, 1, 2, 4, 6, 6]  # 20 answers, one 5


def test_concentration_flags_the_five_trap_with_evidence() -> None:
    trap = [0, 0, 0, 0, 0, 16, 0, 1, 1, 1, 1]  # 20 answers, 16 of them 5
    weeks = {"lobby-1": _weeks([NORMAL, NORMAL, NORMAL, trap, trap]),
             "lobby-2": _weeks([NORMAL] * 5)}
    found = concentration("device", weeks, report_from=MONDAY)
    assert len(found) == 1
    a = found[0]
    assert a.kind == "concentration" and a.subject == "device lobby-1"
    assert a.evidence["value"] == 5
    assert a.evidence["week"] == (MONDAY + timedelta(weeks=3)).isoformat()
    assert a.evidence["share"] == 80.0  # 16 / 20
    assert a.evidence["baseline_n"] == 60 and a.evidence["baseline_count"] == 3
    assert a.evidence["baseline_share"] == 5.0
    assert a.evidence["weeks_affected"] == 2


def test_concentration_not_flagged_for_a_device_that_always_scored_ten() -> None:
    tens = [0] * 10 + [20]
    assert concentration("unit", {"u": _weeks([tens] * 5)}, report_from=MONDAY) == []


def test_concentration_needs_enough_answers() -> None:
    small_trap = [0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0]  # below the 10-answer minimum
    assert concentration("device", {"d": _weeks([NORMAL, NORMAL, small_trap])},
                         report_from=MONDAY) == []


def test_concentration_before_the_report_period_is_only_baseline() -> None:
    trap = [0, 0, 0, 0, 0, 16, 0, 1, 1, 1, 1]
    weeks = {"d": _weeks([NORMAL, NORMAL, trap, NORMAL])}
    late = MONDAY + timedelta(weeks=3)
    assert concentration("device", weeks, report_from=late) == []


def test_bursts_one_per_device_with_the_worst_hour() -> None:
    hours = [HourFlags("a", "2025-03-04T10", 12, 15), HourFlags("a", "2025-03-04T11", 30, 31),
             HourFlags("a", "2025-03-04T12", 2, 40),  # normal hour
             HourFlags("b", "2025-03-04T10", 9, 9),  # below the minimum count
             HourFlags("c", "2025-03-04T10", 10, 40)]  # a small share of a busy hour
    found = bursts(hours)
    assert [a.subject for a in found] == ["device a"]
    assert found[0].evidence == {"worst_hour": "2025-03-04T11:00Z", "flagged": 30, "total": 31,
                                 "hours": 2, "flagged_in_burst_hours": 42}


def test_silent_uses_the_newest_of_status_and_response() -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    devices = [
        DeviceActivity("quiet", now - timedelta(hours=30), now - timedelta(hours=50)),
        DeviceActivity("alive", now - timedelta(hours=30), now - timedelta(hours=1)),
        DeviceActivity("never-reported", None, None),
        DeviceActivity("no-status", None, now - timedelta(hours=25)),
    ]
    found = silent(devices, now, AnomalySettings(silent_hours=24))
    assert [a.subject for a in found] == ["device no-status", "device quiet"]
    assert found[1].evidence["hours_silent"] == 30.0
    assert found[1].evidence["limit_hours"] == 24


def test_sms_rate_drop() -> None:
    end = date(2025, 3, 31)
    daily: dict[date, tuple[int, int]] = {}
    for i in range(35):
        day = end - timedelta(days=i)
        daily[day] = (50, 2) if i < 7 else (50, 10)  # 4 % now against 20 % before
    steady = {end - timedelta(days=i): (50, 10) for i in range(35)}
    found = sms_rate_drop({"gw-1": daily, "gw-2": steady}, end)
    assert [a.subject for a in found] == ["device gw-1"]
    ev = found[0].evidence
    assert (ev["recent_sent"], ev["recent_answered"], ev["recent_rate"]) == (350, 14, 4.0)
    assert (ev["baseline_sent"], ev["baseline_answered"], ev["baseline_rate"]) == (1400, 280, 20.0)


def test_volume_drop_against_the_devices_own_past() -> None:
    end = date(2025, 3, 31)
    falling = {end - timedelta(days=i): (2 if i < 7 else 20) for i in range(35)}
    quiet_always = {end - timedelta(days=i): 1 for i in range(35)}
    found = volume_drop({"falling": falling, "quiet": quiet_always}, end)
    assert [a.subject for a in found] == ["device falling"]
    assert found[0].evidence["recent_per_day"] == 2.0
    assert found[0].evidence["baseline_per_day"] == 20.0


def test_concentration_that_chance_explains_is_not_flagged() -> None:
    # Half of 10 answers were 9 against 19 % before: a rise of 31 points, but with 10
    # answers z = (0.5 - 0.19) / sqrt(0.19 * 0.81 / 10) = 2.5, below 4.
    base = [0, 0, 0, 0, 0, 0, 3, 3, 5, 4, 6]  # 21 answers, 4 nines = 19 %
    week = [0, 0, 0, 0, 0, 0, 0, 1, 1, 5, 3]
    assert concentration("device", {"d": _weeks([base, week])}, report_from=MONDAY) == []
    doubled = [2 * c for c in week]  # the same shares over 20 answers: z = 3.5, still chance
    assert concentration("device", {"d": _weeks([base, doubled])}, report_from=MONDAY) == []
    many = [8 * c for c in week]  # over 80 answers: z = 7.1, no longer chance
    assert len(concentration("device", {"d": _weeks([base, many])}, report_from=MONDAY)) == 1
