"""Text on the kiosk's screens: every glyph where the font's design puts it (no gaps inside
words such as "Tervet uloa"), measured on the rendered pixels."""

from __future__ import annotations

import pygame
import pygame.freetype
import pytest

from kiosk.screens import Fonts

WORDS = ["Tervetuloa", "aloittaaksesi", "nimettömänä", "kuulokemerkkiä", "Återkoppling",
         "Ystävällinen", "Thank you"]
SIZES = [20, 26, 30, 36, 40, 46, 52, 60, 78]
TOLERANCE = 2.5  # pixels: anti-aliasing and rounding, not a letter's width


def _right_ink(surface: pygame.Surface) -> int:
    """The rightmost pixel column with ink."""
    alpha = pygame.surfarray.array_alpha(surface)
    columns = [x for x in range(alpha.shape[0]) if (alpha[x] > 80).any()]
    return columns[-1]


@pytest.fixture(scope="module")
def design() -> pygame.freetype.Font:
    """The same font file, read for its design metrics (advance widths) only."""
    pygame.freetype.init()
    return pygame.freetype.Font(None)


@pytest.mark.parametrize("size", SIZES)
def test_every_letter_sits_at_its_design_advance(design: pygame.freetype.Font,
                                                 size: int) -> None:
    # The right edge of each prefix of a word, drawn as the kiosk draws it, against the
    # sum of the earlier letters' design advances plus the last letter's own extent.
    # Hinted advances (pygame.font) were several pixels wide after t and r at these sizes.
    fonts = Fonts()
    px = size * Fonts.SCALE
    for word in WORDS:
        for end in range(2, len(word) + 1):
            prefix = word[:end]
            if prefix[-1] == " ":
                continue
            metrics = design.get_metrics(prefix, size=px)
            expected = sum(m[4] for m in metrics[:-1]) + metrics[-1][1]
            drawn = _right_ink(fonts.render(prefix, size, (255, 255, 255)))
            assert abs(drawn - expected) <= TOLERANCE, \
                f"{prefix!r} at {size}: drawn to {drawn} px, the font says {expected:.1f}"


def test_measured_width_is_the_drawn_width() -> None:
    fonts = Fonts()
    for size in SIZES:
        for word in WORDS:
            width, _h = fonts.size(word, size)
            assert abs(fonts.render(word, size, (255, 255, 255)).get_width() - width) <= 1
