"""Renderers of a Report: a text table, CSV and JSON here; HTML and PDF in report_html.

Renderers only format: suppression of small groups is already in the Report, so
every format shows "<5" (and nothing more) for the same groups, and for the groups
protected so that a small group cannot be worked out from the total, their n with a
mark (PROTECTED_MARK) and a footnote (JSON: n, nulls, and the "protected" lists).

Every text a reader sees comes from the message catalogue of the report's language
(central.i18n): section titles, column headers, notes, chart labels and anomaly
sentences. Number format: the HTML and PDF are read by people, so in fi and sv they
write a decimal comma and group thousands as the counties do ("NPS 73,6, N = 112 224").
JSON and CSV are for machines and keep the decimal point (CSV: comma-separated, UTF-8,
headers in the report's language; in Finnish Excel import it with Data > From
Text/CSV, delimiter comma, locale English); so does the terminal table.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from central import report_topics
from central.i18n import Lang
from central.report_model import (
    MIN_N,
    SMS_COUNTERS,
    SUPPRESSED,
    Comparison,
    Figures,
    GroupRow,
    Report,
    SmsFunnelRow,
    TargetRow,
    TrendPoint,
)
from survey.labels import smiley_labels

FORMATS = ("table", "csv", "json", "html", "pdf")
DASH = "–"
PROTECTED_MARK = "†"
CHANNELS = ("kiosk", "kiosk-audio", "sms")
SMS_COUNTER_LABELS = {
    "invited": "invited", "sent": "sent", "delivered": "delivered", "answered": "answered",
    "completed": "completed", "opted_out": "opted out", "expired": "expired",
    "rested": "rested",
}
GROUP_LABELS = {"area": "area", "unit": "unit", "device": "device", "channel": "channel",
                "month": "month"}


def protected_note(tr: Lang) -> str:
    """The footnote of rows marked PROTECTED_MARK."""
    return PROTECTED_MARK + " " + tr.t(
        "also hidden so that a small group cannot be worked out from the total")


def _num(value: float | None, places: int = 1) -> str:
    # + 0.0 turns a rounded -0.0 (an NPS of -0.04) into 0.0: no sign on zero.
    return DASH if value is None else f"{value + 0.0:.{places}f}"


def _n(count: int) -> str:
    return str(count) if count >= MIN_N or count == 0 else SUPPRESSED


def _marked(count: int) -> str:
    """The n of a protected row: real, with the footnote mark."""
    return f"{count}{PROTECTED_MARK}"


def has_mark(rows: Iterable[Sequence[str]]) -> bool:
    """Whether a table has a protected row (and so needs the footnote)."""
    return any(c.endswith(PROTECTED_MARK) for row in rows for c in row)


def row_key(key: str, tr: Lang) -> str:
    """A group key in a table: the key itself (a code, as in the data), "total" translated.
    The HTML page names codes for people (key_label)."""
    return tr.t("total") if key == "total" else key


def key_label(report: Report, key: str, tr: Lang) -> str:
    """A group key as a reader of the page should see it: "total" translated, a month
    named, a channel named, a code by its registered name when there is one."""
    by = report.params.by
    if key == "total":
        return tr.t("total")
    if by == "month" and re.fullmatch(r"\d{4}-\d{2}", key):
        return tr.month(key)
    if by == "channel" and key in CHANNELS:
        return channel_label(key, tr)
    return report.params.names.get(key, key)


def channel_label(channel: str, tr: Lang) -> str:
    """A channel's name in the report's language."""
    return {"kiosk": tr.t("kiosk"), "kiosk-audio": tr.t("kiosk, audio mode"),
            "sms": tr.t("SMS")}.get(channel, channel)


def group_label(report: Report, tr: Lang) -> str:
    """The name of the grouping column ("area", "unit", …) in the report's language."""
    return tr.t(GROUP_LABELS[report.params.by])


def title(report: Report, tr: Lang) -> str:
    """The heading: what the report covers and its period, in the report's language."""
    p = report.params
    names = dict(p.filters)
    parts = [p.names.get(names[k], names[k]) for k in ("unit", "area", "device", "channel")
             if k in names]
    if p.origin is not None and "unit" in names:
        site, area = p.origin
        parts.append(f"{p.names.get(area, area)}, {p.names.get(site, site)}")
    what = ", ".join(parts) if parts else tr.t("all responses")
    return tr.t("Feedback report: {what}, {start} – {end}", what=what,
                start=tr.day(p.date_from), end=tr.day(p.date_to))


# -- sections as rows of strings (shared by table, CSV and HTML) ----------------------


def nps_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the main table: n, counts 0..10, mean, NPS; suppressed as "<5"."""
    header = [group_label(report, tr), "n", *(str(i) for i in range(11)), tr.t("mean"), "NPS"]
    rows = []
    for g in [*report.groups, report.total]:
        s = g.summary
        key = row_key(g.key, tr)
        if s is None:
            n = _marked(g.n) if g.protected else _n(g.n)
            rows.append([key, n, *([DASH] * 11), DASH, DASH])
        else:
            rows.append([key, str(s.n), *(str(c) for c in s.counts), _num(s.mean, 2),
                         _num(s.nps)])
    return header, rows


def share_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the shares (percent) of each answer 0..10."""
    header = [group_label(report, tr), "n", *(f"{i} %" for i in range(11))]
    rows = []
    for g in [*report.groups, report.total]:
        s = g.summary
        key = row_key(g.key, tr)
        n = _marked(g.n) if g.protected else _n(g.n)
        rows.append([key, n, *([DASH] * 11)] if s is None
                    else [key, str(s.n), *(_num(x) for x in s.shares)])
    return header, rows


def _fig_cells(f: Figures) -> list[str]:
    if f.protected:
        return [_marked(f.n), DASH, DASH]
    if not f.shown:
        return [_n(f.n), DASH, DASH]
    return [str(f.n), _num(f.nps), _num(f.mean, 2)]


def _signed(value: float | None) -> str:
    return DASH if value is None else f"{value + 0.0:+.1f}"


def comparison_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Each group now, in the previous period and a year before, with the NPS changes."""
    prev = _period_label(report.previous_period, tr)
    year = _period_label(report.last_year_period, tr)
    header = [group_label(report, tr), "n", "NPS", tr.t("mean"),
              f"n ({prev})", f"NPS ({prev})", f"{tr.t('mean')} ({prev})", tr.t("change"),
              f"n ({year})", f"NPS ({year})", f"{tr.t('mean')} ({year})", tr.t("change")]
    rows = []
    for c in report.comparisons:
        rows.append([row_key(c.key, tr), *_fig_cells(c.now),
                     *_fig_cells(c.previous), _signed(Comparison.change(c.now, c.previous)),
                     *_fig_cells(c.last_year), _signed(Comparison.change(c.now, c.last_year))])
    return header, rows


def _period_label(period: tuple[date, date] | None, tr: Lang) -> str:
    if period is None:
        return DASH
    start, end = period
    if start.day == 1 and start.month == end.month and start.year == end.year:
        return tr.month(start.isoformat()[:7])
    return f"{tr.day(start)}–{tr.day(end)}"


def target_measure_label(row: TargetRow, tr: Lang) -> str:
    """What a target measures, in words: "NPS", "s1: share of 5s %", …"""
    t = row.target
    if t.measure == "nps":
        return "NPS"
    what = {"top": tr.t("share of 5s %"), "agree": tr.t("agree (4-5) %"),
            "mean": tr.t("mean")}[t.measure]
    return f"{t.question}: {what}"


def target_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Each target that applies, the figure it is measured against, and met or not."""
    header = [group_label(report, tr), tr.t("measure"), "n", tr.t("target"), tr.t("result"),
              tr.t("met")]
    rows = []
    for r in report.target_rows:
        places = 2 if r.target.measure == "mean" else 1
        met = DASH if r.met is None else tr.t("yes") if r.met else tr.t("no")
        n = _n(r.n) if r.actual is None else str(r.n)
        rows.append([row_key(r.key, tr), target_measure_label(r, tr), n,
                     _num(r.target.value, places), _num(r.actual, places), met])
    return header, rows


def _point(p: TrendPoint) -> str:
    if p.protected:
        return DASH + PROTECTED_MARK
    return SUPPRESSED if 0 < p.n < MIN_N else _num(p.nps)


def trend_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Monthly NPS per group and in total, with the rolling 30-day NPS at the period's end."""
    header = [group_label(report, tr), *(tr.month(m) for m in report.months), tr.t("30 days")]
    rows = [[row_key(t.key, tr), *(_point(p) for p in t.months), _point(t.rolling)]
            for t in [*report.trend, report.trend_total]]
    rows.append([tr.t("n (total)"), *(_n(p.n) for p in report.trend_total.months),
                 _n(report.trend_total.rolling.n)])
    return header, rows


def rolling_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """The total's rolling 30-day NPS at each month's end and on the last day."""
    points = report.rolling
    picked = [p for i, p in enumerate(points)
              if i + 1 == len(points) or points[i + 1].label[:7] != p.label[:7]]
    return ([tr.t("30 days ending"), "n", "NPS"],
            [[tr.day(date.fromisoformat(p.label)), _n(p.n), _point(p)] for p in picked])


def statement_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Statements: n, the share of each answer 1-5, share of 5s, share 4-5 and mean."""
    header = [tr.t("survey"), tr.t("statement"), group_label(report, tr), "n",
              *(f"{i} %" for i in range(1, 6)), tr.t("share of 5s %"), tr.t("agree (4-5) %"),
              tr.t("mean")]
    rows = []
    for s in report.statements:
        head = [s.survey, f"{s.question}: {s.label}", row_key(s.key, tr)]
        if s.summary is None:
            rows.append([*head, _marked(s.n) if s.protected else SUPPRESSED, *([DASH] * 8)])
        else:
            sm = s.summary
            shares = sm.shares or (None,) * 5
            rows.append([*head, str(s.n), *(_num(x) for x in shares), _num(sm.top_share),
                         _num(sm.agree_share), _num(sm.mean, 2)])
    return header, rows


def face_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Face scales: n, the share of each face (saddest first) and of the two happiest."""
    faces = smiley_labels(tr.code if tr.code in ("fi", "sv", "en") else "en", 5)
    header = [tr.t("question"), group_label(report, tr), "n",
              *(f"{i + 1} {label} %" for i, label in enumerate(faces)),
              tr.t("two happiest %")]
    rows = []
    for s in report.faces:
        head = [f"{s.survey}: {s.label}" if s.label else s.survey, row_key(s.key, tr)]
        if s.summary is None:
            rows.append([*head, _marked(s.n) if s.protected else SUPPRESSED, *([DASH] * 6)])
        else:
            shares = s.summary.shares or (None,) * 5
            rows.append([*head, str(s.n), *(_num(x) for x in shares),
                         _num(s.summary.agree_share)])
    return header, rows


def text_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Share of responses with free text per group."""
    header = [group_label(report, tr), tr.t("responses"), tr.t("with text"), tr.t("share %")]
    rows = [[row_key(t.key, tr), _marked(t.responses) if t.protected else SUPPRESSED,
             DASH, DASH]
            if t.share is None else [row_key(t.key, tr), str(t.responses),
                                     str(t.with_text), _num(t.share)]
            for t in report.text_shares]
    return header, rows


def _basis(basis: str, tr: Lang) -> str:
    """A funnel row's basis ("period", "from DAY", "cumulative", ", whole gateway")."""
    whole = basis.endswith(", whole gateway")
    core = basis.removesuffix(", whole gateway")
    if core.startswith("from "):
        text = tr.t("from {day}", day=tr.day(date.fromisoformat(core[5:])))
    else:
        text = {"period": tr.t("period"), "cumulative": tr.t("cumulative"),
                "mixed": tr.t("mixed")}.get(core, core)
    return text + (", " + tr.t("whole gateway") if whole else "")


def sms_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """The SMS funnel per gateway and in total."""
    header = [tr.t("gateway"), tr.t("basis"), *(tr.t(SMS_COUNTER_LABELS[c]) for c in SMS_COUNTERS),
              tr.t("response rate %"), tr.t("completion rate %")]
    rows = []
    funnel: list[SmsFunnelRow] = [*report.sms, *([report.sms_total] if report.sms_total else [])]
    for r in funnel:
        cells = funnel_cells(r)
        rows.append([tr.t("total") if r.device == "total" else r.device, _basis(r.basis, tr),
                     *(str(cells[c]) if cells[c] is not None else DASH for c in SMS_COUNTERS),
                     _num(r.response_rate), _num(r.completion_rate)])
    return header, rows


def funnel_cells(r: SmsFunnelRow) -> dict[str, int | str | None]:
    """Counters as shown: answered "<5" and completed hidden under MIN_N answered;
    completed hidden (answered marked) when protected."""
    cells: dict[str, int | str | None] = dict(r.counts)
    if r.suppressed:
        cells["answered"], cells["completed"] = SUPPRESSED, None
    elif r.protected:
        cells["answered"], cells["completed"] = _marked(r.counts["answered"]), None
    return cells


ANOMALY_SENTENCES = {
    "concentration": "{subject}: {share} % of answers were {value} in the week of {week}, "
                     "against {baseline_share} % before",
    "burst": "{subject}: {flagged} of {total} responses flagged as misuse in the hour "
             "{worst_hour} UTC ({hours} such hours)",
    "silent": "{subject}: silent for {hours_silent} hours (limit {limit_hours})",
    "rate_drop": "{subject}: SMS response rate {recent_rate} % in the last days "
                 "({recent_from} – {recent_to}), against {baseline_rate} % before",
    "volume_drop": "{subject}: {recent_per_day} responses a day in the last days "
                   "({recent_from} – {recent_to}), against {baseline_per_day} before",
}
ANOMALY_SENTENCES["quarantine_full"] = (
    "{subject}: {dropped} refused messages not kept on the days {days}: its daily "
    "quarantine limit was reached")
# What the receiver flagged against the device registry (central/report_origin.py).
ANOMALY_SENTENCES |= {
    "origin_mismatch": "{subject}: {responses} responses claimed another origin ({claimed}) "
                       "and were filed under the device's registered one",
    "clock_suspect": "{subject}: {responses} responses have times before the device's "
                     "enrolment or in the future",
    "origin_unregistered": "{subject}: {responses} responses from a device not in the registry "
                           "were filed where they say",
}
ANOMALY_KINDS = {"concentration": "one value stands out", "burst": "burst of presses",
                 "silent": "silent device", "rate_drop": "SMS response rate drop",
                 "volume_drop": "fewer responses", "quarantine_full": "quarantine full",
                 "origin_mismatch": "another origin claimed", "clock_suspect": "suspect times",
                 "origin_unregistered": "device not registered"}
# The evidence behind an anomaly, named for a reader of the page.
EVIDENCE_LABELS = {
    "value": "value", "week": "week", "n": "answers", "count": "answers of the value",
    "share": "share %", "baseline_n": "answers before", "baseline_count":
    "answers of the value before", "baseline_share": "share before %",
    "weeks_affected": "weeks affected", "worst_hour": "worst hour", "flagged": "flagged",
    "total": "responses", "hours": "hours", "flagged_in_burst_hours": "flagged in those hours",
    "hours_silent": "hours silent", "last_status": "last status", "last_response":
    "last response", "limit_hours": "limit (hours)", "recent_from": "recent from",
    "recent_to": "recent to", "recent_sent": "sent recently", "recent_answered":
    "answered recently", "recent_rate": "recent rate %", "baseline_from": "compared from",
    "baseline_sent": "sent before", "baseline_answered": "answered before",
    "baseline_rate": "rate before %", "recent_responses": "responses recently",
    "recent_per_day": "a day recently", "baseline_responses": "responses before",
    "baseline_per_day": "a day before", "days": "days", "dropped": "not kept", "kept": "kept",
    "responses": "responses", "claimed": "claimed origin",
}


def evidence_label(key: str, tr: Lang) -> str:
    """An evidence key as the page names it (the key itself when it has no name)."""
    return tr.t(EVIDENCE_LABELS[key]) if key in EVIDENCE_LABELS else key


def anomaly_kind(kind: str, tr: Lang) -> str:
    """The name of an anomaly kind in the report's language."""
    return tr.t(ANOMALY_KINDS[kind]) if kind in ANOMALY_KINDS else kind


def anomaly_sentence(kind: str, subject: str, evidence: dict[str, object], fallback: str,
                     tr: Lang) -> str:
    """An anomaly as a sentence in the report's language (its English summary when the
    kind has no sentence of its own)."""
    template = ANOMALY_SENTENCES.get(kind)
    if template is None:
        return fallback
    what, _, name = subject.partition(" ")
    fields: dict[str, object] = {
        k: tr.num(v, 1) if isinstance(v, float) else v for k, v in evidence.items()}
    fields["subject"] = f"{tr.t(what)} {name}" if name else subject
    try:
        return tr.t(template, **fields)
    except (KeyError, IndexError):
        return fallback


def anomaly_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Anomalies with their evidence as key=value pairs."""
    header = [tr.t("kind"), tr.t("subject"), tr.t("finding"), tr.t("evidence")]
    rows = [[anomaly_kind(a.kind, tr), a.subject,
             anomaly_sentence(a.kind, a.subject, a.evidence, a.summary, tr),
             ", ".join(f"{k}={v}" for k, v in a.evidence.items())] for a in report.anomalies]
    return header, rows


Rows = Callable[[Report, Lang], tuple[list[str], list[list[str]]]]
def topic_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Topics of free text per group, top first (central.report_topics)."""
    if report.topics is None:
        return [], []
    return report_topics.topic_table(report.topics, tr.code, tr.t, lambda k: row_key(k, tr))


def tone_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Tone shares of free text per group."""
    if report.topics is None:
        return [], []
    return report_topics.tone_table(report.topics, tr.t, lambda k: row_key(k, tr))


def topic_trend_rows(report: Report, tr: Lang) -> tuple[list[str], list[list[str]]]:
    """Share of the top topics in each of the last 13 months."""
    if report.topics is None:
        return [], []
    return report_topics.trend_table(report.topics, tr.code, tr.t, lambda m: m)


SECTIONS: tuple[tuple[str, Rows], ...] = (
    ("NPS", nps_rows), ("Shares of answers", share_rows),
    ("Comparison", comparison_rows), ("Targets", target_rows), ("Monthly NPS", trend_rows),
    ("Rolling 30-day NPS", rolling_rows), ("Statements", statement_rows),
    ("Faces", face_rows),
    ("Free text", text_rows), ("Topics of free text", topic_rows),
    ("Tone of free text", tone_rows), ("Topics by month", topic_trend_rows),
    ("SMS funnel", sms_rows), ("Anomalies", anomaly_rows),
)


# -- table ------------------------------------------------------------------------------


_FIGURE = re.compile(r"^([-+]?[\d.]+|<5|–|)†?$")


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    # Figures align right, words (keys, statements) left.
    right = [i > 0 and all(_FIGURE.match(r[i]) for r in rows) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def suppression_note(tr: Lang) -> str:
    """The note on suppression, as the table and the page say it."""
    return tr.t("Groups with fewer than {min_n} answers are shown as {mark}; groups marked "
                "{protected} show only their n, so that a small group cannot be worked out "
                "from the total.", min_n=MIN_N, mark=SUPPRESSED, protected=PROTECTED_MARK)


def render_table(report: Report, tr: Lang) -> str:
    """Plain text for a terminal: every section as aligned columns."""
    out = [f"{title(report, tr)} ({tr.t('by')} {group_label(report, tr)})",
           suppression_note(tr)]
    for name, rows_of in SECTIONS:
        header, rows = rows_of(report, tr)
        if name in ("Comparison", "Targets") and not rows:
            continue
        out += ["", tr.t(name)]
        if name == "Anomalies":
            out += [f"- {r[2]}\n    {tr.t('evidence')}: {r[3]}" for r in rows] \
                or [tr.t("(none found)")]
        else:
            out += _aligned(header, rows) if rows else [tr.t("(none)")]
            out += [protected_note(tr)] if has_mark(rows) else []
    return "\n".join(out) + "\n"


# -- CSV ----------------------------------------------------------------------------------


def render_csv(report: Report, tr: Lang) -> str:
    """Every section as a CSV table, each headed by a row naming the section."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for i, (name, rows_of) in enumerate(SECTIONS):
        header, rows = rows_of(report, tr)
        if i:
            w.writerow([])
        w.writerow([f"# {tr.t(name)}"])
        w.writerow(header)
        w.writerows(rows)
        if has_mark(rows):
            w.writerow([protected_note(tr)])
    return buf.getvalue()


# -- JSON ---------------------------------------------------------------------------------


def _funnel_json(r: SmsFunnelRow) -> dict[str, Any]:
    cells = funnel_cells(r)
    if r.protected:
        cells["answered"] = r.counts["answered"]  # the real n, as in the other sections
    return {"device": r.device, "basis": r.basis, **cells,
            "response_rate": r.response_rate, "completion_rate": r.completion_rate}


def protected_json(report: Report) -> dict[str, Any]:
    """Per section, the keys of rows hidden so that a small group cannot be derived."""
    months: dict[str, list[str]] = {m: [] for m in report.months}
    rolling: list[str] = []
    for t in report.trend:
        for p in t.months:
            if p.protected:
                months[p.label].append(t.key)
        if t.rolling.protected:
            rolling.append(t.key)
    statements: dict[tuple[str, str], list[str]] = {}
    for s in report.statements:
        if s.protected:
            statements.setdefault((s.survey, s.question), []).append(s.key)
    return {
        "groups": [g.key for g in report.groups if g.protected],
        "trend": {"months": {m: keys for m, keys in months.items() if keys},
                  "rolling_30d": rolling},
        "statements": [{"survey": sv, "question": q, "keys": keys}
                       for (sv, q), keys in statements.items()],
        "free_text": [t.key for t in report.text_shares if t.protected],
        "sms_funnel": [r.device for r in report.sms if r.protected],
    }


def _figures_json(f: Figures) -> dict[str, Any]:
    return {"n": f.n if f.shown or f.protected or f.n == 0 else SUPPRESSED,
            "nps": f.nps if f.shown else None, "mean": f.mean if f.shown else None}


def _period_json(period: tuple[date, date] | None) -> dict[str, str] | None:
    return None if period is None else {"from": period[0].isoformat(),
                                        "to": period[1].isoformat()}


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON data: groups and total (key, n, counts, mean, nps) and sections."""
    p = report.params
    return {
        "period": {"from": p.date_from.isoformat(), "to": p.date_to.isoformat(), "by": p.by,
                   "filters": dict(p.filters)},
        "lang": p.lang,
        "min_n": MIN_N,
        "groups": [g.as_json() for g in report.groups],
        "total": report.total.as_json(),
        "comparison": {
            "previous_period": _period_json(report.previous_period),
            "last_year_period": _period_json(report.last_year_period),
            "rows": [{"key": c.key, "now": _figures_json(c.now),
                      "previous": _figures_json(c.previous),
                      "last_year": _figures_json(c.last_year),
                      "change_previous": Comparison.change(c.now, c.previous),
                      "change_last_year": Comparison.change(c.now, c.last_year)}
                     for c in report.comparisons]},
        "targets": [{"key": r.key, "measure": r.target.measure, "question": r.target.question,
                     "target": r.target.value, "scope": r.target.scope or "all",
                     "scope_key": r.target.scope_key or None,
                     "n": r.n if r.actual is not None or r.n == 0 else SUPPRESSED,
                     "actual": r.actual, "met": r.met} for r in report.target_rows],
        "trend": {
            "months": report.months,
            "rows": [{"key": t.key, "months": [m.as_json() for m in t.months],
                      "rolling_30d": t.rolling.as_json()}
                     for t in [*report.trend, report.trend_total]],
        },
        "rolling_30d": [p.as_json() for p in report.rolling],
        "statements": [{"key": s.key, "survey": s.survey, "question": s.question,
                        "label": s.label,
                        "n": s.n if s.summary or s.protected else SUPPRESSED,
                        "shares": list(s.summary.shares) if s.summary else None,
                        "top_share": s.summary.top_share if s.summary else None,
                        "mean": s.summary.mean if s.summary else None,
                        "agree_share": s.summary.agree_share if s.summary else None}
                       for s in report.statements],
        "faces": [{"key": s.key, "survey": s.survey, "question": s.question,
                   "n": s.n if s.summary or s.protected else SUPPRESSED,
                   "shares": list(s.summary.shares) if s.summary else None,
                   "happy_share": s.summary.agree_share if s.summary else None}
                  for s in report.faces],
        "free_text": [{"key": t.key,
                       "responses": t.responses if t.share is not None or t.protected
                       else SUPPRESSED,
                       "with_text": t.with_text if t.share is not None else None,
                       "share": t.share} for t in report.text_shares],
        "sms_funnel": {"gateways": [_funnel_json(r) for r in report.sms],
                       "total": _funnel_json(report.sms_total) if report.sms_total else None},
        "topics": report_topics.section_json(report.topics) if report.topics else None,
        "anomalies": [a.as_dict() for a in report.anomalies],
        "protected": protected_json(report),
    }


def render_json(report: Report) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"


def headline_figures(total: GroupRow) -> tuple[float | None, int, float | None]:
    """(NPS, n, mean) of the total for a headline; NPS None when suppressed."""
    s = total.summary
    return (s.nps, s.n, s.mean) if s else (None, total.n, None)


def render(report: Report, fmt: str, generated_at: str = "",
           tr: Lang | None = None) -> str:
    """The report in one of FORMATS but pdf (see report_html.render_pdf), as text."""
    tr = tr or Lang(report.params.lang)
    if fmt == "table":
        return render_table(report, tr)
    if fmt == "csv":
        return render_csv(report, tr)
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        from central.report_html import render_html

        return render_html(report, tr, generated_at)
    raise ValueError(f"unknown format {fmt!r}")
