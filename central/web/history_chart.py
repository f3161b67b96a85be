"""A device's last 7 days as a small inline SVG: online/offline as a band, queue depth as a line.

Pure: points and `now` in, markup out (escaped; no script). The picture has a text
alternative (`history_summary`) for screen readers and for the page's table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from central.i18n import Lang
from central.web.fleet import HISTORY_WINDOW, HistoryPoint

WIDTH, HEIGHT, BAND = 700, 120, 18
ONLINE, OFFLINE, LINE = "#1b7a3a", "#b3261e", "#0b4f7c"


def _x(at: datetime, start: datetime) -> float:
    return round((at - start) / HISTORY_WINDOW * WIDTH, 1)


def history_summary(points: Sequence[HistoryPoint], now: datetime, tr: Lang) -> str:
    """One sentence of what the chart shows."""
    offline = _offline_time(points, now)
    depths = [p.queue_depth for p in points if p.queue_depth is not None]
    return tr.t("Last 7 days: {n} status messages, offline for {hours} h, queue depth at most "
                "{depth}.", n=len(points), hours=tr.num(offline.total_seconds() / 3600),
                depth=max(depths, default=0))


def _spans(points: Sequence[HistoryPoint], now: datetime
           ) -> list[tuple[HistoryPoint, datetime]]:
    """Each status with the time the next one came (or `now`)."""
    ends = [p.at for p in points[1:]] + [now]
    return list(zip(points, ends, strict=False))


def _offline_time(points: Sequence[HistoryPoint], now: datetime) -> timedelta:
    return sum((end - here.at for here, end in _spans(points, now) if here.state == "offline"),
               timedelta())


def history_svg(points: Sequence[HistoryPoint], now: datetime, tr: Lang) -> str:
    """The chart's markup, with its summary as title."""
    start = now - HISTORY_WINDOW
    parts = [f'<svg class="history" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="history-title" xmlns="http://www.w3.org/2000/svg">'
             f'<title id="history-title">{escape(history_summary(points, now, tr))}</title>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{BAND}" fill="#d9d9d9"/>']
    for here, end in _spans(points, now):
        x0, x1 = _x(max(here.at, start), start), _x(end, start)
        colour = OFFLINE if here.state == "offline" else ONLINE
        parts.append(f'<rect x="{x0}" y="0" width="{max(x1 - x0, 1.0)}" height="{BAND}" '
                     f'fill="{colour}"/>')
    depths = [(p.at, p.queue_depth) for p in points if p.queue_depth is not None]
    deepest = max((d for _, d in depths), default=0)
    top = deepest or 1
    if depths:
        coords = " ".join(f"{_x(max(at, start), start)},"
                          f"{round(HEIGHT - 14 - d / top * (HEIGHT - BAND - 24), 1)}"
                          for at, d in depths)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{LINE}" '
                     'stroke-width="2"/>')
    for day in range(8):
        x = round(day / 7 * WIDTH, 1)
        parts.append(f'<line x1="{x}" y1="{BAND}" x2="{x}" y2="{HEIGHT - 12}" stroke="#bbb" '
                     'stroke-width="0.5"/>')
        label = tr.day((start + timedelta(days=day)).date())
        anchor = "start" if day == 0 else "end" if day == 7 else "middle"
        parts.append(f'<text x="{x}" y="{HEIGHT - 1}" font-size="10" text-anchor="{anchor}" '
                     f'fill="#333">{escape(label)}</text>')
    parts.append(f'<text x="4" y="{BAND + 12}" font-size="10" fill="#333">'
                 f'{escape(tr.t("queue depth (max {depth})", depth=deepest))}</text></svg>')
    return "".join(parts)
