"""The kiosk session as a pure state machine: `step(state, event, now, settings)`.

idle (attract) → language → questions → free text → thanks → idle, with an
idle timeout that abandons the session (answers kept), night mode outside
opening hours, misuse flags (repeat_press, burst) and the audio mode with its
confirm step. No I/O here: the result is a new State and a list of effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.events import (
    Button,
    Effect,
    Event,
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
    Utterance,
)
from kiosk.texts import LANGUAGE_NAMES, likert_labels, nps_end_labels, smiley_labels, ui
from survey.model import Question, Survey
from survey.response import Channel, Status

SCALES = ("nps", "smileys5", "smileys4")
# Face shapes (1 = saddest … 5 = happiest) shown for 5 and 4 smileys.
FACES = {5: (1, 2, 3, 4, 5), 4: (1, 2, 4, 5)}
SESSION_SCREENS = frozenset({"language", "question", "text"})


@dataclass(frozen=True)
class Option:
    """One answer option: the stored value, its label and (for smileys) its face shape."""

    value: int
    label: str = ""
    face: int | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the session needs from the device config and the survey."""

    survey: Survey
    questions: tuple[Question, ...]
    scale: str = "nps"
    # Values of the first question's options when it is asked with smileys (one per face).
    face_values: tuple[int, ...] = (1, 2, 3, 4, 5)
    languages: tuple[str, ...] = ("fi", "sv", "en")
    default_lang: str = "fi"
    idle_timeout: float = 30.0
    audio_idle_timeout: float = 90.0
    audio_warning: float = 20.0
    thanks_seconds: float = 5.0
    repeat_interval: float = 0.6
    lockout: float = 0.15
    burst_window: float = 60.0
    burst_count: int = 5
    opening_hours: tuple[time, time] | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Helsinki"))
    volume_db: float = -9.0
    volume_min_db: float = -24.0
    volume_max_db: float = 0.0
    volume_step_db: float = 3.0
    rate: int = 160
    rate_min: int = 100
    rate_max: int = 240
    rate_step: int = 20


@dataclass(frozen=True)
class State:
    """Where the kiosk is; replaced, never changed, by `step`."""

    screen: str = "idle"  # idle | night | language | question | text | thanks
    lang: str = "fi"
    index: int = 0
    cursor: int | None = None
    pending: int | None = None  # audio mode: option index waiting for its confirm
    text: str = ""
    answers: tuple[tuple[str, int | None, str | None], ...] = ()
    started: bool = False  # the response has been written
    session_start: datetime | None = None
    last_input: datetime | None = None
    last_press: datetime | None = None
    warned: bool = False
    audio: bool = False
    headphones: bool = False
    volume_db: float = -9.0
    rate: int = 160
    spoken: tuple[Utterance, ...] = ()
    thanks_until: datetime | None = None
    completions: tuple[datetime, ...] = ()
    pending_flags: tuple[str, ...] = ()

    @property
    def channel(self) -> Channel:
        """The response channel this session writes."""
        return Channel.KIOSK_AUDIO if self.audio else Channel.KIOSK

    def answer(self, question: str) -> tuple[int | None, str | None] | None:
        """The (value, text) given to `question` in this session, if any."""
        for qid, value, text in self.answers:
            if qid == question:
                return value, text
        return None


def initial_state(settings: Settings) -> State:
    """The state at start-up: idle, default language, default volume and rate."""
    return State(lang=settings.default_lang, volume_db=settings.volume_db, rate=settings.rate)


def options_for(settings: Settings, index: int, lang: str) -> list[Option]:
    """The answer options of question `index` in `lang` (empty for free text)."""
    q = settings.questions[index]
    if index == 0 and settings.scale.startswith("smileys"):
        faces = FACES[len(settings.face_values)]
        labels = smiley_labels(lang, len(faces))
        return [Option(v, labels[i], faces[i]) for i, v in enumerate(settings.face_values)]
    if q.kind == "nps":
        low, high = nps_end_labels(lang)
        return [Option(v, low if v == 0 else high if v == 10 else "") for v in range(11)]
    if q.kind == "likert":
        return [Option(i + 1, label) for i, label in enumerate(likert_labels(lang))]
    if q.kind == "smileys":
        labels = smiley_labels(lang, 5)
        return [Option(i + 1, labels[i], i + 1) for i in range(5)]
    return []


# -- opening hours ---------------------------------------------------------------


def is_open(settings: Settings, now: datetime) -> bool:
    """True inside the opening hours (always when none are configured)."""
    if settings.opening_hours is None:
        return True
    start, end = settings.opening_hours
    t = now.astimezone(settings.timezone).time()
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def next_hours_change(settings: Settings, now: datetime) -> datetime | None:
    """The next moment the kiosk opens or closes, or None without opening hours."""
    if settings.opening_hours is None:
        return None
    local = now.astimezone(settings.timezone)
    candidates = []
    for days in (0, 1):
        day = local.date() + timedelta(days=days)
        for t in settings.opening_hours:
            candidates.append(datetime.combine(day, t, tzinfo=settings.timezone))
    later = [c for c in candidates if c > local]
    return min(later) if later else None


# -- timers ----------------------------------------------------------------------


def next_deadline(state: State, settings: Settings, now: datetime) -> datetime | None:
    """When the next Tick must come (a timer of this state fires), or None."""
    if state.screen == "thanks":
        return state.thanks_until
    if state.screen in SESSION_SCREENS and state.last_input is not None:
        if state.audio:
            end = state.last_input + timedelta(seconds=settings.audio_idle_timeout)
            if not state.warned:
                return end - timedelta(seconds=settings.audio_warning)
            return end
        return state.last_input + timedelta(seconds=settings.idle_timeout)
    if state.screen == "idle" and not is_open(settings, now):
        # Woken at night: back to sleep after the idle timeout.
        awake_until = _awake_until(state, settings)
        return awake_until if awake_until is not None and awake_until > now else now
    return next_hours_change(settings, now)


def _awake_until(state: State, s: Settings) -> datetime | None:
    if state.last_input is None:
        return None
    return state.last_input + timedelta(seconds=s.idle_timeout)


def _on_tick(state: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    if state.screen == "thanks":
        if state.thanks_until is not None and now >= state.thanks_until:
            return _to_idle(state, s, now)
        return state, []
    if state.screen in SESSION_SCREENS and state.last_input is not None:
        idle = (now - state.last_input).total_seconds()
        if state.audio:
            if idle >= s.audio_idle_timeout:
                return _abandon(state, s, now)
            if not state.warned and idle >= s.audio_idle_timeout - s.audio_warning:
                st = replace(state, warned=True)
                return _say(st, [message(s, "kiosk_still_there", st.lang)])
            return state, []
        if idle >= s.idle_timeout:
            return _abandon(state, s, now)
        return state, []
    if state.screen == "idle" and not is_open(s, now):
        awake_until = _awake_until(state, s)
        if awake_until is None or now >= awake_until:
            return replace(state, screen="night"), []
        return state, []
    if state.screen == "night" and is_open(s, now):
        return replace(state, screen="idle"), []
    return state, []


def _abandon(state: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    effects: list[Effect] = [Finalise(Status.ABANDONED)] if state.started else []
    st, more = _to_idle(state, s, now)
    return st, effects + more


def _to_idle(state: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    """End the session: idle (or night) screen; volume and speech rate back to defaults."""
    effects: list[Effect] = []
    if state.volume_db != s.volume_db:
        effects.append(SetVolume(s.volume_db))
    if state.audio:
        effects.append(StopSpeech())
    st = replace(
        initial_state(s), screen="idle" if is_open(s, now) else "night",
        headphones=state.headphones, audio=state.headphones, completions=state.completions,
        last_press=state.last_press,
    )
    return st, effects


# -- the step function -------------------------------------------------------------


def step(state: State, event: Event, now: datetime,
         settings: Settings) -> tuple[State, list[Effect]]:
    """Apply one event at time `now`: the new state and the effects to carry out."""
    if isinstance(event, Tick):
        return _on_tick(state, settings, now)
    if isinstance(event, HeadphonesIn | HeadphonesOut):
        return _on_headphones(state, event, settings, now)
    prefix: list[Effect] = [StopSpeech()] if state.audio and isinstance(event, Key) else []
    st = replace(state, last_input=now, warned=False)
    if st.screen == "night":
        # Any input only wakes the screen; it answers nothing.
        return replace(st, screen="idle"), prefix
    if isinstance(event, Button | Tap) and _is_answer(event):
        st, flags, locked = _check_press(st, settings, now)
        if locked:
            return st, prefix + flags
    else:
        flags = []
    new, effects = _dispatch(st, event, settings, now)
    return new, prefix + flags + effects


def _is_answer(event: Button | Tap) -> bool:
    return isinstance(event, Button) or event.target.startswith("opt:")


def _check_press(st: State, s: Settings, now: datetime) -> tuple[State, list[Effect], bool]:
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


def _dispatch(st: State, event: Event, s: Settings,
              now: datetime) -> tuple[State, list[Effect]]:
    if isinstance(event, Key) and event.name == "audio":
        return _toggle_audio(st, s, now)
    if isinstance(event, Key) and st.audio and event.name in (
            "repeat", "vol+", "vol-", "rate+", "rate-"):
        return _audio_control(st, event.name, s)
    if isinstance(event, Key) and event.name == "esc" and st.screen in SESSION_SCREENS:
        return _abandon(st, s, now)
    if st.screen == "thanks":
        # The last session is over: the next one starts at the default volume and rate.
        reset: list[Effect] = [SetVolume(s.volume_db)] if st.volume_db != s.volume_db else []
        new, effects = _on_idle(replace(st, volume_db=s.volume_db, rate=s.rate), event, s, now)
        return new, reset + effects
    if st.screen == "idle":
        return _on_idle(st, event, s, now)
    if st.screen == "language":
        return _on_language(st, event, s, now)
    if st.screen == "question":
        return _on_question(st, event, s, now)
    if st.screen == "text":
        return _on_text(st, event, s, now)
    return st, []


def _begin(st: State, s: Settings, now: datetime, screen: str) -> State:
    return replace(st, screen=screen, session_start=now, index=0, cursor=None, pending=None,
                   text="", answers=(), started=False, thanks_until=None)


def _on_idle(st: State, event: Event, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    if isinstance(event, Button):
        # A press at the attract screen answers the first question in the default language.
        begun = _begin(replace(st, lang=s.default_lang), s, now, "question")
        return _choose_index(begun, event.n - 1, s, now, led=event.n)
    if isinstance(event, Tap) and event.target.startswith("lang:"):
        begun = _begin(replace(st, lang=event.target[5:]), s, now, "question")
        return _enter_question(begun, s, 0, now)
    if isinstance(event, Text):
        return st, []
    if st.audio:
        return _start_audio(st, s, now)
    if len(s.languages) == 1:
        return _enter_question(_begin(st, s, now, "question"), s, 0, now)
    begun = _begin(st, s, now, "language")
    return replace(begun, cursor=s.languages.index(st.lang) if st.lang in s.languages else 0), []


def _on_language(st: State, event: Event, s: Settings,
                 now: datetime) -> tuple[State, list[Effect]]:
    n = len(s.languages)
    if isinstance(event, Button):
        return _choose_index(replace(st, screen="question", lang=s.default_lang),
                             event.n - 1, s, now, led=event.n)
    if isinstance(event, Tap) and event.target.startswith("lang:"):
        return _enter_question(replace(st, lang=event.target[5:]), s, 0, now)
    if not isinstance(event, Key):
        return st, []
    cursor = st.cursor if st.cursor is not None else 0
    name = event.name
    if name in ("up", "right", "down", "left"):
        cursor = min(n - 1, cursor + 1) if name in ("up", "right") else max(0, cursor - 1)
        st = replace(st, cursor=cursor, lang=s.languages[cursor])
        return _say(st, [language_item(s, cursor)]) if st.audio else (st, [])
    if name.isdigit() and 1 <= int(name) <= n:
        cursor = int(name) - 1
        st = replace(st, cursor=cursor, lang=s.languages[cursor])
        if st.audio:
            return _say(st, [language_item(s, cursor)])
        return _enter_question(st, s, 0, now)
    if name == "enter":
        return _enter_question(replace(st, lang=s.languages[cursor]), s, 0, now)
    if name == "back":
        # Back to the attract screen ends the session: a response begun before is abandoned.
        return _abandon(st, s, now)
    if st.audio and name.isdigit():
        return _say(st, [Utterance(ui("no_option", st.lang, value=name, lo=1, hi=n), st.lang)])
    return st, []


def language_item(s: Settings, i: int) -> Utterance:
    """Language `i` of the menu, spoken in that language: "Svenska, 2 av 3"."""
    lang = s.languages[i]
    name = LANGUAGE_NAMES.get(lang, lang)
    return Utterance(ui("language_item", lang, name=name, pos=i + 1, n=len(s.languages)), lang)


def _enter_question(st: State, s: Settings, index: int,
                    now: datetime) -> tuple[State, list[Effect]]:
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
    screen = "text" if q.kind == "text" else "question"
    st = replace(st, screen=screen, index=index, cursor=cursor, pending=None, text=text)
    if not st.audio:
        return st, []
    parts = [Utterance(q.prompt(st.lang, "kiosk"), st.lang)]
    ends = scale_ends(s, index, st.lang)
    if ends is not None:
        parts.append(ends)
    parts.append(Utterance(ui("hint", st.lang), st.lang))
    if cursor is not None:
        parts.append(_announce(s, st, cursor))
    return _say(st, parts)


def scale_ends(s: Settings, index: int, lang: str) -> Utterance | None:
    """What the ends of question `index`'s scale mean: "0 means very unlikely, 10 …"."""
    opts = options_for(s, index, lang)
    if len(opts) < 2 or not (opts[0].label and opts[-1].label):
        return None
    return Utterance(ui("scale_ends", lang, lo=opts[0].value, low=opts[0].label,
                        hi=opts[-1].value, high=opts[-1].label), lang)


def _announce(s: Settings, st: State, i: int) -> Utterance:
    return announce(s, st.index, st.lang, i)


def announce(s: Settings, index: int, lang: str, i: int) -> Utterance:
    """Option `i` of question `index` as spoken while moving: "7, of 0 to 10"."""
    opts = options_for(s, index, lang)
    o = opts[i]
    lo, hi = opts[0].value, opts[-1].value
    if o.label and s.questions[index].kind != "nps":
        text = ui("of_range_label", lang, value=o.value, label=o.label, lo=lo, hi=hi)
    else:
        text = ui("of_range", lang, value=o.value, lo=lo, hi=hi)
    return Utterance(text, lang)


def _choice_words(s: Settings, st: State, i: int) -> str:
    return choice_words(s, st.index, st.lang, i)


def choice_words(s: Settings, index: int, lang: str, i: int) -> str:
    """How the confirm step names option `i`: "7" or "4, Partly agree"."""
    o = options_for(s, index, lang)[i]
    if o.label and s.questions[index].kind != "nps":
        return f"{o.value}, {o.label}"
    return str(o.value)


def _on_question(st: State, event: Event, s: Settings,
                 now: datetime) -> tuple[State, list[Effect]]:
    opts = options_for(s, st.index, st.lang)
    if isinstance(event, Button):
        return _choose_index(st, _button_option(s, opts, event.n), s, now, led=event.n)
    if isinstance(event, Tap):
        return _on_question_tap(st, event.target, s, now)
    if not isinstance(event, Key):
        return st, []
    name = event.name
    if st.pending is not None:
        if name == "enter":
            return _choose_index(replace(st, pending=None), st.pending, s, now)
        if name == "back":
            st = replace(st, pending=None)
            return _say(st, [_announce(s, st, st.cursor if st.cursor is not None else 0)])
        st = replace(st, pending=None)
    if name in ("up", "right", "down", "left"):
        up = name in ("up", "right")
        if st.cursor is None:
            cursor = 0 if up else len(opts) - 1
        else:
            cursor = min(len(opts) - 1, st.cursor + 1) if up else max(0, st.cursor - 1)
        st = replace(st, cursor=cursor)
        return _say(st, [_announce(s, st, cursor)]) if st.audio else (st, [])
    if name.isdigit():
        found = next((i for i, o in enumerate(opts) if o.value == int(name)), None)
        if found is None:
            if not st.audio:
                return st, []
            msg = ui("no_option", st.lang, value=name, lo=opts[0].value, hi=opts[-1].value)
            return _say(st, [Utterance(msg, st.lang)])
        st = replace(st, cursor=found)
        return _say(st, [_announce(s, st, found)]) if st.audio else (st, [])
    if name == "enter":
        if st.cursor is None:
            return _say(st, [Utterance(ui("choose_first", st.lang), st.lang)]) if st.audio \
                else (st, [])
        cursor = st.cursor
        if st.audio:
            st = replace(st, pending=cursor)
            words = ui("you_chose", st.lang, choice=_choice_words(s, st, cursor))
            return _say(st, [Utterance(words, st.lang)])
        return _choose_index(st, cursor, s, now)
    if name == "back":
        return _go_back(st, s, now)
    return st, []


def _button_option(s: Settings, opts: list[Option], n: int) -> int:
    """The option physical button `n` chooses: on four faces, a 1-5 scale's 1, 2, 4 or 5."""
    if len(s.face_values) == 4 and len(opts) == 5 and opts[0].value == 1 and 1 <= n <= 4:
        # Four faces have no neutral one: the happiest face is 5, as on the first question.
        return FACES[4][n - 1] - 1
    return n - 1


def _on_question_tap(st: State, target: str, s: Settings,
                     now: datetime) -> tuple[State, list[Effect]]:
    if target.startswith("opt:"):
        return _choose_index(st, int(target[4:]), s, now)
    if target.startswith("lang:"):
        return _enter_question(replace(st, lang=target[5:]), s, st.index, now)
    if target == "skip" and st.index > 0:
        return _enter_question(st, s, st.index + 1, now)
    if target == "back":
        return _go_back(st, s, now)
    return st, []


def _go_back(st: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    index = st.index - 1
    while index >= 0 and st.audio and s.questions[index].kind == "text":
        index -= 1
    if index >= 0:
        return _enter_question(st, s, index, now)
    if len(s.languages) > 1:
        st = replace(st, screen="language", cursor=s.languages.index(st.lang)
                     if st.lang in s.languages else 0, pending=None)
        if st.audio:
            return _say(st, [Utterance(ui("choose_language", st.lang), st.lang),
                             language_item(s, st.cursor or 0)])
        return st, []
    if st.audio:
        return _say(st, [Utterance(ui("first_question", st.lang), st.lang)])
    return st, []


def _choose_index(st: State, i: int, s: Settings, now: datetime,
                  led: int | None = None) -> tuple[State, list[Effect]]:
    """Answer the current question with option `i`, store it and move on."""
    opts = options_for(s, st.index, st.lang)
    if not 0 <= i < len(opts):
        return st, []
    effects: list[Effect] = [FlashLed(led)] if led is not None else []
    st, written = _store_answer(st, s, st.index, opts[i].value, None)
    st, more = _enter_question(st, s, st.index + 1, now)
    if st.audio:
        question_parts = st.spoken
        st, more = _prefixed(st, more, Utterance(ui("saved", st.lang), st.lang))
        st = replace(st, spoken=question_parts)  # "repeat" says the question, not "Saved."
    return st, effects + written + more


def _store_answer(st: State, s: Settings, index: int, value: int | None,
                  text: str | None) -> tuple[State, list[Effect]]:
    q = s.questions[index]
    effects: list[Effect] = []
    if not st.started:
        started_at = st.session_start or st.last_input
        assert started_at is not None
        effects.append(StartResponse(st.channel, st.lang, started_at))
        effects.extend(Flag(f) for f in dict.fromkeys(st.pending_flags))
        st = replace(st, started=True, pending_flags=())
    effects.append(SetAnswer(q.id, value, text))
    answers = (*tuple(a for a in st.answers if a[0] != q.id), (q.id, value, text))
    return replace(st, answers=answers), effects


def _complete(st: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    """All questions done: finalise complete (burst-checked) and thank."""
    effects: list[Effect] = []
    if st.started:
        window = timedelta(seconds=s.burst_window)
        recent = (*tuple(t for t in st.completions if now - t < window), now)
        if len(recent) >= s.burst_count:
            effects.append(Flag("burst"))
        effects.append(Finalise(Status.COMPLETE))
        st = replace(st, completions=recent)
    st = replace(st, screen="thanks", thanks_until=now + timedelta(seconds=s.thanks_seconds),
                 cursor=None, pending=None, started=False)
    if st.audio:
        st, speak = _say(st, [message(s, "kiosk_thanks", st.lang)])
        effects += speak
    return st, effects


def _on_text(st: State, event: Event, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    q = s.questions[st.index]
    limit = q.max_length or 500
    if isinstance(event, Text):
        return replace(st, text=(st.text + event.text)[:limit]), []
    if isinstance(event, Button):
        # Buttons cannot type: a press sends what was typed (or nothing) and moves on.
        st, effects = _send_text(st, s, now)
        return st, [FlashLed(event.n), *effects]
    if isinstance(event, Tap):
        t = event.target
        if t.startswith("char:"):
            ch = t[5:]
            if ch == "bksp":
                return replace(st, text=st.text[:-1]), []
            return replace(st, text=(st.text + (" " if ch == "space" else ch))[:limit]), []
        if t == "send":
            return _send_text(st, s, now)
        if t == "skip":
            return _enter_question(st, s, st.index + 1, now)
        if t == "back":
            return _go_back(st, s, now)
        if t.startswith("lang:"):
            return replace(st, lang=t[5:]), []
        return st, []
    if isinstance(event, Key):
        if event.name == "enter":
            return _send_text(st, s, now)
        if event.name == "back":
            if st.text:
                return replace(st, text=st.text[:-1]), []
            return _go_back(st, s, now)
    return st, []


def _send_text(st: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    text = st.text.strip()
    effects: list[Effect] = []
    if text:
        st, effects = _store_answer(st, s, st.index, None, text)
    st, more = _enter_question(st, s, st.index + 1, now)
    return st, effects + more


# -- audio mode ---------------------------------------------------------------------


def message(s: Settings, name: str, lang: str) -> Utterance:
    """A survey message (kiosk_welcome, kiosk_thanks, kiosk_still_there) or our fallback."""
    try:
        return Utterance(s.survey.message(name, lang), lang)
    except KeyError:
        return Utterance(ui(name, lang), lang)


def _say(st: State, parts: list[Utterance]) -> tuple[State, list[Effect]]:
    spoken = tuple(parts)
    return replace(st, spoken=spoken), [Speak(spoken, st.rate)]


def _toggle_audio(st: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    if st.audio and not st.headphones:
        st = replace(st, audio=False)
        return st, [Speak((Utterance(ui("audio_off", st.lang), st.lang),), st.rate)]
    return _start_audio(st, s, now)


def _start_audio(st: State, s: Settings, now: datetime) -> tuple[State, list[Effect]]:
    """Switch the audio mode on: from idle it starts a session at the language menu."""
    st = replace(st, audio=True, last_input=now, warned=False)
    intro = Utterance(ui("audio_on", st.lang), st.lang)
    if st.screen == "language":
        return _say(st, [intro, language_item(s, st.cursor or 0)])
    if st.screen == "text":
        # Free text is skipped in audio mode: keep what was already typed, then move on.
        return _prefixed(*_send_text(st, s, now), intro)
    if st.screen == "question":
        return _prefixed(*_enter_question(st, s, st.index, now), intro)
    if len(s.languages) == 1:
        return _prefixed(*_enter_question(_begin(st, s, now, "question"), s, 0, now), intro)
    cursor = s.languages.index(st.lang) if st.lang in s.languages else 0
    st = replace(_begin(st, s, now, "language"), cursor=cursor)
    return _say(st, [intro, language_item(s, cursor)])


def _prefixed(st: State, effects: list[Effect], first: Utterance) -> tuple[State, list[Effect]]:
    """Put `first` before what the effects say (or say it alone)."""
    speak = next((e for e in effects if isinstance(e, Speak)), None)
    others = [e for e in effects if not isinstance(e, Speak)]
    st, said = _say(st, [first, *(speak.parts if speak else ())])
    return st, others + said


def _on_headphones(st: State, event: Event, s: Settings,
                   now: datetime) -> tuple[State, list[Effect]]:
    plugged = isinstance(event, HeadphonesIn)
    if plugged == st.headphones:
        return st, []
    effects: list[Effect] = [MuteSpeaker(plugged)]
    st = replace(st, headphones=plugged)
    if plugged and not st.audio:
        st, more = _start_audio(replace(st, screen="idle" if st.screen == "night" else st.screen),
                                s, now)
        return st, effects + more
    if not plugged and st.screen in ("idle", "night", "thanks"):
        st = replace(st, audio=False)
    return st, effects


def _audio_control(st: State, name: str, s: Settings) -> tuple[State, list[Effect]]:
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
    delta = s.rate_step if name == "rate+" else -s.rate_step
    rate = min(s.rate_max, max(s.rate_min, st.rate + delta))
    st = replace(st, rate=rate)
    steps = (s.rate_max - s.rate_min) // s.rate_step + 1
    n = (rate - s.rate_min) // s.rate_step + 1
    return st, [Speak((Utterance(ui("rate", st.lang, n=n, m=steps), st.lang),), rate)]
