"""The audio mode's state machine by value: what it says, stores and refuses, keys alone."""

from __future__ import annotations

from datetime import timedelta

from kiosk_helpers import T0, face_settings, run, said, said_in

from kiosk.events import (
    Button,
    FinaliseResponse,
    HeadphonesIn,
    HeadphonesOut,
    Key,
    MuteSpeaker,
    OpenResponse,
    PickLanguage,
    PickOption,
    SetAnswer,
    SetVolume,
    Speak,
    StopSpeech,
    Tap,
    Text,
    Tick,
)
from kiosk.session import next_deadline, step
from kiosk.state import Screen, SessionSettings
from kiosk.texts import ui
from survey.model import Survey


def test_language_choice_is_spoken_first_then_the_intro_in_the_chosen_language(
        settings: SessionSettings) -> None:
    st, eff, _ = run(settings, [HeadphonesIn()])
    assert eff[0] == MuteSpeaker(True)
    assert st.audio and st.screen is Screen.LANGUAGE
    assert said_in(eff) == [("fi", "Suomi: paina 1"), ("sv", "Svenska: tryck 2"),
                            ("en", "English: press 3"),
                            ("fi", "Valitse kielen numero ja paina Enter.")]
    st, eff, _ = run(settings, [Key("3")], st)
    assert eff[0] == StopSpeech(), "any key interrupts speech"
    assert said_in(eff) == [("en", "English: press 3")]
    st, eff, _ = run(settings, [Key("enter")], st)
    assert st.lang == "en" and st.screen is Screen.QUESTION
    words = said_in(eff)
    assert words[0] == ("en", ui("audio_on", "en")), "the intro, in the chosen language"
    assert words[1] == ("en", settings.questions[0].prompt("en"))


def test_spoken_help_names_keys_a_numeric_keypad_has() -> None:
    # No "repeat key", "back" key or arrow keys: a keypad has *, /, + and - instead.
    for lang in ("fi", "sv", "en"):
        words = ui("audio_on", lang) + ui("hint", lang) + ui("you_chose", lang, choice=7)
        for absent in ("Toista-näppäin", "Repetera-knappen", "repeat key", "back to change",
                       "tillbaka för", "takaisin.", "up and down", "upp och ner", "ylös"):
            assert absent not in words
    assert all(word in ui("audio_on", "fi") for word in ("Enter", "Tähti", "kauttaviiva",
                                                          "plus", "miinus", "piste"))


def test_audio_mode_keys_and_confirm(settings: SessionSettings) -> None:
    st, _, _ = run(settings, [HeadphonesIn(), Key("3"), Key("enter")])
    st, eff, _ = run(settings, [Key("7")], st)
    assert said(eff) == ["7, of 0 to 10"]
    st, eff, _ = run(settings, [Key("enter")], st)
    assert said(eff) == ["You chose 7. Press Enter to send, slash to change."]
    assert not any(isinstance(e, SetAnswer) for e in eff), "nothing stored before the confirm"
    st, eff, _ = run(settings, [Key("back"), Key("up"), Key("enter"), Key("enter")], st)
    assert [e for e in eff if isinstance(e, SetAnswer)] == [SetAnswer("nps", 8, None)]
    assert OpenResponse("kiosk-audio", "en", T0) in eff
    st, eff, _ = run(settings, [Key("down"), Key("enter"), Key("enter")], st)
    # The free-text question is skipped in audio mode: the session completes.
    assert FinaliseResponse("complete") in eff and st.screen is Screen.THANKS
    assert said(eff)[-1] == settings.survey.message("kiosk_thanks", "en")


def test_a_held_key_says_what_it_does_and_does_nothing(settings: SessionSettings) -> None:
    st, _, _ = run(settings, [HeadphonesIn(), Key("enter"), Key("7")])
    for key, words in (("repeat", "Tähti: toistaa"), ("back", "Kauttaviiva: palaa takaisin "
                                                               "tai muuttaa valintaa"),
                       ("enter", "Enter: valitsee ja vahvistaa"),
                       ("vol+", "Plus: kovemmalle"), ("5", "Numero 5: valitsee vaihtoehdon 5")):
        st2, eff, _ = run(settings, [Key(key, held=True)], st)
        assert said(eff) == [words]
        assert (st2.cursor, st2.index, st2.pending, st2.volume_db, st2.spoken) == \
            (st.cursor, st.index, st.pending, st.volume_db, st.spoken), f"{key} did something"
        assert not any(isinstance(e, SetAnswer | SetVolume) for e in eff)


def test_esc_asks_before_stopping(settings: SessionSettings) -> None:
    st, _, _ = run(settings, [HeadphonesIn(), Key("enter"), Key("8"), Key("enter"),
                              Key("enter")])
    assert st.started and st.index == 1
    question = st.spoken
    st, eff, _ = run(settings, [Key("esc")], st)
    assert said(eff) == [ui("stop_confirm", "fi")]
    assert not any(isinstance(e, FinaliseResponse) for e in eff), "nothing thrown away yet"
    # Any other key carries on and says the question again.
    st, eff, _ = run(settings, [Key("up")], st)
    assert not st.confirm_exit and st.started and Speak(question, st.rate) in eff
    st, eff, _ = run(settings, [Key("esc"), Key("enter")], st)
    assert FinaliseResponse("abandoned") in eff and st.screen is Screen.IDLE
    assert said(eff)[-1] == ui("stopped", "fi")


def test_headphones_out_pauses_silently_and_nobody_else_answers(
        settings: SessionSettings) -> None:
    st, _, now = run(settings, [HeadphonesIn(), Key("enter"), Key("9"), Key("enter"),
                                Key("enter")])
    assert st.answer("nps") == (9, None) and st.index == 1
    st, eff, now = run(settings, [HeadphonesOut()], st, start=now)
    assert eff == [StopSpeech()], "silence at once; the speaker stays muted"
    # The next person taps, presses and types: none of it is the blind patient's answer.
    st2, eff, now = run(settings, [Tap(PickOption(4)), Button(2), Key("5"), Key("enter"),
                                   Key("audio")], st, start=now)
    assert eff == [] and st2 == st
    due = next_deadline(st, settings, now)
    assert due == st.paused_since + timedelta(seconds=settings.headphones_grace)
    st, eff = step(st, Tick(due), due, settings)
    assert FinaliseResponse("abandoned") in eff and MuteSpeaker(False) in eff
    assert not any(isinstance(e, Speak) for e in eff), "nothing said aloud in the lobby"
    assert st.screen is Screen.IDLE and not st.audio


def test_headphones_back_in_time_carry_on(settings: SessionSettings) -> None:
    st, _, now = run(settings, [HeadphonesIn(), Key("enter"), Key("9"), Key("enter"),
                                Key("enter")])
    question = st.spoken
    st, _, now = run(settings, [HeadphonesOut()], st, start=now, gap=5)
    st, eff, now = run(settings, [HeadphonesIn()], st, start=now)
    assert st.paused_since is None and st.started and st.index == 1
    assert eff[0] == MuteSpeaker(True)
    assert said(eff) == [ui("welcome_back", "fi"), *(u.text for u in question)]
    st, eff, _ = run(settings, [Key("4"), Key("enter"), Key("enter")], st, start=now)
    assert SetAnswer("s1", 4, None) in eff and FinaliseResponse("complete") in eff


def test_volume_goes_18_db_up_and_down_from_the_start(settings: SessionSettings) -> None:
    start = settings.volume_db
    st, _, now = run(settings, [Key("audio"), Key("enter")])
    st, eff, now = run(settings, [Key("vol-")] * 6, st, start=now)
    assert st.volume_db == start - 18 and SetVolume(start - 18) in eff
    st, eff, now = run(settings, [Key("vol+")] * 12, st, start=now)
    assert st.volume_db == start + 18 and st.volume_db <= settings.volume_max_db


def test_rate_key_cycles_and_volume_resets_after_the_session(settings: SessionSettings) -> None:
    st, eff, now = run(settings, [Key("audio"), Key("enter")])
    steps = (settings.rate_max - settings.rate) // settings.rate_step
    st, eff, now = run(settings, [Key("rate")] * steps, st, start=now)
    assert st.rate == settings.rate_max
    st, eff, now = run(settings, [Key("rate"), Key("vol+")], st, start=now)
    assert st.rate == settings.rate_min, "the keypad's one rate key wraps round"
    last = now - timedelta(seconds=2)
    warn = next_deadline(st, settings, now)
    assert warn == last + timedelta(seconds=settings.audio_idle_timeout - settings.audio_warning)
    st, eff = step(st, Tick(warn), warn, settings)
    assert said(eff) == [settings.survey.message("kiosk_still_there", "fi")]
    end = next_deadline(st, settings, warn)
    assert end == last + timedelta(seconds=settings.audio_idle_timeout)
    st, eff = step(st, Tick(end), end, settings)
    assert st.screen is Screen.IDLE and st.volume_db == settings.volume_db
    assert st.rate == settings.rate and SetVolume(settings.volume_db) in eff
    assert not any(isinstance(e, FinaliseResponse) for e in eff), "nothing was answered"


def test_repeat_key_and_spoken_errors(settings: SessionSettings) -> None:
    st, eff, _ = run(settings, [Key("audio"), Key("enter")])
    first = eff[-1]
    assert isinstance(first, Speak)
    st, eff, _ = run(settings, [Key("repeat")], st)
    assert eff[-1] == first
    st, eff, _ = run(settings, [Key("enter")], st)
    assert said(eff)[0].startswith("Valitse ensin")
    st, eff, _ = run(settings, [Key("5"), Key("enter"), Key("enter"), Key("9")], st)
    assert st.index == 1
    assert said(eff)[-1] == "Vaihtoehtoa 9 ei ole. Vaihtoehdot ovat 1–5."


def test_face_kiosk_audio_session_by_buttons(national: Survey) -> None:
    s = face_settings(national, languages=("fi",))
    st, eff, now = run(s, [HeadphonesIn()])
    assert said(eff)[:2] == [ui("audio_on", "fi"), s.questions[0].prompt("fi")]
    assert said(eff)[3].endswith(ui("hint_buttons", "fi")), "the buttons named by place"
    # A face button first says what it is; nothing is stored until it is pressed again.
    st, eff, now = run(s, [Button(2)], st, start=now)
    assert said(eff) == ["Nappi 2: 2, huono. Lähetä painamalla samaa nappia uudelleen tai "
                         "Enter."]
    assert not any(isinstance(e, SetAnswer) for e in eff)
    st, eff, _ = run(s, [Button(5), Button(5)], st, start=now)
    assert [e for e in eff if isinstance(e, SetAnswer)] == [SetAnswer("faces", 5)]
    assert st.screen is Screen.THANKS


def test_no_sound_card_no_audio_mode(settings: SessionSettings) -> None:
    from dataclasses import replace

    s = replace(settings, audio_available=False)
    st, eff, _ = run(s, [HeadphonesIn(), Key("audio")])
    assert not st.audio and not any(isinstance(e, Speak) for e in eff)


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
