"""A review set: one contact sheet (every screen of a scripted session on one PNG) for each
resolution and language, so that a reviewer can look at the whole kiosk at once.

Written into $PALAUTE_REVIEW_DIR when set (e.g. PALAUTE_REVIEW_DIR=review pytest ...),
else into the test's temporary folder.
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pygame
import pytest

from kiosk.app import load_kiosk
from kiosk.events import Command, PickLanguage, PickOption
from kiosk.simulation import SHEET_COLUMNS, simulate
from kiosk.state import Screen, SessionState
from palaute.demo_scripts import Kiosk, touch
from survey.definition import shipped_survey_path

MORNING = datetime(2025, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
RESOLUTIONS = ["800x480", "1280x720", "720x1280"]
LANGS = ["fi", "sv", "en"]


FACES = """
scale = "smileys5"
questions = ["s1", "s2"]
buttons = { pins = ["GPIO5", "GPIO6", "GPIO13", "GPIO19", "GPIO26"] }
simulate_gpio = true
"""


def _config(tmp_path: Path, resolution: str, extra: str = 'questions = ["nps", "s1", "open"]'
            ) -> Path:
    path = tmp_path / "device.toml"
    path.write_text(f"""
[device]
id = "tays-lobby-3"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"

[survey]
file = "{shipped_survey_path("national")}"

[kiosk]
resolution = "{resolution}"
{extra}
""", encoding="utf-8")
    return path


def _session(k: Kiosk, lang: str) -> list[str]:
    """Welcome, every question, the time-out warning, free text, thanks; then the audio menu."""
    q = Screen.QUESTION
    return [
        touch(k, SessionState(), PickLanguage(lang)),
        touch(k, SessionState(screen=q, index=0, lang=lang), PickOption(9)),
        "wait 31",  # the warning: "are you still answering?"
        touch(k, SessionState(screen=q, index=1, lang=lang, warned=True), Command.CONTINUE),
        touch(k, SessionState(screen=q, index=1, lang=lang), PickOption(3)),
        "type Ystävällinen hoitaja, kiitos!",
        touch(k, SessionState(screen=Screen.TEXT, index=2, lang=lang), Command.SEND),
        "wait 6",
        "headphones in",
        "wait 1",
    ]


def _face_session(k: Kiosk, lang: str) -> list[str]:
    """The face kiosk: the welcome (its first question) in `lang`, three presses, thanks,
    then a blind patient's button heard before it counts."""
    return [touch(k, SessionState(), PickLanguage(lang)), "button 4", "button 5", "button 2",
            "wait 6", "headphones in", "button 3", "wait 1"]


@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_contact_sheet_of_the_face_kiosk(tmp_path: Path, resolution: str) -> None:
    for lang in LANGS:
        (tmp_path / lang).mkdir()
        cfg = _config(tmp_path / lang, resolution, FACES)
        loaded = load_kiosk(cfg)
        k = Kiosk(loaded.kiosk.settings, loaded.kiosk.resolution)
        result = simulate(cfg, _face_session(k, lang), tmp_path / lang / "shots", start=MORNING)
        (row,) = result.rows
        assert row.lang == lang and row.answers["faces"].value == 4
        lit = [b.face for layout in result.layouts for b in layout.boxes
               if b.kind == "face" and b.selected]
        assert lit[:3] == [4, 5, 2], "each pressed face lit on its sheet"
        assert result.contact_sheet is not None
        review = os.environ.get("PALAUTE_REVIEW_DIR")
        if review:
            Path(review).mkdir(parents=True, exist_ok=True)
            shutil.copy(result.contact_sheet, Path(review) / f"faces-{resolution}-{lang}.png")


@pytest.mark.parametrize(("resolution", "lang"), list(itertools.product(RESOLUTIONS, LANGS)))
def test_contact_sheet_of_a_whole_session(tmp_path: Path, resolution: str, lang: str) -> None:
    cfg = _config(tmp_path, resolution)
    loaded = load_kiosk(cfg)
    k = Kiosk(loaded.kiosk.settings, loaded.kiosk.resolution)
    result = simulate(cfg, _session(k, lang), tmp_path / "shots", start=MORNING)
    (row,) = result.rows
    assert row.status == "complete" and row.lang == lang
    sheet = result.contact_sheet
    assert sheet is not None and sheet.exists()
    image = pygame.image.load(str(sheet))
    w, h = loaded.kiosk.resolution
    rows = -(-len(result.screenshots) // SHEET_COLUMNS)
    cell_w = (image.get_width() - 12 * (SHEET_COLUMNS + 1)) // SHEET_COLUMNS
    assert image.get_height() == 12 + rows * (cell_w * h // w + 28 + 12)
    assert len(result.screenshots) >= 7, "welcome, 3 questions, warning, thanks, audio menu"
    shown = {b.text for layout in result.layouts for b in layout.boxes}
    assert {"Vastaatko vielä?", "Are you still answering?",
            "Svarar du fortfarande?"} & shown, "the warning is on the sheet"
    review = os.environ.get("PALAUTE_REVIEW_DIR")
    if review:
        Path(review).mkdir(parents=True, exist_ok=True)
        shutil.copy(sheet, Path(review) / f"kiosk-{resolution}-{lang}.png")
