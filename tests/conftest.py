"""Shared fixtures: a fresh store, a device identity, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from survey.config import DeviceIdentity
from survey.store import Store

REPO = Path(__file__).resolve().parent.parent


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
