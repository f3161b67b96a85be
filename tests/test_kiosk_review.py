"""Review findings: each test shows a way an answer was lost, left open or stored wrongly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from kiosk_helpers import T0, face_settings, run

from hardware.audio import AudioError, PromptCache
from kiosk.app import KioskLoop, load_kiosk
from kiosk.events import (
    Button,
    FinaliseResponse,
    Key,
    PickLanguage,
    PickOption,
    SetAnswer,
    SetVolume,
    Tap,
    Text,
)
from kiosk.state import Scale, Screen, SessionSettings
from survey.definition import shipped_survey_path
from survey.model import Survey
from survey.response import encode_answers
from survey.store import Store


def test_audio_back_from_language_menu_finalises_started_response(
        settings: SessionSettings) -> None:
    st, _, _ = run(settings, [Key("audio"), Key("enter"), Key("7"), Key("enter"), Key("enter"),
                              Key("back"), Key("back")])
    assert st.screen is Screen.LANGUAGE and st.started and st.answer("nps") == (7, None)
    st, eff, _ = run(settings, [Key("back")], st, start=T0 + timedelta(seconds=30))
    assert FinaliseResponse("abandoned") in eff and st.screen is Screen.IDLE


def test_new_session_from_thanks_screen_starts_at_default_volume_and_rate(
        national: Survey) -> None:
    s = SessionSettings(survey=national, questions=(national.questions["nps"],), languages=("fi",))
    st, _, now = run(s, [Key("audio"), Key("vol+"), Key("vol+"), Key("rate+"),
                         Key("9"), Key("enter"), Key("enter")])
    assert st.screen is Screen.THANKS and st.volume_db == s.volume_db + 2 * s.volume_step_db
    # The next patient presses a key while the thanks screen is still up.
    st, eff, _ = run(s, [Key("down")], st, start=now)
    assert st.screen is Screen.QUESTION and st.audio
    assert (st.volume_db, st.rate) == (s.volume_db, s.rate)
    assert SetVolume(s.volume_db) in eff
    assert all(e.rate == s.rate for e in eff if hasattr(e, "rate"))


def test_audio_switched_on_at_free_text_keeps_typed_text(settings: SessionSettings) -> None:
    st, eff, _ = run(settings, [Tap(PickLanguage("fi")), Tap(PickOption(9)),
                                Tap(PickOption(4)), Text("Hyvä hoito")])
    assert st.screen is Screen.TEXT
    st, eff, _ = run(settings, [Key("audio")], st, start=T0 + timedelta(seconds=20))
    assert SetAnswer("open", None, "Hyvä hoito") in eff, "typed text lost"
    assert FinaliseResponse("complete") in eff


def test_four_buttons_answer_five_point_follow_up_with_face_values(national: Survey) -> None:
    # A 4-face button kiosk: the faces store 1, 2, 4, 5 on the 1-5 statements too, so the
    # happiest face is "completely agree" (5), not 4, and no face means "neutral" (3).
    s = face_settings(national, Scale.SMILEYS4, "s1", languages=("fi",))
    values = []
    for n in (1, 2, 3, 4):
        _st, eff, _ = run(s, [Button(4), Button(n)], start=T0 + timedelta(minutes=5 * n))
        values += [e.value for e in eff if isinstance(e, SetAnswer) and e.question == "s1"]
    assert values == [1, 2, 4, 5]


def test_stopping_the_loop_finalises_the_open_response(tmp_path: Path) -> None:
    # SIGTERM (systemd stop, shutdown) ends `kiosk run` through KioskLoop.close.
    cfg = tmp_path / "device.toml"
    cfg.write_text(f"""
[device]
id = "tays-lobby-4"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"

[survey]
file = "{shipped_survey_path("children")}"

[kiosk]
scale = "smileys5"
questions = ["mood", "c1"]
buttons = {{ pins = ["GPIO5", "GPIO6", "GPIO13", "GPIO19", "GPIO26"] }}
fullscreen = false
""", encoding="utf-8")
    factory = MockFactory()
    try:
        with Store(tmp_path / "store.sqlite") as store:
            loop = KioskLoop(load_kiosk(cfg), store, pin_factory=factory)
            try:
                factory.pin(13).drive_low()
                factory.pin(13).drive_high()
                for _ in range(3):
                    loop.run_once(0.05)
                (rid,) = [r.id for r in store.open_responses()]
            finally:
                loop.close()
            row = store.get(rid)
            assert row is not None and store.open_responses() == []
            assert row.status == "abandoned"
            assert encode_answers(row.answers) == {"mood": {"value": 3}}
    finally:
        factory.close()


def test_prompt_that_cannot_be_rendered_gives_a_tone_not_a_crash(tmp_path: Path) -> None:
    # An espeak-ng that cannot be started (broken install: its interpreter is gone).
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/nonexistent/interpreter\n", encoding="utf-8")
    broken.chmod(0o755)
    cache = PromptCache(tmp_path / "prompts", espeak=str(broken))
    with pytest.raises(AudioError):
        cache.render("Kiitos", "fi", 160)
    assert cache.get("Kiitos", "fi", 160) is None  # MixerAudio plays its tone instead
    assert list((tmp_path / "prompts").iterdir()) == [], "no temporary file left behind"


def test_button_at_free_text_moves_on_so_a_button_kiosk_can_complete(national: Survey) -> None:
    # The shipped surveys' kiosk questions end with free text; a patient with buttons only
    # cannot type or touch "skip", and the response used to end as abandoned.
    s = face_settings(national, Scale.SMILEYS5, "s1", "open", languages=("fi",), lit_seconds=0.0)
    st, eff, _ = run(s, [Button(4), Button(5)])
    assert st.screen is Screen.TEXT
    st, eff, _ = run(s, [Button(1)], st, start=T0 + timedelta(seconds=10))
    assert FinaliseResponse("complete") in eff and st.screen is Screen.THANKS
    assert not any(isinstance(e, SetAnswer) for e in eff)
    # Text typed before the press is kept.
    st, eff, _ = run(s, [Button(4), Button(5), Text("Kiva"), Button(2)],
                     start=T0 + timedelta(minutes=5))
    assert SetAnswer("open", None, "Kiva") in eff and FinaliseResponse("complete") in eff
