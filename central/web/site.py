"""The central's web page: `[web]` of the central's config, the app, and serving it.

`palaute central serve` runs it beside the receiver when the config has `[web]` (and the
enrolment endpoint then on the same listener); `palaute central web` runs the page alone
(a second host reading the same PostgreSQL, or the demo after its run).

    [web]
    listen = "0.0.0.0:8443"        # HOST:PORT
    certfile = "/etc/palaute/web.crt"  # HTTPS served here (or: behind a reverse proxy)
    keyfile = "/etc/palaute/web.key"
    proxy = ["127.0.0.1"]          # reverse proxies trusted for X-Forwarded-For/-Proto
    rate_per_minute = 600          # requests per client address

Plain HTTP is allowed only on loopback (the demo, or a reverse proxy on the same host,
which then terminates HTTPS: the session cookie is sent only over HTTPS unless the page
runs on loopback without a proxy).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from central.report_model import ReportError
from central.store import CentralStore
from central.web.app import MAX_BODY_BYTES
from central.web.auth_pages import auth_routes
from central.web.common import HERE, SECURITY_HEADERS, Refused, Site
from central.web.fleet_pages import fleet_routes
from central.web.limits import BodyLimit, RateLimit, RateLimiter
from central.web.report_pages import report_routes
from central.web.server import WebServer, tls_context
from survey.config import Config
from survey.errors import ConfigError
from sync.mqtt import is_loopback

log = logging.getLogger(__name__)

DEFAULT_RATE_PER_MINUTE = 600


@dataclass(frozen=True)
class WebSettings:
    """`[web]` of the central's config."""

    listen_host: str
    listen_port: int
    certfile: Path | None = None
    keyfile: Path | None = None
    proxies: tuple[str, ...] = ()
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS: served with TLS here, or by a proxy that does."""
        return self.certfile is not None or bool(self.proxies)

    @classmethod
    def from_config(cls, config: Config) -> WebSettings | None:
        """None when the config has no `[web]` section."""
        if not config.has("web"):
            return None
        sec = config.section("web")
        sec.check_keys({"listen", "certfile", "keyfile", "proxy", "rate_per_minute"})
        host, _, port = sec.get_str("listen").rpartition(":")
        if not port.isdigit() or not host:
            raise sec.error("listen", "must be HOST:PORT")
        certfile, keyfile = sec.get_path("certfile", None), sec.get_path("keyfile", None)
        if (certfile is None) != (keyfile is None):
            raise sec.error("certfile", "certfile and keyfile go together")
        proxies = tuple(sec.get_str_list("proxy", []))
        if certfile is None and not is_loopback(host):
            raise sec.error("listen", "passwords travel: serve HTTPS (certfile, keyfile) or "
                            "listen on 127.0.0.1 behind a reverse proxy that does")
        return cls(host, int(port), certfile, keyfile, proxies,
                   sec.get_int("rate_per_minute", DEFAULT_RATE_PER_MINUTE, min=10))


def make_site_app(site: Site, report_settings: object, *,
                  rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
                  more: Sequence[BaseRoute] = ()) -> Starlette:
    """The web page's app: its routes, `more` (the enrolment endpoint) and the static files."""
    from central.cli_report import ReportSettings

    assert isinstance(report_settings, ReportSettings)

    def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return exc.response

    def bad_report(request: Request, exc: Exception) -> Response:
        return PlainTextResponse(str(exc), status_code=400, headers=SECURITY_HEADERS)

    routes: list[BaseRoute] = [*auth_routes(site), *fleet_routes(site),
                               *report_routes(site, report_settings),
                               Mount("/static", StaticFiles(directory=HERE / "static"),
                                     name="static"), *more]
    return Starlette(routes=routes, middleware=[
        Middleware(RateLimit, limiter=RateLimiter(rate_per_minute)),
        Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES),
    ], exception_handlers={Refused: refused, ReportError: bad_report, ConfigError: bad_report})


class WebPage:
    """The web page (and the enrolment endpoint beside it) served from a thread."""

    def __init__(self, config: Config, settings: WebSettings, store: CentralStore, *,
                 more: Sequence[BaseRoute] = (), live_interval: float = 1.0) -> None:
        from central.cli_receiver import central_db_url
        from central.cli_report import report_settings

        self.site = Site(store, config, settings.secure_cookies, stopping=threading.Event(),
                         live_interval=live_interval)
        reports = report_settings(central_db_url(config), config.path)
        app = make_site_app(self.site, reports, rate_per_minute=settings.rate_per_minute,
                            more=more)
        tls = tls_context(settings.certfile, settings.keyfile) \
            if settings.certfile and settings.keyfile else None
        self.web = WebServer(app, settings.listen_host, settings.listen_port, tls=tls,
                             proxies=settings.proxies)

    @property
    def port(self) -> int:
        return self.web.port

    def start(self) -> WebPage:
        self.web.start()
        log.info("web page on port %d", self.port)
        return self

    def close(self) -> None:
        """Stop serving (live streams end first); safe to call twice."""
        if self.site.stopping is not None:
            self.site.stopping.set()
        self.web.close()
