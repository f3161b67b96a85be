"""The kiosk shell: the session, the store, the screen, speech and GPIO, tied together.

`KioskCore` feeds events to the pure session and carries out its effects; the
real loop (`run`, kiosk.loop) and the headless simulation (`simulate`) both
drive it, so the demo and the tests exercise the same code as a device.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from hardware.audio import SimulatedAudio, Speech
from kiosk.config import KioskConfig, load_kiosk_config
from kiosk.events import (
    DIGITS,
    Button,
    Effect,
    Event,
    FinaliseResponse,
    Flag,
    FlashLed,
    HeadphonesIn,
    HeadphonesOut,
    Key,
    KeyName,
    MuteSpeaker,
    OpenResponse,
    SetAnswer,
    SetVolume,
    Speak,
    StopSpeech,
    Tap,
    Text,
    Tick,
    Touch,
)
from kiosk.layout import Layout, build_layout
from kiosk.session import next_deadline, step
from kiosk.state import Screen, SessionState, initial_state, is_open
from survey.config import Config, DeviceIdentity, load_config
from survey.errors import SurveyError
from survey.model import Survey
from survey.response import Channel, Status
from survey.service import Runner
from survey.store import Store

log = logging.getLogger(__name__)

KIOSK_CHANNELS = frozenset({Channel.KIOSK, Channel.KIOSK_AUDIO})

# The configured audio twin keeps only this many spoken prompts (for a look in a debugger).
TWIN_KEEP = 200


@dataclass(frozen=True)
class LoadedKiosk:
    """A kiosk's config file read and checked: identity, survey and [kiosk] settings."""

    config: Config
    origin: DeviceIdentity
    survey: Survey
    kiosk: KioskConfig


def load_kiosk(config_path: str | Path, survey: Survey | None = None) -> LoadedKiosk:
    """Read and validate everything a kiosk needs; one clear error when something is wrong."""
    config = load_config(config_path)
    origin = config.identity()
    if survey is None:
        from survey.definition import load_survey

        path = config.survey_path()
        if not path.exists():
            raise config.section("survey").error("file", f"survey file {path} not found")
        try:
            survey = load_survey(path)
        except SurveyError as exc:
            raise config.section("survey").error(
                "file", f"survey {path} cannot be used: {exc}") from None
    return LoadedKiosk(config, origin, survey, load_kiosk_config(config, survey))


class KioskCore:
    """One kiosk: session state plus the store, speech, LEDs and a drawing surface.

    `on_frame(layout)` is called whenever what the screen shows has changed;
    `on_response(id)` (the simulation's bookkeeping) whenever a response is written.
    Nothing here grows with the number of sessions: a 24/7 kiosk keeps flat memory.
    """

    def __init__(self, loaded: LoadedKiosk, store: Store, speech: Speech, *,
                 panel: Any = None, on_frame: Callable[[Layout], None] | None = None,
                 on_response: Callable[[str], None] | None = None,
                 now: datetime) -> None:
        self.loaded = loaded
        self.settings = loaded.kiosk.settings
        self.size = loaded.kiosk.resolution
        self.store = store
        self.speech = speech
        self.panel = panel
        self.on_frame = on_frame
        self.on_response = on_response
        self.state: SessionState = initial_state(self.settings)
        if not is_open(self.settings, now):
            self.state = replace(self.state, screen=Screen.NIGHT)
        self.now = now  # the time of the last event handled
        self.response_id: str | None = None
        self.last_response_id: str | None = None
        self.layout: Layout | None = None
        speech.set_volume(self.settings.volume_db)
        self._abandon_leftovers(now)

    def _abandon_leftovers(self, now: datetime) -> None:
        """Open responses of this kiosk from before a restart (power cut) become abandoned."""
        for resp in self.store.open_responses():
            if resp.channel in KIOSK_CHANNELS and resp.device == self.loaded.origin.id:
                self.store.finalise(resp.id, Status.ABANDONED, now)
                log.info("response %s left open by a restart: finalised as abandoned", resp.id)

    def end_session(self, now: datetime) -> None:
        """At shutdown: the response of the session in progress is finalised as abandoned."""
        if self.response_id is not None:
            self.store.finalise(self.response_id, Status.ABANDONED, now)
            log.info("response %s open at shutdown: finalised as abandoned", self.response_id)
            self.last_response_id, self.response_id = self.response_id, None

    def deadline(self, now: datetime) -> datetime | None:
        """When the session's next timer fires."""
        return next_deadline(self.state, self.settings, now)

    def build(self) -> Layout:
        """What the screen shows now."""
        kcfg = self.loaded.kiosk
        return build_layout(self.state, self.settings, self.size, kcfg.panel_inches)

    def feed(self, event: Event | Touch, now: datetime) -> None:
        """Apply one event at `now` (a Touch is hit-tested on the current screen first)."""
        if isinstance(event, Touch):
            layout = self.layout or self.build()
            event = Tap(layout.hit(event.x * self.size[0], event.y * self.size[1]))
        self.now = max(self.now, now)
        if self.state.screen is Screen.NIGHT and isinstance(event, Button | Key | Tap | Text):
            log.info("%s at night woke the screen; it answers nothing", type(event).__name__)
        self.state, effects = step(self.state, event, now, self.settings)
        for effect in effects:
            self._apply(effect, now)
        self.refresh()

    def advance(self, now: datetime) -> None:
        """Fire every timer due up to `now`, each at its own time."""
        for _ in range(1000):  # bounded: a timer always moves the state on
            due = self.deadline(self.now)
            if due is None or due > now:
                self.now = max(self.now, now)
                return
            self.feed(Tick(due), max(due, self.now))
        log.error("timers kept firing at %s; state %s", now, self.state.screen.value)

    def refresh(self) -> None:
        """Redraw when what the screen shows has changed."""
        layout = self.build()
        if layout != self.layout:
            self.layout = layout
            if self.on_frame is not None:
                self.on_frame(layout)

    def _apply(self, effect: Effect, now: datetime) -> None:
        if isinstance(effect, OpenResponse):
            survey = self.loaded.survey
            self.response_id = self.store.start_response(
                self.loaded.origin, channel=effect.channel, survey=survey.id,
                survey_version=survey.version, lang=effect.lang, started_at=effect.started_at)
            if self.on_response is not None:
                self.on_response(self.response_id)
        elif isinstance(effect, SetAnswer):
            if self.response_id is None:
                log.error("answer to %s without a response; not stored", effect.question)
                return
            self.store.set_answer(self.response_id, effect.question, value=effect.value,
                                  text=effect.text, at=now)
        elif isinstance(effect, Flag):
            target = self.response_id or self.last_response_id
            if target is None:
                log.warning("misuse flag %s with no response to carry it", effect.name)
            else:
                self.store.add_flags(target, effect.name)
                log.info("response %s flagged %s", target, effect.name)
        elif isinstance(effect, FinaliseResponse):
            if self.response_id is not None:
                self.store.finalise(self.response_id, effect.status, now)
                self.last_response_id, self.response_id = self.response_id, None
        else:
            self._apply_output(effect)

    def _apply_output(self, effect: Effect) -> None:
        if isinstance(effect, Speak):
            self.speech.say([(u.text, u.lang) for u in effect.parts], effect.rate)
        elif isinstance(effect, StopSpeech):
            self.speech.stop()
        elif isinstance(effect, SetVolume):
            self.speech.set_volume(effect.db)
        elif isinstance(effect, MuteSpeaker):
            self.speech.set_speaker_muted(effect.muted)
            if self.panel is not None:
                self.panel.set_speaker(not effect.muted)
        elif isinstance(effect, FlashLed) and self.panel is not None:
            self.panel.flash(effect.n)


# -- the real loop ------------------------------------------------------------------

# Keyboard keys (pygame key names) → kiosk keys. A USB numeric keypad is a complete
# audio-mode controller: digits choose, Enter confirms, / goes back, * repeats, + and -
# set the volume, . the speech rate. A full keyboard adds arrows, Backspace, Esc, F5.
KEYMAP: dict[str, KeyName] = {
    **{str(d): key for d, key in enumerate(DIGITS)}, **{f"[{d}]": key for d, key in
                                                       enumerate(DIGITS)},
    "up": "up", "down": "down", "left": "left", "right": "right",
    "return": "enter", "enter": "enter", "backspace": "back", "[/]": "back", "escape": "esc",
    "=": "vol+", "+": "vol+", "[+]": "vol+", "-": "vol-", "[-]": "vol-",
    "page up": "rate+", "page down": "rate-", "[.]": "rate",
    "f5": "repeat", "[*]": "repeat", "home": "repeat",
}
# How often the loop looks at SDL's queue while waiting (SDL's own timed wait polls
# every millisecond on the Pi's console); GPIO events wake it at once.
PUMP_SECONDS = 0.05
FAULTS_META = "kiosk.faults"


def key_name(pygame_name: str, audio_key: str) -> KeyName | None:
    """The kiosk key for a pygame key name, or None for keys the kiosk ignores."""
    name = pygame_name.lower()
    if name == audio_key:
        return "audio"
    return KEYMAP.get(name)


def _open_display(kcfg: KioskConfig) -> Any:
    """The screen surface, or None (reported) when there is no display to draw on."""
    import pygame

    fullscreen = kcfg.fullscreen
    if fullscreen is None:
        # No desktop session: the Pi's console (SDL picks kmsdrm), so fill the screen.
        fullscreen = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if not os.environ.get("SDL_VIDEODRIVER") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # The Pi's console without X: ask for kmsdrm first, SDL's own choice if it is absent.
        os.environ["SDL_VIDEODRIVER"] = "kmsdrm"
        try:
            pygame.display.init()
        except pygame.error:
            del os.environ["SDL_VIDEODRIVER"]
    try:
        pygame.display.init()
        flags = pygame.FULLSCREEN if fullscreen else 0
        screen = pygame.display.set_mode(kcfg.resolution, flags)
        pygame.display.set_caption("palaute")
        pygame.mouse.set_visible(not fullscreen)
        pygame.key.start_text_input()  # typed letters (ä, ö, å) arrive as TEXTINPUT
        log.info("display: %s, %dx%d%s", pygame.display.get_driver(), *kcfg.resolution,
                 " fullscreen" if fullscreen else "")
        return screen
    except pygame.error as exc:
        log.error("no display (%s): the kiosk keeps working with buttons and audio", exc)
        # The event queue still needs a video subsystem; the dummy driver gives one.
        pygame.display.quit()
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        pygame.display.init()
        return None


def _open_speech(kcfg: KioskConfig, faults: list[str]) -> Speech:
    """The sound card; the recording twin only when the config asks for it."""
    from hardware.audio import AudioError, MixerAudio, PromptCache, SilentAudio

    if kcfg.simulate_audio:
        log.warning("audio: the simulated twin, as configured (simulate_audio = true)")
        return SimulatedAudio(kcfg.settings.volume_db, keep=TWIN_KEEP)
    try:
        return MixerAudio(PromptCache(kcfg.prompts_dir), volume_db=kcfg.settings.volume_db)
    except AudioError as exc:
        faults.append(f"audio: {exc}")
        log.error("audio FAILED (%s): the audio mode is off until this is fixed", exc)
        return SilentAudio()


def _open_panel(kcfg: KioskConfig, post: Callable[[Any], None], pin_factory: Any,
                faults: list[str]) -> Any:
    from hardware.buttons import ButtonPanel, HardwareError

    b = kcfg.buttons
    if not b.any:
        return None
    if kcfg.simulate_gpio:
        log.warning("GPIO: not used, as configured (simulate_gpio = true)")
        return None
    try:
        return ButtonPanel(
            b.pins, leds=b.leds, headphone_pin=b.headphone_pin,
            headphone_active_low=b.headphone_active_low, audio_pin=b.audio_pin,
            speaker_enable_pin=b.speaker_enable_pin, bounce_time=b.bounce_time,
            pin_factory=pin_factory, on_press=lambda n: post(Button(n)),
            on_headphones=lambda plugged: post(HeadphonesIn() if plugged else HeadphonesOut()),
            on_audio_key=lambda: post(Key("audio")),
        )
    except HardwareError as exc:
        faults.append(f"GPIO: {exc}")
        log.error("GPIO FAILED (%s): no buttons, LEDs or headphone switch until this is fixed",
                  exc)
        return None


class KioskLoop:
    """The event-driven main loop: sleeps until an event or the next timer, never spins.

    In the audio mode a key acts when released; held for `hold_seconds` it says what
    it does instead (and does nothing).
    """

    def __init__(self, loaded: LoadedKiosk, store: Store, *, pin_factory: Any = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        import pygame

        self.pg = pygame
        self.clock = clock or (lambda: datetime.now(loaded.kiosk.settings.timezone))
        self.screen = _open_display(loaded.kiosk)
        self.event_type = pygame.event.custom_type()
        self.faults: list[str] = []
        self.speech = _open_speech(loaded.kiosk, self.faults)
        if self.faults:
            settings = replace(loaded.kiosk.settings, audio_available=False)
            loaded = replace(loaded, kiosk=replace(loaded.kiosk, settings=settings))
        self.loaded = loaded
        self.renderer: Any = None
        if self.screen is not None:
            from kiosk.screens import Renderer

            self.renderer = Renderer(self.screen)
        self._wake = threading.Event()
        self._held: dict[KeyName, tuple[float, bool]] = {}  # key → (pressed at, described)
        self.panel = _open_panel(loaded.kiosk, self.post, pin_factory, self.faults)
        # What the technician sees in `palaute status` and `selftest`: this start's faults.
        store.set_meta(FAULTS_META, json.dumps(self.faults, ensure_ascii=False))
        self.core = KioskCore(loaded, store, self.speech, panel=self.panel,
                              on_frame=self._show, now=self.clock())
        if self.panel is not None and self.panel.headphones_in:
            self.post(HeadphonesIn())
        self.running = True
        self.healthy = True

    def post(self, value: Any) -> None:
        """Queue a kiosk event from any thread (gpiozero callbacks) and wake the loop."""
        self.pg.event.post(self.pg.event.Event(self.event_type, value=value))
        self._wake.set()

    def _show(self, layout: Layout) -> None:
        if self.renderer is not None:
            self.renderer.draw(layout)
            self.pg.display.flip()

    def translate(self, ev: Any) -> Event | Touch | None:
        """A pygame event as a kiosk event (None for what the kiosk ignores)."""
        pg = self.pg
        if ev.type == self.event_type:
            value: Event | Touch = ev.value
            return value
        if ev.type == pg.FINGERDOWN:
            return Touch(min(1.0, max(0.0, ev.x)), min(1.0, max(0.0, ev.y)))
        if ev.type == pg.MOUSEBUTTONDOWN and ev.button == 1:
            if getattr(ev, "touch", False):
                return None  # SDL's mouse copy of a finger event: already counted
            w, h = self.loaded.kiosk.resolution
            return Touch(ev.pos[0] / w, ev.pos[1] / h)
        if ev.type in (pg.KEYDOWN, pg.KEYUP):
            name = key_name(pg.key.name(ev.key), self.loaded.kiosk.audio_key)
            return None if name is None else self._key(name, ev.type == pg.KEYDOWN)
        if ev.type == pg.TEXTINPUT:
            return Text(ev.text)
        if ev.type == pg.QUIT:
            self.running = False
        return None

    def _key(self, name: KeyName, down: bool) -> Key | None:
        """Keys act when pressed, except in the audio mode: when released (or, held, they
        are described by `_holds`)."""
        if not down:
            pressed = self._held.pop(name, None)
            return Key(name) if pressed is not None and not pressed[1] else None
        if self.core.state.audio and name != "audio":
            self._held[name] = (time.monotonic(), False)
            return None
        return Key(name)

    def _holds(self) -> float | None:
        """Describe keys held long enough; seconds until the next one would be, or None."""
        hold = self.loaded.kiosk.settings.hold_seconds
        soonest = None
        for name, (at, described) in list(self._held.items()):
            if described:
                continue
            left = at + hold - time.monotonic()
            if left <= 0:
                self._held[name] = (at, True)
                self._guarded(self.core.feed, Key(name, held=True))
            else:
                soonest = left if soonest is None else min(soonest, left)
        return soonest

    def run_once(self, max_wait: float) -> None:
        """Wait for events (or the next timer, at most `max_wait` s) and handle them.

        SDL's timed wait wakes every millisecond on the Pi's console; instead the loop
        sleeps on an event (set by GPIO callbacks) and looks at SDL's queue every
        PUMP_SECONDS: a few dozen wake-ups a second, nothing when nothing happens.
        """
        now = self.clock()
        due = self.core.deadline(now)
        wait = max_wait if due is None else min(max_wait, (due - now).total_seconds())
        hold = self._holds()
        if hold is not None:
            wait = min(wait, hold)
        end = time.monotonic() + max(0.0, wait)
        events = self.pg.event.get()
        while not events and (left := end - time.monotonic()) > 0:
            if self._wake.wait(min(PUMP_SECONDS, left)):
                self._wake.clear()
            events = self.pg.event.get()
        for ev in events:
            event = self.translate(ev)
            if event is not None:
                self._guarded(self.core.feed, event)
        self._holds()
        self._guarded(self.core.advance)

    def _guarded(self, action: Callable[..., None], *args: Any) -> None:
        from survey.errors import StoreError

        try:
            action(*args, self.clock())
        except StoreError as exc:
            # Stop pinging the watchdog: systemd restarts us rather than thank for a lost answer.
            log.error("store failure: %s", exc)
            self.healthy = False

    def close(self) -> None:
        """End the session in progress, release GPIO, audio and the display; safe twice."""
        # Stopped (SIGTERM, shutdown) mid-session: the answers are kept, the response final.
        self._guarded(self.core.end_session)
        if self.panel is not None:
            self.panel.close()
            self.panel = None
        self.speech.close()
        self.pg.display.quit()


class _KioskService:
    """The kiosk loop as survey.service.Runner sees it: unhealthy after a store failure
    (no more watchdog pings, and the loop ends), done at `max_seconds` (tests, benches)."""

    def __init__(self, loop: KioskLoop, max_seconds: float | None) -> None:
        self.loop = loop
        self.max_seconds = max_seconds
        self.started = time.monotonic()
        origin, survey = loop.loaded.origin.id, loop.loaded.survey.id
        self.line = f"kiosk {origin}: {survey}"

    @property
    def healthy(self) -> bool:
        return self.loop.healthy

    def start(self) -> str:
        self.loop.core.refresh()
        return self.line

    def step(self, stop: threading.Event) -> bool:
        self.loop.run_once(1.0)
        if self.max_seconds is not None and time.monotonic() - self.started > self.max_seconds:
            return False
        return self.loop.running and self.loop.healthy

    def status_line(self) -> str:
        return self.line if self.loop.healthy else f"{self.line}: the store failed"

    def close(self) -> None:
        self.loop.close()


def run(config_path: str | Path, *, pin_factory: Any = None,
        max_seconds: float | None = None) -> int:
    """The kiosk service: start-up checks, then the service runner until stopped."""
    loaded = load_kiosk(config_path)
    with Store(loaded.config.store_path()) as store:
        loop = KioskLoop(loaded, store, pin_factory=pin_factory)
        Runner().run(_KioskService(loop, max_seconds))
    return 0 if loop.healthy else 1
