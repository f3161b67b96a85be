"""The kiosk shell: the session, the store, the screen, speech and GPIO, tied together.

`KioskCore` feeds events to the pure session and carries out its effects; the
real loop (`run`, kiosk.loop) and the headless simulation (`simulate`) both
drive it, so the demo and the tests exercise the same code as a device.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hardware.audio import Played, SimulatedAudio, Speech
from kiosk.config import KioskConfig, load_kiosk_config
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
    Touch,
)
from kiosk.layout import Layout, build_layout
from kiosk.script import Step, Wait, parse_script
from kiosk.session import State, initial_state, is_open, next_deadline, step
from survey.config import Config, DeviceIdentity, load_config
from survey.errors import ConfigError, PalauteError, SurveyError
from survey.model import Survey
from survey.response import Channel, Response, Status
from survey.store import Store

log = logging.getLogger(__name__)

KIOSK_CHANNELS = frozenset({Channel.KIOSK, Channel.KIOSK_AUDIO})

# Simulated time between two script events with no `wait` between them.
PACE = timedelta(seconds=1)


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
            raise ConfigError(config.path, f"survey file {path} not found", "survey.file")
        try:
            survey = load_survey(path)
        except SurveyError as exc:
            raise ConfigError(config.path, f"survey {path} cannot be used: {exc}",
                              "survey.file") from None
    return LoadedKiosk(config, origin, survey, load_kiosk_config(config, survey))


class KioskCore:
    """One kiosk: session state plus the store, speech, LEDs and a drawing surface.

    `on_frame(layout)` is called whenever what the screen shows has changed.
    """

    def __init__(self, loaded: LoadedKiosk, store: Store, speech: Speech, *,
                 panel: Any = None, on_frame: Callable[[Layout], None] | None = None,
                 now: datetime) -> None:
        self.loaded = loaded
        self.settings = loaded.kiosk.settings
        self.size = loaded.kiosk.resolution
        self.store = store
        self.speech = speech
        self.panel = panel
        self.on_frame = on_frame
        self.state: State = initial_state(self.settings)
        if not is_open(self.settings, now):
            self.state = State(screen="night", lang=self.state.lang,
                               volume_db=self.state.volume_db, rate=self.state.rate)
        self.now = now  # the time of the last event handled
        self.response_id: str | None = None
        self.last_response_id: str | None = None
        self.response_ids: list[str] = []
        self.spoken: list[Played] = []
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

    def feed(self, event: Event | Touch, now: datetime) -> None:
        """Apply one event at `now` (a Touch is hit-tested on the current screen first)."""
        if isinstance(event, Touch):
            layout = self.layout or build_layout(self.state, self.settings, self.size)
            target = layout.hit(event.x * self.size[0], event.y * self.size[1])
            event = Tap(target or "")
        self.now = max(self.now, now)
        if self.state.screen == "night" and isinstance(event, Button | Key | Tap | Text):
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
        log.error("timers kept firing at %s; state %s", now, self.state.screen)

    def refresh(self) -> None:
        """Redraw when what the screen shows has changed."""
        layout = build_layout(self.state, self.settings, self.size)
        if layout != self.layout:
            self.layout = layout
            if self.on_frame is not None:
                self.on_frame(layout)

    def _apply(self, effect: Effect, now: datetime) -> None:
        if isinstance(effect, StartResponse):
            survey = self.loaded.survey
            self.response_id = self.store.start_response(
                self.loaded.origin, channel=effect.channel, survey=survey.id,
                survey_version=survey.version, lang=effect.lang, started_at=effect.started_at)
            self.response_ids.append(self.response_id)
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
        elif isinstance(effect, Finalise):
            if self.response_id is not None:
                self.store.finalise(self.response_id, effect.status, now)
                self.last_response_id, self.response_id = self.response_id, None
        else:
            self._apply_output(effect)

    def _apply_output(self, effect: Effect) -> None:
        if isinstance(effect, Speak):
            self.speech.say([(u.text, u.lang) for u in effect.parts], effect.rate)
            muted = bool(getattr(self.speech, "speaker_muted", False))
            vol = float(getattr(self.speech, "volume_db", self.settings.volume_db))
            self.spoken += [Played(u.text, u.lang, effect.rate, vol, muted) for u in effect.parts]
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


# -- simulation ---------------------------------------------------------------------


class SimulationError(PalauteError):
    """A simulation that cannot write its screenshots or prompts."""


@dataclass
class SimulationResult:
    """What a simulation did: the responses it stored, the prompts spoken, the PNGs written."""

    rows: list[Response]
    prompts: list[Played]
    screenshots: list[Path]
    store_path: Path
    layouts: list[Layout] = field(default_factory=list)
    final_state: State | None = None


def _default_start(loaded: LoadedKiosk) -> datetime:
    """Now, or (outside opening hours) the latest moment the kiosk was open today/yesterday."""
    s = loaded.kiosk.settings
    now = datetime.now(s.timezone).replace(microsecond=0)
    if is_open(s, now) or s.opening_hours is None:
        return now
    start = s.opening_hours[0]
    day = now.date() if now.time() >= start else now.date() - timedelta(days=1)
    return datetime.combine(day, start, tzinfo=s.timezone) + timedelta(hours=1)


def _script_lines(script: str | Path | Sequence[str]) -> tuple[list[str], str]:
    if isinstance(script, str | Path):
        path = Path(script)
        try:
            return path.read_text(encoding="utf-8").splitlines(), str(path)
        except FileNotFoundError:
            raise ConfigError(path, "script file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(path, f"cannot read the script: {exc}") from None
    return list(script), "script"


def simulate(config_path: str | Path, script: str | Path | Sequence[str],
             screenshots_dir: str | Path, *, start: datetime | None = None,
             survey: Survey | None = None) -> SimulationResult:
    """Run the kiosk headless from a script (a file path or its lines) on a simulated clock.

    Writes NNN.png for every screen shown and prompts.txt (one spoken prompt a
    line, "lang<TAB>text") into `screenshots_dir`, and real rows into the store.
    """
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    from kiosk.screens import Renderer, new_surface, save_png

    lines, source = _script_lines(script)
    steps = parse_script(lines, source)  # every line checked before anything runs
    loaded = load_kiosk(config_path, survey)
    out = Path(screenshots_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("[0-9][0-9][0-9].png"):
            old.unlink()  # numbering must describe this run only
    except OSError as exc:
        raise SimulationError(f"{out}: cannot use the screenshot folder: "
                              f"{exc.strerror}") from None
    renderer = Renderer(new_surface(loaded.kiosk.resolution))
    shots: list[Path] = []
    layouts: list[Layout] = []

    def on_frame(layout: Layout) -> None:
        renderer.draw(layout)
        path = out / f"{len(shots) + 1:03d}.png"
        save_png(renderer.surface, str(path))
        shots.append(path)
        layouts.append(layout)

    now = start or _default_start(loaded)
    store_path = loaded.config.store_path()
    speech = SimulatedAudio(loaded.kiosk.settings.volume_db)
    with Store(store_path) as store:
        core = KioskCore(loaded, store, speech, on_frame=on_frame, now=now)
        core.refresh()
        now = _run_steps(core, steps, now)
        rows = [r for r in (store.get(rid) for rid in core.response_ids) if r is not None]
    (out / "prompts.txt").write_text(
        "".join(f"{p.lang}\t{p.text}\n" for p in core.spoken), encoding="utf-8")
    return SimulationResult(rows, core.spoken, shots, store_path, layouts, core.state)


def _run_steps(core: KioskCore, steps: list[Step], now: datetime) -> datetime:
    pace_due = False
    for s in steps:
        if isinstance(s.action, Wait):
            # A wait sets the gap to the next event exactly (0.1 s for a quick double press).
            now += timedelta(seconds=s.action.seconds)
            core.advance(now)
            pace_due = False
            continue
        if pace_due:
            now += PACE  # events a human's pace apart unless a wait says otherwise
        core.advance(now)
        core.feed(s.action, now)
        pace_due = True
    core.advance(now)
    return now


# -- the real loop ------------------------------------------------------------------

# Keyboard keys (pygame key names) → kiosk key names. Digits and the keypad
# come first; a USB numeric keypad is a complete audio-mode controller.
KEYMAP = {
    **{str(d): str(d) for d in range(10)}, **{f"[{d}]": str(d) for d in range(10)},
    "up": "up", "down": "down", "left": "left", "right": "right",
    "return": "enter", "enter": "enter", "backspace": "back", "escape": "esc",
    "=": "vol+", "+": "vol+", "[+]": "vol+", "-": "vol-", "[-]": "vol-",
    "page up": "rate+", "page down": "rate-", "[/]": "rate-", "[.]": "rate+",
    "f5": "repeat", "[*]": "repeat", "home": "repeat",
}


def key_name(pygame_name: str, audio_key: str) -> str | None:
    """The kiosk key name for a pygame key name, or None for keys the kiosk ignores."""
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


def _open_speech(kcfg: KioskConfig) -> Speech:
    from hardware.audio import AudioError, MixerAudio, PromptCache

    try:
        return MixerAudio(PromptCache(kcfg.prompts_dir), volume_db=kcfg.settings.volume_db)
    except AudioError as exc:
        log.error("%s: the kiosk keeps working without sound", exc)
        return SimulatedAudio(kcfg.settings.volume_db)


def _open_panel(kcfg: KioskConfig, post: Callable[[Any], None], pin_factory: Any) -> Any:
    from hardware.buttons import ButtonPanel, HardwareError

    b = kcfg.buttons
    if not b.any:
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
        log.error("GPIO unavailable (%s): the kiosk keeps working without buttons", exc)
        return None


class KioskLoop:
    """The event-driven main loop: waits for events no longer than the next timer needs."""

    def __init__(self, loaded: LoadedKiosk, store: Store, *, pin_factory: Any = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        import pygame

        self.pg = pygame
        self.loaded = loaded
        self.clock = clock or (lambda: datetime.now(loaded.kiosk.settings.timezone))
        self.screen = _open_display(loaded.kiosk)
        self.event_type = pygame.event.custom_type()
        self.speech = _open_speech(loaded.kiosk)
        self.renderer: Any = None
        if self.screen is not None:
            from kiosk.screens import Renderer

            self.renderer = Renderer(self.screen)
        self.panel = _open_panel(loaded.kiosk, self.post, pin_factory)
        self.core = KioskCore(loaded, store, self.speech, panel=self.panel,
                              on_frame=self._show, now=self.clock())
        if self.panel is not None and self.panel.headphones_in:
            self.post(HeadphonesIn())
        self.running = True
        self.healthy = True

    def post(self, value: Any) -> None:
        """Queue a kiosk event from any thread (gpiozero callbacks): pygame's post is safe."""
        self.pg.event.post(self.pg.event.Event(self.event_type, value=value))

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
        if ev.type == pg.KEYDOWN:
            name = key_name(pg.key.name(ev.key), self.loaded.kiosk.audio_key)
            return Key(name) if name else None
        if ev.type == pg.TEXTINPUT:
            return Text(ev.text)
        if ev.type == pg.QUIT:
            self.running = False
        return None

    def run_once(self, max_wait: float) -> None:
        """Wait for one event (or the next timer, at most `max_wait` s) and handle all queued."""
        now = self.clock()
        due = self.core.deadline(now)
        wait = max_wait if due is None else min(max_wait, (due - now).total_seconds())
        first = self.pg.event.wait(max(1, int(wait * 1000)))
        for ev in [first, *self.pg.event.get()]:
            if ev.type == self.pg.NOEVENT:
                continue
            event = self.translate(ev)
            if event is not None:
                self._guarded(self.core.feed, event)
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


def run(config_path: str | Path, *, pin_factory: Any = None,
        max_seconds: float | None = None) -> int:
    """The kiosk service: start-up checks, READY to systemd, then the loop until stopped."""
    import signal
    import time

    from survey import systemd

    loaded = load_kiosk(config_path)
    with Store(loaded.config.store_path()) as store:
        loop = KioskLoop(loaded, store, pin_factory=pin_factory)

        def stop(_sig: int, _frame: Any) -> None:
            loop.running = False

        previous = signal.signal(signal.SIGTERM, stop)
        ping = systemd.watchdog_interval()
        started = time.monotonic()
        try:
            systemd.notify_ready(f"kiosk {loaded.origin.id}: {loaded.survey.id}")
            loop.core.refresh()
            while loop.running and loop.healthy:
                loop.run_once(min(ping or 1.0, 1.0))
                if loop.healthy:
                    systemd.notify_watchdog()
                if max_seconds is not None and time.monotonic() - started > max_seconds:
                    break
        finally:
            systemd.notify_stopping()
            signal.signal(signal.SIGTERM, previous)
            loop.close()
    return 0 if loop.healthy else 1
