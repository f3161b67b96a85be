"""What the demo measures along the chain, and whether it adds up.

`take_snapshot` reads the chain's state through each part's own library (the
gateway's status, each device store's counts, the central store).
`expected_rows`, `checks`, `summary_table` and `progress_line` are pure: they
compare a snapshot with what the simulated people and patients actually did.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from palaute.demo_people import Persona, expected, tally
from palaute.demo_scripts import Patient

Row = tuple[str, str, str, int | None, tuple[str, ...]]  # device, channel, status, nps, flags


@dataclass
class Snapshot:
    """The chain at one moment: gateway status, device store counts, the central's counts."""

    gateway: dict[str, Any] = field(default_factory=dict)
    local: dict[str, dict[str, int]] = field(default_factory=dict)
    central: dict[str, int] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    quarantined: int = 0

    @property
    def counters(self) -> dict[str, int]:
        """The gateway's cumulative SMS counters."""
        return dict(self.gateway.get("counters", {}))

    def final(self, device: str) -> int:
        """Final (complete, abandoned or expired) responses in a device's store."""
        c = self.local.get(device, {})
        return sum(c.get(s, 0) for s in ("complete", "abandoned", "expired"))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _device_counts(path: Path) -> dict[str, int]:
    from survey.store import Store

    if not path.exists():
        return {}
    with Store(path, create=False) as store:
        return store.counts()


def _gateway_status(config: Path) -> dict[str, Any]:
    from sms_gateway.service import open_gateway_store

    if not config.exists():
        return {}
    _config, gs, _settings = open_gateway_store(config, create=False)
    try:
        return gs.status()
    finally:
        gs.store.close()


def _central_rows(db: Path, with_rows: bool) -> tuple[dict[str, int], list[Row], int]:
    from central.store import open_central

    if not db.exists():
        return {}, [], 0
    with open_central(f"sqlite:///{db}") as store:
        counts = {str(d): int(n) for d, n in
                  store.execute("SELECT device, COUNT(*) FROM responses GROUP BY device")}
        rows: list[Row] = []
        if with_rows:
            for device, channel, status, nps, flags in store.execute(
                    "SELECT device, channel, status, nps, flags FROM responses"):
                parsed = json.loads(flags) if isinstance(flags, str) else flags
                rows.append((str(device), str(channel), str(status),
                             None if nps is None else int(nps), tuple(sorted(parsed or ()))))
        return counts, rows, len(store.quarantined())


def take_snapshot(gateway_config: Path, stores: Mapping[str, Path], central_db: Path, *,
                  with_rows: bool = False) -> Snapshot:
    """Read the chain's state (see module doc); missing files count as empty."""
    central, rows, quarantined = _central_rows(central_db, with_rows)
    return Snapshot(
        gateway=_gateway_status(gateway_config),
        local={device: _device_counts(path) for device, path in stores.items()},
        central=central, rows=rows, quarantined=quarantined,
    )


# -- expectations (pure) -----------------------------------------------------------------


def expected_rows(gateway: str, people: Iterable[Persona],
                  patients: Mapping[str, Sequence[Patient]]) -> Counter[Row]:
    """The responses the central should hold, from what people and patients did."""
    rows: Counter[Row] = Counter()
    for p in people:
        e = expected(p)
        if e.status is not None:
            rows[(gateway, "sms", e.status, e.nps, e.flags)] += 1
    for device, group in patients.items():
        for pt in group:
            rows[(device, pt.channel, pt.status, pt.nps, tuple(sorted(pt.flags)))] += 1
    return rows


def settled(snap: Snapshot, devices: Iterable[str], replies_pending: int) -> bool:
    """True when nothing is on its way any more: no reply, SMS, session or batch pending."""
    gw = snap.gateway
    busy_states = ("queued", "sending")
    if replies_pending or gw.get("live_sessions", 1) or gw.get("inbox_pending", 1):
        return False
    if any(gw.get(table, {}).get(s, 0) for table in ("invitations", "outbox")
           for s in busy_states):
        return False
    for device in devices:
        counts = snap.local.get(device, {})
        if counts.get("open", 0) or counts.get("unsynced", 0):
            return False
        if snap.central.get(device, 0) != snap.final(device):
            return False
    return True


@dataclass(frozen=True)
class Check:
    """One line of the verdict: what was compared, and whether it matched."""

    ok: bool
    text: str


def checks(snap: Snapshot, gateway: str, people: Sequence[Persona],
           patients: Mapping[str, Sequence[Patient]]) -> list[Check]:
    """Every comparison of the summary (the demo fails when any is not ok)."""
    want = tally(people)
    got = snap.counters
    out = []
    names = ("invited", "sent", "answered", "completed", "opted_out")
    mismatch = [f"{n} {got.get(n, 0)} (people: {want[n]})" for n in names
                if got.get(n, 0) != want[n]]
    out.append(Check(not mismatch, "SMS gateway counted what people did: " + (
        ", ".join(f"{n} {want[n]}" for n in names) if not mismatch else "; ".join(mismatch))))
    devices = [gateway, *patients]
    expect_final = {gateway: want["answered"],
                    **{d: len(group) for d, group in patients.items()}}
    bad = [f"{d}: {snap.final(d)} stored, {expect_final[d]} expected" for d in devices
           if snap.final(d) != expect_final[d]]
    out.append(Check(not bad, "every answer is stored on its device: " + (
        "; ".join(bad) if bad else f"{sum(expect_final.values())} responses, none left open")))
    bad = [f"{d}: stored {snap.final(d)}, synced {snap.local.get(d, {}).get('synced', 0)}, "
           f"central {snap.central.get(d, 0)}" for d in devices
           if not snap.final(d) == snap.local.get(d, {}).get("synced", 0) ==
           snap.central.get(d, 0)]
    out.append(Check(not bad, "stored = synced = received at the central, on every device"
                     + (": " + "; ".join(bad) if bad else "")))
    want_rows = expected_rows(gateway, people, patients)
    got_rows = Counter(snap.rows)
    missing, extra = want_rows - got_rows, got_rows - want_rows
    detail = "" if not (missing or extra) else (
        f": missing {sorted(missing.elements(), key=repr)[:3]}, "
        f"unexpected {sorted(extra.elements(), key=repr)[:3]}")
    out.append(Check(not missing and not extra, "the central holds exactly the answers given "
                     "(scores, status, channel, flags)" + detail))
    out.append(Check(snap.quarantined == 0,
                     f"nothing quarantined at the central ({snap.quarantined})"))
    return out


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def summary_table(snap: Snapshot, gateway: str, people: Sequence[Persona],
                  patients: Mapping[str, Sequence[Patient]]) -> str:
    """The counts along the chain, one line per device and a total."""
    c = snap.counters
    header = ("", "invited", "sent", "answered", "stored", "synced", "central")
    lines: list[tuple[str, ...]] = [header]
    total = [0, 0, 0, 0]

    def add(label: str, invited: int | None, sent: int | None, answered: int, device: str
            ) -> None:
        values = [answered, snap.final(device), snap.local.get(device, {}).get("synced", 0),
                  snap.central.get(device, 0)]
        for i, v in enumerate(values):
            total[i] += v
        lines.append((label, _cell(invited), _cell(sent), *map(str, values)))

    add(f"SMS   {gateway}", c.get("invited", 0), c.get("sent", 0), c.get("answered", 0),
        gateway)
    for device, group in patients.items():
        add(f"kiosk {device}", None, None, len(group), device)
    lines.append(("all", _cell(c.get("invited", 0)), _cell(c.get("sent", 0)),
                  *map(str, total)))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                  for i, cell in enumerate(row)).rstrip()
        for row in lines)


def progress_line(snap: Snapshot, devices: Sequence[str], replies_pending: int) -> str:
    """One line of progress while the chain runs."""
    c = snap.counters
    final = sum(snap.final(d) for d in devices)
    opened = sum(snap.local.get(d, {}).get("open", 0) for d in devices)
    synced = sum(snap.local.get(d, {}).get("synced", 0) for d in devices)
    central = sum(snap.central.get(d, 0) for d in devices)
    return (f"sms {c.get('invited', 0)} invited, {c.get('sent', 0)} sent, "
            f"{c.get('answered', 0)} answered, {snap.gateway.get('live_sessions', 0)} open "
            f"sessions, {replies_pending} replies on the way | stores {final} final "
            f"+ {opened} open | synced {synced} | central {central}")
