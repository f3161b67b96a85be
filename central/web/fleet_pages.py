"""The technicians' pages: the fleet (live), a device with its 7 days, operator actions.

The fleet page is whole without JavaScript; with it, `/fleet/events` (server-sent
events) sends the rows again whenever a status arrives or the registry changes, and
the page's script redraws the table, sorted and filtered as the reader chose. The
actions — move a device (`central.registry.move`), publish a configuration (the same
as `central publish-config`), issue an enrolment token (the same as `central
enroll-token`) — are forms with the session's CSRF token, and each is audited.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from importlib import resources

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from central import registry
from central.i18n import Lang
from central.publish import parse_setting, publish_config
from central.web.accounts import Role, Session, audit
from central.web.common import (
    Site,
    client_address,
    json_script,
    posted,
    render,
    require,
)
from central.web.fleet import Problem, fleet_fingerprint, load_fleet, load_history
from central.web.history_chart import history_svg
from survey.errors import PalauteError

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
REFRESH_SECONDS = 30.0  # rows are sent again this often even unchanged ("silent" ages)


def _fleet_role(role: Role) -> bool:
    return role.sees_fleet


def known_surveys() -> dict[str, str]:
    """The surveys shipped with palaute, by file name: what a page may publish."""
    folder = resources.files("survey") / "surveys"
    return {p.name: p.read_text("utf-8") for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.name.endswith(".toml")}


def problem_labels(tr: Lang) -> dict[str, str]:
    """Each problem's words in the reader's language (for the page's script too)."""
    return {p.value: tr.t(LABELS[p]) for p in Problem}


LABELS = {
    Problem.OFFLINE: "offline", Problem.SILENT: "silent", Problem.NO_STATUS: "no status yet",
    Problem.MODEM_DOWN: "modem down", Problem.BACKLOG: "backlog growing",
    Problem.QUARANTINE: "quarantine growing", Problem.UNKNOWN_SENDS: "unknown sends waiting",
    Problem.CONFIG_ERROR: "configuration error",
}


def fleet_routes(site: Site) -> list[BaseRoute]:
    """/fleet, /fleet/events, /devices/{device} and its actions, /enrol-token."""
    pages = FleetPages(site)
    return [Route("/fleet", pages.fleet), Route("/fleet/events", pages.events),
            Route("/devices/{device}", pages.device_get, methods=["GET"]),
            Route("/devices/{device}/move", pages.move, methods=["POST"]),
            Route("/devices/{device}/publish", pages.publish, methods=["POST"]),
            Route("/enrol-token", pages.enrol_form, methods=["GET"]),
            Route("/enrol-token", pages.enrol, methods=["POST"])]


class FleetPages:
    """The technicians' pages of one site (each method one page or action)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def fleet(self, request: Request) -> Response:
        site = self.site
        session = require(site, request, _fleet_role)
        rows = load_fleet(site.store, site.clock())
        tr = Lang(session.account.lang)
        return render(request, "fleet.html", session, rows=rows, labels=problem_labels(tr),
                      labels_json=json_script(problem_labels(tr)),
                      rows_json=json_script([r.as_json() for r in rows]))

    async def events(self, request: Request) -> Response:
        await run_in_threadpool(require, self.site, request, _fleet_role)
        return StreamingResponse(self._stream(request), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    async def _stream(self, request: Request) -> AsyncIterator[str]:
        """The fleet's rows whenever they change (and every 30 s), a comment every 15 s."""
        site, loop = self.site, asyncio.get_running_loop()
        seen, sent_at, ping_at = "", 0.0, loop.time()
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            if site.stopping is not None and site.stopping.is_set():
                return
            mark = await run_in_threadpool(fleet_fingerprint, site.store)
            if mark != seen or loop.time() - sent_at > REFRESH_SECONDS:
                rows = await run_in_threadpool(load_fleet, site.store, site.clock())
                seen, sent_at, ping_at = mark, loop.time(), loop.time()
                yield f"event: fleet\ndata: {json.dumps([r.as_json() for r in rows])}\n\n"
            elif loop.time() - ping_at > KEEPALIVE_SECONDS:
                ping_at = loop.time()
                yield ": still here\n\n"
            await asyncio.sleep(site.live_interval)

    def device_page(self, request: Request, message: str = "", error: str = "",
                    session: Session | None = None, status: int = 200) -> Response:
        site = self.site
        session = session or require(site, request, _fleet_role)
        device = request.path_params["device"]
        now = site.clock()
        row = next((r for r in load_fleet(site.store, now) if r.device == device), None)
        if row is None:
            return render(request, "error.html", session, 404, message="No such device.")
        points = load_history(site.store, device, now)
        tr = Lang(session.account.lang)
        changes = registry.audit_trail(site.store, device)[-20:]
        return render(request, "device.html", session, status, row=row,
                      chart=history_svg(points, now, tr), points=points[-50:][::-1],
                      labels=problem_labels(tr), changes=changes[::-1],
                      surveys=list(known_surveys()), message=message, error=error)

    def device_get(self, request: Request) -> Response:
        return self.device_page(request)

    async def move(self, request: Request) -> Response:
        site = self.site
        session, form = await posted(site, request, _fleet_role)
        device = request.path_params["device"]
        place = {k: form.get(k, "").strip() or None for k in ("site", "area", "unit")}
        actor = f"web:{session.account.name}"
        try:
            origin = await run_in_threadpool(lambda: registry.move(
                site.store, device, site=place["site"], area=place["area"], unit=place["unit"],
                actor=actor, at=site.clock()))
        except PalauteError as exc:
            return await run_in_threadpool(self.device_page, request, "", str(exc), session,
                                           400)
        await run_in_threadpool(audit, site.store, site.clock(), session.account.name, "move",
                                client_address(request), device=device, to=origin.place())
        return await run_in_threadpool(self.device_page, request, "Moved.", "", session)

    async def publish(self, request: Request) -> Response:
        site = self.site
        session, form = await posted(site, request, _fleet_role)
        device = request.path_params["device"]
        try:
            topic, detail = await run_in_threadpool(_publish, site, device, form)
        except (PalauteError, ValueError) as exc:
            return await run_in_threadpool(self.device_page, request, "", str(exc), session,
                                           400)
        await run_in_threadpool(audit, site.store, site.clock(), session.account.name,
                                "publish-config", client_address(request), device=device,
                                topic=topic, **detail)
        return await run_in_threadpool(self.device_page, request, "Configuration published.",
                                       "", session)

    def enrol_form(self, request: Request) -> Response:
        session = require(self.site, request, _fleet_role)
        return render(request, "enrol.html", session, token="", error="",
                      surveys=_survey_names())

    async def enrol(self, request: Request) -> Response:
        site = self.site
        session, form = await posted(site, request, _fleet_role)
        try:
            token = await run_in_threadpool(_make_token, site, session, form)
        except (PalauteError, ValueError) as exc:
            return render(request, "enrol.html", session, 400, token="", error=str(exc),
                          surveys=_survey_names())
        await run_in_threadpool(audit, site.store, site.clock(), session.account.name,
                                "enroll-token", client_address(request),
                                device=form.get("device", ""), site=form.get("site", ""),
                                area=form.get("area", ""), unit=form.get("unit", ""))
        return render(request, "enrol.html", session, token=token, error="",
                      surveys=_survey_names())


def _survey_names() -> list[str]:
    return [s.removesuffix(".toml") for s in known_surveys()]


def _publish(site: Site, device: str, form: dict[str, str]) -> tuple[str, dict[str, object]]:
    """Publish what the form asks for; (topic, what was published for the audit)."""
    if site.config is None:
        raise PalauteError("this web page runs without the central's config: publish with "
                           "`palaute central publish-config`")
    origin = registry.lookup(site.store, device)
    if origin is None:
        raise PalauteError(f"device {device} is not in the registry: move it to a place first")
    version_text = form.get("version", "").strip()
    if not version_text.isdigit():
        raise ValueError("the version must be a whole number")
    survey_name = form.get("survey", "")
    surveys = known_surveys()
    if survey_name and survey_name not in surveys:
        raise ValueError(f"unknown survey {survey_name!r}")
    settings = dict(parse_setting(line) for line in form.get("settings", "").splitlines()
                    if line.strip())
    topic = publish_config(site.config, origin.site, device, int(version_text),
                           surveys[survey_name] if survey_name else None, settings)
    return topic, {"version": int(version_text), "survey": survey_name or None,
                   "settings": settings}


def _make_token(site: Site, session: Session, form: dict[str, str]) -> str:
    from central.enroll import EnrolmentError, EnrolmentSettings, TokenBook

    settings = EnrolmentSettings.from_config(site.config) if site.config else None
    if settings is None:
        raise EnrolmentError("the central's config has no [enrol] section: add one to "
                             "enrol devices")
    try:
        hours = float(form.get("hours", "72") or "72")
    except ValueError:
        raise EnrolmentError("the validity must be hours, e.g. 72") from None
    if not 0 < hours <= 24 * 30:
        raise EnrolmentError("the validity must be between 0 and 720 hours")
    book = TokenBook(settings.tokens)
    try:
        return book.make(
            {"device_id": form.get("device", "").strip(), "site": form.get("site", "").strip(),
             "area": form.get("area", "").strip(), "unit": form.get("unit", "").strip(),
             "roles": [r.strip() for r in form.get("roles", "").split(",") if r.strip()],
             "survey": form.get("survey", "national") or "national",
             "made_by": f"web:{session.account.name}"},
            site.clock(), timedelta(hours=hours))
    finally:
        book.close()
