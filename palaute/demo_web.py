"""The demo's view in a browser: the central's web page on the demo's store.

`palaute central serve` serves the page during the run ([web] on loopback in the demo's
central config). When the run is over, `palaute central web` serves it again on the
same port; the demo logs in as a person would (the login form with its CSRF token),
checks that the fleet page lists the demo's devices and that the reports page shows
the report, and prints the address and the login.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import requests

LOGIN = "demo"


def web_section(port: int) -> str:
    """The `[web]` section of the demo's central config (loopback: no TLS needed)."""
    return f'\n[web]\nlisten = "127.0.0.1:{port}"\n'


def add_login(central_db: Path) -> str:
    """An admin account `demo` with a fresh password (returned; written nowhere else)."""
    from central.store import open_central
    from central.web.accounts import Role, add_account

    password = secrets.token_urlsafe(12)
    with open_central(f"sqlite:///{central_db}") as store:
        add_account(store, LOGIN, Role.ADMIN, password, datetime.now(UTC), lang="fi")
    return password


def check_page(base: str, password: str, devices: Sequence[str]) -> list[str]:
    """What the page fails to show (empty when it shows every device and the report)."""
    problems = []
    with requests.Session() as client:
        form = client.get(f"{base}/login", timeout=30)
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        if token is None:
            return [f"{base}/login has no login form"]
        client.post(f"{base}/login", data={"csrf": token.group(1), "name": LOGIN,
                                           "password": password, "next": "/"}, timeout=30)
        fleet = client.get(f"{base}/fleet", timeout=30)
        if fleet.status_code != 200:
            return [f"{base}/fleet answered {fleet.status_code} after logging in"]
        problems += [f"the fleet page does not list {d}" for d in devices
                     if f'data-device="{d}"' not in fleet.text]
        report = client.get(f"{base}/reports?by=channel", timeout=120)
        if report.status_code != 200 or 'class="report"' not in report.text:
            problems.append(f"the reports page answered {report.status_code} without a report")
    return problems
