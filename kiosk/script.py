"""Simulation scripts: one event per line, parsed into values with line numbers.

    key NAME        0-9, up, down, left, right, enter, back, repeat, audio,
                    vol+, vol-, rate, rate+, rate-, esc
    hold NAME       the key held down (the audio mode says what it does)
    button N        physical answer button N (1 = leftmost)
    touch X Y       a touch at fractions of the screen (0..1)
    type TEXT       typed text (the rest of the line)
    wait SECONDS    advance the simulated clock (timers fire on the way)
    headphones in|out
    # comment       (blank lines too are skipped)

Consecutive events are one simulated second apart; a `wait` between two
events sets their gap instead (`wait 0.1` for a quick double press).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kiosk.events import KEY_NAMES, Button, HeadphonesIn, HeadphonesOut, Key, Text, Touch, key_of
from survey.errors import PalauteError

ScriptEvent = Key | Button | Touch | Text | HeadphonesIn | HeadphonesOut


class ScriptError(PalauteError, ValueError):
    """A simulation script line that cannot be read; names the file and line."""


@dataclass(frozen=True)
class Wait:
    """Advance the simulated clock by `seconds`."""

    seconds: float


@dataclass(frozen=True)
class ScriptLine:
    """One script line as a value: what happens and where it was written."""

    line: int
    action: ScriptEvent | Wait


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScriptError(f"{where}: {what} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise ScriptError(f"{where}: {what} must be a finite number, not {text!r}")
    return value


def parse_line(raw: str, where: str) -> ScriptEvent | Wait | None:
    """One line as an event or Wait; None for blank lines and comments."""
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    word, _, rest = line.partition(" ")
    word = word.lower()
    rest = rest.strip()
    args = rest.split()
    if word == "type":
        if not rest:
            raise ScriptError(f"{where}: `type` needs the text to type")
        return Text(raw.strip()[5:])
    if word in ("key", "hold"):
        key = key_of(args[0].lower()) if len(args) == 1 else None
        if key is None:
            raise ScriptError(f"{where}: `{word}` needs one of "
                              f"{', '.join(sorted(KEY_NAMES))}, not {rest!r}")
        return Key(key, held=word == "hold")
    if word == "button":
        if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
            raise ScriptError(f"{where}: `button` needs a button number (1, 2, …), "
                              f"not {rest!r}")
        return Button(int(args[0]))
    if word == "touch":
        if len(args) != 2:
            raise ScriptError(f"{where}: `touch` needs X and Y as fractions of the screen")
        x, y = (_number(a, "touch position", where) for a in args)
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise ScriptError(f"{where}: touch X and Y must be between 0 and 1, not {rest!r}")
        return Touch(x, y)
    if word == "wait":
        if len(args) != 1:
            raise ScriptError(f"{where}: `wait` needs a number of seconds")
        seconds = _number(args[0], "wait", where)
        if seconds < 0:
            raise ScriptError(f"{where}: wait must not be negative")
        return Wait(seconds)
    if word == "headphones":
        if args == ["in"]:
            return HeadphonesIn()
        if args == ["out"]:
            return HeadphonesOut()
        raise ScriptError(f"{where}: `headphones` needs `in` or `out`, not {rest!r}")
    raise ScriptError(f"{where}: unknown command {word!r} (use key, hold, button, touch, type, "
                      "wait, headphones or # comment)")


def parse_script(lines: list[str] | tuple[str, ...],
                 source: str = "script") -> list[ScriptLine]:
    """Every event of a script, with its line number; ScriptError names the first bad line."""
    steps = []
    for number, raw in enumerate(lines, start=1):
        action = parse_line(raw, f"{source}:{number}")
        if action is not None:
            steps.append(ScriptLine(number, action))
    return steps
