"""Answer buttons with LEDs, the headphone-detect switch, the audio key and the speaker enable.

Wiring: each button between its GPIO and ground (internal pull-up, so pressed
reads low); each LED from its GPIO through a resistor to ground (active high);
the headphone jack's detect switch to ground (closed while a plug is in, unless
`headphone_active_low` is false); the amplifier's enable input on
`speaker_enable_pin` (high = speaker on). Callbacks run on gpiozero's threads:
keep them short (the kiosk posts an event into pygame's queue).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from survey.errors import PalauteError

log = logging.getLogger(__name__)


class HardwareError(PalauteError):
    """A GPIO device that cannot be set up (bad pin, pin in use, no GPIO chip)."""


class ButtonPanel:
    """Physical answer buttons (numbered from 1) with LEDs and the audio-mode switches.

    `on_press(n)`, `on_headphones(plugged)` and `on_audio_key()` are called from
    gpiozero's threads. `pin_factory` is a gpiozero factory (MockFactory in tests).
    """

    def __init__(
        self,
        pins: Sequence[str],
        *,
        leds: Sequence[str] = (),
        headphone_pin: str | None = None,
        headphone_active_low: bool = True,
        audio_pin: str | None = None,
        speaker_enable_pin: str | None = None,
        bounce_time: float | None = 0.05,
        pin_factory: Any = None,
        on_press: Callable[[int], None] | None = None,
        on_headphones: Callable[[bool], None] | None = None,
        on_audio_key: Callable[[], None] | None = None,
    ) -> None:
        self.on_press = on_press
        self.on_headphones = on_headphones
        self.on_audio_key = on_audio_key
        self._devices: list[Any] = []
        self.buttons: list[Any] = []
        self.leds: list[Any] = []
        self.headphones: Any = None
        self.audio_key: Any = None
        self.speaker: Any = None
        try:
            self._open(pins, leds, headphone_pin, headphone_active_low, audio_pin,
                       speaker_enable_pin, bounce_time or None, pin_factory)
        except HardwareError:
            self.close()
            raise

    def _open(self, pins: Sequence[str], leds: Sequence[str], headphone_pin: str | None,
              active_low: bool, audio_pin: str | None, speaker_pin: str | None,
              bounce_time: float | None, factory: Any) -> None:
        from gpiozero import LED, Button, DigitalOutputDevice

        for i, pin in enumerate(pins, start=1):
            button = self._make(Button, pin, "button", pull_up=True, bounce_time=bounce_time,
                                pin_factory=factory)
            button.when_pressed = self._press_handler(i)
            self.buttons.append(button)
        for pin in leds:
            self.leds.append(self._make(LED, pin, "LED", pin_factory=factory))
        if headphone_pin:
            # A plug closes the switch to ground (pressed) unless wired the other way round.
            self.headphones = self._make(Button, headphone_pin, "headphone switch",
                                         pull_up=active_low, bounce_time=bounce_time,
                                         pin_factory=factory)
            self.headphones.when_pressed = lambda: self._headphones(True)
            self.headphones.when_released = lambda: self._headphones(False)
        if audio_pin:
            self.audio_key = self._make(Button, audio_pin, "audio key", pull_up=True,
                                        bounce_time=bounce_time, pin_factory=factory)
            self.audio_key.when_pressed = self._audio
        if speaker_pin:
            self.speaker = self._make(DigitalOutputDevice, speaker_pin, "speaker enable",
                                      initial_value=True, pin_factory=factory)

    def _make(self, cls: Any, pin: str, what: str, **kwargs: Any) -> Any:
        from gpiozero import GPIOZeroError

        try:
            device = cls(pin, **kwargs)
        except (GPIOZeroError, ValueError, OSError) as exc:
            raise HardwareError(f"{what} on pin {pin}: {exc}") from None
        self._devices.append(device)
        return device

    def _press_handler(self, n: int) -> Callable[[], None]:
        def handler() -> None:
            if self.on_press is not None:
                self.on_press(n)
        return handler

    def _headphones(self, plugged: bool) -> None:
        if self.on_headphones is not None:
            self.on_headphones(plugged)

    def _audio(self) -> None:
        if self.on_audio_key is not None:
            self.on_audio_key()

    @property
    def headphones_in(self) -> bool:
        """True while a headphone plug is in (False without a detect switch)."""
        return bool(self.headphones is not None and self.headphones.is_pressed)

    def flash(self, n: int, seconds: float = 0.3) -> None:
        """Light the LED of button `n` for `seconds` (in the background) to confirm a press."""
        if 1 <= n <= len(self.leds):
            self.leds[n - 1].blink(on_time=seconds, off_time=0, n=1, background=True)

    def set_speaker(self, on: bool) -> None:
        """Switch the loudspeaker amplifier on or off (no-op without an enable pin)."""
        if self.speaker is not None:
            self.speaker.value = on

    def close(self) -> None:
        """Release every pin; safe to call twice."""
        for device in reversed(self._devices):
            with contextlib.suppress(Exception):
                device.close()
        self._devices.clear()

    def __enter__(self) -> ButtonPanel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
