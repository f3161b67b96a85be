"""Login, logout, the start page and the audit log.

The login form carries a CSRF token of its own (a cookie and the same value in the
form, as there is no session yet). Failed logins are limited per account name and per
address (`LoginThrottle`); every login, failed login and logout is audited.
"""

from __future__ import annotations

import hmac
import secrets
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from central.web.accounts import (
    Role,
    audit,
    audit_log,
    close_session,
    open_session,
    verify_login,
)
from central.web.common import (
    SECURITY_HEADERS,
    Site,
    client_address,
    current_session,
    posted,
    read_form,
    render,
    require,
)

LOGIN_CSRF = "palaute_login"


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no //host or scheme): no open redirect after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def auth_routes(site: Site) -> list[BaseRoute]:
    """/, /login, /logout and /audit."""
    pages = AuthPages(site)
    return [Route("/", pages.home), Route("/login", pages.login_form, methods=["GET"]),
            Route("/login", pages.login, methods=["POST"]),
            Route("/logout", pages.logout, methods=["POST"]),
            Route("/audit", pages.audit_page), Route("/robots.txt", pages.robots)]


class AuthPages:
    """The login, logout, start and audit pages of one site (each method one page)."""

    def __init__(self, site: Site) -> None:
        self.site = site

    def home(self, request: Request) -> Response:
        session = current_session(self.site, request)
        if session is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/fleet" if session.account.role.sees_fleet else "/reports",
                                status_code=303)

    def login_page(self, request: Request, error: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, status, csrf=token, error=error,
                          next=_safe_next(request.query_params.get("next")))
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict",
                            secure=self.site.secure_cookies, max_age=3600)
        return response

    def login_form(self, request: Request) -> Response:
        return self.login_page(request)

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        cookie = request.cookies.get(LOGIN_CSRF, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), form.get("csrf", "").encode()):
            return self.login_page(request, "The form was old: try again.", 403)
        name, password = form.get("name", "").strip(), form.get("password", "")
        address = client_address(request)
        if not self.site.throttle.allowed(name, address, time.monotonic()):
            await run_in_threadpool(audit, self.site.store, self.site.clock(), name or "?",
                                    "login-throttled", address)
            return self.login_page(request, "Too many failed logins: wait 15 minutes.", 429)
        account = await run_in_threadpool(verify_login, self.site.store, name, password)
        if account is None:
            self.site.throttle.failed(name, address, time.monotonic())
            await run_in_threadpool(audit, self.site.store, self.site.clock(), name or "?",
                                    "login-failed", address)
            return self.login_page(request, "Wrong name or password.", 401)
        site = self.site
        token = await run_in_threadpool(open_session, site.store, account, site.clock())
        await run_in_threadpool(audit, site.store, site.clock(), account.name, "login", address)
        target = _safe_next(form.get("next"))
        response = RedirectResponse(target if target != "/" else "/", status_code=303)
        response.set_cookie(self.site.cookie_name, token, httponly=True, samesite="strict",
                            secure=self.site.secure_cookies, path="/")
        response.delete_cookie(LOGIN_CSRF)
        return response

    async def logout(self, request: Request) -> Response:
        session, _ = await posted(self.site, request, lambda role: True)
        token = request.cookies.get(self.site.cookie_name, "")
        await run_in_threadpool(close_session, self.site.store, token)
        await run_in_threadpool(audit, self.site.store, self.site.clock(), session.account.name,
                                "logout", client_address(request))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(self.site.cookie_name, path="/", secure=self.site.secure_cookies,
                               httponly=True, samesite="strict")
        return response

    def audit_page(self, request: Request) -> Response:
        session = require(self.site, request, lambda role: role is Role.ADMIN)
        return render(request, "audit.html", session, entries=audit_log(self.site.store, 500))

    def robots(self, request: Request) -> Response:
        return Response("User-agent: *\nDisallow: /\n", media_type="text/plain",
                        headers=SECURITY_HEADERS)
