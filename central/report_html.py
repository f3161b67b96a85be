"""The report as one self-contained HTML page (and the same page as PDF).

The page is the one the counties send their unit leaders: headline figures with the
previous period and the same period a year before, targets met or not, the 13-month
trend drawn as they draw it (a fixed axis, n under each month, gaps where a month is
suppressed), statements with their distribution and share of fives, and what people
wrote with its score and channel. Inline CSS and the chart as a base64 PNG (matplotlib's
Agg backend) so it reads offline and prints cleanly; WeasyPrint turns the same page into
a PDF without a browser.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime

from central import report_topics
from central.i18n import Lang
from central.report_model import (
    LOCAL_ZONE,
    MIN_N,
    SUPPRESSED,
    Comparison,
    FreeText,
    GroupRow,
    Report,
    TrendPoint,
    target_for,
)
from central.report_render import (
    PROTECTED_MARK,
    Rows,
    anomaly_kind,
    anomaly_sentence,
    channel_label,
    comparison_rows,
    evidence_label,
    face_rows,
    group_label,
    has_mark,
    key_label,
    nps_rows,
    protected_note,
    rolling_rows,
    share_rows,
    sms_rows,
    statement_rows,
    target_rows,
    text_rows,
    title,
    tone_rows,
    topic_rows,
    topic_trend_rows,
    trend_rows,
)

log = logging.getLogger(__name__)

CHART_GROUPS = 6  # lines in the trend chart besides the total (the largest groups)
# Okabe-Ito colours (safe for colour-blind readers), each with its own marker and dash so
# the lines hold apart in greyscale too.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
MARKERS = ("s", "^", "D", "v", "P", "X")
DASHES = ("--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1)))
_FIGURE = re.compile(r"^[-+]?\d+(\.\d+)?$")

FACES_NOTE = ("Answers given with face buttons are a scale of their own: they are never "
              "counted into the NPS.")

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 70em;
       color: #1a1a1a; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 2px solid #0b4f7c; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1em; margin-bottom: 0.3em; }
.meta { color: #4a4a4a; font-size: 0.9em; }
.headline { font-size: 1.3em; margin: 0.5em 0; }
.compare { font-size: 1em; color: #333; margin: 0.2em 0 0.8em; }
.met { color: #1b5e20; font-weight: bold; }
.notmet { color: #8b1a1a; font-weight: bold; }
.empty { font-size: 1.1em; padding: 0.8em; border: 1px solid #ccc; background: #f7f7f7; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #e8f0f6; }
tr.total td { font-weight: bold; border-top: 2px solid #888; }
td.suppressed, td.protected { color: #555; font-style: italic; }
p.note { color: #4a4a4a; font-size: 0.85em; margin-top: -0.5em; }
figure { margin: 0.5em 0; }
img.chart { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85em; color: #4a4a4a; }
ol.texts { padding-left: 1.5em; }
ol.texts li { margin: 0.3em 0; }
ol.texts .when { color: #4a4a4a; font-size: 0.85em; margin-right: 0.5em; }
ol.texts .score { display: inline-block; min-width: 4.5em; font-weight: bold; }
.anomaly { margin: 0.5em 0; padding: 0.4em 0.6em; border-left: 4px solid #b03a2e;
           background: #fdf2f1; }
.anomaly dl { display: grid; grid-template-columns: max-content auto; gap: 0 1em;
              margin: 0.3em 0 0; font-size: 0.85em; }
.anomaly dt { color: #4a4a4a; }
.anomaly dd { margin: 0; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 9pt; }
  h2 { break-after: avoid; }
  table, figure, .anomaly, ol.texts li { break-inside: avoid; }
  thead th, .anomaly { background: none; }
  a { color: inherit; text-decoration: none; }
  .scroll { overflow: visible; }
}
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _localised(cell: str, tr: Lang) -> str:
    """A plain figure ("73.6", "1042", "+2.5") in the language's format; words unchanged."""
    if not _FIGURE.match(cell):
        return cell
    places = len(cell.split(".")[1]) if "." in cell else 0
    if places == 0:
        return tr.count(int(cell))
    return tr.num(float(cell), places, sign=cell.startswith("+"))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], table_id: str, tr: Lang,
           labels: Mapping[str, str] | None = None) -> str:
    if not rows:
        return f"<p>{_esc(tr.t('(none)'))}</p>"
    head = "".join(f'<th scope="col">{_esc(h)}</th>' for h in header)
    total = tr.t("total")
    body = []
    for row in rows:
        cls = ' class="total"' if total in row[:3] else ""
        cells = []
        for i, c in enumerate(row):
            if c == SUPPRESSED:
                cells.append(f'<td class="suppressed">{_esc(c)}</td>')
            elif c.endswith(PROTECTED_MARK):
                cells.append(f'<td class="protected">{_esc(c)}</td>')
            elif i == 0:
                cells.append(f'<th scope="row">{_esc((labels or {}).get(c, c))}</th>')
            else:  # a group key in another column (the statements') is named as in the first
                cells.append(f"<td>{_esc((labels or {}).get(c) or _localised(c, tr))}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    note = f'<p class="note">{_esc(protected_note(tr))}</p>' if has_mark(rows) else ""
    return (f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>{note}")


def _figure_text(nps: float | None, n: int, tr: Lang) -> str:
    if nps is None:
        return f"NPS –, N {SUPPRESSED if 0 < n < MIN_N else tr.count(n)}"
    return f"NPS {tr.num(nps)}, N = {tr.count(n)}"


def _headline(report: Report, tr: Lang) -> str:
    total: GroupRow = report.total
    if total.n == 0:
        return f'<p class="empty">{_esc(tr.t("No answers in this period."))}</p>'
    s = total.summary
    if s is None:
        main = f'<p class="headline">NPS –, N {_esc(SUPPRESSED)}</p>'
    else:
        main = (f'<p class="headline">NPS <strong>{_esc(tr.num(s.nps))}</strong>, '
                f"N = {_esc(tr.count(s.n))}, {_esc(tr.t('mean'))} "
                f"{_esc(tr.num(s.mean, 2))}</p>")
    comp = next((c for c in report.comparisons if c.key == "total"), None)
    parts = []
    if comp is not None:
        for label, then in ((tr.t("previous period"), comp.previous),
                            (tr.t("a year before"), comp.last_year)):
            change = Comparison.change(comp.now, then)
            text = f"{label}: {_figure_text(then.nps if then.shown else None, then.n, tr)}"
            if change is not None:
                text += f" ({tr.t('change')} {tr.num(change, 1, sign=True)})"
            parts.append(text)
    target = next((r for r in report.target_rows
                   if r.key == "total" and r.target.measure == "nps"), None)
    if target is not None and target.met is not None:
        cls = "met" if target.met else "notmet"
        word = tr.t("target met") if target.met else tr.t("target not met")
        parts.append(f'{tr.t("target")} {tr.num(target.target.value)}: '
                     f'<span class="{cls}">{_esc(word)}</span>')
    extra = f'<p class="compare">{" · ".join(parts)}</p>' if parts else ""
    return main + extra


# -- the chart ------------------------------------------------------------------------------


def _series(points: Sequence[TrendPoint]) -> list[float]:
    # Suppressed or empty points are gaps (NaN), never zero.
    return [p.nps if p.nps is not None and p.n >= MIN_N else math.nan for p in points]


def _total_target(report: Report) -> float | None:
    filters = dict(report.params.filters)
    t = target_for(report.params.targets, "nps", "nps", filters.get("area"), filters.get("unit"))
    return t.value if t else None


def chart_png(report: Report, tr: Lang | None = None) -> bytes:
    """Monthly NPS of the total (and the largest groups) on a fixed -100..100 axis, with
    n under each month and the target as a line; below it the rolling 30-day NPS."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tr = tr or Lang(report.params.lang)
    fig = Figure(figsize=(9, 6.4), dpi=100)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
    x = list(range(len(report.months)))
    largest = sorted(report.trend, key=lambda t: -sum(p.n for p in t.months))[:CHART_GROUPS]
    drawn = [t for t in sorted(largest, key=lambda t: t.key)
             if any(not math.isnan(v) for v in _series(t.months))]
    for i, t in enumerate(drawn):
        top.plot(x, _series(t.months), marker=MARKERS[i % 6], linestyle=DASHES[i % 6],
                 color=PALETTE[i % 6], linewidth=1.3, label=key_label(report, t.key, tr))
    top.plot(x, _series(report.trend_total.months), marker="o", linewidth=2.8, color="black",
             label=tr.t("total"))
    target = _total_target(report)
    if target is not None:
        top.axhline(target, color="#444444", linestyle=(0, (6, 3)), linewidth=1.2,
                    label=tr.t("target {value}", value=tr.num(target)))
    labels = [f"{tr.month_short(m)}\nn={_n_label(p.n, tr)}"
              for m, p in zip(report.months, report.trend_total.months, strict=True)]
    top.set_xticks(x, labels, fontsize=7)
    top.set_ylim(-100, 100)
    top.set_yticks(range(-100, 101, 25))
    top.axhline(0, color="#999999", linewidth=0.6)
    top.set_ylabel("NPS")
    top.set_title(tr.t("Monthly NPS"))
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="lower left")
    days = [p.label for p in report.rolling]
    bottom.plot(range(len(days)), _series(report.rolling), color="black", linewidth=1.5,
                marker="o", markersize=2.0)
    ticks = [i for i, d in enumerate(days) if d.endswith("-01")] or [0]
    bottom.set_xticks(ticks, [tr.month_short(days[i][:7]) for i in ticks] if days else [""],
                      fontsize=7)
    bottom.set_ylim(-100, 100)
    bottom.set_yticks(range(-100, 101, 50))
    bottom.set_ylabel("NPS")
    bottom.set_title(tr.t("Rolling 30-day NPS (total)"))
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _n_label(n: int, tr: Lang) -> str:
    return SUPPRESSED if 0 < n < MIN_N else tr.count(n)


def chart_text(report: Report, tr: Lang) -> str:
    """The chart in words, for readers who cannot see it (its alt text)."""
    points = []
    for m, p in zip(report.months, report.trend_total.months, strict=True):
        if p.nps is not None and p.n >= MIN_N:
            value = f"NPS {tr.num(p.nps)} (n {tr.count(p.n)})"
        elif p.n == 0:
            value = tr.t("no answers")
        else:
            value = tr.t("fewer than {min_n} answers", min_n=MIN_N)
        points.append(f"{tr.month(m)}: {value}")
    text = tr.t("Monthly NPS of the total") + ": " + "; ".join(points) + "."
    target = _total_target(report)
    if target is not None:
        text += " " + tr.t("target {value}", value=tr.num(target)) + "."
    return text


# -- sections ---------------------------------------------------------------------------


def _text_item(x: FreeText, tr: Lang) -> str:
    when = x.finished_at.astimezone(LOCAL_ZONE)
    score = f"{tr.t('score')} {x.score}" if x.score is not None else tr.t("no score")
    channel = channel_label(x.channel, tr) if x.channel else ""
    return (f'<li><span class="score">{_esc(score)}</span>'
            f'<time class="when" datetime="{_esc(x.finished_at.isoformat())}">'
            f"{_esc(tr.day(when.date()))} {when:%H:%M}</time>"
            f'<span class="when">{_esc(channel)}</span> {_esc(x.text)}</li>')


def _texts_html(report: Report, tr: Lang) -> str:
    parts = []
    for t in report.text_shares:
        if t.key == "total":
            continue
        texts = report.texts.get(t.key, [])
        parts.append(f"<h3>{_esc(key_label(report, t.key, tr))}</h3>")
        if t.protected and not report.total.suppressed:
            parts.append(f"<p>{_esc(tr.t('Texts are not shown here so that a small group cannot be worked out from the total.'))}</p>")  # noqa: E501
        elif t.share is None or report.total.suppressed:
            parts.append(f"<p>{_esc(tr.t('Fewer than {min_n} responses: texts are shown below with other small groups, when there are enough of them.', min_n=MIN_N))}</p>")  # noqa: E501
        elif not texts:
            parts.append(f"<p>{_esc(tr.t('No free texts.'))}</p>")
        else:
            parts.append('<ol class="texts">' + "".join(_text_item(x, tr) for x in texts)
                         + "</ol>")
    if report.pooled_texts:
        parts.append(f"<h3>{_esc(tr.t('Other groups together'))}</h3>")
        parts.append('<ol class="texts">'
                     + "".join(_text_item(x, tr) for x in report.pooled_texts) + "</ol>")
    return "".join(parts)


def _evidence(value: object, tr: Lang) -> str:
    """An evidence value for people: numbers and times in the language's format."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return tr.num(value, 1)
    if isinstance(value, int) and not isinstance(value, bool):
        return tr.count(value)
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return tr.day(date.fromisoformat(text))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})?", text):
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if when.tzinfo is not None:
            when = when.astimezone(LOCAL_ZONE)
        return f"{tr.day(when.date())} {when:%H:%M}"
    return text


def _topics_html(report: Report, tr: Lang, tab: Callable[[str, Rows], str]) -> str:
    section = report.topics
    if section is None:
        return ""
    parts = [f"<p>{_esc(tr.t('A text can name several topics, so the shares add up to more than 100 %. Model {version}.', version=section.model_version))}</p>"]  # noqa: E501
    if section.unlabelled:
        parts.append(f"<p>{_esc(tr.t('{n} responses with text in this period have no topics from this model yet: run palaute central relabel.', n=section.unlabelled))}</p>")  # noqa: E501
    parts += [tab("topics", topic_rows), f"<h3>{_esc(tr.t('Tone of free text'))}</h3>",
              tab("tones", tone_rows), f"<h3>{_esc(tr.t('Topics by month'))}</h3>",
              tab("topic-trend", topic_trend_rows)]
    for row in section.total.topics:
        examples = section.examples.get(row.topic)
        if examples:
            parts.append(f"<h3>{_esc(report_topics.topic_name(row.topic, tr.code))}</h3>"
                         '<ol class="texts">' + "".join(_text_item(x, tr) for x in examples)
                         + "</ol>")
    return "".join(parts)


def _anomalies_html(report: Report, tr: Lang) -> str:
    if not report.anomalies:
        return f"<p>{_esc(tr.t('No anomalies found.'))}</p>"
    out = []
    for a in report.anomalies:
        ev = "".join(f"<dt>{_esc(evidence_label(k, tr))}</dt><dd>{_esc(_evidence(v, tr))}</dd>"
                     for k, v in a.evidence.items())
        sentence = anomaly_sentence(a.kind, a.subject, a.evidence, a.summary, tr)
        out.append(f'<div class="anomaly" data-kind="{_esc(a.kind)}">'
                   f"<strong>{_esc(anomaly_kind(a.kind, tr))}</strong>: {_esc(sentence)}"
                   f"<dl>{ev}</dl></div>")
    return "".join(out)


def _keys(report: Report) -> set[str]:
    return {g.key for g in report.groups} | {t.key for t in report.trend}


def render_html(report: Report, tr: Lang | None = None, generated_at: str = "") -> str:
    """One self-contained HTML page in the report's language: inline CSS, the chart as a
    base64 PNG, printable."""
    tr = tr or Lang(report.params.lang)
    heading = title(report, tr)
    return (f'<!DOCTYPE html>\n<html lang="{_esc(report.params.lang)}"><head>'
            '<meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_esc(heading)}</title><style>{CSS}</style></head>"
            f"<body><main>{report_body(report, tr, generated_at)}</main></body></html>\n")


def report_body(report: Report, tr: Lang, generated_at: str = "") -> str:
    """The report's sections (what the page's <main> holds; the web pages show the same)."""
    heading = title(report, tr)

    def section(sid: str, name: str, body: str) -> str:
        return f'<section id="{sid}" aria-labelledby="{sid}-h"><h2 id="{sid}-h">' \
               f"{_esc(tr.t(name))}</h2>{body}</section>"

    labels = {k: key_label(report, k, tr) for k in _keys(report)}

    def tab(name: str, rows_of: Rows) -> str:
        header, rows = rows_of(report, tr)
        return _table(header, rows, f"{name}-table", tr, labels)

    meta = tr.t("Grouped by {by}.", by=group_label(report, tr)) + " " + tr.t(
        "Groups with fewer than {min_n} answers are shown as {mark}, without their "
        "distribution; where only that would keep one from being worked out from the "
        "total, another group shows just its n ({protected}).",
        min_n=MIN_N, mark=SUPPRESSED, protected=PROTECTED_MARK)
    if generated_at:
        meta += " " + tr.t("Made {when}.", when=generated_at)
    parts = [f"<header><h1>{_esc(heading)}</h1><p class=\"meta\">{_esc(meta)}</p></header>",
             section("nps", "NPS", _headline(report, tr))]
    if report.total.n > 0:
        chart = base64.b64encode(chart_png(report, tr)).decode("ascii")
        parts[-1] = section("nps", "NPS", _headline(report, tr)
                            + (tab("targets", target_rows) if report.target_rows else "")
                            + (f"<h3>{_esc(tr.t('Comparison'))}</h3>"
                               + tab("comparison", comparison_rows)
                               if report.comparisons else "")
                            + f"<h3>{_esc(tr.t('Answers 0-10'))}</h3>" + tab("nps", nps_rows)
                            + f"<h3>{_esc(tr.t('Shares of answers (%)'))}</h3>"
                            + tab("shares", share_rows))
        parts += [
            section("trend", "Trend",
                    f'<figure><img class="chart" id="chart" alt="{_esc(chart_text(report, tr))}" '
                    f'src="data:image/png;base64,{chart}"><figcaption>'
                    f"{_esc(tr.t('The line of the total is black; the axis runs from -100 to 100; a gap is a month with fewer than {min_n} answers.', min_n=MIN_N))}"  # noqa: E501
                    "</figcaption></figure>"
                    + tab("trend", trend_rows)
                    + f"<h3>{_esc(tr.t('Rolling 30-day NPS (total)'))}</h3>"
                    + tab("rolling", rolling_rows)),
            section("statements", "Statements (1-5)", tab("statements", statement_rows)),
            *([section("faces", "Faces", f"<p>{_esc(tr.t(FACES_NOTE))}</p>"
                       + tab("faces", face_rows))] if report.faces else []),
            section("free-text", "Free text", tab("text", text_rows) + _texts_html(report, tr)),
            section("topics", "Topics of free text", _topics_html(report, tr, tab)),
            section("sms", "SMS funnel", tab("sms", sms_rows)),
        ]
    parts.append(section("anomalies", "Anomalies", _anomalies_html(report, tr)))
    return "".join(parts)


def render_pdf(report: Report, tr: Lang | None = None, generated_at: str = "") -> bytes:
    """The same page as a PDF (A4), made by WeasyPrint with no browser."""
    import weasyprint

    page = render_html(report, tr, generated_at)
    return bytes(weasyprint.HTML(string=page).write_pdf())
