"""The kiosk session as a pure state machine: `step(state, event, now, settings)`.

idle (the welcome; on a face kiosk the first question itself) → questions →
free text → thanks → idle. A walk-away first sees "are you still answering?"
with Continue, then the session is abandoned (answers kept). Night mode outside
opening hours, misuse flags (repeat_press, burst), and the audio mode: a spoken
language menu, a confirm step, Esc asks before stopping, a held key says what it
does, and headphones pulled out pause the session silently (nothing spoken, no
input taken) until they are back or the session is abandoned. No I/O here: the
result is a new SessionState and a list of effects.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from kiosk.events import (
    DIGITS,
    Button,
    Command,
    Effect,
    Event,
    FinaliseResponse,
    Flag,
    FlashLed,
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
    TypeChar,
    Utterance,
)
from kiosk.speech import (
    announce,
    choice_words,
    describe_key,
    intro,
    language_item,
    language_menu,
    question_hint,
    scale_ends,
)
from kiosk.state import (
    SESSION_SCREENS,
    Answer,
    Screen,
    SessionSettings,
    SessionState,
    initial_state,
    is_open,
    message,
    next_hours_change,
    options_for,
)
from kiosk.texts import ui
from survey.response import Status

Result = tuple[SessionState, list[Effect]]
AUDIO_CONTROLS = frozenset({"repeat", "vol+", "vol-", "rate", "rate+", "rate-"})


# -- timers ----------------------------------------------------------------------


def next_deadline(state: SessionState, settings: SessionSettings,
                  now: datetime) -> datetime | None:
    """When the next Tick must come (a timer of this state fires), or None."""
    if state.screen is Screen.THANKS:
        return state.thanks_until
    if state.paused_since is not None:
        return state.paused_since + timedelta(seconds=settings.headphones_grace)
    if state.lit_until is not None:
        return state.lit_until
    if state.screen in SESSION_SCREENS and state.last_input is not None:
        return _idle_deadline(state, settings, state.last_input)
    if state.screen is Screen.IDLE and not is_open(settings, now):
        # Woken at night: back to sleep after the idle timeout.
        awake_until = _awake_until(state, settings)
        return awake_until if awake_until is not None and awake_until > now else now
    return next_hours_change(settings, now)


def _idle_deadline(st: SessionState, s: SessionSettings, last: datetime) -> datetime:
    if st.audio:
        end = last + timedelta(seconds=s.audio_idle_timeout)
        return end if st.warned else end - timedelta(seconds=s.audio_warning)
    warn = last + timedelta(seconds=s.idle_timeout)
    return warn + timedelta(seconds=s.idle_warning) if st.warned else warn


def _awake_until(state: SessionState, s: SessionSettings) -> datetime | None:
    if state.last_input is None:
        return None
    return state.last_input + timedelta(seconds=s.idle_timeout)


def _on_tick(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    if st.screen is Screen.THANKS:
        if st.thanks_until is not None and now >= st.thanks_until:
            return _to_idle(st, s, now)
        return st, []
    if st.paused_since is not None:
        if (now - st.paused_since).total_seconds() >= s.headphones_grace:
            # Not back in time: the answers so far are kept, nothing is said aloud.
            done, effects = _abandon(st, s, now)
            return done, [*effects, MuteSpeaker(False)]
        return st, []
    if st.lit_until is not None:
        return _move_on(st, s, now) if now >= st.lit_until else (st, [])
    if st.screen in SESSION_SCREENS and st.last_input is not None:
        if now < _idle_deadline(st, s, st.last_input):
            return st, []
        if st.warned:
            return _abandon(st, s, now)
        warned = replace(st, warned=True)
        if st.audio:
            return _say(warned, [message(s.survey, "kiosk_still_there", st.lang)])
        return warned, []
    if st.screen is Screen.IDLE and not is_open(s, now):
        awake_until = _awake_until(st, s)
        if awake_until is None or now >= awake_until:
            return replace(st, screen=Screen.NIGHT), []
        return st, []
    if st.screen is Screen.NIGHT and is_open(s, now):
        return replace(st, screen=Screen.IDLE), []
    return st, []


def _abandon(state: SessionState, s: SessionSettings, now: datetime) -> Result:
    effects: list[Effect] = [FinaliseResponse(Status.ABANDONED)] if state.started else []
    st, more = _to_idle(state, s, now)
    return st, effects + more


def _to_idle(state: SessionState, s: SessionSettings, now: datetime) -> Result:
    """End the session: idle (or night) screen; volume and speech rate back to defaults."""
    effects: list[Effect] = []
    if state.volume_db != s.volume_db:
        effects.append(SetVolume(s.volume_db))
    if state.audio:
        effects.append(StopSpeech())
    st = replace(
        initial_state(s), screen=Screen.IDLE if is_open(s, now) else Screen.NIGHT,
        headphones=state.headphones, audio=state.headphones, completions=state.completions,
        last_press=state.last_press,
    )
    return st, effects


# -- the step function -------------------------------------------------------------


def step(state: SessionState, event: Event, now: datetime,
         settings: SessionSettings) -> Result:
    """Apply one event at time `now`: the new state and the effects to carry out."""
    if isinstance(event, Tick):
        return _on_tick(state, settings, now)
    if isinstance(event, HeadphonesIn | HeadphonesOut):
        return _on_headphones(state, event, settings, now)
    if state.paused_since is not None:
        # The audio patient's headphones are out: nobody else's touch or key is taken as
        # theirs, and nothing is said aloud.
        return state, []
    if isinstance(event, Key | Button) and event.held:
        return _describe(state, event, now)
    prefix: list[Effect] = [StopSpeech()] if state.audio and isinstance(event, Key) else []
    st = replace(state, last_input=now)
    if st.screen is Screen.NIGHT:
        # Any input only wakes the screen; it answers nothing.
        return replace(st, screen=Screen.IDLE, warned=False), prefix
    if st.warned and not st.audio:
        # "Are you still answering?" was showing: any touch or key continues.
        return replace(st, warned=False), prefix
    st = replace(st, warned=False)
    flags: list[Effect] = []
    if isinstance(event, Button) or (isinstance(event, Tap)
                                     and isinstance(event.target, PickOption)):
        st, flags, locked = _check_press(st, settings, now)
        if locked:
            return st, prefix + flags
    if st.lit_until is not None:
        # The next press comes while the last one's face is still lit: move on first.
        st, moved = _move_on(st, settings, now)
        flags += moved
    new, effects = _dispatch(st, event, settings, now)
    return new, prefix + flags + effects


def _check_press(st: SessionState, s: SessionSettings,
                 now: datetime) -> tuple[SessionState, list[Effect], bool]:
    """Repeat-press check: returns (state, flag effects, locked out?)."""
    last = st.last_press
    st = replace(st, last_press=now)
    if last is None:
        return st, [], False
    gap = (now - last).total_seconds()
    if gap >= s.repeat_interval:
        return st, [], False
    locked = gap < s.lockout
    if st.started or locked:
        # Locked-out presses are not acted on, but flag the current (or last) response.
        return st, [Flag("repeat_press")], locked
    # No response yet: the flag goes onto the one this press starts.
    return replace(st, pending_flags=(*st.pending_flags, "repeat_press")), [], False


def _dispatch(st: SessionState, event: Event, s: SessionSettings, now: datetime) -> Result:
    if isinstance(event, Key) and event.name == "audio":
        return _toggle_audio(st, s, now)
    if isinstance(event, Tap) and event.target is Command.AUDIO:
        return _start_audio(st, s, now)
    if st.confirm_exit:
        return _on_confirm_exit(st, event, s, now)
    if isinstance(event, Key) and st.audio and event.name in AUDIO_CONTROLS:
        return _audio_control(st, event.name, s)
    if isinstance(event, Key) and event.name == "esc" and st.screen in SESSION_SCREENS:
        return _ask_exit(st)
    if st.screen is Screen.THANKS:
        # The last session is over: the next one starts at the default volume and rate.
        reset: list[Effect] = [SetVolume(s.volume_db)] if st.volume_db != s.volume_db else []
        new, effects = _on_idle(replace(st, volume_db=s.volume_db, rate=s.rate), event, s, now)
        return new, reset + effects
    if st.screen is Screen.IDLE:
        return _on_idle(st, event, s, now)
    if st.screen is Screen.LANGUAGE:
        return _on_language(st, event, s, now)
    if st.screen is Screen.QUESTION:
        return _on_question(st, event, s, now)
    if st.screen is Screen.TEXT:
        return _on_text(st, event, s, now)
    return st, []


def _begin(st: SessionState, now: datetime, screen: Screen) -> SessionState:
    return replace(st, screen=screen, session_start=now, index=0, cursor=None, pending=None,
                   text="", scroll=0, answers=(), started=False, thanks_until=None,
                   digits="", digit_at=None, confirm_exit=False)


def _on_idle(st: SessionState, event: Event, s: SessionSettings, now: datetime) -> Result:
    if isinstance(event, Button):
        # The face kiosk's welcome is its first question: a press answers it.
        if not s.faces:
            return st, []
        begun = _begin(st, now, Screen.QUESTION)
        if st.audio:
            return _button_in_audio(begun, event.n, s, now)
        return _choose(begun, event.n - 1, s, now, led=event.n)
    if isinstance(event, Tap):
        target = event.target
        if isinstance(target, PickOption) and s.faces:
            return _choose(_begin(st, now, Screen.QUESTION), target.index, s, now)
        if isinstance(target, PickLanguage):
            if s.faces:
                return replace(st, lang=target.lang), []
            begun = _begin(replace(st, lang=target.lang), now, Screen.QUESTION)
            return _enter_question(begun, s, 0, now)
        if target is Command.START:
            return _enter_question(_begin(st, now, Screen.QUESTION), s, 0, now)
        return st, []
    if isinstance(event, Text):
        return st, []
    if st.audio:
        return _start_audio(st, s, now)
    # A keyboard: the first question in the language on screen.
    return _enter_question(_begin(st, now, Screen.QUESTION), s, 0, now)


def _on_language(st: SessionState, event: Event, s: SessionSettings, now: datetime) -> Result:
    """The audio mode's spoken language menu: a digit says a language, Enter chooses it."""
    n = len(s.languages)
    if isinstance(event, Button):
        # A face button at the menu: the question in the language the menu is on.
        lang = s.languages[st.cursor or 0]
        return _button_in_audio(replace(st, screen=Screen.QUESTION, lang=lang, index=0),
                                event.n, s, now)
    if isinstance(event, Tap) and isinstance(event.target, PickLanguage):
        return _language_chosen(replace(st, lang=event.target.lang), s, now)
    if not isinstance(event, Key):
        return st, []
    cursor = st.cursor if st.cursor is not None else 0
    name = event.name
    if name in ("up", "right", "down", "left"):
        cursor = min(n - 1, cursor + 1) if name in ("up", "right") else max(0, cursor - 1)
        st = replace(st, cursor=cursor, lang=s.languages[cursor])
        return _say(st, [language_item(s, cursor)])
    if name in DIGITS and 1 <= int(name) <= n:
        cursor = int(name) - 1
        st = replace(st, cursor=cursor, lang=s.languages[cursor])
        return _say(st, [language_item(s, cursor)])
    if name == "enter":
        return _language_chosen(replace(st, lang=s.languages[cursor]), s, now)
    if name == "back":
        # Back to the welcome ends the session: a response begun before is abandoned.
        return _abandon(st, s, now)
    if name in DIGITS:
        return _say(st, [Utterance(ui("no_option", st.lang, value=name, lo=1, hi=n), st.lang)])
    return st, []


def _language_chosen(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    """The intro in the chosen language, then the first question."""
    return _prefixed(*_enter_question(st, s, 0, now), intro(s, st.lang))


def _enter_question(st: SessionState, s: SessionSettings, index: int,
                    now: datetime) -> Result:
    """Show question `index` (skipping free text in audio mode), or complete the session."""
    while index < len(s.questions) and st.audio and s.questions[index].kind == "text":
        index += 1
    if index >= len(s.questions):
        return _complete(st, s, now)
    q = s.questions[index]
    previous = st.answer(q.id)
    opts = options_for(s, index, st.lang)
    cursor = None
    if previous is not None and previous[0] is not None:
        cursor = next((i for i, o in enumerate(opts) if o.value == previous[0]), None)
    text = previous[1] or "" if previous is not None else ""
    screen = Screen.TEXT if q.kind == "text" else Screen.QUESTION
    st = replace(st, screen=screen, index=index, cursor=cursor, pending=None, text=text,
                 scroll=0, digits="", digit_at=None)
    if not st.audio:
        return st, []
    parts = [Utterance(q.prompt(st.lang, "kiosk"), st.lang)]
    ends = scale_ends(s, index, st.lang)
    if ends is not None:
        parts.append(ends)
    parts.append(question_hint(s, index, st.lang))
    if cursor is not None:
        parts.append(announce(s, index, st.lang, cursor))
    return _say(st, parts)


def _on_question(st: SessionState, event: Event, s: SessionSettings, now: datetime) -> Result:
    opts = options_for(s, st.index, st.lang)
    if isinstance(event, Button):
        if st.audio:
            return _button_in_audio(st, event.n, s, now)
        return _choose(st, event.n - 1, s, now, led=event.n)
    if isinstance(event, Tap):
        return _on_question_tap(st, event, s, now)
    if not isinstance(event, Key):
        return st, []
    name = event.name
    if st.pending is not None:
        if name == "enter":
            return _choose(replace(st, pending=None), st.pending, s, now)
        if name == "back":
            st = replace(st, pending=None)
            return _say(st, [announce(s, st.index, st.lang, st.cursor or 0)])
        st = replace(st, pending=None)
    if name in ("up", "right", "down", "left"):
        up = name in ("up", "right")
        if st.cursor is None:
            cursor = 0 if up else len(opts) - 1
        else:
            cursor = min(len(opts) - 1, st.cursor + 1) if up else max(0, st.cursor - 1)
        st = replace(st, cursor=cursor)
        return _say(st, [announce(s, st.index, st.lang, cursor)]) if st.audio else (st, [])
    if name in DIGITS:
        return _on_digit(st, name, s, now)
    if name == "enter":
        if st.cursor is None:
            return _say(st, [Utterance(ui("choose_first", st.lang), st.lang)]) if st.audio \
                else (st, [])
        cursor = st.cursor
        if st.audio:
            st = replace(st, pending=cursor)
            words = ui("you_chose", st.lang, choice=choice_words(s, st.index, st.lang, cursor))
            return _say(st, [Utterance(words, st.lang)])
        return _choose(st, cursor, s, now)
    if name == "back":
        return _go_back(st, s, now)
    return st, []


def _button_in_audio(st: SessionState, n: int, s: SessionSettings, now: datetime) -> Result:
    """In the audio mode a face button first says what it is; the same button again (or
    Enter) sends it. So a blind patient hears a button before it counts."""
    opts = options_for(s, st.index, st.lang)
    i = n - 1
    if not 0 <= i < len(opts):
        return st, []
    if st.pending == i:
        return _choose(replace(st, pending=None), i, s, now, led=n)
    st = replace(st, cursor=i, pending=i)
    words = ui("you_chose_button", st.lang, n=n,
               choice=choice_words(s, st.index, st.lang, i))
    return st, [FlashLed(n), Speak((Utterance(words, st.lang),), st.rate)]


def _on_digit(st: SessionState, digit: str, s: SessionSettings, now: datetime) -> Result:
    """A digit picks that value; "1" then "0" within `digit_window` picks 10."""
    opts = options_for(s, st.index, st.lang)
    values = [o.value for o in opts]
    value = int(digit)
    recent = st.digit_at is not None and (now - st.digit_at).total_seconds() <= s.digit_window
    if st.digits and recent and int(st.digits + digit) in values:
        value = int(st.digits + digit)
    st = replace(st, digits=digit if value < 10 else "", digit_at=now)
    if value not in values:
        if not st.audio:
            return st, []
        msg = ui("no_option", st.lang, value=value, lo=values[0], hi=values[-1])
        return _say(st, [Utterance(msg, st.lang)])
    found = values.index(value)
    st = replace(st, cursor=found)
    return _say(st, [announce(s, st.index, st.lang, found)]) if st.audio else (st, [])


def _on_question_tap(st: SessionState, event: Tap, s: SessionSettings, now: datetime) -> Result:
    target = event.target
    if isinstance(target, PickOption):
        return _choose(st, target.index, s, now)
    if isinstance(target, PickLanguage):
        return _enter_question(replace(st, lang=target.lang), s, st.index, now)
    if target is Command.SKIP and st.index > 0:
        return _enter_question(st, s, st.index + 1, now)
    if target is Command.BACK:
        return _go_back(st, s, now)
    if target is Command.SCROLL_DOWN:
        return replace(st, scroll=st.scroll + 1), []
    if target is Command.SCROLL_UP:
        return replace(st, scroll=max(0, st.scroll - 1)), []
    return st, []


def _go_back(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    index = st.index - 1
    while index >= 0 and st.audio and s.questions[index].kind == "text":
        index -= 1
    if index >= 0:
        return _enter_question(st, s, index, now)
    if not st.audio:
        return st, []  # the first question has no way back: the welcome is not a step
    if len(s.languages) > 1:
        cursor = s.languages.index(st.lang) if st.lang in s.languages else 0
        st = replace(st, screen=Screen.LANGUAGE, cursor=cursor, pending=None)
        return _say(st, language_menu(s))
    return _say(st, [Utterance(ui("first_question", st.lang), st.lang)])


def _choose(st: SessionState, i: int, s: SessionSettings, now: datetime,
            led: int | None = None) -> Result:
    """Answer the current question with option `i`, store it and move on.

    A physical button's face stays lit for `lit_seconds` first (not in the audio mode).
    """
    opts = options_for(s, st.index, st.lang)
    if not 0 <= i < len(opts):
        return st, []
    effects: list[Effect] = [FlashLed(led)] if led is not None else []
    st, written = _store_answer(st, s, st.index, opts[i].value, None)
    if led is not None and not st.audio and s.lit_seconds > 0:
        lit = replace(st, cursor=i, lit_until=now + timedelta(seconds=s.lit_seconds))
        return lit, effects + written
    st, more = _enter_question(st, s, st.index + 1, now)
    if st.audio:
        question_parts = st.spoken
        st, more = _prefixed(st, more, Utterance(ui("saved", st.lang), st.lang))
        st = replace(st, spoken=question_parts)  # "repeat" says the question, not "Saved."
    return st, effects + written + more


def _move_on(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    """After a lit face: the next question (or thanks)."""
    return _enter_question(replace(st, lit_until=None), s, st.index + 1, now)


def _store_answer(st: SessionState, s: SessionSettings, index: int, value: int | None,
                  text: str | None) -> Result:
    q = s.questions[index]
    effects: list[Effect] = []
    if not st.started:
        started_at = st.session_start or st.last_input
        assert started_at is not None
        effects.append(OpenResponse(st.channel, st.lang, started_at))
        effects.extend(Flag(f) for f in dict.fromkeys(st.pending_flags))
        st = replace(st, started=True, pending_flags=())
    effects.append(SetAnswer(q.id, value, text))
    answers = (*tuple(a for a in st.answers if a.question != q.id), Answer(q.id, value, text))
    return replace(st, answers=answers), effects


def _complete(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    """All questions done: finalise complete (burst-checked) and thank."""
    effects: list[Effect] = []
    if st.started:
        window = timedelta(seconds=s.burst_window)
        recent = (*tuple(t for t in st.completions if now - t < window), now)
        if len(recent) >= s.burst_count:
            effects.append(Flag("burst"))
        effects.append(FinaliseResponse(Status.COMPLETE))
        st = replace(st, completions=recent)
    st = replace(st, screen=Screen.THANKS, cursor=None, pending=None, started=False,
                 thanks_until=now + timedelta(seconds=s.thanks_seconds))
    if st.audio:
        st, speak = _say(st, [message(s.survey, "kiosk_thanks", st.lang)])
        effects += speak
    return st, effects


def _on_text(st: SessionState, event: Event, s: SessionSettings, now: datetime) -> Result:
    q = s.questions[st.index]
    limit = q.max_length or 500
    if isinstance(event, Text):
        return replace(st, text=(st.text + event.text)[:limit]), []
    if isinstance(event, Button):
        # Buttons cannot type: a press sends what was typed (or nothing) and moves on.
        st, effects = _send_text(st, s, now)
        return st, [FlashLed(event.n), *effects]
    if isinstance(event, Tap):
        return _on_text_tap(st, event, s, now, limit)
    if isinstance(event, Key):
        if event.name == "enter":
            return _send_text(st, s, now)
        if event.name == "back":
            if st.text:
                return replace(st, text=st.text[:-1]), []
            return _go_back(st, s, now)
    return st, []


def _on_text_tap(st: SessionState, event: Tap, s: SessionSettings, now: datetime,
                 limit: int) -> Result:
    target = event.target
    if isinstance(target, TypeChar):
        return replace(st, text=(st.text + target.char)[:limit]), []
    if isinstance(target, PickLanguage):
        return replace(st, lang=target.lang), []
    if target is Command.SPACE:
        return replace(st, text=(st.text + " ")[:limit]), []
    if target is Command.DELETE:
        return replace(st, text=st.text[:-1]), []
    if target is Command.SEND:
        return _send_text(st, s, now)
    if target is Command.SKIP:
        return _enter_question(st, s, st.index + 1, now)
    if target is Command.BACK:
        return _go_back(st, s, now)
    return st, []


def _send_text(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    text = st.text.strip()
    effects: list[Effect] = []
    if text:
        st, effects = _store_answer(st, s, st.index, None, text)
    st, more = _enter_question(st, s, st.index + 1, now)
    return st, effects + more


# -- stopping ------------------------------------------------------------------------


def _ask_exit(st: SessionState) -> Result:
    """Esc: ask before throwing anything away (spoken in the audio mode)."""
    st = replace(st, confirm_exit=True)
    if not st.audio:
        return st, []
    # Not remembered as `spoken`: carrying on repeats the question, not this.
    return st, [Speak((Utterance(ui("stop_confirm", st.lang), st.lang),), st.rate)]


def _on_confirm_exit(st: SessionState, event: Event, s: SessionSettings,
                     now: datetime) -> Result:
    stop = ((isinstance(event, Key) and event.name == "enter")
            or (isinstance(event, Tap) and event.target is Command.STOP))
    st = replace(st, confirm_exit=False)
    if stop:
        done, effects = _abandon(st, s, now)
        if st.audio and done.audio:
            done, said = _say(done, [Utterance(ui("stopped", st.lang), st.lang)])
            effects += said
        return done, effects
    if st.audio and st.spoken:
        return st, [Speak(st.spoken, st.rate)]
    return st, []


# -- audio mode ---------------------------------------------------------------------


def _say(st: SessionState, parts: list[Utterance]) -> Result:
    spoken = tuple(parts)
    return replace(st, spoken=spoken), [Speak(spoken, st.rate)]


def _describe(st: SessionState, event: Key | Button, now: datetime) -> Result:
    """A key held down: its name as printed and what it does; nothing else happens."""
    if not st.audio or isinstance(event, Button):
        return st, []
    st = replace(st, last_input=now, warned=False)
    return st, [StopSpeech(), Speak((describe_key(event.name, st.lang),), st.rate)]


def _toggle_audio(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    if st.audio and not st.headphones:
        st = replace(st, audio=False)
        return st, [Speak((Utterance(ui("audio_off", st.lang), st.lang),), st.rate)]
    return _start_audio(st, s, now)


def _start_audio(st: SessionState, s: SessionSettings, now: datetime) -> Result:
    """Switch the audio mode on; from the welcome a session starts with the language menu
    (each language in its own words), then the intro in the chosen language."""
    if not s.audio_available:
        return st, []  # no sound card: the failure is on the status, not a mute session
    st = replace(st, audio=True, last_input=now, warned=False)
    if st.screen is Screen.LANGUAGE:
        return _say(st, language_menu(s))
    if st.screen is Screen.TEXT:
        # Free text is skipped in audio mode: keep what was already typed, then move on.
        return _prefixed(*_send_text(st, s, now), intro(s, st.lang))
    if st.screen is Screen.QUESTION:
        return _prefixed(*_enter_question(st, s, st.index, now), intro(s, st.lang))
    if len(s.languages) == 1:
        return _language_chosen(_begin(st, now, Screen.QUESTION), s, now)
    cursor = s.languages.index(st.lang) if st.lang in s.languages else 0
    st = replace(_begin(st, now, Screen.LANGUAGE), cursor=cursor)
    return _say(st, language_menu(s))


def _prefixed(st: SessionState, effects: list[Effect], first: Utterance) -> Result:
    """Put `first` before what the effects say (or say it alone)."""
    speak = next((e for e in effects if isinstance(e, Speak)), None)
    others = [e for e in effects if not isinstance(e, Speak)]
    st, said = _say(st, [first, *(speak.parts if speak else ())])
    return st, others + said


def _on_headphones(st: SessionState, event: Event, s: SessionSettings,
                   now: datetime) -> Result:
    plugged = isinstance(event, HeadphonesIn)
    if plugged == st.headphones:
        return st, []
    st = replace(st, headphones=plugged)
    if plugged:
        if st.paused_since is not None:
            # Back in time: carry on where the session was.
            st = replace(st, paused_since=None, last_input=now, warned=False)
            back = Utterance(ui("welcome_back", st.lang), st.lang)
            return st, [MuteSpeaker(True), Speak((back, *st.spoken), st.rate)]
        if not st.audio:
            screen = Screen.IDLE if st.screen is Screen.NIGHT else st.screen
            st, more = _start_audio(replace(st, screen=screen), s, now)
            return st, [MuteSpeaker(True), *more]
        return st, [MuteSpeaker(True)]
    if st.audio and st.screen in SESSION_SCREENS:
        # Pulled out mid-session: silence at once, the speaker stays muted, and input is
        # not taken until the plug is back (or the session is abandoned).
        return replace(st, paused_since=now, confirm_exit=False), [StopSpeech()]
    effects: list[Effect] = [StopSpeech()] if st.audio else []
    return replace(st, audio=False), [*effects, MuteSpeaker(False)]


def _audio_control(st: SessionState, name: str, s: SessionSettings) -> Result:
    if name == "repeat":
        return st, [Speak(st.spoken, st.rate)] if st.spoken else []
    if name in ("vol+", "vol-"):
        delta = s.volume_step_db if name == "vol+" else -s.volume_step_db
        db = min(s.volume_max_db, max(s.volume_min_db, st.volume_db + delta))
        st = replace(st, volume_db=db)
        steps = round((s.volume_max_db - s.volume_min_db) / s.volume_step_db)
        n = round((db - s.volume_min_db) / s.volume_step_db)
        said = Utterance(ui("volume", st.lang, n=n, m=steps), st.lang)
        return st, [SetVolume(db), Speak((said,), st.rate)]
    if name == "rate":
        # The keypad's one rate key: faster, and from the fastest back to the slowest.
        rate = st.rate + s.rate_step if st.rate + s.rate_step <= s.rate_max else s.rate_min
    else:
        delta = s.rate_step if name == "rate+" else -s.rate_step
        rate = min(s.rate_max, max(s.rate_min, st.rate + delta))
    st = replace(st, rate=rate)
    steps = (s.rate_max - s.rate_min) // s.rate_step + 1
    n = (rate - s.rate_min) // s.rate_step + 1
    return st, [Speak((Utterance(ui("rate", st.lang, n=n, m=steps), st.lang),), rate)]
