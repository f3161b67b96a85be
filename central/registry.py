"""The central's device registry: where each device is, whatever its payloads say.

A device's site, area and unit come from here, never from what it sends (a stolen
device's password must not be able to file answers under another unit). Rows are
written by `broker-config` (a device list with areas and units), by enrolment,
and changed by an operator with `palaute central move-device`; every change
leaves a row in `device_audit` (when, what, who, from what to what).
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from central.store import CentralStore, iso_utc
from survey.errors import PalauteError
from sync.protocol import valid_segment

if TYPE_CHECKING:
    from central.origin import Claim

MAX_NAME_CHARS = 100  # area and unit names, as the wire protocol allows them
# The unit of a device that serves several (an SMS gateway: each invitation names one).
ANY_UNIT = "*"


class RegistryError(PalauteError, ValueError):
    """A registry change that cannot be made."""


@dataclass(frozen=True)
class DeviceOrigin:
    """Where a device is (site, area, unit) and since when it is enrolled (None: unknown)."""

    device: str
    site: str
    area: str
    unit: str
    enrolled_at: datetime | None = None

    def place(self) -> dict[str, str]:
        """{"site", "area", "unit"} (the audit's form)."""
        return {"site": self.site, "area": self.area, "unit": self.unit}


@dataclass(frozen=True)
class AuditRow:
    """One change of the registry."""

    at: datetime
    device: str
    action: str  # register | move | enrol | broker-config
    actor: str
    old: dict[str, str] | None
    new: dict[str, str]


def operator() -> str:
    """Who runs this command (for the audit): the sudo user, else the login name."""
    for name in (os.environ.get("SUDO_USER"), os.environ.get("USER")):
        if name:
            return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def check_origin(origin: DeviceOrigin) -> None:
    """RegistryError unless the device and site are ids and the area and unit names."""
    for key in ("device", "site"):
        if not valid_segment(getattr(origin, key)):
            raise RegistryError(f"bad {key} {getattr(origin, key)!r} (letters, digits, . _ -)")
    for key in ("area", "unit"):
        value = getattr(origin, key)
        if not value.strip() or len(value) > MAX_NAME_CHARS or not value.isprintable():
            raise RegistryError(f"bad {key} {value!r} (1 to {MAX_NAME_CHARS} printable "
                                "characters)")


def _time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def lookup(store: CentralStore, device: str) -> DeviceOrigin | None:
    """The registered origin of `device`, or None."""
    p = store.placeholder
    rows = store.execute("SELECT device, site, area, unit, enrolled_at FROM device_registry "
                         f"WHERE device = {p}", (device,))
    if not rows:
        return None
    d, site, area, unit, enrolled = rows[0]
    return DeviceOrigin(str(d), str(site), str(area), str(unit), _time(enrolled))


def register(store: CentralStore, origin: DeviceOrigin, *, action: str, actor: str,
             at: datetime) -> bool:
    """Record `origin` (a change is audited); False when the registry already said so.

    The enrolment time kept is the earliest known: a re-enrolment does not make the
    device's older answers look like they came from before it existed. A device id
    that differs from a registered one only in case is refused.
    """
    p = store.placeholder
    with store.transaction() as c:
        rows = c.execute("SELECT device, site, area, unit, enrolled_at FROM device_registry "
                         f"WHERE LOWER(device) = {p}", (origin.device.lower(),)).fetchall()
        old = None
        for d, site, area, unit, enrolled in rows:
            if d != origin.device:
                raise RegistryError(f"device {origin.device} clashes with the registered {d}: "
                                    "device ids are unique regardless of case")
            old = DeviceOrigin(d, site, area, unit, _time(enrolled))
        enrolled_at = origin.enrolled_at
        if old is not None and old.enrolled_at is not None:
            enrolled_at = min(old.enrolled_at, enrolled_at or old.enrolled_at)
        if old is not None and old.place() == origin.place() and old.enrolled_at == enrolled_at:
            return False
        at_text = iso_utc(at)
        enrolled_text = iso_utc(enrolled_at) if enrolled_at else None
        c.execute(
            "INSERT INTO device_registry (device, site, area, unit, enrolled_at, updated_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (device) DO UPDATE SET "
            "site = excluded.site, area = excluded.area, unit = excluded.unit, "
            "enrolled_at = excluded.enrolled_at, updated_at = excluded.updated_at",
            (origin.device, origin.site, origin.area, origin.unit, enrolled_text, at_text))
        if old is None or old.place() != origin.place():
            c.execute(
                "INSERT INTO device_audit (at, device, action, actor, old_origin, new_origin) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
                (at_text, origin.device, action, actor,
                 json.dumps(old.place()) if old else None, json.dumps(origin.place())))
    return True


def move(store: CentralStore, device: str, *, site: str | None, area: str | None,
         unit: str | None, actor: str, at: datetime | None = None) -> DeviceOrigin:
    """Change where a registered device is (what is not given stays); audited.

    An unregistered device is registered, which then needs all three.
    """
    old = lookup(store, device)
    if old is None:
        if not (site and area and unit):
            raise RegistryError(f"device {device} is not registered: give --site, --area and "
                                "--unit to register it")
        new = DeviceOrigin(device, site, area, unit)
    else:
        new = DeviceOrigin(device, site or old.site, area or old.area, unit or old.unit,
                           old.enrolled_at)
    check_origin(new)
    register(store, new, action="move" if old else "register", actor=actor,
             at=at or datetime.now(UTC))
    return new


def audit_trail(store: CentralStore, device: str | None = None) -> list[AuditRow]:
    """The registry's changes, oldest first (of one device, or all)."""
    p = store.placeholder
    where, params = (f"WHERE device = {p}", (device,)) if device else ("", ())
    rows = store.execute("SELECT at, device, action, actor, old_origin, new_origin "
                         f"FROM device_audit {where} ORDER BY at", params)
    return [AuditRow(datetime.fromisoformat(str(at)), str(d), str(action), str(actor),
                     json.loads(old) if old else None, json.loads(new))
            for at, d, action, actor, old, new in rows]


def record_claims(store: CentralStore, claims: Sequence[Claim], received_at: datetime) -> None:
    """Keep the origins that responses claimed when the registry overrode them."""
    if not claims:
        return
    p = store.placeholder
    with store.transaction() as c:
        for cl in claims:
            c.execute("INSERT INTO origin_claims (response_id, device, site, area, unit, "
                      f"received_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}) "
                      "ON CONFLICT (response_id) DO NOTHING",
                      (cl.response_id, cl.device, cl.site, cl.area, cl.unit,
                       iso_utc(received_at)))
