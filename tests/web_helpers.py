"""The central's web page for tests: a config, accounts, a served page, a logged-in client."""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import requests
from services import free_port

from central.store import CentralStore, open_central
from central.web.site import WebPage, WebSettings
from survey.config import load_config

PASSWORD = "correct horse battery"


def write_central_config(folder: Path, db_url: str, *, broker_port: int = 1,
                         web_port: int | None = None, extra: str = "") -> Path:
    """A central config with [central], [mqtt] and [web] on loopback."""
    path = folder / "central.toml"
    path.write_text(f'[central]\ndb = "{db_url}"\n[mqtt]\n'
                    f'url = "mqtt://127.0.0.1:{broker_port}"\n'
                    f'[web]\nlisten = "127.0.0.1:{web_port or free_port()}"\n{extra}', "utf-8")
    return path


@contextlib.contextmanager
def served(config_path: Path) -> Iterator[tuple[WebPage, str, CentralStore]]:
    """The web page of `config_path` served on its port; (page, base URL, its store)."""
    config = load_config(config_path)
    settings = WebSettings.from_config(config)
    assert settings is not None
    from central.cli_receiver import central_db_url

    with open_central(central_db_url(config)) as store:
        page = WebPage(config, settings, store, live_interval=0.2).start()
        try:
            yield page, f"http://127.0.0.1:{page.port}", store
        finally:
            page.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def login(base: str, name: str, password: str = PASSWORD) -> tuple[requests.Session,
                                                                   requests.Response]:
    """A client session after posting the login form (the response of the post)."""
    client = requests.Session()
    form = client.get(f"{base}/login", timeout=10)
    answer = client.post(f"{base}/login", data={"csrf": csrf_of(form.text), "name": name,
                                                 "password": password, "next": "/"},
                         timeout=10, allow_redirects=False)
    return client, answer


def stdin_password(monkeypatch: object, password: str = PASSWORD) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
