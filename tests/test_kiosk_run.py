"""The real loop headless: GPIO presses through pygame's queue, touch vs mouse, keys, systemd."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest
from gpiozero.pins.mock import MockFactory

from hardware.audio import MixerAudio, SilentAudio, SimulatedAudio
from kiosk.app import FAULTS_META, KioskLoop, load_kiosk, run
from kiosk.events import Key, Touch
from kiosk.state import Screen
from palaute.status import gather, render
from survey.config import load_config
from survey.definition import shipped_survey_path
from survey.response import encode_answers
from survey.store import Store


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.close()


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "device.toml"
    path.write_text(f"""
[device]
id = "tays-lobby-3"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"

[survey]
file = "{shipped_survey_path("children")}"

[kiosk]
scale = "smileys5"
questions = ["mood"]
buttons = {{ pins = ["GPIO5", "GPIO6", "GPIO13", "GPIO19", "GPIO26"] }}
leds = ["GPIO12", "GPIO16", "GPIO20", "GPIO21", "GPIO7"]
headphone_pin = "GPIO4"
fullscreen = false
{extra}
""", encoding="utf-8")
    return path


def pump(loop: KioskLoop, rounds: int = 3) -> None:
    for _ in range(rounds):
        loop.run_once(0.05)


def test_gpio_press_reaches_the_store_through_the_event_queue(
        tmp_path: Path, factory: MockFactory) -> None:
    loaded = load_kiosk(write_config(tmp_path))
    with Store(tmp_path / "store.sqlite") as store:
        loop = KioskLoop(loaded, store, pin_factory=factory)
        try:
            assert loop.screen is not None and isinstance(loop.speech, MixerAudio)
            factory.pin(19).drive_low()
            factory.pin(19).drive_high()
            pump(loop, 30)  # the pressed face is lit for a moment first
            rows = store.unsynced()
            assert [(encode_answers(r.answers), r.status, r.channel) for r in rows] == [
                ({"mood": {"value": 4}}, "complete", "kiosk")]
            assert loop.core.state.screen is Screen.THANKS
            # The LED of button 4 confirmed the press.
            assert any(s.state for s in factory.pin(21).states)
        finally:
            loop.close()
            loop.close()


def test_touch_counts_once_and_keys_map(tmp_path: Path, factory: MockFactory) -> None:
    loaded = load_kiosk(write_config(tmp_path))
    with Store(tmp_path / "store.sqlite") as store:
        loop = KioskLoop(loaded, store, pin_factory=factory)
        try:
            finger = pygame.event.Event(pygame.FINGERDOWN, x=0.5, y=0.6, touch_id=1,
                                        finger_id=0, dx=0.0, dy=0.0, pressure=1.0)
            copy = pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(400, 288),
                                      touch=True)
            mouse = pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(400, 288),
                                       touch=False)
            assert loop.translate(finger) == Touch(0.5, 0.6)
            assert loop.translate(copy) is None, "SDL's mouse copy of a touch is ignored"
            assert loop.translate(mouse) == Touch(0.5, 0.6)
            # A USB numeric keypad is the whole controller: keys as printed on it.
            keys = {pygame.K_7: Key("7"), pygame.K_KP_ENTER: Key("enter"),
                    pygame.K_BACKSPACE: Key("back"), pygame.K_F1: Key("audio"),
                    pygame.K_KP_PLUS: Key("vol+"), pygame.K_KP_MINUS: Key("vol-"),
                    pygame.K_KP_DIVIDE: Key("back"), pygame.K_KP_MULTIPLY: Key("repeat"),
                    pygame.K_KP_PERIOD: Key("rate"), pygame.K_KP_3: Key("3"),
                    pygame.K_PAGEDOWN: Key("rate-"), pygame.K_a: None}
            for code, want in keys.items():
                assert loop.translate(pygame.event.Event(pygame.KEYDOWN, key=code)) == want
            # Headphones plugged: the audio mode starts and the speaker is muted.
            factory.pin(4).drive_low()
            pump(loop)
            assert loop.core.state.audio and loop.core.state.spoken
            assert loop.speech.speaker_muted  # type: ignore[attr-defined]
            # In the audio mode a key acts when released ...
            down = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_KP_3)
            up = pygame.event.Event(pygame.KEYUP, key=pygame.K_KP_3)
            assert loop.translate(down) is None and loop.translate(up) == Key("3")
            # ... and held down it is described instead, and does nothing when released.
            held = loop.loaded.kiosk.settings.hold_seconds
            loop.translate(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_KP_MULTIPLY))
            spoken = loop.core.state.spoken
            loop._held = {k: (at - held, d) for k, (at, d) in loop._held.items()}
            pump(loop, 1)
            assert loop.translate(pygame.event.Event(pygame.KEYUP, key=pygame.K_KP_MULTIPLY)) \
                is None
            assert loop.core.state.spoken == spoken
        finally:
            loop.close()


def test_missing_display_and_audio_keep_buttons_working_and_show_the_fault(
        tmp_path: Path, factory: MockFactory, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "no-such-video")
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-audio")
    cfg = write_config(tmp_path)
    loaded = load_kiosk(cfg)
    with Store(tmp_path / "store.sqlite") as store:
        loop = KioskLoop(loaded, store, pin_factory=factory)
        try:
            # No silent twin: the failure is named, the audio mode stays off.
            assert loop.screen is None and isinstance(loop.speech, SilentAudio)
            assert "no display" in caplog.text and "audio FAILED" in caplog.text
            assert not loop.loaded.kiosk.settings.audio_available
            factory.pin(4).drive_low()  # headphones in: no mute session pretending to speak
            factory.pin(5).drive_low()
            pump(loop, 30)
            assert not loop.core.state.audio
            assert [encode_answers(r.answers) for r in store.unsynced()] == [{"mood": {"value": 1}}]
            assert "audio" in (store.get_meta(FAULTS_META) or "")
        finally:
            loop.close()
    info = gather(load_config(cfg))
    assert any(e.startswith("kiosk: audio:") for e in info["recent_errors"])
    assert "kiosk: audio:" in render(info)


def test_the_twin_only_by_config_and_gpio_failure_is_reported(
        tmp_path: Path, factory: MockFactory) -> None:
    loaded = load_kiosk(write_config(tmp_path, "simulate_audio = true"))
    with Store(tmp_path / "store.sqlite") as store:
        loop = KioskLoop(loaded, store, pin_factory=_BrokenFactory())
        try:
            assert isinstance(loop.speech, SimulatedAudio), "the twin, because configured"
            assert loop.panel is None and [f[:5] for f in loop.faults] == ["GPIO:"]
            assert "GPIO" in (store.get_meta(FAULTS_META) or "")
        finally:
            loop.close()


class _BrokenFactory:
    """A pin factory whose every pin fails, as on a Pi whose GPIO chip is missing."""

    def __getattr__(self, name: str) -> object:
        raise OSError("no GPIO chip")


def test_run_tells_systemd_ready_and_pings_the_watchdog(
        tmp_path: Path, factory: MockFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(sock_path))
    try:
        assert run(write_config(tmp_path), pin_factory=factory, max_seconds=0.2) == 0
        messages = []
        sock.settimeout(0.2)
        while True:
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                break
    finally:
        sock.close()
    assert messages[0].startswith("READY=1")
    assert "WATCHDOG=1" in messages and messages[-1] == "STOPPING=1"


def test_a_busy_kiosk_keeps_nothing_per_session(tmp_path: Path) -> None:
    # A 24/7 kiosk: the core and the configured twin hold no list that grows with sessions
    # (they used to keep every prompt and every response id).
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kiosk.app import TWIN_KEEP, KioskCore
    from kiosk.script import parse_script
    from kiosk.simulation import run_steps

    cfg = write_config(tmp_path, "simulate_audio = true")
    loaded = load_kiosk(cfg)
    speech = SimulatedAudio(keep=TWIN_KEEP)
    session = parse_script(["headphones in", "key enter", "key 3", "key enter", "key enter",
                            "headphones out", "button 2", "wait 10"])
    now = datetime(2025, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
    with Store(tmp_path / "store.sqlite") as store:
        core = KioskCore(loaded, store, speech, now=now)
        for _ in range(60):
            now = run_steps(core, session, now)
        assert store.counts()["complete"] == 120
    sizes = {name: len(value) for name, value in vars(core).items()
             if isinstance(value, list | dict | set | tuple)}
    assert all(n <= 5 for n in sizes.values()), sizes
    assert len(speech.played) == TWIN_KEEP


def test_stopping_the_loop_finalises_the_open_response(tmp_path: Path) -> None:
    # SIGTERM (systemd stop, shutdown) ends `kiosk run` through KioskLoop.close.
    cfg = tmp_path / "device.toml"
    cfg.write_text(f"""
[device]
id = "tays-lobby-4"
site = "tays"
area = "sairaalapalvelut"
unit = "ensiapu"
store = "store.sqlite"

[survey]
file = "{shipped_survey_path("children")}"

[kiosk]
scale = "smileys5"
questions = ["mood", "c1"]
buttons = {{ pins = ["GPIO5", "GPIO6", "GPIO13", "GPIO19", "GPIO26"] }}
fullscreen = false
""", encoding="utf-8")
    factory = MockFactory()
    try:
        with Store(tmp_path / "store.sqlite") as store:
            loop = KioskLoop(load_kiosk(cfg), store, pin_factory=factory)
            try:
                factory.pin(13).drive_low()
                factory.pin(13).drive_high()
                for _ in range(3):
                    loop.run_once(0.05)
                (rid,) = [r.id for r in store.open_responses()]
            finally:
                loop.close()
            row = store.get(rid)
            assert row is not None and store.open_responses() == []
            assert row.status == "abandoned"
            assert encode_answers(row.answers) == {"mood": {"value": 3}}
    finally:
        factory.close()
