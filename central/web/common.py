"""What every page shares: templates, the logged-in session, forms with CSRF, headers.

Pages are Jinja2 templates (`templates/`, autoescaped) in the account's language: the
template's `t("…")` is `central.i18n.Lang.t`, the same catalogues as the report. A
request's session comes from its cookie (`central.web.accounts.find_session`); a form
is refused unless it carries the session's CSRF token. Every page answer carries a
strict Content-Security-Policy (scripts and styles from this site only).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from central.i18n import LANGS, Lang
from central.store import CentralStore
from central.web.accounts import LoginThrottle, Role, Session, find_session
from central.web.fleet import local_text
from survey.config import Config

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
COOKIE = "palaute_session"
SECURE_COOKIE = "__Host-palaute_session"  # the prefix makes browsers insist on Secure, Path=/
BODY_TIMEOUT = 10.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

# Messages the pages show through a variable (`t(error)`, `t(role)`), not a literal `t("…")`:
# listed here so that the catalogue test finds them.
MESSAGES = ("technician", "leader", "admin", "online", "offline", "unknown",
            "Wrong name or password.", "The form was old: try again.",
            "Too many failed logins: wait 15 minutes.", "Moved.", "Configuration published.",
            "No such device.")

_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                          autoescape=True, undefined=jinja2.StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
_ENV.filters["local"] = local_text


@dataclass
class Site:
    """What the pages work with: the store, the central's config, clocks and limits."""

    store: CentralStore
    config: Config | None
    secure_cookies: bool
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    stopping: threading.Event | None = None  # set when the server stops (ends live streams)
    live_interval: float = 1.0

    @property
    def cookie_name(self) -> str:
        return SECURE_COOKIE if self.secure_cookies else COOKIE


def render(request: Request, template: str, session: Session | None, status: int = 200,
           **context: Any) -> HTMLResponse:
    """A page from its template, in the session's language (Finnish before login)."""
    lang = session.account.lang if session else request.query_params.get("lang", "fi")
    tr = Lang(lang if lang in LANGS else "fi")
    page = _ENV.get_template(template).render(
        t=tr.t, lang=tr.code, tr=tr, session=session, path=request.url.path, Role=Role,
        **context)
    return HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)


def client_address(request: Request) -> str:
    """The client's address as the server sees it (uvicorn applies a trusted proxy's)."""
    return request.client.host if request.client else "?"


def current_session(site: Site, request: Request) -> Session | None:
    """The request's live session, or None (runs in a worker thread: it reads the store)."""
    token = request.cookies.get(site.cookie_name)
    if not token or len(token) > 200:
        return None
    return find_session(site.store, token, site.clock())


class Refused(Exception):
    """A request the page answers with `response` instead (login needed, forbidden, bad form)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def require(site: Site, request: Request, allowed: Callable[[Role], bool]) -> Session:
    """The session of an account whose role passes `allowed`; Refused otherwise."""
    session = current_session(site, request)
    if session is None:
        raise Refused(RedirectResponse(f"/login?next={request.url.path}", status_code=303))
    if not allowed(session.account.role):
        raise Refused(PlainTextResponse("your role may not open this page", status_code=403,
                                        headers=SECURITY_HEADERS))
    return session


async def read_form(request: Request) -> dict[str, str]:
    """The posted form (application/x-www-form-urlencoded), one value per field."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise Refused(PlainTextResponse("send the form as a browser does", status_code=415))
    try:
        body = await asyncio.wait_for(request.body(), BODY_TIMEOUT)
    except TimeoutError:
        raise Refused(PlainTextResponse("the form came too slowly", status_code=408)) from None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
                          max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise Refused(PlainTextResponse("the form cannot be read", status_code=400)) from None
    return {k: v[-1] for k, v in fields.items()}


async def posted(site: Site, request: Request, allowed: Callable[[Role], bool]
                 ) -> tuple[Session, dict[str, str]]:
    """The session and form of a POST whose CSRF token is the session's (403 otherwise)."""
    form = await read_form(request)
    session = await run_in_threadpool(require, site, request, allowed)
    if not session.csrf_ok(form.get("csrf")):
        raise Refused(PlainTextResponse("the form's security token is wrong or old: reload "
                                        "the page and try again", status_code=403,
                                        headers=SECURITY_HEADERS))
    return session, form


def json_script(value: Mapping[str, Any] | list[Any]) -> str:
    """JSON safe to place inside a <script type="application/json"> element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
