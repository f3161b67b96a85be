"""The central's web server: uvicorn in a thread, TLS, timeouts and bounded connections.

Each connection's TLS handshake runs on the event loop beside the others (one idle
client blocks nobody) and is given up after `handshake_timeout`; an idle
keep-alive connection is closed after `keepalive_timeout`; beyond
`max_connections` the server answers 503.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import ssl
import threading
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from survey.errors import PalauteError

log = logging.getLogger(__name__)


class WebServerError(PalauteError):
    """The web server cannot start (address in use, unreadable certificate)."""


def tls_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 or newer) with the central's certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise WebServerError(f"{certfile}: cannot load the certificate and key: {exc}") from None
    return ctx


class WebServer:
    """Serves an ASGI app on HOST:PORT (TLS when a context is given) from its own thread."""

    def __init__(self, app: ASGIApp, host: str, port: int, *,
                 tls: ssl.SSLContext | None = None, handshake_timeout: float = 10.0,
                 keepalive_timeout: int = 5, max_connections: int = 200,
                 proxies: tuple[str, ...] = ()) -> None:
        self.handshake_timeout = handshake_timeout
        self._tls = tls is not None
        try:
            self._sock = socket.create_server((host, port), reuse_port=False)
        except OSError as exc:
            raise WebServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off",
            timeout_keep_alive=keepalive_timeout, limit_concurrency=max_connections,
            # X-Forwarded-For/-Proto only from the reverse proxies named in the config.
            proxy_headers=bool(proxies), forwarded_allow_ips=list(proxies) or None,
            h11_max_incomplete_event_size=16 * 1024, timeout_graceful_shutdown=5,
            # The context itself, made here: a bad certificate fails at start, in one line.
            ssl_context_factory=(lambda _config, _default: tls) if tls else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        if self._tls:
            # uvicorn passes no handshake timeout to create_server: asyncio's is 60 s.
            loop.create_server = functools.partial(  # type: ignore[method-assign]
                loop.create_server, ssl_handshake_timeout=self.handshake_timeout)
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._sock]))
            # A connection still open after the graceful shutdown is cut, not left to the
            # garbage collector (an open TLS transport would outlive its loop).
            for connection in list(self._server.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            loop.run_until_complete(asyncio.sleep(0))
        except Exception:  # the thread must say why it ended
            log.exception("the web server stopped")
        finally:
            loop.close()

    def start(self) -> WebServer:
        """Serve in the background."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving; safe to call twice."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._sock.close()
