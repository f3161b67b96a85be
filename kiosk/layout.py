"""Screen layouts as values: boxes with a rectangle, a text, a touch target and a style.

Pure geometry from the session state, the screen size in pixels (800×480,
1280×720, portrait 720×1280 or anything similar) and the panel's diagonal in
inches: every touch target is at least MIN_TARGET_MM on the real panel.
kiosk.screens draws a Layout and fits each text inside its box, and the app
hit-tests touches against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from kiosk.events import Command, PickLanguage, PickOption, Target, TypeChar
from kiosk.state import (
    SESSION_SCREENS,
    Option,
    Screen,
    SessionSettings,
    SessionState,
    message,
    options_for,
    progress,
)
from kiosk.texts import LANGUAGE_NAMES, ui

# The on-screen keyboard (Finnish/Swedish layout: å, ö, ä where a Nordic keyboard has them).
KEY_ROWS = ("1234567890", "qwertyuiopå", "asdfghjklöä", "zxcvbnm,.?!")
MIN_TARGET_MM = 9.0  # touch targets at least this big on the real panel
# A long question is drawn no smaller than this share of its box's font size; the
# rest scrolls. Glyphs average about AVG_GLYPH of the font size in width.
READABLE = 0.6
AVG_GLYPH = 0.55

Kind = Literal["text", "button", "option", "face", "key", "field", "headphones", "arrow-up",
               "arrow-down", "panel"]
Align = Literal["left", "center", "right"]


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
    """One thing on screen."""

    rect: Rect
    kind: Kind
    text: str = ""
    target: Target | None = None
    size: int = 32  # the largest font size the text may use (it shrinks to fit)
    selected: bool = False
    face: int | None = None  # smiley shape 1 (saddest) … 5 (happiest)
    align: Align = "center"
    scroll: int | None = None  # a long text: drawn at `size` from this line, no shrinking


@dataclass(frozen=True)
class Layout:
    """Everything one screen shows; `dark` for night mode."""

    size: tuple[int, int]
    boxes: tuple[Box, ...] = field(default_factory=tuple)
    dark: bool = False

    def hit(self, px: float, py: float) -> Target | None:
        """The touch target at pixel (px, py), or None."""
        for box in reversed(self.boxes):
            if box.target is not None and box.rect.contains_point(px, py):
                return box.target
        return None

    def texts(self) -> list[Box]:
        """Boxes that show text."""
        return [b for b in self.boxes if b.text]

    def targets(self) -> list[Box]:
        """Boxes that can be touched."""
        return [b for b in self.boxes if b.target is not None]


def px_per_mm(size: tuple[int, int], panel_inches: float) -> float:
    """Pixels per millimetre of a panel with this resolution and diagonal."""
    return math.hypot(*size) / (panel_inches * 25.4)


class _Grid:
    """Size helpers for one screen: margins, gaps, font and touch-target sizes."""

    def __init__(self, size: tuple[int, int], panel_inches: float) -> None:
        self.w, self.h = size
        self.portrait = self.h > self.w
        self.u = min(self.w, self.h) / 480  # 1.0 on the 7" 800×480 screen
        self.m = max(6, int(12 * self.u))
        self.target = math.ceil(MIN_TARGET_MM * px_per_mm(size, panel_inches))

    def font(self, px: float) -> int:
        return max(12, int(px * self.u))

    def tall(self, h: float) -> int:
        """A height at least a touch target's."""
        return max(self.target, int(h))

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


def build_layout(state: SessionState, settings: SessionSettings, size: tuple[int, int],
                 panel_inches: float = 7.0) -> Layout:
    """The layout of what `state` shows on a screen of `size` pixels."""
    g = _Grid(size, panel_inches)
    if state.screen is Screen.NIGHT:
        box = Box(Rect(g.m, g.h // 2 - g.h // 10, g.w - 2 * g.m, g.h // 5), "text",
                  ui("night", state.lang), size=g.font(24))
        return Layout(size, (box,), dark=True)
    if state.paused_since is not None:
        box = Box(Rect(g.m, g.h // 3, g.w - 2 * g.m, g.h // 3), "text",
                  ui("paused", state.lang), size=g.font(40))
        return Layout(size, (box,))
    if state.screen in SESSION_SCREENS and not state.audio and (state.warned
                                                                or state.confirm_exit):
        return Layout(size, tuple(_ask(g, state)))
    builders = {Screen.IDLE: _idle, Screen.LANGUAGE: _language, Screen.QUESTION: _question,
                Screen.TEXT: _text, Screen.THANKS: _thanks}
    return Layout(size, tuple(builders[state.screen](g, state, settings)))


def _ask(g: _Grid, state: SessionState) -> list[Box]:
    """"Are you still answering?" [Continue], or "Do you want to stop?" [Stop] [Continue]."""
    lang = state.lang
    words = ui("stop_ask" if state.confirm_exit else "still_answering", lang)
    boxes = [Box(Rect(g.m * 2, g.h // 6, g.w - 4 * g.m, g.h // 4), "text", words,
                 size=g.font(52))]
    bh = g.tall(g.h * (0.12 if g.portrait else 0.2))
    area = Rect(g.w // 8, g.h // 6 + g.h // 4 + 2 * g.m, g.w * 3 // 4, bh)
    if state.confirm_exit:
        stop, cont = g.row(area, 2, g.m * 2)
        boxes.append(Box(stop, "button", ui("stop", lang), Command.STOP, g.font(40)))
    else:
        cont = area
    boxes.append(Box(cont, "button", ui("continue", lang), Command.CONTINUE, g.font(44),
                     selected=True))
    return boxes


def _top_bar(g: _Grid, state: SessionState, s: SessionSettings,
             count: bool = True) -> tuple[list[Box], int]:
    """Progress "2 / 5" (top left) and the language switch (top right); the bar's bottom."""
    bar_h = g.tall(g.h * (0.08 if g.portrait else 0.13))
    boxes: list[Box] = []
    if count:
        n, m = progress(s, state)
        boxes.append(Box(Rect(g.m * 2, g.m, int(g.w * 0.2), bar_h), "text",
                         ui("progress", state.lang, n=n, m=m), size=g.font(30), align="left"))
    langs = s.languages
    if len(langs) > 1:
        bw = max(g.target, int(min(g.w * (0.2 if g.portrait else 0.12), bar_h * 1.8)))
        gap = g.m // 2
        area = Rect(g.w - g.m - len(langs) * bw - (len(langs) - 1) * gap, g.m,
                    len(langs) * bw + (len(langs) - 1) * gap, bar_h)
        boxes += [Box(r, "button", lang.upper(), PickLanguage(lang), g.font(26),
                      lang == state.lang)
                  for lang, r in zip(langs, g.row(area, len(langs), gap), strict=True)]
    return boxes, g.m + bar_h + g.m


def _audio_button(g: _Grid, state: SessionState, s: SessionSettings, y: int,
                  height: int | None = None) -> list[Box]:
    """The audio-mode sign: a headphone symbol on a button that starts the audio mode,
    with how to get there in every language."""
    if not s.audio_available:
        return []
    bh = height or g.tall(g.h * (0.08 if g.portrait else 0.15))
    button = Rect(g.m, y, max(g.target * 2, int(g.w * (0.36 if g.portrait else 0.26))), bh)
    icon = Rect(button.x + g.m // 2, button.y, button.h, button.h).inset(g.m // 2)
    label = Rect(icon.right + g.m // 2, button.y, button.right - icon.right - g.m, button.h)
    langs = s.languages if len(s.languages) <= 3 else (state.lang,)
    names = " / ".join(dict.fromkeys(ui("audio_button", lang) for lang in langs))
    hint = Rect(button.right + g.m, y, g.w - button.right - 2 * g.m, bh)
    hints = "\n".join(ui("audio_hint", lang) for lang in langs)
    return [Box(button, "button", target=Command.AUDIO), Box(icon, "headphones"),
            Box(label, "text", names, size=g.font(26)),
            Box(hint, "text", hints, size=g.font(24), align="left")]


def _idle(g: _Grid, state: SessionState, s: SessionSettings) -> list[Box]:
    if s.faces:
        return _question(g, state, s, welcome=True)
    bottom_h = g.tall(g.h * (0.08 if g.portrait else 0.15))
    bottom_y = g.h - g.m - bottom_h
    langs = s.languages if len(s.languages) <= 3 else (state.lang,)
    buttons_h = g.tall(g.h * (0.1 if g.portrait else 0.18))
    buttons_y = bottom_y - 2 * g.m - buttons_h
    area = Rect(g.m * 2, g.m * 2, g.w - 4 * g.m, buttons_y - 3 * g.m)
    boxes = [Box(r, "text", message(s.survey, "kiosk_welcome", lang).text, size=g.font(40))
             for lang, r in zip(langs, g.column(area, len(langs), g.m), strict=True)]
    row = Rect(g.m * 2, buttons_y, g.w - 4 * g.m, buttons_h)
    if len(s.languages) > 1:
        rects = g.row(row, len(s.languages), g.m * 2)
        boxes += [Box(r, "button", LANGUAGE_NAMES.get(lang, lang), PickLanguage(lang),
                      g.font(44), selected=True)
                  for lang, r in zip(s.languages, rects, strict=True)]
    else:
        boxes.append(Box(Rect(g.w // 4, row.y, g.w // 2, row.h), "button",
                         ui("start", state.lang), Command.START, g.font(44), selected=True))
    return boxes + _audio_button(g, state, s, bottom_y)


def _language(g: _Grid, state: SessionState, s: SessionSettings) -> list[Box]:
    """The audio mode's language menu, also shown (and touchable) on screen."""
    head = Rect(g.m, g.m, g.w - 2 * g.m, int(g.h * (0.12 if g.portrait else 0.2)))
    words = " / ".join(dict.fromkeys(ui("choose_language", lang) for lang in s.languages))
    boxes = [Box(head, "text", words, size=g.font(34))]
    area = Rect(g.m * 3, head.bottom + g.m * 2, g.w - 6 * g.m, g.h - head.bottom - 5 * g.m)
    n = len(s.languages)
    rects = g.column(area, n, g.m * 2) if g.portrait or n > 3 else g.row(area, n, g.m * 2)
    for i, (lang, r) in enumerate(zip(s.languages, rects, strict=True)):
        boxes.append(Box(r, "button", LANGUAGE_NAMES.get(lang, lang), PickLanguage(lang),
                         g.font(44), selected=state.cursor == i))
    return boxes


def _bottom_bar(g: _Grid, state: SessionState, *, send: bool = False,
                skip: bool = True) -> tuple[list[Box], int]:
    """Back / skip (/ send) buttons along the bottom; returns boxes and the bar's top."""
    bar_h = g.tall(g.h * (0.07 if g.portrait else 0.12))
    top = g.h - g.m - bar_h
    bw = int(g.w * (0.3 if g.portrait else 0.22))
    boxes = []
    if state.index > 0:
        boxes.append(Box(Rect(g.m, top, bw, bar_h), "button", ui("back", state.lang),
                         Command.BACK, g.font(26)))
    right = g.w - g.m
    if send:
        boxes.append(Box(Rect(right - bw, top, bw, bar_h), "button", ui("send", state.lang),
                         Command.SEND, g.font(34), selected=True))
        right -= bw + g.m
    if state.index > 0 and skip:
        boxes.append(Box(Rect(right - bw, top, bw, bar_h), "button", ui("skip", state.lang),
                         Command.SKIP, g.font(34)))
    return boxes, top


def _prompt(g: _Grid, rect: Rect, text: str, size: int, scroll: int) -> list[Box]:
    """A question's text; too long to read at READABLE of `size`, it scrolls by arrows."""
    small = max(12, int(size * READABLE))
    per_line = max(1, int(rect.w / (small * AVG_GLYPH)))
    lines = max(1, int(rect.h / (small * 1.2)))
    if len(text) <= per_line * lines * 0.9:
        return [Box(rect, "text", text, size=size, align="left")]
    arrows_w = g.target + g.m
    body = Rect(rect.x, rect.y, rect.w - arrows_w, rect.h)
    side = min(g.target * 3 // 2, (rect.h - g.m // 2) // 2)
    up = Rect(body.right + g.m, rect.y, g.target, max(g.target, side))
    down = Rect(up.x, rect.bottom - up.h, up.w, up.h)
    return [Box(body, "text", text, size=small, align="left", scroll=scroll),
            Box(up, "arrow-up", target=Command.SCROLL_UP),
            Box(down, "arrow-down", target=Command.SCROLL_DOWN)]


def _question(g: _Grid, state: SessionState, s: SessionSettings,
              welcome: bool = False) -> list[Box]:
    boxes, top = _top_bar(g, state, s)
    q = s.questions[state.index]
    if welcome:
        # The face kiosk's welcome is its first question, with the welcome line above it.
        line = Rect(g.m * 2, top, g.w - 4 * g.m, int(g.h * 0.08))
        boxes.append(Box(line, "text", message(s.survey, "kiosk_welcome", state.lang).text,
                         size=g.font(26), align="left"))
        top = line.bottom
    prompt_h = int(g.h * (0.2 if g.portrait else 0.22))
    prompt = Rect(g.m * 2, top, g.w - 4 * g.m, prompt_h)
    boxes += _prompt(g, prompt, q.prompt(state.lang, "kiosk"), g.font(46), state.scroll)
    bottom, bar_top = _bottom_bar(g, state, skip=not s.faces)
    area = Rect(g.m, prompt.bottom + g.m, g.w - 2 * g.m, bar_top - prompt.bottom - 2 * g.m)
    opts = options_for(s, state.index, state.lang)
    if q.kind == "nps" and not s.faces:
        boxes += _nps_options(g, area, opts, state)
    else:
        boxes += _labelled_options(g, area, opts, state)
    if welcome:
        boxes += _audio_button(g, state, s, bar_top, g.h - g.m - bar_top)
    return boxes + bottom


def _nps_options(g: _Grid, area: Rect, opts: list[Option], state: SessionState) -> list[Box]:
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
    boxes = [Box(r, "option", str(o.value), PickOption(i), g.font(48), state.cursor == i)
             for i, (o, r) in enumerate(zip(opts, rects, strict=True))]
    labels = Rect(area.x, area.bottom - label_h, area.w, label_h)
    left, right = g.row(labels, 2)
    boxes.append(Box(left, "text", f"0 = {opts[0].label}", size=g.font(28), align="left"))
    boxes.append(Box(right, "text", f"10 = {opts[-1].label}", size=g.font(28), align="right"))
    return boxes


def _labelled_options(g: _Grid, area: Rect, opts: list[Option],
                      state: SessionState) -> list[Box]:
    boxes: list[Box] = []
    faces = any(o.face is not None for o in opts)
    if g.portrait:
        for i, (o, r) in enumerate(zip(opts, g.column(area, len(opts), g.m), strict=True)):
            lit = state.cursor == i
            boxes.append(Box(r, "option", "", PickOption(i), selected=lit))
            side = min(r.h, r.w // 4)
            if faces:
                boxes.append(Box(Rect(r.x + g.m, r.y, side, r.h).inset(g.m // 2), "face",
                                 face=o.face, selected=lit))
            label = Rect(r.x + side + 2 * g.m, r.y, r.w - side - 3 * g.m, r.h).inset(g.m // 2)
            text = o.label if faces else f"{o.value}  {o.label}"
            boxes.append(Box(label, "text", text, size=g.font(30), selected=lit,
                             align="left"))
        return boxes
    for i, (o, r) in enumerate(zip(opts, g.row(area, len(opts), g.m), strict=True)):
        lit = state.cursor == i
        boxes.append(Box(r, "option", "", PickOption(i), selected=lit))
        top_h = int(r.h * (0.62 if faces else 0.35))
        head = Rect(r.x, r.y, r.w, top_h).inset(g.m // 2)
        if faces:
            side = min(head.w, head.h)
            boxes.append(Box(Rect(head.x + (head.w - side) // 2, head.y, side, side), "face",
                             face=o.face, selected=lit))
        else:
            boxes.append(Box(head, "text", str(o.value), size=g.font(44), selected=lit))
        label = Rect(r.x, r.y + top_h, r.w, r.h - top_h).inset(g.m // 2)
        boxes.append(Box(label, "text", o.label, size=g.font(30), selected=lit))
    return boxes


def _keyboard_rows(g: _Grid, width: int) -> list[str]:
    """The keyboard's letters in rows no wider than fit at a touch target's width each."""
    gap = g.m // 3
    per_row = max(5, min(11, (width + gap) // (g.target + gap)))
    if per_row >= 11:
        return list(KEY_ROWS)
    letters = "".join(KEY_ROWS)
    return [letters[i:i + per_row] for i in range(0, len(letters), per_row)]


def _text(g: _Grid, state: SessionState, s: SessionSettings) -> list[Box]:
    q = s.questions[state.index]
    limit = q.max_length or 500
    bottom, bar_top = _bottom_bar(g, state, send=True)
    if g.portrait:
        boxes, top = _top_bar(g, state, s)
    else:
        # The keyboard needs the height: progress goes between the bottom bar's buttons.
        left = max((b.rect.right for b in bottom if b.target is Command.BACK), default=g.m)
        right = min(b.rect.x for b in bottom if b.target is not Command.BACK)
        n, m = progress(s, state)
        middle = Rect(left + g.m, bar_top, right - left - 2 * g.m, g.h - g.m - bar_top)
        boxes, top = [Box(middle, "text", ui("progress", state.lang, n=n, m=m),
                          size=g.font(30))], g.m
    kb_w = g.w - 2 * g.m
    rows = [*_keyboard_rows(g, kb_w), None]
    gap = g.m // 3
    key_h = max(g.target, int(g.h * (0.05 if g.portrait else 0.0)))
    kb_h = len(rows) * key_h + (len(rows) - 1) * gap
    kb = Rect(g.m, bar_top - g.m - kb_h, kb_w, kb_h)
    room = kb.y - top - g.m
    prompt = Rect(g.m * 2, top, g.w - 4 * g.m, max(g.font(24), room * 2 // 5))
    boxes.append(Box(prompt, "text", q.prompt(state.lang, "kiosk"), size=g.font(38),
                     align="left"))
    counter_w = int(g.w * (0.25 if g.portrait else 0.16))
    field_rect = Rect(g.m * 2, prompt.bottom + g.m // 2, g.w - 5 * g.m - counter_w,
                      max(g.font(28), kb.y - prompt.bottom - g.m - g.m // 2))
    boxes.append(Box(field_rect, "field", state.text[-400:] + "_", size=g.font(28),
                     align="left"))
    counter_h = min(field_rect.h, int(g.h * 0.08))
    boxes.append(Box(Rect(field_rect.right + g.m, field_rect.bottom - counter_h, counter_w,
                          counter_h), "text", f"{len(state.text)}/{limit}",
                     size=g.font(24), align="right"))
    per_row = max(len(r) for r in rows if r is not None)
    for row_rect, keys in zip(g.column(kb, len(rows), gap), rows, strict=True):
        if keys is None:
            space, bksp = g.row(row_rect, 2, gap)
            boxes.append(Box(space, "key", ui("space", state.lang), Command.SPACE, g.font(24)))
            boxes.append(Box(bksp, "key", ui("delete", state.lang), Command.DELETE,
                             g.font(24)))
            continue
        for ch, r in zip(keys, g.row(row_rect, per_row, gap), strict=False):
            boxes.append(Box(r, "key", ch, TypeChar(ch), g.font(36)))
    return boxes + bottom


def _thanks(g: _Grid, state: SessionState, s: SessionSettings) -> list[Box]:
    rect = Rect(g.m * 3, g.h // 4, g.w - 6 * g.m, g.h // 2)
    return [Box(rect, "text", message(s.survey, "kiosk_thanks", state.lang).text,
                size=g.font(56))]
