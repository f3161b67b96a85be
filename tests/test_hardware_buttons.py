"""The GPIO button panel on gpiozero's MockFactory: presses, LEDs, headphone switch, speaker."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory
from services import wait_until

from hardware.buttons import ButtonPanel, HardwareError


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.close()


def test_presses_numbered_from_one(factory: MockFactory) -> None:
    got: list[int] = []
    pressed = threading.Event()

    def on_press(n: int) -> None:
        got.append(n)
        pressed.set()

    with ButtonPanel(["GPIO5", "GPIO6", "GPIO13"], pin_factory=factory, on_press=on_press,
                     bounce_time=None):
        factory.pin(13).drive_low()
        assert pressed.wait(2)
        factory.pin(13).drive_high()
        factory.pin(5).drive_low()
        factory.pin(5).drive_high()
        wait_until(lambda: len(got) == 2)
    assert got == [3, 1]


def test_led_confirms_a_press(factory: MockFactory) -> None:
    with ButtonPanel(["GPIO5", "GPIO6"], leds=["GPIO12", "GPIO16"], pin_factory=factory) as p:
        led = factory.pin(16)
        assert led.state is False
        p.flash(2, seconds=0.05)
        # The pin's history: off, lit for the flash, off again.
        wait_until(lambda: len(led.states) >= 3)
        led.assert_states([False, True, False])
        assert [s.state for s in factory.pin(12).states] == [False]
        p.flash(7)  # no such LED: nothing happens


def test_headphone_switch_and_speaker(factory: MockFactory) -> None:
    events: list[bool] = []
    with ButtonPanel([], headphone_pin="GPIO26", speaker_enable_pin="GPIO20",
                     pin_factory=factory, on_headphones=events.append, bounce_time=None) as p:
        assert not p.headphones_in and factory.pin(20).state is True
        factory.pin(26).drive_low()
        wait_until(lambda: events == [True])
        assert p.headphones_in
        p.set_speaker(False)
        assert factory.pin(20).state is False
        factory.pin(26).drive_high()
        wait_until(lambda: events == [True, False])
        assert not p.headphones_in


def test_audio_key(factory: MockFactory) -> None:
    hits: list[int] = []
    with ButtonPanel([], audio_pin="GPIO4", pin_factory=factory,
                     on_audio_key=lambda: hits.append(1), bounce_time=None):
        factory.pin(4).drive_low()
        wait_until(lambda: hits == [1])


def test_bad_pin_is_a_clear_error_and_releases_the_others(factory: MockFactory) -> None:
    with pytest.raises(HardwareError, match="button on pin GPIO99"):
        ButtonPanel(["GPIO5", "GPIO99"], pin_factory=factory)
    # GPIO5 was released when the panel failed: it can be used again.
    panel = ButtonPanel(["GPIO5"], pin_factory=factory)
    panel.close()
    panel.close()
