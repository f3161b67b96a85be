"""Shared fixtures: a fresh store, a device identity, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from survey.config import DeviceIdentity
from survey.store import Store

REPO = Path(__file__).resolve().parent.parent

# Fixtures shared by several test files (a file's own fixture of the same name wins).
pytest_plugins = ["kiosk_helpers", "sms_helpers"]

# In CI the property tests run the same examples every time (a landing must not hang on a
# new random draw, and a shared machine must not trip time limits); run them without CI to
# explore new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def origin() -> DeviceIdentity:
    return DeviceIdentity(id="tays-lobby-3", site="tays", area="sairaalapalvelut", unit="ensiapu")


@pytest.fixture
def now() -> datetime:
    return datetime(2025, 3, 4, 8, 15, 2, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as s:
        yield s


# -- real services (tests/services.py): a PostgreSQL cluster for the central store ----------

@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """The session's PostgreSQL server. A skip only when PostgreSQL is not installed here;
    a cluster that is installed but cannot start fails every test that needs it."""
    from services import postgres_absent, start_postgres

    absent = postgres_absent()
    if absent:
        pytest.skip(absent)
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty central database: an SQLite file, or a new PostgreSQL database."""
    from services import new_central_url

    return new_central_url(request, tmp_path)
