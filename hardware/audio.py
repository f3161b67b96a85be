"""Speech prompts: WAV files rendered by espeak-ng, cached by hash, played with pygame.mixer.

`PromptCache` renders a prompt once per (text, language, rate) and keeps it
under a name made from their hash, so provisioning can render every prompt
ahead and the kiosk renders a missing one on demand. `MixerAudio` plays them
(or a short tone when a prompt cannot be had: never a crash); `SimulatedAudio`
is its twin that records what would have been said.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import logging
import math
import os
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from survey.errors import PalauteError

log = logging.getLogger(__name__)

# espeak-ng voice per survey language.
VOICES = {"fi": "fi", "sv": "sv", "en": "en-gb"}
RENDER_TIMEOUT = 20.0


class AudioError(PalauteError):
    """Audio output or prompt rendering that cannot work."""


def db_to_gain(db: float) -> float:
    """Linear gain (0..1) of a level in dB relative to full scale."""
    return float(min(1.0, 10 ** (db / 20)))


def prompt_key(text: str, lang: str, rate: int) -> str:
    """The cache key of a prompt: a hash of its text, language and speech rate."""
    digest = hashlib.sha256(f"{lang}\n{rate}\n{text}".encode()).hexdigest()
    return digest[:24]


class PromptCache:
    """WAV files of spoken prompts in `folder`, named by `prompt_key`."""

    def __init__(self, folder: str | Path, *, espeak: str = "espeak-ng") -> None:
        self.folder = Path(folder)
        self.espeak = espeak

    def path(self, text: str, lang: str, rate: int) -> Path:
        """Where the prompt's WAV file is (or would be)."""
        return self.folder / f"{lang}-{rate}-{prompt_key(text, lang, rate)}.wav"

    def render(self, text: str, lang: str, rate: int) -> Path:
        """Render the prompt with espeak-ng unless already cached; AudioError on failure."""
        target = self.path(text, lang, rate)
        if target.exists():
            return target
        exe = shutil.which(self.espeak)
        if exe is None:
            raise AudioError(f"{self.espeak} is not installed (apt-get install espeak-ng)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(suffix=".wav.tmp", dir=self.folder)
        except OSError as exc:
            raise AudioError(f"{self.folder}: cannot write prompts there: "
                             f"{exc.strerror}") from None
        os.close(fd)
        cmd = [exe, "-v", VOICES.get(lang, lang), "-s", str(rate), "-w", tmp, "--", text]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=RENDER_TIMEOUT, check=False)
            if done.returncode != 0 or os.path.getsize(tmp) == 0:
                err = done.stderr.decode(errors="replace").strip()
                raise AudioError(f"espeak-ng failed for {lang} prompt {text!r}: {err}")
            os.replace(tmp, target)  # atomic: a half-written file is never cached
        except subprocess.TimeoutExpired:
            raise AudioError(f"espeak-ng took too long for {text!r}") from None
        except OSError as exc:
            # espeak-ng cannot be started, or the file cannot be kept: a tone, never a crash.
            raise AudioError(f"espeak-ng for {text!r}: {exc}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return target

    def get(self, text: str, lang: str, rate: int) -> Path | None:
        """The prompt's WAV file, rendered on demand; None (logged) when that fails."""
        try:
            return self.render(text, lang, rate)
        except AudioError as exc:
            log.warning("prompt unavailable, a tone plays instead: %s", exc)
            return None


class Speech(Protocol):
    """What the kiosk needs of an audio output."""

    def say(self, parts: Sequence[tuple[str, str]], rate: int) -> None:
        """Stop what is playing and say these (text, lang) prompts in order."""

    def stop(self) -> None:
        """Stop speaking now."""

    def set_volume(self, db: float) -> None:
        """Speech volume in dB (0 = loudest)."""

    def set_speaker_muted(self, muted: bool) -> None:
        """Mute the loudspeaker (headphones in) or unmute it."""

    def close(self) -> None:
        """Release the device; safe to call twice."""


@dataclass(frozen=True)
class Played:
    """One prompt the simulated output 'spoke', with the settings it was spoken with."""

    text: str
    lang: str
    rate: int
    volume_db: float
    speaker_muted: bool


class SimulatedAudio:
    """The twin of MixerAudio: records prompts instead of playing them.

    A simulation keeps every prompt; a kiosk configured with the twin keeps only the
    last `keep` (a long-running twin must not grow).
    """

    def __init__(self, volume_db: float = -18.0, *, keep: int | None = None) -> None:
        self.played: deque[Played] = deque(maxlen=keep)
        self.volume_db = volume_db
        self.speaker_muted = False
        self.stops = 0

    def say(self, parts: Sequence[tuple[str, str]], rate: int) -> None:
        """Record the prompts as spoken."""
        self.stop()
        for text, lang in parts:
            self.played.append(Played(text, lang, rate, self.volume_db, self.speaker_muted))

    def stop(self) -> None:
        """Count an interruption."""
        self.stops += 1

    def set_volume(self, db: float) -> None:
        """Remember the volume for the next prompts."""
        self.volume_db = db

    def set_speaker_muted(self, muted: bool) -> None:
        """Remember whether the speaker is muted."""
        self.speaker_muted = muted

    def close(self) -> None:
        """Nothing to release."""


class SilentAudio:
    """No sound: the audio output failed at start (the failure is reported, not hidden)."""

    speaker_muted = False

    def say(self, parts: Sequence[tuple[str, str]], rate: int) -> None:
        """Say nothing (the kiosk keeps its audio mode off without sound)."""
        log.debug("no audio output: %d prompts not spoken", len(parts))

    def stop(self) -> None:
        """Nothing is playing."""

    def set_volume(self, db: float) -> None:
        """No volume to set."""

    def set_speaker_muted(self, muted: bool) -> None:
        """No speaker to mute."""

    def close(self) -> None:
        """Nothing to release."""


class MixerAudio:
    """Prompts played through pygame.mixer at a volume in dB; a tone when a prompt fails."""

    def __init__(self, cache: PromptCache, *, volume_db: float = -9.0,
                 frequency: int = 22050) -> None:
        # pygame prints a banner on stdout at import; stdout may be a --json answer.
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self._pg = pygame
        self.cache = cache
        self.volume_db = volume_db
        self.speaker_muted = False
        try:
            pygame.mixer.init(frequency=frequency, size=-16, channels=1)
        except pygame.error as exc:
            raise AudioError(f"no audio output: {exc}") from None
        self._channel: Any = None
        self._sounds: dict[Path, Any] = {}
        self._closed = False

    def _load(self, text: str, lang: str, rate: int) -> bytes:
        path = self.cache.get(text, lang, rate)
        if path is not None:
            try:
                sound = self._sounds.get(path)
                if sound is None:
                    sound = self._pg.mixer.Sound(str(path))
                    if len(self._sounds) > 256:  # a small cache; prompts repeat a lot
                        self._sounds.clear()
                    self._sounds[path] = sound
                return bytes(sound.get_raw())
            except self._pg.error as exc:
                log.warning("%s: cannot play the prompt (%s); a tone plays instead", path, exc)
        return self.tone()

    def tone(self, hz: float = 660.0, seconds: float = 0.25) -> bytes:
        """A short sine tone in the mixer's format (stands in for a missing prompt)."""
        freq, size, channels = self._pg.mixer.get_init()
        frames = int(freq * seconds)
        samples = array.array("h")
        for i in range(frames):
            value = int(12000 * math.sin(2 * math.pi * hz * i / freq))
            samples.extend([value] * channels)
        if abs(size) != 16:
            log.debug("mixer sample size %d; tone sent as 16-bit", size)
        return samples.tobytes()

    def say(self, parts: Sequence[tuple[str, str]], rate: int) -> None:
        """Stop what is playing and play the prompts back to back."""
        self.stop()
        data = b"".join(self._load(text, lang, rate) for text, lang in parts)
        if not data:
            return
        sound = self._pg.mixer.Sound(buffer=data)
        sound.set_volume(db_to_gain(self.volume_db))
        self._channel = sound.play()

    @property
    def busy(self) -> bool:
        """True while a prompt is playing."""
        return bool(self._channel is not None and self._channel.get_busy())

    def stop(self) -> None:
        """Stop speaking now."""
        if self._channel is not None:
            self._channel.stop()
            self._channel = None

    def set_volume(self, db: float) -> None:
        """Set the speech volume (applies at once to what is playing)."""
        self.volume_db = db
        if self._channel is not None:
            self._channel.set_volume(db_to_gain(db))

    def set_speaker_muted(self, muted: bool) -> None:
        """Remember the speaker state (the amplifier itself is switched by the GPIO panel)."""
        self.speaker_muted = muted

    def close(self) -> None:
        """Stop and release the mixer; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        self._sounds.clear()
        with contextlib.suppress(Exception):
            self._pg.mixer.quit()
