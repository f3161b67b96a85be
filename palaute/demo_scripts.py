"""The demo's kiosk patients: simulation scripts for `palaute kiosk simulate`, and what each
patient should leave in the store.

Pure: given a kiosk's validated settings and screen size, each patient becomes
script lines (touch X Y at the centre of the on-screen target, found in the
kiosk's own layout; button N; key NAME; type TEXT; wait S; headphones in|out).
Patients: several by touch on the 0-10 screen, one with the audio mode and keys
only, one who walks away mid-survey, and on the button kiosk (faces, stored as
`faces`) one by buttons and one who presses twice in a hurry (flagged `repeat_press`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kiosk.events import Command, PickLanguage, PickOption, Target
from kiosk.layout import build_layout
from kiosk.state import Screen, SessionSettings, SessionState

# Simulated seconds between two patients (more than the thanks screen; few enough
# completions per minute that no `burst` flag is raised by honest patients).
GAP = 30
TOUCH_COMMENTS = {"fi": "Hyvä palvelu", "sv": "Bra service", "en": "Friendly staff"}


@dataclass(frozen=True)
class Kiosk:
    """What a script needs of a kiosk: its settings and screen size (from kiosk.app)."""

    settings: SessionSettings
    size: tuple[int, int]


@dataclass(frozen=True)
class Patient:
    """One scripted patient and the response the kiosk should store for them
    (`nps` None on a face kiosk, which stores `face` instead)."""

    name: str
    lines: tuple[str, ...]
    channel: str
    status: str
    nps: int | None
    flags: tuple[str, ...] = field(default_factory=tuple)
    face: int | None = None


def touch(kiosk: Kiosk, state: SessionState, target: Target) -> str:
    """`touch X Y` at the centre of `target` on the screen `state` shows."""
    layout = build_layout(state, kiosk.settings, kiosk.size)
    for box in layout.boxes:
        if box.target == target:
            w, h = kiosk.size
            x = (box.rect.x + box.rect.w / 2) / w
            y = (box.rect.y + box.rect.h / 2) / h
            return f"touch {x:.4f} {y:.4f}"
    raise ValueError(f"no {target!r} on the {state.screen.value} screen")


def _option(kiosk: Kiosk, index: int, value: int) -> PickOption:
    """The touch target of `value` for question `index` (option index in its list)."""
    q = kiosk.settings.questions[index]
    low = (q.scale or (0, 0))[0]
    return PickOption(value - low)


def touch_patient(kiosk: Kiosk, name: str, lang: str, nps: int, likert: list[int],
                  comment: str | None) -> Patient:
    """A patient who answers every question on the touchscreen."""
    s = kiosk.settings
    # One language step: the welcome's language buttons start in that language.
    lines = [f"# {name}: touch, {lang}",
             touch(kiosk, SessionState(lang=s.default_lang), PickLanguage(lang))]
    values = iter(likert)
    for i, q in enumerate(s.questions):
        if q.kind == "text":
            state = SessionState(screen=Screen.TEXT, index=i, lang=lang)
            if comment:
                lines.append(f"type {comment}")
                lines.append(touch(kiosk, state, Command.SEND))
            else:
                lines.append(touch(kiosk, state, Command.SKIP))
            continue
        value = nps if i == 0 else next(values)
        lines.append(touch(kiosk, SessionState(screen=Screen.QUESTION, index=i, lang=lang),
                           _option(kiosk, i, value)))
    lines.append(f"wait {GAP}")
    return Patient(name, tuple(lines), "kiosk", "complete", nps)


def audio_patient(kiosk: Kiosk, name: str, nps: int, likert: list[int]) -> Patient:
    """A blind patient: headphones in, numeric keypad only, every answer confirmed; free text
    skipped. They hold a key once to hear what it does."""
    lines = [f"# {name}: audio mode, headphones and keys only", "headphones in",
             "key enter"]  # the language menu starts on the default language
    values = iter(likert)
    for i, q in enumerate(kiosk.settings.questions):
        if q.kind == "text":
            continue
        value = nps if i == 0 else next(values)
        lines += [f"key {digit}" for digit in str(value)]  # 10 is "1" then "0"
        if i == 0:
            lines += ["hold repeat", "key repeat", "key vol+"]
        lines += ["key enter", "key enter"]  # choose, then confirm
    lines += [f"wait {GAP}", "headphones out"]
    return Patient(name, tuple(lines), "kiosk-audio", "complete", nps)


def walkaway_patient(kiosk: Kiosk, name: str, lang: str, nps: int) -> Patient:
    """A patient who answers the first question and leaves: abandoned at the idle timeout."""
    s = kiosk.settings
    lines = [f"# {name}: answers one question and walks away",
             touch(kiosk, SessionState(lang=s.default_lang), PickLanguage(lang)),
             touch(kiosk, SessionState(screen=Screen.QUESTION, index=0, lang=lang),
                   _option(kiosk, 0, nps)),
             f"wait {round(s.idle_timeout + s.idle_warning) + GAP}"]
    return Patient(name, tuple(lines), "kiosk", "abandoned", nps)


def button_patient(kiosk: Kiosk, name: str, face: int, likert: list[int], *,
                   double_press: bool = False) -> Patient:
    """A patient at the button panel (faces, then the statements on the same buttons).

    `face` is the button pressed first (1 = saddest). With `double_press` the first
    button is pressed twice in a hurry: the second press answers the next question and
    the response is flagged `repeat_press`.
    """
    s = kiosk.settings
    lines = [f"# {name}: buttons" + (", a hurried double press" if double_press else ""),
             f"button {face}"]
    rest = list(likert[:len(s.questions) - 1])
    if double_press:
        lines.append(f"wait {max(s.lockout, s.repeat_interval / 2):g}")
        rest[0] = face  # the second press is an answer to the next question
    lines += [f"button {v}" for v in rest]
    lines.append(f"wait {GAP}")
    flags = ("repeat_press",) if double_press else ()
    return Patient(name, tuple(lines), "kiosk", "complete", None, flags,
                   face=s.faces[face - 1])


def _likert(rng: random.Random, nps: int, n: int) -> list[int]:
    base = max(1, min(5, round(nps / 2.5)))
    return [max(1, min(5, base + rng.choice((-1, 0, 0, 1)))) for _ in range(n)]


def _nps(rng: random.Random) -> int:
    return rng.choices(range(11), (1, 1, 1, 1, 1, 2, 3, 6, 12, 18, 24))[0]


def touch_kiosk_patients(kiosk: Kiosk, seed: int, wave: int = 0) -> list[Patient]:
    """The touchscreen lobby's patients of one wave: three by touch, one audio, one walk-away."""
    rng = random.Random(f"palaute-demo-kiosk:{seed}:{wave}")
    n_scale = sum(1 for q in kiosk.settings.questions if q.kind != "text") - 1
    langs = [lang for lang in ("fi", "sv", "en") if lang in kiosk.settings.languages]
    out = []
    for i in range(3):
        lang = langs[i % len(langs)]
        nps = _nps(rng)
        comment = TOUCH_COMMENTS.get(lang) if i != 1 else None
        out.append(touch_patient(kiosk, f"patient {wave}.{i + 1}", lang, nps,
                                 _likert(rng, nps, n_scale), comment))
    nps = min(10, _nps(rng))
    out.append(audio_patient(kiosk, f"patient {wave}.4", nps, _likert(rng, nps, n_scale)))
    out.append(walkaway_patient(kiosk, f"patient {wave}.5", langs[0], rng.randrange(2, 7)))
    return out


def button_kiosk_patients(kiosk: Kiosk, seed: int, wave: int = 0) -> list[Patient]:
    """The button panel's patients of one wave: one calm, one hurried double press."""
    rng = random.Random(f"palaute-demo-buttons:{seed}:{wave}")
    faces = len(kiosk.settings.faces)
    n_scale = len(kiosk.settings.questions) - 1
    return [
        button_patient(kiosk, f"patient {wave}.6", rng.randrange(3, faces + 1),
                       _likert(rng, 8, n_scale)),
        button_patient(kiosk, f"patient {wave}.7", rng.randrange(2, faces + 1),
                       _likert(rng, 6, n_scale), double_press=True),
    ]


def script(patients: list[Patient]) -> str:
    """One simulation script for these patients, one after the other."""
    return "\n".join(line for p in patients for line in p.lines) + "\n"


def script_seconds(text: str) -> float:
    """Simulated seconds a script takes (events a second apart, plus its waits); an upper bound."""
    total = 0.0
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        total += float(rest) if word == "wait" else 1.0
    return total
