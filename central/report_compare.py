"""The report's comparisons (previous period, the same period a year before) and targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from central.report_model import (
    MIN_N,
    Comparison,
    Figures,
    GroupRow,
    ReportParams,
    StatementRow,
    TargetRow,
    previous_period,
    secondary_suppression,
    target_for,
    year_before,
)
from central.report_sql import Sql, add_counts
from survey.scoring import nps_summary


def _period_counts(sql: Sql, params: ReportParams, start: date, end: date
                   ) -> dict[str, list[int]]:
    """group -> counts of the NPS answers 0..10 in one period."""
    where, values = sql.where(params, start, end)
    rows = sql.run(
        f"SELECT {sql.group(params.by)} AS k, "
        + ", ".join(sql.count(f"r.nps = {i}") for i in range(11))
        + f" FROM {sql.src} WHERE {where} GROUP BY k", values)
    return {str(row[0]): [int(v) for v in row[1:]] for row in rows}


def _figures_of(per: Mapping[str, Sequence[int]], keys: Sequence[str]) -> dict[str, Figures]:
    """Figures of each group and the total, suppressed and protected as the main table."""
    hide = secondary_suppression({k: sum(per.get(k, [0] * 11)) for k in keys})
    out = {}
    total = [0] * 11
    for k in keys:
        counts = per.get(k, [0] * 11)
        add_counts(total, counts)
        out[k] = _figures(counts, k in hide)
    out["total"] = _figures(total)
    return out


def _figures(counts: Sequence[int], protected: bool = False) -> Figures:
    n = sum(counts)
    if n < MIN_N or protected:
        return Figures(n, None, None, protected)
    s = nps_summary(counts)
    return Figures(n, s.nps, s.mean)


def period_comparisons(sql: Sql, params: ReportParams, groups: Sequence[GroupRow],
                 total: GroupRow) -> tuple[list[Comparison], tuple[date, date],
                                           tuple[date, date]]:
    """Each group and the total now, in the previous period and a year before."""
    prev = previous_period(params.date_from, params.date_to)
    year = year_before(params.date_from, params.date_to)
    if params.by == "month":  # months compare along the trend, not with themselves
        return [], prev, year
    keys = [g.key for g in groups]
    before = _figures_of(_period_counts(sql, params, *prev), keys)
    ago = _figures_of(_period_counts(sql, params, *year), keys)
    out = []
    for g in [*groups, total]:
        s = g.summary
        now = Figures(g.n, s.nps if s else None, s.mean if s else None, g.protected)
        out.append(Comparison(g.key, now, before[g.key], ago[g.key]))
    return out, prev, year


def _unit_areas(sql: Sql, params: ReportParams) -> dict[str, str]:
    where, values = sql.where(params, params.date_from, params.date_to)
    return {str(u): str(a) for u, a in sql.run(
        f"SELECT DISTINCT r.unit, r.area FROM {sql.src} WHERE {where}", values)}


def target_rows(sql: Sql, params: ReportParams, groups: Sequence[GroupRow], total: GroupRow,
                 statements: Sequence[StatementRow]) -> list[TargetRow]:
    """Every target that applies to a group (or the total) shown in the report."""
    if not params.targets:
        return []
    filters = dict(params.filters)
    unit_area = _unit_areas(sql, params) if params.by == "unit" else {}

    def scope(key: str) -> tuple[str | None, str | None]:
        if key == "total":
            area = filters.get("area")
            if area is None and "unit" in filters:
                area = _unit_areas(sql, params).get(filters["unit"])
            return area, filters.get("unit")
        if params.by == "area":
            return key, filters.get("unit")
        if params.by == "unit":
            return unit_area.get(key, filters.get("area")), key
        return filters.get("area"), filters.get("unit")

    out = []
    for g in [*groups, total]:
        area, unit = scope(g.key)
        t = target_for(params.targets, "nps", "nps", area, unit)
        if t is not None:
            out.append(TargetRow(g.key, t, g.n, g.summary.nps if g.summary else None))
    measures = {t.question for t in params.targets if t.measure != "nps"}
    for st in statements:
        if st.question not in measures:
            continue
        area, unit = scope(st.key)
        for measure in ("top", "agree", "mean"):
            t = target_for(params.targets, measure, st.question, area, unit)
            if t is None:
                continue
            summary = st.summary
            actual = None if summary is None else {
                "top": summary.top_share, "agree": summary.agree_share,
                "mean": summary.mean}[measure]
            out.append(TargetRow(st.key, t, st.n, actual))
    return out
