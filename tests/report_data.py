"""Test data for the report tests: wire-format responses made from a few values."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from central import report_daily
from central.report_render import report_json
from central.reports import ReportParams, build_report
from central.store import CentralStore
from survey.response import Response, decode_response

# County example of the foundation issue: counts of answers 0..10 (NPS 83.3).
COUNTY = (522, 230, 217, 186, 479, 484, 300, 775, 4039, 11079, 39503)


def response(
    finished_at: datetime,
    nps: int | None,
    *,
    device: str = "tays-lobby-1",
    unit: str = "ensiapu",
    area: str = "sairaalapalvelut",
    channel: str = "kiosk",
    text: str | None = None,
    statements: dict[str, int] | None = None,
    flags: Sequence[str] = (),
) -> Response:
    """One response made from its wire form (DESIGN.md), finished at `finished_at`."""
    answers: dict[str, Any] = {}
    if nps is not None:
        answers["nps"] = {"value": nps}
    if text is not None:
        answers["open"] = {"text": text}
    for q, v in (statements or {}).items():
        answers[q] = {"value": v}
    return decode_response({
        "id": str(uuid.uuid4()), "device": device, "site": "tays", "area": area, "unit": unit,
        "channel": channel, "survey": "national", "survey_version": 1, "lang": "fi",
        "started_at": (finished_at - timedelta(seconds=30)).isoformat(),
        "finished_at": finished_at.isoformat(), "status": "complete", "seq": 1,
        "answers": answers, "flags": list(flags),
    })


def spread(counts: Sequence[int], start: datetime, every: timedelta = timedelta(minutes=1),
           **kw: Any) -> Iterator[Response]:
    """Responses with the given counts of NPS answers 0..10, one every `every` from start."""
    t = start
    for value, count in enumerate(counts):
        for _ in range(count):
            yield response(t, value, **kw)
            t += every


def insert(store: CentralStore, responses: Iterator[Response] | list[Response],
           chunk: int = 5000) -> int:
    """Insert in chunks; returns how many were new."""
    batch: list[Response] = []
    new = 0
    for r in responses:
        batch.append(r)
        if len(batch) >= chunk:
            new += store.insert_responses(batch)
            batch = []
    if batch:
        new += store.insert_responses(batch)
    return new


NOON = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)  # 12:00 in Helsinki


def report_params(start: date, end: date, **kw: Any) -> ReportParams:
    """Report parameters in English as of 1 June 2025 (a fixed "now")."""
    kw.setdefault("lang", "en")
    return ReportParams(start, end, now=datetime(2025, 6, 1, tzinfo=UTC), **kw)


def direct_and_daily(db: CentralStore, params: ReportParams) -> list[dict[str, Any]]:
    """The report's JSON read directly and (once installed) through the daily aggregates."""
    out = [report_json(build_report(db, params, aggregates=False))]
    report_daily.ensure(db)
    out.append(report_json(build_report(db, params, aggregates=True)))
    return out
