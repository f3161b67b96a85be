"""The unit leaders' pages: the report of `central report` with filters, as CSV and PDF.

The page, the CSV and the PDF are the report model's own renderers (`build_report`,
`report_html.report_body`, `report_render.render_csv`, `report_html.render_pdf`), so
they show exactly what the command shows, with the same n < 5 suppression. Filters:
period, grouping, area, unit, channel and the report's language. A leader sees only the
areas and units granted: the report is always narrowed to one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from central.cli_report import ReportSettings
from central.i18n import LANGS, Lang
from central.report_html import CSS, render_pdf, report_body
from central.report_model import GROUP_KEYS, LOCAL_ZONE, ReportError, ReportParams
from central.report_render import render_csv, title
from central.reports import build_report, default_period, known_units, unit_origin
from central.web.accounts import Account, Role
from central.web.common import SECURITY_HEADERS, Site, render, require
from survey.response import Channel

CHANNELS = tuple(c.value for c in Channel)


@dataclass(frozen=True)
class ReportQuery:
    """The filters of the reports page, checked."""

    date_from: date
    date_to: date
    by: str
    area: str
    unit: str
    channel: str
    lang: str

    def filters(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, v) for k, v in (("area", self.area), ("unit", self.unit),
                                          ("channel", self.channel)) if v)

    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode({"from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
                          "by": self.by, "area": self.area, "unit": self.unit,
                          "channel": self.channel, "lang": self.lang})


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


def parse_query(q: QueryParams, account: Account, now: datetime) -> ReportQuery:
    """The page's filters (defaults: the last 12 months, by area, the account's language);
    a leader's report narrowed to a granted area or unit (ReportError for another)."""
    start, end = default_period(now)
    date_to = _date(q["to"], "to") if q.get("to") else end
    date_from = _date(q["from"], "from") if q.get("from") else start
    by = q.get("by") or ("unit" if account.role is Role.LEADER else "area")
    if by not in GROUP_KEYS:
        raise ReportError(f"unknown grouping {by!r}")
    lang = q.get("lang") or account.lang
    if lang not in LANGS:
        raise ReportError(f"unknown language {lang!r}")
    channel = q.get("channel", "")
    if channel and channel not in CHANNELS:
        raise ReportError(f"unknown channel {channel!r}")
    area, unit = q.get("area", "").strip(), q.get("unit", "").strip()
    if account.role is Role.LEADER and not (area or unit) and account.grants:
        first = account.grants[0]
        area, unit = (first.value, "") if first.scope == "area" else ("", first.value)
    return ReportQuery(date_from, date_to, by, area, unit, channel, lang)


def allowed(site: Site, account: Account, query: ReportQuery) -> bool:
    """Whether the account may see this report (a leader: a granted area, or a granted
    unit, or a unit of a granted area)."""
    if account.role.sees_all_reports:
        return True
    if not account.role.sees_reports:
        return False
    if query.area and account.may_see(query.area, None):
        return True
    if query.unit:
        if account.may_see(None, query.unit):
            return True
        origin = unit_origin(site.store, query.unit)
        return origin is not None and account.may_see(origin[1], None) and (
            not query.area or query.area == origin[1])
    return False


def _params(site: Site, settings: ReportSettings, query: ReportQuery) -> ReportParams:
    now = site.clock()
    origin = unit_origin(site.store, query.unit) if query.unit else None
    return ReportParams(query.date_from, query.date_to, now, query.by, query.filters(),
                        settings=settings.anomalies, lang=query.lang, targets=settings.targets,
                        names=settings.names, origin=origin)


def _stamp(now: datetime) -> str:
    return now.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def _file_name(query: ReportQuery, ext: str) -> str:
    scope = query.unit or query.area or "all"
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in scope)
    return f"report-{safe}-{query.date_from}-{query.date_to}.{ext}"


def report_routes(site: Site, settings: ReportSettings) -> list[BaseRoute]:
    """/reports, /reports/report.csv, /reports/report.pdf, /static/report.css."""
    pages = ReportPages(site, settings)
    return [Route("/reports", pages.page), Route("/reports/report.csv", pages.csv),
            Route("/reports/report.pdf", pages.pdf),
            Route("/static/report.css", pages.report_css)]


class ReportPages:
    """The reports pages of one site (each method one page or download)."""

    def __init__(self, site: Site, settings: ReportSettings) -> None:
        self.site, self.settings = site, settings

    from starlette.routing import Route

    def _checked(self, request: Request) -> tuple[Account, ReportQuery]:
        session = require(self.site, request, lambda role: role.sees_reports)
        query = parse_query(request.query_params, session.account, self.site.clock())
        if not allowed(self.site, session.account, query):
            raise ReportError("this area or unit is not among the ones granted to you")
        return session.account, query

    def _choices(self, account: Account) -> dict[str, Any]:
        """The filters' options: the areas and units this account may see."""
        store = self.site.store
        units = [u for u in known_units(store) if u != "*"]
        areas = sorted({str(r[0]) for r in store.execute(
            "SELECT DISTINCT area FROM device_registry UNION SELECT DISTINCT area FROM responses")})
        if account.role is Role.LEADER:
            area_of = {u: o[1] for u in units if (o := unit_origin(store, u)) is not None}
            units = [u for u in units if account.may_see(None, u)
                     or account.may_see(area_of.get(u), None)]
            areas = [a for a in areas if account.may_see(a, None)]
        return {"areas": areas, "units": units, "channels": CHANNELS, "langs": LANGS,
                "groups": GROUP_KEYS, "body": "", "error": "", "query": None, "heading": ""}

    def page(self, request: Request) -> Response:
        session = require(self.site, request, lambda role: role.sees_reports)
        context = self._choices(session.account)
        try:
            _, query = self._checked(request)
            context["query"] = query
            report = build_report(self.site.store, _params(self.site, self.settings, query))
        except ReportError as exc:
            context["error"] = str(exc)
            return render(request, "reports.html", session,
                          400 if request.query_params else 200, **context)
        tr = Lang(query.lang)
        context.update(body=report_body(report, tr, _stamp(self.site.clock())),
                       heading=title(report, tr))
        return render(request, "reports.html", session, **context)

    def csv(self, request: Request) -> Response:
        _, query = self._checked(request)
        params = _params(self.site, self.settings, query)
        report = build_report(self.site.store, params, texts=False)
        text = render_csv(report, Lang(query.lang))
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{_file_name(query, "csv")}"'})

    def pdf(self, request: Request) -> Response:
        _, query = self._checked(request)
        report = build_report(self.site.store, _params(self.site, self.settings, query))
        data = render_pdf(report, generated_at=_stamp(self.site.clock()))
        return Response(data, media_type="application/pdf", headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{_file_name(query, "pdf")}"'})

    def report_css(self, request: Request) -> Response:
        return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})
