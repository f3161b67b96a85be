"""The fleet as the technicians' page shows it: one row per device, problems first.

`device_rows` is pure: it takes the registry, the retained statuses, the recent status
history and the quarantine counts, and `now`, and returns `DeviceRow`s with their
problems. `load_fleet` and `load_history` read those from the central store. A device's
details come from its latest status; after its last will (state offline, nothing else)
the details of its last online status are kept, marked as of that time.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from central.store import LOCAL_ZONE, CentralStore, iso_utc, local_date_of

SILENT_AFTER = timedelta(minutes=30)  # an "online" device not heard from for longer
BACKLOG_AGE = timedelta(hours=6)  # the oldest unsynced answer older than this
HISTORY_WINDOW = timedelta(days=7)


class Problem(enum.StrEnum):
    """What a technician should look at, most urgent first."""

    OFFLINE = "offline"
    SILENT = "silent"
    NO_STATUS = "no status"
    MODEM_DOWN = "modem down"
    BACKLOG = "backlog growing"
    QUARANTINE = "quarantine growing"
    UNKNOWN_SENDS = "unknown sends waiting"
    CONFIG_ERROR = "config error"


@dataclass(frozen=True)
class Modem:
    """One modem of a gateway as its status tells."""

    ok: bool | None
    signal: int | None
    registration: str | None
    error: str | None = None

    @property
    def down(self) -> bool:
        return self.ok is False or (self.registration is not None
                                    and self.registration not in ("home", "roaming"))


@dataclass(frozen=True)
class DeviceRow:
    """One device on the fleet page."""

    device: str
    site: str
    area: str
    unit: str
    state: str  # online | offline | unknown
    updated_at: datetime | None
    details_at: datetime | None  # when the shown details were sent
    roles: tuple[str, ...] = ()
    last_sync: str | None = None
    queue_depth: int | None = None
    oldest_unsynced_age_s: int | None = None
    software: str | None = None
    survey: str | None = None
    config_version: int | None = None
    config_error: str | None = None
    modems: tuple[Modem, ...] = ()
    sms: Mapping[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()  # the newest last, as the device reported them
    quarantine_today: int = 0
    quarantine_yesterday: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def rank(self) -> tuple[int, str]:
        """Sort key: the most urgent problem first, then by device."""
        order = list(Problem)
        return (min((order.index(p) for p in self.problems), default=len(order)), self.device)

    def as_json(self) -> dict[str, Any]:
        """What the page's live updates carry for this row."""
        return {"device": self.device, "site": self.site, "area": self.area,
                "unit": self.unit, "state": self.state, "roles": list(self.roles),
                "updated_at": iso_utc(self.updated_at) if self.updated_at else None,
                "updated_local": local_text(self.updated_at),
                "last_sync": self.last_sync, "last_sync_local": local_text(self.last_sync),
                "queue_depth": self.queue_depth,
                "oldest_unsynced_age_s": self.oldest_unsynced_age_s,
                "software": self.software, "survey": self.survey,
                "config_version": self.config_version, "config_error": self.config_error,
                "modems": [m.__dict__ for m in self.modems],
                "sms": {k: self.sms[k] for k in SMS_SHOWN if k in self.sms},
                "quarantine_today": self.quarantine_today, "errors": list(self.errors),
                "problems": [p.value for p in self.problems]}


def local_text(value: datetime | str | None) -> str:
    """A time as the county reads it: Helsinki time, to the minute ("–" for none)."""
    if value is None or value == "":
        return "–"
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if when.tzinfo is None:
        return when.strftime("%Y-%m-%d %H:%M")
    return when.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


SMS_SHOWN = ("sent", "answered", "unknown_waiting")  # the fleet table's short SMS cell


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _survey(value: object) -> str | None:
    if isinstance(value, dict):
        name, version = value.get("id") or value.get("name"), value.get("version")
        return f"{name} v{version}" if name and version is not None else _str(name)
    return _str(value)


def _modems(value: object) -> tuple[Modem, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(Modem(m.get("ok") if isinstance(m.get("ok"), bool) else None,
                       _int(m.get("signal")), _str(m.get("registration")), _str(m.get("error")))
                 for m in value if isinstance(m, dict))


def _errors(payload: Mapping[str, Any]) -> tuple[str, ...]:
    found = payload.get("errors")
    if not isinstance(found, list):
        return ()
    return tuple(f"{local_text(e.get('at'))} {e.get('error')}" for e in found
                 if isinstance(e, dict) and isinstance(e.get("error"), str))


def _roles(payload: Mapping[str, Any]) -> tuple[str, ...]:
    roles = payload.get("roles")
    if isinstance(roles, list):
        return tuple(str(r) for r in roles)
    found = ["sync"] if payload.get("software") else []
    if payload.get("sms") is not None or payload.get("modems"):
        found.append("sms")
    return tuple(found)


def _problems(row: DeviceRow, now: datetime, backlog_trend: Sequence[int]) -> tuple[Problem, ...]:
    out = []
    if row.state == "offline":
        out.append(Problem.OFFLINE)
    elif row.updated_at is None:
        out.append(Problem.NO_STATUS)
    elif now - row.updated_at > SILENT_AFTER:
        out.append(Problem.SILENT)
    if any(m.down for m in row.modems):
        out.append(Problem.MODEM_DOWN)
    growing = len(backlog_trend) >= 3 and all(b > a for a, b in pairwise(backlog_trend))
    if growing or (row.oldest_unsynced_age_s or 0) > BACKLOG_AGE.total_seconds():
        out.append(Problem.BACKLOG)
    if row.quarantine_today > max(0, row.quarantine_yesterday):
        out.append(Problem.QUARANTINE)
    if row.sms.get("unknown_waiting", 0) > 0:
        out.append(Problem.UNKNOWN_SENDS)
    if row.config_error:
        out.append(Problem.CONFIG_ERROR)
    return tuple(out)


@dataclass(frozen=True)
class FleetInput:
    """What the fleet page is made of, as read from the store."""

    registry: Mapping[str, tuple[str, str, str]]  # device -> (site, area, unit)
    statuses: Mapping[str, tuple[dict[str, Any], datetime]]  # device -> (payload, at)
    last_online: Mapping[str, tuple[dict[str, Any], datetime]]  # device -> latest online
    queue_trend: Mapping[str, Sequence[int]]  # device -> last queue depths, oldest first
    quarantine: Mapping[str, tuple[int, int]]  # device -> (today, yesterday)


def device_rows(data: FleetInput, now: datetime) -> list[DeviceRow]:
    """Every device the registry or a status knows, the most urgent problem first."""
    rows = []
    for device in sorted(set(data.registry) | set(data.statuses)):
        status, at = data.statuses.get(device, ({}, None))
        state = str(status.get("state", "unknown")) if at else "unknown"
        details, details_at = status, at
        if state == "offline" and device in data.last_online:
            details, details_at = data.last_online[device]
        site, area, unit = data.registry.get(device, (str(status.get("site", "")), "", ""))
        sms = details.get("sms") if isinstance(details.get("sms"), dict) else {}
        q_today, q_yesterday = data.quarantine.get(device, (0, 0))
        row = DeviceRow(
            device=device, site=site, area=area, unit=unit, state=state, updated_at=at,
            details_at=details_at, roles=_roles(details), last_sync=_str(details.get("last_sync")),
            queue_depth=_int(details.get("queue_depth")),
            oldest_unsynced_age_s=_int(details.get("oldest_unsynced_age_s")),
            software=_str(details.get("software")), survey=_survey(details.get("survey")),
            config_version=_int(details.get("config_version")),
            config_error=_str(details.get("config_error")), modems=_modems(details.get("modems")),
            sms={str(k): v for k, v in (sms or {}).items() if _int(v) is not None},
            errors=_errors(details), quarantine_today=q_today, quarantine_yesterday=q_yesterday)
        rows.append(_with_problems(row, now, data.queue_trend.get(device, ())))
    return sorted(rows, key=lambda r: r.rank)


def _with_problems(row: DeviceRow, now: datetime, trend: Sequence[int]) -> DeviceRow:
    from dataclasses import replace

    return replace(row, problems=_problems(row, now, trend))


# -- reading the store ------------------------------------------------------------------


def _time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _payload(value: object) -> dict[str, Any]:
    data = value if isinstance(value, dict) else json.loads(str(value))
    return data if isinstance(data, dict) else {}


def load_fleet(store: CentralStore, now: datetime) -> list[DeviceRow]:
    """The fleet page's rows from the central store."""
    registry = {str(d): (str(s), str(a), str(u)) for d, s, a, u in store.execute(
        "SELECT device, site, area, unit FROM device_registry")}
    statuses = {str(d): (_payload(p), _time(at)) for d, p, at in store.execute(
        "SELECT device, payload, updated_at FROM device_status")}
    p = store.placeholder
    last_online = {str(d): (_payload(pl), _time(at)) for d, at, pl in store.execute(
        "SELECT h.device, h.at, h.payload FROM status_history h JOIN (SELECT device, MAX(at) "
        "AS at FROM status_history WHERE state = 'online' GROUP BY device) m "
        "ON m.device = h.device AND m.at = h.at WHERE h.state = 'online'")}
    trend: dict[str, list[int]] = {}
    for device, payload in store.execute(
            f"SELECT device, payload FROM status_history WHERE state = 'online' AND at >= {p} "
            "ORDER BY device, at", (iso_utc(now - timedelta(hours=1)),)):
        depth = _int(_payload(payload).get("queue_depth"))
        if depth is not None:
            trend.setdefault(str(device), []).append(depth)
    today = local_date_of(now)
    yesterday = today - timedelta(days=1)
    quarantine: dict[str, tuple[int, int]] = {}
    for device, day, count in store.execute(
            f"SELECT device, day, stored + dropped FROM quarantine_budget WHERE day IN ({p}, {p})",
            (today.isoformat(), yesterday.isoformat())):
        t, y = quarantine.get(str(device), (0, 0))
        quarantine[str(device)] = (int(count), y) if str(day) == today.isoformat() \
            else (t, int(count))
    return device_rows(FleetInput(registry, statuses, last_online,
                                  {d: t[-6:] for d, t in trend.items()}, quarantine), now)


@dataclass(frozen=True)
class HistoryPoint:
    """One status message of a device."""

    at: datetime
    state: str
    queue_depth: int | None
    signal: int | None


def load_history(store: CentralStore, device: str, now: datetime) -> list[HistoryPoint]:
    """A device's status messages of the last 7 days, oldest first."""
    p = store.placeholder
    out = []
    for at, state, payload in store.execute(
            f"SELECT at, state, payload FROM status_history WHERE device = {p} AND at >= {p} "
            "ORDER BY at", (device, iso_utc(now - HISTORY_WINDOW))):
        data = _payload(payload)
        modems = _modems(data.get("modems"))
        signal = next((m.signal for m in modems if m.signal is not None), None)
        out.append(HistoryPoint(_time(at), str(state), _int(data.get("queue_depth")), signal))
    return out


def fleet_fingerprint(store: CentralStore) -> str:
    """Changes whenever a status arrives or the registry changes (the live updates' cue)."""
    rows = store.execute("SELECT (SELECT MAX(updated_at) FROM device_status), "
                         "(SELECT COUNT(*) FROM device_status), "
                         "(SELECT MAX(updated_at) FROM device_registry), "
                         "(SELECT COUNT(*) FROM device_registry)")
    return json.dumps([str(v) for v in rows[0]])
