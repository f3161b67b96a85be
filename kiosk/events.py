"""Input events and output effects of the kiosk session, as plain values.

Touch, physical buttons, the keyboard and the headphone switch all become these
events; the session answers with effects that the shell (kiosk.app) carries out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Literal, get_args

from survey.response import Channel, Status

# Key names shared by the keyboard, the simulation script and the audio mode: a Literal,
# so that a misspelt key name in the code fails mypy instead of silently doing nothing.
KeyName = Literal[
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "up", "down", "left", "right", "enter",
    "back", "repeat", "audio", "vol+", "vol-", "rate", "rate+", "rate-", "esc",
]
KEY_NAMES: frozenset[KeyName] = frozenset(get_args(KeyName))
DIGITS: tuple[KeyName, ...] = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def key_of(name: str) -> KeyName | None:
    """The key called `name` (as typed in a script), or None when there is no such key."""
    for key in KEY_NAMES:
        if key == name:
            return key
    return None


@dataclass(frozen=True)
class Key:
    """A named key; `held`: held down long enough to hear what it does instead."""

    name: KeyName
    held: bool = False


@dataclass(frozen=True)
class Button:
    """Physical answer button number `n` (1 = leftmost); `held`: held down to hear it."""

    n: int
    held: bool = False


@dataclass(frozen=True)
class Touch:
    """A touch at (x, y) as fractions of the screen (0..1); the app turns it into a Tap."""

    x: float
    y: float


class Command(Enum):
    """An on-screen button that is not an answer, a language or a keyboard key."""

    START = "start"
    SKIP = "skip"
    BACK = "back"
    SEND = "send"
    SPACE = "space"
    DELETE = "delete"  # the keyboard's backspace
    CONTINUE = "continue"  # "are you still answering?" answered yes
    STOP = "stop"  # "do you want to stop?" answered yes
    AUDIO = "audio"  # the on-screen button that starts the audio mode
    SCROLL_UP = "scroll-up"
    SCROLL_DOWN = "scroll-down"


@dataclass(frozen=True)
class PickOption:
    """An answer option of the question on screen, by its index in the option list."""

    index: int


@dataclass(frozen=True)
class PickLanguage:
    """A language button."""

    lang: str


@dataclass(frozen=True)
class TypeChar:
    """A letter key of the on-screen keyboard."""

    char: str


Target = Command | PickOption | PickLanguage | TypeChar


@dataclass(frozen=True)
class Tap:
    """A touch that hit an on-screen target (None: it hit nothing)."""

    target: Target | None


@dataclass(frozen=True)
class Text:
    """Typed text (keyboard text input) for the free-text question."""

    text: str


@dataclass(frozen=True)
class Tick:
    """Time passed: timers (idle timeout, thanks screen, opening hours) may fire."""

    now: datetime


@dataclass(frozen=True)
class HeadphonesIn:
    """The headphone-detect switch closed: a plug is in."""


@dataclass(frozen=True)
class HeadphonesOut:
    """The headphone-detect switch opened: the plug was pulled."""


Event = Key | Button | Tap | Text | Tick | HeadphonesIn | HeadphonesOut


# -- effects -------------------------------------------------------------------


@dataclass(frozen=True)
class OpenResponse:
    """Write a new open response (at the first answer of a session)."""

    channel: Channel
    lang: str
    started_at: datetime


@dataclass(frozen=True)
class SetAnswer:
    """Store (or replace) one answer of the current response."""

    question: str
    value: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class Flag:
    """Add a misuse flag to the current response (or the last one when none is open)."""

    name: str


@dataclass(frozen=True)
class FinaliseResponse:
    """Make the current response final: complete or abandoned."""

    status: Status


@dataclass(frozen=True)
class Utterance:
    """One prompt to speak, in its language."""

    text: str
    lang: str


@dataclass(frozen=True)
class Speak:
    """Stop what is being said and say these prompts, at `rate` words per minute."""

    parts: tuple[Utterance, ...]
    rate: int


@dataclass(frozen=True)
class StopSpeech:
    """Stop speaking now (any key interrupts speech)."""


@dataclass(frozen=True)
class SetVolume:
    """Set the speech volume, in dB relative to full scale (0 = loudest)."""

    db: float


@dataclass(frozen=True)
class MuteSpeaker:
    """Mute (headphones in) or unmute the loudspeaker."""

    muted: bool


@dataclass(frozen=True)
class FlashLed:
    """Light the LED of button `n` briefly to confirm its press."""

    n: int


Effect = (OpenResponse | SetAnswer | Flag | FinaliseResponse | Speak | StopSpeech | SetVolume
          | MuteSpeaker | FlashLed)
