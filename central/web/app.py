"""The central's ASGI app: each part's routes behind the app-wide limits."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from central.web.limits import BodyLimit, RateLimit, RateLimiter

MAX_BODY_BYTES = 16 * 1024


def make_app(routes: Sequence[BaseRoute], *, rate_per_minute: int,
             max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """The app serving `routes`, each request first rate-limited per address, then size-checked."""
    return Starlette(routes=list(routes), middleware=[
        Middleware(RateLimit, limiter=RateLimiter(rate_per_minute)),
        Middleware(BodyLimit, max_bytes=max_body_bytes),
    ])
