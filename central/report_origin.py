"""The report's anomalies about what devices send: the registry's verdicts, full quarantines.

The receiver flags a response whose claimed site, area or unit disagreed with the
device registry (`origin_mismatch`, the claim kept in `origin_claims`), whose
times fall outside the device's plausible window (`clock_suspect`), or whose
device is not registered (`origin_unregistered`). Here they are counted per device
over the report's period and filters, and become anomalies with their evidence.
A device whose daily quarantine filled up (its further refused messages only
counted) is one `quarantine_full` anomaly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from central import anomalies
from central.anomalies import Anomaly
from central.origin import CLOCK_SUSPECT, ORIGIN_MISMATCH, UNREGISTERED
from central.report_model import ReportParams
from central.store import CentralStore

SUMMARIES = {
    ORIGIN_MISMATCH: "{n} responses claimed another origin ({claimed}) and were filed under "
                     "the device's registered one",
    CLOCK_SUSPECT: "{n} responses have times before the device's enrolment or in the future",
    UNREGISTERED: "{n} responses from a device not in the registry were filed where they say; "
                  "register it with `palaute central move-device`",
}


def origin_anomalies(counts: Mapping[tuple[str, str], int],
                     claims: Mapping[str, Sequence[str]]) -> list[Anomaly]:
    """Anomalies from (device, flag) → responses and device → the origins it claimed."""
    found = []
    for (device, flag), n in sorted(counts.items()):
        claimed = ", ".join(claims.get(device, ())) or "?"
        evidence: dict[str, object] = {"responses": n}
        if flag == ORIGIN_MISMATCH:
            evidence["claimed"] = claimed
        found.append(Anomaly(flag, f"device {device}",
                             SUMMARIES[flag].format(n=n, claimed=claimed), evidence))
    return found


def query(store: CentralStore, params: ReportParams) -> list[Anomaly]:
    """The origin and quarantine anomalies of the report's period and filters."""
    p = store.placeholder
    pg = store.dialect == "postgresql"
    clauses = [f"r.local_date BETWEEN {p} AND {p}"]
    values: list[Any] = [params.date_from, params.date_to] if pg else [
        params.date_from.isoformat(), params.date_to.isoformat()]
    for key, value in params.filters:
        clauses.append(f"r.{key} = {p}")
        values.append(value)
    where = " AND ".join(clauses)
    counts: dict[tuple[str, str], int] = {}
    for flag in (ORIGIN_MISMATCH, CLOCK_SUSPECT, UNREGISTERED):
        for device, n in store.execute(
                f"SELECT r.device, COUNT(*) FROM responses r WHERE {where} AND "
                f"CAST(r.flags AS TEXT) LIKE {p} GROUP BY r.device", [*values, f'%"{flag}"%']):
            counts[(str(device), flag)] = int(n)
    claims: dict[str, list[str]] = {}
    if any(flag == ORIGIN_MISMATCH for _, flag in counts):
        for device, site, area, unit in store.execute(
                "SELECT DISTINCT c.device, c.site, c.area, c.unit FROM origin_claims c "
                f"JOIN responses r ON r.id = c.response_id WHERE {where} "
                "ORDER BY c.device, c.site, c.area, c.unit", values):
            claims.setdefault(str(device), []).append(f"{site}/{area}/{unit}")
    found = origin_anomalies(counts, {d: c[:5] for d, c in claims.items()})
    overflows = store.quarantine_overflows(params.date_from, params.date_to)
    if params.filters and overflows:  # only the devices the filtered report shows
        shown = {str(r[0]) for r in store.execute(
            f"SELECT DISTINCT r.device FROM responses r WHERE {where}", values)}
        overflows = [o for o in overflows if o.device in shown]
    return found + anomalies.quarantine_full(overflows)
