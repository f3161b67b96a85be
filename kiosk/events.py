"""Input events and output effects of the kiosk session, as plain values.

Touch, physical buttons, the keyboard and the headphone switch all become these
events; the session answers with effects that the shell (kiosk.app) carries out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from survey.response import Channel, Status

# Key names shared by the keyboard, the simulation script and the audio mode.
KEY_NAMES = frozenset({
    *"0123456789", "up", "down", "left", "right", "enter", "back", "repeat", "audio",
    "vol+", "vol-", "rate+", "rate-", "esc",
})


@dataclass(frozen=True)
class Key:
    """A named key (see KEY_NAMES)."""

    name: str


@dataclass(frozen=True)
class Button:
    """Physical answer button number `n` (1 = leftmost)."""

    n: int


@dataclass(frozen=True)
class Touch:
    """A touch at (x, y) as fractions of the screen (0..1); the app turns it into a Tap."""

    x: float
    y: float


@dataclass(frozen=True)
class Tap:
    """A touch that hit an on-screen target such as "opt:3", "lang:sv", "skip", "char:ä"."""

    target: str


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
class StartResponse:
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
class Finalise:
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


Effect = (StartResponse | SetAnswer | Flag | Finalise | Speak | StopSpeech | SetVolume
          | MuteSpeaker | FlashLed)
