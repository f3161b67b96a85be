"""Screen layouts as values: boxes with a rectangle, a text, a touch target and a style.

Pure geometry from the session state and the screen size (800×480, 1280×720,
portrait 720×1280 or anything similar); kiosk.screens draws a Layout and fits
each text inside its box, and the app hit-tests touches against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from kiosk.session import Option, Settings, State, options_for
from kiosk.texts import LANGUAGE_NAMES, ui
from survey.model import Survey

# The on-screen keyboard (Finnish/Swedish layout: å, ö, ä where a Nordic keyboard has them).
KEY_ROWS = ("1234567890", "qwertyuiopå", "asdfghjklöä", "zxcvbnm,.?!")


class Rect(NamedTuple):
    """A rectangle in pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def contains_point(self, px: float, py: float) -> bool:
        """True when (px, py) is inside."""
        return self.x <= px < self.right and self.y <= py < self.bottom

    def contains(self, other: Rect) -> bool:
        """True when `other` lies wholly inside this rectangle."""
        return (self.x <= other.x and self.y <= other.y and other.right <= self.right
                and other.bottom <= self.bottom)

    def inset(self, d: int) -> Rect:
        """This rectangle shrunk by `d` pixels on every side."""
        return Rect(self.x + d, self.y + d, max(1, self.w - 2 * d), max(1, self.h - 2 * d))


@dataclass(frozen=True)
class Box:
    """One thing on screen. `kind`: text, button, option, face, key, field."""

    rect: Rect
    kind: str
    text: str = ""
    target: str | None = None
    size: int = 32  # the largest font size the text may use (it shrinks to fit)
    selected: bool = False
    face: int | None = None  # smiley shape 1 (saddest) … 5 (happiest)
    align: str = "center"


@dataclass(frozen=True)
class Layout:
    """Everything one screen shows; `dark` for night mode."""

    size: tuple[int, int]
    boxes: tuple[Box, ...] = field(default_factory=tuple)
    dark: bool = False

    def hit(self, px: float, py: float) -> str | None:
        """The touch target at pixel (px, py), or None."""
        for box in reversed(self.boxes):
            if box.target is not None and box.rect.contains_point(px, py):
                return box.target
        return None

    def texts(self) -> list[Box]:
        """Boxes that show text."""
        return [b for b in self.boxes if b.text]


def _message(survey: Survey, name: str, lang: str) -> str:
    try:
        return survey.message(name, lang)
    except KeyError:
        return ui(name, lang)


class _Grid:
    """Size helpers for one screen: margins, gaps and font sizes scale with the screen."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.w, self.h = size
        self.portrait = self.h > self.w
        self.u = min(self.w, self.h) / 480  # 1.0 on the 7" 800×480 screen
        self.m = max(6, int(12 * self.u))

    def font(self, px: float) -> int:
        return max(12, int(px * self.u))

    def row(self, area: Rect, n: int, gap: int | None = None) -> list[Rect]:
        """`n` equal rectangles side by side across `area`."""
        g = self.m if gap is None else gap
        cw = (area.w - g * (n - 1)) // n
        return [Rect(area.x + i * (cw + g), area.y, cw, area.h) for i in range(n)]

    def column(self, area: Rect, n: int, gap: int | None = None) -> list[Rect]:
        """`n` equal rectangles stacked down `area`."""
        g = self.m if gap is None else gap
        ch = (area.h - g * (n - 1)) // n
        return [Rect(area.x, area.y + i * (ch + g), area.w, ch) for i in range(n)]


def build_layout(state: State, settings: Settings, size: tuple[int, int]) -> Layout:
    """The layout of what `state` shows on a screen of `size` pixels."""
    g = _Grid(size)
    if state.screen == "night":
        box = Box(Rect(g.m, g.h // 2 - g.h // 10, g.w - 2 * g.m, g.h // 5), "text",
                  ui("night", state.lang), size=g.font(24))
        return Layout(size, (box,), dark=True)
    builders = {"idle": _idle, "language": _language, "question": _question, "text": _text,
                "thanks": _thanks}
    boxes = builders[state.screen](g, state, settings)
    return Layout(size, tuple(boxes))


def _top_bar(g: _Grid, state: State, s: Settings) -> tuple[list[Box], int]:
    """The visible language switch (top right); returns its boxes and the bar's bottom."""
    bar_h = int(g.h * (0.08 if g.portrait else 0.13))
    langs = s.languages
    if len(langs) < 2:
        return [], g.m
    bw = int(min(g.w * 0.12 if not g.portrait else g.w * 0.2, bar_h * 1.8))
    area = Rect(g.w - g.m - len(langs) * bw - (len(langs) - 1) * g.m // 2, g.m,
                len(langs) * bw + (len(langs) - 1) * g.m // 2, bar_h)
    boxes = [Box(r, "button", lang.upper(), f"lang:{lang}", g.font(26), lang == state.lang)
             for lang, r in zip(langs, g.row(area, len(langs), g.m // 2), strict=True)]
    return boxes, g.m + bar_h + g.m


def _idle(g: _Grid, state: State, s: Settings) -> list[Box]:
    boxes, top = _top_bar(g, state, s)
    title = Rect(g.m * 2, top + g.m, g.w - 4 * g.m, int(g.h * 0.4))
    boxes.append(Box(title, "text", _message(s.survey, "kiosk_welcome", state.lang),
                     size=g.font(52)))
    start = Rect(g.w // 6, title.bottom + g.m * 2, g.w * 2 // 3, int(g.h * 0.18))
    boxes.append(Box(start, "button", ui("touch_to_start", state.lang), "start", g.font(40),
                     selected=True))
    hint = Rect(g.m, g.h - g.m - int(g.h * 0.08), g.w - 2 * g.m, int(g.h * 0.08))
    boxes.append(Box(hint, "text", ui("audio_hint", state.lang), size=g.font(22)))
    return boxes


def _language(g: _Grid, state: State, s: Settings) -> list[Box]:
    head = Rect(g.m, g.m, g.w - 2 * g.m, int(g.h * (0.12 if g.portrait else 0.2)))
    words = " / ".join(dict.fromkeys(ui("choose_language", lang) for lang in s.languages))
    boxes = [Box(head, "text", words, size=g.font(34))]
    area = Rect(g.m * 3, head.bottom + g.m * 2, g.w - 6 * g.m, g.h - head.bottom - 5 * g.m)
    n = len(s.languages)
    rects = g.column(area, n, g.m * 2) if g.portrait or n > 3 else g.row(area, n, g.m * 2)
    for i, (lang, r) in enumerate(zip(s.languages, rects, strict=True)):
        boxes.append(Box(r, "button", LANGUAGE_NAMES.get(lang, lang), f"lang:{lang}",
                         g.font(44), selected=state.cursor == i))
    return boxes


def _bottom_bar(g: _Grid, state: State, s: Settings, *, send: bool = False) -> tuple[list[Box],
                                                                                       int]:
    """Back / skip (/ send) buttons along the bottom; returns boxes and the bar's top."""
    bar_h = int(g.h * (0.07 if g.portrait else 0.12))
    top = g.h - g.m - bar_h
    bw = int(g.w * (0.3 if g.portrait else 0.22))
    boxes = [Box(Rect(g.m, top, bw, bar_h), "button", ui("back", state.lang), "back",
                 g.font(26))]
    right = g.w - g.m
    if send:
        boxes.append(Box(Rect(right - bw, top, bw, bar_h), "button", ui("send", state.lang),
                         "send", g.font(34), selected=True))
        right -= bw + g.m
    if state.index > 0:
        boxes.append(Box(Rect(right - bw, top, bw, bar_h), "button", ui("skip", state.lang),
                         "skip", g.font(34)))
    return boxes, top


def _question(g: _Grid, state: State, s: Settings) -> list[Box]:
    boxes, top = _top_bar(g, state, s)
    q = s.questions[state.index]
    prompt_h = int(g.h * (0.22 if g.portrait else 0.24))
    prompt = Rect(g.m * 2, top, g.w - 4 * g.m, prompt_h)
    boxes.append(Box(prompt, "text", q.prompt(state.lang, "kiosk"), size=g.font(46),
                     align="left"))
    bottom, bar_top = _bottom_bar(g, state, s)
    area = Rect(g.m, prompt.bottom + g.m, g.w - 2 * g.m, bar_top - prompt.bottom - 2 * g.m)
    opts = options_for(s, state.index, state.lang)
    if q.kind == "nps" and not (state.index == 0 and s.scale.startswith("smileys")):
        boxes += _nps_options(g, area, opts, state)
    else:
        boxes += _labelled_options(g, area, opts, state)
    return boxes + bottom


def _nps_options(g: _Grid, area: Rect, opts: list[Option], state: State) -> list[Box]:
    label_h = int(area.h * 0.3)
    row = Rect(area.x, area.y, area.w, area.h - label_h - g.m)
    if g.portrait:
        # Two rows (0-5, 6-10) keep each target finger-sized on a narrow screen.
        half = (row.h - g.m) // 2
        rects = g.row(Rect(row.x, row.y, row.w, half), 6, g.m // 2)
        second = g.row(Rect(row.x, row.y + half + g.m, row.w, half), 6, g.m // 2)[:5]
        rects += second
    else:
        rects = g.row(row, len(opts), g.m // 2)
    boxes = [Box(r, "option", str(o.value), f"opt:{i}", g.font(48), state.cursor == i)
             for i, (o, r) in enumerate(zip(opts, rects, strict=True))]
    labels = Rect(area.x, area.bottom - label_h, area.w, label_h)
    left, right = g.row(labels, 2)
    boxes.append(Box(left, "text", f"0 = {opts[0].label}", size=g.font(28), align="left"))
    boxes.append(Box(right, "text", f"10 = {opts[-1].label}", size=g.font(28), align="right"))
    return boxes


def _labelled_options(g: _Grid, area: Rect, opts: list[Option], state: State) -> list[Box]:
    boxes: list[Box] = []
    faces = any(o.face is not None for o in opts)
    if g.portrait:
        for i, (o, r) in enumerate(zip(opts, g.column(area, len(opts), g.m), strict=True)):
            boxes.append(Box(r, "option", "", f"opt:{i}", selected=state.cursor == i))
            side = min(r.h, r.w // 4)
            if faces:
                boxes.append(Box(Rect(r.x + g.m, r.y, side, r.h).inset(g.m // 2), "face",
                                 face=o.face, selected=state.cursor == i))
            label = Rect(r.x + side + 2 * g.m, r.y, r.w - side - 3 * g.m, r.h).inset(g.m // 2)
            text = o.label if faces else f"{o.value}  {o.label}"
            boxes.append(Box(label, "text", text, size=g.font(30), selected=state.cursor == i,
                             align="left"))
        return boxes
    for i, (o, r) in enumerate(zip(opts, g.row(area, len(opts), g.m), strict=True)):
        boxes.append(Box(r, "option", "", f"opt:{i}", selected=state.cursor == i))
        top_h = int(r.h * (0.6 if faces else 0.35))
        head = Rect(r.x, r.y, r.w, top_h).inset(g.m // 2)
        if faces:
            side = min(head.w, head.h)
            boxes.append(Box(Rect(head.x + (head.w - side) // 2, head.y, side, side), "face",
                             face=o.face, selected=state.cursor == i))
        else:
            boxes.append(Box(head, "text", str(o.value), size=g.font(44),
                             selected=state.cursor == i))
        label = Rect(r.x, r.y + top_h, r.w, r.h - top_h).inset(g.m // 2)
        boxes.append(Box(label, "text", o.label, size=g.font(30), selected=state.cursor == i))
    return boxes


def _text(g: _Grid, state: State, s: Settings) -> list[Box]:
    boxes, top = _top_bar(g, state, s)
    q = s.questions[state.index]
    limit = q.max_length or 500
    prompt = Rect(g.m * 2, top, g.w - 4 * g.m, int(g.h * (0.1 if g.portrait else 0.12)))
    boxes.append(Box(prompt, "text", q.prompt(state.lang, "kiosk"), size=g.font(38),
                     align="left"))
    bottom, bar_top = _bottom_bar(g, state, s, send=True)
    kb_h = int(g.h * (0.32 if g.portrait else 0.42))
    kb = Rect(g.m, bar_top - g.m - kb_h, g.w - 2 * g.m, kb_h)
    counter_w = int(g.w * (0.25 if g.portrait else 0.16))
    field_rect = Rect(g.m * 2, prompt.bottom + g.m, g.w - 5 * g.m - counter_w,
                      kb.y - prompt.bottom - 2 * g.m)
    boxes.append(Box(field_rect, "field", state.text[-400:] + "_", size=g.font(28),
                     align="left"))
    boxes.append(Box(Rect(field_rect.right + g.m, field_rect.bottom - int(g.h * 0.08),
                          counter_w, int(g.h * 0.08)), "text", f"{len(state.text)}/{limit}",
                     size=g.font(24), align="right"))
    rows = [*KEY_ROWS, None]
    for row_rect, keys in zip(g.column(kb, len(rows), g.m // 3), rows, strict=True):
        if keys is None:
            space, bksp = g.row(row_rect, 2, g.m // 3)
            boxes.append(Box(space, "key", ui("space", state.lang), "char:space", g.font(24)))
            boxes.append(Box(bksp, "key", ui("delete", state.lang), "char:bksp", g.font(24)))
            continue
        for ch, r in zip(keys, g.row(row_rect, 11, g.m // 3), strict=False):
            boxes.append(Box(r, "key", ch, f"char:{ch}", g.font(36)))
    return boxes + bottom


def _thanks(g: _Grid, state: State, s: Settings) -> list[Box]:
    rect = Rect(g.m * 3, g.h // 4, g.w - 6 * g.m, g.h // 2)
    return [Box(rect, "text", _message(s.survey, "kiosk_thanks", state.lang), size=g.font(56))]
