"""Shared by the kiosk session tests: the national survey, session settings, an event feeder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.session import Settings, State, initial_state, step
from survey.definition import load_survey, shipped_survey_path
from survey.model import Survey

T0 = datetime(2025, 3, 4, 8, 0, 0, tzinfo=UTC)  # 10:00 in Helsinki: open


@pytest.fixture(scope="module")
def national() -> Survey:
    return load_survey(shipped_survey_path("national"))


@pytest.fixture
def settings(national: Survey) -> Settings:
    qs = tuple(national.questions[q] for q in ("nps", "s1", "open"))
    return Settings(survey=national, questions=qs, languages=("fi", "sv", "en"))


def run(settings: Settings, events: list, state: State | None = None,
        start: datetime = T0, gap: float = 2.0) -> tuple[State, list, datetime]:
    """Feed events `gap` seconds apart; all effects in order."""
    st = state or initial_state(settings)
    now = start
    effects: list = []
    for ev in events:
        st, eff = step(st, ev, now, settings)
        effects += eff
        now += timedelta(seconds=gap)
    return st, effects, now
