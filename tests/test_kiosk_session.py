"""The kiosk session state machine, by value: events in, state and effects out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from kiosk_helpers import T0, run

from kiosk.events import (
    Button,
    Finalise,
    Flag,
    FlashLed,
    HeadphonesIn,
    HeadphonesOut,
    Key,
    MuteSpeaker,
    SetAnswer,
    SetVolume,
    Speak,
    StartResponse,
    StopSpeech,
    Tap,
    Text,
    Tick,
)
from kiosk.session import (
    Settings,
    initial_state,
    is_open,
    next_deadline,
    next_hours_change,
    options_for,
    step,
)
from survey.model import Survey


def test_touch_session_writes_at_first_answer_and_completes(settings: Settings) -> None:
    st, eff, _ = run(settings, [Tap("start")])
    assert st.screen == "language" and eff == []
    st, eff, _ = run(settings, [Tap("lang:sv")], st)
    assert (st.screen, st.lang, st.index) == ("question", "sv", 0) and eff == []
    st, eff, _ = run(settings, [Tap("opt:9")], st, start=T0 + timedelta(seconds=5))
    # started_at is when the session began (the first touch), not the first answer.
    assert eff == [StartResponse("kiosk", "sv", T0), SetAnswer("nps", 9, None)]
    assert (st.screen, st.index) == ("question", 1)
    st, eff, _ = run(settings, [Tap("opt:3"), Text("Bra"), Text(" vård"), Tap("send")], st,
                     start=T0 + timedelta(seconds=10))
    assert eff == [SetAnswer("s1", 4, None), SetAnswer("open", None, "Bra vård"),
                   Finalise("complete")]
    assert st.screen == "thanks"
    # The thanks screen times out back to idle.
    due = next_deadline(st, settings, T0)
    assert due is not None
    st, eff = step(st, Tick(due), due, settings)
    assert st.screen == "idle" and st.answers == () and not st.started


def test_idle_timeout_abandons_and_keeps_answers(settings: Settings) -> None:
    st, eff, now = run(settings, [Tap("start"), Tap("lang:fi"), Tap("opt:10")])
    assert [type(e) for e in eff] == [StartResponse, SetAnswer]
    due = next_deadline(st, settings, now)
    assert due == now - timedelta(seconds=2) + timedelta(seconds=settings.idle_timeout)
    st2, eff = step(st, Tick(due - timedelta(seconds=1)), due - timedelta(seconds=1), settings)
    assert st2 == st and eff == []
    st, eff = step(st, Tick(due), due, settings)
    assert eff == [Finalise("abandoned")]
    assert st.screen == "idle" and not st.started


def test_timeout_without_answers_writes_nothing(settings: Settings) -> None:
    st, _eff, now = run(settings, [Tap("start")])
    due = next_deadline(st, settings, now)
    assert due is not None
    st, eff = step(st, Tick(due), due, settings)
    assert st.screen == "idle" and eff == []


def test_back_and_skip(settings: Settings) -> None:
    st, eff, now = run(settings, [Tap("start"), Tap("lang:en"), Tap("skip")])
    assert st.index == 0, "the first question cannot be skipped"
    st, eff, now = run(settings, [Tap("opt:7"), Tap("skip"), Tap("back"), Tap("back")], st,
                       start=now)
    assert (st.screen, st.index) == ("question", 0)
    assert st.cursor == 7, "going back shows the earlier answer"
    st, eff, _ = run(settings, [Tap("opt:8")], st, start=now)
    assert eff == [SetAnswer("nps", 8, None)], "a changed answer replaces the stored one"


def test_keyboard_digits_and_enter(settings: Settings) -> None:
    st, eff, _ = run(settings, [Key("enter"), Key("down"), Key("enter")])
    assert (st.screen, st.lang) == ("question", "fi")
    st, eff, _ = run(settings, [Key("7"), Key("up"), Key("enter")], st)
    assert SetAnswer("nps", 8, None) in eff
    st, eff, _ = run(settings, [Key("9")], st)
    assert st.cursor is None, "no option 9 on a 1-5 scale"
    st, eff, _ = run(settings, [Key("2"), Key("enter")], st)
    assert eff[-1] == SetAnswer("s1", 2, None) and st.screen == "text"
    st, eff, _ = run(settings, [Text("ok"), Key("back"), Key("enter")], st)
    assert eff == [SetAnswer("open", None, "o"), Finalise("complete")]


def test_text_keyboard_targets_and_limit(settings: Settings) -> None:
    q = replace(settings.questions[2], max_length=5)
    s = replace(settings, questions=(settings.questions[0], q))
    st, _, _ = run(s, [Tap("lang:fi"), Tap("opt:5")])
    assert st.screen == "text"
    st, _, _ = run(s, [Tap("char:ä"), Tap("char:space"), Tap("char:ö"), Tap("char:å"),
                       Text("xyz")], st)
    assert st.text == "ä öåx"
    st, _, _ = run(s, [Tap("char:bksp")], st)
    assert st.text == "ä öå"


def test_button_at_idle_answers_first_question(national: Survey) -> None:
    s = Settings(survey=national, questions=(national.questions["nps"],), scale="smileys5",
                 face_values=(0, 3, 5, 8, 10))
    st, eff, _ = run(s, [Button(4)])
    assert eff == [FlashLed(4), StartResponse("kiosk", "fi", T0), SetAnswer("nps", 8, None),
                   Finalise("complete")]
    assert st.screen == "thanks"
    opts = options_for(s, 0, "en")
    assert [o.face for o in opts] == [1, 2, 3, 4, 5]
    assert len({o.label for o in opts}) == 5


def test_repeat_press_flags_never_drops(national: Survey) -> None:
    s = Settings(survey=national, questions=(national.questions["nps"],), scale="smileys4",
                 face_values=(0, 4, 7, 10), repeat_interval=0.6, lockout=0.15)
    st, eff, now = run(s, [Button(1)], gap=0.3)
    assert Finalise("complete") in eff
    # 0.3 s later: acted on, and the new response carries repeat_press.
    st, eff, now = run(s, [Button(2)], st, start=now, gap=0.1)
    assert eff[:4] == [FlashLed(2), StartResponse("kiosk", "fi", now - timedelta(seconds=0.1)),
                       Flag("repeat_press"), SetAnswer("nps", 4, None)]
    # 0.1 s later (inside the lockout): not acted on, but flagged on the last response.
    st2, eff, _ = run(s, [Button(3)], st, start=now)
    assert eff == [Flag("repeat_press")] and st2.screen == "thanks"
    assert st2.completions == st.completions
    # A calm press later is not flagged.
    _st, eff, _ = run(s, [Button(3)], st2, start=now + timedelta(seconds=5))
    assert not any(isinstance(e, Flag) for e in eff)


def test_burst_of_complete_answers_is_flagged(national: Survey) -> None:
    s = Settings(survey=national, questions=(national.questions["nps"],), scale="smileys5",
                 face_values=(0, 3, 5, 8, 10), burst_window=60, burst_count=3)
    st = initial_state(s)
    flags = []
    for i in range(5):
        st, eff, _ = run(s, [Button(5)], st, start=T0 + timedelta(seconds=10 * i))
        flags.append([e.name for e in eff if isinstance(e, Flag)])
    assert flags == [[], [], ["burst"], ["burst"], ["burst"]]
    # After a quiet window the count starts again.
    st, eff, _ = run(s, [Button(5)], st, start=T0 + timedelta(minutes=10))
    assert not any(isinstance(e, Flag) for e in eff)


def test_opening_hours_and_night(settings: Settings) -> None:
    s = replace(settings, opening_hours=(time(7), time(21)))
    evening = datetime(2025, 3, 4, 19, 0, tzinfo=UTC)  # 21:00 Helsinki
    assert not is_open(s, evening) and is_open(s, T0)
    assert next_hours_change(s, T0) == datetime(2025, 3, 4, 19, 0, tzinfo=UTC)
    st, eff = step(initial_state(s), Tick(evening), evening, s)
    assert st.screen == "night"
    assert next_deadline(st, s, evening) == datetime(2025, 3, 5, 5, 0, tzinfo=UTC)
    woken, eff = step(st, Button(3), evening, s)
    assert woken.screen == "idle" and eff == [], "input only wakes the screen"
    # Overnight hours wrap midnight.
    s2 = replace(s, opening_hours=(time(20), time(6)))
    assert is_open(s2, evening) and not is_open(s2, T0)


def test_audio_mode_keys_and_confirm(settings: Settings) -> None:
    st, eff, _ = run(settings, [HeadphonesIn()])
    assert eff[0] == MuteSpeaker(True)
    assert st.audio and st.screen == "language"
    spoken = [u.text for e in eff if isinstance(e, Speak) for u in e.parts]
    assert spoken[-1] == "Suomi, 1 / 3"
    st, eff, _ = run(settings, [Key("up")], st)
    assert eff[0] == StopSpeech(), "any key interrupts speech"
    assert eff[1].parts[0].text == "Svenska, 2 av 3" and eff[1].parts[0].lang == "sv"
    st, eff, _ = run(settings, [Key("down"), Key("down"), Key("up"), Key("up"), Key("enter")],
                     st)
    assert st.lang == "en" and st.screen == "question"
    st, eff, _ = run(settings, [Key("7")], st)
    assert eff[-1].parts == (eff[-1].parts[0],) and eff[-1].parts[0].text == "7, of 0 to 10"
    st, eff, _ = run(settings, [Key("enter")], st)
    assert eff[-1].parts[0].text == "You chose 7. Press enter to send, back to change."
    assert not any(isinstance(e, SetAnswer) for e in eff), "nothing stored before the confirm"
    st, eff, _ = run(settings, [Key("back"), Key("up"), Key("enter"), Key("enter")], st)
    assert [e for e in eff if isinstance(e, SetAnswer)] == [SetAnswer("nps", 8, None)]
    assert StartResponse("kiosk-audio", "en", T0) in eff
    st, eff, _ = run(settings, [Key("down"), Key("enter"), Key("enter")], st)
    # The free-text question is skipped in audio mode: the session completes.
    assert Finalise("complete") in eff and st.screen == "thanks"
    assert eff[-1].parts[-1].text == settings.survey.message("kiosk_thanks", "en")


def test_audio_volume_rate_reset_and_timeout_warning(settings: Settings) -> None:
    st, eff, now = run(settings, [Key("audio"), Key("enter")])
    st, eff, now = run(settings, [Key("vol+")] * 10 + [Key("rate-")] * 2, st, start=now)
    assert st.volume_db == settings.volume_max_db and st.rate == settings.rate - 40
    assert SetVolume(0.0) in eff and eff[-1].rate == settings.rate - 40
    st, eff, now = run(settings, [Key("vol-")] * 20, st, start=now)
    assert st.volume_db == settings.volume_min_db
    assert settings.volume_max_db - settings.volume_min_db >= 18
    last = now - timedelta(seconds=2)
    warn = next_deadline(st, settings, now)
    assert warn == last + timedelta(seconds=settings.audio_idle_timeout - settings.audio_warning)
    st, eff = step(st, Tick(warn), warn, settings)
    assert eff[-1].parts[0].text == settings.survey.message("kiosk_still_there", "fi")
    end = next_deadline(st, settings, warn)
    assert end == last + timedelta(seconds=settings.audio_idle_timeout)
    st, eff = step(st, Tick(end), end, settings)
    assert st.screen == "idle" and st.volume_db == settings.volume_db
    assert st.rate == settings.rate and SetVolume(settings.volume_db) in eff
    assert not any(isinstance(e, Finalise) for e in eff), "nothing was answered"


def test_repeat_key_and_spoken_errors(settings: Settings) -> None:
    st, eff, _ = run(settings, [Key("audio"), Key("enter")])
    first = eff[-1].parts
    st, eff, _ = run(settings, [Key("repeat")], st)
    assert eff[-1].parts == first
    st, eff, _ = run(settings, [Key("enter")], st)
    assert eff[-1].parts[0].text.startswith("Valitse ensin")
    st, eff, _ = run(settings, [Key("5"), Key("enter"), Key("enter"), Key("9")], st)
    assert st.index == 1
    assert eff[-1].parts[0].text == "Vaihtoehtoa 9 ei ole. Vaihtoehdot ovat 1–5."


def test_headphones_out_keeps_session_then_ends_audio(settings: Settings) -> None:
    st, _, _ = run(settings, [HeadphonesIn(), Key("enter")])
    st, eff, now = run(settings, [HeadphonesOut()], st)
    assert eff == [MuteSpeaker(False)] and st.audio and st.screen == "question"
    for _ in range(2):  # the "still there?" warning, then the timeout
        due = next_deadline(st, settings, now)
        assert due is not None
        st, _ = step(st, Tick(due), due, settings)
    assert st.screen == "idle" and not st.audio
