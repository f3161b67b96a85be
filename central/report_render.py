"""Renderers of a Report: a text table, CSV, JSON and one self-contained HTML file.

Renderers only format: suppression of small groups is already in the Report, so
every format shows "<5" (and nothing more) for the same groups, and for the groups
protected so that a small group cannot be worked out from the total, their n with a
mark (PROTECTED_MARK) and a footnote (JSON: n, nulls, and the "protected" lists).
The HTML embeds its CSS and its chart (a PNG made with matplotlib's Agg backend,
base64) so it reads offline and prints cleanly.

Number format: the HTML is read (and copied into spreadsheets) by people, so with
--lang fi or sv its tables and headline write a decimal comma as the counties do
("NPS 73,6"; a pasted "1.5" would become the 1st of May in Finnish Excel). JSON and CSV
are for machines and keep the decimal point (CSV: comma-separated, UTF-8; in Finnish
Excel import it with Data > From Text/CSV, delimiter comma, locale English); so does
the terminal table. Anomaly evidence is shown as recorded.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from central.report_model import (
    LOCAL_ZONE,
    MIN_N,
    SMS_COUNTERS,
    SUPPRESSED,
    GroupRow,
    Report,
    SmsFunnelRow,
    TrendPoint,
)

FORMATS = ("table", "csv", "json", "html")
DASH = "–"
PROTECTED_MARK = "†"
PROTECTED_NOTE = (f"{PROTECTED_MARK} also hidden so that a small group cannot be worked out "
                  "from the total")
CHART_GROUPS = 8  # lines in the trend chart besides the total (the largest groups)
DECIMAL_COMMA_LANGS = ("fi", "sv")  # HTML languages whose readers write "73,6"
_DECIMAL = re.compile(r"^(-?\d+)\.(\d+)$")


def _num(value: float | None, places: int = 1) -> str:
    # + 0.0 turns a rounded -0.0 (an NPS of -0.04) into 0.0: no sign on zero.
    return DASH if value is None else f"{value + 0.0:.{places}f}"


def _n(count: int) -> str:
    return str(count) if count >= MIN_N or count == 0 else SUPPRESSED


def _marked(count: int) -> str:
    """The n of a protected row: real, with the footnote mark."""
    return f"{count}{PROTECTED_MARK}"


def _has_mark(rows: Iterable[Sequence[str]]) -> bool:
    return any(c.endswith(PROTECTED_MARK) for row in rows for c in row)


# -- sections as rows of strings (shared by table, CSV and HTML) ----------------------


def nps_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the main table: n, counts 0..10, mean, NPS; suppressed as "<5"."""
    header = [report.params.by, "n", *(str(i) for i in range(11)), "mean", "NPS"]
    rows = []
    for g in [*report.groups, report.total]:
        s = g.summary
        if s is None:
            n = _marked(g.n) if g.protected else _n(g.n)
            rows.append([g.key, n, *([DASH] * 11), DASH, DASH])
        else:
            rows.append([g.key, str(s.n), *(str(c) for c in s.counts), _num(s.mean, 2),
                         _num(s.nps)])
    return header, rows


def share_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the shares (percent) of each answer 0..10."""
    header = [report.params.by, "n", *(f"{i} %" for i in range(11))]
    rows = []
    for g in [*report.groups, report.total]:
        s = g.summary
        n = _marked(g.n) if g.protected else _n(g.n)
        rows.append([g.key, n, *([DASH] * 11)] if s is None
                    else [g.key, str(s.n), *(_num(x) for x in s.shares)])
    return header, rows


def _point(p: TrendPoint) -> str:
    if p.protected:
        return DASH + PROTECTED_MARK
    return SUPPRESSED if 0 < p.n < MIN_N else _num(p.nps)


def trend_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Monthly NPS per group and in total, with the rolling 30-day NPS at the period's end."""
    header = [report.params.by, *report.months, "30 days"]
    rows = [[t.key, *(_point(p) for p in t.months), _point(t.rolling)]
            for t in [*report.trend, report.trend_total]]
    return header, rows


def rolling_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """The total's rolling 30-day NPS at each month's end and on the last day."""
    points = report.rolling
    picked = [p for i, p in enumerate(points)
              if i + 1 == len(points) or points[i + 1].label[:7] != p.label[:7]]
    return ["30 days ending", "n", "NPS"], [[p.label, _n(p.n), _point(p)] for p in picked]


def statement_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Statements: mean 1-5, n and share agreeing (4-5) per statement per group."""
    header = ["survey", "id", "statement", report.params.by, "n", "mean", "agree %"]
    rows = []
    for s in report.statements:
        head = [s.survey, s.question, s.label, s.key]
        if s.summary is None:
            rows.append([*head, _marked(s.n) if s.protected else SUPPRESSED, DASH, DASH])
        else:
            rows.append([*head, str(s.n), _num(s.summary.mean, 2), _num(s.summary.agree_share)])
    return header, rows


def text_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Share of responses with free text per group."""
    header = [report.params.by, "responses", "with text", "share %"]
    rows = [[t.key, _marked(t.responses) if t.protected else SUPPRESSED, DASH, DASH]
            if t.share is None else [t.key, str(t.responses), str(t.with_text), _num(t.share)]
            for t in report.text_shares]
    return header, rows


def sms_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """The SMS funnel per gateway and in total."""
    header = ["gateway", "basis", *SMS_COUNTERS, "response rate %", "completion rate %"]
    rows = []
    funnel: list[SmsFunnelRow] = [*report.sms, *([report.sms_total] if report.sms_total else [])]
    for r in funnel:
        cells = _funnel_cells(r)
        rows.append([r.device, r.basis, *(str(cells[c]) if cells[c] is not None else DASH
                                           for c in SMS_COUNTERS),
                     _num(r.response_rate), _num(r.completion_rate)])
    return header, rows


def _funnel_cells(r: SmsFunnelRow) -> dict[str, int | str | None]:
    """Counters as shown: answered "<5" and completed hidden under MIN_N answered;
    completed hidden (answered marked) when protected."""
    cells: dict[str, int | str | None] = dict(r.counts)
    if r.suppressed:
        cells["answered"], cells["completed"] = SUPPRESSED, None
    elif r.protected:
        cells["answered"], cells["completed"] = _marked(r.counts["answered"]), None
    return cells


def anomaly_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Anomalies with their evidence as key=value pairs."""
    header = ["kind", "subject", "finding", "evidence"]
    rows = [[a.kind, a.subject, a.summary,
             ", ".join(f"{k}={v}" for k, v in a.evidence.items())] for a in report.anomalies]
    return header, rows


SECTIONS = (
    ("NPS", nps_rows), ("Shares of answers", share_rows), ("Monthly NPS", trend_rows),
    ("Rolling 30-day NPS", rolling_rows), ("Statements", statement_rows),
    ("Free text", text_rows), ("SMS funnel", sms_rows), ("Anomalies", anomaly_rows),
)


# -- table ------------------------------------------------------------------------------


_FIGURE = re.compile(r"^(-?[\d.]+|<5|–|)†?$")


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    # Figures align right, words (keys, statements) left.
    right = [i > 0 and all(_FIGURE.match(r[i]) for r in rows) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    return [line(header), *(line(r) for r in rows)]


def render_table(report: Report) -> str:
    """Plain text for a terminal: every section as aligned columns."""
    out = [f"{report.title} (by {report.params.by})",
           f"Groups with fewer than {MIN_N} answers are shown as {SUPPRESSED}; groups marked "
           f"{PROTECTED_MARK} show only their n, so that a small group cannot be worked out "
           "from the total."]
    for title, rows_of in SECTIONS:
        header, rows = rows_of(report)
        out += ["", title]
        if title == "Anomalies":
            out += [f"- {r[2]}\n    evidence: {r[3]}" for r in rows] or ["(none found)"]
        else:
            out += _aligned(header, rows) if rows else ["(none)"]
            out += [PROTECTED_NOTE] if _has_mark(rows) else []
    return "\n".join(out) + "\n"


# -- CSV ----------------------------------------------------------------------------------


def render_csv(report: Report) -> str:
    """Every section as a CSV table, each headed by a row naming the section."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for i, (title, rows_of) in enumerate(SECTIONS):
        header, rows = rows_of(report)
        if i:
            w.writerow([])
        w.writerow([f"# {title}"])
        w.writerow(header)
        w.writerows(rows)
        if _has_mark(rows):
            w.writerow([PROTECTED_NOTE])
    return buf.getvalue()


# -- JSON ---------------------------------------------------------------------------------


def _funnel_json(r: SmsFunnelRow) -> dict[str, Any]:
    cells = _funnel_cells(r)
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


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON data: groups and total (key, n, counts, mean, nps) and sections."""
    p = report.params
    return {
        "period": {"from": p.date_from.isoformat(), "to": p.date_to.isoformat(), "by": p.by,
                   "filters": dict(p.filters)},
        "min_n": MIN_N,
        "groups": [g.as_json() for g in report.groups],
        "total": report.total.as_json(),
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
                        "mean": s.summary.mean if s.summary else None,
                        "agree_share": s.summary.agree_share if s.summary else None}
                       for s in report.statements],
        "free_text": [{"key": t.key,
                       "responses": t.responses if t.share is not None or t.protected
                       else SUPPRESSED,
                       "with_text": t.with_text if t.share is not None else None,
                       "share": t.share} for t in report.text_shares],
        "sms_funnel": {"gateways": [_funnel_json(r) for r in report.sms],
                       "total": _funnel_json(report.sms_total) if report.sms_total else None},
        "anomalies": [a.as_dict() for a in report.anomalies],
        "protected": protected_json(report),
    }


def render_json(report: Report) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"


# -- the chart ------------------------------------------------------------------------------


def chart_png(report: Report) -> bytes:
    """Monthly NPS per group (the largest few) and in total, and the rolling 30-day NPS."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 6.2), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    x = list(range(len(report.months)))
    largest = sorted(report.trend, key=lambda t: -sum(p.n for p in t.months))[:CHART_GROUPS]
    for t in sorted(largest, key=lambda t: t.key):
        top.plot(x, _series(t.months), marker="o", linewidth=1.2, label=t.key)
    top.plot(x, _series(report.trend_total.months), marker="o", linewidth=2.6, color="black",
             label="total")
    top.set_xticks(x, report.months, rotation=45, ha="right", fontsize=8)
    top.set_ylabel("NPS")
    top.set_title("Monthly NPS")
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="best")
    days = [p.label for p in report.rolling]
    # Small markers so that a lone day between gaps still shows.
    bottom.plot(range(len(days)), _series(report.rolling), color="#1f5f8b", linewidth=1.5,
                marker="o", markersize=2.5)
    ticks = [i for i, d in enumerate(days) if d.endswith("-01")] or [0]
    bottom.set_xticks(ticks, [days[i] for i in ticks] if days else [""], rotation=45,
                      ha="right", fontsize=8)
    bottom.set_ylabel("NPS")
    bottom.set_title("Rolling 30-day NPS (total)")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _series(points: Iterable[TrendPoint]) -> list[float]:
    # Suppressed or empty points are gaps (NaN), never zero.
    return [p.nps if p.nps is not None and p.n >= MIN_N else float("nan") for p in points]


# -- HTML ----------------------------------------------------------------------------------

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 70em;
       color: #1a1a1a; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 2px solid #1f5f8b; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1em; margin-bottom: 0.3em; }
.meta { color: #555; font-size: 0.9em; }
.headline { font-size: 1.3em; margin: 0.5em 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #e8f0f6; }
tr.total td { font-weight: bold; border-top: 2px solid #888; }
td.suppressed, td.protected { color: #777; font-style: italic; }
p.note { color: #555; font-size: 0.85em; margin-top: -0.5em; }
img.chart { max-width: 100%; height: auto; display: block; margin: 0.5em 0; }
ol.texts { padding-left: 1.5em; }
ol.texts li { margin: 0.2em 0; }
ol.texts time { color: #555; font-size: 0.85em; margin-right: 0.5em; }
.anomaly { margin: 0.5em 0; padding: 0.4em 0.6em; border-left: 4px solid #c0392b;
           background: #fdf2f1; }
.anomaly dl { display: grid; grid-template-columns: max-content auto; gap: 0 1em;
              margin: 0.3em 0 0; font-size: 0.85em; }
.anomaly dt { color: #555; }
.anomaly dd { margin: 0; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  table, img.chart, .anomaly, ol.texts li { break-inside: avoid; }
  thead th, .anomaly { background: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _decimal(cell: str, comma: bool) -> str:
    """A figure with a decimal comma when `comma` (keys and other words unchanged)."""
    return _DECIMAL.sub(r"\1,\2", cell) if comma else cell


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], table_id: str,
                comma: bool = False) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cls = ' class="total"' if "total" in row[:4] else ""
        cells = "".join(
            f'<td class="suppressed">{_esc(c)}</td>' if c == SUPPRESSED
            else f'<td class="protected">{_esc(c)}</td>' if c.endswith(PROTECTED_MARK)
            else f"<td>{_esc(_decimal(c, comma) if i else c)}</td>" for i, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    note = f'<p class="note">{_esc(PROTECTED_NOTE)}</p>' if _has_mark(rows) else ""
    return (f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>{note}")


def _headline(total: GroupRow, comma: bool = False) -> str:
    if total.summary is None:
        return f'<p class="headline">NPS {DASH}, N {_n(total.n)}</p>'
    s = total.summary
    n = f"{s.n:,}".replace(",", "\u00a0")  # thin grouping as in the counties' reports
    return (f'<p class="headline">NPS <strong>{_decimal(_num(s.nps), comma)}</strong>, '
            f"N = {n}, mean {_decimal(_num(s.mean, 2), comma)}</p>")


def _texts_html(report: Report) -> str:
    parts = []
    for t in report.text_shares:
        if t.key == "total":
            continue
        texts = report.texts.get(t.key, [])
        parts.append(f"<h3>{_esc(t.key)}</h3>")
        if t.protected and not report.total.suppressed:
            parts.append("<p>Texts are not shown so that a small group cannot be worked out "
                         "from the total.</p>")
        elif t.share is None or report.total.suppressed:
            parts.append(f"<p>Fewer than {MIN_N} responses: texts are not shown.</p>")
        elif not texts:
            parts.append("<p>No free texts.</p>")
        else:
            items = "".join(
                f'<li><time datetime="{_esc(x.finished_at.isoformat())}">'
                f"{_esc(x.finished_at.astimezone(LOCAL_ZONE).strftime('%Y-%m-%d %H:%M'))}</time>"
                f"{_esc(x.text)}</li>"
                for x in texts)
            parts.append(f'<ol class="texts">{items}</ol>')
    return "".join(parts)


def _anomalies_html(report: Report) -> str:
    if not report.anomalies:
        return "<p>No anomalies found.</p>"
    out = []
    for a in report.anomalies:
        ev = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in a.evidence.items())
        out.append(f'<div class="anomaly" data-kind="{_esc(a.kind)}"><strong>{_esc(a.kind)}'
                   f"</strong>: {_esc(a.summary)}<dl>{ev}</dl></div>")
    return "".join(out)


def render_html(report: Report, generated_at: str = "") -> str:
    """One self-contained HTML page: inline CSS, the chart as a base64 PNG, printable."""
    chart = base64.b64encode(chart_png(report)).decode("ascii")
    p = report.params

    def section(sid: str, title: str, body: str) -> str:
        return f'<section id="{sid}"><h2>{_esc(title)}</h2>{body}</section>'

    comma = p.lang in DECIMAL_COMMA_LANGS
    tables = {name: _html_table(*rows_of(report), table_id=f"{name}-table", comma=comma)
              for name, rows_of in (
        ("nps", nps_rows), ("shares", share_rows), ("trend", trend_rows),
        ("rolling", rolling_rows), ("statements", statement_rows), ("text", text_rows),
        ("sms", sms_rows))}
    body = "".join([
        f"<header><h1>{_esc(report.title)}</h1>"
        f'<p class="meta">Grouped by {_esc(p.by)}. Groups with fewer than {MIN_N} answers are '
        f"shown as {SUPPRESSED}, without their distribution; where only that would keep "
        f"one from being worked out from the total, another group shows just its n "
        f"({PROTECTED_MARK})."
        + (f" Made {_esc(generated_at)}." if generated_at else "") + "</p></header>",
        section("nps", "NPS", _headline(report.total, comma) + tables["nps"]
                + "<h3>Shares of answers (%)</h3>" + tables["shares"]),
        section("trend", "Trend",
                f'<img class="chart" id="chart" alt="Monthly and rolling 30-day NPS" '
                f'src="data:image/png;base64,{chart}">'
                + tables["trend"] + "<h3>Rolling 30-day NPS (total)</h3>" + tables["rolling"]),
        section("statements", "Statements (1-5)", tables["statements"]),
        section("free-text", "Free text", tables["text"] + _texts_html(report)),
        section("sms", "SMS funnel", tables["sms"]),
        section("anomalies", "Anomalies", _anomalies_html(report)),
    ])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(report.title)}</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def render(report: Report, fmt: str, generated_at: str = "") -> str:
    """The report in one of FORMATS."""
    if fmt == "table":
        return render_table(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        return render_html(report, generated_at)
    raise ValueError(f"unknown format {fmt!r}")
