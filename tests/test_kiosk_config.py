"""The [kiosk] section: defaults that work, and errors that name the key."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from kiosk.config import load_kiosk_config
from kiosk.state import Scale
from survey.config import Config
from survey.definition import load_survey, shipped_survey_path
from survey.errors import ConfigError
from survey.response import FACES_QUESTION


def config(tmp_path: Path, kiosk: dict[str, object]) -> Config:
    return Config(tmp_path / "device.toml", {"kiosk": kiosk})


def test_empty_section_gives_a_working_touch_kiosk(tmp_path: Path) -> None:
    survey = load_survey(shipped_survey_path("national"))
    k = load_kiosk_config(config(tmp_path, {}), survey)
    s = k.settings
    assert [q.id for q in s.questions] == list(survey.channels["kiosk"])
    assert (s.scale, s.languages, s.default_lang) == (Scale.NPS, survey.languages, "fi")
    assert (s.idle_timeout, s.audio_idle_timeout, s.opening_hours) == (30.0, 90.0, None)
    # The volume keys reach 18 dB either way from where each session starts.
    assert s.volume_db - s.volume_min_db >= 18 and s.volume_max_db - s.volume_db >= 18
    assert k.panel_inches == 7.0 and not k.simulate_audio and not k.simulate_gpio
    assert k.resolution == (800, 480) and k.fullscreen is None
    assert k.prompts_dir == tmp_path / "prompts" and not k.buttons.any


def test_button_kiosk_with_smileys(tmp_path: Path) -> None:
    survey = load_survey(shipped_survey_path("children"))
    k = load_kiosk_config(config(tmp_path, {
        "scale": "smileys4", "questions": ["mood"], "resolution": "720x1280",
        "buttons": {"pins": ["GPIO5", 6, "BOARD33", "GPIO19"]}, "headphone_pin": "GPIO4",
        "opening_hours": "07:30-20:00", "fullscreen": True,
    }), survey)
    assert k.settings.faces == (1, 2, 4, 5)
    assert [q.id for q in k.settings.questions] == ["mood"], "its own face question first"
    assert k.buttons.pins == ("GPIO5", "GPIO6", "BOARD33", "GPIO19")
    assert k.settings.opening_hours == (time(7, 30), time(20, 0))
    assert k.resolution == (720, 1280) and k.fullscreen is True


@pytest.mark.parametrize(("kiosk", "key", "words"), [
    ({"scale": "stars"}, "scale", "must be one of nps, smileys5, smileys4"),
    ({"resolution": "big"}, "resolution", "800x480"),
    ({"leds": ["GPIO12"], "buttons": {"pins": ["GPIO5", "GPIO6"]}, "scale": "smileys5"},
     "leds", "one LED per button"),
    ({"buttons": {"pins": ["BOARD1"]}}, "buttons.pins", "not a GPIO"),
    ({"buttons": {"pin": ["GPIO5"]}}, "buttons.pin", "unknown key (did you mean pins?)"),
    ({"languages": ["de"]}, "languages", "no 'de' texts"),
    ({"default_language": "en", "languages": ["fi"]}, "default_language", "not in languages"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
    ({"idle_timeout": "30"}, "idle_timeout", "must be a number"),
    ({"lockout": 1.0}, "lockout", "repeat_interval"),
    ({"questions": ["open", "nps"]}, "questions", "first question cannot be free text"),
    ({"min_volume": -30.0}, "min_volume", "at least 18 dB below default_volume"),
    ({"default_volume": -6.0, "min_volume": -30.0}, "default_volume", "at least 18 dB up"),
    ({"scale": "smileys5", "questions": ["nps", "s1"]}, "questions", "instead of the 0-10"),
    ({"scale": "smileys5", "buttons": {"pins": ["GPIO5", "GPIO6", "GPIO13", "GPIO19",
                                                "GPIO26"], "values": [0, 4, 7, 9, 10]}},
     "buttons.values", "stores the face itself"),
])
def test_errors_name_the_key(tmp_path: Path, kiosk: dict[str, object], key: str,
                             words: str) -> None:
    survey = load_survey(shipped_survey_path("national"))
    with pytest.raises(ConfigError) as err:
        load_kiosk_config(config(tmp_path, kiosk), survey)
    assert err.value.key == f"kiosk.{key}" and words in str(err.value)


def test_a_face_kiosk_asks_faces_first_and_leaves_the_0_to_10_out(tmp_path: Path) -> None:
    survey = load_survey(shipped_survey_path("national"))
    k = load_kiosk_config(config(tmp_path, {
        "scale": "smileys5", "buttons": {"pins": ["GPIO5", "GPIO6", "GPIO13", "GPIO19",
                                                  "GPIO26"]}}), survey)
    ids = [q.id for q in k.settings.questions]
    rest = [q for q in survey.channels["kiosk"] if survey.questions[q].kind != "nps"]
    assert ids == [FACES_QUESTION, *rest]
    assert k.settings.questions[0].prompt("sv") == "Hur var ditt besök i dag?"
    assert k.settings.buttons == 5
