"""Judging a received response against the device registry: pure, `now` passed in.

The central owns where a device is: a response is filed under its device's
registered site, area and unit whatever it claims; one that claimed otherwise is
flagged `origin_mismatch` (and the claim kept for the report). Its timestamps are
checked against a plausible window: not before the device's enrolment, not in
the future beyond a small skew; outside it the response is flagged
`clock_suspect`, not trusted silently. An SMS gateway serves several units (each
invitation names its unit): its registry unit is `*`, and only its site and area
are the registry's. A device not in the registry keeps what it
says, flagged `origin_unregistered`. These flags are the central's own: a device
cannot set or clear them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from central.registry import ANY_UNIT, DeviceOrigin

ORIGIN_MISMATCH = "origin_mismatch"
CLOCK_SUSPECT = "clock_suspect"
UNREGISTERED = "origin_unregistered"
CENTRAL_FLAGS = frozenset({ORIGIN_MISMATCH, CLOCK_SUSPECT, UNREGISTERED})
# How far a device's clock may run ahead of the central's (or behind its enrolment).
DEFAULT_SKEW = timedelta(minutes=10)


class Placed(Protocol):
    """What the judgement reads of a response (survey.response.Response)."""

    @property
    def id(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def area(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def flags(self) -> frozenset[str]: ...


R = TypeVar("R", bound=Placed)


@dataclass(frozen=True)
class Claim:
    """The origin a response claimed when the registry said otherwise."""

    response_id: str
    device: str
    site: str
    area: str
    unit: str


def clock_suspect(started: datetime, finished: datetime | None, enrolled: datetime | None,
                  now: datetime, skew: timedelta = DEFAULT_SKEW) -> bool:
    """Whether a response's times fall outside [enrolment - skew, now + skew]."""
    times = [started] if finished is None else [started, finished]
    if any(t > now + skew for t in times):
        return True
    return enrolled is not None and any(t < enrolled - skew for t in times)


def judge(resp: R, registered: DeviceOrigin | None, now: datetime,
          skew: timedelta = DEFAULT_SKEW) -> tuple[R, Claim | None]:
    """The response as the central files it, and the origin it claimed if overridden."""
    flags = set(resp.flags) - CENTRAL_FLAGS
    claim = None
    place = {"site": resp.site, "area": resp.area, "unit": resp.unit}
    if registered is None:
        flags.add(UNREGISTERED)
    else:
        expected = registered.place()
        if registered.unit == ANY_UNIT:  # an SMS gateway: the invitation names the unit
            expected["unit"] = resp.unit
        if place != expected:
            flags.add(ORIGIN_MISMATCH)
            claim = Claim(resp.id, resp.device, resp.site, resp.area, resp.unit)
            place = expected
    enrolled = registered.enrolled_at if registered else None
    if clock_suspect(resp.started_at, resp.finished_at, enrolled, now, skew):
        flags.add(CLOCK_SUSPECT)
    judged: R = replace(resp, flags=frozenset(flags), **place)  # type: ignore[type-var]
    return judged, claim
