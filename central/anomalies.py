"""Anomaly detectors over report aggregates: pure functions, `now` passed in.

Each detector takes counts that the report has already aggregated in SQL and
returns `Anomaly` values that carry their evidence, so a reader can judge them:
a device or unit whose answers suddenly concentrate on one value (staff entering
5 to skip the NPS question), bursts of misuse-flagged presses, devices that have
gone silent, and response rates that drop sharply.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from survey.scoring import round_half_up


@dataclass(frozen=True)
class AnomalySettings:
    """Thresholds of the detectors; the defaults suit a lobby kiosk or an SMS gateway."""

    concentration_min_n: int = 10  # answers in the suspect week
    concentration_baseline_min_n: int = 20  # answers in the earlier weeks
    concentration_min_share: float = 0.5  # one value's share in the suspect week
    concentration_min_rise: float = 0.3  # rise of that share over the baseline
    concentration_min_z: float = 4.0  # and a rise chance cannot explain (binomial z-score)
    burst_min_flagged: int = 10  # misuse-flagged responses in one hour
    burst_min_share: float = 0.5  # of that hour's responses
    silent_hours: float = 24.0
    rate_recent_days: int = 7
    rate_baseline_days: int = 28
    rate_drop_ratio: float = 0.5  # recent rate below this fraction of the baseline
    rate_min_sent: int = 20  # invitations in the recent window to judge an SMS rate
    volume_min_daily: float = 5.0  # baseline responses a day to judge a device's volume


class QuarantineDay(Protocol):
    """One device's day in the quarantine (central.store.QuarantineOverflow)."""

    @property
    def device(self) -> str: ...
    @property
    def day(self) -> date: ...
    @property
    def stored(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def dropped_bytes(self) -> int: ...


@dataclass(frozen=True)
class Anomaly:
    """One finding: what kind, about whom, a sentence, and the figures behind it."""

    kind: str  # concentration | burst | silent | rate_drop | volume_drop | quarantine_full
    subject: str  # e.g. "device tays-lobby-3" or "unit ensiapu"
    summary: str
    evidence: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"kind": self.kind, "subject": self.subject, "summary": self.summary,
                "evidence": self.evidence}


def _pct(part: float, whole: float) -> float:
    return round_half_up(part * 100 / whole, 1) if whole else 0.0


def concentration(
    kind: str,
    weeks: Mapping[str, Sequence[tuple[date, Sequence[int]]]],
    report_from: date,
    settings: AnomalySettings = AnomalySettings(),
) -> list[Anomaly]:
    """Entities whose NPS answers in some week concentrate on one value far more than before.

    `weeks` maps an entity (device or unit) to its weekly 0..10 distributions in
    date order, including the weeks before the report (the baseline). A week is
    flagged from `report_from` on; one anomaly per entity, at its first flagged week.
    """
    found: list[Anomaly] = []
    for entity, series in sorted(weeks.items()):
        base = [0] * 11
        for week_start, counts in series:
            n = sum(counts)
            base_n = sum(base)
            if (week_start >= report_from - timedelta(days=6)
                    and n >= settings.concentration_min_n
                    and base_n >= settings.concentration_baseline_min_n):
                top = max(range(11), key=counts.__getitem__)
                share = counts[top] / n
                before = base[top] / base_n
                if _concentrated(share, before, n, settings):
                    flagged_weeks = _count_flagged_after(series, week_start, top, before, settings)
                    found.append(Anomaly(
                        kind="concentration", subject=f"{kind} {entity}",
                        summary=(f"{kind} {entity}: {_pct(counts[top], n)} % of answers were "
                                 f"{top} in the week of {week_start.isoformat()}, against "
                                 f"{_pct(base[top], base_n)} % before"),
                        evidence={
                            "value": top, "week": week_start.isoformat(), "n": n,
                            "count": counts[top], "share": _pct(counts[top], n),
                            "baseline_n": base_n, "baseline_count": base[top],
                            "baseline_share": _pct(base[top], base_n),
                            "weeks_affected": flagged_weeks,
                        }))
                    break
            base = [b + c for b, c in zip(base, counts, strict=True)]
    return found


def _count_flagged_after(series: Sequence[tuple[date, Sequence[int]]], start: date, value: int,
                         before: float, settings: AnomalySettings) -> int:
    """How many weeks from `start` on keep the same concentration (evidence of persistence)."""
    weeks = 0
    for week_start, counts in series:
        n = sum(counts)
        if week_start < start or n < settings.concentration_min_n:
            continue
        if _concentrated(counts[value] / n, before, n, settings):
            weeks += 1
    return weeks


def _concentrated(share: float, before: float, n: int, settings: AnomalySettings) -> bool:
    """A share far above the baseline: large, risen, and beyond what chance gives in n answers."""
    if share < settings.concentration_min_share or \
            share - before < settings.concentration_min_rise:
        return False
    p = min(max(before, 0.01), 0.99)  # a value never seen before still has some chance
    z = (share - p) / math.sqrt(p * (1 - p) / n)
    return z >= settings.concentration_min_z


@dataclass(frozen=True)
class HourFlags:
    """Responses of one device in one UTC hour, and how many carried a misuse flag."""

    device: str
    hour: str  # "YYYY-MM-DDTHH" (UTC)
    flagged: int
    total: int


def bursts(hours: Iterable[HourFlags], settings: AnomalySettings = AnomalySettings()
           ) -> list[Anomaly]:
    """Devices with hours where misuse-flagged responses pile up; one anomaly per device."""
    by_device: dict[str, list[HourFlags]] = {}
    for h in hours:
        if h.flagged >= settings.burst_min_flagged and h.total and \
                h.flagged / h.total >= settings.burst_min_share:
            by_device.setdefault(h.device, []).append(h)
    found = []
    for device, hits in sorted(by_device.items()):
        worst = max(hits, key=lambda h: (h.flagged, h.hour))
        found.append(Anomaly(
            kind="burst", subject=f"device {device}",
            summary=(f"device {device}: {worst.flagged} of {worst.total} responses flagged as "
                     f"misuse in the hour {worst.hour}:00 UTC ({len(hits)} such hours)"),
            evidence={"worst_hour": worst.hour + ":00Z", "flagged": worst.flagged,
                      "total": worst.total, "hours": len(hits),
                      "flagged_in_burst_hours": sum(h.flagged for h in hits)}))
    return found


@dataclass(frozen=True)
class DeviceActivity:
    """When a device was last heard of: its status heartbeat and its newest response."""

    device: str
    last_status: datetime | None
    last_response: datetime | None


def silent(devices: Iterable[DeviceActivity], now: datetime,
           settings: AnomalySettings = AnomalySettings()) -> list[Anomaly]:
    """Devices neither heard from nor sending responses for more than `silent_hours`."""
    found = []
    for d in sorted(devices, key=lambda d: d.device):
        seen = [t for t in (d.last_status, d.last_response) if t is not None]
        if not seen:
            continue
        last = max(seen)
        hours = (now - last).total_seconds() / 3600
        if hours > settings.silent_hours:
            found.append(Anomaly(
                kind="silent", subject=f"device {d.device}",
                summary=(f"device {d.device}: silent for {round_half_up(hours, 1)} hours "
                         f"(limit {settings.silent_hours:g})"),
                evidence={"hours_silent": round_half_up(hours, 1),
                          "last_status": _iso(d.last_status),
                          "last_response": _iso(d.last_response),
                          "limit_hours": settings.silent_hours}))
    return found


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _window_sum(daily: Mapping[date, int], start: date, days: int) -> int:
    return sum(daily.get(start + timedelta(days=i), 0) for i in range(days))


def sms_rate_drop(gateways: Mapping[str, Mapping[date, tuple[int, int]]], end: date,
                  settings: AnomalySettings = AnomalySettings()) -> list[Anomaly]:
    """SMS gateways whose response rate (answered / sent) in the last days fell sharply.

    `gateways` maps a device to its daily (sent, answered) counters; `end` is the
    last day of the recent window.
    """
    found = []
    recent_start = end - timedelta(days=settings.rate_recent_days - 1)
    base_start = recent_start - timedelta(days=settings.rate_baseline_days)
    for device, daily in sorted(gateways.items()):
        sent = {d: s for d, (s, _) in daily.items()}
        answered = {d: a for d, (_, a) in daily.items()}
        r_sent = _window_sum(sent, recent_start, settings.rate_recent_days)
        r_ans = _window_sum(answered, recent_start, settings.rate_recent_days)
        b_sent = _window_sum(sent, base_start, settings.rate_baseline_days)
        b_ans = _window_sum(answered, base_start, settings.rate_baseline_days)
        if r_sent < settings.rate_min_sent or b_sent < settings.rate_min_sent or b_ans == 0:
            continue
        recent_rate, base_rate = r_ans / r_sent, b_ans / b_sent
        if recent_rate < base_rate * settings.rate_drop_ratio:
            found.append(Anomaly(
                kind="rate_drop", subject=f"device {device}",
                summary=(f"device {device}: SMS response rate {_pct(r_ans, r_sent)} % in the "
                         f"last {settings.rate_recent_days} days, against "
                         f"{_pct(b_ans, b_sent)} % in the {settings.rate_baseline_days} before"),
                evidence={"recent_from": recent_start.isoformat(), "recent_to": end.isoformat(),
                          "recent_sent": r_sent, "recent_answered": r_ans,
                          "recent_rate": _pct(r_ans, r_sent),
                          "baseline_from": base_start.isoformat(),
                          "baseline_sent": b_sent, "baseline_answered": b_ans,
                          "baseline_rate": _pct(b_ans, b_sent)}))
    return found


def volume_drop(devices: Mapping[str, Mapping[date, int]], end: date,
                settings: AnomalySettings = AnomalySettings()) -> list[Anomaly]:
    """Devices whose responses a day in the last days fell sharply against their own past."""
    found = []
    recent_start = end - timedelta(days=settings.rate_recent_days - 1)
    base_start = recent_start - timedelta(days=settings.rate_baseline_days)
    for device, daily in sorted(devices.items()):
        recent = _window_sum(daily, recent_start, settings.rate_recent_days)
        base = _window_sum(daily, base_start, settings.rate_baseline_days)
        recent_avg = recent / settings.rate_recent_days
        base_avg = base / settings.rate_baseline_days
        if base_avg < settings.volume_min_daily or recent_avg >= base_avg * \
                settings.rate_drop_ratio:
            continue
        found.append(Anomaly(
            kind="volume_drop", subject=f"device {device}",
            summary=(f"device {device}: {round_half_up(recent_avg, 1)} responses a day in the "
                     f"last {settings.rate_recent_days} days, against "
                     f"{round_half_up(base_avg, 1)} in the {settings.rate_baseline_days} before"),
            evidence={"recent_from": recent_start.isoformat(), "recent_to": end.isoformat(),
                      "recent_responses": recent, "recent_per_day": round_half_up(recent_avg, 1),
                      "baseline_from": base_start.isoformat(), "baseline_responses": base,
                      "baseline_per_day": round_half_up(base_avg, 1)}))
    return found


def quarantine_full(overflows: Iterable[QuarantineDay]) -> list[Anomaly]:
    """Devices whose refused messages filled their daily quarantine (the rest only counted).

    A device sending that much that the central cannot use is broken or in wrong
    hands (a stolen device's password used to flood the central): one anomaly per
    device, with its days."""
    per_device: dict[str, list[QuarantineDay]] = {}
    for o in overflows:
        per_device.setdefault(o.device, []).append(o)
    found = []
    for device, days in sorted(per_device.items()):
        dropped = sum(d.dropped for d in days)
        mb = sum(d.dropped_bytes for d in days) / 1e6
        found.append(Anomaly(
            "quarantine_full", f"device {device}",
            f"{dropped} refused messages ({mb:.1f} MB) not kept on {len(days)} day(s): "
            "its daily quarantine limit was reached",
            {"days": ", ".join(d.day.isoformat() for d in days), "dropped": dropped,
             "kept": sum(d.stored for d in days)}))
    return found
