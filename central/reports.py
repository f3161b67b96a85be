"""The central report: aggregates queried in SQL, assembled into one report model.

Every count is made by the database (GROUP BY with COUNT(*) FILTER / SUM … FILTER),
so a report over millions of responses moves only a few thousand aggregate rows into
Python. When the daily aggregates of central.report_daily are installed, the counts
come from them instead of the responses themselves (same queries, fewer rows).
Scoring is survey.scoring's; anomaly detection is central.anomalies'. Privacy is
applied here, once, so that every renderer shows the same thing: a figure resting
on fewer than MIN_N answers is suppressed (shown as "<5", with no distribution), and
where a table also shows its total, secondary_suppression() hides as many other groups
as it takes that the small group cannot be worked out by subtraction ("protected":
their n is shown, their figures are not).
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from central import anomalies, report_daily, report_origin
from central.anomalies import Anomaly, DeviceActivity, HourFlags
from central.report_compare import period_comparisons, target_rows
from central.report_daily import MISUSE_FLAGS
from central.report_model import (
    BASELINE_WEEKS,
    LOCAL_ZONE,
    MIN_N,
    ROLLING_DAYS,
    SMS_COUNTERS,
    FreeText,
    GroupRow,
    Report,
    ReportError,
    ReportParams,
    SmsFunnelRow,
    StatementRow,
    TextShareRow,
    TrendPoint,
    TrendRow,
    secondary_suppression,
)
from central.report_sql import Sql, add_counts, as_date, as_time, from_json
from central.report_topics import add_examples, build_topics
from central.store import CentralStore, iso_utc, stored_answers
from survey.definition import SHIPPED_SURVEYS, load_survey, shipped_survey_path
from survey.errors import PalauteError
from survey.response import FACES_QUESTION
from survey.scoring import likert_summary, nps_summary, text_share

log = logging.getLogger(__name__)

# -- the main table, trend, rolling NPS and text shares: one daily aggregate ------------


def _daily(sql: Sql, params: ReportParams, start: date) -> dict[tuple[date, str], list[int]]:
    """(day, group) -> [responses, with text, count of 0, ..., count of 10]."""
    where, values = sql.where(params, start, params.date_to)
    rows = sql.run(
        f"SELECT r.local_date, {sql.group(params.by)} AS k, {sql.count()}, {sql.with_text()}, "
        + ", ".join(sql.count(f"r.nps = {i}") for i in range(11))
        + f" FROM {sql.src} WHERE {where} GROUP BY r.local_date, k", values)
    return {(as_date(row[0]), str(row[1])): [int(v) for v in row[2:]] for row in rows}


def _group_row(key: str, counts: Sequence[int]) -> GroupRow:
    n = sum(counts)
    return GroupRow(key, n, nps_summary(counts) if n >= MIN_N else None)


def _group_rows(main: Mapping[str, Sequence[int]], keys: Sequence[str]) -> list[GroupRow]:
    """The main table's groups: small ones suppressed, secondary ones protected."""
    hide = secondary_suppression({k: sum(main[k][2:]) for k in keys})
    return [GroupRow(k, sum(main[k][2:]), None, protected=True) if k in hide
            else _group_row(k, main[k][2:]) for k in keys]


def _protect_trend(rows: list[TrendRow]) -> list[TrendRow]:
    """Protect each month column, and the 30-day column, across the groups' trend rows."""
    if not rows:
        return rows
    per_month = [secondary_suppression({r.key: r.months[i].n for r in rows})
                 for i in range(len(rows[0].months))]
    in_rolling = secondary_suppression({r.key: r.rolling.n for r in rows})

    def hidden(p: TrendPoint, hide: bool) -> TrendPoint:
        return TrendPoint(p.label, p.n, None, protected=True) if hide else p

    return [TrendRow(r.key, [hidden(p, r.key in per_month[i]) for i, p in enumerate(r.months)],
                     hidden(r.rolling, r.key in in_rolling)) for r in rows]


def _point(label: str, counts: Sequence[int]) -> TrendPoint:
    n = sum(counts)
    return TrendPoint(label, n, nps_summary(counts).nps if n >= MIN_N else None)


def _months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _rolling(per_day: dict[date, list[int]], start: date, end: date) -> list[TrendPoint]:
    """The 30-day rolling NPS for every day from start to end (windows end on that day)."""
    window = [0] * 11
    points = []
    day = start - timedelta(days=ROLLING_DAYS - 1)
    while day <= end:
        add_counts(window, per_day.get(day, [0] * 11))
        leaving = day - timedelta(days=ROLLING_DAYS)
        add_counts(window, [-c for c in per_day.get(leaving, [0] * 11)])
        if day >= start:
            points.append(_point(day.isoformat(), window))
        day += timedelta(days=1)
    return points


def _tables(sql: Sql, params: ReportParams, empty_ok: bool = False) -> dict[str, Any]:
    """Main table, monthly trend, rolling NPS and text shares from one daily aggregate."""
    # The rolling line starts on trend_start: its first window reaches 29 days further back.
    start = params.trend_start - timedelta(days=ROLLING_DAYS - 1)
    daily = _daily(sql, params, start)
    main: dict[str, list[int]] = defaultdict(lambda: [0] * 13)
    monthly: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 11)
    last30: dict[str, list[int]] = defaultdict(lambda: [0] * 11)
    total_by_day: dict[date, list[int]] = defaultdict(lambda: [0] * 11)
    since30 = params.date_to - timedelta(days=ROLLING_DAYS - 1)
    for (day, key), counts in daily.items():
        if params.date_from <= day:
            add_counts(main[key], counts)
        if params.trend_start <= day:
            add_counts(monthly[(key, day.isoformat()[:7])], counts[2:])
        if since30 <= day:
            add_counts(last30[key], counts[2:])
        add_counts(total_by_day[day], counts[2:])
    if (not main or sum(c[0] for c in main.values()) == 0) and not empty_ok:
        raise ReportError(f"no responses between {params.date_from} and {params.date_to}"
                          + "".join(f" for {k} {v!r}" for k, v in params.filters))
    keys = sorted(main)
    total = [0] * 13
    for counts in main.values():
        add_counts(total, counts)
    months = _months(params.trend_start, params.date_to)
    # Every group with answers in the trend gets its row (also one silent in the period),
    # so that a month's total is the sum of its rows and protection sees them all.
    in_trend = {k for k, _ in monthly} | set(last30)
    trend_keys = [] if params.by == "month" else sorted(in_trend)

    def trend_row(key: str, pick: list[str]) -> TrendRow:
        points = []
        for month in months:
            counts = [0] * 11
            for k in pick:
                add_counts(counts, monthly.get((k, month), [0] * 11))
            points.append(_point(month, counts))
        roll = [0] * 11
        for k in pick:
            add_counts(roll, last30.get(k, [0] * 11))
        return TrendRow(key, points, _point(f"{since30}..{params.date_to}", roll))

    return {
        "groups": _group_rows(main, keys),
        "total": _group_row("total", total[2:]),
        "months": months,
        "trend": _protect_trend([trend_row(k, [k]) for k in trend_keys]),
        "trend_total": trend_row("total", sorted(in_trend)),
        "rolling": _rolling(total_by_day, params.trend_start, params.date_to),
        "text_shares": [*_text_rows(main, keys), _text_row("total", total)],
    }


def _text_row(key: str, counts: Sequence[int], protected: bool = False) -> TextShareRow:
    responses, with_text = counts[0], counts[1]
    share = text_share(with_text, responses) if responses >= MIN_N and not protected else None
    return TextShareRow(key, responses, with_text, share, protected)


def _text_rows(main: Mapping[str, Sequence[int]], keys: Sequence[str]) -> list[TextShareRow]:
    """Free-text shares of the groups: small ones suppressed, secondary ones protected."""
    hide = secondary_suppression({k: main[k][0] for k in keys})
    return [_text_row(k, main[k], k in hide) for k in keys]


# -- statements and free texts ----------------------------------------------------------


def _is_faces(known: Mapping[tuple[str, str], tuple[str, str]], survey: str,
              question: str) -> bool:
    """A face-scale answer: the button kiosk's `faces`, or a survey's smileys question."""
    kind = known.get((survey, question), ("", ""))[0]
    return question == FACES_QUESTION or kind == "smileys"


def _statements(sql: Sql, params: ReportParams, faces: bool = False) -> list[StatementRow]:
    """Likert 1-5 statements per survey and group, and in total over the groups (with
    `faces`: the face scales instead, each its own scale, never mixed into NPS).

    Statements are told apart by survey (the relatives' s1 is not the national s1);
    answers to questions a known survey defines as something else are left out.
    """
    where, values = sql.where(params, params.date_from, params.date_to)
    if sql.agg:
        likert = ", ".join(f"COALESCE(SUM(r.answers) FILTER (WHERE r.value = {i}), 0)"
                           for i in range(1, 6))
        source, q_col, s_col = "report_statements_daily r", "r.question", "r.survey"
    else:
        likert = ", ".join(f"COUNT(*) FILTER (WHERE s.value = {i})" for i in range(1, 6))
        source = "statement_answers s JOIN responses r ON r.id = s.response_id"
        q_col, s_col = "s.question", "r.survey"
    rows = sql.run(f"SELECT {sql.group(params.by)} AS k, {s_col} AS sv, {q_col} AS q, {likert} "
                   f"FROM {source} WHERE {where} GROUP BY k, sv, q", values)
    known = statement_texts(params.lang)
    per: dict[tuple[str, str, str], list[int]] = {}
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 5)
    for key, survey, question, *counts in rows:
        sq = (str(survey), str(question))
        if _is_faces(known, *sq) != faces:
            continue
        if not faces and sq in known and known[sq][0] != "likert":
            continue
        per[(str(key), *sq)] = [int(c) for c in counts]
        add_counts(totals[sq], [int(c) for c in counts])
    # Each statement is one table of groups and its total: protected on its own.
    sizes: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (k, sv, q), c in per.items():
        sizes[(sv, q)][k] = sum(c)
    hide = {sq: secondary_suppression(n) for sq, n in sizes.items()}
    out = [_statement_row(k, sv, q, c, known, k in hide[(sv, q)])
           for (k, sv, q), c in per.items()]
    out += [_statement_row("total", sv, q, c, known) for (sv, q), c in totals.items()]
    # Each statement's groups, then its total.
    out.sort(key=lambda r: (r.survey, _question_order(r.question), r.key == "total", r.key))
    return [row for row in out if row.n > 0]


def _question_order(question: str) -> tuple[str, int]:
    """s2 before s10: the letters, then the number."""
    head = question.rstrip("0123456789")
    tail = question[len(head):]
    return head, int(tail) if tail else -1


def _statement_row(key: str, survey: str, question: str, counts: Sequence[int],
                   known: dict[tuple[str, str], tuple[str, str]], protected: bool = False
                   ) -> StatementRow:
    n = sum(counts)
    label = known.get((survey, question), ("", "" if question == FACES_QUESTION
                                               else question))[1]
    return StatementRow(key, survey, question, label, n,
                        likert_summary(counts) if n >= MIN_N and not protected else None,
                        protected)


@functools.cache
def statement_texts(lang: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(survey id, question id) -> (kind, wording in `lang`) of the shipped surveys."""
    out = {}
    for name in SHIPPED_SURVEYS:
        try:
            survey = load_survey(shipped_survey_path(name))
        except PalauteError as exc:  # a broken shipped file must not stop the report
            log.warning("survey %s not available for statement labels: %s", name, exc)
            continue
        for q in survey.questions.values():
            text = q.text.get(lang) or next(iter(q.text.values()), q.id)
            out[(survey.id, q.id)] = (q.kind, text)
    return out


def _texts_of(answers: object) -> list[str]:
    return [a.text.strip() for _, a in sorted(stored_answers(answers).items())
            if a.text is not None and a.text.strip()]


def _texts(sql: Sql, params: ReportParams, shown: set[str]) -> dict[str, list[FreeText]]:
    """The newest free texts of each shown group (at most max_texts each), newest first.

    One query per group, newest day first, so the (key, local_date) indexes find the
    newest texts without reading the whole period."""
    out: dict[str, list[FreeText]] = {}
    for key in sorted(shown) if params.max_texts > 0 else ():
        if params.by == "month":
            first = date.fromisoformat(key + "-01")
            last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
            where, values = sql.where(params, max(first, params.date_from),
                                      min(last, params.date_to))
        else:
            where, values = sql.where(params, params.date_from, params.date_to)
            where += f" AND r.{params.by} = {sql.p}"
            values.append(key)
        out[key] = _text_query(sql, where, values, params.max_texts)
    return out


def _text_query(sql: Sql, where: str, values: list[Any], limit: int) -> list[FreeText]:
    rows = sql.run(
        f"SELECT r.finished_at, r.answers, r.channel, r.nps FROM responses r "
        f"WHERE r.has_text AND {where} "
        f"ORDER BY r.local_date DESC, r.finished_at DESC, r.id LIMIT {sql.p}",
        [*values, limit])
    return [FreeText(as_time(finished), t, str(channel), None if nps is None else int(nps))
            for finished, answers, channel, nps in rows for t in _texts_of(answers)]


def _pooled_texts(sql: Sql, params: ReportParams, hidden: Mapping[str, int]) -> list[FreeText]:
    """Texts of the groups hidden in the tables, without their group's name: only when
    at least two hidden groups with responses hold MIN_N or more together, so the pool
    never stands for one small group."""
    groups = [k for k, n in hidden.items() if n > 0]
    if params.max_texts <= 0 or len(groups) < 2 or sum(hidden.values()) < MIN_N \
            or params.by == "month":
        return []
    where, values = sql.where(params, params.date_from, params.date_to)
    marks = ", ".join([sql.p] * len(groups))
    where += f" AND r.{params.by} IN ({marks})"
    return _text_query(sql, where, [*values, *sorted(groups)], params.max_texts)


# -- SMS funnel -------------------------------------------------------------------------


def _statuses(sql: Sql) -> list[tuple[str, dict[str, Any], datetime]]:
    rows = sql.run("SELECT device, payload, updated_at FROM device_status ORDER BY device", ())
    out = []
    for device, payload, updated in rows:
        data = from_json(payload)
        out.append((str(device), data if isinstance(data, dict) else {}, as_time(updated)))
    return out


def _devices(sql: Sql, params: ReportParams) -> set[str]:
    """Devices with responses in the period that meet the report's filters."""
    where, values = sql.where(params, params.date_from, params.date_to)
    return {str(r[0]) for r in sql.run(f"SELECT DISTINCT r.device FROM {sql.src} WHERE {where}",
                                       values)}


def _first_responses(sql: Sql, statuses: list[tuple[str, dict[str, Any], datetime]]
                     ) -> dict[str, date]:
    """The local date of the first response of each gateway reporting SMS counters."""
    out = {}
    for device, payload, _ in statuses:
        if isinstance(payload.get("sms"), dict):
            rows = sql.run(f"SELECT MIN(local_date) FROM responses WHERE device = {sql.p}",
                           [device])
            if rows and rows[0][0] is not None:
                out[device] = as_date(rows[0][0])
    return out


def _counter(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _sms_daily(sms: dict[str, Any]) -> dict[date, dict[str, int]]:
    """The daily counters of a gateway status: {"YYYY-MM-DD": {counter: n}}."""
    out = {}
    daily = sms.get("daily")
    for day, counts in (daily.items() if isinstance(daily, dict) else ()):
        try:
            d = date.fromisoformat(str(day))
        except ValueError:
            continue
        if isinstance(counts, dict):
            out[d] = {c: _counter(counts.get(c)) for c in SMS_COUNTERS}
    return out


def _daily_basis(sms: dict[str, Any], daily: dict[date, dict[str, int]], start: date,
                 first_response: date | None) -> str:
    """"period", or "from DAY" when the daily counters begin after `start` and there was
    more before: the cumulative counters say so (a gateway sends its last active days
    only), or the gateway's responses do (its store was replaced, its counters restarted)."""
    oldest = min(daily)
    earlier = any(_counter(sms.get(c)) > sum(v[c] for v in daily.values()) for c in SMS_COUNTERS)
    earlier = earlier or (first_response is not None and first_response < oldest)
    return f"from {oldest.isoformat()}" if earlier and oldest > start else "period"


def sms_funnel(statuses: list[tuple[str, dict[str, Any], datetime]], start: date, end: date,
               first_response: Mapping[str, date] | None = None, shared: bool = False
               ) -> tuple[list[SmsFunnelRow], SmsFunnelRow | None]:
    """Funnel rows of every gateway that reports payload["sms"], and their total.

    `first_response`: the day of each gateway's first response in the central store.
    `shared`: the report is of some units only, while a gateway counts all it serves."""
    rows = []
    for device, payload, _ in statuses:
        sms = payload.get("sms")
        if not isinstance(sms, dict):
            continue
        daily = _sms_daily(sms)
        if daily:
            counts = {c: sum(v[c] for d, v in daily.items() if start <= d <= end)
                      for c in SMS_COUNTERS}
            basis = _daily_basis(sms, daily, start, (first_response or {}).get(device))
            rows.append(SmsFunnelRow(device, basis, counts))
        else:
            rows.append(SmsFunnelRow(device, "cumulative",
                                     {c: _counter(sms.get(c)) for c in SMS_COUNTERS}))
    if not rows:
        return [], None
    hide = secondary_suppression({r.device: r.counts["answered"] for r in rows})
    suffix = ", whole gateway" if shared else ""
    rows = [SmsFunnelRow(r.device, r.basis + suffix, r.counts, protected=r.device in hide)
            for r in rows]
    bases = {r.basis for r in rows}
    total = SmsFunnelRow("total", bases.pop() if len(bases) == 1 else "mixed",
                         {c: sum(r.counts[c] for r in rows) for c in SMS_COUNTERS})
    return rows, total


# -- anomalies --------------------------------------------------------------------------


def _weekly(sql: Sql, params: ReportParams) -> tuple[date, dict[tuple[str, str, int], list[int]]]:
    """(device, unit, week number) -> 0..10 counts, from BASELINE_WEEKS before the period."""
    anchor = params.date_from - timedelta(weeks=BASELINE_WEEKS)
    anchor -= timedelta(days=anchor.weekday())  # weeks start on Monday
    where, values = sql.where(params, anchor, params.date_to)
    rows = sql.run(
        f"SELECT r.device, r.unit, {sql.week()} AS w, r.nps, {sql.count()} FROM {sql.src} "
        f"WHERE {sql.has_nps()} AND {where} GROUP BY r.device, r.unit, w, r.nps",
        [sql.day(anchor), *values])
    out: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0] * 11)
    for device, unit, week, nps, count in rows:
        if 0 <= int(nps) <= 10:
            out[(str(device), str(unit), int(week))][int(nps)] += int(count)
    return anchor, out


def _concentration(sql: Sql, params: ReportParams) -> tuple[list[Anomaly], set[str]]:
    anchor, weekly = _weekly(sql, params)
    devices: dict[str, dict[int, list[int]]] = defaultdict(dict)
    units: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for (device, unit, week), counts in weekly.items():
        # Added, not set: a device moved to another unit has two rows in that week.
        add_counts(devices[device].setdefault(week, [0] * 11), counts)
        add_counts(units[unit].setdefault(week, [0] * 11), counts)

    def series(per: dict[str, dict[int, list[int]]]) -> dict[str, list[tuple[date, list[int]]]]:
        return {e: [(anchor + timedelta(weeks=w), c) for w, c in sorted(ws.items())]
                for e, ws in per.items()}

    s = params.settings
    found = anomalies.concentration("device", series(devices), params.date_from, s)
    found += anomalies.concentration("unit", series(units), params.date_from, s)
    return found, set(devices)


def _bursts(sql: Sql, params: ReportParams) -> list[Anomaly]:
    where, values = sql.where(params, params.date_from, params.date_to)
    minimum = params.settings.burst_min_flagged
    if sql.agg:
        flagged_hours = sql.run(
            f"SELECT r.device, r.hour, SUM(r.flagged) FROM report_flag_hours r WHERE {where} "
            f"GROUP BY r.device, r.hour HAVING SUM(r.flagged) >= {sql.p}", [*values, minimum])
        rows = [(d, h, f, _hour_total(sql, str(d), str(h))) for d, h, f in flagged_hours]
    else:
        flagged = " OR ".join(["CAST(r.flags AS TEXT) LIKE " + sql.p] * len(MISUSE_FLAGS))
        patterns = [f'%"{f}"%' for f in MISUSE_FLAGS]
        rows = sql.run(
            f"SELECT r.device, {sql.hour()} AS h, COUNT(*) FILTER (WHERE {flagged}), COUNT(*) "
            f"FROM responses r WHERE {where} GROUP BY r.device, h "
            f"HAVING COUNT(*) FILTER (WHERE {flagged}) >= {sql.p}",
            [*patterns, *values, *patterns, minimum])
    hours = [HourFlags(str(d), str(h).replace(" ", "T")[:13], int(f), int(t))
             for d, h, f, t in rows]
    return anomalies.bursts(hours, params.settings)


def _hour_total(sql: Sql, device: str, hour: str) -> int:
    """All responses of a device in one UTC hour ("YYYY-MM-DDTHH"), through its date index."""
    start = datetime.fromisoformat(hour + ":00:00+00:00")
    end = start + timedelta(hours=1)
    p = sql.p
    bounds = [start, end] if sql.pg else [iso_utc(start), iso_utc(end)]
    rows = sql.run(
        f"SELECT COUNT(*) FROM responses WHERE device = {p} AND local_date BETWEEN {p} AND {p} "
        f"AND finished_at >= {p} AND finished_at < {p}",
        [device, sql.day(start.date() - timedelta(days=1)), sql.day(end.date() + timedelta(days=1)),
         *bounds])
    return int(rows[0][0])


def _last_response(sql: Sql, device: str) -> datetime | None:
    # Two steps so that the (device, local_date) index answers without a scan.
    p = sql.p
    rows = sql.run(
        f"SELECT MAX(finished_at) FROM responses WHERE device = {p} AND local_date = "
        f"(SELECT MAX(local_date) FROM responses WHERE device = {p})", [device, device])
    return as_time(rows[0][0]) if rows and rows[0][0] is not None else None


def _silent(sql: Sql, params: ReportParams, statuses: list[tuple[str, dict[str, Any], datetime]],
            seen: set[str]) -> list[Anomaly]:
    """Silent devices: those with responses in the report's range and (unfiltered) every
    device that reports a status."""
    last_status: dict[str, datetime | None] = {}
    for device, payload, updated in statuses:
        # An "offline" status is the broker's last will, not a sign of life.
        alive = None if payload.get("online") is False or payload.get("state") == "offline" \
            else updated
        last_seen = payload.get("last_seen")
        if isinstance(last_seen, str):
            try:
                seen_at = as_time(last_seen)
                alive = max(alive, seen_at) if alive else seen_at
            except ValueError:
                pass
        last_status[device] = alive
    devices = set(seen) if params.filters else set(seen) | set(last_status)
    activity = [DeviceActivity(d, last_status.get(d), _last_response(sql, d))
                for d in sorted(devices)]
    return anomalies.silent(activity, params.now, params.settings)


def _drops(sql: Sql, params: ReportParams, statuses: list[tuple[str, dict[str, Any], datetime]]
           ) -> list[Anomaly]:
    s = params.settings
    # Judged on days that are over: a period reaching today or beyond (--to 2025-12-31 in
    # June) would otherwise compare empty days to empty days, or a part day to full ones.
    end = min(params.date_to, local_today(params.now) - timedelta(days=1))
    start = end - timedelta(days=s.rate_recent_days + s.rate_baseline_days - 1)
    where, values = sql.where(params, start, end)
    rows = sql.run(f"SELECT r.device, r.local_date, {sql.count()} FROM {sql.src} "
                   f"WHERE {where} AND r.channel <> 'sms' GROUP BY r.device, r.local_date",
                   values)
    volume: dict[str, dict[date, int]] = defaultdict(dict)
    for device, day, count in rows:
        volume[str(device)][as_date(day)] = int(count)
    found = anomalies.volume_drop(volume, end, s)
    gateways = {}
    for device, payload, _ in statuses:
        sms = payload.get("sms")
        daily = _sms_daily(sms) if isinstance(sms, dict) else {}
        if daily:
            gateways[device] = {d: (c["sent"], c["answered"]) for d, c in daily.items()}
    return found + anomalies.sms_rate_drop(gateways, end, s)


# -- the whole report -------------------------------------------------------------------


def build_report(store: CentralStore, params: ReportParams, *, texts: bool = True,
                 aggregates: bool | None = None, empty_ok: bool = False) -> Report:
    """Query the aggregates and assemble the report (an empty period raises ReportError
    unless `empty_ok`: a monthly page says "no answers" rather than failing).

    `texts`: fetch the free texts (only the HTML shows them). `aggregates`: read the
    daily aggregates (default: when they are installed)."""
    if aggregates is None:
        aggregates = report_daily.installed(store)
    sql = Sql(store, aggregates)
    tables = _tables(sql, params, empty_ok)
    # Texts of a protected free-text row stay hidden too: their number would give the
    # small group's count of texts by subtraction from the total's "with text".
    shown = {g.key for g in tables["groups"] if not g.suppressed} & {
        t.key for t in tables["text_shares"] if t.share is not None}
    statuses = _statuses(sql)
    if params.filters and any(isinstance(st[1].get("sms"), dict) for st in statuses):
        # Not the gateways whose responses in the period were all of other units.
        served, active = _devices(sql, params), _devices(sql, replace(params, filters=()))
        gateways = [st for st in statuses if st[0] in served or st[0] not in active]
    else:
        gateways = statuses
    sms_rows, sms_total = sms_funnel(
        gateways, params.date_from, params.date_to, _first_responses(sql, gateways),
        shared=any(k in ("unit", "area") for k, _ in params.filters))
    found, seen = _concentration(sql, params)
    found += _bursts(sql, params)
    found += _silent(sql, params, statuses, seen)
    found += _drops(sql, params, gateways)
    found += report_origin.query(store, params)
    statements = _statements(sql, params)
    faces = _statements(sql, params, faces=True)
    compared, prev, year = period_comparisons(sql, params, tables["groups"], tables["total"])
    hidden = {g.key: g.n for g in tables["groups"] if g.key not in shown}
    topics = build_topics(sql, params, shown)
    if texts:
        add_examples(sql, params, topics, sorted(shown))
    return Report(
        params=params, statements=statements, faces=faces, topics=topics,
        texts=_texts(sql, params, shown) if texts else {},
        pooled_texts=_pooled_texts(sql, params, hidden) if texts else [],
        sms=sms_rows, sms_total=sms_total, anomalies=found,
        comparisons=compared, previous_period=prev, last_year_period=year,
        target_rows=target_rows(sql, params, tables["groups"], tables["total"], statements),
        **tables)


def local_today(now: datetime) -> date:
    """The Europe/Helsinki calendar date of `now`."""
    return now.astimezone(LOCAL_ZONE).date()


def default_period(now: datetime) -> tuple[date, date]:
    """Twelve calendar months up to today: the start of the month 11 months ago, and today."""
    today = local_today(now)
    y, m = today.year, today.month - 11
    if m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1), today


def last_full_month(now: datetime) -> tuple[date, date]:
    """First and last day of the calendar month before the one `now` is in (local time)."""
    first_this = local_today(now).replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last


def known_units(store: CentralStore) -> list[str]:
    """Every unit the central knows: those of its device registry and those that have sent
    answers, sorted."""
    sql = Sql(store)
    units = {str(r[0]) for r in sql.run("SELECT DISTINCT unit FROM device_registry", [])}
    units |= {str(r[0]) for r in sql.run("SELECT DISTINCT r.unit FROM responses r", [])}
    return sorted(units)


def unit_origin(store: CentralStore, unit: str) -> tuple[str, str] | None:
    """(site, area) of a unit from the registry (else from its newest answer), or None."""
    sql = Sql(store)
    p = sql.p
    rows = sql.run(f"SELECT site, area FROM device_registry WHERE unit = {p} "
                   f"ORDER BY updated_at DESC LIMIT 1", [unit])
    if not rows:
        rows = sql.run(f"SELECT site, area FROM responses WHERE unit = {p} "
                       f"ORDER BY local_date DESC LIMIT 1", [unit])
    return (str(rows[0][0]), str(rows[0][1])) if rows else None
