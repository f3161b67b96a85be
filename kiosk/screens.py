"""Drawing a Layout with pygame: high-contrast boxes, fitted text, smileys by shape.

Text shrinks (then wraps) until it fits its box; `fit_text` returns the rects
each line is drawn at, so tests can check nothing leaves its box. Smileys
differ by the curve of the mouth and the eyebrows, and always carry a label:
never colour alone.
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
    """pygame's default sans-serif font at any size (cached)."""

    def __init__(self) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self._cache: dict[int, Any] = {}

    def get(self, size: int) -> Any:
        font = self._cache.get(size)
        if font is None:
            font = pygame.font.Font(None, size)
            self._cache[size] = font
        return font


def _wrap(font: Any, text: str, width: int) -> list[str] | None:
    """Words wrapped into lines no wider than `width`; None when one word is too wide."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            trial = f"{current} {word}" if current else word
            if font.size(trial)[0] <= width:
                current = trial
                continue
            if not current or font.size(word)[0] > width:
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
        font = fonts.get(size)
        lines = _wrap(font, text, inner.w)
        line_h = font.get_linesize()
        if lines is not None and line_h * len(lines) <= inner.h:
            return FittedText(size, _place(font, lines, inner, align))
        if size <= MIN_FONT:
            break
        size = max(MIN_FONT, int(size * 0.9))
    # Still too long at the smallest size: keep what fits, marked with an ellipsis
    # (a typing field keeps its end, where the person is writing).
    font = fonts.get(MIN_FONT)
    keep = text
    while keep:
        keep = keep[1:] if keep_end else keep[:-1]
        shown = "…" + keep if keep_end else keep + "…"
        lines = _wrap(font, shown, inner.w)
        if lines is not None and font.get_linesize() * len(lines) <= inner.h:
            return FittedText(MIN_FONT, _place(font, lines, inner, align), truncated=True)
    return FittedText(MIN_FONT, (), truncated=True)


def _place(font: Any, lines: list[str], inner: Rect, align: str) -> tuple[tuple[str, Rect], ...]:
    line_h = font.get_linesize()
    y = inner.y + (inner.h - line_h * len(lines)) // 2
    placed = []
    for line in lines:
        w, h = font.size(line)
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
            if box.text:
                fitted = fit_text(self.fonts, box.text, box.rect, box.size, box.align,
                                  keep_end=box.kind == "field")
                if fitted.truncated and box.kind != "field":
                    log.warning("text cut to fit its box: %r", box.text[:40])
                color = NIGHT_FG if layout.dark else (SELECTED_FG if box.selected else FG)
                font = self.fonts.get(fitted.size)
                for line, r in fitted.lines:
                    surf.blit(font.render(line, True, color), (r.x, r.y))
                self.fitted.append((box, fitted))

    def _panel(self, box: Box) -> None:
        r = pygame.Rect(*box.rect)
        radius = max(4, min(r.w, r.h) // 8)
        fill = SELECTED if box.selected else (BG if box.kind == "field" else BUTTON)
        pygame.draw.rect(self.surface, fill, r, border_radius=radius)
        pygame.draw.rect(self.surface, BORDER, r, width=max(2, r.h // 40), border_radius=radius)


def draw_face(surf: Any, rect: Rect, face: int, selected: bool) -> None:
    """A smiley whose mouth curve and brows say its value: 1 saddest … 5 happiest."""
    side = min(rect.w, rect.h)
    cx, cy = rect.x + rect.w // 2, rect.y + rect.h // 2
    radius = side // 2 - 2
    if radius < 6:
        return
    ink = SELECTED_FG if selected else FG
    fill = SELECTED if selected else BUTTON
    width = max(2, radius // 10)
    pygame.draw.circle(surf, fill, (cx, cy), radius)
    pygame.draw.circle(surf, ink, (cx, cy), radius, width)
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


def new_surface(size: tuple[int, int]) -> Any:
    """An off-screen surface to draw on when there is no display."""
    return pygame.Surface(size)


def save_png(surface: Any, path: str) -> None:
    """Write the surface as a PNG file."""
    pygame.image.save(surface, path)
