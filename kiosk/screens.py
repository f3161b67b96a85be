"""Drawing a Layout with pygame: high-contrast boxes, fitted text, smileys by shape.

Text shrinks (then wraps) until it fits its box; a long question's text is drawn
at a readable size and scrolls instead. `fit_text` returns the rects each line is
drawn at, so tests can check nothing leaves its box. Faces differ by the curve of
the mouth and the eyebrows (and by colour, never colour alone) and carry a label.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pygame

from kiosk.layout import Box, Layout, Rect

log = logging.getLogger(__name__)

BG = (12, 12, 16)
FG = (255, 255, 255)
BUTTON = (44, 48, 60)
BORDER = (235, 235, 235)
SELECTED = (255, 214, 0)  # yellow with black text: contrast ratio above 15:1
SELECTED_FG = (0, 0, 0)
NIGHT_BG = (0, 0, 0)
NIGHT_FG = (70, 70, 70)
MIN_FONT = 12


@dataclass(frozen=True)
class FittedText:
    """A text fitted into a box: the font size and each line with its rectangle."""

    size: int
    lines: tuple[tuple[str, Rect], ...]
    truncated: bool = False


class Fonts:
    """The bundled sans-serif font (pygame's freesansbold) at any size, laid out unhinted.

    pygame.font (SDL_ttf) lays this font out with its hinted advance widths, which at
    kiosk sizes are whole pixels too wide after some letters: "Tervet uloa",
    "aloit taaksesi". pygame.freetype places each glyph at its design advance instead,
    so words keep their shape at every size.
    """

    # Sizes are those pygame.font uses for its default font (which scales them by this).
    SCALE = 0.6875

    def __init__(self) -> None:
        import pygame.freetype

        if not pygame.freetype.get_init():
            pygame.freetype.init()
        self._font = pygame.freetype.Font(None)
        self._font.pad = True  # every line as tall as the font: lines stack evenly
        self._font.origin = False
        self._sizes: dict[tuple[str, int], int] = {}

    def _px(self, size: int) -> float:
        return max(1.0, size * self.SCALE)

    def size(self, text: str, size: int) -> tuple[int, int]:
        """(width, height) of `text` drawn at `size`."""
        width = self._sizes.get((text, size))
        if width is None:
            width = int(self._font.get_rect(text, size=self._px(size)).width) if text else 0
            if len(self._sizes) > 20000:  # a small cache: the same words are measured a lot
                self._sizes.clear()
            self._sizes[(text, size)] = width
        return width, self.line_height(size)

    def line_height(self, size: int) -> int:
        """The distance between two lines at `size`."""
        return int(self._font.get_sized_height(self._px(size)))

    def render(self, text: str, size: int, color: tuple[int, int, int]) -> Any:
        """A surface with `text` drawn at `size` (transparent background)."""
        surf, _rect = self._font.render(text, color, size=self._px(size))
        return surf


def _wrap(fonts: Fonts, size: int, text: str, width: int) -> list[str] | None:
    """Words wrapped into lines no wider than `width`; None when one word is too wide."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            trial = f"{current} {word}" if current else word
            if fonts.size(trial, size)[0] <= width:
                current = trial
                continue
            if not current or fonts.size(word, size)[0] > width:
                return None
            lines.append(current)
            current = word
        lines.append(current)
    return lines


def fit_text(fonts: Fonts, text: str, rect: Rect, max_size: int,
             align: str = "center", keep_end: bool = False) -> FittedText:
    """The largest font size ≤ max_size at which `text` fits `rect` (wrapped at words)."""
    inner = rect.inset(max(2, rect.h // 20) if rect.h > 40 else 2)
    size = max(MIN_FONT, max_size)
    while True:
        lines = _wrap(fonts, size, text, inner.w)
        if lines is not None and fonts.line_height(size) * len(lines) <= inner.h:
            return FittedText(size, _place(fonts, size, lines, inner, align))
        if size <= MIN_FONT:
            break
        size = max(MIN_FONT, int(size * 0.9))
    # Still too long at the smallest size: keep what fits, marked with an ellipsis
    # (a typing field keeps its end, where the person is writing).
    def shown(n: int) -> list[str] | None:
        """The text cut to `n` characters with its ellipsis, wrapped, if that fits."""
        cut = "…" + text[len(text) - n:] if keep_end else text[:n] + "…"
        lines = _wrap(fonts, MIN_FONT, cut, inner.w)
        fits = lines is not None and fonts.line_height(MIN_FONT) * len(lines) <= inner.h
        return lines if fits else None

    low, high = 0, len(text) - 1  # the longest cut that fits, found by halving
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if shown(mid) is not None else (low, mid - 1)
    lines = shown(low) if low > 0 else None
    if lines is None:
        return FittedText(MIN_FONT, (), truncated=True)
    return FittedText(MIN_FONT, _place(fonts, MIN_FONT, lines, inner, align), truncated=True)


def scroll_text(fonts: Fonts, text: str, rect: Rect, size: int, first: int,
                align: str = "left") -> FittedText:
    """A long text at `size`, wrapped, showing the lines from `first` that fit `rect`
    (`first` is held so that the last page is full); `truncated` while more is below."""
    inner = rect.inset(2)
    lines = _wrap(fonts, size, text, inner.w) or _break_words(fonts, size, text, inner.w)
    visible = max(1, inner.h // fonts.line_height(size))
    first = max(0, min(first, len(lines) - visible))
    shown = lines[first:first + visible]
    placed = _place(fonts, size, shown, Rect(inner.x, inner.y, inner.w,
                                             fonts.line_height(size) * len(shown)), align)
    return FittedText(size, placed, truncated=first + visible < len(lines))


def _break_words(fonts: Fonts, size: int, text: str, width: int) -> list[str]:
    """Lines cut anywhere (a word wider than the box)."""
    lines, current = [], ""
    for ch in text.replace("\n", " "):
        if current and fonts.size(current + ch, size)[0] > width:
            lines.append(current)
            current = ""
        current += ch
    return [*lines, current]


def _place(fonts: Fonts, size: int, lines: list[str], inner: Rect,
           align: str) -> tuple[tuple[str, Rect], ...]:
    line_h = fonts.line_height(size)
    y = inner.y + (inner.h - line_h * len(lines)) // 2
    placed = []
    for line in lines:
        w, h = fonts.size(line, size)
        if align == "left":
            x = inner.x
        elif align == "right":
            x = inner.right - w
        else:
            x = inner.x + (inner.w - w) // 2
        placed.append((line, Rect(x, y, w, h)))
        y += line_h
    return tuple(placed)


class Renderer:
    """Draws layouts onto a surface (the display, or an off-screen one when headless)."""

    def __init__(self, surface: Any) -> None:
        self.surface = surface
        self.fonts = Fonts()
        self.fitted: list[tuple[Box, FittedText]] = []

    def draw(self, layout: Layout) -> None:
        """Draw every box of `layout`; remembers the fitted texts in `self.fitted`."""
        surf = self.surface
        surf.fill(NIGHT_BG if layout.dark else BG)
        self.fitted = []
        for box in layout.boxes:
            if box.kind in ("button", "option", "key", "field"):
                self._panel(box)
            elif box.kind == "face":
                draw_face(surf, box.rect, box.face or 3, box.selected)
            elif box.kind == "headphones":
                draw_headphones(surf, box.rect)
            elif box.kind in ("arrow-up", "arrow-down"):
                self._panel(box)
                draw_arrow(surf, box.rect, up=box.kind == "arrow-up")
            if box.text:
                self._text(box, layout.dark)

    def _text(self, box: Box, dark: bool) -> None:
        if box.scroll is not None:
            fitted = scroll_text(self.fonts, box.text, box.rect, box.size, box.scroll,
                                 box.align)
        else:
            fitted = fit_text(self.fonts, box.text, box.rect, box.size, box.align,
                              keep_end=box.kind == "field")
            if fitted.truncated and box.kind != "field":
                log.warning("text cut to fit its box: %r", box.text[:40])
        color = NIGHT_FG if dark else (SELECTED_FG if box.selected else FG)
        for line, r in fitted.lines:
            self.surface.blit(self.fonts.render(line, fitted.size, color), (r.x, r.y))
        self.fitted.append((box, fitted))

    def _panel(self, box: Box) -> None:
        r = pygame.Rect(*box.rect)
        radius = max(4, min(r.w, r.h) // 8)
        fill = SELECTED if box.selected else (BG if box.kind == "field" else BUTTON)
        pygame.draw.rect(self.surface, fill, r, border_radius=radius)
        pygame.draw.rect(self.surface, BORDER, r, width=max(2, r.h // 40), border_radius=radius)


# Face colours, saddest first: distinct hues whose greys differ too (the shapes carry the
# meaning; the colour only helps), all light enough for black ink.
FACE_FILL = {1: (230, 70, 60), 2: (240, 120, 50), 3: (200, 175, 90), 4: (150, 220, 110),
             5: (170, 250, 170)}
FACE_INK = (0, 0, 0)
LIT = (255, 255, 255)


def draw_face(surf: Any, rect: Rect, face: int, selected: bool) -> None:
    """A face whose mouth curve and brows say its value (1 saddest … 5 happiest), on its own
    colour; a lit (pressed or chosen) face gets a thick white ring."""
    side = min(rect.w, rect.h)
    cx, cy = rect.x + rect.w // 2, rect.y + rect.h // 2
    radius = side // 2 - 2
    if radius < 6:
        return
    width = max(2, radius // 10)
    if selected:
        pygame.draw.circle(surf, LIT, (cx, cy), radius)
        radius -= max(3, radius // 7)
    pygame.draw.circle(surf, FACE_FILL.get(face, FACE_FILL[3]), (cx, cy), radius)
    pygame.draw.circle(surf, FACE_INK, (cx, cy), radius, width)
    _features(surf, cx, cy, radius, face, width)


def _features(surf: Any, cx: int, cy: int, radius: int, face: int, width: int) -> None:
    ink = FACE_INK
    eye_dx, eye_y = radius // 3, cy - radius // 4
    for ex in (cx - eye_dx, cx + eye_dx):
        pygame.draw.circle(surf, ink, (ex, eye_y), max(2, radius // 9))
    curve = (face - 3) / 2  # -1 (frown) … 0 (straight) … +1 (smile)
    half = radius // 2
    mouth_y = cy + radius // 3
    depth = radius * 0.35 * curve
    points = []
    for i in range(21):
        t = -1 + i / 10
        points.append((cx + t * half, mouth_y + depth * (1 - t * t) - depth / 2))
    pygame.draw.lines(surf, ink, False, points, width)
    if face in (1, 5):
        # The extremes get brows too, so 1 and 2 (4 and 5) differ by more than a curve depth.
        # Sad brows rise toward the middle; happy ones sit high and level.
        tilt = -(radius // 8) if face == 1 else 0
        brow_y = eye_y - (radius // 4 if face == 1 else radius // 3)
        for side_sign in (-1, 1):
            ex = cx + side_sign * eye_dx
            inner = (ex - side_sign * radius // 8, brow_y + tilt)
            outer = (ex + side_sign * radius // 8, brow_y - tilt)
            pygame.draw.line(surf, ink, inner, outer, width)


def draw_headphones(surf: Any, rect: Rect) -> None:
    """The audio-mode sign: a headband arc with two ear cups."""
    side = min(rect.w, rect.h)
    x, y = rect.x + (rect.w - side) // 2, rect.y + (rect.h - side) // 2
    width = max(2, side // 10)
    band = pygame.Rect(x + side // 8, y + side // 8, side * 3 // 4, side * 3 // 4)
    pygame.draw.arc(surf, FG, band, 0.0, 3.1416, width)
    cup_w, cup_h = side // 5, side * 2 // 5
    for cx in (band.x, band.right - cup_w):
        pygame.draw.rect(surf, FG, pygame.Rect(cx, y + side // 2, cup_w, cup_h),
                         border_radius=max(2, cup_w // 3))


def draw_arrow(surf: Any, rect: Rect, *, up: bool) -> None:
    """A scroll arrow (a solid triangle)."""
    cx, cy = rect.x + rect.w // 2, rect.y + rect.h // 2
    d = min(rect.w, rect.h) // 3
    tip, base = (cy - d, cy + d) if up else (cy + d, cy - d)
    pygame.draw.polygon(surf, FG, [(cx, tip), (cx - d, base), (cx + d, base)])


def new_surface(size: tuple[int, int]) -> Any:
    """An off-screen surface to draw on when there is no display."""
    return pygame.Surface(size)


def save_png(surface: Any, path: str) -> None:
    """Write the surface as a PNG file."""
    pygame.image.save(surface, path)
