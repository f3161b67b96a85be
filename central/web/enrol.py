"""The enrolment endpoint: `POST /enroll` with {"token": …} → the device's settings.

The work (token, broker files, broker reload) is `central.enroll.Enrolment.enrol`,
run in a worker thread; this module only reads the request and maps outcomes to
HTTP: 400 malformed, 403 token refused, 408 body too slow, 503 the central could
not finish (the token is then still valid).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from central.enroll import Enrolment, EnrolmentError, TokenRefused

log = logging.getLogger(__name__)

BODY_TIMEOUT = 10.0  # seconds to send the (small) body once the headers are in


def _reply(status: int, body: dict[str, object]) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def enrol_routes(enrolment: Enrolment) -> list[BaseRoute]:
    """The routes of the enrolment endpoint."""

    async def enroll(request: Request) -> JSONResponse:
        try:
            body = await asyncio.wait_for(request.body(), BODY_TIMEOUT)
        except TimeoutError:
            return _reply(408, {"error": "the request body came too slowly"})
        try:
            token = json.loads(body)["token"]
            if not isinstance(token, str) or not token:
                raise TypeError("token must be a non-empty string")
        except (ValueError, KeyError, TypeError) as exc:
            return _reply(400, {"error": f"bad request: {exc.__class__.__name__}"})
        try:
            result = await run_in_threadpool(enrolment.enrol, token, datetime.now(UTC))
        except TokenRefused:
            return _reply(403, {"error": "token refused"})
        except EnrolmentError as exc:
            log.error("enrolment failed: %s", exc)
            return _reply(503, {"error": "the central could not finish the enrolment; the "
                                "token is still valid: try again later"})
        return _reply(200, result)

    return [Route("/enroll", enroll, methods=["POST"])]
