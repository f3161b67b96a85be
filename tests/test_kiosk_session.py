"""The kiosk session state machine, by value: events in, state and effects out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from kiosk_helpers import T0, face_settings, run

from kiosk.events import (
    Button,
    Command,
    FinaliseResponse,
    Flag,
    FlashLed,
    Key,
    OpenResponse,
    PickLanguage,
    PickOption,
    SetAnswer,
    Tap,
    Text,
    Tick,
    TypeChar,
)
from kiosk.session import next_deadline, step
from kiosk.state import (
    Scale,
    Screen,
    SessionSettings,
    initial_state,
    is_open,
    next_hours_change,
    options_for,
)
from survey.model import Survey
from survey.response import FACES_QUESTION


def test_touch_session_one_language_step_writes_at_first_answer(
        settings: SessionSettings) -> None:
    # The welcome's language buttons start the survey: no second language screen.
    st, eff, _ = run(settings, [Tap(PickLanguage("sv"))])
    assert (st.screen, st.lang, st.index) == (Screen.QUESTION, "sv", 0) and eff == []
    st, eff, _ = run(settings, [Tap(PickOption(9))], st, start=T0 + timedelta(seconds=5))
    # started_at is when the session began (the first touch), not the first answer.
    assert eff == [OpenResponse("kiosk", "sv", T0), SetAnswer("nps", 9, None)]
    assert (st.screen, st.index) == (Screen.QUESTION, 1)
    st, eff, _ = run(settings, [Tap(PickOption(3)), Text("Bra"), Text(" vård"),
                                Tap(Command.SEND)], st, start=T0 + timedelta(seconds=10))
    assert eff == [SetAnswer("s1", 4, None), SetAnswer("open", None, "Bra vård"),
                   FinaliseResponse("complete")]
    assert st.screen is Screen.THANKS
    # The thanks screen times out back to the welcome.
    due = next_deadline(st, settings, T0)
    assert due is not None
    st, eff = step(st, Tick(due), due, settings)
    assert st.screen is Screen.IDLE and st.answers == () and not st.started


def test_walk_away_is_warned_first_and_continue_keeps_the_session(
        settings: SessionSettings) -> None:
    st, eff, now = run(settings, [Tap(PickLanguage("fi")), Tap(PickOption(10))])
    last = now - timedelta(seconds=2)
    warn = next_deadline(st, settings, now)
    assert warn == last + timedelta(seconds=settings.idle_timeout)
    st, eff = step(st, Tick(warn), warn, settings)
    assert st.warned and st.screen is Screen.QUESTION and eff == [], "a warning, no reset"
    # "Continue": the session goes on where it was, nothing finalised.
    later = warn + timedelta(seconds=5)
    st2, eff = step(st, Tap(Command.CONTINUE), later, settings)
    assert not st2.warned and st2.index == 1 and st2.started and eff == []
    assert next_deadline(st2, settings, later) == later + timedelta(seconds=settings.idle_timeout)
    # Nobody answers the warning: abandoned after idle_warning more seconds.
    end = next_deadline(st, settings, warn)
    assert end == warn + timedelta(seconds=settings.idle_warning)
    st, eff = step(st, Tick(end), end, settings)
    assert eff == [FinaliseResponse("abandoned")]
    assert st.screen is Screen.IDLE and not st.started


def test_a_touch_on_the_warning_only_continues(settings: SessionSettings) -> None:
    st, _, now = run(settings, [Tap(PickLanguage("fi")), Tap(PickOption(8))])
    warn = next_deadline(st, settings, now)
    assert warn is not None
    st, _ = step(st, Tick(warn), warn, settings)
    st, eff = step(st, Tap(PickOption(2)), warn + timedelta(seconds=1), settings)
    assert eff == [] and not st.warned and st.answer("s1") is None


def test_timeout_without_answers_writes_nothing(settings: SessionSettings) -> None:
    st, _eff, now = run(settings, [Tap(PickLanguage("en"))])
    for _ in range(2):  # the warning, then the reset
        due = next_deadline(st, settings, now)
        assert due is not None
        st, eff = step(st, Tick(due), due, settings)
    assert st.screen is Screen.IDLE and eff == []


def test_back_and_skip(settings: SessionSettings) -> None:
    st, eff, now = run(settings, [Tap(PickLanguage("en")), Tap(Command.SKIP)])
    assert st.index == 0, "the first question cannot be skipped"
    st, eff, now = run(settings, [Tap(PickOption(7)), Tap(Command.SKIP), Tap(Command.BACK),
                                  Tap(Command.BACK)], st, start=now)
    assert (st.screen, st.index) == (Screen.QUESTION, 0)
    assert st.cursor == 7, "going back shows the earlier answer"
    st, eff, _ = run(settings, [Tap(Command.BACK), Tap(PickOption(8))], st, start=now)
    assert st.index == 1, "the first question has no way back to the welcome"
    assert eff == [SetAnswer("nps", 8, None)], "a changed answer replaces the stored one"


def test_keyboard_digits_and_enter(settings: SessionSettings) -> None:
    st, eff, _ = run(settings, [Key("enter")])
    assert (st.screen, st.lang) == (Screen.QUESTION, "fi")
    st, eff, _ = run(settings, [Key("7"), Key("up"), Key("enter")], st)
    assert SetAnswer("nps", 8, None) in eff
    st, eff, _ = run(settings, [Key("9")], st)
    assert st.cursor is None, "no option 9 on a 1-5 scale"
    st, eff, _ = run(settings, [Key("2"), Key("enter")], st)
    assert eff[-1] == SetAnswer("s1", 2, None) and st.screen is Screen.TEXT
    st, eff, _ = run(settings, [Text("ok"), Key("back"), Key("enter")], st)
    assert eff == [SetAnswer("open", None, "o"), FinaliseResponse("complete")]


def test_two_digits_in_a_row_choose_ten(settings: SessionSettings) -> None:
    st, _, _ = run(settings, [Key("enter"), Key("1"), Key("0")], gap=0.5)
    assert st.cursor == 10
    st, _, _ = run(settings, [Key("1"), Key("0")], st, start=T0 + timedelta(minutes=1),
                   gap=settings.digit_window + 0.5)
    assert st.cursor == 0, "a slow second digit is a value of its own"


def test_text_keyboard_targets_and_limit(settings: SessionSettings) -> None:
    q = replace(settings.questions[2], max_length=5)
    s = replace(settings, questions=(settings.questions[0], q))
    st, _, _ = run(s, [Tap(PickLanguage("fi")), Tap(PickOption(5))])
    assert st.screen is Screen.TEXT
    st, _, _ = run(s, [Tap(TypeChar("ä")), Tap(Command.SPACE), Tap(TypeChar("ö")),
                       Tap(TypeChar("å")), Text("xyz")], st)
    assert st.text == "ä öåx"
    st, _, _ = run(s, [Tap(Command.DELETE)], st)
    assert st.text == "ä öå"


def test_face_kiosk_welcome_is_the_first_question_and_stores_faces(national: Survey) -> None:
    s = face_settings(national, Scale.SMILEYS5, "s1")
    st = initial_state(s)
    assert st.screen is Screen.IDLE
    st, eff, _ = run(s, [Button(4)], st)
    # The face itself under `faces`, never an NPS value; the pressed face stays lit.
    assert eff == [FlashLed(4), OpenResponse("kiosk", "fi", T0), SetAnswer(FACES_QUESTION, 4)]
    assert (st.screen, st.index, st.cursor) == (Screen.QUESTION, 0, 3)
    due = next_deadline(st, s, T0)
    assert due == T0 + timedelta(seconds=s.lit_seconds)
    st, eff = step(st, Tick(due), due, s)
    assert (st.screen, st.index, st.cursor) == (Screen.QUESTION, 1, None) and eff == []
    opts = options_for(s, 0, "en")
    assert [o.face for o in opts] == [1, 2, 3, 4, 5] and len({o.label for o in opts}) == 5


def test_four_faces_store_1_2_4_5(national: Survey) -> None:
    s = face_settings(national, Scale.SMILEYS4, "s1", lit_seconds=0.0)
    _st, eff, _ = run(s, [Button(3), Button(4)])
    assert [e for e in eff if isinstance(e, SetAnswer)] == [SetAnswer(FACES_QUESTION, 4),
                                                            SetAnswer("s1", 5)]
    assert [o.value for o in options_for(s, 1, "fi")] == [1, 2, 4, 5], "one face per button"


def test_repeat_press_flags_never_drops(national: Survey) -> None:
    s = face_settings(national, Scale.SMILEYS4, repeat_interval=0.6, lockout=0.15)
    st, eff, now = run(s, [Button(1)], gap=0.3)
    assert FinaliseResponse("complete") not in eff, "the face is lit first"
    # 0.3 s later: the lit face moves on (complete), the press starts a new response.
    st, eff, now = run(s, [Button(2)], st, start=now, gap=0.1)
    assert eff[:3] == [Flag("repeat_press"), FinaliseResponse("complete"), FlashLed(2)]
    assert eff[3:] == [OpenResponse("kiosk", "fi", now - timedelta(seconds=0.1)),
                       SetAnswer(FACES_QUESTION, 2)]
    # 0.1 s later (inside the lockout): not acted on, but flagged on the open response.
    st2, eff, _ = run(s, [Button(3)], st, start=now)
    assert eff == [Flag("repeat_press")] and st2.answer(FACES_QUESTION) == (2, None)
    # A calm press later is not flagged.
    _st, eff, _ = run(s, [Button(3)], st2, start=now + timedelta(seconds=5))
    assert not any(isinstance(e, Flag) for e in eff)


def test_burst_of_complete_answers_is_flagged(national: Survey) -> None:
    s = face_settings(national, burst_window=60, burst_count=3, lit_seconds=0.0)
    st = initial_state(s)
    flags = []
    for i in range(5):
        st, eff, _ = run(s, [Button(5)], st, start=T0 + timedelta(seconds=10 * i))
        flags.append([e.name for e in eff if isinstance(e, Flag)])
    assert flags == [[], [], ["burst"], ["burst"], ["burst"]]
    # After a quiet window the count starts again.
    st, eff, _ = run(s, [Button(5)], st, start=T0 + timedelta(minutes=10))
    assert not any(isinstance(e, Flag) for e in eff)


def test_opening_hours_and_night(settings: SessionSettings) -> None:
    s = replace(settings, opening_hours=(time(7), time(21)))
    evening = datetime(2025, 3, 4, 19, 0, tzinfo=UTC)  # 21:00 Helsinki
    assert not is_open(s, evening) and is_open(s, T0)
    assert next_hours_change(s, T0) == datetime(2025, 3, 4, 19, 0, tzinfo=UTC)
    st, eff = step(initial_state(s), Tick(evening), evening, s)
    assert st.screen is Screen.NIGHT
    assert next_deadline(st, s, evening) == datetime(2025, 3, 5, 5, 0, tzinfo=UTC)
    woken, eff = step(st, Button(3), evening, s)
    assert woken.screen is Screen.IDLE and eff == [], "input only wakes the screen"
    # Overnight hours wrap midnight.
    s2 = replace(s, opening_hours=(time(20), time(6)))
    assert is_open(s2, evening) and not is_open(s2, T0)


def test_four_buttons_answer_five_point_follow_up_with_face_values(national: Survey) -> None:
    # A 4-face button kiosk: the faces store 1, 2, 4, 5 on the 1-5 statements too, so the
    # happiest face is "completely agree" (5), not 4, and no face means "neutral" (3).
    s = face_settings(national, Scale.SMILEYS4, "s1", languages=("fi",))
    values = []
    for n in (1, 2, 3, 4):
        _st, eff, _ = run(s, [Button(4), Button(n)], start=T0 + timedelta(minutes=5 * n))
        values += [e.value for e in eff if isinstance(e, SetAnswer) and e.question == "s1"]
    assert values == [1, 2, 4, 5]


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
