"""The report's SQL: dialect differences (SQLite, PostgreSQL) in one place, and the small
conversions of what the databases return."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from central.report_model import ReportError, ReportParams
from central.store import CentralStore, CentralStoreError

log = logging.getLogger(__name__)

class Sql:
    """Dialect differences in one place: date parameters, month, week and hour buckets."""

    def __init__(self, store: CentralStore, aggregates: bool = False) -> None:
        self.store = store
        self.pg = store.dialect == "postgresql"
        self.p = store.placeholder
        self.agg = aggregates  # read report_daily & co. instead of responses
        self.src = "report_daily r" if aggregates else "responses r"

    def count(self, cond: str | None = None) -> str:
        """How many responses (meeting `cond`) a group holds, in either source."""
        if self.agg:
            return f"COALESCE(SUM(r.responses) FILTER (WHERE {cond}), 0)" if cond \
                else "SUM(r.responses)"
        return f"COUNT(*) FILTER (WHERE {cond})" if cond else "COUNT(*)"

    def with_text(self) -> str:
        return "SUM(r.with_text)" if self.agg else "COUNT(*) FILTER (WHERE r.has_text)"

    def has_nps(self) -> str:
        return "r.nps >= 0" if self.agg else "r.nps IS NOT NULL"

    def day(self, d: date) -> Any:
        return d if self.pg else d.isoformat()

    def month(self, col: str = "r.local_date") -> str:
        return f"to_char({col}, 'YYYY-MM')" if self.pg else f"substr({col}, 1, 7)"

    def week(self) -> str:
        if self.pg:
            return f"((r.local_date - CAST({self.p} AS DATE)) / 7)"
        return f"CAST((julianday(r.local_date) - julianday({self.p})) / 7 AS INTEGER)"

    def hour(self) -> str:
        if self.pg:
            return "to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')"
        return "substr(r.finished_at, 1, 13)"

    def group(self, by: str) -> str:
        return self.month() if by == "month" else f"r.{by}"

    def where(self, params: ReportParams, start: date, end: date) -> tuple[str, list[Any]]:
        """The WHERE clause of a period and the filters, with its parameters."""
        clauses = [f"r.local_date BETWEEN {self.p} AND {self.p}"]
        values: list[Any] = [self.day(start), self.day(end)]
        for key, value in params.filters:
            clauses.append(f"r.{key} = {self.p}")
            values.append(value)
        return " AND ".join(clauses), values

    def run(self, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        log.debug("report query: %s %r", sql, values)
        try:
            return self.store.execute(sql, values)
        except (sqlite3.Error, CentralStoreError) as exc:
            raise ReportError(" ".join(f"report query failed: {exc}".split())) from None


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def as_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        ts = value
    else:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def from_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def add_counts(into: list[int], more: Sequence[int]) -> None:
    for i, v in enumerate(more):
        into[i] += v
