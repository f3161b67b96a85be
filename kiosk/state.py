"""The kiosk session's values: its settings, its state, the screens and the answer options.

Pure data and small pure functions; kiosk.session steps a SessionState with
events, kiosk.layout draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from kiosk.events import KeyName, Utterance
from kiosk.texts import likert_labels, nps_end_labels, smiley_labels, ui
from survey.labels import smiley_values
from survey.model import Question, Survey
from survey.response import FACES_QUESTION, Channel


class Screen(Enum):
    """What the kiosk shows."""

    IDLE = "idle"  # the welcome (on a face kiosk: the first question itself)
    NIGHT = "night"  # outside opening hours: dark until touched
    LANGUAGE = "language"  # the audio mode's language menu
    QUESTION = "question"
    TEXT = "text"  # free text on the on-screen keyboard
    THANKS = "thanks"


# Screens of a session in progress (idle timeout, Esc and progress apply).
SESSION_SCREENS = frozenset({Screen.LANGUAGE, Screen.QUESTION, Screen.TEXT})


class Scale(Enum):
    """How the first question is asked: NPS 0-10 on a touchscreen, or faces (buttons)."""

    NPS = "nps"
    SMILEYS5 = "smileys5"
    SMILEYS4 = "smileys4"

    @property
    def faces(self) -> tuple[int, ...]:
        """The face (1 saddest … 5 happiest) of each button, or () for NPS."""
        if self is Scale.NPS:
            return ()
        return smiley_values(5 if self is Scale.SMILEYS5 else 4)


@dataclass(frozen=True)
class Option:
    """One answer option: the stored value, its label and (on a face kiosk) its face."""

    value: int
    label: str = ""
    face: int | None = None


@dataclass(frozen=True)
class SessionSettings:
    """Everything the session needs from the device config and the survey."""

    survey: Survey
    questions: tuple[Question, ...]
    scale: Scale = Scale.NPS
    languages: tuple[str, ...] = ("fi", "sv", "en")
    default_lang: str = "fi"
    idle_timeout: float = 30.0
    idle_warning: float = 15.0  # the "are you still answering?" screen before a reset
    audio_idle_timeout: float = 90.0
    audio_warning: float = 20.0
    headphones_grace: float = 15.0  # headphones out: silent pause, then abandoned
    hold_seconds: float = 1.0  # a key held this long says what it does instead
    digit_window: float = 1.5  # "1" then "0" within this is 10
    thanks_seconds: float = 5.0
    lit_seconds: float = 0.6  # a pressed face stays lit before the next question
    repeat_interval: float = 0.6
    lockout: float = 0.15
    burst_window: float = 60.0
    burst_count: int = 5
    opening_hours: tuple[time, time] | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Helsinki"))
    volume_db: float = -18.0
    volume_min_db: float = -36.0
    volume_max_db: float = 0.0
    volume_step_db: float = 3.0
    rate: int = 160
    rate_min: int = 100
    rate_max: int = 240
    rate_step: int = 20
    buttons: int = 0  # physical answer buttons (0: touch only)
    audio_available: bool = True  # False when the sound card failed at start

    @property
    def faces(self) -> tuple[int, ...]:
        """The faces of a face kiosk, one per button (() on an NPS kiosk)."""
        return self.scale.faces


@dataclass(frozen=True)
class Answer:
    """One answer given in this session."""

    question: str
    value: int | None
    text: str | None


@dataclass(frozen=True)
class SessionState:
    """Where the kiosk is; replaced, never changed, by `step`."""

    screen: Screen = Screen.IDLE
    lang: str = "fi"
    index: int = 0
    cursor: int | None = None
    pending: int | None = None  # audio mode: option index waiting for its confirm
    text: str = ""
    scroll: int = 0  # long question texts: the first line shown
    answers: tuple[Answer, ...] = ()
    started: bool = False  # the response has been written
    session_start: datetime | None = None
    last_input: datetime | None = None
    last_press: datetime | None = None
    warned: bool = False  # the time-out warning is showing (or was spoken)
    confirm_exit: bool = False  # Esc pressed: asking whether to stop
    lit_until: datetime | None = None  # a pressed face is lit until then
    paused_since: datetime | None = None  # audio mode: headphones pulled out
    digits: str = ""  # audio mode: digits typed so far (two-digit values)
    digit_at: datetime | None = None
    audio: bool = False
    headphones: bool = False
    volume_db: float = -18.0
    rate: int = 160
    spoken: tuple[Utterance, ...] = ()
    thanks_until: datetime | None = None
    completions: tuple[datetime, ...] = ()
    pending_flags: tuple[str, ...] = ()
    last_key: KeyName | None = None

    @property
    def channel(self) -> Channel:
        """The response channel this session writes."""
        return Channel.KIOSK_AUDIO if self.audio else Channel.KIOSK

    def answer(self, question: str) -> tuple[int | None, str | None] | None:
        """The (value, text) given to `question` in this session, if any."""
        for a in self.answers:
            if a.question == question:
                return a.value, a.text
        return None


def initial_state(settings: SessionSettings) -> SessionState:
    """The state at start-up: idle, default language, default volume and rate."""
    return SessionState(lang=settings.default_lang, volume_db=settings.volume_db,
                        rate=settings.rate)


def faces_question(survey: Survey, languages: tuple[str, ...]) -> Question:
    """The face kiosk's first question, stored as `faces`: the survey's `kiosk_faces`
    message, or the kiosk's own "How was your visit today?"."""
    return Question(FACES_QUESTION, "smileys",
                    {lang: message(survey, "kiosk_faces", lang).text for lang in languages})


def options_for(settings: SessionSettings, index: int, lang: str) -> list[Option]:
    """The answer options of question `index` in `lang` (empty for free text).

    On a face kiosk every scale question shows one face per button: the faces
    question its faces, a 1-5 statement its labels under faces (four buttons: 1, 2, 4, 5).
    """
    q = settings.questions[index]
    faces = settings.faces
    if faces and q.kind in ("smileys", "likert"):
        labels = smiley_labels(lang, 5) if q.kind == "smileys" else likert_labels(lang)
        return [Option(f, labels[f - 1], f) for f in faces]
    if q.kind == "nps":
        low, high = nps_end_labels(lang)
        return [Option(v, low if v == 0 else high if v == 10 else "") for v in range(11)]
    if q.kind == "likert":
        return [Option(i + 1, label) for i, label in enumerate(likert_labels(lang))]
    if q.kind == "smileys":
        labels = smiley_labels(lang, 5)
        return [Option(i + 1, labels[i], i + 1) for i in range(5)]
    return []


def message(survey: Survey, name: str, lang: str) -> Utterance:
    """A survey message (kiosk_welcome, kiosk_thanks, …) in `lang`, or the kiosk's own."""
    try:
        return Utterance(survey.message(name, lang), lang)
    except KeyError:
        return Utterance(ui(name, lang), lang)


def progress(settings: SessionSettings, state: SessionState) -> tuple[int, int]:
    """(this question's number, how many) for "2 / 5"; free text is skipped in audio mode."""
    asked = [i for i, q in enumerate(settings.questions)
             if not (state.audio and q.kind == "text")]
    number = sum(1 for i in asked if i <= state.index)
    return max(1, number), len(asked)


# -- opening hours ---------------------------------------------------------------


def is_open(settings: SessionSettings, now: datetime) -> bool:
    """True inside the opening hours (always when none are configured)."""
    if settings.opening_hours is None:
        return True
    start, end = settings.opening_hours
    t = now.astimezone(settings.timezone).time()
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def next_hours_change(settings: SessionSettings, now: datetime) -> datetime | None:
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
