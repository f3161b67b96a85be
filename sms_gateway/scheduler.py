"""When an invitation may go out: sending windows, deadlines, and rate limits.

Pure: every function takes `now`. A visit survey goes out within 48 h of the
visit, a first-contact call survey within 1 h of the call, and only inside the
allowed hours (default 08-20 Europe/Helsinki). An invitation that cannot go out
before its deadline expires; it is never sent late.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from survey.config import Section

KINDS = ("visit", "call")
Action = Literal["send", "wait", "expire"]


@dataclass(frozen=True)
class Window:
    """Allowed sending hours [start, end) in `tz` and how long after the event each kind may go."""

    start: time = time(8, 0)
    end: time = time(20, 0)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Helsinki"))
    visit_within: timedelta = timedelta(hours=48)
    call_within: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("the sending window must start before it ends")

    def within(self, kind: str) -> timedelta:
        """How long after the event an invitation of `kind` may still go out."""
        if kind == "visit":
            return self.visit_within
        if kind == "call":
            return self.call_within
        raise ValueError(f"unknown invitation kind {kind!r} (visit or call)")


def _hour(section: Section, key: str) -> time:
    return time(section.get_int(key) % 24)


def window_from_config(sms: Section) -> Window:
    """The window from `[sms] window_start, window_end, timezone, visit_within_hours,
    call_within_hours` (defaults 8, 20, Europe/Helsinki, 48, 1)."""
    name = sms.get_str("timezone")
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise sms.error("timezone", f"unknown time zone {name!r}") from None
    start = _hour(sms, "window_start")
    end_hour = sms.get_int("window_end")
    end = time(23, 59, 59) if end_hour == 24 else time(end_hour)
    if start >= end:
        raise sms.error("window_end", "must be later than window_start")
    return Window(
        start=start, end=end, tz=tz,
        visit_within=timedelta(hours=sms.get_float("visit_within_hours")),
        call_within=timedelta(hours=sms.get_float("call_within_hours")),
    )


def deadline(event_at: datetime, kind: str, window: Window) -> datetime:
    """The last moment an invitation for this event may be sent (in UTC)."""
    # Elapsed time: aware arithmetic in a ZoneInfo zone is wall-clock time, which is an
    # hour off across a DST change.
    return event_at.astimezone(UTC) + window.within(kind)


def next_allowed(t: datetime, window: Window) -> datetime:
    """The first moment at or after `t` inside the allowed hours."""
    local = t.astimezone(window.tz)
    if window.start <= local.time() < window.end:
        return t
    day = local.date() if local.time() < window.start else local.date() + timedelta(days=1)
    opening = datetime.combine(day, window.start, tzinfo=window.tz)
    return opening.astimezone(t.tzinfo)


@dataclass(frozen=True)
class Decision:
    """What to do with a queued invitation now: send, wait until `at`, or expire."""

    action: Action
    at: datetime


def decide(event_at: datetime, kind: str, now: datetime, window: Window) -> Decision:
    """Send now, wait for the next allowed moment, or expire (none left before the deadline)."""
    last = deadline(event_at, kind, window)
    earliest = next_allowed(max(now, event_at), window)
    if earliest >= last or now >= last:
        return Decision("expire", last)
    if earliest <= now:
        return Decision("send", now)
    return Decision("wait", earliest)


class RateLimit:
    """At most `per_minute` sends in any sliding minute (one per modem); `now` is passed in."""

    def __init__(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._sent: deque[datetime] = deque()

    def _forget(self, now: datetime) -> None:
        while self._sent and now - self._sent[0] >= timedelta(minutes=1):
            self._sent.popleft()

    def next_free(self, now: datetime) -> datetime:
        """The first moment at or after `now` when another send is allowed."""
        self._forget(now)
        if len(self._sent) < self.per_minute:
            return now
        return self._sent[0] + timedelta(minutes=1)

    def take(self, now: datetime) -> None:
        """Count one send at `now`."""
        self._forget(now)
        self._sent.append(now)
