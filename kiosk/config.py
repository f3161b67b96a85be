"""The `[kiosk]` section of the device config, validated into a KioskConfig.

Every key has a default that works on a touchscreen kiosk; every error names
the file and the key. The keys and their defaults are in survey/config_schema.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.state import Scale, SessionSettings, faces_question
from survey.config import Config, Section
from survey.model import Question, Survey

# The volume keys reach at least this far above and below the start level (dB).
VOLUME_REACH = 18.0
# gpiozero pin names: GPIO17, BCM17, BOARD11, J8:11, WPI0 or a bare BCM number.
_PIN = re.compile(r"^(?:GPIO|BCM)(\d+)$|^(?:BOARD|J8:)(\d+)$|^WPI(\d+)$|^(\d+)$", re.I)
_BOARD_GPIO = {3, 5, 7, 8, 10, 11, 12, 13, 15, 16, 18, 19, 21, 22, 23, 24, 26, 27, 28, 29, 31,
               32, 33, 35, 36, 37, 38, 40}


@dataclass(frozen=True)
class ButtonsConfig:
    """GPIO pins of the answer buttons, their LEDs and the audio-mode inputs."""

    pins: tuple[str, ...] = ()
    leds: tuple[str, ...] = ()
    headphone_pin: str | None = None
    headphone_active_low: bool = True
    audio_pin: str | None = None
    speaker_enable_pin: str | None = None
    bounce_time: float = 0.05

    @property
    def any(self) -> bool:
        """True when any GPIO input or output is configured."""
        return bool(self.pins or self.leds or self.headphone_pin or self.audio_pin
                    or self.speaker_enable_pin)


@dataclass(frozen=True)
class KioskConfig:
    """The validated kiosk configuration: session settings plus display, GPIO and audio."""

    settings: SessionSettings
    resolution: tuple[int, int] = (800, 480)
    panel_inches: float = 7.0  # the panel's diagonal: touch targets are sized in mm
    simulate_audio: bool = False  # the recording twin instead of the sound card
    simulate_gpio: bool = False  # no GPIO at all (a test bench without a panel)
    fullscreen: bool | None = None  # None: fullscreen when there is no desktop session
    buttons: ButtonsConfig = ButtonsConfig()
    audio_key: str = "f1"
    prompts_dir: Path = Path("prompts")


def _pin(section: Section, key: str, value: Any) -> str:
    """A valid gpiozero pin name, or a ConfigError naming the key."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str):
        raise section.error(key, f"must be a pin name like \"GPIO17\", not {value!r}")
    m = _PIN.match(text.strip())
    if not m:
        raise section.error(key, f"unknown pin {text!r} (use names like \"GPIO17\" or "
                                 "\"BOARD11\")")
    bcm, board, _wpi, bare = m.groups()
    number = int(bcm or bare or -1)
    if (bcm or bare) and not 0 <= number <= 27:
        raise section.error(key, f"unknown pin {text!r}: a Raspberry Pi has GPIO0..GPIO27")
    if board and int(board) not in _BOARD_GPIO:
        raise section.error(key, f"unknown pin {text!r}: board pin {board} is not a GPIO")
    return f"GPIO{number}" if (bcm or bare) else text.strip().upper()


def _pins(section: Section, key: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise section.error(key, f"must be a list of pin names, not {raw!r}")
    return tuple(_pin(section, key, v) for v in raw)


def _hours(section: Section) -> tuple[time, time] | None:
    raw = section.get_str("opening_hours")
    if raw.strip().lower() in ("always", "00:00-24:00"):
        return None
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", raw)
    if not m:
        raise section.error("opening_hours", f"must look like \"07:00-21:00\" or \"always\", "
                                             f"not {raw!r}")
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h2 == 24 and m2 == 0:
        h2, m2 = 0, 0
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise section.error("opening_hours", f"has an impossible time: {raw!r}") from None
    if start == end:
        raise section.error("opening_hours", "opening and closing time are the same")
    return start, end


def _resolution(section: Section) -> tuple[int, int]:
    raw = section.data.get("resolution", "800x480")
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, int) for v in raw):
        w, h = raw
    elif isinstance(raw, str) and re.fullmatch(r"\d+x\d+", raw.strip()):
        w, h = (int(v) for v in raw.strip().split("x"))
    else:
        raise section.error("resolution", f"must look like \"800x480\", not {raw!r}")
    if w < 320 or h < 240 or w > 7680 or h > 7680:
        raise section.error("resolution", f"{w}x{h} is not a usable screen size")
    return w, h


def _questions(section: Section, survey: Survey, scale: Scale,
               languages: tuple[str, ...]) -> tuple[Question, ...]:
    """The questions asked. A face kiosk asks faces first: the survey's own smileys question
    when it comes first, otherwise `faces`; then the listed questions except the 0-10 one,
    which faces cannot ask."""
    ids = section.get_str_list("questions", list(survey.channels.get("kiosk", ())))
    if not ids:
        raise section.error("questions", f"the survey {survey.id} has no kiosk questions; "
                                          "list some here")
    for qid in ids:
        if qid not in survey.questions:
            raise section.error("questions", f"the survey {survey.id} has no question {qid!r} "
                                              f"(it has {', '.join(survey.questions)})")
    questions = tuple(survey.questions[qid] for qid in ids)
    if scale is not Scale.NPS:
        nps = [q.id for q in questions if q.kind == "nps"]
        if nps and "questions" in section:
            raise section.error("questions", f"a face kiosk asks its faces (stored as "
                                              f"`faces`) instead of the 0-10 question "
                                              f"{nps[0]!r}; leave it out")
        rest = tuple(q for q in questions if q.kind != "nps")
        if rest and rest[0].kind == "smileys":
            return rest
        return (faces_question(survey, languages), *rest)
    if questions[0].kind == "text":
        raise section.error("questions", "the first question cannot be free text")
    if questions[0].kind != "nps":
        raise section.error("scale", f"\"nps\" needs an NPS first question; "
                                     f"{questions[0].id!r} is {questions[0].kind}")
    return questions


def _buttons(section: Section) -> ButtonsConfig:
    buttons = section.table("buttons")
    buttons.check_keys({"pins", "values"})
    table = buttons.data
    pins = _pins(section, "buttons.pins", table.get("pins", []))
    if "values" in table:
        raise section.error("buttons.values", "is no longer used: a face kiosk stores the face "
                            "itself (question `faces`, 1-5); remove it (older answers: "
                            "palaute central move-faces)")
    leds = _pins(section, "leds", section.get_list("leds", []))
    if leds and len(leds) != len(pins):
        raise section.error("leds", f"has {len(leds)} pins for {len(pins)} buttons (one LED "
                                    "per button)")
    single = {k: _pin(section, k, section.data[k]) if k in section else None
              for k in ("headphone_pin", "audio_pin", "speaker_enable_pin")}
    used: dict[str, str] = {}
    for key, pin in [*(("buttons.pins", p) for p in pins), *(("leds", p) for p in leds),
                     *((k, p) for k, p in single.items() if p)]:
        if pin in used:
            raise section.error(key, f"pin {pin} is already used by {used[pin]}")
        used[pin] = key
    cfg = ButtonsConfig(
        pins=pins, leds=leds, headphone_pin=single["headphone_pin"],
        headphone_active_low=section.get_bool("headphone_active_low"),
        audio_pin=single["audio_pin"], speaker_enable_pin=single["speaker_enable_pin"],
        bounce_time=section.get_float("bounce_time"),
    )
    return cfg


def _scale(section: Section, pins: tuple[str, ...]) -> Scale:
    raw = section.get_str("scale")
    try:
        scale = Scale(raw)
    except ValueError:
        raise section.error("scale", f"must be one of {', '.join(m.value for m in Scale)}, "
                                     f"not {raw!r}") from None
    if scale is Scale.NPS and pins:
        raise section.error("scale", f"\"nps\" has 11 options, which does not fit "
                                     f"{len(pins)} buttons; use \"smileys5\" or "
                                     "\"smileys4\" with buttons")
    if pins and len(pins) != len(scale.faces):
        raise section.error("scale", f"\"{scale.value}\" has {len(scale.faces)} faces but "
                                     f"there are {len(pins)} buttons.pins")
    return scale


def _volume(section: Section) -> tuple[float, float, float]:
    """(start, lowest, loudest) in dB: at least VOLUME_REACH either way from the start."""
    vmin = section.get_float("min_volume")
    vmax = section.get_float("max_volume")
    start = section.get_float("default_volume", max=vmax)
    if start - vmin < VOLUME_REACH:
        raise section.error("min_volume", f"must be at least {VOLUME_REACH:g} dB below "
                                          f"default_volume ({start:g}), not {vmin:g}")
    if vmax - start < VOLUME_REACH:
        raise section.error("default_volume", f"must leave at least {VOLUME_REACH:g} dB up to "
                                              f"max_volume ({vmax:g}); {start:g} does not")
    return start, vmin, vmax


def load_kiosk_config(config: Config, survey: Survey) -> KioskConfig:
    """Validate `[kiosk]` of `config` against `survey`; ConfigError names the key."""
    sec = config.section("kiosk")
    sec.check_keys()
    buttons = _buttons(sec)
    scale = _scale(sec, buttons.pins)
    languages = tuple(sec.get_str_list("languages", list(survey.languages)))
    for lang in languages:
        if lang not in survey.languages:
            raise sec.error("languages", f"the survey has no {lang!r} texts (it has "
                                         f"{', '.join(survey.languages)})")
    if not languages:
        raise sec.error("languages", "must list at least one language")
    questions = _questions(sec, survey, scale, languages)
    default_lang = sec.get_str("default_language", languages[0])
    if default_lang not in languages:
        raise sec.error("default_language", f"{default_lang!r} is not in languages")
    tz_name = sec.get_str("timezone")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise sec.error("timezone", f"unknown time zone {tz_name!r}") from None
    volume, vmin, vmax = _volume(sec)
    rmin = sec.get_int("min_rate")
    rmax = sec.get_int("max_rate")
    settings = SessionSettings(
        survey=survey, questions=questions, scale=scale, buttons=len(buttons.pins),
        languages=languages, default_lang=default_lang,
        idle_timeout=sec.get_float("idle_timeout"),
        idle_warning=sec.get_float("idle_warning"),
        headphones_grace=sec.get_float("headphones_grace"),
        hold_seconds=sec.get_float("hold_seconds"),
        lit_seconds=sec.get_float("lit_seconds"),
        audio_idle_timeout=sec.get_float("audio_idle_timeout"),
        audio_warning=sec.get_float("audio_warning"),
        thanks_seconds=sec.get_float("thanks_seconds"),
        repeat_interval=sec.get_float("repeat_interval"),
        lockout=sec.get_float("lockout"),
        burst_window=sec.get_float("burst_window"),
        burst_count=sec.get_int("burst_count"),
        opening_hours=_hours(sec), timezone=tz,
        volume_db=volume,
        volume_min_db=vmin, volume_max_db=vmax,
        volume_step_db=sec.get_float("volume_step"),
        rate=sec.get_int("speech_rate", min=rmin, max=rmax),
        rate_min=rmin, rate_max=rmax, rate_step=sec.get_int("rate_step"),
    )
    if settings.audio_warning >= settings.audio_idle_timeout:
        raise sec.error("audio_warning", "must be shorter than audio_idle_timeout")
    if settings.lockout > settings.repeat_interval:
        raise sec.error("lockout", "must not be longer than repeat_interval")
    fullscreen = sec.get_bool("fullscreen") if "fullscreen" in sec else None
    return KioskConfig(
        settings=settings, resolution=_resolution(sec), fullscreen=fullscreen,
        panel_inches=sec.get_float("panel_inches"),
        simulate_audio=sec.get_bool("simulate_audio"),
        simulate_gpio=sec.get_bool("simulate_gpio"),
        buttons=buttons, audio_key=sec.get_str("audio_key").lower(),
        prompts_dir=sec.get_path("prompts_dir"),
    )
