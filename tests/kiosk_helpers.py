"""Shared by the kiosk session tests: the national survey, session settings, an event feeder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.events import Effect, Event, Speak
from kiosk.session import step
from kiosk.state import Scale, SessionSettings, SessionState, faces_question, initial_state
from survey.definition import load_survey, shipped_survey_path
from survey.model import Survey

T0 = datetime(2025, 3, 4, 8, 0, 0, tzinfo=UTC)  # 10:00 in Helsinki: open


@pytest.fixture(scope="module")
def national() -> Survey:
    return load_survey(shipped_survey_path("national"))


@pytest.fixture
def settings(national: Survey) -> SessionSettings:
    qs = tuple(national.questions[q] for q in ("nps", "s1", "open"))
    return SessionSettings(survey=national, questions=qs, languages=("fi", "sv", "en"))


def face_settings(survey: Survey, scale: Scale = Scale.SMILEYS5, *rest: str,
                  **more: object) -> SessionSettings:
    """A face kiosk as kiosk.config builds it: `faces` first, then `rest`."""
    langs = ("fi", "sv", "en")
    qs = (faces_question(survey, langs), *(survey.questions[q] for q in rest))
    return SessionSettings(survey=survey, questions=qs, scale=scale,
                           buttons=len(scale.faces), **more)  # type: ignore[arg-type]


def run(settings: SessionSettings, events: list[Event], state: SessionState | None = None,
        start: datetime = T0, gap: float = 2.0) -> tuple[SessionState, list[Effect], datetime]:
    """Feed events `gap` seconds apart; all effects in order."""
    st = state or initial_state(settings)
    now = start
    effects: list[Effect] = []
    for ev in events:
        st, eff = step(st, ev, now, settings)
        effects += eff
        now += timedelta(seconds=gap)
    return st, effects, now


def said(effects: list[Effect]) -> list[str]:
    """Every text the effects speak, in order."""
    return [u.text for e in effects if isinstance(e, Speak) for u in e.parts]


def said_in(effects: list[Effect]) -> list[tuple[str, str]]:
    """Every (lang, text) the effects speak, in order."""
    return [(u.lang, u.text) for e in effects if isinstance(e, Speak) for u in e.parts]
