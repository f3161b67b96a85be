"""App-wide request limits as ASGI middleware: body size and requests per address.

`RateLimiter` is the pure part (a sliding one-minute window per address, `now`
passed in); the middlewares only read the request's scope and answer 411, 413
or 429 before the app sees the request.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most `per_minute` requests per key in any 60 s; keeps at most `max_keys` keys."""

    def __init__(self, per_minute: int, max_keys: int = 10_000) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.max_keys = max_keys
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float) -> bool:
        """Whether a request from `key` at `now` (seconds) is allowed; counts it when it is."""
        times = self._seen.get(key)
        if times is None:
            if len(self._seen) >= self.max_keys:
                self._forget_idle(now)
                if len(self._seen) >= self.max_keys:
                    return False  # flooded from too many addresses: refuse newcomers
            times = self._seen[key] = deque()
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - WINDOW_SECONDS]:
            del self._seen[key]


async def _refuse(send: Send, status: int, message: str,
                  headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


class RateLimit:
    """429 for an address over its requests per minute (the address as the server sees it)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self.limiter, self.clock = app, limiter, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            address = str(client[0]) if client else "?"
            if not self.limiter.allow(address, self.clock()):
                await _refuse(send, 429, "too many requests from this address; wait a minute",
                              ((b"retry-after", b"60"),))
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """411 for a body without Content-Length, 413 for one over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            if length is None:
                await _refuse(send, 411, "the request needs a Content-Length")
                return
            if not length.isdigit() or int(length) > self.max_bytes:
                await _refuse(send, 413, f"the request body is over {self.max_bytes} bytes")
                return
        await self.app(scope, receive, send)
