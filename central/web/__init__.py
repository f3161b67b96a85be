"""The central's web side: one ASGI app (Starlette) served by uvicorn over TLS.

`app.make_app` joins the routes of each part (today the enrolment endpoint,
`enrol.enrol_routes`) behind app-wide limits (`limits`): a request body size
limit and a per-address rate limit. `server.WebServer` runs it in a thread
beside the receiver with TLS and timeouts. A new page is one more module with
its routes, added in `make_app`'s caller.
"""
